"""Hostile fixtures and loopback servers for the privacy-hardening tests.

Everything here is written by the tests themselves: documents whose content points at a server
on 127.0.0.1 (linked pictures, an INCLUDEPICTURE field, remote CSS, an external XML entity), a
stand-in for LibreOffice's ``soffice`` that behaves as a converter that follows links would, and
servers that count every request they get. Servers listen on loopback only.
"""

from __future__ import annotations

import http.server
import json
import os
import socket
import stat
import sys
import threading
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from tests import docmaker

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


class CountingServer:
    """An HTTP server on 127.0.0.1 that answers every request and counts them (any method, a proxy CONNECT too)."""

    def __init__(self) -> None:
        self.requests: list[str] = []
        owner = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def _answer(self) -> None:
                owner.requests.append(f"{self.command} {self.path}")
                body = b"<html>fetched</html>"
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = do_HEAD = do_CONNECT = _answer

            def log_message(self, *args: object) -> None:
                pass

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}/{path}"

    def __enter__(self) -> CountingServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()


class CountingUdp:
    """A UDP socket on 127.0.0.1 (a stand-in for the local DNS stub) that counts datagrams."""

    def __init__(self) -> None:
        self.datagrams = 0
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._sock.bind(("127.0.0.1", 0))
        self._sock.settimeout(0.2)
        self.port = self._sock.getsockname()[1]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self._sock.recvfrom(4096)
                self.datagrams += 1
            except OSError:
                continue

    def __enter__(self) -> CountingUdp:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(2)
        self._sock.close()


def _rewrite(path: Path, name: str, change: Callable[[str], str], extra: dict[str, str] | None = None) -> None:
    with zipfile.ZipFile(path) as package:
        members = [(info, package.read(info)) for info in package.infolist()]
    with zipfile.ZipFile(path, "w") as package:
        for info, data in members:
            if info.filename == name:
                data = change(data.decode("utf-8")).encode("utf-8")
            package.writestr(info, data, compress_type=info.compress_type)
        for extra_name, text in (extra or {}).items():
            package.writestr(extra_name, text, zipfile.ZIP_DEFLATED)


def make_linking_docx(path: Path, server: CountingServer) -> Path:
    """A .docx with an INCLUDEPICTURE field, a linked (external) picture and an external entity."""
    docmaker.make_docx(path, ["Canary docx: the defibrillator pads are replaced every 24 months."])
    field = (f'<w:p><w:r><w:fldChar w:fldCharType="begin"/></w:r><w:r><w:instrText xml:space="preserve"> '
             f'INCLUDEPICTURE "{server.url("docx-field.png")}" \\d </w:instrText></w:r>'
             '<w:r><w:fldChar w:fldCharType="end"/></w:r></w:p>'
             '<w:p><w:r><w:t>&ext;</w:t></w:r></w:p>')

    def document(xml: str) -> str:
        head, _, rest = xml.partition("?>")
        doctype = f'<!DOCTYPE w:document [<!ENTITY ext SYSTEM "{server.url("docx-xxe")}">]>'
        return f"{head}?>{doctype}{rest}".replace("<w:body>", f"<w:body>{field}", 1)

    def rels(xml: str) -> str:
        link = (f'<Relationship Id="rIdRemote" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
                f'relationships/image" Target="{server.url("docx-linked.png")}" TargetMode="External"/>')
        return xml.replace("</Relationships>", link + "</Relationships>")

    _rewrite(path, "word/document.xml", document)
    _rewrite(path, "word/_rels/document.xml.rels", rels)
    return path


def make_linking_odt(path: Path, server: CountingServer) -> Path:
    """An .odt with a linked picture (xlink:href to the server) and an external entity."""
    body = ('<text:p>Canary odt: the suction unit is tested at the start of every shift.</text:p>'
            '<text:p><draw:frame><draw:image xmlns:xlink="http://www.w3.org/1999/xlink" '
            f'xlink:href="{server.url("odt-linked.png")}" xlink:type="simple"/></draw:frame></text:p>'
            '<text:p>&ext;</text:p>')
    docmaker.make_odf(path, "odt", body)

    def content(xml: str) -> str:
        head, _, rest = xml.partition("?>")
        return f'{head}?><!DOCTYPE office:document-content [<!ENTITY ext SYSTEM "{server.url("odt-xxe")}">]>{rest}'

    _rewrite(path, "content.xml", content)
    return path


def make_linking_html(path: Path, server: CountingServer) -> Path:
    path.write_text(
        "<!DOCTYPE html><html><head><title>Canary html</title>"
        f'<link rel="stylesheet" href="{server.url("html.css")}">'
        f'<style>@import url("{server.url("html-import.css")}"); body {{ background: url({server.url("bg.png")}) }}'
        "</style>"
        f'<script src="{server.url("html.js")}"></script></head><body>'
        f'<p>Canary html: the oxygen cylinders are checked daily.</p><img src="{server.url("html.png")}">'
        f'<iframe src="{server.url("html-frame")}"></iframe></body></html>', encoding="utf-8")
    return path


def make_linking_eml(path: Path, server: CountingServer) -> Path:
    path.write_text(
        "From: ward.manager@clinic.example\nTo: night.staff@clinic.example\nSubject: Canary eml\n"
        'MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary="b1"\n\n'
        "--b1\nContent-Type: text/html; charset=utf-8\n\n"
        f'<html><body><p>Canary eml: the resuscitation trolley seal is checked nightly.</p>'
        f'<img src="{server.url("eml.png")}"><link rel="stylesheet" href="{server.url("eml.css")}"></body></html>\n'
        "--b1\nContent-Type: message/external-body; access-type=URL;\n"
        f' URL="{server.url("eml-external")}"\n\nContent-Type: application/pdf\n\n'
        "--b1--\n", encoding="utf-8")
    return path


def make_linking_doc(path: Path, server: CountingServer) -> Path:
    """Bytes that read as a Word 97-2003 file (an OLE container with a WordDocument stream) and
    hold an INCLUDEPICTURE field pointing at the server; the stand-in ``soffice`` follows it."""
    marker = "WordDocument\x00".encode("utf-16-le")
    field = f' INCLUDEPICTURE "{server.url("doc-field.png")}" \\d '.encode("ascii")
    path.write_bytes(OLE_MAGIC + bytes(504) + marker + bytes(64) + field + bytes(512))
    return path


FAKE_SOFFICE = r'''#!{python}
"""Stands in for LibreOffice's soffice (not installed here): converts by copying a ready .docx,
and first does what a converter that updates links would do: fetch the URL in the document."""
import json, os, pathlib, re, shutil, sys, time, urllib.request
here = pathlib.Path(__file__).resolve().parent
args = sys.argv[1:]
source = pathlib.Path(args[-1])
out = pathlib.Path(args[args.index("--outdir") + 1])
target = args[args.index("--convert-to") + 1]
out.mkdir(parents=True, exist_ok=True)  # as soffice does
profile = next((a.split("=", 1)[1] for a in args if a.startswith("-env:UserInstallation=")), None)
record = {{"argv": args, "env": dict(os.environ), "pid": os.getpid(), "source": str(source), "profile": profile}}
if profile:
    xcu = pathlib.Path(profile.removeprefix("file://")) / "user" / "registrymodifications.xcu"
    record["profile_settings"] = xcu.read_text() if xcu.exists() else None
found = re.search(rb"http://127\.0\.0\.1:\d+/[\w.-]+", source.read_bytes())
try:
    urllib.request.urlopen(found.group().decode(), timeout=5).read()
    record["fetched"] = "reached the server"
except Exception as error:
    record["fetched"] = f"{{type(error).__name__}}: {{error}}"
with open(here / "calls.jsonl", "a") as log:
    log.write(json.dumps(record) + "\n")
if (here / "hang").exists():
    (out / ("input." + target)).write_bytes(b"half-written plaintext")
    time.sleep(600)
shutil.copyfile(here / "converted.docx", out / ("input." + target))
'''


def install_fake_soffice(folder: Path, converted_text: str) -> Path:
    """Put a stand-in ``soffice`` in ``folder`` (prepend it to PATH); returns its call log."""
    folder.mkdir(parents=True, exist_ok=True)
    program = folder / "soffice"
    program.write_text(FAKE_SOFFICE.format(python=sys.executable), encoding="utf-8")
    program.chmod(program.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    docmaker.make_docx(folder / "converted.docx", [converted_text])
    return folder / "calls.jsonl"


def calls(log: Path) -> list[dict]:
    return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []


def conversion_folders() -> set[Path]:
    """Every conversion folder in the places Sanctum puts them (memory first, then the temp folder)."""
    import tempfile

    found: set[Path] = set()
    for root in (Path("/dev/shm"), Path(tempfile.gettempdir())):
        if root.is_dir():
            found.update(root.glob("sanctum-convert-*"))
    return found


@contextmanager
def env_path(folder: Path) -> Iterator[None]:
    old = os.environ.get("PATH", "")
    os.environ["PATH"] = f"{folder}{os.pathsep}{old}"
    try:
        yield
    finally:
        os.environ["PATH"] = old
