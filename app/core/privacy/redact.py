"""Find and redact personal data in text before it leaves Sanctum (exports).

Each kind is found by a pattern and then confirmed the way the number itself allows, so that order
numbers, invoice references and ordinary dates are left alone:

- e-mail addresses: the address pattern;
- phone numbers: Google's libphonenumber (``phonenumbers``), valid numbers only; a bare run of
  digits with no formatting counts only after a word like "phone", "tel", "Mob", "Ph", "Home number";
- IBANs: country length and the ISO 7064 mod-97 check (``python-stdnum``), however the groups are
  separated (spaces, non-breaking spaces, hyphens, a line break, "GB 82 …");
- payment card numbers: 13-19 digits (grouped by spaces, hyphens or dots), a card issuer's prefix
  and the Luhn check;
- US social security numbers: the SSA's rules for valid numbers (area, group, serial);
- UK NHS numbers: the mod-11 check digit; a bare (ungrouped) one needs "NHS" nearby;
- dates of birth: a date right after "DOB", "date of birth", "born" … or on the line under it
  (``02/01/1970``, ``1970/01/02``, ``02-Jan-1970``, ``2 January 1970`` …); other dates are kept.

- person names: spaCy's ``en_core_web_sm`` PERSON entities with titles and field labels ("Mr",
  "Dr", "Patient:", "Dear" …) and repeats of a found name (:mod:`app.core.privacy.names`; the
  model is loaded on the first redaction, not at start-up).

Overlaps are resolved in that order of strength: a checksum-confirmed number wins over a phone
number that happens to cover the same digits.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

EMAIL, PHONE, IBAN, CARD, SSN, NHS, DOB = "email", "phone", "iban", "card", "ssn", "nhs", "dob"
NAME = "name"
#: The kinds found by rules and checksums alone (no language model), strongest evidence first.
RULE_KINDS: tuple[str, ...] = (EMAIL, IBAN, CARD, SSN, NHS, DOB, PHONE)
#: Every kind, in the order overlaps are settled: a name (a language model's guess) comes last.
KINDS: tuple[str, ...] = (*RULE_KINDS, NAME)
LABELS = {EMAIL: "[EMAIL]", PHONE: "[PHONE]", IBAN: "[IBAN]", CARD: "[CARD NUMBER]", SSN: "[SSN]",
          NHS: "[NHS NUMBER]", DOB: "[DATE OF BIRTH]", NAME: "[NAME]"}
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
# What may stand between the characters of an IBAN as people write and paste them: spaces (also
# non-breaking and narrow ones, from Word and web forms), a hyphen, or a line break ("GB 82 WEST …").
_GAP = r"(?:[ \t\u00a0\u2007\u202f]{1,3}|-|[ \t\u00a0]*\r?\n[ \t\u00a0]*)"
_IBAN = re.compile(rf"(?<![A-Za-z0-9])[A-Za-z]{{2}}{_GAP}?\d{{2}}(?:{_GAP}?[A-Za-z0-9]){{11,30}}(?![A-Za-z0-9])")
_CARD = re.compile(r"(?<![\d.,/-])\d(?:[ \u00a0.-]?\d){12,18}(?![\d/-]|[.,]\d)")
_CARD_DOTTED = re.compile(r"\d{4}(?:\.\d{4}){2}\.\d{1,4}(?:\.\d{3})?|\d{4}\.\d{6}\.\d{4,5}")
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
    r"\b(?:phone|tel|telephone|mobile|mob|ph|cell|fax|call|callback|call back|ring|dial|reach|contact|whatsapp|sms|"
    r"landline|(?:home|work|daytime|evening|contact|direct|office|mobile|phone)\s+(?:number|no|nr|#))\b"
    r"[^\n\d]{0,20}$", re.I)

_MONTHS = (r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|"
           r"Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)")
_DATE = (r"(?:\d{1,2}[/.-]\d{1,2}[/.-](?:\d{4}|\d{2})|\d{4}[/.-]\d{1,2}[/.-]\d{1,2}|"
         rf"\d{{1,2}}[/ .-]{_MONTHS}[/ .-](?:\d{{4}}|\d{{2}})|"
         rf"\d{{1,2}}(?:st|nd|rd|th)?\s+(?:of\s+)?{_MONTHS}\.?,?\s+\d{{4}}|"
         rf"{_MONTHS}\.?\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+\d{{4}})")
_DOB = re.compile(
    r"(?:\bd\.?\s?o\.?\s?b\b\.?|\bdate\s+of\s+birth\b|\bbirth\s*date\b|\bbirthday\b|\bborn\b(?:\s+on)?|"
    r"\bgeb(?:oren|\.)|\bné(?:e)?\s+le\b)"
    # the date may stand on the next line, under the label ("DOB\n02/01/1970" in a pasted form)
    rf"[^\n\d]{{0,20}}?(?:\r?\n[\s:|.-]{{0,10}})?(?P<date>{_DATE})(?![\d/.-]\d)",
    re.I,
)


def _iban_ok(compact: str) -> bool:
    from stdnum import iban

    return bool(iban.is_valid(compact))


def _find_ibans(text: str) -> Iterable[Finding]:
    for m in _IBAN.finditer(text):
        raw = m.group(0)
        # The pattern may run into the next word ("… 7654 32 TO"): the longest run of its letters and
        # digits that passes mod-97 and the country's length wins, ending where a group ends.
        where = [i for i, ch in enumerate(raw) if ch.isalnum()]
        compact = "".join(raw[i] for i in where).upper()
        for n in range(len(compact), 14, -1):
            end = where[n - 1] + 1
            if (end == len(raw) or not raw[end].isalnum()) and _iban_ok(compact[:n]):
                yield Finding(IBAN, m.start(), m.start() + end, raw[:end])
                break


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
        separators = set(re.findall(r"[ .-]", raw.replace("\u00a0", " ")))
        if len(separators) > 1:
            continue  # "1234-5678 9012 …" is not how a card number is written
        if separators == {"."} and not _CARD_DOTTED.fullmatch(raw):
            continue  # dots group a card in fours (Amex 4-6-5); "1.234.567.890.123" is an amount
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


def _find_names(text: str) -> Iterable[Finding]:
    from app.core.privacy.names import find_names  # loads spaCy on first use only

    for start, end in find_names(text):
        yield Finding(NAME, start, end, text[start:end])


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
        DOB: _find_dobs, PHONE: lambda t: _find_phones(t, regions),
        NAME: _find_names}
    chosen: list[Finding] = []
    for kind in KINDS:  # strongest evidence first
        if kind not in kinds:
            continue
        for f in finders[kind](text):
            if not any(f.start < c.end and c.start < f.end for c in chosen):
                chosen.append(f)
    return sorted(chosen, key=lambda f: f.start)


def redact(text: str, *, kinds: Sequence[str] = KINDS, regions: Sequence[str] = DEFAULT_REGIONS) -> str:
    """``text`` with each piece of personal data replaced by a label such as ``[EMAIL]``."""
    return apply(text, find_personal_data(text, kinds=kinds, regions=regions))


def with_known_names(text: str, findings: Sequence[Finding], names: Iterable[str]) -> list[Finding]:
    """``findings`` plus every whole-word occurrence in ``text`` of a word of ``names`` (names found
    elsewhere in the same document) that no finding covers yet."""
    from app.core.privacy.names import find_known, name_words

    words = name_words(names)
    chosen = list(findings)
    for start, end in find_known(text, words) if words else []:
        if not any(start < c.end and c.start < end for c in chosen):
            chosen.append(Finding(NAME, start, end, text[start:end]))
    return sorted(chosen, key=lambda f: f.start)


def apply(text: str, findings: Sequence[Finding]) -> str:
    """``text`` with ``findings`` (from :func:`find_personal_data` on it) replaced by their labels."""
    out, pos = [], 0
    for f in findings:
        out.append(text[pos : f.start])
        out.append(LABELS[f.kind])
        pos = f.end
    out.append(text[pos:])
    return "".join(out)
