"""Microsoft Office 97-2003 files: Excel (.xls) through xlrd; Word (.doc) and PowerPoint (.ppt)
through LibreOffice, when it is installed.

No maintained pure-Python reader exists for .doc and .ppt. When ``soffice`` is on the machine the
file is converted to .docx/.pptx in a private 0700 folder (in memory, ``/dev/shm``, on Linux) that
is removed at once, and swept by the next worker if a killed one could not remove it; otherwise the
file is refused with how to convert it.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import os
import pathlib
import re
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from typing import Any

from app.core.errors import EmptyDocument, ParseError, PasswordRequired
from app.core.ingest.parsers import _refusals
from app.core.ingest.parsers._clean import make_section
from app.core.ingest.parsers.base import MemoryFile, ParsedDocument, Section, Source
from app.core.privacy.hardening import child_environment, die_with_parent

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


#: Conversion folders are named ``sanctum-convert-<pid>-<random>``: the pid lets a later process
#: tell a folder of a dead worker (swept) from one in use.
CONVERT_PREFIX = "sanctum-convert-"
_OWNER = re.compile(r"^(\d+)-")
# LibreOffice's settings for the throw-away profile: never update links (Writer: 0 = never),
# never load from untrusted referers, no macros, no proxy. A linked picture or an INCLUDEPICTURE
# field must not make the converter fetch anything.
_PROFILE_ITEMS = [  # (configuration path, property, value)
    ("/org.openoffice.Office.Writer/Content/Update", "Link", "0"),
    ("/org.openoffice.Office.Writer/Content/Update", "Field", "0"),
    ("/org.openoffice.Office.Calc/Content/Update", "Link", "1"),
    ("/org.openoffice.Office.Common/Security/Scripting", "BlockUntrustedRefererLinks", "true"),
    ("/org.openoffice.Office.Common/Security/Scripting", "DisableMacrosExecution", "true"),
    ("/org.openoffice.Office.Common/Security/Scripting", "MacroSecurityLevel", "3"),
    ("/org.openoffice.Inet/Settings", "ooInetProxyType", "0"),
    ("/org.openoffice.Office.Common/Misc", "ShowTipOfTheDay", "false"),
]
_PROFILE_SETTINGS = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<oor:items xmlns:oor="http://openoffice.org/2001/registry" xmlns:xs="http://www.w3.org/2001/XMLSchema"\n'
    ' xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">\n'
    + "".join(f'<item oor:path="{path}"><prop oor:name="{name}" oor:op="fuse"><value>{value}</value></prop></item>\n'
              for path, name, value in _PROFILE_ITEMS)
    + "</oor:items>\n"
)


def _work_roots() -> list[pathlib.Path]:
    """Where conversion folders go, best first: memory (``/dev/shm``) on Linux, then the temp folder."""
    roots = []
    shm = pathlib.Path("/dev/shm")
    if sys.platform.startswith("linux") and shm.is_dir() and os.access(shm, os.W_OK | os.X_OK):
        roots.append(shm)
    roots.append(pathlib.Path(tempfile.gettempdir()))
    return roots


@contextlib.contextmanager
def private_folder() -> Iterator[pathlib.Path]:
    """A 0700 folder of our own, in memory where the platform allows, removed however we leave.

    A folder that outlives a killed process (``finally`` never ran) is removed by
    :func:`sweep_conversion_folders` when the next worker starts.
    """
    folder = pathlib.Path(tempfile.mkdtemp(prefix=f"{CONVERT_PREFIX}{os.getpid()}-", dir=_work_roots()[0]))
    try:
        os.chmod(folder, 0o700)  # mkdtemp's mode already; said again for platforms that differ
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def sweep_conversion_folders() -> list[pathlib.Path]:
    """Remove conversion folders left by processes that are gone (killed mid-conversion); returns them."""
    removed = []
    for root in _work_roots():
        try:
            entries = list(root.glob(f"{CONVERT_PREFIX}*"))
        except OSError:
            continue
        for entry in entries:
            try:
                info = entry.lstat()
            except OSError:
                continue
            if not stat.S_ISDIR(info.st_mode) or (hasattr(os, "getuid") and info.st_uid != os.getuid()):
                continue
            owner = _OWNER.match(entry.name[len(CONVERT_PREFIX):])
            if owner and _alive(int(owner.group(1)), info.st_mtime):
                continue
            shutil.rmtree(entry, ignore_errors=True)
            removed.append(entry)
    return removed


def _alive(pid: int, mtime: float) -> bool:
    if pid == os.getpid():
        return False  # a folder of ours that we are not using: a previous worker with our pid
    if os.name != "posix":
        return time.time() - mtime < 3600  # no cheap liveness test: only old folders are swept
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # it exists, and is someone else's
    return True


@functools.lru_cache(maxsize=1)
def isolation_prefix() -> tuple[str, ...]:
    """The command that runs a program without network (a network namespace of its own), or ().

    ``unshare --net --map-root-user`` works unprivileged on most Linux desktops (user namespaces);
    where it does not (some hardened kernels, containers, other platforms) the converter runs with
    its private profile and bare environment only (the README's Privacy section says so).
    """
    program = shutil.which("unshare") if sys.platform.startswith("linux") else None
    if program is None:
        return ()
    command = (program, "--net", "--map-root-user", "--")
    try:
        done = subprocess.run([*command, "true"], capture_output=True, timeout=10, check=False,
                              env=child_environment(tempfile.gettempdir()))
    except (OSError, subprocess.SubprocessError):
        return ()
    return command if done.returncode == 0 else ()


def convert_with_libreoffice(path: Source, kind: str) -> MemoryFile:
    """Convert a .doc or .ppt (``kind`` "doc"/"ppt") to .docx/.pptx in memory.

    The input and the output live only in a private folder (in memory on Linux) that is removed
    before this returns. LibreOffice runs with a throw-away profile that never updates links, with
    a bare environment, and (where the platform allows) in a network namespace with no network.

    Raises:
        UnsupportedFormat: LibreOffice is not installed (the message says how to convert by hand).
        ParseError: The conversion failed.
    """
    program = soffice_path()
    suffix = f".{kind}"
    if program is None:
        raise _refusals.later_format(suffix)
    target = {"doc": "docx", "ppt": "pptx"}[kind]
    with private_folder() as work:
        source = work / f"input{suffix}"
        source.write_bytes(path.read_bytes())
        home = work / "home"
        settings = work / "profile" / "user" / "registrymodifications.xcu"
        for folder in (home, settings.parent, work / "out"):
            folder.mkdir(parents=True, mode=0o700)
        settings.write_text(_PROFILE_SETTINGS, encoding="utf-8")
        # A profile of its own: a LibreOffice the user has open would otherwise take the job
        # (or lock the profile) and the conversion would silently do nothing.
        command = [*isolation_prefix(), program, f"-env:UserInstallation={(work / 'profile').as_uri()}",
                   "--headless", "--invisible", "--nologo", "--nodefault", "--nolockcheck", "--norestore",
                   "--convert-to", target, "--outdir", str(work / "out"), str(source)]
        stderr = _run_converter(command, env=child_environment(home), suffix=suffix)
        converted = work / "out" / f"input.{target}"
        if not converted.is_file():
            detail = stderr.decode("utf-8", errors="replace").strip()[-300:]
            raise ParseError(
                f"LibreOffice could not convert this {suffix} file (damaged or protected?) {detail}".strip())
        return MemoryFile(f"{path.stem}.{target}", converted.read_bytes())


def _run_converter(command: list[str], *, env: dict[str, str], suffix: str) -> bytes:
    """Run LibreOffice in a session of its own; on a timeout the whole session is killed."""
    posix = os.name == "posix"
    try:
        process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                   env=env, start_new_session=posix,
                                   preexec_fn=die_with_parent if posix else None)
    except OSError as error:
        raise ParseError(f"LibreOffice could not be started: {error}") from error
    try:
        _, stderr = process.communicate(timeout=_CONVERT_TIMEOUT_S)
    except subprocess.TimeoutExpired as error:
        if posix:
            with contextlib.suppress(OSError):
                os.killpg(process.pid, signal.SIGKILL)
        process.kill()
        process.communicate()
        raise ParseError(f"LibreOffice did not convert this {suffix} file within {_CONVERT_TIMEOUT_S} s") from error
    return stderr
