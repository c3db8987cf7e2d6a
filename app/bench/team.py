"""``sanctum bench team``: N members asking and ingesting at once against a shared library on a
Chroma server and a model server, beside the same work done locally, in one run.

Everything runs on this computer, on loopback ports: the benchmark starts its own ``chroma run``
and ``python -m llama_cpp.server`` (the chat model of this data folder, or ``--model``), makes a
shared library with one member per client (each with its own data folder and keys), and then:

1. ingest: every client adds its own documents at once (one file per call: the time until the
   document is published, i.e. searchable by everyone);
2. ask: every client asks its questions at once (each answer written by the model server);
3. local: one local data folder does the same ingests and asks one after another, with the same
   model loaded in this process (what one member's own computer does today).

Clients are threads with their own engine, sharing one loaded embedder (the embedder serialises
batches, as one CPU would); the model server is a separate process. It reports throughput and
latency percentiles per phase. Timings mean something only on an otherwise idle machine.
"""

from __future__ import annotations

import json
import math
import os
import random
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

MAX_CLIENTS = 16
_ITEMS = ["crash trolley", "blood bank fridge", "controlled drugs cupboard", "defibrillator", "oxygen cylinder store",
          "sharps bin", "linen cupboard", "resuscitation bag", "insulin fridge", "suction unit"]
_ROLES = ["the nurse in charge", "the ward sister", "the night porter", "the duty pharmacist",
          "the healthcare assistant"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait(url: str, process: subprocess.Popen[bytes], log: Path, timeout: float) -> None:
    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited: {log.read_text(errors='replace')[-1500:]}")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise RuntimeError(f"the server did not come up in {timeout:.0f} s: {log.read_text(errors='replace')[-1500:]}")


@contextmanager
def loopback_server(argv: list[str], health: str, port: int, log: Path, *, timeout: float = 300) -> Iterator[str]:
    """Run a server process on 127.0.0.1:port until the block ends; yields its base URL."""
    env = {k: v for k, v in os.environ.items() if "PROXY" not in k.upper()}
    with open(log, "wb") as out:
        process = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, env=env)
    url = f"http://127.0.0.1:{port}"
    from app.core.privacy import netguard

    guard = netguard.current()  # under `sanctum`, loopback is refused unless it is a configured server
    if guard is not None:
        guard.allow_server("127.0.0.1", port)  # this bench started it, on loopback
    try:
        _wait(url + health, process, log, timeout)
        yield url
    finally:
        if guard is not None:
            guard.forget_server("127.0.0.1", port)
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()


def corpus(clients: int, docs: int) -> list[list[tuple[str, str, str, str]]]:
    """Per client, ``docs`` documents as (file name, text, question, expected answer); the same every run."""
    rng = random.Random(16)
    out = []
    for c in range(clients):
        mine = []
        for d in range(docs):
            item, role = _ITEMS[(c * docs + d) % len(_ITEMS)], rng.choice(_ROLES)
            ward, hour, minute = 10 + c * docs + d, rng.randint(6, 22), rng.choice([0, 15, 30, 45])
            when = f"{hour:02d}:{minute:02d}"
            filler = " ".join(f"Step {i}: record the check on the ward {ward} sheet and sign it." for i in range(30))
            text = (f"Ward {ward} equipment protocol.\n\nThe {item} on ward {ward} is checked every day at {when} "
                    f"by {role}. {filler}")
            mine.append((f"ward{ward}-protocol.txt", text, f"When is the {item} on ward {ward} checked?", when))
        out.append(mine)
    return out


def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)  # nearest rank: the smallest value with at least q% of them at or below it
    return ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)]


def summary(name: str, latencies: list[float], wall: float, *, right: int | None = None) -> dict[str, Any]:
    return {"phase": name, "ops": len(latencies), "wall_s": round(wall, 2),
            "per_min": round(60 * len(latencies) / wall, 2) if wall > 0 else None,
            "p50_s": _r(percentile(latencies, 50)), "p95_s": _r(percentile(latencies, 95)),
            "max_s": _r(max(latencies) if latencies else None), "right": right}


def _r(value: float | None) -> float | None:
    return round(value, 2) if value is not None else None


def _concurrently(work: list[Callable[[], list[tuple[float, bool]]]]) -> tuple[list[float], int, float]:
    results: list[list[tuple[float, bool]]] = [[] for _ in work]
    errors: list[BaseException] = []

    def run(i: int) -> None:
        try:
            results[i] = work[i]()
        except BaseException as exc:  # noqa: BLE001 (reported after the others finish, then raised)
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(work))]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - t0
    if errors:
        raise errors[0]
    flat = [r for rs in results for r in rs]
    return [lat for lat, _ in flat], sum(ok for _, ok in flat), wall


def _ingest_each(service_for: Callable[[], Any], files: list[Path]) -> list[tuple[float, bool]]:
    service, out = service_for(), []
    for f in files:
        t0 = time.perf_counter()
        outcome = service.ingest([f])[0]
        out.append((time.perf_counter() - t0, outcome.status == "ingested"))
    return out


def _ask_each(ask: Callable[[str], Any], questions: list[tuple[str, str]]) -> list[tuple[float, bool]]:
    from app.core.answer.service import Done

    out = []
    for question, expected in questions:
        t0 = time.perf_counter()
        done = [e for e in ask(question) if isinstance(e, Done)][0]
        out.append((time.perf_counter() - t0, expected in done.answer))
    return out


def run(*, clients: int, docs: int, asks: int, model: Path | None, threads: int, home: Path | None = None,
        passphrase: Any = None, progress: Callable[[str], None] = print) -> dict[str, Any]:
    """Run the benchmark; returns its figures (see the module docstring)."""
    from app.core.config import Settings
    from app.core.engine import Engine
    from app.core.models.embedder import Embedder
    from app.core.team.session import SharedSession

    if not 1 <= clients <= MAX_CLIENTS:
        raise ValueError(f"--clients must be 1 to {MAX_CLIENTS}")
    with tempfile.TemporaryDirectory(prefix="sanctum-bench-team-") as tmp_name:
        tmp = Path(tmp_name)
        first = Engine(home, passphrase=passphrase)  # this data folder's models and settings
        chat_path = Path(model) if model else first.chat_model_path()
        embedder = Embedder(first.embedding_model_path(), backend=first.embedding_backend(),
                            onnx_dirs=first.onnx_dirs())
        first.close()
        work = corpus(clients, docs)
        for c, mine in enumerate(work):
            folder = tmp / f"files-{c}"
            folder.mkdir()
            for name, text, _, _ in mine:
                (folder / name).write_text(text, encoding="utf-8")
        files = [sorted((tmp / f"files-{c}").iterdir()) for c in range(clients)]
        questions = [[(q, a) for _, _, q, a in mine][:asks] for mine in work]
        figures: dict[str, Any] = {"clients": clients, "docs_per_client": docs, "asks_per_client": asks,
                                   "model": chat_path.name, "phases": []}

        def engine(root: Path, **kw: Any) -> Engine:
            chosen = Settings(threads=threads) if threads else Settings()
            return Engine(root, settings=chosen, embedder=embedder, passphrase=lambda *_: "bench", **kw)

        progress(f"local: one data folder, {clients * docs} ingests then {clients * asks} questions, "
                 f"{chat_path.name} in this process")
        with engine(tmp / "local-member", chat_model=chat_path) as local:
            lat, ok, wall = _concurrently([lambda: _ingest_each(local.ingest_service, [f for fs in files for f in fs])])
            figures["phases"].append(summary("local ingest", lat, wall, right=ok))
            lat, ok, wall = _concurrently([lambda: _ask_each(lambda q: local.ask_service().ask(q),
                                                             [x for qs in questions for x in qs])])
            figures["phases"].append(summary("local ask", lat, wall, right=ok))

        chroma_port, llm_port = free_port(), free_port()
        chroma = [str(Path(sys.executable).with_name("chroma")), "run", "--path", str(tmp / "chroma-data"),
                  "--host", "127.0.0.1", "--port", str(chroma_port)]
        llm = [sys.executable, "-m", "llama_cpp.server", "--model", str(chat_path), "--host", "127.0.0.1",
               "--port", str(llm_port), "--n_ctx", str(Settings().context_size)]
        if threads:
            llm += ["--n_threads", str(threads), "--n_threads_batch", str(threads)]
        progress(f"team: a Chroma server and a llama.cpp server on loopback, {clients} clients at once")
        with loopback_server(chroma, "/api/v2/heartbeat", chroma_port, tmp / "chroma.log") as chroma_url, \
                loopback_server(llm, "/v1/models", llm_port, tmp / "llm.log") as llm_url:
            owner = engine(tmp / "member-0", chat_server=llm_url)
            sessions = [SharedSession.create(owner, "Bench ward", chroma_url, member="member-0")]
            invites = [sessions[0].library.share(f"member-{c}") for c in range(1, clients)]
            for c, invite in enumerate(invites, start=1):
                sessions.append(SharedSession.join(engine(tmp / f"member-{c}", chat_server=llm_url), invite))
            try:
                lat, ok, wall = _concurrently([(lambda s=s, fs=fs: _ingest_each(s.ingest_service, fs))
                                               for s, fs in zip(sessions, files, strict=True)])
                figures["phases"].append(summary(f"team ingest ({clients} clients)", lat, wall, right=ok))
                lat, ok, wall = _concurrently([(lambda s=s, qs=qs: _ask_each(s.ask, qs))
                                               for s, qs in zip(sessions, questions, strict=True)])
                figures["phases"].append(summary(f"team ask ({clients} clients)", lat, wall, right=ok))
            finally:
                for s in sessions:
                    s.close()
                    s.engine.close()
    return figures


def table(figures: dict[str, Any]) -> str:
    lines = [f"sanctum bench team: {figures['clients']} clients × {figures['docs_per_client']} documents and "
             f"{figures['asks_per_client']} questions each; model {figures['model']}",
             f"{'phase':<28}{'ops':>5}{'wall s':>9}{'per min':>9}{'p50 s':>8}{'p95 s':>8}{'max s':>8}{'right':>7}"]
    for p in figures["phases"]:
        cells = [p["ops"], p["wall_s"], p["per_min"], p["p50_s"], p["p95_s"], p["max_s"], p["right"]]
        text = [f"{c}" if c is not None else "-" for c in cells]
        lines.append(f"{p['phase']:<28}{text[0]:>5}{text[1]:>9}{text[2]:>9}{text[3]:>8}{text[4]:>8}{text[5]:>8}"
                     f"{text[6]:>7}")
    return "\n".join(lines)


def main(args: Any, passphrase: Any = None) -> int:
    figures = run(clients=args.clients, docs=args.docs, asks=args.asks, model=args.model, threads=args.threads,
                  passphrase=passphrase, progress=lambda m: print(m, file=sys.stderr, flush=True))
    print(table(figures))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
    return 0
