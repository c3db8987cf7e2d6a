"""The rules Sanctum redacted with before issue 12, frozen: the baseline of ``sanctum bench redaction``.

A verbatim copy of ``app/core/privacy/redact.py`` as it was on main at a4b1f4a, before issue 12
(no names; the misses the privacy review found). Never used by the app; kept so the benchmark can
show, in the same run, what the current redactor gains over it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

EMAIL, PHONE, IBAN, CARD, SSN, NHS, DOB = "email", "phone", "iban", "card", "ssn", "nhs", "dob"
KINDS: tuple[str, ...] = (EMAIL, IBAN, CARD, SSN, NHS, DOB, PHONE)
LABELS = {EMAIL: "[EMAIL]", PHONE: "[PHONE]", IBAN: "[IBAN]", CARD: "[CARD NUMBER]", SSN: "[SSN]",
          NHS: "[NHS NUMBER]", DOB: "[DATE OF BIRTH]"}
#: Regions whose national phone formats (no +country code) are recognised; +CC numbers are found anywhere.
DEFAULT_REGIONS: tuple[str, ...] = ("GB", "US", "DE", "FR", "NL", "IE", "AU", "CA")


@dataclass(frozen=True)
class Finding:
    """One piece of personal data: its kind and where it is (``text[start:end]``)."""

    kind: str
    start: int
    end: int
    text: str


_EMAIL = re.compile(
    r"(?<![\w.+-])[A-Za-z0-9][A-Za-z0-9._%+'-]*@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,24}(?![\w-])")
_IBAN = re.compile(r"(?<![A-Za-z0-9])[A-Za-z]{2}\d{2}(?:[ ]?[A-Za-z0-9]){11,30}(?![A-Za-z0-9])")
_CARD = re.compile(r"(?<![\d.,/-])\d(?:[ -]?\d){12,18}(?![\d/-]|[.,]\d)")
_SSN = re.compile(r"(?<![\d-])(\d{3})([- ])(\d{2})\2(\d{4})(?![\d-])")
_SSN_BARE = re.compile(r"(?<![\d-])\d{9}(?![\d-])")
_SSN_CONTEXT = re.compile(r"(?:\bSSN\b|social security)[^\n\d]{0,25}$", re.I)
_NHS_GROUPED = re.compile(r"(?<![\d-])\d{3}([ -])\d{3}\1\d{4}(?![\d-])")
_NHS_BARE = re.compile(r"(?<![\d-])\d{10}(?![\d-])")
_NHS_CONTEXT = re.compile(r"\bNHS\b[^\n\d]{0,30}$", re.I)
# Words that say a number is an identifier, not a phone number ("Case ID 787 789 3281").
_NOT_PHONE_CONTEXT = re.compile(
    r"\b(?:id|ref|reference|case|order|invoice|inv|account|acct|claim|batch|lot|serial|part|item|ticket|"
    r"tracking|policy|mrn|room|isbn|sku|code|no|number|nr)\b[\s.:#/-]*$", re.I)
_DATE_ONLY = re.compile(r"\d{1,2}[/.-]\d{1,2}[/.-](?:\d{4}|\d{2})|\d{4}[/.-]\d{2}[/.-]\d{2}")
_PHONE_CONTEXT = re.compile(
    r"\b(?:phone|tel|telephone|mobile|cell|fax|call|callback|call back|ring|dial|reach|contact|whatsapp|sms)\b"
    r"[^\n\d]{0,20}$", re.I)

_MONTHS = (r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|"
           r"Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)")
_DATE = (r"(?:\d{1,2}[/.-]\d{1,2}[/.-](?:\d{4}|\d{2})|\d{4}-\d{2}-\d{2}|"
         rf"\d{{1,2}}(?:st|nd|rd|th)?\s+(?:of\s+)?{_MONTHS}\.?,?\s+\d{{4}}|"
         rf"{_MONTHS}\.?\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+\d{{4}})")
_DOB = re.compile(
    r"(?:\bd\.?\s?o\.?\s?b\b\.?|\bdate\s+of\s+birth\b|\bbirth\s*date\b|\bbirthday\b|\bborn\b(?:\s+on)?|"
    r"\bgeb(?:oren|\.)|\bné(?:e)?\s+le\b)"
    rf"[^\n\d]{{0,20}}?(?P<date>{_DATE})(?![\d/.-]\d)",
    re.I,
)


def _iban_ok(compact: str) -> bool:
    from stdnum import iban

    return bool(iban.is_valid(compact))


def _find_ibans(text: str) -> Iterable[Finding]:
    for m in _IBAN.finditer(text):
        raw = m.group(0)
        # The pattern may run into the next word ("… 7654 32 TO"): drop trailing groups until it checks.
        parts = raw.split(" ")
        while parts:
            candidate = " ".join(parts)
            compact = candidate.replace(" ", "").upper()
            if len(compact) >= 15 and _iban_ok(compact):
                yield Finding(IBAN, m.start(), m.start() + len(candidate), candidate)
                break
            if len(parts) == 1:
                break
            parts.pop()


def _luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def _card_issuer(digits: str) -> bool:
    """Whether the number starts like a card of a known scheme and has that scheme's length."""
    n, p2, p4 = len(digits), int(digits[:2]), int(digits[:4])
    return (
        (digits[0] == "4" and n in (13, 16, 19))                      # Visa
        or ((51 <= p2 <= 55 or 2221 <= p4 <= 2720) and n == 16)      # Mastercard
        or (p2 in (34, 37) and n == 15)                               # American Express
        or ((p4 == 6011 or p2 == 65 or 644 <= int(digits[:3]) <= 649) and 16 <= n <= 19)  # Discover
        or (3528 <= p4 <= 3589 and 16 <= n <= 19)                     # JCB
        or ((p2 in (36, 38, 39) or 300 <= int(digits[:3]) <= 305) and 14 <= n <= 19)  # Diners
        or (p2 == 62 and 16 <= n <= 19)                               # UnionPay
        or ((p2 in (50, 56, 57, 58) or p2 == 63 or p2 == 67) and 12 <= n <= 19)  # Maestro
    )


def _find_cards(text: str) -> Iterable[Finding]:
    for m in _CARD.finditer(text):
        raw = m.group(0)
        separators = set(re.findall(r"[ -]", raw))
        if len(separators) > 1:
            continue  # "1234-5678 9012 …" is not how a card number is written
        digits = re.sub(r"\D", "", raw)
        if 13 <= len(digits) <= 19 and _card_issuer(digits) and _luhn_ok(digits):
            yield Finding(CARD, m.start(), m.end(), raw)


def _find_ssns(text: str) -> Iterable[Finding]:
    from stdnum.us import ssn

    for m in _SSN.finditer(text):
        if ssn.is_valid(m.group(1) + m.group(3) + m.group(4)):
            yield Finding(SSN, m.start(), m.end(), m.group(0))
    for m in _SSN_BARE.finditer(text):
        if _SSN_CONTEXT.search(text[max(0, m.start() - 40) : m.start()]) and ssn.is_valid(m.group(0)):
            yield Finding(SSN, m.start(), m.end(), m.group(0))


def _find_nhs(text: str) -> Iterable[Finding]:
    from stdnum.gb import nhs

    for m in _NHS_GROUPED.finditer(text):
        if nhs.is_valid(re.sub(r"\D", "", m.group(0))):
            yield Finding(NHS, m.start(), m.end(), m.group(0))
    for m in _NHS_BARE.finditer(text):
        if _NHS_CONTEXT.search(text[max(0, m.start() - 45) : m.start()]) and nhs.is_valid(m.group(0)):
            yield Finding(NHS, m.start(), m.end(), m.group(0))


def _find_dobs(text: str) -> Iterable[Finding]:
    for m in _DOB.finditer(text):
        yield Finding(DOB, m.start("date"), m.end("date"), m.group("date"))


def _find_emails(text: str) -> Iterable[Finding]:
    for m in _EMAIL.finditer(text):
        yield Finding(EMAIL, m.start(), m.end(), m.group(0))


def _find_phones(text: str, regions: Sequence[str]) -> Iterable[Finding]:
    import phonenumbers

    seen: set[tuple[int, int]] = set()
    for region in regions:
        for match in phonenumbers.PhoneNumberMatcher(text, region, leniency=phonenumbers.Leniency.VALID):
            span = (match.start, match.end)
            if span in seen:
                continue
            seen.add(span)
            raw = match.raw_string
            before = text[max(0, match.start - 30) : match.start]
            after = text[match.end : match.end + 1]
            if _DATE_ONLY.fullmatch(raw.strip()) or re.search(r"[\w/-]$", before) or re.match(r"[\w/-]", after):
                continue  # a date, or part of a longer identifier ("INV-2024-000731")
            if _PHONE_CONTEXT.search(before):
                yield Finding(PHONE, match.start, match.end, raw)
                continue
            formatted = raw.lstrip().startswith(("+", "(")) or re.search(r"\d[\s().-]+\d", raw)
            if formatted and not _NOT_PHONE_CONTEXT.search(before):
                yield Finding(PHONE, match.start, match.end, raw)


def find_personal_data(text: str, *, kinds: Sequence[str] = KINDS,
                       regions: Sequence[str] = DEFAULT_REGIONS) -> list[Finding]:
    """Every piece of personal data of the given kinds, in text order, without overlaps.

    Args:
        text: Any text.
        kinds: Which kinds to look for (see :data:`KINDS`).
        regions: Countries whose national phone number formats are recognised.
    """
    unknown = set(kinds) - set(KINDS)
    if unknown:
        raise ValueError(f"unknown kinds of personal data: {', '.join(sorted(unknown))}")
    finders: dict[str, Callable[[str], Iterable[Finding]]] = {
        EMAIL: _find_emails, IBAN: _find_ibans, CARD: _find_cards, SSN: _find_ssns, NHS: _find_nhs,
        DOB: _find_dobs, PHONE: lambda t: _find_phones(t, regions)}
    chosen: list[Finding] = []
    for kind in KINDS:  # strongest evidence first
        if kind not in kinds:
            continue
        for f in finders[kind](text):
            if not any(f.start < c.end and c.start < f.end for c in chosen):
                chosen.append(f)
    return sorted(chosen, key=lambda f: f.start)
