"""HTML pages (and HTML e-mail bodies) as plain text through BeautifulSoup with lxml."""

from __future__ import annotations

import re
import warnings
from typing import Any

from app.core.errors import EmptyDocument, ParseError
from app.core.ingest.parsers._clean import clean_title, make_section
from app.core.ingest.parsers._decode import decode_bytes
from app.core.ingest.parsers.base import ParsedDocument, Source

_DROP = frozenset({"script", "style", "noscript", "template", "head", "svg", "iframe", "object", "embed", "canvas"})
# Elements that start a new paragraph (blank line) or a new line.
_PARAGRAPH = frozenset(
    {"p", "h1", "h2", "h3", "h4", "h5", "h6", "table", "ul", "ol", "dl", "blockquote", "pre", "hr"}
    | {"figure", "article", "section", "main", "header", "footer", "nav", "aside", "address"}
)
_LINE = frozenset(
    {"div", "li", "dt", "dd", "tr", "caption", "figcaption", "form", "fieldset", "legend"}
    | {"details", "summary", "option", "center", "thead", "tbody", "tfoot"}
)
_CELL = frozenset({"td", "th"})
# Marks used while the text is assembled, never left in the output: the end of a table cell,
# and a paragraph break (a line of its own; plain line breaks between blocks collapse).
# Private-use characters: not whitespace to str.strip() (as \x1e and \x1f would be).
_CELL_END = "\ue000"
_PARAGRAPH_MARK = "\ue001"
_PARAGRAPH_BREAK = f"\n{_PARAGRAPH_MARK}\n"
_BLANK_LINE = re.compile(r"\n[ \t]*\n")
_PREFIX_CELLS = frozenset({"$", "€", "£", "¥", "US$", "CHF"})
_SUFFIX_CELLS = frozenset({")", "%", ")%", "%)"})
_WHITESPACE = re.compile(r"\s+")
_SPACE_RUNS = re.compile(" {2,}")
_META_CHARSET = re.compile(rb"""<meta[^>]{0,200}?charset\s*=\s*["']?\s*([A-Za-z0-9_.:\-]+)""", re.I)


def parse_html(path: Source) -> ParsedDocument:
    """Read an HTML file: visible text, block elements on their own lines, tables as rows.

    Raises:
        EmptyDocument: The page has no visible text.
        ParseError: The file cannot be read or decoded.
    """
    try:
        data = path.read_bytes()
    except OSError as error:
        raise ParseError(f"cannot read HTML file: {error.strerror or error}") from error
    title, text = html_to_text(decode_html(data))
    section = make_section(text)
    if section is None:
        raise EmptyDocument("no text: this HTML page has no visible text")
    return ParsedDocument(format="html", sections=[section], title=title)


def decode_html(data: bytes) -> str:
    """Decode HTML bytes: BOM, then <meta charset>, then UTF-8, then detection."""
    match = _META_CHARSET.search(data[:8192])
    declared = match.group(1).decode("ascii", errors="ignore") if match else None
    return decode_bytes(data, declared=declared)


def html_to_text(markup: str) -> tuple[str | None, str]:
    """Return the page's <title> (or None) and its visible text.

    Scripts, styles, templates and elements hidden with ``display:none`` are dropped; block
    elements start new lines; table rows become one line with cells joined by " | ".
    """
    from bs4 import BeautifulSoup, MarkupResemblesLocatorWarning, XMLParsedAsHTMLWarning

    try:
        with warnings.catch_warnings():
            # XHTML (SEC filings) is fine to read as HTML; a one-line body is not a file name.
            warnings.simplefilter("ignore", XMLParsedAsHTMLWarning)
            warnings.simplefilter("ignore", MarkupResemblesLocatorWarning)
            soup = BeautifulSoup(markup, "lxml")
    except Exception as error:
        raise ParseError(f"malformed HTML: {error}") from error
    title_tag = soup.find("title")
    title = clean_title(title_tag.get_text(" ")) if title_tag is not None else None
    return title, _assemble(_render(soup)).strip()


def _render(soup: Any) -> str:
    """Flatten the tree to text with line breaks ("\\n") and paragraph marks (_PARAGRAPH_MARK
    lines) where the layout has them; _assemble turns that into the final text."""
    from bs4 import NavigableString
    from bs4.element import Comment, Declaration, Doctype, ProcessingInstruction

    skipped_strings = (Comment, Declaration, Doctype, ProcessingInstruction)
    out: list[str] = []
    pre_depth = 0
    # Inside a table cell, block elements (a cell's <p>s, a nested table) only separate words:
    # a row must stay on one line.
    cell_depth = 0
    # "<br><br>" is how older pages (and HTML mail) separate paragraphs.
    after_br = False

    def block_break(name: str) -> None:
        if cell_depth:
            out.append(" ")
        else:
            out.append(_PARAGRAPH_BREAK if name in _PARAGRAPH else "\n")

    # An explicit stack, not recursion: real pages nest deeper than Python's recursion limit.
    stack: list[tuple[Any, bool]] = [(soup, False)]
    while stack:
        node, closing = stack.pop()
        if closing:
            name = node.name
            if name == "pre":
                pre_depth -= 1
            if name in _CELL:
                cell_depth -= 1
                out.append(" " if cell_depth else _CELL_END)
            elif name in _PARAGRAPH or name in _LINE:
                block_break(name)
            continue
        if isinstance(node, NavigableString):
            if isinstance(node, skipped_strings):
                continue
            if pre_depth and not cell_depth:
                out.append(_BLANK_LINE.sub(_PARAGRAPH_BREAK, str(node)))
            else:
                out.append(_WHITESPACE.sub(" ", node))
            if not node.isspace():
                after_br = False
            continue
        name = node.name
        if name in _DROP or _is_hidden(node):
            continue
        if name == "br":
            out.append(" " if cell_depth else _PARAGRAPH_BREAK if after_br else "\n")
            after_br = True
            continue
        after_br = False
        if name in _PARAGRAPH or name in _LINE:
            block_break(name)
        elif name in _CELL:
            cell_depth += 1
        if name == "pre":
            pre_depth += 1
        stack.append((node, True))
        stack.extend((child, False) for child in reversed(node.contents))
    return "".join(out)


def _is_hidden(node: Any) -> bool:
    attrs = node.attrs
    if not attrs:
        return False
    if "hidden" in attrs:
        return True
    style = attrs.get("style")
    return isinstance(style, str) and "display:none" in style.replace(" ", "").lower()


def _assemble(raw: str) -> str:
    lines: list[str] = []
    for line in raw.split("\n"):
        if _CELL_END in line:
            cells = (_SPACE_RUNS.sub(" ", cell).strip() for cell in line.split(_CELL_END))
            line = " | ".join(_join_money_cells([cell for cell in cells if cell]))
        else:
            line = _SPACE_RUNS.sub(" ", line).strip()
        if line == _PARAGRAPH_MARK:
            if lines and lines[-1]:
                lines.append("")
        elif line:
            lines.append(line)
    return "\n".join(lines)


def _join_money_cells(cells: list[str]) -> list[str]:
    """Financial tables put "$" and the closing ")" of a negative amount in cells of their own:
    ["$", "(1,234", ")"] reads as ["$(1,234)"]."""
    joined: list[str] = []
    carry = ""
    for cell in cells:
        if cell in _PREFIX_CELLS:
            carry += cell
        elif cell in _SUFFIX_CELLS and joined:
            joined[-1] += cell
        else:
            joined.append(carry + cell)
            carry = ""
    if carry:
        joined.append(carry)
    return joined
