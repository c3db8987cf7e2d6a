"""Shared fixtures: real models loaded once per session, a fresh data directory per test."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

# Set before Qt or the Hugging Face libraries are imported by any test module.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
# The data key needs a keyring or a passphrase; CI machines have no keyring, so the CLI (which
# reads $SANCTUM_PASSPHRASE) and in-process engines (typed_passphrase) use this one.
os.environ.setdefault("SANCTUM_PASSPHRASE", "sanctum-test-passphrase")

from app.core.config import Settings  # noqa: E402
from app.core.embedder import Embedder  # noqa: E402
from app.core.engine import Engine  # noqa: E402
from app.core.llm import ChatModel  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"


def typed_passphrase(prompt: str, new: bool) -> str:
    """A PassphraseProvider for engines built in tests."""
    return os.environ["SANCTUM_PASSPHRASE"]


@pytest.fixture(scope="session")
def models_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data dir used only to verify the default models once per session."""
    return tmp_path_factory.mktemp("models-home")


@pytest.fixture(scope="session")
def embedder(models_home: Path) -> Embedder:
    """The real default embedder (all-MiniLM-L6-v2), verified and loaded once."""
    from app.core import models

    return Embedder(models.default_embedder(models_home))


@pytest.fixture(scope="session")
def chat_model_path(models_home: Path) -> Path:
    from app.core import models

    return models.default_chat_model(models_home)


@pytest.fixture(scope="session")
def chat(chat_model_path: Path) -> Iterator[ChatModel]:
    """The real default chat model (Qwen2.5-Coder-0.5B-Instruct Q4_K_M), loaded once."""
    model = ChatModel(chat_model_path, context_size=4096, threads=2)
    yield model
    model.close()


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh, empty data directory, also exported as SANCTUM_HOME for subprocesses."""
    path = tmp_path / "sanctum-home"
    path.mkdir()
    monkeypatch.setenv("SANCTUM_HOME", str(path))
    return path


@pytest.fixture
def engine(home: Path, embedder: Embedder, chat: ChatModel) -> Iterator[Engine]:
    """An engine on a fresh data dir that shares the session's loaded models."""
    eng = Engine(home, settings=Settings(), embedder=embedder, chat=chat, passphrase=typed_passphrase)
    yield eng
    eng.close()


def run_cli(*args: str, env: dict[str, str] | None = None, timeout: float = 600,
            prefix: tuple[str, ...] = ()) -> subprocess.CompletedProcess[str]:
    """Run the installed ``sanctum`` command as a user would, capturing its output."""
    exe = Path(sys.executable).with_name("sanctum")
    return subprocess.run(
        [*prefix, str(exe), *args], capture_output=True, text=True, timeout=timeout,
        env={**os.environ, **(env or {})},
    )
