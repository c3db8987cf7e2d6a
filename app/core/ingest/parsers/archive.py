"""ZIP archives: every document inside becomes a document of its own ("a.zip › dir/b.pdf").

Members are read into memory one at a time, never extracted to disk. Limits defeat zip bombs:
how many files, how many bytes in all (across nested archives too), how much one member may
expand, and how deeply archives may nest. An archive that breaks a limit is refused whole, with
the limit named. The same limits apply to every ZIP-based document format (docx, xlsx, pptx,
odt/ods/odp, epub: :func:`charge_package`), and one budget covers a file the user added and
everything inside it, however deep (:func:`file_budget`).
"""

from __future__ import annotations

import contextlib
import contextvars
import posixpath
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field

from app.core.errors import ParseError
from app.core.ingest.parsers._clean import make_section
from app.core.ingest.parsers.base import Embedded, ParsedDocument, ReadEmbedded, Source

#: Files in one archive (nested archives count their own).
MAX_MEMBERS = 1_000
#: Uncompressed bytes read from one top-level archive, nested archives included.
MAX_TOTAL_BYTES = 1 << 30
#: Uncompressed bytes of one member.
MAX_MEMBER_BYTES = 256 << 20
#: How many times one member may expand (checked for members larger than RATIO_FLOOR_BYTES:
#: small files of repeated bytes compress very well and are harmless).
MAX_RATIO = 200
RATIO_FLOOR_BYTES = 1 << 20
#: Archives inside archives: an archive at a deeper level is not opened.
MAX_NESTING = 3
_LISTED_NAMES = 200


class ArchiveRefused(ParseError):
    """The archive breaks a limit that protects against zip bombs."""


@dataclass
class _Budget:
    left: int = field(default_factory=lambda: MAX_TOTAL_BYTES)


# Shared by an archive and the archives nested in it, during one top-level parse.
_budget: contextvars.ContextVar[_Budget | None] = contextvars.ContextVar("sanctum_zip_budget", default=None)


def parse_zip(path: Source, *, read_embedded: ReadEmbedded, password: str | None = None,
              depth: int = 0) -> ParsedDocument:
    """List an archive and read the documents in it (as children).

    Args:
        path: The archive.
        password: Tried on encrypted members (ZipCrypto).
        depth: How deep this archive sits inside other files (0: it was added itself).
        read_embedded: Reads each member (``parsers.parse_embedded``).

    Raises:
        ArchiveRefused: Too many files, too large, or a member expands suspiciously.
        ParseError: The archive is damaged.
    """
    with file_budget():
        return _read(path, password=password, depth=depth, read_embedded=read_embedded)


def _read(path: Source, *, password: str | None, depth: int, read_embedded: ReadEmbedded) -> ParsedDocument:

    try:
        with path.open("rb") as handle, zipfile.ZipFile(handle) as archive:
            members = [info for info in archive.infolist() if not info.is_dir() and not _is_junk(info.filename)]
            _check_limits(members)
            children: list[Embedded] = []
            for info in members:
                try:
                    data = _read_member(archive, info, password)
                except ArchiveRefused:
                    raise
                except ParseError as error:
                    children.append(Embedded(info.filename, error=str(error)))
                    continue
                children.extend(read_embedded(info.filename, data, password=password, depth=depth + 1))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError) as error:
        raise ParseError(f"malformed ZIP archive: {error}") from error
    names = [info.filename for info in members]
    listing = "\n".join(names[:_LISTED_NAMES])
    if len(names) > _LISTED_NAMES:
        listing += f"\n... and {len(names) - _LISTED_NAMES} more"
    text = f"ZIP archive {path.name}: {len(names)} file{'s' if len(names) != 1 else ''}\n{listing}"
    section = make_section(text)
    assert section is not None  # the archive's own name is text
    warnings = [] if names else ["the archive is empty"]
    return ParsedDocument(format="zip", sections=[section], warnings=warnings, children=children)


def _is_junk(name: str) -> bool:
    """macOS resource forks and hidden files, skipped as a folder walk skips them."""
    base = posixpath.basename(name.rstrip("/"))
    return name.startswith("__MACOSX/") or base.startswith((".", "~$"))


def _check_limits(members: list[zipfile.ZipInfo], what: str = "archive") -> int:
    """Refuse ``members`` when they break a limit; returns the bytes they declare.

    ``what`` names the file in the messages: "archive", or the format of a ZIP-based document
    ("Word document", "OpenDocument text" ...), whose parts are read by its own parser.
    """
    if len(members) > MAX_MEMBERS:
        raise ArchiveRefused(
            f"{what} refused: it holds {len(members):,} files, more than the {MAX_MEMBERS:,} Sanctum reads "
            f"from one {what}" + ("; extract it and add the folder" if what == "archive" else "")
        )
    budget = _budget.get()
    assert budget is not None
    declared = sum(info.file_size for info in members)
    if declared > budget.left:
        raise ArchiveRefused(
            f"{what} refused as a likely zip bomb: its parts expand to {_size(declared)}, more than the "
            f"{_size(budget.left)} left of the {_size(MAX_TOTAL_BYTES)} Sanctum reads from one file"
            + ("; extract it and add the folder" if what == "archive" else "")
        )
    for info in members:
        if info.file_size > MAX_MEMBER_BYTES:
            raise ArchiveRefused(
                f"{what} refused as a likely zip bomb: {info.filename} expands to {_size(info.file_size)}, "
                f"more than the {_size(MAX_MEMBER_BYTES)} allowed for one part"
            )
        if info.file_size > RATIO_FLOOR_BYTES and info.file_size > MAX_RATIO * max(info.compress_size, 1):
            ratio = info.file_size // max(info.compress_size, 1)
            raise ArchiveRefused(
                f"{what} refused as a likely zip bomb: {info.filename} expands {ratio:,} times "
                f"(at most {MAX_RATIO} is allowed)"
            )
    return declared


#: How the ZIP-based document formats are named in a refusal.
PACKAGE_NAMES = {
    "docx": "Word document", "xlsx": "Excel workbook", "pptx": "PowerPoint presentation", "ooxml": "Office file",
    "odt": "OpenDocument text", "ods": "OpenDocument spreadsheet", "odp": "OpenDocument presentation",
    "epub": "EPUB book",
}


@contextlib.contextmanager
def file_budget() -> Iterator[None]:
    """One budget of uncompressed bytes for a file the user added and everything inside it.

    Archives, attachments and ZIP-based documents nested in it all draw on it; a nested call
    shares the budget already open.
    """
    token = _budget.set(_Budget()) if _budget.get() is None else None
    try:
        yield
    finally:
        if token is not None:
            _budget.reset(token)


def charge_package(path: Source, kind: str) -> None:
    """Apply the zip-bomb limits to a ZIP-based document (docx, xlsx, pptx, odt/ods/odp, epub).

    Its parser reads the parts itself, so the limits are checked on the declared sizes before it
    starts (zipfile never returns more than a part declares), and the declared total is charged
    to the budget of the file the user added.

    Raises:
        ArchiveRefused: The package breaks a limit (the message names it).
    """
    with file_budget():
        try:
            with path.open("rb") as handle, zipfile.ZipFile(handle) as package:
                members = [info for info in package.infolist() if not info.is_dir()]
        except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError, ValueError):
            return  # damaged: its own parser names what is wrong
        declared = _check_limits(members, PACKAGE_NAMES.get(kind, "document"))
        budget = _budget.get()
        assert budget is not None
        budget.left -= declared


def _read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, password: str | None) -> bytes:
    budget = _budget.get()
    assert budget is not None
    encrypted = bool(info.flag_bits & 0x1)
    if encrypted and not password:
        raise ParseError("password required: this file is encrypted inside the archive")
    try:
        with archive.open(info, pwd=password.encode("utf-8") if encrypted and password else None) as member:
            # Read at most what the header declares, plus one byte to catch a header that lies.
            data = member.read(min(info.file_size, budget.left) + 1)
    except RuntimeError as error:  # zipfile's "Bad password"
        if "password" in str(error).lower():
            raise ParseError("wrong password: the password given does not open this file in the archive") from error
        raise ParseError(f"cannot read this file in the archive: {error}") from error
    except NotImplementedError as error:  # AES encryption, exotic compression
        raise ParseError(f"cannot read this file in the archive: {error}") from error
    except (zipfile.BadZipFile, EOFError, ValueError) as error:  # bad CRC, truncated data
        raise ParseError(f"damaged file in the archive: {error}") from error
    if len(data) > info.file_size or len(data) > budget.left:
        raise ArchiveRefused(
            f"archive refused: {info.filename} holds more data than its header declares (a zip bomb?)"
        )
    budget.left -= len(data)
    return data


def _size(count: int) -> str:
    for unit in ("bytes", "KiB", "MiB", "GiB"):
        if count < 1024 or unit == "GiB":
            return f"{count:,} {unit}" if unit == "bytes" else f"{count:,.1f} {unit}"
        count /= 1024  # type: ignore[assignment]
    return str(count)
