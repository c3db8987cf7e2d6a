"""Team mode: answers written by a real OpenAI-compatible server (llama-cpp-python's own
``python -m llama_cpp.server``) on a loopback port, with Sanctum's evidence, citations and guard."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.core.config import Settings, parse_server_url
from app.core.errors import ConfigError, ModelError
from app.core.models.llm import GenerationStats, Message
from app.core.models.remote import RemoteChatModel
from app.core.privacy.tokens import load_token, store_token
from tests import docmaker
from tests.conftest import run_cli

TOKEN = "ward-7-team-token"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_for(url: str, process: subprocess.Popen[bytes], log: Path, timeout: float = 240) -> None:
    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited: {log.read_text()[-2000:]}")
        try:
            if httpx.get(url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise RuntimeError(f"the server did not come up: {log.read_text()[-2000:]}")


@pytest.fixture(scope="module")
def llama_server(models_home: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real llama.cpp OpenAI-compatible server on a loopback port, with an API key, serving the
    bundled 0.5B model (the team's "bigger" model in real life; here the smaller keeps the suite fast)."""
    from app.core.models import shipped

    chat_model_path = shipped.shipped_chat_model(models_home, shipped.QWEN_05B)
    port = _free_port()
    log = tmp_path_factory.mktemp("llama-server") / "server.log"
    env = {k: v for k, v in os.environ.items() if "PROXY" not in k.upper()}
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "llama_cpp.server", "--model", str(chat_model_path), "--host", "127.0.0.1",
             "--port", str(port), "--n_ctx", "4096", "--n_threads", "2", "--api_key", TOKEN,
             "--model_alias", "ward-model"],
            stdout=out, stderr=subprocess.STDOUT, env=env)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_for(f"{url}/v1/models", process, log)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()


def test_addresses_must_be_typed_and_encrypted() -> None:
    assert parse_server_url("http://127.0.0.1:8080/v1").url == "http://127.0.0.1:8080"
    assert parse_server_url("https://llm.ward.example").port == 443
    assert parse_server_url("https://llm.ward.example:8443").label == "llm.ward.example:8443"
    with pytest.raises(ConfigError, match="must use https"):
        parse_server_url("http://10.1.2.3:8080")
    with pytest.raises(ConfigError, match="not a server address"):
        parse_server_url("llm.ward.example")
    with pytest.raises(ConfigError, match="must use https"):
        Settings(chat_server="http://llm.ward.example:8080").validate()


def test_the_token_lives_in_the_keyring(home: Path) -> None:
    address = parse_server_url("https://llm.ward.example:8443")
    store_token(address, "s3cret-token")
    assert load_token(address) == "s3cret-token"
    assert not any(b"s3cret-token" in p.read_bytes() for p in home.rglob("*") if p.is_file())
    store_token(address, None)
    assert load_token(address) is None


@pytest.mark.slow
def test_streams_counts_and_stops(llama_server: str) -> None:
    model = RemoteChatModel(parse_server_url(llama_server), context_size=4096, token=TOKEN)
    assert model.model == "ward-model" and model.name == f"ward-model @ {model.address.label}"
    messages = [Message("system", "You answer briefly."), Message("user", "Name three colours of a traffic light.")]
    stats = GenerationStats()
    text = "".join(model.stream(messages, max_tokens=40, temperature=0.0, stats=stats))
    assert text.strip() and stats.completion_tokens > 3
    assert stats.first_token_s is not None and 0 < stats.first_token_s <= stats.total_s
    stopped = GenerationStats()
    pieces = []
    for piece in model.stream(messages, max_tokens=40, temperature=0.0, stats=stopped,
                              cancelled=lambda: len(pieces) >= 2):
        pieces.append(piece)
    assert stopped.cancelled and len(pieces) == 2
    yes = model.yes_probability([Message("user", "Is the sky blue on a clear day? Answer yes or no.")])
    assert 0.0 <= yes <= 1.0
    model.close()


@pytest.mark.slow
def test_a_wrong_token_is_refused_plainly(llama_server: str) -> None:
    with pytest.raises(ModelError, match="refused the API token"):
        RemoteChatModel(parse_server_url(llama_server), context_size=4096, token="not-the-token")


_GUARDED_ASK = textwrap.dedent("""
    import json, socket, sys
    from app.core.privacy import netguard
    guard = netguard.install()
    from app.core.engine import Engine
    from app.core.answer.service import Done
    from app.core.privacy.audit import CHAT_SERVER_CONNECTED
    engine = Engine(passphrase=lambda *a, **k: "team passphrase")
    engine.ingest_service().ingest([__import__("pathlib").Path(sys.argv[1])])
    done = [e for e in engine.ask_service().ask(sys.argv[2]) if isinstance(e, Done)][0]
    refused = []
    for target in (("192.0.2.10", 443), ("example.org", 443)):
        try:
            socket.create_connection(target, timeout=1).close()
        except netguard.NetworkBlocked:
            refused.append(f"{target[0]}:{target[1]}")
        except OSError as exc:
            refused.append(f"NOT BLOCKED {exc}")
    events = [r.event for r in engine.audit.records()]
    print(json.dumps({"answer": done.answer, "model": done.model, "declined": done.declined,
                      "cites": [c.path for c in done.citations], "servers": guard.servers,
                      "refused": refused, "attempts": guard.attempt_count,
                      "connected": CHAT_SERVER_CONNECTED in events}))
    engine.close()
""")


@pytest.mark.slow
def test_asking_through_the_team_server_keeps_evidence_citations_and_the_guard(
        llama_server: str, home: Path, tmp_path: Path) -> None:
    doc = docmaker.make_text(tmp_path / "ward7.txt",
                             "Ward 7 handover protocol.\n\nThe night handover on ward 7 starts at 19:45 in the "
                             "day room. The nurse in charge carries bleep 4411.")
    env = {**os.environ, "SANCTUM_HOME": str(home), "SANCTUM_PASSPHRASE": "team passphrase"}
    assert subprocess.run([sys.executable, "-m", "app", "config", "set", "chat_server", llama_server],
                          env=env, capture_output=True, text=True).returncode == 0
    store_token(parse_server_url(llama_server), TOKEN)
    question = "When does the night handover on ward 7 start?"
    out = subprocess.run([sys.executable, "-c", _GUARDED_ASK, str(doc), question],
                         env=env, capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert "19:45" in result["answer"] and not result["declined"]
    assert result["cites"] == [str(doc)]
    assert result["model"].startswith("ward-model @ 127.0.0.1:")
    port = int(llama_server.rsplit(":", 1)[1])
    assert result["servers"] == [["127.0.0.1", port]], "the guard allows exactly the configured server"
    assert result["refused"] == ["192.0.2.10:443", "example.org:443"]
    assert result["attempts"] == 2 and result["connected"]


@pytest.mark.slow
def test_cli_ask_server_and_back_to_local(llama_server: str, home: Path, tmp_path: Path) -> None:
    doc = docmaker.make_text(tmp_path / "fridge.txt", "The blood bank fridge is in room 0.12, next to the lift.")
    assert run_cli("ingest", str(doc)).returncode == 0
    env = {"SANCTUM_SERVER_TOKEN": TOKEN}
    assert run_cli("config", "set", "chat_server", llama_server).returncode == 0
    assert run_cli("config", "server-token", env=env).returncode == 0
    asked = run_cli("ask", "Where is the blood bank fridge?", "--json")
    assert asked.returncode == 0, asked.stderr
    payload = json.loads(asked.stdout)
    assert "0.12" in payload["answer"] and payload["model"].startswith("ward-model @")
    assert run_cli("config", "set", "chat_server", "local").returncode == 0
    log = run_cli("audit", "export")
    assert "chat_server.switched" in log.stdout and "local model" in log.stdout
    # --server for one question, while the settings stay on the local model
    once = run_cli("ask", "Where is the blood bank fridge?", "--json", "--server", llama_server)
    assert once.returncode == 0 and json.loads(once.stdout)["model"].startswith("ward-model @")
    assert json.loads((home / "settings.json").read_text()).get("chat_server") is None


TEAM_INDICATOR_PROBE = r"""
import json
from app.core.privacy import netguard
guard = netguard.install()
from PySide6.QtWidgets import QApplication
app = QApplication([])
from app.gui.offline import OfflineIndicator
label = OfflineIndicator()
out = {"before": label.text()}
guard.allow_server("127.0.0.1", 8081)
app.processEvents()
out["during"], out["tip"] = label.text(), label.toolTip()
guard.forget_server("127.0.0.1", 8081)
app.processEvents()
out["after"] = label.text()
print(json.dumps(out))
"""


def test_status_bar_says_team_server_while_one_is_allowed() -> None:
    proc = subprocess.run([sys.executable, "-c", TEAM_INDICATOR_PROBE], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert "Offline" in out["before"]
    assert "Team server: 127.0.0.1" in out["during"] and "Offline" not in out["during"]
    assert "127.0.0.1:8081" in out["tip"] and "every other connection is blocked" in out["tip"]
    assert "Offline" in out["after"]


def test_settings_team_tab_sets_the_server_and_goes_local_in_one_click(qtbot) -> None:
    from app.gui.settings.settings_dialog import SettingsDialog

    dialog = SettingsDialog(Settings(), default_model="/nowhere/model.gguf")
    qtbot.addWidget(dialog)
    dialog.team_page.address.setText("http://10.0.0.9:8080")
    dialog._on_buttons_accepted()
    assert dialog.result_settings() is None and "must use https" in dialog.error.text()
    dialog.team_page.address.setText("https://llm.ward.example:8443")
    dialog.team_page.token.setText("s3cr3t-9f2")
    dialog._on_buttons_accepted()
    assert dialog.result_settings().chat_server == "https://llm.ward.example:8443"
    assert dialog.team_page.new_token() == "s3cr3t-9f2"
    assert "s3cr3t-9f2" not in json.dumps(dialog.result_settings().__dict__)
    again = SettingsDialog(dialog.result_settings(), default_model="/nowhere/model.gguf")
    qtbot.addWidget(again)
    assert again.team_page.use_local.isEnabled()
    again.team_page.use_local.click()  # one click: saved with no server
    assert again.result() == again.DialogCode.Accepted and again.result_settings().chat_server is None
