"""Recognise a file's real container from its first bytes, whatever its name says."""

from __future__ import annotations

import zipfile

from app.core.ingest.parsers.base import Source

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06")
# How far into an OLE file to look for its stream names; the directory normally sits in the
# first or last few sectors, and the names are only used to choose a refusal message.
_OLE_SCAN_BYTES = 8 * 1024 * 1024

# Stream names (UTF-16LE in the directory) that say what an OLE file holds. Whole names are
# matched with their NUL terminator; Outlook's "__substg1.0_<tag>" streams by prefix.
_OLE_STREAMS: tuple[tuple[str, str], ...] = (
    ("EncryptedPackage\x00", "encrypted-office"),
    ("WordDocument\x00", "doc"),
    ("Workbook\x00", "xls"),
    ("Book\x00", "xls"),
    ("PowerPoint Document\x00", "ppt"),
    ("__substg1.0_", "msg"),
)


# Picture formats Pillow reads, by their magic numbers.
_IMAGE_MAGICS = (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"II*\x00", b"MM\x00*", b"GIF87a", b"GIF89a")


def sniff(path: Source, head: bytes) -> str | None:
    """Name the container that ``head`` (the file's first bytes) starts, or None if not recognised.

    Returns one of "pdf"; "docx", "xlsx", "pptx", "ooxml" (another Office package), "odt", "ods",
    "odp", "epub", "zip", "zip-damaged"; "encrypted-office", "doc", "xls", "ppt", "msg", "ole";
    "rtf"; "image".
    """
    # Only a header at the very start counts here: prose that mentions "%PDF-" is not a PDF. (A
    # file named .pdf goes to PDFium anyway, which also finds a header behind some junk.)
    if head.lstrip(b"\xef\xbb\xbf \t\r\n\x00").startswith(b"%PDF-"):
        return "pdf"
    if head.startswith(_ZIP_MAGICS):
        return _sniff_zip(path)
    if head.startswith(OLE_MAGIC):
        return _sniff_ole(path)
    if head.lstrip()[:5] == b"{\\rtf":
        return "rtf"
    if head.startswith(_IMAGE_MAGICS) or (head[:4] == b"RIFF" and head[8:12] == b"WEBP"):
        return "image"
    return None


def _sniff_zip(path: Source) -> str:
    try:
        with path.open("rb") as handle, zipfile.ZipFile(handle) as archive:
            names = set(archive.namelist())
            if "mimetype" in names:
                mimetype = archive.read("mimetype")[:100].decode("ascii", errors="replace").strip()
                for kind, marker in (
                    ("epub", "application/epub+zip"),
                    ("odt", "opendocument.text"),
                    ("ods", "opendocument.spreadsheet"),
                    ("odp", "opendocument.presentation"),
                ):
                    if marker in mimetype:
                        return kind
    except (zipfile.BadZipFile, OSError, ValueError, RuntimeError):
        # A damaged package: let the parser its name points to report what is wrong.
        return "zip-damaged"
    if "word/document.xml" in names:
        return "docx"
    if "xl/workbook.xml" in names:
        return "xlsx"
    if "ppt/presentation.xml" in names:
        return "pptx"
    # Office packages may name their main part elsewhere; [Content_Types].xml marks one.
    if "[Content_Types].xml" in names:
        return "ooxml"
    return "zip"


def _sniff_ole(path: Source) -> str:
    try:
        size = path.stat().st_size
        with path.open("rb") as handle:
            data = handle.read(_OLE_SCAN_BYTES)
            if size > _OLE_SCAN_BYTES:
                handle.seek(max(size - _OLE_SCAN_BYTES, _OLE_SCAN_BYTES))
                data += handle.read()
    except OSError:
        return "ole"
    for name, kind in _OLE_STREAMS:
        if name.encode("utf-16-le") in data:
            return kind
    return "ole"
