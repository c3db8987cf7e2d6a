"""Export a conversation to Markdown or PDF, optionally with personal data redacted.

The input is deliberately plain (:class:`Conversation` of :class:`Turn` s with :class:`Citation` s
and :class:`Evidence`)
so the desktop app, the command line (a JSON file) and tests can all build one. An export is a
plaintext copy made on the user's request: it is written where the user says and recorded in the
audit log by the caller (:meth:`app.core.engine.Engine.export_conversation` does both).

PDFs are made with fpdf2 (pure Python). A Unicode TrueType font from the system is embedded
(DejaVu Sans on Linux, Arial on Windows and macOS); without one, characters outside Latin-1 are
replaced by "?".
"""

from __future__ import annotations

import json
import os
import tempfile
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from app.core.config import atomic_write_text
from app.core.errors import SanctumError
from app.core.privacy import redact as redaction

FORMATS = ("md", "pdf")
_FONT_CANDIDATES = (
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/TTF/DejaVuSans.ttf",
    "/System/Library/Fonts/Supplemental/Arial Unicode.ttf",
    "/Library/Fonts/Arial Unicode.ttf",
    "/System/Library/Fonts/Supplemental/Arial.ttf",
    "C:\\Windows\\Fonts\\arial.ttf",
    "C:\\Windows\\Fonts\\segoeui.ttf",
)


class ExportError(SanctumError):
    """A conversation could not be read or written."""


@dataclass(frozen=True)
class Citation:
    """A source an answer cites: number, file, where in it, and the quoted passage."""

    n: int
    path: str
    page: int | None = None
    label: str | None = None
    text: str = ""


@dataclass(frozen=True)
class Evidence:
    """A sentence of a cited passage that supports an answer, verbatim, and where it stands."""

    n: int
    path: str
    page: int | None = None
    label: str | None = None
    text: str = ""


@dataclass(frozen=True)
class Turn:
    """One message: ``role`` is "user" or "assistant".

    ``supported`` is False for an answer whose facts were not found in the passages it cites
    (the export says so under it, as the app does); None when nothing was checked.
    """

    role: str
    text: str
    citations: list[Citation] = field(default_factory=list)
    evidence: list[Evidence] = field(default_factory=list)
    supported: bool | None = None


@dataclass(frozen=True)
class Conversation:
    """What is exported: a title and the turns in order."""

    title: str
    turns: list[Turn]
    created: str | None = None


@dataclass(frozen=True)
class ExportResult:
    """Where the export went and what was redacted (kind -> count)."""

    path: Path
    format: str
    redacted: dict[str, int]


def conversation_from_json(data: Any) -> Conversation:
    """Build a conversation from JSON: ``{"title": …, "turns": [{"role", "text", "citations"}]}``
    or just the list of turns (a turn may also have "evidence", like citations, and "supported").

    Raises:
        ExportError: The data does not have that shape (the message says where).
    """
    if isinstance(data, list):
        data = {"turns": data}
    if not isinstance(data, dict) or not isinstance(data.get("turns"), list):
        raise ExportError('a conversation must be a JSON object with a "turns" list (or a list of turns)')
    turns = []
    for i, raw in enumerate(data["turns"], start=1):
        if (not isinstance(raw, dict) or not isinstance(raw.get("text"), str)
                or raw.get("role") not in ("user", "assistant")):
            raise ExportError(f'turn {i} needs "role" ("user" or "assistant") and "text"')
        cites: list[Citation] = []
        for c in raw.get("citations") or []:
            if not isinstance(c, dict) or "path" not in c:
                raise ExportError(f'a citation in turn {i} needs at least a "path"')
            cites.append(Citation(n=int(c.get("n", len(cites) + 1)), path=str(c["path"]),
                                  page=int(c["page"]) if c.get("page") is not None else None,
                                  label=c.get("label"), text=str(c.get("text", ""))))
        evidence = []
        for e in raw.get("evidence") or []:
            if not isinstance(e, dict) or "path" not in e or not isinstance(e.get("text"), str):
                raise ExportError(f'evidence in turn {i} needs at least a "path" and a "text"')
            evidence.append(Evidence(n=int(e.get("n", 0)), path=str(e["path"]),
                                     page=int(e["page"]) if e.get("page") is not None else None,
                                     label=e.get("label"), text=e["text"]))
        supported = raw.get("supported")
        turns.append(Turn(role=raw["role"], text=raw["text"], citations=cites, evidence=evidence,
                          supported=None if supported is None else bool(supported)))
    return Conversation(title=str(data.get("title") or "Conversation"), turns=turns, created=data.get("created"))


def from_saved(title: str, created_at: float, messages: Sequence[Any]) -> Conversation:
    """A saved conversation (:class:`app.core.storage.conversations.StoredMessage` list) as an export."""
    turns = [
        Turn(role=m.role, text=m.text,
             citations=[Citation(n=c.n, path=c.path, page=c.page, label=c.label, text=c.text) for c in m.citations],
             evidence=[Evidence(n=e.n, path=e.path, page=e.page, label=e.label, text=e.text)
                       for e in m.evidence],
             supported=m.supported)
        for m in messages
    ]
    created = datetime.fromtimestamp(created_at).strftime("%Y-%m-%d %H:%M") if created_at else None
    return Conversation(title=title, turns=turns, created=created)


def load_conversation(path: Path) -> Conversation:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise ExportError(f"cannot read {path}: {exc.strerror or exc}") from exc
    except ValueError as exc:
        raise ExportError(f"{path} is not valid JSON ({exc})") from exc
    return conversation_from_json(data)


def _texts(conv: Conversation) -> list[str]:
    """Every piece of the conversation an export writes (and redacts)."""
    texts = [conv.title]
    for turn in conv.turns:
        texts.append(turn.text)
        quoted: list[Citation | Evidence] = [*turn.evidence, *turn.citations]
        texts += [part for q in quoted for part in (q.text, _where(q))]
    return [t for t in texts if t]


def _redactor(enabled: bool, counts: Counter[str], conv: Conversation) -> Callable[[str], str]:
    """Redacts each piece; a name found in any piece is redacted in all of them ("On call: Okafor")."""
    if not enabled:
        return lambda text: text
    # Each piece is searched once (names need a language model); the names found anywhere are then
    # looked for everywhere.
    found = {text: redaction.find_personal_data(text) for text in dict.fromkeys(_texts(conv))}
    names = [f.text for findings in found.values() for f in findings if f.kind == redaction.NAME]

    def apply(text: str) -> str:
        if not text:
            return text
        findings = found.get(text)
        if findings is None:
            findings = redaction.find_personal_data(text)
        findings = redaction.with_known_names(text, findings, names)
        counts.update(f.kind for f in findings)
        return redaction.apply(text, findings)

    return apply


NOT_SUPPORTED = "Not found in your documents — check before relying on it."


def _where(c: Citation | Evidence) -> str:
    name = Path(c.path).name or c.path
    return f"{name}, {c.label}" if c.label else (f"{name}, page {c.page}" if c.page else name)


def to_markdown(conv: Conversation, *, redact: bool = False, counts: Counter[str] | None = None) -> str:
    """The conversation as Markdown (questions as headings' bodies, answers with their sources)."""
    counts = counts if counts is not None else Counter()
    r = _redactor(redact, counts, conv)
    lines = [f"# {r(conv.title)}", ""]
    stamp = conv.created or datetime.now(UTC).isoformat(timespec="minutes")
    lines += [f"_Exported from Sanctum on {stamp}" + (", personal data redacted" if redact else "") + "._", ""]
    for turn in conv.turns:
        who = "You" if turn.role == "user" else "Sanctum"
        lines += [f"**{who}:**", "", r(turn.text).strip(), ""]
        if turn.supported is False:
            lines += [f"**{NOT_SUPPORTED}**", ""]
        for e in turn.evidence:
            lines += [f"> “{' '.join(r(e.text).split())}” — {r(_where(e))}", ""]
        if turn.citations:
            lines.append("Sources:")
            lines.append("")
            for c in turn.citations:
                quote = " ".join(r(c.text).split())
                lines.append(f"{c.n}. {r(_where(c))}" + (f" — “{quote}”" if quote else ""))
            lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def _font() -> str | None:
    for candidate in _FONT_CANDIDATES:
        if os.path.exists(candidate):
            return candidate
    return None


def write_pdf(conv: Conversation, path: Path, *, redact: bool = False, counts: Counter[str] | None = None) -> Path:
    """Write the conversation as a PDF (atomically) and return the path."""
    from fpdf import FPDF

    counts = counts if counts is not None else Counter()
    r = _redactor(redact, counts, conv)
    pdf = FPDF(format="A4")
    pdf.set_title(r(conv.title))
    pdf.set_creator("Sanctum")
    pdf.set_auto_page_break(auto=True, margin=15)
    font_file = _font()
    family = "Helvetica"
    if font_file:
        pdf.add_font("Body", "", font_file)
        family = "Body"

    def safe(text: str) -> str:
        return text if font_file else text.encode("latin-1", "replace").decode("latin-1")

    def para(text: str, size: float, gap: float = 2) -> None:
        pdf.set_font(family, size=size)
        pdf.multi_cell(0, size * 0.5, safe(text), new_x="LMARGIN", new_y="NEXT")
        pdf.ln(gap)

    pdf.add_page()
    para(r(conv.title), 16, 3)
    stamp = conv.created or datetime.now(UTC).isoformat(timespec="minutes")
    para(f"Exported from Sanctum on {stamp}" + (", personal data redacted" if redact else ""), 9, 4)
    for turn in conv.turns:
        para("You:" if turn.role == "user" else "Sanctum:", 11, 1)
        para(r(turn.text).strip(), 11, 2)
        if turn.supported is False:
            para(NOT_SUPPORTED, 10, 1)
        if turn.evidence:
            pdf.set_left_margin(pdf.l_margin + 6)  # set off like a quotation
            for e in turn.evidence:
                para(f"“{' '.join(r(e.text).split())}” — {r(_where(e))}", 10, 1)
            pdf.set_left_margin(pdf.l_margin - 6)
            pdf.set_x(pdf.l_margin)
        for c in turn.citations:
            quote = " ".join(r(c.text).split())
            para(f"[{c.n}] {r(_where(c))}" + (f" — “{quote}”" if quote else ""), 9, 1)
        pdf.ln(3)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=path.name, suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        pdf.output(tmp)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def export_conversation(conv: Conversation, path: Path, *, fmt: str | None = None,
                        redact: bool = False) -> ExportResult:
    """Write ``conv`` to ``path`` as Markdown or PDF (from ``fmt``, else the file's suffix).

    Raises:
        ExportError: Unknown format, or the file cannot be written.
    """
    path = Path(path).expanduser()
    fmt = (fmt or path.suffix.lstrip(".")).lower()
    fmt = {"markdown": "md"}.get(fmt, fmt)
    if fmt not in FORMATS:
        raise ExportError(f"cannot export to '{fmt or path.name}': choose a .md or .pdf file")
    counts: Counter[str] = Counter()
    try:
        if fmt == "md":
            atomic_write_text(path, to_markdown(conv, redact=redact, counts=counts))
        else:
            write_pdf(conv, path, redact=redact, counts=counts)
    except OSError as exc:
        raise ExportError(f"cannot write {path}: {exc.strerror or exc}") from exc
    return ExportResult(path=path, format=fmt, redacted=dict(counts))
