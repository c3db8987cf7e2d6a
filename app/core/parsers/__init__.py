"""File-format parsers: one entry point, ``parse``, that turns a file into a ParsedDocument.

The suffix chooses the parser, unless the content says otherwise (a PDF named .txt, an
encrypted workbook named .xlsx, a .doc renamed .docx). Every failure is a ParseError subclass
whose message can be shown to the user as it is.

Importing this package is cheap: each parser imports its library when it first runs.
"""

from __future__ import annotations

import os
import pathlib
import re
from collections.abc import Callable

from app.core.errors import EmptyDocument, ParseError
from app.core.parsers import _refusals, _sniff
from app.core.parsers.base import ParsedDocument, Section
from app.core.parsers.html import parse_html
from app.core.parsers.mail import parse_eml
from app.core.parsers.office import parse_docx, parse_pptx, parse_xlsx
from app.core.parsers.pdf import parse_pdf
from app.core.parsers.text import TEXT_SUFFIXES, parse_text

__all__ = ["SUPPORTED_SUFFIXES", "ParsedDocument", "Section", "is_supported", "parse", "refusal_reason"]

_HEAD_BYTES = 8192
_HTML_SUFFIXES = frozenset({".html", ".htm", ".xhtml"})
_OFFICE_SUFFIXES = frozenset({".docx", ".xlsx", ".pptx"})
# Signature files are sometimes whole signed messages in MIME form (a header line first).
_MIME_HEAD = re.compile(rb"^\s*[A-Za-z][A-Za-z0-9-]*:")

#: Every suffix ``parse`` reads (lower case, with the dot).
SUPPORTED_SUFFIXES: frozenset[str] = frozenset({".pdf", ".eml", *_OFFICE_SUFFIXES, *_HTML_SUFFIXES, *TEXT_SUFFIXES})


def is_supported(path: str | os.PathLike[str]) -> bool:
    """Whether ``path``'s suffix names a format ``parse`` reads (the content is not looked at)."""
    return pathlib.Path(path).suffix.lower() in SUPPORTED_SUFFIXES


def refusal_reason(path: str | os.PathLike[str]) -> str:
    """Why a file of an unsupported type is not read, and what to do instead (for folder walks)."""
    suffix = pathlib.Path(path).suffix.lower()
    if suffix in _refusals.LATER_SUFFIXES:
        return str(_refusals.later_format(suffix))
    return str(_refusals.unknown_format(suffix))


def parse(path: pathlib.Path, *, password: str | None = None) -> ParsedDocument:
    """Read a document's text.

    Args:
        path: The file.
        password: The password of an encrypted PDF, if the user gave one.

    Returns:
        The text split into sections (pages, slides, sheets) with title and warnings.

    Raises:
        UnsupportedFormat: Sanctum does not read this kind of file (the message says what to do).
        PasswordRequired: The file is encrypted and no, or a wrong, password was given.
        EmptyDocument: The file holds no extractable text (scanned, empty, encrypted e-mail).
        ParseError: The file is damaged or cannot be read (the message names the reason).
    """
    path = pathlib.Path(path)
    suffix = path.suffix.lower()
    head = _read_head(path)
    parser = _choose(path, suffix, head, password=password)
    try:
        return parser(path)
    except ParseError:
        raise
    except RecursionError as error:
        raise ParseError("unreadable file: its structure is nested too deeply") from error
    except MemoryError as error:
        raise ParseError("unreadable file: it is too large to read into memory") from error
    except Exception as error:  # noqa: BLE001 - last resort: the GUI must get a message, not a crash
        raise ParseError(f"could not read this {suffix or 'file'}: {type(error).__name__}: {error}") from error


def _read_head(path: pathlib.Path) -> bytes:
    try:
        if not path.is_file():
            raise ParseError(f"cannot read file: {path.name} does not exist or is not a file")
        with path.open("rb") as handle:
            return handle.read(_HEAD_BYTES)
    except OSError as error:
        raise ParseError(f"cannot read file: {error.strerror or error}") from error


def _choose(
    path: pathlib.Path, suffix: str, head: bytes, *, password: str | None
) -> Callable[[pathlib.Path], ParsedDocument]:
    """Pick the parser for ``path``, or raise the refusal."""
    kind = _sniff.sniff(path, head)
    if kind == "pdf":
        return lambda p: parse_pdf(p, password=password)
    if kind in ("docx", "xlsx", "pptx"):
        return {"docx": parse_docx, "xlsx": parse_xlsx, "pptx": parse_pptx}[kind]
    if kind == "encrypted-office":
        raise _refusals.encrypted_office(suffix, password=password)
    if kind in ("ooxml", "zip-damaged") and suffix in _OFFICE_SUFFIXES:
        # Let the Office parser name what is wrong with the package.
        return {".docx": parse_docx, ".xlsx": parse_xlsx, ".pptx": parse_pptx}[suffix]
    if kind is not None and kind not in ("ooxml", "zip-damaged"):
        raise _refusals.mislabelled(kind, suffix)

    if suffix in _refusals.LATER_SUFFIXES:
        if suffix in (".p7s", ".p7m") and _MIME_HEAD.match(head):
            return parse_eml
        raise _refusals.later_format(suffix)
    if suffix not in SUPPORTED_SUFFIXES:
        raise _refusals.unknown_format(suffix)
    if not head:
        raise EmptyDocument("empty file: it is 0 bytes")
    if suffix == ".pdf":
        return lambda p: parse_pdf(p, password=password)
    if suffix in _OFFICE_SUFFIXES:
        name = {".docx": "Word", ".xlsx": "Excel", ".pptx": "PowerPoint"}[suffix]
        raise ParseError(f"malformed {name} file: it is not an Office package (damaged or renamed)")
    if suffix in _HTML_SUFFIXES:
        return parse_html
    if suffix == ".eml":
        return parse_eml
    return parse_text
