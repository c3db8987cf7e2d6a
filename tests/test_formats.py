"""OCR, Outlook, OpenDocument, RTF, EPUB, legacy Excel, encrypted Office files, ZIP archives, and
files inside files — with real generated files and the real samples in ../shared/data/ingestion."""

from __future__ import annotations

import os
import stat
import sys
import zipfile
from pathlib import Path

import pytest

from app.core.engine import Engine
from app.core.errors import EmptyDocument, PasswordRequired, UnsupportedFormat
from app.core.ingest.parsers import NESTED_SEPARATOR, parse
from app.core.ingest.parsers import archive as archive_module
from app.core.ingest.parsers.ocr import OcrUnavailable, tesseract_path
from tests import docmaker
from tests.conftest import SHARED_DATA, sanctum

EXAMPLES = SHARED_DATA / "ingestion" / "unstructured" / "example-docs"
MARKITDOWN = SHARED_DATA / "ingestion" / "markitdown" / "packages" / "markitdown" / "tests" / "test_files"
needs_data = pytest.mark.skipif(not EXAMPLES.is_dir(), reason="../shared/data beside the checkout is missing")
needs_tesseract = pytest.mark.skipif(
    tesseract_path() is None, reason="tesseract-ocr is not installed (installers/setup.sh installs it)"
)


def text_of(doc: object) -> str:
    return "\n".join(s.text for s in doc.sections)  # type: ignore[attr-defined]


# --- OCR -----------------------------------------------------------------------------------------


@needs_tesseract
def test_scanned_pdf_is_read_by_ocr_with_its_page_numbers(tmp_path: Path) -> None:
    path = docmaker.make_scanned_pdf(
        tmp_path / "scan.pdf",
        [["Discharge summary", "Patient admitted with pneumonia"],
         ["Medication plan", "Amoxicillin three times daily"]],
    )
    doc = parse(path)
    assert doc.format == "pdf" and doc.page_count == 2
    assert [(s.page, s.label) for s in doc.sections] == [(1, "Page 1"), (2, "Page 2")]
    assert "pneumonia" in doc.sections[0].text and "Amoxicillin" not in doc.sections[0].text
    assert "Amoxicillin three times daily" in doc.sections[1].text


@needs_tesseract
def test_only_pages_without_a_text_layer_are_ocrd(tmp_path: Path) -> None:
    import pypdfium2 as pdfium

    text_pdf = tmp_path / "text.pdf"
    text_pdf.write_bytes(docmaker.pdf_bytes([["Typed page about insulin dosing"]]))
    scan = docmaker.make_scanned_pdf(tmp_path / "scan.pdf", [["Scanned page about heparin"]])
    merged = pdfium.PdfDocument(str(text_pdf))
    merged.import_pages(pdfium.PdfDocument(str(scan)))
    merged.save(str(tmp_path / "mixed.pdf"))
    doc = parse(tmp_path / "mixed.pdf")
    # The text layer comes back exactly as typed (OCR would not reproduce it character for character
    # in every case); the picture page comes back by OCR.
    assert doc.sections[0].text == "Typed page about insulin dosing"
    assert doc.sections[1].page == 2 and "heparin" in doc.sections[1].text


@needs_tesseract
def test_images_are_read_by_ocr_and_tiff_frames_are_pages(tmp_path: Path) -> None:
    png = parse(docmaker.make_png(tmp_path / "whiteboard.png", ["Handover at seven sharp"]))
    assert png.format == "image" and png.page_count is None
    assert "Handover at seven sharp" in text_of(png)
    tiff = parse(docmaker.make_tiff(tmp_path / "fax.tiff", [["Referral letter"], ["Blood results attached"]]))
    assert tiff.page_count == 2
    assert [s.page for s in tiff.sections] == [1, 2]
    assert "Blood results" in tiff.sections[1].text
    jpeg = tmp_path / "photo.jpg"
    docmaker.text_image(["Ward round notes"]).save(jpeg, "JPEG", quality=90)  # type: ignore[attr-defined]
    assert "Ward round notes" in text_of(parse(jpeg))


@needs_tesseract
def test_ocr_budget_caps_pages_with_a_warning(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from app.core.ingest.parsers import ocr

    monkeypatch.setattr(ocr, "MAX_OCR_PAGES", 1)
    doc = parse(docmaker.make_scanned_pdf(tmp_path / "long.pdf", [["First page"], ["Second page"], ["Third page"]]))
    assert len(doc.sections) == 1 and "First page" in doc.sections[0].text
    assert any("pages 2-3" in w and "at most 1 pages" in w for w in doc.warnings), doc.warnings


def test_a_scan_without_tesseract_says_what_to_install(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = docmaker.make_scanned_pdf(tmp_path / "scan.pdf", [["Anything"]])
    monkeypatch.setenv("PATH", str(tmp_path))  # no tesseract there
    with pytest.raises(OcrUnavailable, match="tesseract-ocr"):
        parse(path)
    with pytest.raises(OcrUnavailable, match="OCR needed"):
        parse(docmaker.make_png(tmp_path / "a.png", ["Anything"]))


def test_the_ocr_message_crosses_the_process_boundary_unchanged() -> None:
    import pickle

    sent = OcrUnavailable("this is an image")
    assert str(pickle.loads(pickle.dumps(sent))) == str(sent)  # the parser worker pickles it


# --- OpenDocument, RTF, EPUB, legacy Excel -----------------------------------------------------------


def test_odt_paragraphs_lists_tables_notes_and_spaces(tmp_path: Path) -> None:
    body = (
        "<text:h>Infusion protocol</text:h>"
        "<text:p>Flush<text:s text:c='3'/>the line<text:note><text:note-body><text:p>Footnote 42</text:p>"
        "</text:note-body></text:note> first.</text:p>"
        "<text:list><text:list-item><text:p>Check the pump</text:p></text:list-item></text:list>"
        "<table:table><table:table-row><table:table-cell><text:p>Drug</text:p></table:table-cell>"
        "<table:table-cell><text:p>Rate</text:p></table:table-cell></table:table-row></table:table>"
        "<text:tracked-changes><text:changed-region><text:deletion><text:p>Deleted words</text:p>"
        "</text:deletion></text:changed-region></text:tracked-changes>"
    )
    doc = parse(docmaker.make_odf(tmp_path / "protocol.odt", "odt", body, title="Infusion SOP"))
    text = text_of(doc)
    assert doc.format == "odt" and doc.title == "Infusion SOP"
    assert "Flush   the line first." in text and "Footnote 42" in text
    assert "Check the pump" in text and "Drug | Rate" in text
    assert "Deleted words" not in text


def test_ods_sheets_are_pages_and_repeats_are_bounded(tmp_path: Path) -> None:
    body = (
        "<table:table table:name='Budget'><table:table-row><table:table-cell><text:p>Item</text:p></table:table-cell>"
        "<table:table-cell table:number-columns-repeated='2'><text:p>7</text:p></table:table-cell>"
        "<table:table-cell table:number-columns-repeated='16000'/></table:table-row>"
        "<table:table-row table:number-rows-repeated='1048000'><table:table-cell/></table:table-row></table:table>"
        "<table:table table:name='Empty'/>"
        "<table:table table:name='Staff'><table:table-row><table:table-cell><text:p>Nurse</text:p>"
        "</table:table-cell></table:table-row></table:table>"
    )
    doc = parse(docmaker.make_odf(tmp_path / "b.ods", "ods", body))
    assert doc.page_count == 3
    assert [(s.page, s.label, s.text) for s in doc.sections] == [
        (1, "Sheet 'Budget'", "Item | 7 | 7"),
        (3, "Sheet 'Staff'", "Nurse"),
    ]


def test_odp_slides_are_pages(tmp_path: Path) -> None:
    body = (
        "<draw:page draw:name='p1'><draw:frame><draw:text-box><text:p>Hand hygiene</text:p></draw:text-box>"
        "</draw:frame></draw:page><draw:page draw:name='p2'><draw:frame><draw:text-box>"
        "<text:p>Five moments</text:p></draw:text-box></draw:frame></draw:page>"
    )
    doc = parse(docmaker.make_odf(tmp_path / "talk.odp", "odp", body))
    assert [(s.page, s.label, s.text) for s in doc.sections] == [(1, "Slide 1", "Hand hygiene"),
                                                                 (2, "Slide 2", "Five moments")]


def test_encrypted_odf_is_refused_with_advice(tmp_path: Path) -> None:
    path = docmaker.make_odf(tmp_path / "secret.odt", "odt", "<text:p>x</text:p>", encrypted=True)
    with pytest.raises(PasswordRequired, match="password-protected OpenDocument text.*without a password"):
        parse(path)


def test_rtf_text_and_code_page(tmp_path: Path) -> None:
    doc = parse(docmaker.make_rtf(tmp_path / "letter.rtf", ["Dear Dr. Müller,", "the café {braces} stay."]))
    assert doc.format == "rtf"
    assert text_of(doc) == "Dear Dr. Müller,\nthe café {braces} stay."


def test_epub_chapters_in_spine_order_as_sections(tmp_path: Path) -> None:
    doc = parse(docmaker.make_epub(tmp_path / "guide.epub", "Ward Guide", [("Admission", "Check ID band."),
                                                                          ("Discharge", "Book transport.")]))
    assert doc.format == "epub" and doc.title == "Ward Guide"
    # The spine lists chapter 2 first.
    assert [s.label for s in doc.sections] == ["Discharge", "Admission"]
    assert "Book transport." in doc.sections[0].text


@needs_data
def test_real_msg_xls_odt_rtf_epub_samples() -> None:
    msg = parse(EXAMPLES / "fake-email-attachment.msg")
    assert msg.format == "msg" and msg.title == "Fake email with attachment"
    assert "Lots of whitespace" in text_of(msg)
    assert [c.name for c in msg.children] == ["fake-attachment.txt"]
    attachment = msg.children[0].document
    assert attachment is not None and "Hey this is a fake attachment!" in text_of(attachment)
    with pytest.raises(EmptyDocument, match="encrypted e-mail"):
        parse(EXAMPLES / "fake-encrypted.msg")
    xls = parse(EXAMPLES / "tests-example.xls")
    assert xls.format == "xls" and xls.page_count == 3
    assert xls.sections[0].label == "Sheet 'Example Test'" and "What is 2+2? | 4" in xls.sections[0].text
    assert "Lorem ipsum dolor sit amet." in text_of(parse(EXAMPLES / "fake.odt"))
    assert "Row 1, Cell 1 | Row 1, Cell 2" in text_of(parse(EXAMPLES / "fake-doc.rtf"))
    book = parse(EXAMPLES / "winter-sports.epub")
    assert book.title == "Winter Sports in Switzerland" and len(book.sections) > 5


def test_doc_without_libreoffice_is_refused_with_how_to_convert(tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    path = tmp_path / "old.doc"
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600 + "WordDocument\x00".encode("utf-16-le"))
    with pytest.raises(UnsupportedFormat, match=r"save it as \.docx.*install LibreOffice"):
        parse(path)


def test_doc_is_converted_when_soffice_is_installed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # LibreOffice is too big to install here: this stand-in implements the command line Sanctum
    # uses (--convert-to docx --outdir DIR FILE) by writing a real .docx named as LibreOffice does.
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    soffice = bin_dir / "soffice"
    soffice.write_text(
        f"#!{sys.executable}\n"
        "import sys, pathlib, docx\n"
        "args = sys.argv[1:]\n"
        "assert '--headless' in args and args[args.index('--convert-to') + 1] == 'docx'\n"
        "out = pathlib.Path(args[args.index('--outdir') + 1]); out.mkdir(parents=True, exist_ok=True)\n"
        "source = pathlib.Path(args[-1])\n"
        "d = docx.Document(); d.add_paragraph('Converted: ' + str(len(source.read_bytes())) + ' bytes')\n"
        "d.save(out / (source.stem + '.docx'))\n"
    )
    soffice.chmod(soffice.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    path = tmp_path / "old.doc"
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600 + "WordDocument\x00".encode("utf-16-le"))
    doc = parse(path)
    assert doc.format == "docx" and text_of(doc) == f"Converted: {path.stat().st_size} bytes"


# --- encrypted Office files ----------------------------------------------------------------------


def test_encrypted_xlsx_and_docx_open_with_the_password_only(tmp_path: Path) -> None:
    plain = docmaker.make_xlsx(tmp_path / "plain.xlsx", {"Salaries": [["Name", "Pay"], ["Ada", 5100]]})
    locked = docmaker.encrypt_office(plain, tmp_path / "salaries.xlsx", "s3cret")
    with pytest.raises(PasswordRequired, match="password required: this Excel workbook is encrypted"):
        parse(locked)
    with pytest.raises(PasswordRequired, match="wrong password"):
        parse(locked, password="guess")
    doc = parse(locked, password="s3cret")
    assert doc.format == "xlsx" and doc.sections[0].text == "Name | Pay\nAda | 5100"
    word = docmaker.encrypt_office(docmaker.make_docx(tmp_path / "p.docx", ["Board minutes"]), tmp_path / "m.docx",
                                   "pw")
    assert "Board minutes" in text_of(parse(word, password="pw"))


def test_decrypted_text_never_reaches_the_disk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    plain = docmaker.make_docx(tmp_path / "plain.docx", ["Unique marker zqxjv"])
    locked = docmaker.encrypt_office(plain, tmp_path / "locked.docx", "pw")
    plain.unlink()
    spool = tmp_path / "tmp"
    spool.mkdir()
    monkeypatch.setenv("TMPDIR", str(spool))
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", None)
    assert "zqxjv" in text_of(parse(locked, password="pw"))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["locked.docx", "tmp"]
    assert not list(spool.iterdir())


@needs_data
def test_real_password_protected_samples() -> None:
    with pytest.raises(PasswordRequired, match="password required"):
        parse(EXAMPLES / "password_protected.xlsx")
    assert text_of(parse(EXAMPLES / "password_protected.xlsx", password="123")).strip()
    assert "File with password" in text_of(parse(EXAMPLES / "pdf" / "password.pdf", password="password"))


# --- ZIP archives --------------------------------------------------------------------------------


def _zip(path: Path, members: dict[str, bytes], compression: int = zipfile.ZIP_DEFLATED) -> Path:
    with zipfile.ZipFile(path, "w", compression) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


def test_zip_members_come_back_as_children_with_nested_names(tmp_path: Path) -> None:
    inner = _zip(tmp_path / "inner.zip", {"deep/note.txt": b"Inner archive note about sepsis"}).read_bytes()
    docx_bytes = docmaker.make_docx(tmp_path / "p.docx", ["Policy on visiting hours"]).read_bytes()
    path = _zip(tmp_path / "bundle.zip", {
        "policies/visiting.docx": docx_bytes,
        "scan.pdf": docmaker.pdf_bytes([["Page one"], ["Page two text"]]),
        "inner.zip": inner,
        "music.mp3": b"ID3\x00\x00",
        "__MACOSX/._scan.pdf": b"junk",
        "broken.pdf": b"%PDF-1.4 broken",
    })
    doc = parse(path)
    assert doc.format == "zip" and "policies/visiting.docx" in text_of(doc)
    by_name = {c.name: c for c in doc.children}
    assert set(by_name) == {"policies/visiting.docx", "scan.pdf", "inner.zip",
                            f"inner.zip{NESTED_SEPARATOR}deep/note.txt", "music.mp3", "broken.pdf"}
    assert "visiting hours" in text_of(by_name["policies/visiting.docx"].document)
    assert by_name["scan.pdf"].document.page_count == 2  # type: ignore[union-attr]
    assert "sepsis" in text_of(by_name[f"inner.zip{NESTED_SEPARATOR}deep/note.txt"].document)
    assert by_name["music.mp3"].skipped and ".mp3" in (by_name["music.mp3"].error or "")
    assert not by_name["broken.pdf"].skipped and "malformed PDF" in (by_name["broken.pdf"].error or "")


def test_zip_bomb_by_ratio_is_refused(tmp_path: Path) -> None:
    path = _zip(tmp_path / "bomb.zip", {"zeros.txt": b"0" * (8 << 20)})
    with pytest.raises(archive_module.ArchiveRefused, match=r"zip bomb: zeros.txt expands [\d,]+ times"):
        parse(path)


def test_zip_with_too_many_files_is_refused(tmp_path: Path) -> None:
    path = _zip(tmp_path / "many.zip", {f"f{i}.txt": b"x" for i in range(archive_module.MAX_MEMBERS + 1)})
    with pytest.raises(archive_module.ArchiveRefused, match="holds 1,001 files, more than the 1,000"):
        parse(path)


def test_zip_total_size_limit_counts_nested_archives(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The limit is lowered so the test stays small; the archive is real.
    monkeypatch.setattr(archive_module, "MAX_TOTAL_BYTES", 50_000)
    big = os.urandom(30_000)
    with pytest.raises(archive_module.ArchiveRefused, match="expand to .* more than the"):
        parse(_zip(tmp_path / "big.zip", {"a.txt": big, "b.txt": big}))
    inner = _zip(tmp_path / "inner.zip", {"c.txt": big}).read_bytes()
    # 45 KB declared by the outer archive passes; the nested one then finds only 20 KB left.
    doc = parse(_zip(tmp_path / "outer.zip", {"inner.zip": inner, "d.txt": b"Small text file. " * 900}))
    by_name = {c.name: c for c in doc.children}
    assert "expand to 29.3 KiB, more than" in (by_name["inner.zip"].error or "")
    assert by_name["d.txt"].document is not None


def test_zip_nesting_depth_is_limited(tmp_path: Path) -> None:
    data = _zip(tmp_path / "level.zip", {"core.txt": b"innermost text"}).read_bytes()
    for level in range(archive_module.MAX_NESTING + 1):
        data = _zip(tmp_path / f"l{level}.zip", {f"l{level}.zip": data}).read_bytes()
    doc = parse(tmp_path / f"l{archive_module.MAX_NESTING}.zip")
    errors = [c for c in doc.children if c.error]
    assert len(errors) == 1 and "nested more than 3 levels deep" in (errors[0].error or "")
    assert not any(c.document and "innermost text" in text_of(c.document) for c in doc.children)


def test_encrypted_zip_member_needs_the_password(tmp_path: Path) -> None:
    # zipfile cannot write encrypted members; this one is built with ZipCrypto by hand.
    data = _zipcrypto_archive("secret.txt", b"Encrypted member text", b"zpw")
    path = tmp_path / "locked.zip"
    path.write_bytes(data)
    assert "password required" in (parse(path).children[0].error or "")
    assert "wrong password" in (parse(path, password="nope").children[0].error or "")
    child = parse(path, password="zpw").children[0]
    assert child.document is not None and text_of(child.document) == "Encrypted member text"


def _zipcrypto_archive(name: str, plain: bytes, password: bytes) -> bytes:
    """A ZIP with one stored member encrypted with traditional PKWARE encryption (ZipCrypto)."""
    import binascii
    import struct

    crc = binascii.crc32(plain) & 0xFFFFFFFF
    keys = [0x12345678, 0x23456789, 0x34567890]

    def crc_byte(c: int, b: int) -> int:
        return (binascii.crc32(bytes([b]), c ^ 0xFFFFFFFF) ^ 0xFFFFFFFF) & 0xFFFFFFFF

    def update(b: int) -> None:
        keys[0] = crc_byte(keys[0], b)
        keys[1] = ((keys[1] + (keys[0] & 0xFF)) * 134775813 + 1) & 0xFFFFFFFF
        keys[2] = crc_byte(keys[2], keys[1] >> 24)

    def encrypt(data: bytes) -> bytes:
        out = bytearray()
        for b in data:
            k = keys[2] | 2
            out.append(b ^ (((k * (k ^ 1)) >> 8) & 0xFF))
            update(b)
        return bytes(out)

    for b in password:
        update(b)
    header = bytes(11) + bytes([crc >> 24])
    body = encrypt(header + plain)
    raw = name.encode()
    local = struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 1, 0, 0, 0, crc, len(body), len(plain), len(raw), 0) + raw
    central = struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 1, 0, 0, 0, crc, len(body), len(plain),
                          len(raw), 0, 0, 0, 0, 0, 0) + raw
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, 1, 1, len(central), len(local) + len(body), 0)
    return local + body + central + end


@needs_data
def test_real_zip_sample() -> None:
    doc = parse(MARKITDOWN / "test_files.zip")
    names = {c.name: c for c in doc.children}
    assert set(names) == {"test.docx", "test.jpg", "test.pptx", "test.xlsx", "test_blog.html", "test_serp.html",
                          "test_wikipedia.html"}
    assert all(c.document is not None for c in doc.children)


# --- ingestion: attachments and members as linked documents, passwords ---------------------------


def test_attachments_are_stored_as_linked_documents_and_removed_with_the_mail(engine: Engine, tmp_path: Path) -> None:
    report = docmaker.pdf_bytes([["Lab report"], ["Potassium 5.9 mmol/L on page two"]])
    mail = docmaker.make_eml_with_attachments(
        tmp_path / "results.eml", "Lab results", "See the attached report.",
        [("report.pdf", report), ("report.pdf", docmaker.pdf_bytes([["Second file, same name"]])),
         ("tune.mp3", b"ID3")],
    )
    service = engine.ingest_service()
    outcomes = service.ingest([mail])
    by_path = {str(o.path): o for o in outcomes}
    child = f"{mail}{NESTED_SEPARATOR}report.pdf"
    assert by_path[str(mail)].status == "ingested"
    assert by_path[child].status == "ingested" and by_path[child].pages == 2
    assert by_path[f"{child} (2)"].status == "ingested"
    assert by_path[f"{mail}{NESTED_SEPARATOR}tune.mp3"].status == "skipped"
    docs = {d.path: d for d in engine.library.all()}
    assert set(docs) == {str(mail), child, f"{child} (2)"}
    hits = engine.search_service().search("potassium level", k=3)
    assert hits[0].path == child and hits[0].page == 2
    # Unchanged mail: nothing re-read. Then removing the mail removes its attachments.
    assert {o.status for o in service.ingest([mail])} == {"unchanged"}
    assert service.remove(mail)
    assert engine.library.all() == []
    assert engine.search_service().search("potassium level", k=3) == []


def test_a_member_dropped_from_a_changed_archive_is_removed(engine: Engine, tmp_path: Path) -> None:
    path = _zip(tmp_path / "notes.zip", {"a.txt": b"Alpha note about dialysis", "b.txt": b"Beta note about triage"})
    service = engine.ingest_service()
    service.ingest([path])
    assert len(engine.library.all("ready")) == 3
    _zip(path, {"a.txt": b"Alpha note about dialysis, revised"})
    service.ingest([path])
    assert sorted(d.path for d in engine.library.all()) == [str(path), f"{path}{NESTED_SEPARATOR}a.txt"]


def test_password_callback_is_asked_in_this_process_and_retried(engine: Engine, tmp_path: Path) -> None:
    locked = docmaker.encrypt_office(docmaker.make_docx(tmp_path / "p.docx", ["Rota for May"]), tmp_path / "rota.docx",
                                     "right")
    other = docmaker.make_text(tmp_path / "other.txt", "An ordinary file")
    asked: list[tuple[Path, int]] = []
    answers = iter(["wrong", "right"])

    def password_for(path: Path) -> str | None:
        asked.append((path, os.getpid()))
        return next(answers)

    outcomes = engine.ingest_service().ingest([locked, other], password_for=password_for)
    assert [(o.path.name, o.status) for o in outcomes] == [("rota.docx", "ingested"), ("other.txt", "ingested")]
    assert asked == [(locked, os.getpid()), (locked, os.getpid())]
    # No answer (None) means skip: the file fails with "password required", the batch goes on.
    locked2 = docmaker.encrypt_office(docmaker.make_docx(tmp_path / "q.docx", ["x"]), tmp_path / "q2.docx", "pw")
    outcome = engine.ingest_service().ingest([locked2], password_for=lambda p: None)[0]
    assert outcome.status == "failed" and "password required" in (outcome.reason or "")


def test_cli_never_waits_for_a_password_without_a_terminal_and_takes_password_flag(home: Path, tmp_path: Path) -> None:
    locked = docmaker.encrypt_office(docmaker.make_docx(tmp_path / "p.docx", ["Audit findings"]), tmp_path / "a.docx",
                                     "pw")
    ok = docmaker.make_text(tmp_path / "ok.txt", "Plain file")
    result = sanctum("ingest", str(locked), str(ok))  # in-process: stdin is no terminal here either
    assert result.returncode == 1, result.stderr
    assert f"failed     {locked}: password required" in result.stdout
    assert f"ingested   {ok}" in result.stdout
    result = sanctum("ingest", "--password", "nope", str(locked))
    assert "wrong password" in result.stdout
    result = sanctum("ingest", "--password", "pw", str(locked))
    assert result.returncode == 0 and f"ingested   {locked}" in result.stdout


def test_cli_prompts_on_a_terminal(home: Path, tmp_path: Path) -> None:
    import pty

    locked = docmaker.encrypt_office(docmaker.make_docx(tmp_path / "p.docx", ["Audit findings"]), tmp_path / "a.docx",
                                     "pw")
    exe = Path(sys.executable).with_name("sanctum")
    pid, fd = pty.fork()
    if pid == 0:  # the child: sanctum on a terminal
        os.execv(str(exe), [str(exe), "ingest", str(locked)])
    output = b""
    answered = False
    while True:
        try:
            chunk = os.read(fd, 1024)
        except OSError:
            break
        if not chunk:
            break
        output += chunk
        if not answered and b"Password for a.docx" in output:
            os.write(fd, b"pw\n")
            answered = True
    _, status = os.waitpid(pid, 0)
    assert answered, output.decode(errors="replace")
    assert os.waitstatus_to_exitcode(status) == 0, output.decode(errors="replace")
    assert b"ingested" in output


def test_parse_worker_result_with_children_crosses_the_process_boundary(tmp_path: Path) -> None:
    from app.core.ingest.parse_pool import ParserPool

    path = _zip(tmp_path / "a.zip", {"x.txt": b"Crossing the boundary"})
    pool = ParserPool(timeout_s=60)
    try:
        doc = pool.result(pool.submit(path))
    finally:
        pool.close()
    assert doc.children[0].document is not None and "boundary" in text_of(doc.children[0].document)
