"""Write the documents of the clinic/bank answer development set (see README.md).

    python resources/bench/clinic/make_docs.py resources/bench/clinic/docs

Everything is fictional: the hospital, the bank, the people, the numbers and the doses. The
output is deterministic (fixed dates in the packages, fixed zip timestamps), so regenerating
gives the same bytes for the same library versions.

Only python-docx, openpyxl, python-pptx and fpdf2 (Sanctum's own dependencies) and the standard
library are used; nothing is imported from the app or the tests.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import sys
import zipfile
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path
from xml.sax.saxutils import escape

HOSPITAL = "Hollin Bridge General Hospital"
BANK = "Calder Mutual Bank"
FIXED_TIME = dt.datetime(2025, 3, 1, 9, 0, 0, tzinfo=dt.UTC)
_ZIP_TIME = (2025, 3, 1, 9, 0, 0)


# --- helpers ----------------------------------------------------------------------------------


def _fix_zip(path: Path) -> None:
    """Rewrite an Office/ODF package with fixed entry times and fixed core-property dates."""
    with zipfile.ZipFile(path) as package:
        entries = [(info.filename, package.read(info.filename)) for info in package.infolist()]
    stamp = FIXED_TIME.strftime("%Y-%m-%dT%H:%M:%SZ").encode()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as package:
        for name, data in entries:
            if name == "docProps/core.xml":
                data = re.sub(
                    rb"(<dcterms:(created|modified)[^>]*>)[^<]*(</dcterms:\2>)",
                    lambda m: m.group(1) + stamp + m.group(3),
                    data,
                )
            info = zipfile.ZipInfo(name, date_time=_ZIP_TIME)
            info.compress_type = zipfile.ZIP_STORED if name == "mimetype" else zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            package.writestr(info, data)
    path.write_bytes(buffer.getvalue())


def _pdf(path: Path, title: str, org: str, pages: list[list[tuple[str, object]]]) -> None:
    """A text PDF, one entry of ``pages`` per page, never reflowed onto another page.

    Blocks: ("h", heading), ("p", paragraph), ("table", rows with the header row first).
    """
    from fpdf import FPDF

    class _Doc(FPDF):
        def header(self) -> None:
            self.set_font("Helvetica", "I", 8)
            self.cell(0, 5, f"{org} - {title}", new_x="LMARGIN", new_y="NEXT")
            self.ln(4)

        def footer(self) -> None:
            self.set_y(-15)
            self.set_font("Helvetica", "I", 8)
            self.cell(0, 10, f"Page {self.page_no()} of {{nb}}", align="C")

    pdf = _Doc(format="A4")
    pdf.set_creation_date(FIXED_TIME)
    pdf.set_title(title)
    pdf.set_author(org)
    pdf.set_auto_page_break(False)
    pdf.set_margins(20, 15, 20)
    for blocks in pages:
        pdf.add_page()
        for kind, content in blocks:
            if kind == "h":
                pdf.ln(2)
                pdf.set_font("Helvetica", "B", 12)
                pdf.multi_cell(0, 6, str(content), new_x="LMARGIN", new_y="NEXT")
                pdf.ln(1)
            elif kind == "p":
                pdf.set_font("Helvetica", "", 10)
                pdf.multi_cell(0, 5, str(content), new_x="LMARGIN", new_y="NEXT")
                pdf.ln(2)
            elif kind == "table":
                pdf.set_font("Helvetica", "", 9)
                with pdf.table(text_align="LEFT", line_height=5) as table:
                    for row in content:  # type: ignore[union-attr]
                        cells = table.row()
                        for value in row:
                            cells.cell(str(value))
                pdf.ln(3)
            else:
                raise ValueError(kind)
        if pdf.get_y() > 297 - 20:
            raise ValueError(f"{path.name}: page {pdf.page_no()} overflows")
    pdf.output(str(path))


def _docx(path: Path, title: str, blocks: list[tuple[str, object]]) -> None:
    import docx

    document = docx.Document()
    document.core_properties.title = title
    document.core_properties.author = "Sanctum bench"
    document.core_properties.revision = 1
    for kind, content in blocks:
        if kind == "title":
            document.add_heading(str(content), level=0)
        elif kind == "h":
            document.add_heading(str(content), level=1)
        elif kind == "p":
            document.add_paragraph(str(content))
        elif kind == "bullet":
            document.add_paragraph(str(content), style="List Bullet")
        elif kind == "table":
            rows = content  # type: ignore[assignment]
            table = document.add_table(rows=len(rows), cols=len(rows[0]))
            table.style = "Table Grid"
            for r, row in enumerate(rows):
                for c, value in enumerate(row):
                    table.cell(r, c).text = str(value)
                    if r == 0:
                        for run in table.cell(r, c).paragraphs[0].runs:
                            run.bold = True
        else:
            raise ValueError(kind)
    document.save(path)
    _fix_zip(path)


def _xlsx(path: Path, title: str, sheets: list[tuple[str, list[list[object]]]]) -> None:
    import openpyxl
    from openpyxl.styles import Font

    workbook = openpyxl.Workbook()
    workbook.remove(workbook.active)
    workbook.properties.title = title
    workbook.properties.creator = "Sanctum bench"
    workbook.properties.created = FIXED_TIME.replace(tzinfo=None)
    workbook.properties.modified = FIXED_TIME.replace(tzinfo=None)
    for name, rows in sheets:
        sheet = workbook.create_sheet(name)
        for row in rows:
            sheet.append(row)
        for row in sheet.iter_rows():
            for cell in row:
                if isinstance(cell.value, str) and row[0].row <= 3 and cell.column == 1:
                    cell.font = Font(bold=True)
        for column in sheet.columns:
            width = max(len(str(c.value)) if c.value is not None else 0 for c in column)
            sheet.column_dimensions[column[0].column_letter].width = min(max(10, width + 2), 60)
    workbook.save(path)
    _fix_zip(path)


def _pptx(path: Path, title: str, slides: list[dict[str, object]]) -> None:
    from pptx import Presentation
    from pptx.util import Inches, Pt

    presentation = Presentation()
    presentation.core_properties.title = title
    presentation.core_properties.author = "Sanctum bench"
    presentation.core_properties.revision = 1
    for spec in slides:
        if "subtitle" in spec:
            slide = presentation.slides.add_slide(presentation.slide_layouts[0])
            slide.shapes.title.text = str(spec["title"])
            slide.placeholders[1].text = str(spec["subtitle"])
        elif "table" in spec:
            slide = presentation.slides.add_slide(presentation.slide_layouts[5])
            slide.shapes.title.text = str(spec["title"])
            rows = spec["table"]
            shape = slide.shapes.add_table(len(rows), len(rows[0]), Inches(0.5), Inches(1.6), Inches(9), Inches(0.4) * len(rows))  # type: ignore[arg-type]
            for r, row in enumerate(rows):  # type: ignore[union-attr]
                for c, value in enumerate(row):
                    cell = shape.table.cell(r, c)
                    cell.text = str(value)
                    cell.text_frame.paragraphs[0].runs[0].font.size = Pt(14)
            if "caption" in spec:
                box = slide.shapes.add_textbox(Inches(0.5), Inches(1.6) + Inches(0.4) * len(rows) + Inches(0.3), Inches(9), Inches(1))  # type: ignore[arg-type]
                box.text_frame.text = str(spec["caption"])
                box.text_frame.word_wrap = True
        else:
            slide = presentation.slides.add_slide(presentation.slide_layouts[1])
            slide.shapes.title.text = str(spec["title"])
            body = slide.placeholders[1].text_frame
            bullets = list(spec["bullets"])  # type: ignore[call-overload]
            body.text = bullets[0]
            for bullet in bullets[1:]:
                body.add_paragraph().text = bullet
        if "notes" in spec:
            slide.notes_slide.notes_text_frame.text = str(spec["notes"])
    presentation.save(path)
    _fix_zip(path)


def _eml(path: Path, sender: str, to: str, subject: str, body: str, message_id: str, when: dt.datetime) -> None:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = format_datetime(when)
    message["Message-ID"] = message_id
    message.set_content(body)
    path.write_bytes(bytes(message))


def _html(path: Path, title: str, body: str) -> None:
    page = (
        "<!DOCTYPE html>\n<html lang=\"en-GB\">\n<head>\n<meta charset=\"utf-8\">\n"
        f"<title>{escape(title)}</title>\n"
        "<style>body{font-family:sans-serif;max-width:60em;margin:auto} table{border-collapse:collapse}"
        " td,th{border:1px solid #999;padding:4px 8px;text-align:left}</style>\n"
        "<script>window.analyticsDisabled = true;</script>\n</head>\n<body>\n"
        f"{body.strip()}\n</body>\n</html>\n"
    )
    path.write_text(page, encoding="utf-8", newline="\n")


def _html_table(rows: list[list[str]]) -> str:
    head = "".join(f"<th>{escape(c)}</th>" for c in rows[0])
    body = "\n".join("<tr>" + "".join(f"<td>{escape(c)}</td>" for c in row) + "</tr>" for row in rows[1:])
    return f"<table>\n<thead><tr>{head}</tr></thead>\n<tbody>\n{body}\n</tbody>\n</table>"


_ODF_NS = (
    'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
    'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" '
    'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
    'xmlns:dc="http://purl.org/dc/elements/1.1/" '
    'xmlns:meta="urn:oasis:names:tc:opendocument:xmlns:meta:1.0" office:version="1.3"'
)


def _odt(path: Path, title: str, blocks: list[tuple[str, object]]) -> None:
    """A minimal OpenDocument text file (headings, paragraphs, one table)."""
    parts = []
    for kind, content in blocks:
        if kind == "h":
            parts.append(f'<text:h text:outline-level="1">{escape(str(content))}</text:h>')
        elif kind == "p":
            parts.append(f"<text:p>{escape(str(content))}</text:p>")
        elif kind == "table":
            rows = content  # type: ignore[assignment]
            xml = [f'<table:table table:name="Table1"><table:table-column table:number-columns-repeated="{len(rows[0])}"/>']
            for row in rows:
                cells = "".join(
                    f'<table:table-cell office:value-type="string"><text:p>{escape(str(v))}</text:p></table:table-cell>'
                    for v in row
                )
                xml.append(f"<table:table-row>{cells}</table:table-row>")
            xml.append("</table:table>")
            parts.append("".join(xml))
        else:
            raise ValueError(kind)
    content = (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<office:document-content {_ODF_NS}><office:body><office:text>'
        + "\n".join(parts)
        + "</office:text></office:body></office:document-content>"
    )
    meta = (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<office:document-meta {_ODF_NS}><office:meta>'
        f"<dc:title>{escape(title)}</dc:title></office:meta></office:document-meta>"
    )
    manifest = (
        '<?xml version="1.0" encoding="UTF-8"?>\n<manifest:manifest '
        'xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.3">'
        '<manifest:file-entry manifest:full-path="/" manifest:media-type="application/vnd.oasis.opendocument.text"/>'
        '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
        '<manifest:file-entry manifest:full-path="meta.xml" manifest:media-type="text/xml"/>'
        "</manifest:manifest>"
    )
    with zipfile.ZipFile(path, "w") as package:
        for name, data in (
            ("mimetype", "application/vnd.oasis.opendocument.text"),
            ("content.xml", content),
            ("meta.xml", meta),
            ("META-INF/manifest.xml", manifest),
        ):
            info = zipfile.ZipInfo(name, date_time=_ZIP_TIME)
            info.compress_type = zipfile.ZIP_STORED if name == "mimetype" else zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            package.writestr(info, data)


# --- hospital ---------------------------------------------------------------------------------


def formulary_minutes(out: Path) -> None:
    title = "Drugs and Therapeutics (Formulary) Committee - Minutes, 14 January 2025"
    pages = [
        [
            ("h", "Drugs and Therapeutics (Formulary) Committee"),
            ("p", "Minutes of the meeting held on Tuesday 14 January 2025 at 14:00, Seminar Room 2, Education Centre, "
                  f"{HOSPITAL}."),
            ("h", "Present"),
            ("p", "Dr Miriam Osei, Consultant Physician (Chair); Ms Joanna Pryce, Chief Pharmacist; Dr Rafael Ortega, "
                  "Consultant Haematologist; Dr Fiona Lam, Consultant Microbiologist; Mr Stephen Hale, Lead Nurse for "
                  "Medicines Safety; Dr Amira Haddad, GP representative, Hollin Bridge Primary Care Network; "
                  "Ms Kerry Dunn, Formulary Pharmacist (minutes)."),
            ("h", "Apologies"),
            ("p", "Dr Neil Ferris, Consultant Cardiologist; Ms Pauline Asher, Finance Business Partner."),
            ("h", "1. Welcome"),
            ("p", "The Chair welcomed members and noted that the meeting was quorate. Dr Haddad was welcomed to her "
                  "first meeting as the primary care representative."),
            ("h", "2. Declarations of interest"),
            ("p", "No declarations relevant to the agenda were made. Members were reminded to update the register "
                  "of interests before 31 March 2025."),
        ],
        [
            ("h", "3. Minutes of the previous meeting"),
            ("p", "The minutes of the meeting held on 12 November 2024 were approved as an accurate record."),
            ("h", "4. Matters arising"),
            ("p", "4.1 Vitamin D guideline. The updated guideline was published on the intranet in December. Adult "
                  "maintenance remains colecalciferol 800 units daily; loading regimens are for confirmed "
                  "deficiency only."),
            ("p", "4.2 Supply disruption. The national shortage of glucagon-like peptide-1 agonists continues. "
                  "No new patients are to be started on liraglutide until further notice; pharmacy will circulate "
                  "an update when supply recovers."),
            ("p", "4.3 Patient group directions. Three PGDs (influenza vaccine, emergency contraception and "
                  "paracetamol for minor injuries) were re-authorised for two years."),
        ],
        [
            ("h", "5. New medicine applications"),
            ("p", "5.1 Melatonin modified-release 2 mg tablets for sleep-onset insomnia in children with "
                  "neurodevelopmental disorders. Approved as amber: initiation by a paediatric specialist, "
                  "continuation in primary care under a shared-care protocol."),
            ("p", "5.2 Tirzepatide for type 2 diabetes. Deferred pending the regional commissioning position; to be "
                  "brought back in March."),
            ("p", "5.3 Budesonide/formoterol 200/6 inhaler as maintenance and reliever therapy (MART) for asthma "
                  "from step 3. Approved; the respiratory team will update the asthma pathway."),
            ("p", "5.4 Sodium zirconium cyclosilicate for acute hyperkalaemia. Approved for use on the acute "
                  "medical unit and critical care only, restricted to potassium of 6.5 mmol/L or above."),
        ],
        [
            ("h", "6. Anticoagulation in non-valvular atrial fibrillation"),
            ("p", "Dr Ortega presented the review of the regional anticoagulant tender together with local bleeding "
                  "and adherence data for 2023-2024. Major bleeding rates were lower with apixaban than with "
                  "rivaroxaban in the local cohort, and the tender price of apixaban is now lower."),
            ("p", "Decision: apixaban replaces rivaroxaban as first-line treatment for stroke prevention in "
                  "non-valvular atrial fibrillation, with effect from 1 March 2025. The standard dose is 5 mg twice "
                  "daily. The reduced dose of 2.5 mg twice daily applies when the patient meets at least two of: "
                  "age 80 years or over, body weight 60 kg or less, serum creatinine 133 micromol/L or above."),
            ("p", "Rivaroxaban 20 mg once daily remains on the formulary for patients already stable on it and for "
                  "patients who need once-daily dosing. Edoxaban remains second line. Warfarin remains the "
                  "anticoagulant for patients with mechanical heart valves or moderate-to-severe mitral stenosis."),
            ("p", "6.2 VTE prophylaxis. Enoxaparin 40 mg once daily remains the standard adult dose. The committee "
                  "agreed the switch from the originator brand to the biosimilar brand from 3 March 2025; pharmacy "
                  "will write to all wards."),
            ("p", "Action: Ms Pryce to update the anticoagulation guideline and the electronic prescribing order "
                  "sets before 1 March 2025."),
        ],
        [
            ("h", "7. Antimicrobial guidelines"),
            ("p", "Dr Lam presented the annual update of the adult antimicrobial guidelines. Changes agreed:"),
            ("p", "Community-acquired pneumonia, CURB-65 score 0-1: amoxicillin 500 mg three times daily for 5 days. "
                  "Patients with penicillin allergy receive doxycycline 200 mg on day 1, then 100 mg once daily, "
                  "for a total of 5 days."),
            ("p", "Community-acquired pneumonia, CURB-65 score 2: amoxicillin 1 g three times daily plus "
                  "clarithromycin 500 mg twice daily for 5 days."),
            ("p", "Cellulitis: flucloxacillin 1 g four times daily; in penicillin allergy, clarithromycin 500 mg "
                  "twice daily. Review at 48 hours and switch to oral therapy as soon as criteria are met."),
            ("h", "8. Medicines safety report"),
            ("p", "Mr Hale reported that omitted and delayed doses remain the commonest medication incident on the "
                  "medical wards. A bedside prompt for time-critical medicines will be piloted on two wards."),
        ],
        [
            ("h", "9. Any other business"),
            ("p", "The committee thanked Ms Dunn, who leaves the Trust in February, for her work on the formulary "
                  "website. Her replacement will be introduced at the next meeting."),
            ("h", "10. Date of next meeting"),
            ("p", "Tuesday 11 March 2025 at 14:00, Seminar Room 2, Education Centre. Papers to the committee "
                  "secretary ten working days before."),
            ("p", "Minutes approved by the Chair: Dr Miriam Osei."),
        ],
    ]
    _pdf(out / "formulary_minutes.pdf", title, HOSPITAL, pages)


def ward_incidents(out: Path) -> None:
    header = ["Ward", "Specialty", "Falls", "Medication errors", "Pressure ulcers", "Hand hygiene compliance (%)"]
    q3 = [
        ["Ash Ward", "Respiratory", 6, 11, 2, 94],
        ["Beech Ward", "Elderly care", 19, 8, 5, 91],
        ["Cedar Ward", "Acute medicine", 9, 13, 3, 96],
        ["Elm Ward", "Orthopaedics", 7, 4, 10, 89],
        ["Rowan Ward", "Cardiology", 3, 16, 1, 97],
    ]
    q4 = [
        ["Ash Ward", "Respiratory", 8, 10, 3, 95],
        ["Beech Ward", "Elderly care", 22, 12, 4, 90],
        ["Cedar Ward", "Acute medicine", 11, 21, 6, 93],
        ["Elm Ward", "Orthopaedics", 5, 7, 14, 92],
        ["Rowan Ward", "Cardiology", 4, 15, 2, 98],
    ]

    def sheet(quarter: str, rows: list[list[object]]) -> list[list[object]]:
        totals = ["All wards", "", *(sum(r[i] for r in rows) for i in (2, 3, 4)), ""]  # type: ignore[misc]
        return [[f"Ward incident summary - {quarter}"], [f"{HOSPITAL}, Patient Safety Team"], [], header, *rows, totals]

    notes = [
        ["Notes"],
        ["Counts are incidents reported on the incident reporting system and validated by the Patient Safety Team."],
        ["Medication errors include prescribing, dispensing and administration incidents, including omitted doses."],
        ["Pressure ulcers are hospital-acquired, category 2 and above."],
        ["Hand hygiene compliance is the monthly observational audit, averaged over the quarter."],
        ["Data owner: Patient Safety Team, extension 3390."],
    ]
    _xlsx(out / "ward_incidents_2024.xlsx", "Ward incident summary Q3-Q4 2024",
          [("Q3 2024", sheet("Q3 2024 (July-September)", q3)), ("Q4 2024", sheet("Q4 2024 (October-December)", q4)),
           ("Notes", notes)])


def nurse_rota(out: Path) -> None:
    header = ["Name", "Role", "Band", "Mon 10", "Tue 11", "Wed 12", "Thu 13", "Fri 14", "Sat 15", "Sun 16",
              "Extension", "Bleep"]
    cedar = [
        ["Aoife Brennan", "Ward manager", 7, "Early", "Early", "Early", "Early", "Early", "Off", "Off", 5301, 4410],
        ["Priya Raman", "Charge nurse", 6, "Long day", "Off", "Off", "Long day", "Long day", "Off", "Night", 5371, 4471],
        ["Samuel Okoro", "Staff nurse", 5, "Night", "Night", "Night", "Off", "Off", "Off", "Early", 5302, 4486],
        ["Ingrid Halvorsen", "Staff nurse", 5, "Early", "Late", "Off", "Off", "Night", "Night", "Night", 5302, 4490],
        ["Lucas Ferreira", "Staff nurse", 5, "Off", "Long day", "Long day", "Off", "Early", "Late", "Off", 5302, 4493],
        ["Tomasz Kowal", "Healthcare assistant", 3, "Late", "Late", "Off", "Early", "Early", "Off", "Long day", 5303, ""],
        ["Chloe Fairbairn", "Student nurse", "", "Early", "Early", "Study", "Early", "Off", "Off", "Off", 5303, ""],
    ]
    rowan = [
        ["Grace Adeyemi", "Ward manager", 7, "Early", "Early", "Early", "Early", "Off", "Off", "Off", 5401, 4510],
        ["Daniel Mbeki", "Charge nurse", 6, "Off", "Early", "Night", "Night", "Off", "Long day", "Long day", 5412, 4522],
        ["Priya Ramesh", "Staff nurse", 5, "Long day", "Long day", "Off", "Off", "Night", "Night", "Off", 5402, 4529],
        ["Mei Lin Zhou", "Staff nurse", 5, "Night", "Off", "Early", "Late", "Late", "Off", "Early", 5402, 4534],
        ["Ravi Desai", "Cardiac nurse specialist", 6, "Early", "Early", "Early", "Early", "Early", "Off", "Off", 5420, 4540],
        ["Yusuf Demir", "Healthcare assistant", 3, "Early", "Off", "Late", "Late", "Early", "Early", "Off", 5403, ""],
    ]
    key = "Shifts: Early 07:00-15:30, Late 13:00-21:30, Long day 07:00-19:30, Night 19:00-07:30."
    contacts = [
        ["Key contacts - out of hours and escalation"],
        [],
        ["Role", "Name", "Bleep", "Extension"],
        ["Site manager (out of hours)", "Bernadette Quigley", 2200, 5120],
        ["Critical care outreach", "Jonah Pretorius", 2315, 5187],
        ["Duty pharmacist (on call)", "via switchboard", 2650, 5000],
        ["Bed manager (day)", "Farah Siddiqui", 2240, 5133],
        ["Resuscitation officer", "Kieran Walsh", 2222, 5199],
    ]
    _xlsx(out / "nurse_rota_march_2025.xlsx", "Nursing rota 10-16 March 2025",
          [("Cedar Ward", [["Cedar Ward nursing rota, week of 10-16 March 2025"], [key], [], header, *cedar]),
           ("Rowan Ward", [["Rowan Ward nursing rota, week of 10-16 March 2025"], [key], [], header, *rowan]),
           ("Key contacts", contacts)])


def oncall_csv(out: Path) -> None:
    rows = [
        ["Week commencing", "Specialty", "Consultant", "Registrar", "Registrar bleep"],
        ["3 March 2025", "Cardiology", "Dr Eleanor Whitcombe", "Dr Tariq Nasser", "2710"],
        ["3 March 2025", "General surgery", "Mr Alistair Grieve", "Ms Rosa Lindgren", "2731"],
        ["3 March 2025", "Acute medicine", "Dr Kwame Asante", "Dr Hannah Liddell", "2702"],
        ["3 March 2025", "Orthopaedics", "Ms Nadia Rahman", "Mr Owen Pritchard", "2745"],
        ["10 March 2025", "Cardiology", "Dr Henrik Solberg", "Dr Aisha Bello", "2710"],
        ["10 March 2025", "General surgery", "Ms Sofia Marchetti", "Mr Callum Reid", "2731"],
        ["10 March 2025", "Acute medicine", "Dr Miriam Osei", "Dr Tariq Nasser", "2702"],
        ["10 March 2025", "Orthopaedics", "Mr Gareth Llewellyn", "Ms Rosa Lindgren", "2745"],
        ["17 March 2025", "Cardiology", "Dr Eleanor Whitcombe", "Dr Aisha Bello", "2710"],
        ["17 March 2025", "General surgery", "Mr Alistair Grieve", "Dr Benedikt Vogel", "2731"],
        ["17 March 2025", "Acute medicine", "Dr Kwame Asante", "Dr Hannah Liddell", "2702"],
        ["17 March 2025", "Orthopaedics", "Ms Nadia Rahman", "Mr Owen Pritchard", "2745"],
    ]
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    (out / "oncall_consultants.csv").write_text(buffer.getvalue(), encoding="utf-8", newline="\n")


def isolation_policy(out: Path) -> None:
    table = [
        ["Organism or condition", "Isolation", "PPE for staff", "When isolation can end", "Cleaning"],
        ["MRSA (colonisation or infection)", "Side room; cohort bay only if agreed with IPC", "Apron and gloves",
         "After 3 consecutive negative screens taken at least 48 hours apart", "Detergent"],
        ["Clostridioides difficile", "Side room with en-suite", "Apron and gloves; hand washing with soap and water",
         "48 hours free of diarrhoea and a formed stool", "Chlorine 1,000 ppm"],
        ["Norovirus", "Side room or cohort bay; bay closed to admissions", "Apron, gloves; FRSM if vomiting",
         "72 hours free of symptoms", "Chlorine 1,000 ppm"],
        ["Influenza A or B", "Side room", "Fluid-resistant surgical mask (FRSM); FFP3 for aerosol-generating procedures",
         "5 days after symptom onset and clinically improving", "Detergent"],
        ["Pulmonary tuberculosis (suspected or smear positive)", "Negative-pressure room",
         "FFP3 respirator (fit-tested)", "After 14 days of effective treatment and clinical improvement", "Detergent"],
        ["CPE (carbapenemase-producing Enterobacterales)", "Side room with en-suite; alert on patient record",
         "Apron and gloves", "Isolate for the whole admission", "Chlorine 1,000 ppm"],
    ]
    blocks: list[tuple[str, object]] = [
        ("title", "IPC-07 Isolation of patients with infection"),
        ("p", f"{HOSPITAL}. Infection Prevention and Control policy IPC-07, version 4.2. Approved by the Infection "
              "Prevention and Control Committee on 2 December 2024. Next review: December 2026. Policy owner: "
              "Dr Fiona Lam, Director of Infection Prevention and Control."),
        ("h", "1. Purpose"),
        ("p", "This policy sets out when patients with a known or suspected infection must be isolated, the personal "
              "protective equipment (PPE) staff must wear, and when isolation may be stopped."),
        ("h", "2. Scope"),
        ("p", "All inpatient areas, the emergency department and day units. Outpatient areas follow the separate "
              "outpatient guidance IPC-11."),
        ("h", "3. Allocation of side rooms"),
        ("p", "Side rooms are scarce. When demand exceeds supply, the nurse in charge prioritises in this order: "
              "pulmonary tuberculosis, diarrhoea or vomiting of suspected infectious cause, CPE, influenza, MRSA. "
              "The IPC team (extension 3350, bleep 2360) must be informed of every patient who cannot be isolated "
              "as this policy requires."),
        ("bullet", "Put an isolation sign on the door; do not write the diagnosis on it."),
        ("bullet", "Keep the door closed unless a risk assessment says otherwise."),
        ("bullet", "Record the start and end of isolation in the nursing notes."),
        ("h", "4. Isolation requirements"),
        ("table", table),
        ("h", "5. Ending isolation"),
        ("p", "Isolation is stopped only when the criterion in the table is met and the nurse in charge has "
              "confirmed it with the IPC team. Terminal cleaning of the room is requested through the Estates "
              "helpdesk before the next patient is admitted."),
    ]
    _docx(out / "infection_control_isolation_policy.docx", "IPC-07 Isolation of patients with infection", blocks)


def medication_safety_slides(out: Path) -> None:
    slides: list[dict[str, object]] = [
        {"title": "Medication safety at handover", "subtitle": "Nursing practice forum, 18 February 2025\n"
                                                             "Stephen Hale, Lead Nurse for Medicines Safety"},
        {"title": "Safe handover", "bullets": [
            "Hand over at the bedside using SBAR: situation, background, assessment, recommendation",
            "Check the drug chart together: omitted doses, doses due in the next hour, allergies",
            "Time-critical medicines (Parkinson's medicines, insulin, anticoagulants) must be given within 30 minutes of the prescribed time",
            "Antibiotics for suspected sepsis: first dose within 1 hour of recognition",
        ], "notes": "Emphasise that an omitted dose code must always be explained in the notes."},
        {"title": "Medication incidents by type - Cedar and Rowan wards", "table": [
            ["Incident type", "Q3 2024", "Q4 2024", "Change"],
            ["Omitted or delayed dose", "9", "16", "+7"],
            ["Prescribing error", "10", "11", "+1"],
            ["Wrong dose administered", "8", "6", "-2"],
            ["Wrong patient", "2", "3", "+1"],
            ["Total", "29", "36", "+7"],
        ], "caption": "Source: incident reporting system, validated by the Patient Safety Team."},
        {"title": "High-risk medicines", "bullets": [
            "Insulin: always write 'units' in full; never abbreviate",
            "Concentrated potassium chloride ampoules are kept only in pharmacy and critical care; wards use premixed bags",
            "Methotrexate: weekly dosing; the day of the week is written on the chart",
            "Opioids: check the last dose time and the patient's opioid history before giving",
        ]},
        {"title": "Controlled drugs", "bullets": [
            "Stock balance of the CD cupboard checked at every shift handover by two registered nurses",
            "Discrepancies reported to the nurse in charge and pharmacy the same day",
            "Pharmacy audits each ward controlled drug register every 3 months",
            "CD keys are held by the nurse in charge at all times",
        ]},
        {"title": "Questions and contacts", "bullets": [
            "Medicines safety team: extension 3372",
            "Ward pharmacist: via the pharmacy dispensary, extension 3300",
            "Out of hours: on-call pharmacist via switchboard",
        ]},
    ]
    _pptx(out / "medication_safety_handover.pptx", "Medication safety at handover", slides)


def pharmacy_mail(out: Path) -> None:
    body = """Dear colleagues,

Following the decision of the Drugs and Therapeutics Committee on 14 January 2025, pharmacy will supply enoxaparin as the biosimilar brand Inhixa instead of Clexane from Monday 3 March 2025.

What this means for wards:
- Doses and indications are unchanged (standard VTE prophylaxis remains 40 mg once daily).
- Ward stock of Clexane will be exchanged by the pharmacy technicians during the week of 3 March. Please do not order Clexane after 28 February.
- Patients discharged on enoxaparin will be supplied with Inhixa and a new patient leaflet; the sharps bin and injection technique are the same.

Separately, from 1 April 2025 the weekend dispensary will open 10:00 to 16:00 on Saturdays and Sundays (currently 09:00 to 17:00). Outside these hours, contact the on-call pharmacist via switchboard.

Any questions, please contact Medicines Information on extension 3310.

Kind regards,
Joanna Pryce
Chief Pharmacist, Hollin Bridge General Hospital
"""
    _eml(out / "pharmacy_enoxaparin_switch.eml",
         "Pharmacy Medicines Information <medicines.information@hollinbridge-hospital.example>",
         "All ward managers <ward.managers@hollinbridge-hospital.example>",
         "Enoxaparin: switch to biosimilar Inhixa from 3 March 2025", body,
         "<20250217.pharmacy.0042@hollinbridge-hospital.example>",
         dt.datetime(2025, 2, 17, 10, 12, 0, tzinfo=dt.UTC))


def visiting_page(out: Path) -> None:
    visiting = [
        ["Area", "Visiting hours", "Visitors per bed", "Notes"],
        ["General adult wards", "11:00 to 20:00", "2", "Protected mealtimes 12:00-13:00 and 17:00-18:00"],
        ["Intensive care unit (ITU)", "14:00 to 19:00", "2", "Please ring the buzzer and wait to be let in"],
        ["Maternity (postnatal ward)", "10:00 to 21:00", "2", "Birth partners may stay at any time"],
        ["Kingfisher children's ward", "Parents and carers at any time", "2", "Siblings 14:00 to 18:00"],
        ["Emergency department", "One companion per patient", "1", "Companions may be asked to wait outside"],
    ]
    parking = [
        ["Car park", "Up to 2 hours", "2 to 4 hours", "4 to 24 hours"],
        ["Car park A (surface, main entrance)", "£3.20", "£5.40", "£9.00"],
        ["Car park B (multi-storey, Riverside entrance)", "£2.60", "£4.80", "£8.00"],
    ]
    contacts = [
        ["Department", "Extension", "E-mail"],
        ["Patient Advice and Liaison Service (PALS)", "6642", "pals@hollinbridge-hospital.example"],
        ["Chaplaincy and spiritual care", "6610", "chaplaincy@hollinbridge-hospital.example"],
        ["Security control room", "6999", "security@hollinbridge-hospital.example"],
        ["Estates helpdesk", "6300", "estates@hollinbridge-hospital.example"],
        ["IT service desk", "6100", "itservicedesk@hollinbridge-hospital.example"],
    ]
    body = f"""
<nav><a href="/">Intranet home</a> &gt; <a href="/patients">Patients and visitors</a></nav>
<h1>Visiting, parking and contacts</h1>
<p>{HOSPITAL} welcomes visitors. Staff can point visitors to this page; the same information is on the public website.
Please do not visit if you have had diarrhoea, vomiting or flu-like symptoms in the last 48 hours.</p>
<h2>Visiting hours</h2>
{_html_table(visiting)}
<p>Ward managers may agree visits outside these hours for patients at the end of life.</p>
<h2>Parking</h2>
<p>Pay at the machines or by the app; the first 20 minutes are free. Blue badge holders park free in the marked bays on
level 0 of car park B. Staff must display a valid permit and use car park C.</p>
{_html_table(parking)}
<h2>Useful contacts</h2>
<p>Main switchboard: 01632 960000 (from outside the hospital).</p>
{_html_table(contacts)}
<footer><p>Page owner: Communications team. Last reviewed 6 January 2025.</p></footer>
"""
    _html(out / "intranet_visiting_parking.html", f"Visiting, parking and contacts - {HOSPITAL} intranet", body)


# --- bank -------------------------------------------------------------------------------------


def credit_policy(out: Path) -> None:
    title = "Credit Risk Policy CRP-01, version 7.0 (2025)"
    pages = [
        [
            ("h", f"{BANK}: Credit Risk Policy"),
            ("p", "Policy reference CRP-01, version 7.0. Approved by the Board Risk Committee on 28 November 2024. "
                  "Effective 1 January 2025. Policy owner: Lorna Achterberg, Chief Credit Officer."),
            ("h", "Contents"),
            ("p", "1. Purpose and scope (page 2)\n2. Lending principles (page 2)\n3. Governance (page 3)\n"
                  "4. Risk appetite (page 3)\n5. Affordability and security (page 4)\n6. Lending authority limits "
                  "(page 5)\n7. Exceptions (page 6)\n8. Policy review (page 6)"),
            ("h", "Document history"),
            ("table", [["Version", "Date", "Change"],
                       ["6.0", "December 2023", "Annual review; climate risk added to commercial lending"],
                       ["6.1", "June 2024", "Affordability buffer for variable-rate mortgages"],
                       ["7.0", "November 2024", "Debt-to-income cap lowered; authority limits revised"]]),
        ],
        [
            ("h", "1. Purpose and scope"),
            ("p", "This policy sets the rules under which the bank lends to personal and business customers. It "
                  "applies to all lending staff, in branches, in the contact centre and in the business banking "
                  "teams, and to every credit product: personal loans, overdrafts, credit cards, residential "
                  "mortgages and business lending."),
            ("h", "2. Lending principles"),
            ("p", "We lend only where the customer can repay from their own income without undue hardship, where we "
                  "understand the purpose of the borrowing, and where the price reflects the risk. We do not lend "
                  "to customers in an insolvency process, and we treat customers in financial difficulty fairly "
                  "and in line with the consumer duty."),
        ],
        [
            ("h", "3. Governance"),
            ("p", "The Credit Committee meets every Wednesday and is chaired by the Chief Credit Officer. It decides "
                  "all applications above the regional credit managers' authority and reviews the monthly credit "
                  "risk report before it goes to the Board Risk Committee."),
            ("h", "4. Risk appetite"),
            ("p", "Commercial real estate may not exceed 15% of the total loan book. Unsecured personal lending "
                  "may not exceed 12% of the total loan book. No single business customer group may be lent more "
                  "than 5% of the bank's capital resources."),
        ],
        [
            ("h", "5. Affordability and security"),
            ("p", "5.1 Debt-to-income. Under this policy the maximum debt-to-income ratio for unsecured lending is "
                  "40% of net monthly income, including the new borrowing (the 2024 policy allowed 45%)."),
            ("p", "5.2 Mortgage stress test. Affordability is assessed at the product rate plus 3 percentage points, "
                  "with a minimum stress rate of 7%."),
            ("p", "5.3 Loan-to-value. The maximum loan-to-value for residential mortgages is 90%. Lending above 85% "
                  "loan-to-value needs the approval of a regional credit manager."),
            ("p", "5.4 Minimum income. Applicants for unsecured personal loans must have a verified gross income of "
                  "at least £18,000 a year."),
        ],
        [
            ("h", "6. Lending authority limits"),
            ("p", "Staff may approve lending up to the limits below, per customer and in total across all of the "
                  "customer's borrowing with the bank. Applications above a limit are referred to the next level."),
            ("table", [["Role", "Unsecured personal", "Secured residential", "Business"],
                       ["Senior lending officer", "£15,000", "£150,000", "£20,000"],
                       ["Branch manager", "£30,000", "£400,000", "£60,000"],
                       ["Regional credit manager", "£80,000", "£1,200,000", "£350,000"],
                       ["Credit Committee", "Above regional limits", "Above regional limits", "Above regional limits"]]),
            ("p", "Authority is personal and may not be delegated. A member of staff may not approve lending to a "
                  "relative, a close friend or a business in which they have an interest."),
        ],
        [
            ("h", "7. Exceptions"),
            ("p", "Exceptions to this policy must be approved in writing by the Chief Credit Officer and are reported "
                  "to the Board Risk Committee every month."),
            ("h", "8. Policy review"),
            ("p", "This policy is reviewed every year by the Board Risk Committee. The next review is due by "
                  "31 October 2025."),
        ],
    ]
    _pdf(out / "credit_risk_policy_2025.pdf", title, BANK, pages)


def fee_schedule(out: Path) -> None:
    table = [
        ["Service", "Everyday Account", "Premier Account", "Business Account"],
        ["Monthly account fee", "Free", "£14.00", "£7.50"],
        ["CHAPS payment (UK, same day)", "£23.00", "Free", "£27.50"],
        ["International payment sent (SWIFT)", "£15.00", "Free", "£18.50"],
        ["Replacement debit card", "£5.00", "Free", "£6.00"],
        ["Cash withdrawal abroad", "2.99% of the amount", "Free", "2.75% of the amount"],
        ["Copy statement (paper)", "£3.00", "Free", "£4.00"],
    ]
    blocks: list[tuple[str, object]] = [
        ("title", "Tariff of charges for personal and business accounts"),
        ("p", f"{BANK}. These charges apply from 1 May 2025 and replace the tariff dated 1 May 2024."),
        ("h", "Account and payment charges"),
        ("table", table),
        ("h", "Overdrafts"),
        ("p", "Arranged overdraft interest: 29.9% EAR (variable) on the Everyday Account and 19.9% EAR (variable) on "
              "the Premier Account. Business overdrafts are priced individually. We do not offer unarranged "
              "overdrafts; payments that would take the account over its limit are returned."),
        ("h", "Notice of changes"),
        ("p", "We will give at least two months' notice of any change to these charges. Questions: call us on "
              "0300 555 0199 or ask in any branch."),
    ]
    _docx(out / "fee_schedule_2025.docx", "Tariff of charges 2025", blocks)


def branch_kpis(out: Path) -> None:
    header = ["Branch", "Region", "New current accounts", "Mortgage completions", "Complaints", "NPS"]
    h1 = [
        ["Harbour Street", "Coast", 412, 38, 17, 46],
        ["Millgate", "North", 356, 52, 24, 39],
        ["Old Town", "Central", 298, 27, 11, 51],
        ["Station Road", "Central", 467, 44, 29, 35],
        ["Westfield", "North", 389, 61, 14, 48],
    ]
    h2 = [
        ["Harbour Street", "Coast", 438, 41, 19, 44],
        ["Millgate", "North", 371, 49, 33, 37],
        ["Old Town", "Central", 305, 30, 9, 55],
        ["Station Road", "Central", 502, 47, 26, 38],
        ["Westfield", "North", 395, 58, 15, 50],
    ]
    definitions = [
        ["Definitions"],
        ["New current accounts: personal and business current accounts opened in branch."],
        ["Mortgage completions: residential mortgages completed where the branch took the application."],
        ["Complaints: complaints logged against the branch, including those resolved by close of the next business day."],
        ["NPS: Net Promoter Score from the post-visit customer survey (percentage of promoters minus percentage of detractors)."],
        ["Prepared by Retail Performance, Calder Mutual Bank."],
    ]
    _xlsx(out / "branch_kpis_2024.xlsx", "Branch performance 2024",
          [("H1 2024", [["Branch performance - H1 2024 (January-June)"], [], header, *h1]),
           ("H2 2024", [["Branch performance - H2 2024 (July-December)"], [], header, *h2]),
           ("Definitions", definitions)])


def aml_slides(out: Path) -> None:
    slides: list[dict[str, object]] = [
        {"title": "Anti-money laundering: branch procedure AML-03", "subtitle": f"{BANK} - 2025 refresher for branch staff"},
        {"title": "Customer due diligence: when", "bullets": [
            "Before opening any account or starting a business relationship",
            "For occasional transactions by people who are not customers (see thresholds)",
            "When we suspect money laundering or terrorist financing, whatever the amount",
            "When we doubt identification documents we hold already",
        ]},
        {"title": "Thresholds and what staff must do", "table": [
            ["Situation", "Threshold", "What staff must do"],
            ["Cash deposit by a customer", "Over £8,000 in a day (single or linked)", "Obtain and record evidence of the source of funds"],
            ["Foreign currency purchase", "Over £2,500", "Check photo ID and record it"],
            ["Occasional transaction by a non-customer", "EUR 15,000 or more", "Full customer due diligence"],
            ["Cash withdrawal", "Over £20,000", "Refer to the branch manager; 48 hours' notice"],
        ]},
        {"title": "Enhanced due diligence", "bullets": [
            "Politically exposed persons (PEPs), their family and close associates",
            "Customers linked to high-risk third countries",
            "Approval by a senior manager before the relationship starts",
            "Relationship reviewed every 12 months",
        ]},
        {"title": "Suspicious activity", "bullets": [
            "Submit an internal suspicious activity report to the MLRO within 24 hours of forming a suspicion",
            "Never tell the customer (tipping off is a criminal offence)",
            "The MLRO decides whether to report to the National Crime Agency",
            "If consent (a DAML) is requested, the NCA has 7 working days to respond",
        ], "notes": "Use the iSAR form on the compliance intranet; do not e-mail details of the suspicion."},
        {"title": "Contacts", "bullets": [
            "Money Laundering Reporting Officer (MLRO): Declan Moriarty, extension 7710",
            "Deputy MLRO: Anjali Mehta, extension 7712",
            "Financial crime helpdesk: extension 7700",
        ]},
    ]
    _pptx(out / "aml_procedure.pptx", "Anti-money laundering: branch procedure AML-03", slides)


def compliance_mail(out: Path) -> None:
    body = """Dear colleagues,

Two changes from Compliance.

1. Gifts and hospitality. From 1 April 2025 you must record in the gifts and hospitality register any gift or hospitality offered to you with a value above £100 (the threshold is currently £50), whether you accept it or not. Anything worth more than £250 still needs the prior approval of your line manager and Compliance. Cash or vouchers must always be declined.

2. Annual AML training. The 2025 anti-money laundering e-learning is now open on the learning portal. Everyone must complete it by 30 June 2025. Staff who have not completed it by then will lose access to the payments system until they do.

Thank you,
Helena Strand
Head of Compliance, Calder Mutual Bank
"""
    _eml(out / "compliance_gifts_training.eml",
         "Compliance <compliance@caldermutual.example>",
         "All staff <all.staff@caldermutual.example>",
         "Action required: gifts and hospitality register, and 2025 AML training", body,
         "<20250310.compliance.118@caldermutual.example>",
         dt.datetime(2025, 3, 10, 8, 30, 0, tzinfo=dt.UTC))


def savings_page(out: Path) -> None:
    rates = [
        ["Account", "AER", "Gross p.a.", "Minimum to open", "Access"],
        ["Easy Saver", "3.10% variable", "3.05%", "£1", "Unlimited withdrawals"],
        ["Cash ISA (easy access)", "3.60% variable", "3.54%", "£1", "Unlimited withdrawals; ISA allowance applies"],
        ["Regular Saver", "5.50% fixed for 12 months", "5.37%", "£25 a month", "Pay in £25 to £300 a month; no withdrawals"],
        ["1-Year Fixed Bond", "4.25% fixed", "4.17%", "£2,000", "No access until maturity"],
        ["2-Year Fixed Bond", "4.05% fixed", "3.97%", "£2,000", "No access until maturity"],
    ]
    body = f"""
<header><p><a href="/">{BANK}</a> &gt; Savings</p></header>
<main>
<h1>Savings accounts</h1>
<p>Compare our savings accounts. Rates are effective from 12 May 2025 and may change; fixed rates are fixed for the term.</p>
{_html_table(rates)}
<h2>Good to know</h2>
<ul>
<li>AER stands for Annual Equivalent Rate and shows what the interest rate would be if interest was paid and compounded once each year.</li>
<li>Gross p.a. is the interest rate without tax deducted.</li>
<li>Interest on the fixed bonds is paid annually, or monthly at a lower rate on request.</li>
<li>Eligible deposits are protected by the Financial Services Compensation Scheme up to £85,000 per person.</li>
</ul>
<p>Open an account in any branch or in the app.</p>
</main>
<footer><p>{BANK} is a fictional bank used for software testing.</p></footer>
"""
    _html(out / "savings_rates.html", f"Savings accounts and interest rates - {BANK}", body)


def cash_procedure(out: Path) -> None:
    text = f"""# Branch cash handling procedure (CH-02)

{BANK} - Retail Operations. Version 3.1, January 2025.

## Opening the branch

1. Two members of staff open the branch together (dual control); neither enters alone.
2. The vault time lock opens at 08:30 on weekdays and 09:00 on Saturdays.
3. The opening pair checks the alarm log and signs the opening register.

## Cash limits

| Item | Limit |
|------|-------|
| Cashier till | £6,000 |
| Foreign currency till | £3,000 equivalent |
| Vault (branch total) | £120,000 |
| ATM replenishment | per the cash-in-transit schedule |

Cash above a till limit is transferred to the vault at the next quiet moment and always before the till is left unattended.

## Cash-in-transit

Collections and deliveries are on Tuesdays and Fridays. Staff never open the secure door to a courier whose identity has not been confirmed by phoning the cash-in-transit control room.

## Differences

A till difference over £50 is reported to the branch manager the same day and logged in the operational risk system.
"""
    (out / "branch_cash_procedure.md").write_text(text, encoding="utf-8", newline="\n")


def complaints_guide(out: Path) -> None:
    blocks: list[tuple[str, object]] = [
        ("h", "Complaints handling guide for branch staff"),
        ("p", f"{BANK}. Customer Outcomes team. Version 2.0, February 2025."),
        ("h", "Recording a complaint"),
        ("p", "Any expression of dissatisfaction, spoken or written, is a complaint. Record it in the complaints "
              "system on the day it is received, even if you resolve it straight away."),
        ("h", "Time limits"),
        ("table", [
            ["Type of complaint", "Acknowledge", "Final response"],
            ["Most complaints", "Within 5 business days", "Within 8 weeks"],
            ["Payment services (cards, transfers, direct debits)", "Within 5 business days",
             "Within 15 business days (35 business days in exceptional circumstances)"],
            ["Resolved by close of the third business day", "Not needed", "Summary resolution communication"],
        ]),
        ("p", "If we cannot give a final response in time, we write to the customer to explain why and tell them "
              "they may refer the complaint to the Financial Ombudsman Service."),
        ("h", "Redress"),
        ("p", "Branch managers may pay goodwill of up to £150 per complaint without referral."),
    ]
    _odt(out / "complaints_handling_guide.odt", "Complaints handling guide for branch staff", blocks)


MAKERS = [
    formulary_minutes, ward_incidents, nurse_rota, oncall_csv, isolation_policy, medication_safety_slides,
    pharmacy_mail, visiting_page,
    credit_policy, fee_schedule, branch_kpis, aml_slides, compliance_mail, savings_page, cash_procedure,
    complaints_guide,
]


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: python make_docs.py OUTPUT_FOLDER", file=sys.stderr)
        return 2
    out = Path(argv[1])
    out.mkdir(parents=True, exist_ok=True)
    for make in MAKERS:
        make(out)
    for path in sorted(out.iterdir()):
        print(f"{path.stat().st_size:>8}  {path.name}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
