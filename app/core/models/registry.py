"""The model library on disk: which chat models the user added, and their adapters.

``models.json`` beside ``settings.json`` lists each model the user added (a copy in
``models/library/`` or a reference to the file where it lies) and the LoRA adapters it carries.
The bundled models are not listed: they are always there. SHA-256 sums are kept apart in
``models/hashes.json``, keyed by path, size and modification time, so a listing hashes a
multi-gigabyte file once, not every time.
"""

from __future__ import annotations

import contextlib
import json
import re
import threading
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from app.core.config import atomic_write_text
from app.core.errors import ModelError

REGISTRY_VERSION = 1


@dataclass
class AdapterEntry:
    """A LoRA adapter a model carries, and how strongly (0 = not at all, 1 = as trained)."""

    path: str
    scale: float = 1.0

    @property
    def name(self) -> str:
        return Path(self.path).name


@dataclass
class ModelEntry:
    """One model the user added.

    Attributes:
        key: Its short name in commands and settings ("llama-3.2-3b-instruct-q4_k_m").
        path: The file we load.
        copied: Whether ``path`` is our own copy (deleted when the model is removed).
        sha256: The file's SHA-256 when it was added.
        adapters: LoRA adapters applied when it is loaded, in order.
    """

    key: str
    path: str
    copied: bool
    sha256: str
    adapters: list[AdapterEntry] = field(default_factory=list)


def key_for(filename: str, taken: set[str]) -> str:
    """A short, unique key from a file name: 'Llama-3.2-3B-Instruct-Q4_K_M.gguf' → 'llama-3.2-3b-instruct-q4_k_m'."""
    stem = re.sub(r"[^a-z0-9._-]+", "-", Path(filename).stem.lower()).strip("-.") or "model"
    key, n = stem, 2
    while key in taken:
        key, n = f"{stem}-{n}", n + 1
    return key


class ModelRegistry:
    """``models.json``: read on every call (small), written atomically. One lock for the file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.RLock()

    def entries(self) -> list[ModelEntry]:
        with self._lock:
            return [_entry(raw) for raw in self._read().get("models", [])]

    def get(self, key: str) -> ModelEntry | None:
        return next((e for e in self.entries() if e.key == key), None)

    def put(self, entry: ModelEntry) -> None:
        """Add ``entry``, or replace the entry with its key."""
        with self._lock:
            entries = [e for e in self.entries() if e.key != entry.key] + [entry]
            self._write(entries)

    def drop(self, key: str) -> ModelEntry | None:
        with self._lock:
            entries = self.entries()
            gone = next((e for e in entries if e.key == key), None)
            if gone is not None:
                self._write([e for e in entries if e.key != key])
            return gone

    def _read(self) -> dict[str, Any]:
        if not self.path.exists():
            return {}
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ModelError(f"the model list {self.path} is damaged ({exc}); delete it to start the list afresh "
                             "(the model files themselves are not touched)") from exc
        return data if isinstance(data, dict) else {}

    def _write(self, entries: list[ModelEntry]) -> None:
        payload = {"version": REGISTRY_VERSION, "models": [asdict(e) for e in entries]}
        atomic_write_text(self.path, json.dumps(payload, indent=2) + "\n")


def _entry(raw: dict[str, Any]) -> ModelEntry:
    adapters = [AdapterEntry(str(a["path"]), float(a.get("scale", 1.0))) for a in raw.get("adapters", [])]
    return ModelEntry(key=str(raw["key"]), path=str(raw["path"]), copied=bool(raw.get("copied")),
                      sha256=str(raw.get("sha256", "")), adapters=adapters)


class HashCache:
    """SHA-256 sums by (path, size, mtime): a changed file is hashed again, an unchanged one never."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()

    def sha256(self, file: Path, progress: Callable[[int, int], None] | None = None) -> str:
        from app.core.models.shipped import sha256_file

        known = self.cached(file)
        if known is not None:
            return known
        digest = sha256_file(file, progress)
        self.remember(file, digest)
        return digest

    def remember(self, file: Path, digest: str) -> None:
        """Record ``file``'s sum, worked out elsewhere (a copy checked while it was made)."""
        st = file.stat()
        with self._lock:
            seen = self._read()
            seen[f"{file.resolve()}|{st.st_size}|{st.st_mtime_ns}"] = digest
            with contextlib.suppress(OSError):  # a read-only data folder: we hash again next time
                atomic_write_text(self.path, json.dumps(seen))

    def cached(self, file: Path) -> str | None:
        """The sum if already known (no hashing)."""
        try:
            st = file.stat()
        except OSError:
            return None
        with self._lock:
            return self._read().get(f"{file.resolve()}|{st.st_size}|{st.st_mtime_ns}")

    def _read(self) -> dict[str, str]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            return data if isinstance(data, dict) else {}
        except (OSError, ValueError):
            return {}
