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


def test_an_export_without_a_sound_model_fails_clearly_and_writes_nothing(tmp_path: Path) -> None:
    copy = tmp_path / "shadow" / names.MODEL_PACKAGE
    shutil.copytree(names.model_dir(), copy, ignore=shutil.ignore_patterns("__pycache__"))
    (copy / names.MODEL_DATA / "tok2vec" / "model").write_bytes(b"not the model")
    out = tmp_path / "letter.md"
    proc = _python(f"""
        import sys
        sys.path.insert(0, {str(tmp_path / "shadow")!r})
        from app.core.errors import SanctumError
        from app.core.privacy.export import Conversation, Turn, export_conversation
        conv = Conversation(title="Bed 4", turns=[Turn("assistant", "Mrs Joan Pike is ready to go home.")])
        try:
            export_conversation(conv, {str(out)!r}, redact=True)
        except SanctumError as exc:
            print("refused:", exc)
    """)
    assert proc.returncode == 0, proc.stderr
    assert "refused: names cannot be redacted" in proc.stdout and "damaged or altered" in proc.stdout
    assert not out.exists() and list(tmp_path.glob("letter*")) == []


def test_long_text_is_read_in_pieces_with_the_right_offsets() -> None:
    line = "Routine observations were stable overnight and the plan is unchanged.\n"
    text = line * 1500 + "Reviewed by Dr Sarah Patel and her colleague Tom Brady.\n"  # ~105,000 characters
    spans = names.find_names(text)
    assert [text[s:e] for s, e in spans] == ["Sarah Patel", "Tom Brady"]
