"""How fast each chat model answers on this computer, measured on real answers.

After each answer the time to its first word and its generation speed are kept per model file (the
last 20 answers), so Settings can show what a model costs here before the user switches to it.
Only timings and file names are kept: no question, answer or document text.
"""

from __future__ import annotations

import contextlib
import json
import statistics
import threading
from dataclasses import dataclass
from pathlib import Path

from app.core.config import atomic_write_text

KEEP = 20


@dataclass(frozen=True)
class Speed:
    """A model's measured speed here (medians over the kept answers)."""

    first_word_s: float
    tokens_per_s: float | None
    answers: int

    def describe(self) -> str:
        rate = f", then {self.tokens_per_s:.0f} tokens/s" if self.tokens_per_s else ""
        answers = f"{self.answers} answer{'s' if self.answers != 1 else ''}"
        return f"first words after {self.first_word_s:.1f} s on this computer{rate} ({answers})"


class SpeedLog:
    """Per-model answer timings in a small JSON file. Thread rule: one lock for the file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()

    def _read(self) -> dict[str, list[list[float]]]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            return data if isinstance(data, dict) else {}
        except (OSError, ValueError):
            return {}

    def record(self, model_file: str, first_word_s: float, tokens_per_s: float | None) -> None:
        """Keep one answer's timings for ``model_file`` (its file name)."""
        with self._lock:
            data = self._read()
            rows = data.setdefault(Path(model_file).name, [])
            rows.append([round(first_word_s, 3), round(tokens_per_s or 0.0, 2)])
            del rows[:-KEEP]
            with contextlib.suppress(OSError):  # a timing is worth nothing to lose an answer over
                atomic_write_text(self.path, json.dumps(data))

    def speed(self, model_file: str) -> Speed | None:
        """The measured speed of ``model_file`` here, or None before its first answer."""
        with self._lock:
            rows = self._read().get(Path(model_file).name) or []
        if not rows:
            return None
        rates = [r[1] for r in rows if r[1] > 0]
        return Speed(first_word_s=statistics.median(r[0] for r in rows),
                     tokens_per_s=statistics.median(rates) if rates else None, answers=len(rows))
