"""Hostile archives and office files: the zip-bomb limits hold for every ZIP-based format, with one
budget per file the user added (attachments and archives inside it included), and what a parser
hands back to the app is capped."""

from __future__ import annotations

import functools
import struct
import zipfile
import zlib
from email.message import EmailMessage
from pathlib import Path

import pytest

from app.core.errors import ParseError
from app.core.ingest import parsers
from app.core.ingest.parse_pool import ParserPool
from app.core.ingest.parsers import archive, parse
from tests import docmaker
from tests.worker_probe import peak_rss_kib

BOMB_MIB = 192  # deflate stops at ~1,030:1, so this is what ~190 KB can really expand to
_ODT_HEAD = (b'<?xml version="1.0" encoding="UTF-8"?><office:document-content '
             b'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
             b'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.3">'
             b"<office:body><office:text><text:p>Bomb ")
_ODT_TAIL = b"</text:p></office:text></office:body></office:document-content>"


@functools.lru_cache(maxsize=4)
def _deflated(head: bytes, tail: bytes, mib: int = BOMB_MIB) -> tuple[bytes, int, int]:
    """Raw deflate of head + ``mib`` MiB of spaces + tail, its CRC-32 and its real size (made once)."""
    packer = zlib.compressobj(9, zlib.DEFLATED, -15)
    chunk = b" " * (8 << 20)
    crc = zlib.crc32(head)
    out = [packer.compress(head)]
    for _ in range(mib // 8):
        out.append(packer.compress(chunk))
        crc = zlib.crc32(chunk, crc)
    out += [packer.compress(tail), packer.flush()]
    return b"".join(out), zlib.crc32(tail, crc), len(head) + (mib // 8) * len(chunk) + len(tail)


def _write_zip(path: Path, members: list[tuple[str, bytes | tuple[bytes, int, int]]], *,
               declare: dict[str, int] | None = None) -> Path:
    """A ZIP written byte by byte: a member is plain bytes (deflated here) or ready (deflate, crc, size).

    ``declare`` makes a member's headers claim another uncompressed size (a lying header).
    """
    body, central = bytearray(), bytearray()
    for name, member in members:
        if isinstance(member, bytes):
            method = 0 if name == "mimetype" else 8
            packer = zlib.compressobj(9, zlib.DEFLATED, -15)
            data = member if method == 0 else packer.compress(member) + packer.flush()
            crc, size = zlib.crc32(member), len(member)
        else:
            method, (data, crc, size) = 8, member
        size = (declare or {}).get(name, size)
        raw = name.encode()
        offset = len(body)
        body += struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, method, 0, 0x21, crc, len(data), size, len(raw), 0)
        body += raw + data
        central += struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, method, 0, 0x21, crc, len(data), size,
                               len(raw), 0, 0, 0, 0, 0, offset) + raw
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(members), len(members), len(central), len(body), 0)
    path.write_bytes(bytes(body + central + end))
    return path


def _bomb_odt(path: Path, *, declare: int | None = None) -> Path:
    manifest = (b'<?xml version="1.0" encoding="UTF-8"?><manifest:manifest '
                b'xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0"/>')
    return _write_zip(path, [("mimetype", b"application/vnd.oasis.opendocument.text"),
                             ("META-INF/manifest.xml", manifest), ("content.xml", _deflated(_ODT_HEAD, _ODT_TAIL))],
                      declare={"content.xml": declare} if declare else None)


@pytest.mark.slow
def test_a_200_kb_odt_that_expands_to_hundreds_of_megabytes_is_refused_and_memory_stays_flat(tmp_path: Path) -> None:
    bomb = _bomb_odt(tmp_path / "minutes.odt")
    liar = _bomb_odt(tmp_path / "agenda.odt", declare=3_500_000_000)  # its header claims 3.3 GiB
    assert bomb.stat().st_size < 250_000 and liar.stat().st_size < 250_000
    pool = ParserPool(timeout_s=120)
    try:
        before = pool._pool.submit(peak_rss_kib, None).result()  # the worker, parsers loaded
        reasons = []
        for path in (bomb, liar):
            with pytest.raises(ParseError) as refused:
                pool.result(pool.submit(path))
            reasons.append(str(refused.value))
        after = pool._pool.submit(peak_rss_kib, None).result()  # the same worker: nothing replaced it
    finally:
        pool.close()
    assert reasons[0].startswith("OpenDocument text refused as a likely zip bomb: content.xml expands"), reasons[0]
    assert "3.3 GiB" in reasons[1] and "zip bomb" in reasons[1], reasons[1]
    assert after - before < 32 * 1024, f"the worker's peak memory grew by {(after - before) // 1024} MiB"


_PARTS = {  # the part each format's parser reads first, and how the refusal names the format
    "docx": ("word/document.xml", [("[Content_Types].xml", b"<Types/>")], "Word document"),
    "xlsx": ("xl/worksheets/sheet1.xml", [("[Content_Types].xml", b"<Types/>"), ("xl/workbook.xml", b"<w/>")],
             "Excel workbook"),
    "pptx": ("ppt/slides/slide1.xml", [("[Content_Types].xml", b"<Types/>"), ("ppt/presentation.xml", b"<p/>")],
             "PowerPoint presentation"),
    "ods": ("content.xml", [("mimetype", b"application/vnd.oasis.opendocument.spreadsheet")],
            "OpenDocument spreadsheet"),
    "odp": ("content.xml", [("mimetype", b"application/vnd.oasis.opendocument.presentation")],
            "OpenDocument presentation"),
    "epub": ("OEBPS/chapter1.xhtml", [("mimetype", b"application/epub+zip")], "EPUB book"),
}


@pytest.mark.parametrize("kind", sorted(_PARTS))
def test_every_zip_based_format_is_held_to_the_zip_bomb_limits(tmp_path: Path, kind: str) -> None:
    part, others, name = _PARTS[kind]
    path = _write_zip(tmp_path / f"bomb.{kind}", [*others, (part, _deflated(b"<x>", b"</x>"))])
    with pytest.raises(archive.ArchiveRefused, match=rf"^{name} refused as a likely zip bomb"):
        parse(path)


def test_one_budget_covers_a_mail_and_every_document_attached_to_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    words = " ".join(f"word{i}" for i in range(5_000))
    first = docmaker.make_docx(tmp_path / "first.docx", [words]).read_bytes()
    second = docmaker.make_docx(tmp_path / "second.docx", [words]).read_bytes()
    with zipfile.ZipFile(tmp_path / "first.docx") as package:
        declared = sum(info.file_size for info in package.infolist())
    # Lowered so the files stay small (they are real): room for one of them, not two.
    monkeypatch.setattr(archive, "MAX_TOTAL_BYTES", declared * 3 // 2)
    assert parse(tmp_path / "first.docx").sections  # each alone fits the budget
    message = EmailMessage()
    message["Subject"] = "Two reports"
    message.set_content("See the attached reports.")
    for name, data in (("first.docx", first), ("second.docx", second)):
        message.add_attachment(data, maintype="application", subtype="octet-stream", filename=name)
    mail = tmp_path / "reports.eml"
    mail.write_bytes(bytes(message))
    children = {c.name: c for c in parse(mail).children}
    assert children["first.docx"].document is not None
    assert children["second.docx"].document is None
    assert "Word document refused as a likely zip bomb: its parts expand to" in (children["second.docx"].error or "")


def test_the_text_a_parser_hands_back_is_capped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parsers, "MAX_TEXT_CHARS", 1_000)
    path = docmaker.make_text(tmp_path / "long.txt", "The drug chart is reviewed daily. " * 400)
    document = parse(path)
    assert document.char_count <= 1_000
    assert any("only the first 1,000 characters" in w for w in document.warnings), document.warnings
