"""The names model: loaded only when redacting, offline under the network guard, refused if altered."""

from __future__ import annotations

import importlib
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from app.core.privacy import names

ROOT = Path(__file__).resolve().parents[1]


def _python(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True,
                          cwd=ROOT, timeout=300)


def test_spacy_is_loaded_only_when_redacting_and_makes_no_network_access() -> None:
    proc = _python("""
        import sys
        from app.core.privacy import netguard
        guard = netguard.install()
        import app.cli.main, app.core.engine, app.core.privacy.export, app.core.privacy.redact
        assert "spacy" not in sys.modules, "spaCy imported at start-up"
        from app.core.privacy.redact import redact
        out = redact("Seen by Dr Sarah Patel with her son Daniel Brookes.")
        assert "spacy" in sys.modules
        print(out, guard.active, guard.attempt_count)
    """)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["Seen", "by", "Dr", "[NAME]", "with", "her", "son", "[NAME].", "True", "0"]


def test_an_altered_model_is_refused_with_a_clear_message(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    installed = names.model_dir()  # the real one passes
    copy = tmp_path / names.MODEL_PACKAGE
    shutil.copytree(installed, copy, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.syspath_prepend(str(tmp_path))  # the copy now shadows the installed package
    importlib.invalidate_caches()
    assert names.model_dir() == copy  # byte-identical: accepted
    ner_cfg = copy / names.MODEL_DATA / "ner" / "cfg"
    ner_cfg.write_text(ner_cfg.read_text().replace("}", ' ,"x": 1}', 1))
    with pytest.raises(names.NamesModelError, match="damaged or altered"):
        names.model_dir()
    ner_cfg.unlink()
    with pytest.raises(names.NamesModelError, match="run the setup again"):
        names.model_dir()
