"""Microsoft Office 97-2003 files: Excel (.xls) through xlrd; Word (.doc) and PowerPoint (.ppt)
through LibreOffice, when it is installed.

No maintained pure-Python reader exists for .doc and .ppt. When ``soffice`` is on the machine the
file is converted to .docx/.pptx in a private temporary folder that is removed at once (its
converted text never outlives the parse); otherwise the file is refused with how to convert it.
"""

from __future__ import annotations

import datetime as dt
import os
import pathlib
import shutil
import subprocess
import tempfile
from typing import Any

from app.core.errors import EmptyDocument, ParseError, PasswordRequired
from app.core.ingest.parsers import _refusals
from app.core.ingest.parsers._clean import make_section
from app.core.ingest.parsers.base import MemoryFile, ParsedDocument, Section, Source

#: Cells read per sheet before the rest of the sheet is skipped (as for .xlsx).
MAX_SHEET_CELLS = 200_000
_CONVERT_TIMEOUT_S = 90


def parse_xls(path: Source) -> ParsedDocument:
    """Read every non-empty sheet of an Excel 97-2003 workbook: rows as " | "-joined values.

    Raises:
        PasswordRequired: The workbook is encrypted.
        EmptyDocument: No sheet holds a value.
        ParseError: The file is not a readable .xls workbook.
    """
    import xlrd

    try:
        book = xlrd.open_workbook(file_contents=path.read_bytes(), on_demand=True)
    except xlrd.XLRDError as error:
        if "encrypted" in str(error).lower():
            raise PasswordRequired("password required: this Excel 97-2003 workbook is encrypted") from error
        raise ParseError(f"malformed Excel 97-2003 file: {error}") from error
    except Exception as error:
        raise ParseError(f"malformed Excel 97-2003 file: {type(error).__name__}: {error}") from error
    sections: list[Section] = []
    warnings: list[str] = []
    try:
        names = book.sheet_names()
        for index, name in enumerate(names):
            sheet = book.sheet_by_index(index)
            section = make_section(_sheet_text(sheet, name, book.datemode, warnings), page=index + 1,
                                   label=f"Sheet '{name}'")
            if section is not None:
                sections.append(section)
            book.unload_sheet(index)
    finally:
        book.release_resources()
    if not sections:
        raise EmptyDocument("no text: every sheet of this workbook is empty")
    return ParsedDocument(format="xls", sections=sections, page_count=len(names), warnings=warnings)


def _sheet_text(sheet: Any, name: str, datemode: int, warnings: list[str]) -> str:
    lines: list[str] = []
    cells = 0
    for row in range(sheet.nrows):
        values = [_cell_text(cell, datemode) for cell in sheet.row(row)]
        cells += len(values)
        if cells > MAX_SHEET_CELLS:
            warnings.append(
                f"sheet '{name}' has more than {MAX_SHEET_CELLS:,} cells: only its first {len(lines)} rows are indexed"
            )
            break
        while values and not values[-1]:
            values.pop()
        if any(values):
            lines.append(" | ".join(values))
    return "\n".join(lines)


def _cell_text(cell: Any, datemode: int) -> str:
    import xlrd

    kind, value = cell.ctype, cell.value
    if kind in (xlrd.XL_CELL_EMPTY, xlrd.XL_CELL_BLANK, xlrd.XL_CELL_ERROR):
        return ""
    if kind == xlrd.XL_CELL_BOOLEAN:
        return "TRUE" if value else "FALSE"
    if kind == xlrd.XL_CELL_DATE:
        try:
            moment = xlrd.xldate.xldate_as_datetime(value, datemode)
        except (ValueError, OverflowError, xlrd.xldate.XLDateError):
            return str(value)
        return str(moment.date().isoformat() if moment.time() == dt.time(0) else moment.isoformat(sep=" "))
    if kind == xlrd.XL_CELL_NUMBER:
        return str(int(value)) if float(value).is_integer() and abs(value) < 1e15 else format(value, ".15g")
    return " ".join(str(value).split())


# --- .doc / .ppt ------------------------------------------------------------------------------


def soffice_path() -> str | None:
    """LibreOffice's command-line program, if installed."""
    return shutil.which("soffice") or shutil.which("libreoffice")


def convert_with_libreoffice(path: Source, kind: str) -> MemoryFile:
    """Convert a .doc or .ppt (``kind`` "doc"/"ppt") to .docx/.pptx in memory.

    The input (when it is itself in memory) and the output live only in a private temporary
    folder that is removed before this returns.

    Raises:
        UnsupportedFormat: LibreOffice is not installed (the message says how to convert by hand).
        ParseError: The conversion failed.
    """
    program = soffice_path()
    suffix = f".{kind}"
    if program is None:
        raise _refusals.later_format(suffix)
    target = {"doc": "docx", "ppt": "pptx"}[kind]
    with tempfile.TemporaryDirectory(prefix="sanctum-convert-") as folder:
        work = pathlib.Path(folder)
        os.chmod(work, 0o700)
        source = work / f"input{suffix}"
        source.write_bytes(path.read_bytes())
        # A profile of its own: a LibreOffice the user has open would otherwise take the job
        # (or lock the profile) and the conversion would silently do nothing.
        command = [program, f"-env:UserInstallation={(work / 'profile').as_uri()}", "--headless", "--norestore",
                   "--convert-to", target, "--outdir", str(work / "out"), str(source)]
        try:
            done = subprocess.run(command, capture_output=True, timeout=_CONVERT_TIMEOUT_S, check=False)
        except subprocess.TimeoutExpired as error:
            raise ParseError(f"LibreOffice did not convert this {suffix} file within {_CONVERT_TIMEOUT_S} s") from error
        except OSError as error:
            raise ParseError(f"LibreOffice could not be started: {error}") from error
        converted = work / "out" / f"input.{target}"
        if not converted.is_file():
            detail = done.stderr.decode("utf-8", errors="replace").strip()[-300:]
            raise ParseError(
                f"LibreOffice could not convert this {suffix} file (damaged or protected?) {detail}".strip())
        return MemoryFile(f"{path.stem}.{target}", converted.read_bytes())
