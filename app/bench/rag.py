"""RAG latency: where the time to the first token of an answer goes, and what a follow-up saves.

Over a real library (SciFact abstracts written as files and ingested the normal way), one
question is timed through Sanctum's AskService, split into retrieval, prompt build and prompt
evaluation (first token). The raw reference does the same work with the libraries alone, in
the same run: the embedder's ``encode`` + Chroma's ``query`` for retrieval, and llama.cpp's first
token for the very same prompt string from a cold cache.

Then a follow-up question in the same conversation (earlier turns passed as history, so the
prompt starts with the tokens already evaluated) is compared with the same prompt sent cold.
"""

from __future__ import annotations

import json
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from app.core.answer.service import SYSTEM_PROMPT, Done, Passage, Sources
from app.core.config import Settings
from app.core.engine import Engine
from app.core.models.llm import Message

QUESTIONS = [
    ("What do we know about the effect of vitamin D on the risk of fractures?",
     "And does it lower the risk of hip fractures in older adults?"),
    ("How does smoking affect the risk of lung cancer?", "What about the risk of heart disease?"),
    ("What is the role of microRNA in cancer cells?", "Which pathways do they regulate?"),
]


def write_scifact_files(corpus: Path, folder: Path, limit: int) -> list[Path]:
    """Write the first ``limit`` SciFact abstracts as text files (title, blank line, abstract)."""
    folder.mkdir(parents=True, exist_ok=True)
    files = []
    with corpus.open(encoding="utf-8") as fh:
        for i, line in enumerate(fh):
            if i >= limit:
                break
            doc = json.loads(line)
            path = folder / f"scifact-{doc['_id']}.txt"
            path.write_text(f"{doc.get('title', '')}\n\n{doc['text']}\n", encoding="utf-8")
            files.append(path)
    return files


def _ask(engine: Engine, question: str, history: list[Message], *,
         must_answer: bool = True) -> tuple[Done, float, list[Passage]]:
    """One question through AskService; returns the Done event, first-token time and the passages.

    A question the pipeline declines before asking the model has no first token: an error, unless
    ``must_answer`` is False (the warm-up), when its whole time stands in."""
    start = time.perf_counter()
    first = None
    done = None
    passages: list[Passage] = []
    for event in engine.ask_service().ask(question, history=history):
        if isinstance(event, Sources):
            passages = event.passages
        elif isinstance(event, Done):
            done = event
        elif first is None:
            first = time.perf_counter() - start
    assert done is not None, "the ask service ended without an answer"
    if first is None:
        assert not must_answer, f"the model was not asked: {done.answer}"
        first = time.perf_counter() - start
    return done, first, passages


def _common_prefix(held: list[int], tokens: list[int]) -> int:
    """Tokens at the start of ``tokens`` that the cache (``held``) already holds."""
    n = 0
    for a, b in zip(held, tokens, strict=False):
        if a != b:
            break
        n += 1
    return n


def run(
    scifact: Path, *, docs: int = 200, questions: int = 3, threads: int = 0, top_k: int = 5, answer_tokens: int = 48,
    chat_model: Path | None = None, embedding_model: Path | None = None,
) -> dict[str, Any]:
    """Build a library of ``docs`` abstracts and time the questions; returns a JSON-ready result."""
    from llama_cpp import Llama

    with tempfile.TemporaryDirectory(prefix="sanctum-bench-rag-") as tmp:
        settings = Settings(threads=threads, top_k=top_k, max_answer_tokens=answer_tokens, min_relevance=-1.0)
        engine = Engine(Path(tmp) / "home", settings=settings, chat_model=chat_model, embedding_model=embedding_model,
                        passphrase=lambda prompt, new: "bench-passphrase")
        files = write_scifact_files(scifact / "corpus.jsonl", Path(tmp) / "docs", docs)
        ingest_started = time.perf_counter()
        engine.ingest_service().ingest(files)
        ingest_s = time.perf_counter() - ingest_started
        model = engine.chat_model()
        s_llm = model._llm
        raw_llm = Llama(model_path=str(model.path), n_ctx=model.context_size, n_batch=s_llm.n_batch,
                        n_threads=s_llm.n_threads, n_threads_batch=s_llm.n_threads_batch, verbose=False)
        embedder = engine.embedder
        collection = engine.store._collection
        rows = []
        try:
            _ask(engine, "warm-up: what is a randomized controlled trial?", [], must_answer=False)  # page in
            for first_q, follow_q in QUESTIONS[:questions]:
                s_llm.reset()  # a cold cache, like a new conversation after another one
                done, ttft, passages = _ask(engine, first_q, [])
                t = done.timings
                # Raw retrieval: the dense part of the search (encode + Chroma query), libraries alone.
                r0 = time.perf_counter()
                vec = embedder._model.encode([first_q], normalize_embeddings=True, convert_to_numpy=True)
                collection.query(query_embeddings=vec, n_results=settings.top_k)
                raw_retrieval = time.perf_counter() - r0
                # Raw prompt evaluation: the very prompt Sanctum sent, from a cold cache, to the first token.
                prompt, _ = model.render([Message("system", SYSTEM_PROMPT), done.exchange[0]])
                raw_llm.reset()
                p0 = time.perf_counter()
                next(iter(raw_llm.create_completion(prompt, max_tokens=1, temperature=0.0, stream=True)))
                raw_prompt_eval = time.perf_counter() - p0
                # Follow-up in the same conversation (prefix cached) vs the same prompt cold.
                history = list(done.exchange)
                held = list(s_llm.input_ids[: s_llm.n_tokens])  # the cache as the follow-up finds it
                follow, warm_ttft, _ = _ask(engine, follow_q, history)
                follow_prompt = model.render([Message("system", SYSTEM_PROMPT), *history, follow.exchange[0]])[0]
                cached = _common_prefix(held, s_llm.tokenize(follow_prompt.encode("utf-8"), special=True))
                s_llm.reset()
                _, cold_ttft, _ = _ask(engine, follow_q, history)
                rows.append({
                    "question": first_q,
                    "prompt_tokens": t["prompt_tokens"],
                    "retrieval_s": t["retrieval"],
                    "prompt_build_s": t["prompt_build"],
                    "prompt_eval_s": round(ttft - float(t["retrieval"] or 0) - float(t["prompt_build"] or 0), 4),
                    "first_token_s": round(ttft, 4),
                    "raw_retrieval_s": round(raw_retrieval, 4),
                    "raw_prompt_eval_s": round(raw_prompt_eval, 4),
                    "followup_prompt_tokens": follow.timings["prompt_tokens"],
                    "followup_cached_tokens": cached,
                    "followup_first_token_s": round(warm_ttft, 4),
                    "followup_cold_first_token_s": round(cold_ttft, 4),
                })
        finally:
            raw_llm.close()
            engine.close()
    med = {k: round(statistics.median(float(r[k]) for r in rows), 4) for k in rows[0] if k != "question"}
    raw_total = med["raw_retrieval_s"] + med["raw_prompt_eval_s"]
    return {
        "benchmark": "rag-latency",
        "library_docs": docs,
        "ingest_s": round(ingest_s, 1),
        "settings": {"n_ctx": model.context_size, "n_batch": s_llm.n_batch, "n_threads": s_llm.n_threads,
                     "n_threads_batch": s_llm.n_threads_batch, "top_k": settings.top_k,
                     "retrieval_mode": settings.retrieval_mode},
        "questions": rows,
        "median": med,
        "ratio_first_token_vs_raw": round(med["first_token_s"] / raw_total, 3),
        "followup_speedup": round(med["followup_cold_first_token_s"] / med["followup_first_token_s"], 2),
    }


def table(result: dict[str, Any]) -> str:
    m = result["median"]
    return "\n".join([
        f"rag-latency: {result['library_docs']} documents, median of {len(result['questions'])} questions "
        f"({m['prompt_tokens']:.0f} prompt tokens)",
        "settings: " + ", ".join(f"{k}={v}" for k, v in result["settings"].items()),
        f"{'':34}{'raw libraries':>14}{'Sanctum':>10}",
        f"{'retrieval (s)':34}{m['raw_retrieval_s']:>14.3f}{m['retrieval_s']:>10.3f}",
        f"{'prompt build (s)':34}{'-':>14}{m['prompt_build_s']:>10.3f}",
        f"{'prompt evaluation (s)':34}{m['raw_prompt_eval_s']:>14.3f}{m['prompt_eval_s']:>10.3f}",
        f"{'first token, all included (s)':34}{m['raw_retrieval_s'] + m['raw_prompt_eval_s']:>14.3f}"
        f"{m['first_token_s']:>10.3f}   ratio {result['ratio_first_token_vs_raw']:.3f}",
        f"follow-up first token: {m['followup_first_token_s']:.3f} s with the conversation's cached prefix, "
        f"{m['followup_cold_first_token_s']:.3f} s cold ({result['followup_speedup']:.2f}x sooner; "
        f"{m['followup_cached_tokens']:.0f} of {m['followup_prompt_tokens']:.0f} prompt tokens cached)",
    ])
