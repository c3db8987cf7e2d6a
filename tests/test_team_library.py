"""Shared libraries on a real Chroma server (``chroma run`` from the pinned chromadb) on loopback:
two members ingesting at once, answers through a real llama.cpp server, sealed text on the
server's disk, the guard's two doors, and a removed member locked out by the re-key."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.core.config import Settings
from app.core.crypto import DataLocked
from app.core.engine import Engine
from app.core.errors import ConfigError, SanctumError
from app.core.models.embedder import Embedder
from app.core.team.session import SharedSession
from app.core.team.store import AccessRevoked, _collections, _open_record, create_shared
from tests import docmaker
from tests.conftest import run_cli, typed_passphrase
from tests.test_team import TOKEN, _free_port, llama_server  # noqa: F401  (the module's llama server)


@pytest.fixture(scope="module")
def chroma_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """A real Chroma server (the pinned chromadb's own ``chroma run``) on a loopback port: (url, its --path)."""
    import httpx

    path = tmp_path_factory.mktemp("chroma-server")
    port = _free_port()
    log = path.parent / f"{path.name}.log"
    env = {k: v for k, v in os.environ.items() if "PROXY" not in k.upper()}
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [str(Path(sys.executable).with_name("chroma")), "run", "--path", str(path), "--host", "127.0.0.1",
             "--port", str(port)], stdout=out, stderr=subprocess.STDOUT, env=env)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"chroma exited: {log.read_text()[-2000:]}")
            try:
                if httpx.get(f"{url}/api/v2/heartbeat", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"chroma did not come up: {log.read_text()[-2000:]}")
            time.sleep(0.3)
        yield url, path
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()


def _engine(root: Path, embedder: Embedder) -> Engine:
    return Engine(root, settings=Settings(), embedder=embedder, passphrase=typed_passphrase)


def _name() -> str:
    return f"Ward 7 protocols {uuid.uuid4().hex[:6]}"


def _server_files(path: Path) -> list[tuple[Path, bytes]]:
    return [(p, p.read_bytes()) for p in path.rglob("*") if p.is_file()]


@pytest.mark.slow
def test_two_members_ingest_at_once_without_duplicates_or_half_documents(
        chroma_server: tuple[str, Path], embedder: Embedder, tmp_path: Path) -> None:
    url, server_path = chroma_server
    name = _name()
    a_eng, b_eng = _engine(tmp_path / "alice", embedder), _engine(tmp_path / "bob", embedder)
    a = SharedSession.create(a_eng, name, url, member="alice")
    b = SharedSession.join(b_eng, a.library.share("bob"))
    canaries, names = [], []
    for who in ("alice", "bob"):
        folder = tmp_path / f"{who}-files"
        folder.mkdir()
        for n in range(3):
            canary = f"QZX{who.upper()}{n}CANARY"
            canaries.append(canary)
            names.append(f"patient-{who}-{n}-KOWALSKA.txt")
            docmaker.make_text(folder / names[-1], f"Protocol {n} of {who}'s ward. " + " ".join(
                f"Step {i}: the dose check {canary} is signed by two nurses before round {i}." for i in range(40)))
        # The same file on both computers, under another name: one document, not two.
        docmaker.make_text(folder / f"common-{who}.txt", "Hand hygiene QZXCOMMONCANARY: rub for twenty seconds.")
    canaries.append("QZXCOMMONCANARY")

    seen_incomplete: list[str] = []
    polls = 0
    stop = threading.Event()

    def watch() -> None:  # what any other member could see while the two ingest
        nonlocal polls
        import chromadb

        client = chromadb.HttpClient(host="127.0.0.1", port=int(url.rsplit(":", 1)[1]))
        chunks_name, docs_name, _ = _collections(name)
        while not stop.is_set():
            docs = client.get_collection(docs_name).get(where={"published": True}, include=["metadatas"])
            chunks = client.get_collection(chunks_name)
            for doc_id, meta in zip(docs["ids"], docs["metadatas"], strict=True):
                _, info = _open_record(a.library.keys, doc_id, meta)
                stored = len(chunks.get(where={"doc_id": doc_id}, include=[])["ids"])
                if stored != info["chunks"]:
                    seen_incomplete.append(f"{info['name']}: {stored} of {info['chunks']}")
            polls += 1
            time.sleep(0.05)

    results: dict[str, list[object]] = {}

    def ingest(who: str, session: SharedSession) -> None:
        results[who] = list(session.ingest_service().ingest([tmp_path / f"{who}-files"]))

    threads = [threading.Thread(target=ingest, args=("alice", a)), threading.Thread(target=ingest, args=("bob", b))]
    watcher = threading.Thread(target=watch)
    watcher.start()
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=600)
    stop.set()
    watcher.join(timeout=60)
    assert polls > 3 and not seen_incomplete, seen_incomplete
    for who in ("alice", "bob"):
        statuses = sorted(o.status for o in results[who])
        assert set(statuses) <= {"ingested", "unchanged"} and len(statuses) == 4, results[who]

    a.sync()
    b.sync()
    published = a.library.published()
    assert len(published) == 7, "six documents plus the one both members added, once"
    assert sum(int(_open_record(a.library.keys, i, m)[1]["chunks"]) for i, m in published.items()) \
        == a.library.store.count()
    for session in (a, b):
        ready = {d.doc_id for d in session.library.registry.all() if d.status == "ready"}
        assert ready == set(published)
        assert set(session.library.keywords.documents()) == set(published)
    # Bob finds Alice's document, by meaning and by its rare word, with its name as the citation.
    found = b.search("QZXALICE2CANARY dose check", k=3)
    assert found and found[0].path.endswith("patient-alice-2-KOWALSKA.txt") and "QZXALICE2CANARY" in found[0].text

    a.close()
    b.close()
    files = _server_files(server_path)
    blob = b"".join(data for _, data in files)
    assert any(doc_id.encode() in blob for doc_id in published), "the check reads the server's real files"
    for secret in canaries + names + ["KOWALSKA", "dose check", "Hand hygiene"]:
        assert secret.encode() not in blob, f"'{secret}' is readable in the Chroma server's files"
    for home in (tmp_path / "alice", tmp_path / "bob"):  # the members' caches are sealed too
        for path, data in _server_files(home):
            assert not any(c.encode() in data for c in canaries), path


def test_invites_are_used_once_and_addresses_must_be_encrypted(
        chroma_server: tuple[str, Path], embedder: Embedder, tmp_path: Path) -> None:
    url, _ = chroma_server
    with pytest.raises(ConfigError, match="must use https"):
        create_shared(tmp_path / "x", "Ward", "http://10.1.2.3:8000", cipher=None, embedder_id="e")  # type: ignore[arg-type]
    name = _name()
    a = SharedSession.create(_engine(tmp_path / "alice", embedder), name, url, member="alice")
    invite = a.library.share("bob")
    with pytest.raises(SanctumError, match="already a member"):
        a.library.share("alice")
    b = SharedSession.join(_engine(tmp_path / "bob", embedder), invite)
    assert a.library.members() == ["alice", "bob"]
    with pytest.raises(SanctumError, match="used already"):
        SharedSession.join(_engine(tmp_path / "eve", embedder), invite)
    with pytest.raises(SanctumError, match="not a Sanctum invite"):
        SharedSession.join(_engine(tmp_path / "eve2", embedder), "hello")
    with pytest.raises(SanctumError, match="already exists on"):
        SharedSession.create(_engine(tmp_path / "carol", embedder), name, url)
    a.close()
    b.close()


@pytest.mark.slow
def test_a_removed_member_cannot_decrypt_after_the_rekey(
        chroma_server: tuple[str, Path], embedder: Embedder, tmp_path: Path) -> None:
    url, _ = chroma_server
    name = _name()
    a = SharedSession.create(_engine(tmp_path / "alice", embedder), name, url, member="alice")
    b = SharedSession.join(_engine(tmp_path / "bob", embedder), a.share("bob"))
    c_engine = _engine(tmp_path / "carol", embedder)
    c = SharedSession.join(c_engine, a.share("carol"))
    pending = a.share("dave")
    before = docmaker.make_text(tmp_path / "before.txt", "The crash trolley QZXBEFORE is checked every morning.")
    a.ingest_service().ingest([before])
    assert b.sync().added == 1 and b.search("crash trolley", k=1)[0].text.startswith("The crash trolley")
    assert c.sync().added == 1
    old_keys = b.library.keys

    assert a.unshare("bob") == 1
    # A record Carol publishes with the key she held before the re-key (an ingest under way during
    # it) is re-sealed under the new key by the next member who syncs and holds that document.
    (before_id,) = a.library.published()
    c.library.publish(before_id)
    assert a.library.published()[before_id]["epoch"] == 1
    a.sync()
    assert a.library.published()[before_id]["epoch"] == 2
    after = docmaker.make_text(tmp_path / "after.txt", "The new door code QZXAFTER is given at handover only.")
    a.ingest_service().ingest([after])
    published = a.library.published()
    assert len(published) == 2
    for doc_id, meta in published.items():  # bob's copy of the key opens no record any more, old or new
        with pytest.raises(DataLocked):
            _open_record(old_keys, doc_id, meta)
    with pytest.raises(AccessRevoked, match="no longer a member"):
        b.sync()
    b.close()
    with pytest.raises(AccessRevoked, match="no longer a member"):
        SharedSession.open(_engine(tmp_path / "bob", embedder), name)
    with pytest.raises(SanctumError, match="used already or cancelled"):
        SharedSession.join(_engine(tmp_path / "dave", embedder), pending)
    # Carol, still a member, picks up the new key from her own record and reads both documents.
    assert c.sync().added == 1
    assert c.library.keys.epoch == 2 and "QZXAFTER" in c.search("door code", k=1)[0].text
    c.close()
    reopened = SharedSession.open(c_engine, name)
    assert reopened.library.keys.epoch == 2
    # A member removes a document by the name the library shows; it goes for everyone.
    assert reopened.ingest_service().remove(Path("before.txt"))
    assert a.sync().removed == 1 and [Path(d.path).name for d in a.library.registry.all()] == ["after.txt"]
    reopened.close()
    events = [r.event for r in a.engine.audit.records()]
    assert {"shared_library.created", "shared_library.invited", "shared_library.member_removed"} <= set(events)
    a.close()


_GUARDED_SHARED_ASK = textwrap.dedent("""
    import json, sys
    from app.core.privacy import netguard
    guard = netguard.install()
    from app.core.engine import Engine
    from app.core.answer.service import Done
    from app.core.team.session import SharedSession
    engine = Engine(passphrase=lambda *a, **k: "team passphrase", chat_server=sys.argv[2])
    with SharedSession.open(engine, sys.argv[1]) as session:
        done = [e for e in session.ask(sys.argv[3]) if isinstance(e, Done)][0]
        servers = guard.servers
    print(json.dumps({"answer": done.answer, "declined": done.declined, "model": done.model,
                      "cites": [[c.path, c.page] for c in done.citations], "servers": servers,
                      "after": guard.servers, "attempts": guard.attempt_count}))
    engine.close()
""")


@pytest.mark.slow
def test_ask_a_shared_library_through_the_team_server(
        chroma_server: tuple[str, Path], llama_server: str, embedder: Embedder, tmp_path: Path) -> None:  # noqa: F811
    from app.core.config import parse_server_url
    from app.core.models.remote import store_token

    url, _ = chroma_server
    name = _name()
    alice = SharedSession.create(_engine(tmp_path / "alice", embedder), name, url, member="alice")
    invite = alice.library.share("bob")
    pdf = docmaker.make_pdf(tmp_path / "ward7-handover.pdf", [
        "Ward 7 visiting hours are 14:00 to 20:00.",
        "Ward 7 handover protocol. The night handover on ward 7 starts at 19:45 in the day room."])
    assert [o.status for o in alice.ingest_service().ingest([pdf])] == ["ingested"]
    alice.close()
    bob_home = tmp_path / "bob"
    env = {**os.environ, "SANCTUM_HOME": str(bob_home), "SANCTUM_PASSPHRASE": "team passphrase"}
    joined = run_cli("library", "join", invite, env=env)
    assert joined.returncode == 0 and "joined shared library" in joined.stdout, joined.stderr
    store_token(parse_server_url(llama_server), TOKEN)
    question = "When does the night handover on ward 7 start?"
    out = subprocess.run([sys.executable, "-c", _GUARDED_SHARED_ASK, name, llama_server, question],
                         env=env, capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert "19:45" in result["answer"] and not result["declined"]
    assert result["cites"] == [["ward7-handover.pdf", 2]], "the document's name and page, as in local mode"
    assert result["model"].startswith("ward-model @ 127.0.0.1:")
    ports = {int(u.rsplit(":", 1)[1]) for u in (url, llama_server)}
    assert sorted(map(tuple, result["servers"])) == sorted(("127.0.0.1", p) for p in ports), \
        "the guard allowed exactly the Chroma server and the model server"
    assert result["after"] == [["127.0.0.1", int(llama_server.rsplit(":", 1)[1])]], \
        "closing the library closes its door"
    # The same through the command line: sanctum ask --library NAME --server URL.
    asked = run_cli("ask", question, "--library", name, "--server", llama_server, "--json", env=env)
    assert asked.returncode == 0, asked.stderr
    payload = json.loads(asked.stdout)
    assert "19:45" in payload["answer"] and [c["path"] for c in payload["citations"]] == ["ward7-handover.pdf"]


@pytest.mark.slow
def test_cli_create_share_join_ingest_search_unshare(chroma_server: tuple[str, Path], tmp_path: Path) -> None:
    url, _ = chroma_server
    name = _name()
    alice = {"SANCTUM_HOME": str(tmp_path / "alice")}
    bob = {"SANCTUM_HOME": str(tmp_path / "bob")}
    created = run_cli("library", "create", name, "--server", url, "--member", "alice", env=alice)
    assert created.returncode == 0 and "created shared library" in created.stdout, created.stderr
    shared = run_cli("library", "share", name, "--member", "bob", env=alice)
    assert shared.returncode == 0, shared.stderr
    invite = shared.stdout.strip().splitlines()[-1]
    assert invite.startswith("sanctum-invite:") and "sanctum library join" in shared.stderr
    assert run_cli("library", "join", invite, env=bob).returncode == 0
    doc = docmaker.make_text(tmp_path / "fridge.txt", "The blood bank fridge QZXFRIDGE is in room 0.12, by the lift.")
    ingested = run_cli("ingest", str(doc), "--library", name, "--json", env=alice)
    assert ingested.returncode == 0 and json.loads(ingested.stdout)[0]["status"] == "ingested", ingested.stderr
    found = run_cli("search", "blood bank fridge", "--library", name, "--json", env=bob)
    assert found.returncode == 0, found.stderr
    assert json.loads(found.stdout)[0]["path"] == "fridge.txt"
    members = run_cli("library", "members", name, env=alice)
    assert members.stdout.split("\n")[:2] == ["alice (you)", "bob"]
    assert run_cli("library", "unshare", name, "--member", "bob", env=alice).returncode == 0
    refused = run_cli("search", "blood bank fridge", "--library", name, env=bob)
    assert refused.returncode == 1 and "no longer a member" in refused.stderr
    removed = run_cli("remove", "fridge.txt", "--library", name, env=alice)  # by the name the library shows
    assert removed.returncode == 0, removed.stderr
    gone = run_cli("search", "blood bank fridge", "--library", name, "--json", env=alice)
    assert gone.returncode == 0 and json.loads(gone.stdout) == []
    log = run_cli("audit", "export", env=alice).stdout
    assert "shared_library.member_removed" in log and "document.removed" in log


def test_bench_team_figures() -> None:
    from app.bench import team

    assert team.percentile([2.0, 1.0], 50) == 1.0 and team.percentile([float(i) for i in range(1, 21)], 95) == 19.0
    assert team.percentile([], 95) is None
    work = team.corpus(3, 2)
    assert work == team.corpus(3, 2) and len(work) == 3 and all(len(w) == 2 for w in work)
    names = [name for w in work for name, _, _, _ in w]
    assert len(set(names)) == 6, "each member adds documents of its own"
    assert all(answer in text and answer not in question for w in work for _, text, question, answer in w)
    row = team.summary("team ask", [1.0, 2.0, 3.0, 10.0], 20.0, right=3)
    assert row["per_min"] == 12.0 and row["p95_s"] == 10.0 and row["p50_s"] == 2.0 and row["right"] == 3


@pytest.mark.slow
def test_bench_team_runs_the_team_and_the_local_side(models_home: Path, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    from app.bench import team
    from app.core.models import shipped

    model = shipped.shipped_chat_model(models_home, shipped.QWEN_05B)
    monkeypatch.setenv("SANCTUM_HOME", str(tmp_path / "home"))
    with pytest.raises(ValueError, match="1 to 16"):
        team.run(clients=17, docs=1, asks=1, model=model, threads=0)
    figures = team.run(clients=2, docs=1, asks=1, model=model, threads=0, passphrase=typed_passphrase,
                       progress=lambda _: None)
    phases = {p["phase"]: p for p in figures["phases"]}
    assert list(phases) == ["local ingest", "local ask", "team ingest (2 clients)", "team ask (2 clients)"]
    assert all(p["ops"] == 2 and p["wall_s"] > 0 and p["p95_s"] >= p["p50_s"] > 0 for p in phases.values())
    assert phases["local ingest"]["right"] == phases["team ingest (2 clients)"]["right"] == 2
    assert "team ingest (2 clients)" in team.table(figures)
