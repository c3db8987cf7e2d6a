"""Every one of the 145 real, partly hostile files in ../shared/data/ingestion, ingested as one
batch, against the outcome written down for it here.

A file is either ingested — with a phrase that must be found in its stored chunks, its page count
where the format has pages, and the documents stored from inside it (attachments, archive
members) — or refused with a reason that contains the words given. Nothing may crash or hang the
batch. Run with -s to see the timing.
"""

from __future__ import annotations

import csv
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from app.core.engine import Engine
from app.core.ingest.parsers import NESTED_SEPARATOR
from tests.conftest import SHARED_DATA

INGESTION = SHARED_DATA / "ingestion"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.timeout(2400),  # ~6 min on an idle 2-core machine; room for a loaded one
    pytest.mark.skipif(not INGESTION.is_dir(), reason=f"real files not found at {INGESTION} (../shared beside the checkout)"),
]


@dataclass(frozen=True)
class Expected:
    status: str
    words: str
    pages: int | None = None
    children: dict[str, str] = field(default_factory=dict)


def ok(phrase: str, *, pages: int | None, children: dict[str, str] | None = None) -> Expected:
    """Ingested; ``phrase`` is in its text; ``children`` maps a name inside it to its status."""
    return Expected("ingested", phrase, pages, children or {})


def failed(words: str) -> Expected:
    """Refused; the reason contains ``words``."""
    return Expected("failed", words)


_PREFIXES = {"U/": "unstructured/example-docs/", "M/": "markitdown/packages/markitdown/tests/test_files/"}

# Scans (loremipsum-flat, MEDRPT) are read by OCR; the phrases of OCR'd files are words Tesseract
# reads reliably. "ok" children of a container are stored as documents of their own.
EXPECTED: dict[str, Expected] = {
    'U/pdf/DA-619p.pdf': ok('Letter from the Blackstone', pages=619),
    'U/pdf/password.pdf': failed('password required: this PDF is encrypted'),
    'U/pdf/copy-protected.pdf': ok('and sophisticated model', pages=2),
    'U/pdf/loremipsum-flat.pdf': ok('Pellentesque eleifend facilisis', pages=1),
    'U/pdf/pdf-with-ocr-text.pdf': ok('accepting esffiteersftip and', pages=1),
    'U/pdf/failure-after-repair.pdf': ok('Understanding Breast Cancer is', pages=76),
    'U/pdf/invalid-pdf-structure-pdfminer-one-page.pdf': ok('Partially addressed Partially', pages=2),
    'U/pdf/pdf-bad-color-space.pdf': ok('due to the electricity needs of our', pages=1),
    'U/pdf/multi-column.pdf': ok('retrieval can be practically', pages=13),
    'U/pdf/korean-text-with-tables.pdf': ok('적립한도 없이 할인점·주유·온라인쇼핑몰 1.5% 빅포인트 적립', pages=1),
    'U/pdf/layout-parser-paper-with-empty-pages.pdf': ok('and sophisticated model', pages=4),
    'U/pdf/layout-parser-paper-with-table.pdf': ok('document structures and layouts vary', pages=1),
    'U/pdf/embedded-cmap-cidfont.pdf': ok('This text uses an embedded CMap', pages=1),
    'U/rotated-page-90.pdf': ok('Second line of text here', pages=1),
    'U/pdf/negative-coords.pdf': ok('Introduction Climate Change', pages=1),
    'U/pdf/reliance.pdf': ok('down by the International Integrated', pages=3),
    'U/pdf/interface-config-guide-p93.pdf': ok('show datapath command shows the MAC', pages=1),
    'U/pdf/fake-memo-with-duplicate-page.pdf': ok('There were 20,000 bottles of water,', pages=2),
    'U/language-docs/fr_olap.pdf': ok('qui intéressera un administrateur', pages=12),
    'U/handbook-872p.docx': ok('Many administrative functions', pages=None),
    'U/docx-tables.docx': ok('Lorem ipsum | A link example', pages=None),
    'U/docx-hdrftr.docx': ok('cell1 | a b | c I should not be', pages=None),
    'U/contains-pictures.docx': ok('Some paragraph text that runs', pages=None),
    'U/tables-with-incomplete-rows.docx': ok('Example of DOCX table where one or', pages=None),
    'U/grid_offset_error.docx': ok('A | Merged B1-B3', pages=None),
    'U/page-breaks.docx': ok('Then text gets big again so a', pages=None),
    'U/docx-shapes.docx': ok('Paragraph with floating shape', pages=None),
    'U/teams_chat.docx': ok('saved-by | Dennis Forsythe', pages=None),
    'U/fake_table.docx': ok('Lorem ipsum | A Link example', pages=None),
    'U/fake.doc': failed('.doc (Word 97-2003) is not supported: op'),
    'U/fake.odt': ok('Lorem ipsum dolor sit amet.', pages=None),
    'U/fake-doc.rtf': ok('Row 1, Cell 1 | Row 1, Cell 2', pages=None),
    'U/2023-half-year-analyses-by-segment.xlsx': ok('Impairment of goodwill and', pages=5),
    'U/vodafone.xlsx': ok('| Fixed broadband customers | Nine', pages=1),
    'U/more-than-1k-cells.xlsx': ok('x | x | x | x', pages=1),
    'U/xlsx-subtable-cases.xlsx': ok('c | d |  | e', pages=1),
    'U/password_protected.xlsx': failed('password required: this Excel workbook i'),
    'U/emoji.xlsx': ok('🤠😅', pages=1),
    'U/empty.xlsx': failed('no text: every sheet of this workbook is'),
    'U/tests-example.xls': ok('This is an example and template for', pages=3),
    'U/science-exploration-1p.pptx': ok('Code 700: Information Technology and', pages=1),
    'U/fake-power-point-malformed.pptx': ok('Problem Date Placeholder', pages=1),
    'U/fake-power-point-many-pages.pptx': ok('Page 1', pages=2),
    'U/fake-power-point-table.pptx': ok('Column 1 | Column 2 | Column 3', pages=1),
    'U/sample-presentation.pptx': ok('And a list of bulleted information', pages=4),
    'U/group-shapes-nested.pptx': ok('A I J B D', pages=1),
    'U/fake-power-point.ppt': failed('.ppt (PowerPoint 97-2003) is not support'),
    'U/example-10k.html': ok('Consolidated Statements of', pages=None),
    'U/example-10k-1p.html': ok('(State or other jurisdiction of', pages=None),
    'U/example-steelJIS-datasheet.html': ok('Classification: | Structural steel', pages=None),
    'U/example-steelJIS-datasheet-utf-16.html': ok('Classification: | Structural steel', pages=None),
    'U/fake-html-cp1252.html': ok('Die schöne Frau hat einen Kaffee mit', pages=None),
    'U/example-with-scripts.html': ok('Russian forces conducted limited', pages=None),
    'U/fake-html-pre.htm': ok('certain recordkeeping requirements,', pages=None),
    'U/ideas-page.html': ok('January 2023 (Someone fed my essays', pages=None),
    'U/eml/email-equals-attachment-filename.eml': ok('Below is an example of an odd', pages=None, children={'odd=file=name.txt': 'ok'}),
    'U/eml/email-inline-content-disposition.eml': ok('From: Test User', pages=None, children={'t.txt': 'ok'}),
    'U/eml/email-no-html-content-1.eml': ok('https://github.com/nf-core/spatialtr', pages=None),
    'U/eml/email-no-utf8-2008-07-16.062410.eml': ok('הרגשה שהייתי מוכן ונרגשתי שעשתי טוב', pages=None),
    'U/eml/email-no-utf8-2014-03-17.111517.eml': ok('https://accounts.google.com/AccountD', pages=None, children={'google.png': 'ok', 'profilephoto.png': 'skipped'}),
    'U/eml/email-replace-mime-encodings-error-1.eml': ok('Subject: Someone has joined your', pages=None),
    'U/eml/email-replace-mime-encodings-error-2.eml': ok('You can send Pre-Show Invitation', pages=None),
    'U/eml/email-replace-mime-encodings-error-3.eml': ok('<https://email.awscloud.com/MTEyLVRa', pages=None),
    'U/eml/email-replace-mime-encodings-error-4.eml': ok('We are protecting clients products', pages=None),
    'U/eml/email-replace-mime-encodings-error-5.eml': ok('industries such as Biotechnology,', pages=None),
    'U/eml/email-with-image.eml': ok('The unstructured logo is attached to', pages=None, children={'unstructured_logo.png': 'skipped'}),
    'U/eml/empty.eml': failed('empty e-mail: the file holds no message'),
    'U/eml/fake-email-attachment.eml': ok('From: Mallori Harrell', pages=None, children={'fake-attachment.txt': 'ok'}),
    'U/eml/fake-email-b64.eml': ok('From: Matthew Robinson', pages=None),
    'U/eml/fake-email-header.eml': ok('Cc: Fake Email', pages=None),
    'U/eml/fake-email-image-embedded.eml': ok('hello[image: unstructured_logo.png]', pages=None, children={'unstructured_logo.png': 'skipped'}),
    'U/eml/fake-email-malformed-encoding.eml': ok('From: Matthew Robinson', pages=None),
    'U/eml/fake-email-utf-16-be.eml': ok('From: Matthew Robinson', pages=None),
    'U/eml/fake-email-utf-16-le.eml': ok('From: Matthew Robinson', pages=None),
    'U/eml/fake-email-utf-16.eml': ok('From: Matthew Robinson', pages=None),
    'U/eml/fake-email.eml': ok('From: Matthew Robinson', pages=None),
    'U/eml/fake-email.txt': ok('Message-ID:', pages=None),
    'U/eml/fake-encrypted.eml': failed('encrypted e-mail (OpenPGP): the body is '),
    'U/eml/family-day.eml': ok('There will be face painting, a', pages=None),
    'U/eml/mime-attach-mp3.eml': ok('This is an email with an MP3', pages=None, children={'sample-3s.mp3': 'skipped'}),
    'U/eml/mime-different-plain-html.eml': ok('Another interesting fact is that the', pages=None),
    'U/eml/mime-html-only.eml': ok('Gmail was launched by Google in 2004', pages=None),
    'U/eml/mime-multi-to-cc-bcc.eml': ok('Cc: Tom <tom@example.com>, Alice', pages=None),
    'U/eml/mime-multipart-digest.eml': ok('Subject: Example Multipart Digest', pages=None),
    'U/eml/mime-no-body.eml': ok('Date: Tue, 01 Oct 2024 12:34:56', pages=None, children={'image.jpg': 'failed'}),
    'U/eml/mime-no-subject.eml': ok('This is a simple email message', pages=None),
    'U/eml/mime-no-to.eml': ok('Cc: Tom <tom@example.com>, Alice', pages=None),
    'U/eml/mime-simple.eml': ok('Subject: Example', pages=None),
    'U/eml/mime-word-encoded-subject.eml': ok('This is a simple email message with', pages=None),
    'U/eml/rfc822-no-date.eml': ok('This is an example email message', pages=None),
    'U/eml/signed-doc.p7s': ok('Attachments: smime.p7s', pages=None, children={'smime.p7s': 'skipped'}),
    'U/eml/simple-rfc-822.eml': ok('The structure ensures compatibility', pages=None),
    'U/eml/test-invalid-date.eml': ok('This is a test-email with an invalid', pages=None),
    'U/eml/test-iso-8601-date.eml': ok('Date: 2025-07-29T12:42:06.000Z', pages=None),
    'U/eml/test-rfc2822-date.eml': ok('Subject: Test a standard RFC-2822', pages=None),
    'U/fake-email.msg': ok('From: "Matthew Robinson"', pages=None),
    'U/fake-encrypted.msg': failed('encrypted e-mail (OpenPGP): the body is '),
    'U/fake-email-attachment.msg': ok('From: "Mallori Harrell"', pages=None, children={'fake-attachment.txt': 'ok'}),
    'U/csv-with-long-lines.csv': ok('SpearmanCorrelationCoefficient |', pages=None),
    'U/csv-with-escaped-commas.csv': ok('A | A | A | A,A | A', pages=None),
    'U/semicolon-delimited.csv': ok('sed, do | eiusmod | tempor', pages=None),
    'U/stanley-cups-utf-16.csv': ok('Team | Location | Stanley Cups', pages=None),
    'U/stanley-cups-with-emoji.csv': ok('Team | Location | Stanley Cups', pages=None),
    'U/stanley-cups.tsv': ok('Team | Location | Stanley Cups', pages=None),
    'U/table-multi-row-column-cells-actual.csv': ok('Disability Category | Participants |', pages=None),
    'U/codeblock.md': ok('<meta name="viewport"', pages=None),
    'U/simple-table.md': ok('Juicy Apples | 1.99 | 739', pages=None),
    'U/umlauts-non-utf8.md': ok('## können', pages=None),
    'U/umlauts-utf8.md': ok('## können', pages=None),
    'U/README.rst': ok('addition, here are instructions for', pages=None),
    'U/README.org': ok('addition, here are instructions for', pages=None),
    'U/norwich-city.txt': ok('Although Roberts was personally', pages=None),
    'U/fake-text-utf-16-be.txt': ok('This is a test document to use for', pages=None),
    'U/fake-text-utf-32.txt': ok('This is a test document to use for', pages=None),
    'U/empty.txt': failed('empty file: it is 0 bytes'),
    'U/fake-text-all-whitespace.txt': failed('empty file: it holds no text'),
    'U/winter-sports.epub': ok('Now the National Skating Association', pages=None),
    'M/MEDRPT-2024-PAT-3847_medical_report_scan.pdf': ok('Reviewed warning signs requiring', pages=3),
    'M/REPAIR-2022-INV-001_multipage.pdf': ok('after the vehicle has been', pages=3),
    'M/SPARSE-2024-INV-1234_borderless_table.pdf': ok('The inventory reconciliation reveals', pages=2),
    'M/RECEIPT-2024-TXN-98765_retail_purchase.pdf': ok('Electronics must be unopened', pages=1),
    'M/movie-theater-booking-2024.pdf': ok('Representative Territory Region', pages=1),
    'M/expected_outputs/MEDRPT-2024-PAT-3847_medical_report_scan.md': failed('empty file: it is 0 bytes'),
    'M/expected_outputs/RECEIPT-2024-TXN-98765_retail_purchase.md': ok('Electronics must be unopened', pages=None),
    'M/expected_outputs/REPAIR-2022-INV-001_multipage.md': ok('after the vehicle has been', pages=None),
    'M/expected_outputs/SPARSE-2024-INV-1234_borderless_table.md': ok('The inventory reconciliation reveals', pages=None),
    'M/expected_outputs/movie-theater-booking-2024.md': ok('Representative Territory Region', pages=None),
    'M/expected_outputs/test.md': ok('conversations between differently', pages=None),
    'M/test.pdf': ok('conversations between differently', pages=1),
    'M/test.docx': ok('AutoGen is an open-source framework', pages=None),
    'M/test_with_comment.docx': ok('AutoGen is an open-source framework', pages=None),
    'M/equations.docx': ok('The angle is', pages=None),
    'M/test.xlsx': ok('13 | 14 | 15 |', pages=2),
    'M/test.xls': ok('13 | 14 | 15 |', pages=2),
    'M/test.pptx': ok('AutoGen is an open-source framework', pages=6),
    'M/test_blog.html': ok('AutoGen Studio: Interactively', pages=None),
    'M/test_wikipedia.html': ok('Microsoft Corporation is an American', pages=None),
    'M/test.epub': ok('This is a test paragraph with some', pages=None),
    'M/test_outlook_msg.msg': ok('From: M. C. Kurtuluş', pages=None),
    'M/test_mskanji.csv': ok('佐藤太郎 | 30 | 東京', pages=None),
    'M/test.json': ok('"uuid_value":', pages=None),
    'M/test_notebook.ipynb': ok('print("markitdown")', pages=None),
    'M/test_rss.xml': ok('Intelligent power management company', pages=None),
    'M/random.bin': failed('unsupported format: .bin files are not s'),
    'M/test_files.zip': ok('ZIP archive test_files.zip: 7 files', pages=None, children={'test.docx': 'ok', 'test.jpg': 'ok', 'test.pptx': 'ok', 'test.xlsx': 'ok', 'test_blog.html': 'ok', 'test_serp.html': 'ok', 'test_wikipedia.html': 'ok'}),
}


def _manifest() -> list[str]:
    with (INGESTION / "MANIFEST.tsv").open(encoding="utf-8") as fh:
        return [row["path"] for row in csv.DictReader(fh, delimiter="\t")]


def _full(name: str) -> str:
    for short, long in _PREFIXES.items():
        if name.startswith(short):
            return long + name[len(short):]
    return name


def test_the_table_covers_every_file() -> None:
    assert sorted(_full(n) for n in EXPECTED) == sorted(_manifest())


def test_every_real_file_ends_as_written_down(engine: Engine) -> None:
    files = [INGESTION / name for name in _manifest()]
    assert len(files) == 145
    started = time.perf_counter()
    outcomes = engine.ingest_service().ingest(files)
    elapsed = time.perf_counter() - started
    by_path = {str(o.path): o for o in outcomes}
    top = {str(f.resolve()) for f in files}
    assert top <= set(by_path), "every file gets an outcome"

    problems = []
    for name, want in EXPECTED.items():
        path = str((INGESTION / _full(name)).resolve())
        got = by_path[path]
        if got.status != want.status:
            problems.append(f"{name}: {got.status} ({got.reason}), expected {want.status}")
            continue
        if want.status == "failed":
            if want.words not in (got.reason or ""):
                problems.append(f"{name}: reason {got.reason!r} lacks {want.words!r}")
            continue
        if got.pages != want.pages:
            problems.append(f"{name}: {got.pages} pages, expected {want.pages}")
        problems.extend(_text_problems(engine, name, path, want.words))
        for child, status in want.children.items():
            child_outcome = by_path.get(f"{path}{NESTED_SEPARATOR}{child}")
            if child_outcome is None or child_outcome.status != {"ok": "ingested"}.get(status, status):
                problems.append(f"{name} › {child}: {child_outcome}, expected {status}")
        extra = {p for p in by_path if p.startswith(path + NESTED_SEPARATOR)} - {
            f"{path}{NESTED_SEPARATOR}{c}" for c in want.children
        }
        if extra:
            problems.append(f"{name}: unexpected documents inside it: {sorted(extra)}")
    assert not problems, "\n".join(problems)

    ingested = [o for o in outcomes if o.status == "ingested"]
    print(f"\n{len(ingested)} ingested (attachments and members included), "
          f"{sum(o.status == 'failed' for o in outcomes)} refused, {elapsed:.0f} s, "
          f"{sum(o.chunks for o in ingested)} chunks")
    # The library agrees with the outcomes, and the encrypted PDF's text is nowhere.
    assert len(engine.library.all("ready")) == len(ingested)
    hits = engine.search_service().search("File with password", k=3)
    assert all("password.pdf" not in h.path for h in hits)


def _text_problems(engine: Engine, name: str, path: str, phrase: str) -> list[str]:
    doc = engine.library.get(Path(path))
    if doc is None:
        return [f"{name}: not in the library"]
    chunks = [" ".join(text.split()) for text in engine.store.document_texts(doc.doc_id)]
    wanted = " ".join(phrase.split())
    if any(wanted in chunk for chunk in chunks) or wanted in " ".join(chunks):
        return []
    return [f"{name}: {phrase!r} not found in its {len(chunks)} chunks"]
