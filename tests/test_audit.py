"""The audit trail: chained, encrypted, and every kind of tampering is caught and located."""

from __future__ import annotations

import getpass
import json
from pathlib import Path

import pytest

from app.core.crypto import Cipher
from app.core.privacy.audit import AuditLog
from tests.conftest import sanctum

KEY = bytes(range(32))


def _log(tmp_path: Path, n: int = 5, key: bytes = KEY) -> AuditLog:
    log = AuditLog(tmp_path / "audit.log", Cipher(key))
    for i in range(1, n + 1):
        log.record("document.added", path=f"/records/patient-{i}.pdf", chunks=i)
    return log


def _lines(log: AuditLog) -> list[str]:
    return log.path.read_text().splitlines()


def test_records_are_chained_encrypted_and_readable_with_the_key(tmp_path: Path) -> None:
    log = _log(tmp_path)
    assert log.verify().ok and log.verify().records == 5
    raw = log.path.read_text()
    assert "patient-" not in raw and "document.added" not in raw and getpass.getuser() not in raw
    records = list(log.records())
    assert [r.seq for r in records] == [1, 2, 3, 4, 5]
    assert records[2].details == {"path": "/records/patient-3.pdf", "chunks": 3}
    assert records[0].user == getpass.getuser() and records[0].time.endswith("+00:00")
    lines = [json.loads(x) for x in _lines(log)]
    assert all(lines[i]["prev"] == lines[i - 1]["hash"] for i in range(1, 5))


def test_one_edited_byte_is_caught_at_its_record(tmp_path: Path) -> None:
    log = _log(tmp_path)
    data = bytearray(log.path.read_bytes())
    third = data.index(b'{"seq": 3')
    pos = data.index(b'"data": "', third) + 20
    data[pos] = ord("A") if data[pos] != ord("A") else ord("B")
    log.path.write_bytes(bytes(data))
    check = log.verify()
    assert not check.ok and check.first_broken == 3 and "altered" in (check.problem or "")


def test_a_record_rewritten_and_rechained_without_the_key_is_caught(tmp_path: Path) -> None:
    """An attacker who recomputes every hash still cannot forge the encrypted content."""
    log = _log(tmp_path)
    forged = AuditLog(tmp_path / "forged.log", Cipher(bytes(32)))  # another key
    forged.record("document.removed", path="/records/patient-2.pdf")
    lines = [json.loads(x) for x in _lines(log)]
    lines[1]["data"] = json.loads(forged.path.read_text())["data"]
    import hashlib

    prev = lines[0]["hash"]
    for item in lines[1:]:
        item["prev"] = prev
        item["hash"] = hashlib.sha256(f"{item['seq']}\n{prev}\n{item['data']}".encode()).hexdigest()
        prev = item["hash"]
    log.path.write_text("".join(json.dumps(x) + "\n" for x in lines))
    check = log.verify()
    assert not check.ok and check.first_broken == 2 and "cannot be authenticated" in (check.problem or "")


def test_a_deleted_record_is_caught(tmp_path: Path) -> None:
    log = _log(tmp_path)
    lines = _lines(log)
    del lines[2]
    log.path.write_text("\n".join(lines) + "\n")
    check = log.verify()
    assert not check.ok and check.first_broken == 3 and "missing" in (check.problem or "")


def test_a_log_cut_short_is_caught(tmp_path: Path) -> None:
    log = _log(tmp_path)
    lines = _lines(log)
    log.path.write_text("\n".join(lines[:-1]) + "\n")  # the last record dropped cleanly
    check = log.verify()
    assert not check.ok and "cut short" in (check.problem or "") and check.first_broken == 5
    log.path.write_text("\n".join(lines)[:-30])  # cut in the middle of a record
    check = log.verify()
    assert not check.ok and check.first_broken == 5


def test_appending_goes_on_from_the_last_record_across_instances(tmp_path: Path) -> None:
    _log(tmp_path, 2)
    again = AuditLog(tmp_path / "audit.log", Cipher(KEY), full_questions=lambda: False)
    again.question("Is the patient in bed 4 diabetic?")
    check = again.verify()
    assert check.ok and check.records == 3
    last = list(again.records())[-1]
    assert "question" not in last.details and last.details["question_hmac"] == again.question_hash(
        "Is the patient in bed 4 diabetic?")


def test_cli_verify_and_export(home: Path, tmp_path: Path) -> None:
    assert sanctum("config", "set", "top_k", "6").returncode == 0  # makes the key and two records
    proc = sanctum("audit", "verify")
    assert proc.returncode == 0 and "intact: 2 records" in proc.stdout, proc.stderr
    out = tmp_path / "audit.txt"
    proc = sanctum("audit", "export", "--output", str(out))
    assert proc.returncode == 0, proc.stderr
    text = out.read_text()
    assert "chain intact" in text and "key.created" in text and "settings.changed" in text
    assert '"top_k": {"from": 5, "to": 6}' in text and getpass.getuser() in text
    # One byte edited on disk: verify names the record and fails.
    data = bytearray((home / "audit.log").read_bytes())
    pos = data.index(b'"data": "', data.index(b'{"seq": 2')) + 15
    data[pos] = ord("x") if data[pos] != ord("x") else ord("y")
    (home / "audit.log").write_bytes(bytes(data))
    proc = sanctum("audit", "verify")
    assert proc.returncode == 1 and "BROKEN at record 2" in proc.stderr and "Traceback" not in proc.stderr


@pytest.mark.parametrize("bad", ["not json\n", '{"seq": 1}\n'])
def test_a_damaged_last_record_stops_appending_with_a_clear_message(tmp_path: Path, bad: str) -> None:
    from app.core.privacy.audit import AuditError

    (tmp_path / "audit.log").write_text(bad)
    with pytest.raises(AuditError, match="audit verify"):
        AuditLog(tmp_path / "audit.log", Cipher(KEY)).record("x")
