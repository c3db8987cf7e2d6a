"""File-format parsers: one entry point, ``parse``, that turns a file into a ParsedDocument.

The content chooses the parser where it can be recognised (a PDF named .txt, an encrypted
workbook named .xlsx, a .doc renamed .docx); otherwise the suffix does. Files inside files (mail
attachments, archive members) are parsed from memory through ``parse_embedded`` and come back as
the container's ``children``. Every failure is a ParseError subclass whose message can be shown to
the user as it is.

Importing this package is cheap: each parser imports its library when it first runs.
"""

from __future__ import annotations

import os
import pathlib
import re
from collections.abc import Callable

from app.core.errors import EmptyDocument, ParseError
from app.core.ingest.parsers import _refusals, _sniff, archive, encrypted, legacy
from app.core.ingest.parsers.archive import MAX_NESTING, parse_zip
from app.core.ingest.parsers.base import NESTED_SEPARATOR, Embedded, MemoryFile, ParsedDocument, Section, Source
from app.core.ingest.parsers.ebook import parse_epub
from app.core.ingest.parsers.html import parse_html
from app.core.ingest.parsers.mail import parse_eml
from app.core.ingest.parsers.ocr import IMAGE_SUFFIXES, parse_image
from app.core.ingest.parsers.odf import parse_odf
from app.core.ingest.parsers.office import parse_docx, parse_pptx, parse_xlsx
from app.core.ingest.parsers.outlook import parse_msg
from app.core.ingest.parsers.pdf import parse_pdf
from app.core.ingest.parsers.rtf import parse_rtf
from app.core.ingest.parsers.text import TEXT_SUFFIXES, parse_text

__all__ = [
    "NESTED_SEPARATOR",
    "SUPPORTED_SUFFIXES",
    "Embedded",
    "MemoryFile",
    "ParsedDocument",
    "Section",
    "is_supported",
    "parse",
    "parse_embedded",
    "refusal_reason",
]

_HEAD_BYTES = 8192
#: Characters of text one file (with the files inside it) may hand back to the app: some 10,000
#: pages. A hostile file that makes a parser produce more costs the app no more memory than this.
MAX_TEXT_CHARS = 20_000_000
_HTML_SUFFIXES = frozenset({".html", ".htm", ".xhtml"})
_OFFICE_SUFFIXES = frozenset({".docx", ".xlsx", ".pptx"})
_ODF_SUFFIXES = frozenset({".odt", ".ods", ".odp"})
#: Read only when LibreOffice is installed, to convert them.
_CONVERTED_SUFFIXES = frozenset({".doc", ".dot", ".ppt"})
# Signature files are sometimes whole signed messages in MIME form (a header line first).
_MIME_HEAD = re.compile(rb"^\s*[A-Za-z][A-Za-z0-9-]*:")

#: Every suffix ``parse`` reads (lower case, with the dot); .doc/.ppt also when LibreOffice is
#: installed (see ``is_supported``).
SUPPORTED_SUFFIXES: frozenset[str] = frozenset(
    {".pdf", ".eml", ".msg", ".rtf", ".epub", ".xls", ".zip", *_OFFICE_SUFFIXES, *_ODF_SUFFIXES,
     *_HTML_SUFFIXES, *TEXT_SUFFIXES, *IMAGE_SUFFIXES}
)


def is_supported(path: str | os.PathLike[str]) -> bool:
    """Whether ``path``'s suffix names a format ``parse`` reads (the content is not looked at)."""
    suffix = pathlib.Path(path).suffix.lower()
    return suffix in SUPPORTED_SUFFIXES or (suffix in _CONVERTED_SUFFIXES and legacy.soffice_path() is not None)


def refusal_reason(path: str | os.PathLike[str]) -> str:
    """Why a file of an unsupported type is not read, and what to do instead (for folder walks)."""
    suffix = pathlib.Path(path).suffix.lower()
    if suffix in _refusals.LATER_SUFFIXES:
        return str(_refusals.later_format(suffix))
    return str(_refusals.unknown_format(suffix))


def parse(path: pathlib.Path, *, password: str | None = None) -> ParsedDocument:
    """Read a document's text, and the documents inside it (attachments, archive members).

    Args:
        path: The file.
        password: The password of an encrypted PDF, Office file or archive, if the user gave one.

    Returns:
        The text split into sections (pages, slides, sheets) with title, warnings and children.

    Raises:
        UnsupportedFormat: Sanctum does not read this kind of file (the message says what to do).
        PasswordRequired: The file is encrypted and no, or a wrong, password was given.
        EmptyDocument: The file holds no extractable text (empty, a blank scan, encrypted e-mail).
        ParseError: The file is damaged or cannot be read (the message names the reason).
    """
    with archive.file_budget():
        return cap_text(_parse_source(pathlib.Path(path), password=password, depth=0))


def cap_text(document: ParsedDocument, limit: int | None = None) -> ParsedDocument:
    """Keep at most ``limit`` characters (MAX_TEXT_CHARS) of a document and the files inside it.

    What a parser hands back to the app is bounded, whatever the file: the rest is left out with
    a warning that says so.
    """
    left = MAX_TEXT_CHARS if limit is None else limit
    cut = False
    for holder in [document, *(c.document for c in document.children if c.document is not None)]:
        kept = []
        for section in holder.sections:
            if left <= 0:
                cut = True
                break
            if len(section.text) > left:
                section = Section(section.text[:left], section.page, section.label)
                cut = True
            kept.append(section)
            left -= len(section.text)
        holder.sections = kept
    if cut:
        document.warnings.append(
            f"only the first {MAX_TEXT_CHARS if limit is None else limit:,} characters of this file (and the files "
            "inside it) are indexed; split it to index the rest"
        )
    return document


def parse_embedded(name: str, data: bytes, *, password: str | None, depth: int) -> list[Embedded]:
    """Read a file found inside another one; never raises.

    Args:
        name: Its path inside the container ("scan.pdf", "folder/a.docx").
        data: Its bytes.
        password: Tried if it is encrypted.
        depth: How many files it sits inside (1: inside the file the user added).

    Returns:
        It, then everything inside it (names joined with NESTED_SEPARATOR); a file that cannot be
        read comes back with its reason.
    """
    if depth > MAX_NESTING:
        return [Embedded(name, error=f"not read: it is nested more than {MAX_NESTING} levels deep inside other files")]
    source = MemoryFile(name, data)
    if not is_supported(source.name) and _sniff.sniff(source, data[:_HEAD_BYTES]) is None:
        return [Embedded(name, error=refusal_reason(source.name), skipped=True)]
    try:
        document = _parse_source(source, password=password, depth=depth)
    except EmptyDocument as error:
        # A logo or photo in a mail is not a failed document; an empty file is not worth one either.
        return [Embedded(name, error=str(error), skipped=True)]
    except ParseError as error:
        return [Embedded(name, error=str(error))]
    return flatten(name, document)


def flatten(name: str, document: ParsedDocument) -> list[Embedded]:
    """``document`` as an Embedded named ``name``, followed by its own children renamed under it."""
    inner, document.children = document.children, []
    found = [Embedded(name, document=document)]
    for child in inner:
        found.append(Embedded(f"{name}{NESTED_SEPARATOR}{child.name}", child.document, child.error, child.skipped))
    return found


def _parse_source(path: Source, *, password: str | None, depth: int) -> ParsedDocument:
    suffix = path.suffix.lower()
    head = _read_head(path)
    parser = _choose(path, suffix, head, password=password, depth=depth)
    try:
        return parser(path)
    except ParseError:
        raise
    except RecursionError as error:
        raise ParseError("unreadable file: its structure is nested too deeply") from error
    except MemoryError as error:
        raise ParseError("unreadable file: it is too large to read into memory") from error
    except Exception as error:
        raise ParseError(f"could not read this {suffix or 'file'}: {type(error).__name__}: {error}") from error


def _read_head(path: Source) -> bytes:
    try:
        if not path.is_file():
            raise ParseError(f"cannot read file: {path.name} does not exist or is not a file")
        with path.open("rb") as handle:
            return handle.read(_HEAD_BYTES)
    except OSError as error:
        raise ParseError(f"cannot read file: {error.strerror or error}") from error


def _choose(
    path: Source, suffix: str, head: bytes, *, password: str | None, depth: int
) -> Callable[[Source], ParsedDocument]:
    """Pick the parser for ``path``, or raise the refusal."""
    kind = _sniff.sniff(path, head)
    if kind in archive.PACKAGE_NAMES:
        archive.charge_package(path, kind)  # zip-bomb limits for ZIP-based documents too
    nested = {"password": password, "depth": depth, "read_embedded": parse_embedded}
    if kind == "pdf":
        return lambda p: parse_pdf(p, password=password)
    if kind in ("docx", "xlsx", "pptx"):
        return {"docx": parse_docx, "xlsx": parse_xlsx, "pptx": parse_pptx}[kind]
    if kind in ("odt", "ods", "odp"):
        return lambda p: parse_odf(p, kind)
    if kind == "epub":
        return parse_epub
    if kind == "rtf":
        return parse_rtf
    if kind == "image":
        return parse_image
    if kind == "msg":
        return lambda p: parse_msg(p, **nested)  # type: ignore[arg-type]
    if kind in ("encrypted-office", "xls", "doc", "ppt"):
        return lambda p: _parse_ole(p, kind, password=password, depth=depth)
    if kind in ("ooxml", "zip-damaged") and suffix in _OFFICE_SUFFIXES:
        # Let the Office parser name what is wrong with the package.
        return {".docx": parse_docx, ".xlsx": parse_xlsx, ".pptx": parse_pptx}[suffix]
    if kind == "zip":
        return lambda p: parse_zip(p, **nested)  # type: ignore[arg-type]
    if kind is not None and kind not in ("ooxml", "zip-damaged"):
        raise _refusals.mislabelled(kind, suffix)

    if suffix in _refusals.LATER_SUFFIXES:
        if suffix in (".p7s", ".p7m") and _MIME_HEAD.match(head):
            return lambda p: parse_eml(p, **nested)  # type: ignore[arg-type]
        raise _refusals.later_format(suffix)
    if suffix not in SUPPORTED_SUFFIXES:
        raise _refusals.unknown_format(suffix)
    if not head:
        raise EmptyDocument("empty file: it is 0 bytes")
    if suffix == ".pdf":
        return lambda p: parse_pdf(p, password=password)
    if suffix in _OFFICE_SUFFIXES or suffix in _ODF_SUFFIXES or suffix in (".epub", ".zip", ".xls", ".msg"):
        raise ParseError(f"malformed {suffix} file: it is not a {suffix} package (damaged or renamed)")
    if suffix in IMAGE_SUFFIXES:
        return parse_image  # Pillow knows more image formats than the sniffer
    if suffix == ".rtf":
        return parse_rtf
    if suffix in _HTML_SUFFIXES:
        return parse_html
    if suffix == ".eml":
        return lambda p: parse_eml(p, **nested)  # type: ignore[arg-type]
    return parse_text


def _parse_ole(path: Source, kind: str, *, password: str | None, depth: int) -> ParsedDocument:
    """Office files in an OLE container: encrypted packages, and the 97-2003 formats."""
    if kind == "encrypted-office" or encrypted.is_encrypted(path):
        plain = encrypted.decrypt(path, password=password)
        return _parse_source(plain, password=password, depth=depth)
    if kind == "xls":
        return legacy.parse_xls(path)
    if legacy.soffice_path() is None:
        raise _refusals.mislabelled(kind, path.suffix.lower())
    converted = legacy.convert_with_libreoffice(path, kind)
    return _parse_source(converted, password=password, depth=depth)
