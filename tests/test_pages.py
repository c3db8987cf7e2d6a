"""Landing on the right page of a long filing: table records with headers, chunk context (section and
document identity), question narrowing, and ``sanctum bench pages`` on a tiny set of made filings."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.core.answer.narrowing import document_names, narrow
from app.core.config import Settings
from app.core.engine import Engine
from app.core.ingest.parsers.context import document_identity, section_headings, table_records
from app.core.ingest.parsers.pdf import parse_pdf
from app.core.models.embedder import Embedder
from tests.conftest import typed_passphrase


def make_filing(path: Path, company: str, year: int, sales: int) -> Path:
    """A three-page annual report made with fpdf2: a cover, an MD&A page, an income statement table."""
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_font("Helvetica", size=11)
    pdf.add_page()
    for line in ["UNITED STATES", "SECURITIES AND EXCHANGE COMMISSION", "FORM 10-K",
                 f"For the fiscal year ended December 31, {year}", company,
                 "(Exact name of registrant as specified in its charter)"]:
        pdf.cell(0, 8, line, new_x="LMARGIN", new_y="NEXT")
    pdf.add_page()
    pdf.cell(0, 8, "Item 7. Management's Discussion and Analysis of Financial Condition", new_x="LMARGIN",
             new_y="NEXT")
    pdf.multi_cell(0, 6, "Demand for our products rose in every region, and we opened two plants. " * 4)
    pdf.add_page()
    pdf.cell(0, 8, "Consolidated Statements of Income", new_x="LMARGIN", new_y="NEXT")
    with pdf.table(col_widths=(90, 40, 40), text_align=("LEFT", "RIGHT", "RIGHT")) as table:
        for cells in [("(in millions)", str(year), str(year - 1)),
                      ("Net sales", f"$ {sales:,}", f"$ {sales - 3227:,}"),
                      ("Cost of sales", "21,500", "19,870"), ("Operating income", "6,112", "5,004")]:
            row = table.row()
            for cell in cells:
                row.cell(cell)
    pdf.output(str(path))
    return path


@pytest.fixture
def filings(tmp_path: Path) -> Path:
    folder = tmp_path / "filings"
    folder.mkdir()
    make_filing(folder / "ACME_2022_10K.pdf", "ACME WIDGETS, INC.", 2022, 34_229)
    make_filing(folder / "ACME_2020_10K.pdf", "ACME WIDGETS, INC.", 2020, 28_410)
    make_filing(folder / "ZENITH_2022_10K.pdf", "ZENITH TOOLS CORPORATION", 2022, 12_050)
    return folder


@pytest.fixture
def search_engine(home: Path, embedder: Embedder) -> Iterator[Engine]:
    """An engine with the real MiniLM and no chat model (search only)."""
    eng = Engine(home, settings=Settings(), embedder=embedder, passphrase=typed_passphrase)
    yield eng
    eng.close()


def test_table_rows_reach_the_index_with_their_column_and_row_headers(filings: Path) -> None:
    parsed = parse_pdf(filings / "ACME_2022_10K.pdf")
    page = parsed.sections[2].text
    own, _, added = page.partition("\n\nTable rows:\n")
    assert own.startswith("Consolidated Statements of Income\n(in millions) 2022 2021\nNet sales $ 34,229")
    records = added.splitlines()
    # The year columns and the line item travel with each amount, and amounts "in millions" also
    # read as people say them.
    assert records[0] == "Net sales — 2022: 34,229 ($34.2 billion); 2021: 31,002 ($31.0 billion)"
    assert records[2].startswith("Operating income — 2022: 6,112 ($6.1 billion); 2021: 5,004")
    assert table_records(own) == records
    assert "Table rows" not in parsed.sections[1].text  # prose is not a table


def test_document_identity_and_section_headings_come_from_the_pages(filings: Path) -> None:
    path = filings / "ACME_2022_10K.pdf"
    parsed = parse_pdf(path)
    identity = document_identity(parsed, path, title=parsed.title)
    assert (identity.company, identity.form, identity.period) == (
        "ACME WIDGETS, INC.", "10-K", "fiscal year ended December 31, 2022")
    headings = section_headings(parsed)
    # Item 7 is carried onto the next page, where the page's own title is added.
    assert headings[2][-1][1] == ("Item 7. Management's Discussion and Analysis of Financial Condition"
                                  " › Consolidated Statements of Income")
    assert headings[0][-1][1] == ""


def test_chunks_carry_section_and_identity_and_search_lands_on_the_table(
        search_engine: Engine, filings: Path) -> None:
    service = search_engine.ingest_service()
    unit = service._prepare(filings / "ACME_2022_10K.pdf", parse_pdf(filings / "ACME_2022_10K.pdf"))
    table_chunk = next(t for t, (_, section, _) in zip(unit.texts, unit.pieces, strict=True) if section.page == 3)
    assert table_chunk.startswith("ACME 2022 10K · ACME WIDGETS, INC. · Form 10-K · fiscal year ended "
                                  "December 31, 2022 · Item 7. Management's Discussion")
    assert "Consolidated Statements of Income" in table_chunk.split("\n\n")[0]
    assert "Net sales — 2022: 34,229 ($34.2 billion)" in table_chunk

    outcomes = service.ingest([filings])
    assert [o.status for o in outcomes] == ["ingested"] * 3
    search = search_engine.search_service()
    for query in ("ACME net sales in 2022", "What were ACME's net sales of $34.2 billion?",
                  "net sales 34229 ACME 2022"):
        best = search.search(query, k=1)[0]
        assert (Path(best.path).name, best.page) == ("ACME_2022_10K.pdf", 3), query


def test_query_narrowing_picks_the_named_document_and_leaves_ambiguous_questions_alone(
        search_engine: Engine, filings: Path) -> None:
    search_engine.ingest_service().ingest([filings])
    search = search_engine.search_service()
    by_name = {Path(d.path).name: d.doc_id for d in search_engine.library.all("ready")}
    names = search.document_names()
    assert narrow("What were ACME Widgets' net sales in FY2022?", names) == [by_name["ACME_2022_10K.pdf"]]
    assert narrow("ACME's operating income in 2020", names) == [by_name["ACME_2020_10K.pdf"]]
    # A company without a year: its documents, not the other company's.
    assert narrow("How much did Acme sell?", names) == sorted([by_name["ACME_2022_10K.pdf"],
                                                              by_name["ACME_2020_10K.pdf"]])
    assert narrow("Compare the net sales of ACME and Zenith in 2022", names) is None  # two companies
    assert narrow("What were net sales in 2022?", names) is None  # none named
    # The search itself obeys it: ZENITH's near-identical table is not returned for ACME's question.
    found = search.search("ACME net sales 2022", k=6)
    assert {Path(p.path).name for p in found} == {"ACME_2022_10K.pdf"}
    search.narrow = False
    assert len({Path(p.path).name for p in search.search("ACME net sales 2022", k=9)}) > 1


def test_document_names_drop_legal_suffixes_and_use_file_names() -> None:
    names = document_names("d1", "MGMRESORTS_2023Q2_10Q", "MGM Resorts International",
                           "quarterly period ended June 30, 2023")
    assert names is not None and {"mgm", "mgmresorts"} <= names.keys and names.years == {2023}
    best_buy = [document_names(f"b{y}", f"BESTBUY_{y}_10K", "BEST BUY CO., INC.", f"fiscal year ended Feb 2, {y}")
                for y in (2017, 2019)]
    docs = [d for d in best_buy if d is not None]
    # "FY2015 - FY2017": the filing that covers the latest year named.
    assert narrow("the FY2015 - FY2017 average net profit margin for Best Buy", docs) == ["b2017"]


@pytest.mark.slow
def test_bench_pages_runs_on_a_tiny_set(home: Path, tmp_path: Path, filings: Path) -> None:
    from app.bench import pages

    questions = tmp_path / "questions.jsonl"
    lines = [
        {"question": "What were ACME's net sales in FY2022 (in USD millions)?", "doc_name": "ACME_2022_10K",
         "evidence": [{"evidence_page_num": 2}]},
        {"question": "What drove demand for ZENITH's products in 2022?", "doc_name": "ZENITH_2022_10K",
         "evidence": [{"evidence_page_num": 1}]},
    ]
    questions.write_text("\n".join(json.dumps(x) for x in lines) + "\n", encoding="utf-8")
    cache = tmp_path / "cache"
    report = pages.run(pdfs=filings, questions_file=questions, ks=(1, 3), cache=cache, passphrase=typed_passphrase,
                       log=lambda line: None)
    sanctum, common = report["results"]["sanctum"], report["results"]["common"]
    assert sanctum["hit@3"] == 2 and sanctum["chunks"] > 0 and sanctum["ingest_s"] is not None
    assert common["questions"] == 2 and common["chunks"] > 0
    assert report["per_question"]["sanctum"][0]["rank"] == 1
    text = pages.table(report)
    assert "page-hit@3" in text and "2/2" in text
    # A second run reuses both libraries.
    again = pages.run(pdfs=filings, questions_file=questions, ks=(1, 3), cache=cache, passphrase=typed_passphrase,
                      log=lambda line: None)
    assert again["results"]["sanctum"]["ingest_s"] is None and again["results"]["common"]["ingest_s"] is None
    assert again["results"]["sanctum"]["hit@3"] == 2
    # Fewer filings: the same cached library, searched over this run's filings only.
    one = pages.run(pdfs=filings, questions_file=questions, ks=(1, 3), limit=1, cache=cache, common=False,
                    passphrase=typed_passphrase, log=lambda line: None)
    assert one["files"] == 1 and one["results"]["sanctum"]["ingest_s"] is None
    assert 0 < one["results"]["sanctum"]["chunks"] < sanctum["chunks"]
    assert all(top[0] == "ACME_2022_10K" for top in one["per_question"]["sanctum"][0]["top5"])


def test_a_year_no_filing_covers_does_not_hide_the_one_that_does() -> None:
    docs = [d for d in (document_names(f"v{y}", f"VERIZON_{y}_10K", "Verizon Communications Inc.",
                                       f"fiscal year ended December 31, {y}") for y in (2021, 2022)) if d]
    assert narrow("As of FY 2021, how much did Verizon expect to pay its retirees in 2024?", docs) == ["v2021"]
    assert narrow("Has Verizon's debt grown between 2022 and 2021?", docs) == ["v2022"]


@pytest.mark.slow
def test_bench_embedder_choice_runs_quality_and_timing_on_a_tiny_set(home: Path, tmp_path: Path) -> None:
    from app.bench import embedder_choice
    from app.bench.data_cli import SCIFACT

    pdf = make_filing(tmp_path / "ACME_2022_10K.pdf", "ACME WIDGETS, INC.", 2022, 34_229)
    report = embedder_choice.run(embedders=["minilm-torch"], quality=True, timing=True, scifact=SCIFACT,
                                 docs=40, scifact_queries=8, timing_pdf=pdf, queries=5,
                                 passphrase=typed_passphrase, log=lambda line: None)
    row = report["rows"]["minilm-torch"]
    assert row["scifact_queries"] == 8 and row["scifact_docs"] >= 8
    assert 0.0 < row["scifact_ndcg@10"] <= 1.0
    assert row["chunks_per_s"] > 0 and row["timing_chunks"] >= 3 and row["query_ms_median"] > 0
    assert "minilm-torch" in embedder_choice.table(report)


def test_documents_that_are_not_filings_do_not_capture_questions(search_engine: Engine, tmp_path: Path) -> None:
    from tests import docmaker

    folder = tmp_path / "docs"
    folder.mkdir()
    docmaker.make_pdf(folder / "policy.pdf", ["Visitors sign in at the front desk."])
    docmaker.make_pdf(folder / "handbook.pdf", ["The policy on night shifts: handover is at 19:30."])
    search_engine.ingest_service().ingest([folder])
    search = search_engine.search_service()
    assert search.document_names() == []
    assert Path(search.search("What is the policy on night shift handover?", k=1)[0].path).name == "handbook.pdf"


def test_a_long_line_of_numbers_is_read_in_linear_time() -> None:
    import time

    line = "Totals " + " ".join(str(n) for n in range(1, 400)) + " see note"
    t0 = time.process_time()
    assert table_records(f"(in millions) 2022 2021\n{line}\n" * 50) == []
    assert time.process_time() - t0 < 2.0  # a backtracking pattern took minutes on one such page


def test_bench_pages_narrowing_only_needs_no_ingest(tmp_path: Path, filings: Path) -> None:
    from app.bench import pages

    questions = tmp_path / "q.jsonl"
    questions.write_text("\n".join(json.dumps(x) for x in [
        {"question": "ACME's net sales in FY2022?", "doc_name": "ACME_2022_10K",
         "evidence": [{"evidence_page_num": 2}]},
        {"question": "Net sales of Acme and Zenith in 2022?", "doc_name": "ZENITH_2022_10K",
         "evidence": [{"evidence_page_num": 2}]},
    ]) + "\n", encoding="utf-8")
    result = pages.narrowing_only(pdfs=filings, questions_file=questions)
    assert (result["filings"], result["right"], result["none"], result["wrong"]) == (3, 1, 1, 0)


def test_statement_titles_are_read_as_printed_but_not_from_prose_or_a_contents_page() -> None:
    from app.core.ingest.parsers.context import page_title

    assert page_title("Consolidated Balance Shee t") == "Consolidated Balance Sheet"  # PDFium split the "t" off
    assert page_title("Consolidated Statement of Cash Flow s") == "Consolidated Statement of Cash Flows"
    assert page_title("NIKE, Inc. Consolidated Statements of Income") == "Consolidated Statements of Income"
    assert page_title("Consolidated Balance Sheets Corning Incorporated and Subsidiary Companies") == (
        "Consolidated Balance Sheets")
    assert page_title("CONSOLIDATED BALANCE SHEETS") == "CONSOLIDATED BALANCE SHEETS"
    assert page_title("Consolidated Statements of Income 45") is None  # a line of a table of contents
    assert page_title("We refer to the consolidated balance sheets for details of our investments.") is None
    assert page_title("Net sales rose 4% in 2022") is None


def test_a_question_naming_a_statement_asks_for_the_pages_titled_so() -> None:
    from app.core.retrieval.cues import statement_bonus, statement_titled, statements_asked

    assert statements_asked("What is 3M's capex? Rely on the details shown in the cash flow statement.") == {"cash"}
    assert statements_asked("using the statement of financial position and the income statement") == {
        "balance", "income"}
    assert statements_asked("By drawing conclusions from the statement of cash flows") == {"cash"}
    assert statements_asked("What drove gross margin change in FY2022?") == set()
    assert statement_titled("Item 8. Financial Statements › Consolidated Statements of Operations") == "income"
    assert statement_titled("CONSOLIDATED BALANCE SHEETS") == "balance"
    assert statement_titled("Item 8 › Consolidated Statement of Cash Flows") == "cash"
    # Only a page's own title counts: not the report item it sits in, not a neighbouring statement.
    assert statement_titled("Item 7. Discussion of Financial Condition and Results of Operations") is None
    assert statement_titled("Item 8 › Consolidated Statements of Comprehensive Income") is None
    assert statement_titled("Item 8 › Notes to Consolidated Financial Statements") is None
    assert statement_titled(None) is None
    bonus = statement_bonus(frozenset({"income"}), ["Item 8 › Consolidated Statements of Income", "Item 7", None])
    assert bonus.tolist() == [1.0, 0.0, 0.0]
    assert statement_bonus(frozenset(), ["Consolidated Statements of Income"]).tolist() == [0.0]


def test_search_lifts_the_statement_the_question_names_and_chunks_keep_their_headings(
        search_engine: Engine, filings: Path) -> None:
    from dataclasses import replace

    search_engine.ingest_service().ingest([filings])
    retriever = search_engine.search_service().retriever
    question = "According to the income statement, how did ACME's demand and net sales do in FY2022?"
    with_cue = {r.hit.chunk_id: r for r in retriever.search(question, k=20)}
    retriever.params = replace(retriever.params, statement_bonus=0.0)
    without = {r.hit.chunk_id: r for r in retriever.search(question, k=20)}
    assert with_cue.keys() == without.keys()
    lifted = {cid for cid in with_cue if abs(with_cue[cid].hit.score - without[cid].hit.score - 1.0) < 1e-6}
    unchanged = {cid for cid in with_cue if abs(with_cue[cid].hit.score - without[cid].hit.score) < 1e-6}
    assert lifted and lifted | unchanged == set(with_cue)
    assert {with_cue[cid].hit.page for cid in lifted} == {3}  # the income statement's page, in each filing
    assert all(with_cue[cid].hit.heading.endswith("› Consolidated Statements of Income") for cid in lifted)
    assert {with_cue[cid].hit.heading for cid in unchanged if with_cue[cid].hit.page == 2} == {
        "Item 7. Management's Discussion and Analysis of Financial Condition"}
    # The heading is sealed like the text: not readable in the store's files.
    raw = b"".join(p.read_bytes() for p in search_engine.paths.store.rglob("*") if p.is_file())
    assert b"Management's Discussion" not in raw and b"Consolidated Statements of Income" not in raw


def test_a_rebuilt_keyword_index_gives_chunks_back_their_heading_and_identity(
        home: Path, embedder: Embedder, filings: Path) -> None:
    query = "ACME WIDGETS Form 10-K Consolidated Statements of Income Management's Discussion net sales"
    with Engine(home, settings=Settings(), embedder=embedder, passphrase=typed_passphrase) as engine:
        engine.ingest_service().ingest([filings])
        index = engine.keywords
        before = [(h.chunk_id, round(h.score, 4)) for h in index.search(index.query_terms(query), k=12)]
        path = engine.paths.keywords
    path.unlink()  # lost (or from an older version): rebuilt from the store on the next open
    with Engine(home, settings=Settings(), embedder=embedder, passphrase=typed_passphrase) as engine:
        index = engine.keywords
        assert path.exists()
        after = [(h.chunk_id, round(h.score, 4)) for h in index.search(index.query_terms(query), k=12)]
    assert len(before) == 9 and after == before


def test_trading_symbols_on_the_cover_name_the_company() -> None:
    from app.core.answer.narrowing import trading_symbols

    cover = ("Securities registered pursuant to Section 12(b) of the Act:\n"
             "Title of each class Trading Symbol(s) Name of each exchange on which registered\n"
             "Common stock JPM The New York Stock Exchange\n"
             "Depositary Shares, each representing a one-four hundredth interest\n"
             "JPM PR G The New York Stock Exchange\n"
             "0.650% Notes Due May 2024 JNJ24C New York Stock Exchange\n")
    assert trading_symbols(cover) == {"JPM"}
    assert trading_symbols("Common stock JPM The New York Stock Exchange") == set()  # no table of symbols
    docs = [d for d in (document_names("jpm", "JPMORGAN_2021Q1_10Q", "JPMorgan Chase & Co.",
                                       "quarterly period ended March 31, 2021", {"JPM"}),
                        document_names("jnj", "JOHNSON_JOHNSON_2022_10K", "Johnson & Johnson",
                                       "fiscal year ended January 1, 2023", {"JNJ"}),
                        document_names("it", "GARTNER_2022_10K", "Gartner, Inc.",
                                       "fiscal year ended December 31, 2022", {"IT"})) if d]
    assert narrow("Which of JPM's business segments had the lowest net revenue in 2021 Q1?", docs) == ["jpm"]
    assert narrow("What drove gross margin change as of FY2022 for JnJ?", docs) == ["jnj"]
    # A symbol counts only as written with capitals: "it" in a sentence is not Gartner.
    assert narrow("Is it a high growth company?", docs) is None


def test_an_8k_is_dated_by_its_date_of_report() -> None:
    from app.core.ingest.parsers.base import ParsedDocument, Section

    parsed = ParsedDocument("pdf", [Section("FORM 8-K\nCURRENT REPORT\nDate of Report (Date of earliest event "
                                            "reported): May 26, 2023\nPepsiCo, Inc.\n(Exact name of registrant as "
                                            "specified in its charter)", page=1)])
    assert document_identity(parsed).period == "report dated May 26, 2023"


def test_document_names_are_read_again_only_after_the_library_changes(
        search_engine: Engine, filings: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    service = search_engine.ingest_service()
    service.ingest([filings / "ACME_2022_10K.pdf"])
    search = search_engine.search_service()
    reads = []
    real_all = search_engine.library.all
    monkeypatch.setattr(search_engine.library, "all", lambda *a, **k: reads.append(1) or real_all(*a, **k))
    first = search.document_names()
    assert [n.company for n in first] == ["acme"] and len(reads) == 1
    for _ in range(3):
        assert search.document_names() == first
    assert len(reads) == 1  # unchanged library: not read again per question
    service.ingest([filings / "ZENITH_2022_10K.pdf"])
    assert sorted(n.company for n in search.document_names()) == ["acme", "zenith"]
    # A change made by another process (another connection to the same database) is seen too.
    from app.core.storage.registry import Library

    other = Library(search_engine.paths.library, cipher=search_engine.cipher)
    try:
        other.delete(next(d.doc_id for d in real_all("ready") if d.path.endswith("ZENITH_2022_10K.pdf")))
    finally:
        other.close()
    assert [n.company for n in search.document_names()] == ["acme"]
