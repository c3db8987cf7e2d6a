"""E-books (.epub): each chapter of the reading order is a section, labelled with its heading.

Read with zipfile and lxml (container.xml -> package document -> spine), and each chapter's
XHTML through the HTML parser; ebooklib would add a dependency for the same three steps.
"""

from __future__ import annotations

import posixpath
import urllib.parse
import zipfile
from typing import Any

from app.core.errors import EmptyDocument, ParseError, UnsupportedFormat
from app.core.ingest.parsers._clean import clean_title, make_section
from app.core.ingest.parsers.base import ParsedDocument, Section, Source
from app.core.ingest.parsers.html import decode_html, html_to_text

_CONTAINER = "{urn:oasis:names:tc:opendocument:xmlns:container}"
_OPF = "{http://www.idpf.org/2007/opf}"
_DC = "{http://purl.org/dc/elements/1.1/}"
_XHTML_TYPES = frozenset({"application/xhtml+xml", "text/html", "application/x-dtbook+xml"})
_MAX_LABEL = 80


def parse_epub(path: Source) -> ParsedDocument:
    """Read an EPUB 2 or 3 book in reading order.

    Raises:
        UnsupportedFormat: The book is DRM-protected.
        EmptyDocument: No chapter has text.
        ParseError: The file is not a readable EPUB.
    """
    from lxml import etree

    parser = etree.XMLParser(resolve_entities=False, no_network=True, recover=True)
    try:
        with path.open("rb") as handle, zipfile.ZipFile(handle) as book:
            names = set(book.namelist())
            if "META-INF/encryption.xml" in names and _has_drm(book.read("META-INF/encryption.xml")):
                raise UnsupportedFormat(
                    "DRM-protected e-book: its chapters are encrypted by the seller and cannot be read"
                )
            opf_path = _package_path(book, names, parser)
            package = etree.fromstring(book.read(opf_path), parser)
            if package is None:
                raise ParseError("malformed EPUB: the package document is empty")
            title = _book_title(package)
            sections: list[Section] = []
            for href in _spine(package, opf_path):
                if href not in names:
                    continue
                chapter_title, text = html_to_text(decode_html(book.read(href)))
                label = _label(text, chapter_title, len(sections) + 1)
                section = make_section(text, label=label)
                if section is not None:
                    sections.append(section)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, KeyError) as error:
        raise ParseError(f"malformed EPUB: the package is damaged ({error})") from error
    except etree.XMLSyntaxError as error:
        raise ParseError(f"malformed EPUB: {error}") from error
    if not sections:
        raise EmptyDocument("no text: this e-book has no readable chapter")
    return ParsedDocument(format="epub", sections=sections, title=title)


def _has_drm(encryption: bytes) -> bool:
    # Font obfuscation (IDPF/Adobe) also lives in encryption.xml and is harmless to text.
    return b"EncryptedData" in encryption and b"font" not in encryption.lower().replace(b"fontobfuscation", b"font")


def _package_path(book: zipfile.ZipFile, names: set[str], parser: Any) -> str:
    from lxml import etree

    if "META-INF/container.xml" in names:
        container = etree.fromstring(book.read("META-INF/container.xml"), parser)
        rootfile = container.find(f".//{_CONTAINER}rootfile") if container is not None else None
        if rootfile is not None and rootfile.get("full-path") in names:
            return str(rootfile.get("full-path"))
    candidates = sorted(name for name in names if name.lower().endswith(".opf"))
    if not candidates:
        raise ParseError("malformed EPUB: it has no package document (.opf)")
    return candidates[0]


def _book_title(package: Any) -> str | None:
    element = package.find(f".//{_DC}title")
    return clean_title(element.text) if element is not None else None


def _spine(package: Any, opf_path: str) -> list[str]:
    """The chapters' paths inside the zip, in reading order."""
    base = posixpath.dirname(opf_path)
    manifest = {}
    for item in package.iter(f"{_OPF}item"):
        if item.get("media-type") in _XHTML_TYPES and item.get("href"):
            href = urllib.parse.unquote(str(item.get("href")).split("#")[0])
            manifest[item.get("id")] = posixpath.normpath(posixpath.join(base, href))
    order = [manifest[ref.get("idref")] for ref in package.iter(f"{_OPF}itemref") if ref.get("idref") in manifest]
    # A book without a spine is still read, in manifest order.
    return order or list(manifest.values())


def _label(text: str, chapter_title: str | None, number: int) -> str:
    """The chapter's heading (its first line; the <title> is often the book's), else "Part N"."""
    first_line = next((line.strip() for line in text.splitlines() if line.strip() and line.strip()[0] != "["), "")
    heading = first_line or chapter_title or ""
    heading = " ".join(heading.split())
    if len(heading) > _MAX_LABEL:
        heading = heading[: _MAX_LABEL - 1] + "…"
    return heading or f"Part {number}"
