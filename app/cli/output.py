"""How the commands print what happened to each file (shared by the command groups)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from app.core.ingest.service import FileOutcome


def outcome_line(o: FileOutcome) -> str:
    """One line per file: ingested (with chunks, pages and time), unchanged, or why it failed."""
    if o.status == "ingested":
        pages = f", {o.pages} pages" if o.pages else ""
        return f"ingested   {o.path} ({o.chunks} chunks{pages}, {o.seconds:.1f} s)"
    if o.status == "unchanged":
        return f"unchanged  {o.path}"
    return f"{o.status:<10} {o.path}: {o.reason}"
