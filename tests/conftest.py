"""Shared fixtures: real models loaded once per session, a fresh data directory per test.

Keys: every test runs against a real Secret Service keyring (gnome-keyring on a D-Bus session bus).
``installers/setup.sh test`` starts one around pytest; when pytest is run without one, the
session fixture ``secret_service`` starts its own (and gives up with a clear message where
gnome-keyring is not installed). So data directories made by tests keep their key in the keyring,
as on a user's desktop; the passphrase path is tested explicitly (tests/test_privacy_keys.py).
``SANCTUM_PASSPHRASE`` is set too, for the tests that turn the keyring off.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
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
TEST_PASSPHRASE = "sanctum test passphrase"
os.environ.setdefault("SANCTUM_PASSPHRASE", TEST_PASSPHRASE)

from app.core.config import Settings  # noqa: E402
from app.core.engine import Engine  # noqa: E402
from app.core.models.embedder import Embedder  # noqa: E402
from app.core.models.llm import ChatModel  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"


def typed_passphrase(prompt: str, new: bool) -> str:
    """A passphrase provider for in-process engines (what a user would type)."""
    return os.environ.get("SANCTUM_PASSPHRASE", TEST_PASSPHRASE)


@pytest.fixture(scope="session", autouse=True)
def secret_service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """A real Secret Service keyring for the whole session (the one around pytest, or our own)."""
    import keyring
    from keyring.backends import SecretService

    from app.core.privacy.keys import keyring_usable

    if keyring_usable():
        yield
        return
    missing = [tool for tool in ("dbus-daemon", "gnome-keyring-daemon") if not shutil.which(tool)]
    if missing:
        pytest.fail(f"no keyring and no {', '.join(missing)}: run the tests with `installers/setup.sh test`, "
                    "which installs gnome-keyring and dbus")
    data = tmp_path_factory.mktemp("keyring-data")  # never the developer's own keyring
    bus = subprocess.Popen(["dbus-daemon", "--session", "--nofork", "--print-address=1",
                            f"--address=unix:path={data}/bus"], stdout=subprocess.PIPE, text=True)
    assert bus.stdout is not None
    address = bus.stdout.readline().strip()
    saved = {k: os.environ.get(k) for k in ("DBUS_SESSION_BUS_ADDRESS",)}
    os.environ["DBUS_SESSION_BUS_ADDRESS"] = address
    daemon = subprocess.Popen(["gnome-keyring-daemon", "--foreground", "--unlock", "--components=secrets"],
                              stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              env={**os.environ, "XDG_DATA_HOME": str(data)})
    assert daemon.stdin is not None
    daemon.stdin.write(b"pass")
    daemon.stdin.close()
    before = keyring.get_keyring()
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                if SecretService.Keyring.priority > 0:  # evaluated afresh: it asks the bus
                    break
            except Exception:
                pass
            if time.monotonic() > deadline:
                pytest.fail("gnome-keyring-daemon started but no Secret Service appeared on the bus")
            time.sleep(0.2)
        keyring.set_keyring(SecretService.Keyring())  # keyring chose its backend before the daemon ran
        assert keyring_usable()
        yield
    finally:
        for proc in (daemon, bus):
            proc.terminate()
            proc.wait(timeout=10)
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        keyring.set_keyring(before)


@pytest.fixture(scope="session")
def models_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data dir used only to verify the default models once per session."""
    return tmp_path_factory.mktemp("models-home")


@pytest.fixture(scope="session")
def embedder(models_home: Path) -> Embedder:
    """The real default embedder (all-MiniLM-L6-v2, on the default backend), verified and loaded once."""
    from app.core.config import DEFAULT_EMBEDDING_BACKEND
    from app.core.models import shipped as models

    return Embedder(models.default_embedder(models_home), backend=DEFAULT_EMBEDDING_BACKEND,
                    onnx_dirs=[models.shipped_models_dir() / "onnx", models_home / "models" / "onnx"])


@pytest.fixture(scope="session")
def chat_model_path(models_home: Path) -> Path:
    from app.core.models import shipped as models

    return models.default_chat_model(models_home)


@pytest.fixture(scope="session")
def chat(chat_model_path: Path) -> Iterator[ChatModel]:
    """The real default chat model (Qwen2.5-Coder-1.5B-Instruct Q4_K_M), loaded once."""
    model = ChatModel(chat_model_path, context_size=4096, threads=2)
    yield model
    model.close()


@pytest.fixture(scope="session")
def small_chat_model_path(models_home: Path) -> Path:
    """SmolLM2-135M-Instruct (Q4_1, llama architecture, with a chat template), SHA-256 verified once:
    a second, different, ~4x quicker real chat model (installed by ``installers/setup.sh test``)."""
    from app.core.models import shipped as models

    return models.find_test_chat_model(cache_dir=models_home / "models")


@pytest.fixture(scope="session")
def small_chat(small_chat_model_path: Path) -> Iterator[ChatModel]:
    """The SmolLM2-135M-Instruct test model, loaded once."""
    model = ChatModel(small_chat_model_path, context_size=2048, threads=2)
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


def sanctum(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run a ``sanctum`` command in this process (``app.cli.main.main(argv)``), capturing its output.

    Much faster than :func:`run_cli` (no new interpreter importing torch, Chroma and llama.cpp),
    and the same exit codes and output. Not for what needs a process of its own: the network
    guard (installed for good by the launcher, so it is left out here), signals, a terminal, or
    environment read when a library is imported (HOME for the model caches): use ``run_cli``.
    """
    import contextlib
    import io
    from unittest import mock

    from app.cli.main import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.ExitStack() as stack:
        stack.enter_context(mock.patch.dict(os.environ, env or {}))
        stack.enter_context(mock.patch("app.core.privacy.netguard.install"))
        stack.enter_context(mock.patch("sys.stdin", io.StringIO("")))  # no terminal: nobody is asked
        stack.enter_context(contextlib.redirect_stdout(out))
        stack.enter_context(contextlib.redirect_stderr(err))
        try:
            code = main(list(args))
        except SystemExit as exit_:  # argparse: usage errors and --help
            code = exit_.code if isinstance(exit_.code, int) else 1
    return subprocess.CompletedProcess(["sanctum", *args], code, out.getvalue(), err.getvalue())


@pytest.fixture
def small_engine(home: Path, embedder: Embedder, small_chat: ChatModel) -> Iterator[Engine]:
    """An engine on a fresh data dir with the small test model: for tests of the mechanics of
    answering (streaming, stopping, pausing the ingest), not of the answers' quality."""
    eng = Engine(home, settings=Settings(), embedder=embedder, chat=small_chat, passphrase=typed_passphrase)
    yield eng
    eng.close()
