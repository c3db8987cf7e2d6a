"""Hybrid retrieval through the engine: the keyword index follows the library, answers land on the
right page, and ``sanctum bench retrieval`` measures a BEIR folder."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from app.core.answer.service import Passage, relevant_passages
from app.core.config import Settings
from app.core.engine import Engine
from app.core.models.embedder import Embedder
from app.core.models.llm import ChatModel
from tests import docmaker
from tests.conftest import sanctum, typed_passphrase


def _keyword_docs(engine: Engine, query: str) -> list[str]:
    return [Path(engine.library.by_id(h.doc_id).path).name for h in engine.keywords.search(query, k=10)]


def _reopen(engine: Engine, embedder: Embedder, chat: ChatModel) -> Engine:
    engine.close()
    return Engine(engine.paths.root, settings=Settings(), embedder=embedder, chat=chat, passphrase=typed_passphrase)


def test_keyword_index_follows_add_replace_remove(engine: Engine, embedder: Embedder, chat: ChatModel,
                                                  tmp_path: Path) -> None:
    a = docmaker.make_text(tmp_path / "sterile.txt", "The sterile store key is kept by the Zorblaxian porter.")
    b = docmaker.make_text(tmp_path / "rota.txt", "The Quibblewick rota starts on Mondays at seven.")
    engine.ingest_service().ingest([a, b])
    assert _keyword_docs(engine, "Zorblaxian") == ["sterile.txt"]
    assert _keyword_docs(engine, "quibblewick") == ["rota.txt"]

    docmaker.make_text(a, "The sterile store key now hangs in the Fendrickson cabinet.")
    engine.ingest_service().ingest([a])
    assert _keyword_docs(engine, "Zorblaxian") == [], "the replaced text is still indexed"
    assert _keyword_docs(engine, "fendrickson") == ["sterile.txt"]
    assert engine.ingest_service().remove(b)
    assert _keyword_docs(engine, "quibblewick") == []

    engine = _reopen(engine, embedder, chat)
    try:
        assert _keyword_docs(engine, "fendrickson") == ["sterile.txt"]
        assert _keyword_docs(engine, "quibblewick zorblaxian") == []
        stored = (engine.paths.keywords).read_bytes().lower()
        for word in (b"fendrickson", b"cabinet", b"sterile", b"zorblaxian"):
            assert word not in stored
    finally:
        engine.close()


def test_stale_or_lost_index_is_repaired_from_the_store(engine: Engine, embedder: Embedder, chat: ChatModel,
                                                       tmp_path: Path) -> None:
    doc = docmaker.make_text(tmp_path / "pumps.txt", "Infusion pumps are serviced by Marlowe Biomedical.")
    engine.ingest_service().ingest([doc])
    stale = engine.paths.keywords.read_bytes()
    docmaker.make_text(doc, "Infusion pumps are serviced by Tregarthen Clinical Engineering.")
    engine.ingest_service().ingest([doc])
    engine.paths.keywords.write_bytes(stale)  # as if the process died before the index was saved

    engine = _reopen(engine, embedder, chat)
    try:
        assert _keyword_docs(engine, "tregarthen") == ["pumps.txt"]
        assert _keyword_docs(engine, "marlowe") == []
        engine.paths.keywords.unlink()
    finally:
        engine.close()
    engine = _reopen(engine, embedder, chat)
    try:
        assert _keyword_docs(engine, "tregarthen") == ["pumps.txt"]
    finally:
        engine.close()


REPORT_PAGES = {
    # page: (text on the page, question, words the answer needs)
    3: ("Cardiology division. The catheterisation laboratory performed 2,318 procedures this year, and the "
        "median door-to-balloon time fell to 61 minutes.",
        "How many procedures did the catheterisation laboratory perform?"),
    7: ("Table 4: Segment results (EUR thousands)\nSegment | Revenue | Operating margin\n"
        "Diagnostics | 48,200 | 12.4%\nPharmacy | 31,950 | 8.1%\nEstates | 9,400 | -2.3%",
        "What was the operating margin of the pharmacy segment?"),
    11: ("Workforce. Nurse vacancy rate: 6.8 percent at year end, against a target of 5 percent. Agency "
         "spending was cut by a third after the in-house staff bank opened in March.",
         "What was the nurse vacancy rate at year end?"),
    15: ("Capital projects. The new oncology day unit in Building F opens in September 2025; its budget is "
         "EUR 14.5 million, funded by the regional health authority.",
         "When does the oncology day unit open?"),
}


def _annual_report(path: Path, pages: int = 18) -> Path:
    filler = ("The board reviewed the division's performance against the annual plan, noting the effect of "
              "inflation on supplies, the progress of the digital records programme and the results of the "
              "patient experience survey. Governance arrangements are described in the appendix.")
    texts = []
    for page in range(1, pages + 1):
        if page in REPORT_PAGES:
            texts.append(f"Annual report {page}\n{REPORT_PAGES[page][0]}\n{filler}")
        else:
            texts.append(f"Annual report {page}\nDivision review, part {page}. {filler} {filler}")
    return docmaker.make_pdf(path, texts)


@pytest.mark.parametrize("mode", ["hybrid", "dense"])
def test_answers_land_on_the_right_page(engine: Engine, tmp_path: Path, mode: str) -> None:
    report = _annual_report(tmp_path / "annual-report.pdf")
    other = docmaker.make_pdf(tmp_path / "board-minutes.pdf", [
        "Board minutes. The pharmacy segment was discussed; the margin will be reported in the annual report.",
        "The oncology programme and the workforce plan were noted. The vacancy rate will be reviewed.",
    ])
    engine.ingest_service().ingest([report, other])
    engine.settings.retrieval_mode = mode
    search = engine.search_service()
    for page, (_text, question) in REPORT_PAGES.items():
        found = search.search(question, k=3)
        landed = [(Path(p.path).name, p.page) for p in found]
        assert ("annual-report.pdf", page) in landed, f"{mode}: {question} -> {landed}"
        cited = next(p for p in found if p.page == page and Path(p.path).name == "annual-report.pdf")
        assert cited.text in _page_text(report, page), "a passage's page must hold its text"


def _page_text(path: Path, page: int) -> str:
    from app.core.ingest.parsers import parse

    return next(s.text for s in parse(path).sections if s.page == page)


def test_nothing_found_is_decided_by_the_best_cosine() -> None:
    def passage(n: int, score: float, similarity: float | None) -> Passage:
        return Passage(n=n, chunk_id=f"c{n}", doc_id="d", path="/x.txt", page=None, label=None, text="t",
                       score=score, similarity=similarity)

    weak = [passage(1, 2.0, 0.10), passage(2, 1.0, 0.20)]
    assert relevant_passages(weak, 0.25) == []
    mixed = [passage(1, 2.0, 0.10), passage(2, 1.0, 0.40)]
    assert relevant_passages(mixed, 0.25) == mixed, "the fused order is kept once the library covers it"
    assert relevant_passages([passage(1, 0.3, None)], 0.25) != []  # dense: the score is the cosine
    assert relevant_passages([], 0.25) == []


def _tiny_beir(folder: Path) -> Path:
    docs = {
        "d1": ("Statins and heart attacks", "Statin therapy lowers LDL cholesterol and myocardial infarction risk."),
        "d2": ("Vitamin D in the elderly", "Vitamin D supplements did not reduce hip fractures in older adults."),
        "d3": ("Hand hygiene", "Alcohol hand rub reduces hospital-acquired infections on surgical wards."),
        "d4": ("Sleep and shift work", "Night shifts disturb circadian rhythm and sleep quality in nurses."),
        "d5": ("Antibiotic stewardship", "Shorter antibiotic courses were as effective for community pneumonia."),
    }
    queries = {"q1": "statins reduce myocardial infarction", "q2": "vitamin D hip fractures elderly",
               "q3": "alcohol hand rub infections", "q9": "not judged in this split"}
    (folder / "qrels").mkdir(parents=True)
    (folder / "corpus.jsonl").write_text(
        "".join(json.dumps({"_id": k, "title": t, "text": x}) + "\n" for k, (t, x) in docs.items()))
    (folder / "queries.jsonl").write_text("".join(json.dumps({"_id": k, "text": t}) + "\n" for k, t in queries.items()))
    (folder / "qrels" / "test.tsv").write_text("query-id\tcorpus-id\tscore\nq1\td1\t1\nq2\td2\t1\nq3\td3\t1\n")
    return folder


def test_bench_retrieval_on_a_tiny_beir_folder(tmp_path: Path) -> None:
    beir = _tiny_beir(tmp_path / "tiny")
    home, out = tmp_path / "bench-home", tmp_path / "result.json"
    result = sanctum("bench", "retrieval", "--beir", str(beir), "--home", str(home), "--json", str(out))
    assert result.returncode == 0, result.stderr
    rows = {line.split()[0]: line.split()[1:] for line in result.stdout.splitlines()[2:]}
    assert list(rows) == ["dense", "keyword", "rrf", "hybrid"]
    report = json.loads(out.read_text())
    assert report["queries"] == 3 and report["documents"] == 5 and report["split"] == "test"
    for mode, figures in report["modes"].items():
        assert set(figures) == {"ndcg@10", "recall@10", "recall@100", "mrr@10", "p50_ms", "p95_ms"}
        assert figures["ndcg@10"] == pytest.approx(1.0), f"{mode} missed an obvious document"
        assert figures["recall@100"] == 1.0 and figures["p95_ms"] >= figures["p50_ms"] > 0
        assert float(rows[mode][0]) == pytest.approx(figures["ndcg@10"], abs=1e-4)

    again = sanctum("bench", "retrieval", "--beir", str(beir), "--home", str(home), "--mode", "keyword")
    assert again.returncode == 0, again.stderr
    assert "5 documents" in again.stderr and [ln.split()[0] for ln in again.stdout.splitlines()[2:]] == ["keyword"]

    missing = sanctum("bench", "retrieval", "--beir", str(beir), "--split", "dev")
    assert missing.returncode == 1 and "dev.tsv is missing; splits here: test" in missing.stderr
