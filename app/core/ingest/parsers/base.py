"""What every file-format parser returns, and the in-memory file that containers hand on."""

from __future__ import annotations

import io
import pathlib
from dataclasses import dataclass, field
from typing import Protocol

#: Joins a container's path and the path of a file inside it: "mail.eml › scan.pdf",
#: "archive.zip › folder/report.docx".
NESTED_SEPARATOR = " › "


@dataclass(frozen=True)
class Section:
    """A run of text from one place in a document.

    Attributes:
        text: The extracted text, as a reader would see it (reading order, tables as rows).
        page: 1-based page, slide or sheet number; None where the format has no pages.
        label: How a person names the place: "Page 3", "Slide 4", "Sheet 'Q1 revenue'", or None.
    """

    text: str
    page: int | None = None
    label: str | None = None


@dataclass
class Embedded:
    """A file found inside another one (an e-mail attachment, an archive member).

    Exactly one of ``document`` and ``error`` is set.

    Attributes:
        name: Its path inside the top-level file ("scan.pdf", "folder/a.docx",
            "inner.zip › b.pdf"), nested levels joined with NESTED_SEPARATOR.
        document: Its text, when it could be read.
        error: Why it was not read (a user-facing message).
        skipped: True when it was not read because of its type (like an unsupported file met in
            a folder), False when reading it failed.
    """

    name: str
    document: ParsedDocument | None = None
    error: str | None = None
    skipped: bool = False


@dataclass
class ParsedDocument:
    """The text of one file, split by where it came from.

    Attributes:
        format: Short format name ("pdf", "docx", "xlsx", "pptx", "html", "markdown", "text",
            "csv", "email", "msg", "odt", "ods", "odp", "rtf", "epub", "xls", "image", "zip").
        sections: Text in document order. Formats without pages usually give one section.
        title: The document's own title, when it has one.
        page_count: Number of pages/slides/sheets, or None where the format has no pages.
        warnings: Things a user should know that did not stop parsing ("page 7 has no text").
        children: Files inside this one (attachments, archive members), each stored as its own
            document linked to this one. Already flattened: a member's own children are here too.
    """

    format: str
    sections: list[Section]
    title: str | None = None
    page_count: int | None = None
    warnings: list[str] = field(default_factory=list)
    children: list[Embedded] = field(default_factory=list)

    @property
    def char_count(self) -> int:
        return sum(len(s.text) for s in self.sections)


class MemoryFile:
    """A file held in memory (an attachment, an archive member, a decrypted package).

    It offers the few ``pathlib.Path`` members the parsers use (name, suffix, open, read_bytes,
    is_file, stat), so every parser reads it as it reads a file on disk, and nothing of it is
    ever written to disk.
    """

    def __init__(self, name: str, data: bytes) -> None:
        self.name = pathlib.PurePath(name).name or "unnamed"
        self.suffix = pathlib.PurePath(self.name).suffix
        self.stem = pathlib.PurePath(self.name).stem
        self.data = data

    def open(self, mode: str = "rb") -> io.BytesIO:
        if mode != "rb":
            raise ValueError("a MemoryFile is read-only and binary")
        return io.BytesIO(self.data)

    def read_bytes(self) -> bytes:
        return self.data

    def is_file(self) -> bool:
        return True

    def stat(self) -> _MemoryStat:
        return _MemoryStat(len(self.data))

    def __str__(self) -> str:
        return self.name

    def __repr__(self) -> str:
        return f"MemoryFile({self.name!r}, {len(self.data)} bytes)"


@dataclass(frozen=True)
class _MemoryStat:
    st_size: int


#: What a parser reads: a file on disk, or one held in memory.
Source = pathlib.Path | MemoryFile


class ReadEmbedded(Protocol):
    """Reads a file found inside another one (``parsers.parse_embedded``); handed to the container
    parsers (archives, e-mail) so that they need not import the package that imports them."""

    def __call__(self, name: str, data: bytes, *, password: str | None, depth: int) -> list[Embedded]: ...
