"""The command line: the shapes and exit codes the benchmarks and our checks rely on."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from app.core.models import shipped as models
from tests import docmaker
from tests.conftest import run_cli, sanctum


def test_ingest_exit_codes_and_outcome_lines(home: Path, tmp_path: Path) -> None:
    good = docmaker.make_text(tmp_path / "good.txt", "The blood bank fridge is in room 0.12.")
    bad = tmp_path / "bad.pdf"
    bad.write_bytes(b"%PDF-1.7 garbage garbage")
    first = sanctum("ingest", str(good), str(bad))
    assert first.returncode == 1, "some files failed: exit 1"
    assert f"ingested   {good}" in first.stdout
    assert f"failed     {bad}: " in first.stdout
    again = sanctum("ingest", str(good))
    assert again.returncode == 0
    assert f"unchanged  {good}" in again.stdout


def test_usage_errors_exit_2(home: Path) -> None:
    assert sanctum("ingest").returncode == 2
    assert sanctum("frobnicate").returncode == 2
    assert sanctum("search", "x", "-k", "0").returncode == 2


def test_docs_and_remove(home: Path, tmp_path: Path) -> None:
    pdf = docmaker.make_pdf(tmp_path / "policy.pdf", ["one", "two", "three"])
    assert sanctum("ingest", str(pdf)).returncode == 0
    listed = json.loads(sanctum("docs", "--json").stdout)
    assert listed == [{"path": str(pdf), "status": "ready", "format": "pdf", "title": None, "pages": 3,
                       "chunks": 3, "error": None}]
    removed = sanctum("remove", str(pdf))
    assert removed.returncode == 0 and "removed" in removed.stdout
    assert json.loads(sanctum("docs", "--json").stdout) == []
    missing = sanctum("remove", str(pdf))
    assert missing.returncode == 1 and "not in the library" in missing.stderr


def test_everything_stays_under_sanctum_home(home: Path, tmp_path: Path, small_chat_model_path: Path) -> None:
    fake_user_home = tmp_path / "user"
    fake_user_home.mkdir()
    doc = docmaker.make_text(tmp_path / "n.txt", "Night shift handover is at 21:00.")
    env = {"HOME": str(fake_user_home), "XDG_DATA_HOME": str(fake_user_home / ".local/share"),
           "XDG_CONFIG_HOME": str(fake_user_home / ".config"), "XDG_CACHE_HOME": str(fake_user_home / ".cache")}
    assert run_cli("ingest", str(doc), env=env).returncode == 0
    assert run_cli("config", "set", "top_k", "4", env=env).returncode == 0
    # the small test model: where files go does not depend on which model answers
    assert run_cli("--model", str(small_chat_model_path), "ask", "When is the night shift handover?",
                   env=env).returncode == 0
    assert list(fake_user_home.rglob("*")) == [], "nothing may be written outside SANCTUM_HOME"
    assert (home / "library.sqlite3").exists() and (home / "store").is_dir()
    assert json.loads((home / "settings.json").read_text())["top_k"] == 4


def test_config_rejects_bad_values(home: Path) -> None:
    bad = sanctum("config", "set", "temperature", "hot")
    assert bad.returncode == 1 and "temperature needs a number" in bad.stderr
    out = sanctum("config", "set", "top_k", "500")
    assert out.returncode == 1 and "top_k must be between 1 and 50" in out.stderr
    unknown = sanctum("config", "set", "colour", "blue")
    assert unknown.returncode == 1 and "unknown setting 'colour'" in unknown.stderr


def test_switching_embedding_model_needs_reindex(home: Path, tmp_path: Path) -> None:
    doc = docmaker.make_text(tmp_path / "a.txt", "The oxygen cylinders are stored in bay 3.")
    assert sanctum("ingest", str(doc)).returncode == 0
    other = tmp_path / "my-minilm-copy"
    shutil.copytree(models.default_embedder(tmp_path / "verify"), other)
    refused = sanctum("--embedding-model", str(other), "search", "oxygen")
    assert refused.returncode == 1
    assert "indexed with the embedding model" in refused.stderr and "--reindex" in refused.stderr
    redone = sanctum("--embedding-model", str(other), "ingest", "--reindex", str(doc))
    assert redone.returncode == 0 and "ingested" in redone.stdout
    found = json.loads(sanctum("--embedding-model", str(other), "search", "oxygen", "--json").stdout)
    assert Path(found[0]["path"]).name == "a.txt"


def test_models_command(home: Path) -> None:
    info = json.loads(sanctum("models", "--json").stdout)
    assert info["chat"]["name"] == "Qwen2.5 Coder 1.5B Instruct GGUF"
    assert info["chat"]["quantization"] == "Q4_K_M"
