"""Company and period words in a question narrow the search to the document they name.

"What is the FY2018 capital expenditure of 3M?" in a library of thirty filings: the answer is in
3M's 2018 annual report, and the other 29 only add look-alike tables. Each document is known by
names (its file name's leading words, "GENERALMILLS_2020_10K" → "generalmills"; the registrant's name
on its first pages without the legal suffix, "GENERAL MILLS, INC." → "general mills") and by years
(the file name's, the period's). A question that names exactly one company narrows the search to
that company's documents; among those, a year it names picks the document covering it (a filing
reports its own year and earlier ones, so the latest year named that a filing covers decides: "what
will it pay in 2024", asked of a 2021 report, names a year no filing covers). A question naming no
company, or two, is not narrowed. Only documents whose cover page names a company or a form (a
filing, a report) take part: a file called "policy.pdf" must not capture every question about a
policy.

A filing is also known by its trading symbols, read from the cover page's table of registered
securities ("Common Stock … JNJ … New York Stock Exchange"): a question that writes one with
capitals ("JPM", "JnJ") names that company. Lower-case words never match a symbol ("it" is not
Gartner's IT).

On financebench-dev's 39 questions over its 26 filings the names alone narrowed 34 to the right
filing, left 5 alone (they say "JnJ" and "JPM") and none wrongly; with the symbols, 39 right.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from app.core.storage.keywords import STOPWORDS

_WORD = re.compile(r"[a-z0-9]+")
# A row of the cover page's "Securities registered pursuant to Section 12(b)" table: the symbol stands
# just before the exchange ("Common stock JPM The New York Stock Exchange").
_SYMBOL_ROW = re.compile(
    r"\b([A-Z]{2,5})(?:\s+PR\s+[A-Z])?\s+(?:The\s+)?(?:New\s+York\s+Stock\s+Exchange|NYSE|Nasdaq|NASDAQ|"
    r"Chicago\s+Stock\s+Exchange|Cboe|CBOE)")
_SYMBOL_TABLE = re.compile(r"Trading\s+Symbol", re.IGNORECASE)
_SYMBOL_WORD = re.compile(r"\b[A-Za-z]{2,5}\b")
_YEAR = re.compile(r"(?<!\d)(?:fy\s?)?((?:19|20)\d{2})(?!\d)")
_FY_SHORT = re.compile(r"\bfy\s?'?(\d{2})\b")
_STEM_STOP = re.compile(r"^(?:(?:19|20)\d{2}(?:q[1-4])?|q[1-4]|10k|10q|8k|20f|40f|6k|annual|report|form)$")
_LEGAL = frozenset(["inc", "incorporated", "corp", "corporation", "co", "company", "companies", "ltd", "limited",
                    "plc", "llc", "lp", "nv", "sa", "ag", "se", "the", "and", "holdings", "holding", "group",
                    "international", "subsidiaries", "of", "com"])


@dataclass(frozen=True)
class DocumentNames:
    """What a document is called, for matching questions against.

    Attributes:
        doc_id: The document.
        company: Its main name key (to tell companies apart): "generalmills".
        keys: Every name key a question may use: "generalmills", "general mills" joined, "mgm".
        years: The years it covers as its own period.
        symbols: Its trading symbols, upper case ("JNJ").
    """

    doc_id: str
    company: str
    keys: frozenset[str]
    years: frozenset[int]
    symbols: frozenset[str] = frozenset()


def _words(text: str) -> list[str]:
    return _WORD.findall(text.lower().replace("'s", "").replace("’s", ""))


def trading_symbols(cover: str) -> frozenset[str]:
    """The trading symbols in a filing's cover-page table of registered securities (empty: none)."""
    table = _SYMBOL_TABLE.search(cover)
    if table is None:
        return frozenset()
    rows = cover[table.end() : table.end() + 3000]
    return frozenset(m.group(1) for m in _SYMBOL_ROW.finditer(rows) if m.group(1).lower() not in STOPWORDS)


def document_names(doc_id: str, stem: str, company: str | None, period: str | None,
                   symbols: Iterable[str] = ()) -> DocumentNames | None:
    """The names of a document from its file name, its registrant name, its period and its trading
    symbols (None: none)."""
    stem_words = []
    for word in _words(stem.replace("_", " ").replace("-", " ")):
        if _STEM_STOP.match(word):
            break
        stem_words.append(word)
    keys: set[str] = set()
    main = ""
    if stem_words:
        main = "".join(stem_words)
        keys.add(main)
    if company:
        words = [w for w in _words(company) if w not in _LEGAL and w not in STOPWORDS]
        if words:
            keys.add("".join(words))
            if len(words) > 1 and len(words[0]) >= 3:
                keys.add(words[0])  # "MGM Resorts International" is "MGM" in a question
            main = main or "".join(words)
    if not keys:
        return None
    years = {int(y) for y in _YEAR.findall(stem.lower())}
    if period:
        years |= {int(y) for y in _YEAR.findall(period.lower())[-1:]}
    keys = {k for k in keys if len(k) >= 2 and k not in STOPWORDS}
    return DocumentNames(doc_id, main, frozenset(keys), frozenset(years), frozenset(symbols)) if keys else None


def question_keys(question: str) -> set[str]:
    """Words of the question and runs of two or three of them joined ("best buy" → "bestbuy")."""
    words = _words(question)
    keys = set(words)
    for n in (2, 3):
        keys |= {"".join(words[i : i + n]) for i in range(len(words) - n + 1)}
    return keys


def question_symbols(question: str) -> set[str]:
    """Words written with two or more capitals ("JPM", "JnJ"), upper-cased: what may be a trading symbol."""
    return {w.upper() for w in _SYMBOL_WORD.findall(question) if sum(c.isupper() for c in w) >= 2}


def question_years(question: str) -> set[int]:
    low = question.lower()
    years = {int(y) for y in _YEAR.findall(low)}
    years |= {2000 + int(y) for y in _FY_SHORT.findall(low)}
    return years


def narrow(question: str, documents: Iterable[DocumentNames]) -> list[str] | None:
    """The documents ``question`` clearly names, or None (search everything).

    Args:
        question: The question as typed.
        documents: The names of every document searched.
    """
    keys = question_keys(question)
    symbols = question_symbols(question)
    named = [d for d in documents if d.keys & keys or d.symbols & symbols]
    companies = {d.company for d in named}
    if len(companies) != 1:
        return None  # no company named, or several: nothing is clear
    years = question_years(question)
    if len(named) > 1:
        for year in sorted(years, reverse=True):  # the latest year named that a filing covers
            covering = [d for d in named if year in d.years]
            if covering:
                named = covering
                break
    return sorted(d.doc_id for d in named)


def restrict(doc_ids: Sequence[str] | None, narrowed: Sequence[str] | None) -> Sequence[str] | None:
    """``doc_ids`` (the caller's restriction) narrowed further; never to nothing."""
    if narrowed is None:
        return doc_ids
    if doc_ids is None:
        return narrowed
    both = [d for d in doc_ids if d in set(narrowed)]
    return both or doc_ids


def names_of_documents(store: Any, documents: Iterable[Any]) -> list[DocumentNames]:
    """:class:`DocumentNames` of library documents (``doc_id``, ``path``), their registrant, period and
    trading symbols read from their first chunks in ``store`` (one fetch for all)."""
    from app.core.ingest.parsers.context import IDENTITY_CHUNKS, identity_from_chunks

    docs = list(documents)
    ids = [f"{d.doc_id}:{i}" for d in docs for i in range(IDENTITY_CHUNKS)]
    heads: dict[str, list[str]] = {}
    for hit, _ in store.fetch(ids):
        heads.setdefault(hit.doc_id, []).append(hit.text)
    out = []
    for d in docs:
        path = Path(d.path)
        head = heads.get(d.doc_id, [])
        identity = identity_from_chunks(head, path)
        if identity.company is None and identity.form is None:
            continue  # not a filing: "policy.pdf" must not capture every question about a policy
        names = document_names(d.doc_id, path.stem, identity.company, identity.period,
                               trading_symbols("\n".join(head)))
        if names is not None:
            out.append(names)
    return out
