"""What a chunk of a long document needs around it to be found: who and what the document is,
the section it sits in, and its tables' rows with their headers.

- :func:`document_identity`: the company, the form and the period of a filing, read from its first
  pages ("3M COMPANY · Form 10-K · fiscal year ended December 31, 2018"); for other documents the
  title or the file name.
- :func:`section_headings`: for every page, where headings start: the part of a report ("Item 7.
  Management's Discussion and Analysis…", carried over the following pages) and the title at the
  top of a page ("Consolidated Statements of Cash Flows").
- :func:`table_records`: the rows of a page's tables as records carrying their column headers
  ("Total current assets — 2019: 16,525 ($16.5 billion); 2018: 15,134"), so that a question naming
  a line item and a year meets the cell, and the amounts appear in the forms people type.

All of it is read from the text layer as PDFium lays it out (a table row is one line: its label,
then its amounts), with patterns that hold for financial and regulatory reports in general; none
is tuned to one document.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from pathlib import Path

from app.core.ingest.parsers.base import ParsedDocument, Section

_IDENTITY_PAGES = 3
_MAX_IDENTITY = 120
_MAX_HEADING = 110

_FORM = re.compile(r"\bFORM\s+(10-K|10-Q|8-K|20-F|40-F|6-K|S-1|DEF\s*14A|N-CSR)\b", re.IGNORECASE)
_PERIOD = re.compile(
    r"\bfor\s+the\s+(fiscal\s+year|quarterly\s+period|year|period|quarter)\s+ended\s*:?\s*"
    r"([A-Z][a-z]+\.?\s+\d{1,2}\s*,\s*\d{4})", re.IGNORECASE)
_REPORT_DATE = re.compile(r"\b([A-Z][a-z]+\.?\s+\d{1,2}\s*,\s*\d{4})\s*\n?\s*\(?Date\s+of\s+Report", re.IGNORECASE)
_REPORT_DATE_AFTER = re.compile(r"Date\s+of\s+Report[^\n]*?\n?\s*([A-Z][a-z]+\.?\s+\d{1,2}\s*,\s*\d{4})",
                                re.IGNORECASE)
_REGISTRANT = re.compile(r"exact\s+name\s+of\s+registrant", re.IGNORECASE)
_COMPANY_WORD = re.compile(r"\b(INC|INCORPORATED|CORP|CORPORATION|COMPANY|CO|LTD|PLC|LLC|LP|N\.V|S\.A|AG|SE|GROUP|"
                           r"HOLDINGS|& CO)\b\.?", re.IGNORECASE)

_ITEM = re.compile(r"^\s*(ITEM|Item)\s+(\d{1,2}[A-Ca-c]?)\s*[.:\u2013\u2014-]?\s+(\S.{2,100})$")
_PART = re.compile(r"^\s*PART\s+(I{1,3}|IV)\b\.?\s*(.{0,80})$")
_PAGE_TITLE = re.compile(
    r"^\s*((consolidated|combined|condensed|unaudited|interim)\s+)*"
    r"(statements?\s+of\s+[a-z ,()'&-]{4,80}|balance\s+sheets?|statements?\s+of\s+financial\s+position"
    r"|notes\s+to\s+(the\s+)?(consolidated\s+|condensed\s+)*financial\s+statements|"
    r"selected\s+financial\s+data|segment\s+(results|information)[a-z ,–-]{0,40})\s*$",
    re.IGNORECASE)
# A statement's title after other words on its line ("NIKE, Inc. Consolidated Statements of Income") or
# before them ("Consolidated Balance Sheets Corning Incorporated and Subsidiary Companies"): only with
# "consolidated" (or the like) in front and in title case, as prose does not write it.
_STATEMENT_TITLE = re.compile(
    r"\b(?:consolidated|combined|condensed)\s+((?:consolidated|combined|condensed|unaudited|interim)\s+)*"
    r"(statements?\s+of\s+(?:[a-z']+\s+){0,3}?(?:income|operations|earnings|cash\s+flows?|financial\s+position|"
    r"(?:comprehensive\s+)?(?:income|loss)|(?:stockholders|shareholders|shareowners)[’']?\s+equity|equity)"
    r"|balance\s+sheets?)\b", re.IGNORECASE)
_LISTED = re.compile(r"\.{4,}|\s\d{1,3}\s*$")  # a line of a table of contents: dots, or a page number at the end
# PDFium splits a word's last letter off now and then ("Balance Shee t", "Cash Flow s").
_SPLIT_LETTER = re.compile(r"(?<=[a-z]{2}) (?=[a-z]\b)")
_NOTE = re.compile(r"^\s*(NOTE|Note)\s+(\d{1,2})\s*[.:\u2013\u2014-]?\s+([A-Z].{2,80})$")
_TOC_ITEMS = 3  # a page listing this many items is a table of contents, not where they start


@dataclass(frozen=True)
class Identity:
    """Who and what a document is.

    Attributes:
        company: The registrant / company name, or None.
        form: "10-K", "10-Q", "8-K" …, or None.
        period: "fiscal year ended December 31, 2018", or None.
        name: The title or file name it was known by.
    """

    company: str | None
    form: str | None
    period: str | None
    name: str | None

    def text(self) -> str | None:
        """One line for the chunk header ("3M COMPANY · Form 10-K · fiscal year ended …")."""
        parts = [p for p in (self.company, f"Form {self.form}" if self.form else None, self.period) if p]
        if not parts:
            return self.name
        line = " · ".join(parts)
        if self.name and not _overlaps(self.name, line):
            line = f"{self.name} · {line}"
        return line[:_MAX_IDENTITY].rsplit(" ", 1)[0] if len(line) > _MAX_IDENTITY else line


def _overlaps(name: str, line: str) -> bool:
    words = set(re.findall(r"[a-z0-9]+", name.lower()))
    return bool(words) and words <= set(re.findall(r"[a-z0-9]+", line.lower()))


def document_identity(parsed: ParsedDocument, path: Path | None = None, *, title: str | None = None) -> Identity:
    """Company, form and period from the first pages of ``parsed`` (see the module docstring)."""
    head = "\n".join(s.text for s in parsed.sections[:_IDENTITY_PAGES])
    form = _FORM.search(head)
    period = _PERIOD.search(head)
    period_text = None
    if period:
        period_text = f"{' '.join(period.group(1).lower().split())} ended {' '.join(period.group(2).split())}"
    else:
        date = _REPORT_DATE.search(head) or _REPORT_DATE_AFTER.search(head)
        if date:
            period_text = f"report dated {' '.join(date.group(1).split())}"
    name = (title or "").strip()
    if len(re.findall(r"[A-Za-z]{3,}", name)) < 2 and path is not None:  # "0000320187-19-000051", "F20_10K_V1"
        name = path.stem.replace("_", " ").replace("-", " ").strip()
    return Identity(company=_company(head), form=form.group(1).upper().replace(" ", "") if form else None,
                    period=period_text, name=" ".join(name.split()) if name else None)


IDENTITY_CHUNKS = 6  # a stored document's cover page: its first few chunks


def identity_from_chunks(first_texts: list[str], path: Path | None, title: str | None = None) -> Identity:
    """:func:`document_identity` of a document known only by the text of its first chunks (those who
    read it from the store, where the pages are gone: query narrowing, a repair of the keyword index)."""
    return document_identity(ParsedDocument("text", [Section("\n".join(first_texts))]), path, title=title)


def identity_line(chunk_texts: list[str], path: Path | None, title: str | None) -> str | None:
    """:meth:`Identity.text` from a document's chunks in order (the header ingest gave them)."""
    return identity_from_chunks(chunk_texts[:IDENTITY_CHUNKS], path, title).text()


def _company(head: str) -> str | None:
    lines = [ln.strip() for ln in head.splitlines()]
    for i, line in enumerate(lines):
        if _REGISTRANT.search(line):
            before = line[: _REGISTRANT.search(line).start()].strip(" (")  # type: ignore[union-attr]
            if _plausible_company(before):
                return _name(before)
            for prev in reversed(lines[max(0, i - 3) : i]):
                if _plausible_company(prev):
                    return _name(prev)
    for line in lines[:60]:  # else: the first capitalised line that ends like a company's name
        if _plausible_company(line) and line.upper() == line and _COMPANY_WORD.search(line):
            return _name(line)
    return None


def _name(line: str) -> str:
    return " ".join(line.replace("\u00a0", " ").strip("_ ").split())


_NOT_A_NAME = re.compile(r"\b(period|documents?|reference|transition|check\s+mark|registrant|report|pursuant|"
                        r"commission|securities|exchange\s+act|fiscal|quarterly|annual|form|act\s+of|state|"
                        r"washington|united\s+states|indicate|incorporation|address)\b", re.IGNORECASE)


def _plausible_company(line: str) -> bool:
    """Whether a cover-page line can be the company's name (not a form caption or boilerplate)."""
    line = line.strip("_ \u00a0")
    return (2 <= len(line) <= 80 and sum(c.isalpha() for c in line) >= 2 and not line.startswith("(")
            and not _NOT_A_NAME.search(line.replace("\u00a0", " ")))


def _clean(line: str, limit: int = _MAX_HEADING) -> str:
    line = " ".join(line.split())
    return line if len(line) <= limit else line[:limit].rsplit(" ", 1)[0] + "…"


def section_headings(parsed: ParsedDocument) -> list[list[tuple[int, str]]]:
    """Per section, the headings in force from each offset on: ``[(offset, heading), …]``.

    The part ("Item 7. …") is carried from page to page until the next one; a page's title ("Consolidated
    Balance Sheets", "Note 3. Revenue") is added for that page only. Pages of a table of contents
    (many items) change nothing.
    """
    out: list[list[tuple[int, str]]] = []
    item: str | None = None
    for section in parsed.sections:
        text = section.text
        marks: list[tuple[int, str]] = []
        lines = text.splitlines(keepends=True)
        items = []
        offset = 0
        for line in lines:
            m = _ITEM.match(line.rstrip())
            if m and not _LISTED.search(line):  # a TOC line ends in dots or a page number
                items.append((offset, f"Item {m.group(2).upper()}. {_clean(m.group(3), 80)}"))
            offset += len(line)
        if len(items) >= _TOC_ITEMS:
            items = []
        title = None
        for line in lines[:8]:
            title = title or page_title(line)
        current = item
        marks.append((0, _join(current, title)))
        for start, heading in items:
            current = heading
            marks.append((start, _join(current, title)))
        item = current
        out.append(marks)
    return out


def page_title(line: str) -> str | None:
    """The title a page's line announces ("Consolidated Statements of Cash Flows", "Note 3. Revenue"), or None."""
    stripped = _SPLIT_LETTER.sub("", " ".join(line.split()))
    if _PAGE_TITLE.match(stripped) or _NOTE.match(stripped):
        return _clean(stripped)
    if len(stripped) <= _MAX_HEADING and not _LISTED.search(stripped):
        found = _STATEMENT_TITLE.search(stripped)
        # Written as a title ("Consolidated Balance Sheets"), not mentioned in a sentence.
        if found and all(w[0].isupper() for w in found.group(0).split() if len(w) > 3):
            return _clean(found.group(0))
    return None


def _join(item: str | None, title: str | None) -> str:
    return " › ".join(p for p in (item, title) if p)


def heading_at(marks: list[tuple[int, str]], offset: int) -> str:
    """The heading in force at ``offset`` of a section (from :func:`section_headings`)."""
    found = ""
    for start, heading in marks:
        if start <= offset:
            found = heading
        else:
            break
    return found


# -- tables ----------------------------------------------------------------------------------------

# Lines are read token by token from the end (linear time: no regex with nested repeats, which
# backtracks for minutes on a long line of numbers).
_AMOUNT_TOKEN = re.compile(r"\(?-?\$?\(?\d[\d,]*(?:\.\d+)?\)?%?|[—–-]")
_YEAR_TOKEN = re.compile(r"(?:19|20)\d{2}")
_DAY_TOKEN = re.compile(r"\d{1,2},")
_MONTH_TOKEN = re.compile(r"[A-Za-z]{3,9}\.?")
_UNITS = re.compile(
    r"\(?\s*(?:dollars\s+|amounts\s+|\$\s*)?in\s+(millions|thousands|billions)\b|\((millions|thousands)\)",
    re.IGNORECASE)
_SCALE = {"thousands": 1e3, "millions": 1e6, "billions": 1e9}
_MAX_RECORDS = 80  # per page


def _trailing_amounts(tokens: list[str]) -> tuple[list[str], list[str]]:
    """Split a line's tokens into (label, amounts at its end); a lone "$" or "%" joins its amount."""
    values: list[str] = []
    i = len(tokens)
    while i > 0:
        token = tokens[i - 1]
        if token == "%" and i > 1 and _AMOUNT_TOKEN.fullmatch(tokens[i - 2]):
            values.insert(0, tokens[i - 2] + "%")
            i -= 2
        elif token == "$":
            i -= 1
        elif _AMOUNT_TOKEN.fullmatch(token):
            values.insert(0, token)
            i -= 1
        else:
            break
    if values and i > 0 and tokens[i - 1] == "$":
        i -= 1
    return tokens[:i], values


def _trailing_columns(tokens: list[str]) -> tuple[list[str], list[str]]:
    """Split a header line's tokens into (label, column names at its end: years, dates, "Change")."""
    cols: list[str] = []
    i = len(tokens)
    while i > 0:
        token = tokens[i - 1]
        if _YEAR_TOKEN.fullmatch(token):
            if i > 2 and _DAY_TOKEN.fullmatch(tokens[i - 2]) and _MONTH_TOKEN.fullmatch(tokens[i - 3]):
                cols.insert(0, " ".join(tokens[i - 3 : i]))
                i -= 3
            else:
                cols.insert(0, token)
                i -= 1
        elif token == "Change":
            cols.insert(0, token)
            i -= 1
        else:
            break
    return tokens[:i], cols


def table_records(text: str) -> list[str]:
    """The rows of the tables on a page as records with their column headers (see the module docstring).

    A header line ends in two or more years or dates ("(Millions) 2018 2017 2016", "May 31, 2020
    May 26, 2019"); each following line that ends in as many amounts is a row, its label the words
    before them (or the line before, when the amounts stand alone). Amounts keep their printed form;
    amounts of a table "in millions" (or thousands) also appear in billions (millions) as people say them.
    """
    units = _UNITS.search(text)
    scale = _SCALE[(units.group(1) or units.group(2)).lower()] if units else None
    records: list[str] = []
    cols: list[str] | None = None
    previous = ""
    for raw in text.splitlines():
        tokens = raw.split()
        if not tokens:
            continue
        head, found = _trailing_columns(tokens)
        if len(found) >= 2 and not _trailing_amounts(head)[1] and sum(c != "Change" for c in found) >= 2:
            cols = found
            previous = ""
            continue
        label_tokens, values = _trailing_amounts(tokens)
        label = " ".join(label_tokens)
        if values and not label and previous:  # a label wrapped onto its own line
            label = previous
        if cols and values and label and any(c.isalpha() for c in label) and len(values) == len(cols):
            cells = [f"{c}: {v}{_spoken(v, scale)}" for c, v in zip(cols, values, strict=True)]
            records.append(f"{label.rstrip(':').rstrip()} — {'; '.join(cells)}")
            previous = ""
            if len(records) >= _MAX_RECORDS:
                break
            continue
        previous = " ".join(tokens) if not values else ""
    return records


def _spoken(value: str, scale: float | None) -> str:
    """" ($34.2 billion)" for 34,229 in a table in millions; "" when the amount is small or no scale."""
    if scale is None or "%" in value:
        return ""
    digits = re.sub(r"[^\d.]", "", value)
    try:
        amount = float(digits) * scale
    except ValueError:
        return ""
    if amount >= 1e9:
        return f" (${amount / 1e9:.1f} billion)"
    if amount >= 1e6 and scale < 1e6:
        return f" (${amount / 1e6:.1f} million)"
    return ""


TABLE_ROWS = "\n\nTable rows:\n"  # between a page's own text and its records


def page_text_only(text: str) -> str:
    """A section's text without the records :func:`with_table_records` added (the page as printed)."""
    return text.partition(TABLE_ROWS)[0]


def with_table_records(parsed: ParsedDocument) -> ParsedDocument:
    """``parsed`` with each page's table records appended to the page's text, after a blank line
    (the page's own text stays first and unchanged, so a passage of it is still found in the file)."""
    sections = []
    changed = False
    for section in parsed.sections:
        records = table_records(section.text)
        if records:
            changed = True
            section = Section(f"{section.text.rstrip()}{TABLE_ROWS}" + "\n".join(records),
                              page=section.page, label=section.label)
        sections.append(section)
    return replace(parsed, sections=sections) if changed else parsed
