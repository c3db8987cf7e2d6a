"""Manage chat models: the library of installed models, the default, adapters, quantizing.

The front ends (the Models page, ``sanctum models``) use this service, never the files behind it.
A model is known by a short key: the bundled ones by theirs ("qwen-1.5b", "qwen-0.5b"), added
ones by a key made from their file name. Adding a model checks it the way loading would (a
broken, truncated or non-chat GGUF is refused with the file and the reason) before it is listed.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from app.core.errors import ModelError
from app.core.models import shipped
from app.core.models.gguf import GGUFInfo, read_gguf_info
from app.core.models.quantize import TYPES as QUANT_TYPES
from app.core.models.quantize import UNQUANTIZED, QuantizeCancelled, QuantizeResult, quantize
from app.core.models.registry import AdapterEntry, HashCache, ModelEntry, ModelRegistry, key_for
from app.core.models.speeds import Speed, SpeedLog
from app.core.models.templates import NO_TEMPLATE_NOTE

# Re-exported for the front ends, which reach models through this service only.
__all__ = ["NO_TEMPLATE_NOTE", "QUANT_TYPES", "UNQUANTIZED", "ModelService", "ModelView", "QuantizeCancelled",
           "QuantizeResult", "check_chat_model"]

# Architectures that make vectors, not text: llama.cpp loads them, but they cannot answer.
ENCODER_ARCHITECTURES = frozenset({"bert", "nomic-bert", "nomic-bert-moe", "jina-bert-v2", "t5encoder", "clip",
                                   "wavtokenizer-dec"})
Progress = Callable[[int, int], None]


@dataclass
class ModelView:
    """What the Models page and ``sanctum models`` show about one chat model.

    Attributes:
        key: Its short name.
        path: Its file.
        bundled: Shipped with Sanctum (cannot be removed).
        copied: An added model we copied into the data folder.
        default: Used for new conversations.
        info: The GGUF header; None when the file cannot be read (see ``problem``).
        sha256: The file's SHA-256 (None when not computed).
        problem: Why the model cannot be used now (missing or damaged file), else None.
        adapters: The LoRA adapters it carries.
        speed: Its speed measured on this computer, None before its first answer.
    """

    key: str
    path: Path
    bundled: bool
    copied: bool = False
    default: bool = False
    info: GGUFInfo | None = None
    sha256: str | None = None
    problem: str | None = None
    adapters: list[AdapterEntry] = field(default_factory=list)
    speed: Speed | None = None
    listed: bool = True  # False: a file chosen in Settings (or set_default elsewhere) but never added

    @property
    def title(self) -> str:
        return self.info.name if self.info else self.path.name

    def as_dict(self) -> dict[str, Any]:
        i = self.info
        return {
            "key": self.key, "name": self.title, "path": str(self.path), "bundled": self.bundled,
            "copied": self.copied, "default": self.default, "sha256": self.sha256, "problem": self.problem,
            "family": i.family if i else None, "architecture": i.architecture if i else None,
            "parameters": i.parameters if i else None, "parameters_label": i.parameters_label() if i else None,
            "quantization": i.quantization if i else None, "context_length": i.context_length if i else None,
            "chat_template": i.has_chat_template if i else None, "licence": i.licence if i else None,
            "size_bytes": i.size_bytes if i else None,
            "adapters": [{"path": a.path, "scale": a.scale} for a in self.adapters], "listed": self.listed,
            "speed": ({"first_word_s": self.speed.first_word_s, "tokens_per_s": self.speed.tokens_per_s,
                       "answers": self.speed.answers} if self.speed else None),
        }


def check_chat_model(path: Path) -> GGUFInfo:
    """Read ``path``'s header and refuse what cannot answer questions.

    Raises:
        ModelError: Not GGUF, damaged, truncated, an adapter, or an embedding model; the message
            names the file and the reason.
    """
    info = read_gguf_info(path)
    if info.file_kind == "adapter":
        raise ModelError(f"{path}: this is a LoRA adapter, not a model; add it to a model with "
                         "`sanctum models adapter add MODEL FILE` (or on the model's page)")
    if info.architecture in ENCODER_ARCHITECTURES or "pooling_type" in " ".join(info.metadata):
        raise ModelError(f"{path}: this is an embedding model ({info.architecture}), which turns text into vectors; "
                         "it cannot write answers. Choose a chat (instruct) model")
    if not info.tensors:
        raise ModelError(f"{path}: this GGUF file holds no weights (a vocabulary only); choose a complete model")
    return info


class ModelService:
    """The model library.

    Args:
        root: The data folder (``models.json`` is kept there, copies under ``models/library``).
        settings: Returns the current settings (the default model is ``chat_model``).
        update_settings: Changes settings (``update_settings(chat_model=...)``), as the engine does.
        speeds: The per-model speed log.
        on_changed: Called with a model's path when its file or adapters change (the engine
            unloads it so the next answer loads it afresh).
    """

    def __init__(self, root: Path, *, settings: Callable[[], Any], update_settings: Callable[..., Any],
                 speeds: SpeedLog | None = None, on_changed: Callable[[Path], None] | None = None) -> None:
        self.root = root
        self.registry = ModelRegistry(root / "models.json")
        self.hashes = HashCache(root / "models" / "hashes.json")
        self.library_dir = root / "models" / "library"
        self._settings = settings
        self._update_settings = update_settings
        self._speeds = speeds
        self._on_changed = on_changed or (lambda path: None)

    # -- listing ----------------------------------------------------------------------------

    def bundled_paths(self) -> list[tuple[shipped.ShippedChatModel, Path]]:
        """The bundled chat models that are installed here."""
        found = []
        for model in shipped.SHIPPED_CHAT_MODELS:
            for folder in (shipped.shipped_models_dir(), self.root / "models"):
                candidate = folder / model.file.filename
                if candidate.exists():
                    found.append((model, candidate))
                    break
        return found

    def default_path(self) -> Path | None:
        chosen = self._settings().chat_model
        if chosen:
            return Path(chosen).expanduser()
        bundled = self.bundled_paths()
        return bundled[0][1] if bundled else None

    def models(self, *, hashes: bool = True,
               progress: Callable[[str, int, int], None] | None = None) -> list[ModelView]:
        """Every chat model: the bundled ones, then those added, in the order they were added.

        Args:
            hashes: Compute missing SHA-256 sums (slow the first time for a big file; remembered).
            progress: (file name, bytes hashed, total) while hashing.
        """
        default = self.default_path()
        views = []
        for model, path in self.bundled_paths():
            views.append(self._view(model.key, path, bundled=True, hashes=hashes, progress=progress,
                                    known_sha=model.file.sha256 if hashes else None))
        for entry in self.registry.entries():
            views.append(self._view(entry.key, Path(entry.path), bundled=False, copied=entry.copied,
                                    adapters=entry.adapters, hashes=hashes, progress=progress))
        for v in views:
            v.default = default is not None and _same(v.path, default)
        if default is not None and not any(v.default for v in views):
            # A file chosen in Settings without being added: shown, so the list says what answers.
            extra = self._view(key_for(default.name, {v.key for v in views}), default, bundled=False,
                               hashes=hashes, progress=progress)
            extra.default, extra.listed = True, False
            views.append(extra)
        return views

    def _view(self, key: str, path: Path, *, bundled: bool, hashes: bool, copied: bool = False,
              adapters: list[AdapterEntry] | None = None, known_sha: str | None = None,
              progress: Callable[[str, int, int], None] | None = None) -> ModelView:
        view = ModelView(key=key, path=path, bundled=bundled, copied=copied, adapters=list(adapters or []))
        try:
            view.info = read_gguf_info(path)
        except ModelError as exc:
            view.problem = str(exc)
            return view
        if known_sha is not None:  # bundled: verified by setup against the hash we know
            view.sha256 = known_sha
        elif hashes:
            view.sha256 = self.hashes.sha256(path, (lambda d, t: progress(path.name, d, t)) if progress else None)
        else:
            view.sha256 = self.hashes.cached(path)
        if self._speeds is not None:
            view.speed = self._speeds.speed(path.name)
        return view

    def get(self, key: str) -> ModelView:
        """The model called ``key`` (its header read; no hashing).

        Raises:
            ModelError: No model has that key (the message lists those that do).
        """
        views = self.models(hashes=False)
        found = next((v for v in views if v.key == key), None)
        if found is None:
            known = ", ".join(v.key for v in views) or "none"
            raise ModelError(f"no chat model called '{key}' (installed: {known}); see `sanctum models`")
        return found

    def resolve(self, key: str | None) -> tuple[Path, list[AdapterEntry]]:
        """The file and adapters to load for ``key`` (None: the default model)."""
        if key is None:
            path = self.default_path()
            if path is None:
                return shipped.default_chat_model(self.root), []
            entry = next((e for e in self.registry.entries() if _same(Path(e.path), path)), None)
            return path, (entry.adapters if entry else [])
        view = self.get(key)
        if view.problem:
            raise ModelError(view.problem)
        return view.path, view.adapters

    # -- changes ----------------------------------------------------------------------------

    def add(self, path: Path, *, copy: bool, progress: Progress | None = None) -> ModelView:
        """Check ``path`` and add it to the library, copied into the data folder or referenced.

        Raises:
            ModelError: The file is not a usable chat model (named, with the reason), or is
                already in the library.
        """
        path = Path(path).expanduser().resolve()
        info = check_chat_model(path)
        # A second copy of a model is allowed (it may carry other adapters); a second reference is not.
        for view in self.models(hashes=False):
            if _same(view.path, path) and not copy:
                raise ModelError(f"{path}: already in the library as '{view.key}'")
        digest = self.hashes.sha256(path, progress)
        for entry in self.registry.entries():
            if entry.sha256 == digest and not copy:
                raise ModelError(f"{path}: the same model is already in the library as '{entry.key}' "
                                 f"({entry.path})")
        taken = {v.key for v in self.models(hashes=False)}
        key = key_for(path.name, taken)
        target = path
        if copy:
            target = self._copy_in(path, key, digest)
        self.registry.put(ModelEntry(key=key, path=str(target), copied=copy, sha256=digest))
        del info
        return self.get(key)

    def _copy_in(self, path: Path, key: str, digest: str) -> Path:
        """Copy to ``models/library/KEY.gguf`` through a temporary name; check the copy's hash."""
        self.library_dir.mkdir(parents=True, exist_ok=True)
        target = self.library_dir / f"{key}.gguf"
        tmp = target.with_suffix(".partial")
        try:
            shutil.copyfile(path, tmp)
            with tmp.open("rb+") as fh:
                os.fsync(fh.fileno())
            if shipped.sha256_file(tmp) != digest:
                raise ModelError(f"{path}: the copy differs from the file (a failing disk?); nothing was added")
            os.replace(tmp, target)
        except OSError as exc:
            raise ModelError(f"{path}: could not copy it into {self.library_dir} ({exc.strerror or exc})") from exc
        finally:
            tmp.unlink(missing_ok=True)
        self.hashes.remember(target, digest)  # the copy was just checked: no third reading
        return target

    def remove(self, key: str) -> str:
        """Forget a model (its copy is deleted; a referenced file is left where it is).

        Returns:
            What was done, in a sentence.

        Raises:
            ModelError: A bundled model, or no such model.
        """
        view = self.get(key)
        if view.bundled:
            raise ModelError(f"'{key}' is bundled with Sanctum and cannot be removed")
        if not view.listed:
            raise ModelError(f"'{key}' was chosen in Settings and is not in the list; choose another model there "
                             f"(or add it with `sanctum models add {view.path}` to keep it)")
        entry = self.registry.drop(key)
        assert entry is not None
        self._on_changed(view.path)
        note = ""
        if view.default:
            self._update_settings(chat_model=None)
            note = " New conversations use the bundled default model again."
        if entry.copied:
            Path(entry.path).unlink(missing_ok=True)
            return f"Removed '{key}' and deleted its copy.{note}"
        return f"Removed '{key}' from the list; the file {entry.path} was left where it is.{note}"

    def set_default(self, key: str) -> ModelView:
        """Use ``key`` for new conversations (and the command line)."""
        view = self.get(key)
        if view.problem:
            raise ModelError(view.problem)
        default_bundled = self.bundled_paths()[:1]
        is_first_bundled = bool(default_bundled) and _same(default_bundled[0][1], view.path)
        self._update_settings(chat_model=None if is_first_bundled else str(view.path))
        view.default = True
        return view

    # -- quantizing -------------------------------------------------------------------------

    def quantize(self, src: Path, qtype: str, *, output: Path | None = None, allow_requantize: bool = False,
                 progress: Callable[[int, int, str], None] | None = None,
                 cancelled: Callable[[], bool] | None = None,
                 add: bool = False) -> tuple[QuantizeResult, ModelView | None]:
        """Quantize the model file ``src`` (see :func:`app.core.models.quantize.quantize`); with
        ``add`` the result joins the library (referenced where it was written)."""
        result = quantize(src, qtype, output=output, allow_requantize=allow_requantize, progress=progress,
                          cancelled=cancelled)
        return result, (self.add(result.output, copy=False) if add else None)

    # -- adapters ---------------------------------------------------------------------------

    def add_adapter(self, key: str, adapter: Path, *, scale: float = 1.0) -> AdapterEntry:
        """Let model ``key`` carry a LoRA adapter at ``scale``; checked against the model first.

        Raises:
            ModelError: The model is bundled (add a copy first) or unknown; the file is not a LoRA
                adapter; or it was made for another model (names the first mismatch).
        """
        from app.core.models.adapters import check_adapter

        if not -4.0 <= scale <= 4.0:
            raise ModelError(f"scale {scale} is out of range: use 0 (off) to 1 (as trained), at most 4")
        entry = self._added(key)
        adapter = Path(adapter).expanduser().resolve()
        check_adapter(adapter, read_gguf_info(Path(entry.path)))
        entry.adapters = [a for a in entry.adapters if not _same(Path(a.path), adapter)]
        added = AdapterEntry(str(adapter), float(scale))
        entry.adapters.append(added)
        self.registry.put(entry)
        self._on_changed(Path(entry.path))
        return added

    def remove_adapter(self, key: str, adapter: str) -> AdapterEntry:
        """Take an adapter (its file name or path) off model ``key``."""
        entry = self._added(key)
        gone = next((a for a in entry.adapters if adapter in (a.path, a.name)), None)
        if gone is None:
            names = ", ".join(a.name for a in entry.adapters) or "none"
            raise ModelError(f"'{key}' carries no adapter '{adapter}' (it carries: {names})")
        entry.adapters = [a for a in entry.adapters if a is not gone]
        self.registry.put(entry)
        self._on_changed(Path(entry.path))
        return gone

    def _added(self, key: str) -> ModelEntry:
        entry = self.registry.get(key)
        if entry is None:
            view = self.get(key)  # raises for an unknown key
            if not view.listed:
                raise ModelError(f"'{key}' was chosen in Settings and is not in the list; add it first "
                                 f"(`sanctum models add {view.path}`)")
            raise ModelError(f"'{view.key}' is bundled with Sanctum and is left as shipped; add a copy of it "
                             f"(`sanctum models add {view.path} --copy`) and give the adapter to that")
        return entry


def _same(a: Path, b: Path) -> bool:
    try:
        return a.resolve() == b.resolve()
    except OSError:
        return a == b
