"""End to end with the real models: documents of every format in, cited answers out.

Each document carries one unique fact at a known place. The library holds all of them at once,
so retrieval must find the right file and the answer must state the fact and cite where it is.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from app.core.answer.service import Done, Sources, Token
from app.core.config import Settings
from app.core.engine import Engine
from app.core.models.embedder import Embedder
from app.core.models.llm import ChatModel
from tests import docmaker
from tests.conftest import run_cli, typed_passphrase

FILLER = (
    "This section describes general administrative arrangements for the hospital trust, including "
    "catering contracts, parking permits for staff, the schedule of the annual summer fete and the "
    "procedure for booking meeting rooms in the education centre."
)


@dataclass(frozen=True)
class Fact:
    file: str
    page: int | None
    question: str
    answer: str  # must appear in the answer and in the cited passage


FACTS = [
    Fact("pump-guide.pdf", 2, "Which infusion pump model is used in the neonatal unit?", "IP-40"),
    Fact("rota.docx", None, "Who is the on-call pharmacist for the weekend rota?", "Tamsin"),
    Fact("ward-costs.xlsx", 2, "What was the nursing overtime cost of ward 7?", "48200"),
    Fact("infection-control.pptx", 3, "What hand hygiene compliance was reached in October?", "94"),
    Fact("estates.html", None, "Until when is the MRI scanner in Building C closed for maintenance?", "18 April"),
    Fact("fire-safety.md", None, "Where is the fire assembly point for the east wing?", "north car park"),
    Fact("cafe-notice.txt", None, "When does the café on level 2 close on weekdays?", "19:30"),
    Fact("allergies.csv", None, "Which allergy does patient P-2291 have?", "penicillin"),
    Fact("freezer-alarm.eml", None, "What is the backup alarm code for the vaccine freezer?", "ORCHID-7731"),
]


def write_corpus(folder: Path) -> Path:
    """Write one document per format, each with its fact at a known place."""
    folder.mkdir(parents=True, exist_ok=True)
    docmaker.make_pdf(folder / "pump-guide.pdf", [
        "Medical devices guide. Chapter 1: defibrillators are checked every morning by the charge nurse. " + FILLER,
        "Chapter 2: infusion pumps. The infusion pump model used in the neonatal unit is the Halvorsen IP-40, "
        "which must be serviced every six months. " + FILLER,
        "Chapter 3: patient hoists are inspected by the estates team twice a year. " + FILLER,
    ])
    docmaker.make_docx(folder / "rota.docx", [
        "Pharmacy weekend rota",
        "The on-call pharmacist for the weekend rota is Dr. Ingrid Tamsin, reachable on bleep 4471.",
        FILLER,
    ])
    docmaker.make_xlsx(folder / "ward-costs.xlsx", {
        "Q1": [["Ward", "Item", "Cost (EUR)"], ["Ward 3", "linen", 1200], ["Ward 5", "catering", 3400]],
        "Q2": [["Ward", "Item", "Cost (EUR)"], ["Ward 7", "nursing overtime", 48200],
               ["Ward 9", "agency staff", 12000]],
    })
    docmaker.make_pptx(folder / "infection-control.pptx", [
        ("Infection control report", "Quarterly figures for the board."),
        ("MRSA screening", "All elective admissions are screened for MRSA before surgery."),
        ("Hand hygiene", "Hand hygiene compliance reached 94 percent in October, up from 88 percent."),
    ])
    docmaker.make_html(folder / "estates.html", "Estates bulletin",
                       "The MRI scanner in Building C is closed for maintenance until 18 April. " + FILLER)
    docmaker.make_text(folder / "fire-safety.md",
                       "# Fire safety\n\n## East wing\n\nThe fire assembly point for the east wing is the "
                       "north car park, next to the ambulance bay.\n\n## Notes\n\n" + FILLER + "\n")
    docmaker.make_text(folder / "cafe-notice.txt",
                       "Notice to staff: the café on level 2 closes at 19:30 on weekdays and at 15:00 on "
                       "Sundays. Crème brûlée is served on Fridays.\n", encoding="cp1252")
    docmaker.make_csv(folder / "allergies.csv", [
        ["Patient ID", "Name", "Allergy"], ["P-1107", "J. Okafor", "latex"], ["P-2291", "M. Lindqvist", "penicillin"],
        ["P-3050", "A. Haddad", "none known"],
    ])
    docmaker.make_eml(folder / "freezer-alarm.eml", "Vaccine freezer alarm",
                      "Team,\n\nThe backup alarm code for the vaccine freezer in room B214 is ORCHID-7731. "
                      "Do not share it outside the ward.\n\nThanks")
    return folder


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_corpus(tmp_path_factory.mktemp("corpus") / "ward documents")


@pytest.fixture(scope="module")
def library(tmp_path_factory: pytest.TempPathFactory, corpus: Path, embedder: Embedder,
            chat: ChatModel) -> Iterator[Engine]:
    """A library holding the whole corpus, ingested through the command line."""
    home = tmp_path_factory.mktemp("e2e-home")
    result = run_cli("ingest", str(corpus), env={"SANCTUM_HOME": str(home)})
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("ingested ") == len(FACTS), result.stdout
    eng = Engine(home, settings=Settings(), embedder=embedder, chat=chat, passphrase=typed_passphrase)
    yield eng
    eng.close()


@pytest.mark.parametrize("fact", FACTS, ids=[f.file for f in FACTS])
def test_answer_states_fact_and_cites_its_page(library: Engine, corpus: Path, fact: Fact) -> None:
    events = list(library.ask_service().ask(fact.question))
    assert isinstance(events[0], Sources) and isinstance(events[-1], Done)
    assert any(isinstance(e, Token) for e in events), "the answer was not streamed"
    done = events[-1]
    assert fact.answer.lower() in done.answer.lower(), done.answer
    cited = [(Path(c.path).name, c.page) for c in done.citations]
    assert (fact.file, fact.page) in cited, f"cited {cited} for: {done.answer}"
    quote = next(c for c in done.citations if Path(c.path).name == fact.file)
    assert fact.answer.lower() in quote.text.lower(), "the cited passage does not hold the fact"
    assert Path(quote.path) == (corpus / fact.file).resolve()
    assert done.supported is True, f"the answer's facts were not found in its passages: {done.answer}"
    assert done.evidence, "no evidence sentence under the answer"
    by_n = {c.n: c for c in done.citations}
    for item in done.evidence:
        assert item.quote in by_n[item.n].text, "evidence must be a verbatim slice of its cited passage"
    assert any(fact.answer.lower() in e.text.lower() for e in done.evidence), done.evidence


def test_ask_json_shape_from_the_command_line(library: Engine) -> None:
    result = run_cli("ask", FACTS[0].question, "--json", env={"SANCTUM_HOME": str(library.paths.root)})
    assert result.returncode == 0, result.stderr
    payload = json.loads(result.stdout)
    assert set(payload) == {"answer", "citations", "model", "timings", "evidence", "supported", "declined"}
    assert "IP-40" in payload["answer"]
    assert payload["model"] == "Qwen2.5 Coder 1.5B Instruct GGUF"
    first = payload["citations"][0]
    assert set(first) == {"n", "path", "page", "text"}
    assert Path(first["path"]).name == "pump-guide.pdf" and first["page"] == 2
    assert f"[{first['n']}]" in payload["answer"]
    assert payload["timings"]["first_token"] > 0


def test_ask_streams_to_the_terminal_with_sources(library: Engine) -> None:
    result = run_cli("ask", FACTS[8].question, env={"SANCTUM_HOME": str(library.paths.root)})
    assert result.returncode == 0, result.stderr
    answer, _, sources = result.stdout.partition("\nSources:\n")
    assert "ORCHID-7731" in answer
    assert "freezer-alarm.eml" in sources


def test_unrelated_question_says_nothing_found_instead_of_inventing(library: Engine) -> None:
    done = list(library.ask_service().ask("What is the capital city of Peru?"))[-1]
    assert isinstance(done, Done)
    assert not done.grounded and done.citations == [] and done.declined
    assert "documents do not say" in done.answer
    assert "Lima" not in done.answer


def test_a_table_row_is_read_with_its_column_headers(tmp_path: Path, embedder: Embedder, chat: ChatModel) -> None:
    """The number comes from the column the question names, not from a neighbouring one."""
    docmaker.make_xlsx(tmp_path / "incidents.xlsx", {"Q3": [
        ["Ward", "Falls", "Medication errors", "Pressure ulcers"],
        ["Larkspur", 1, 9, 3], ["Birch", 7, 2, 1], ["Cedar", 4, 5, 0]]})
    eng = Engine(tmp_path / "home", settings=Settings(), embedder=embedder, chat=chat, passphrase=typed_passphrase)
    try:
        eng.ingest_service().ingest([tmp_path / "incidents.xlsx"])
        events = list(eng.ask_service().ask("How many medication errors were reported on Larkspur ward?"))
        sources = next(e for e in events if isinstance(e, Sources))
        done = events[-1]
        assert isinstance(done, Done)
        prompt = done.exchange[0].content
        assert "Ward: Larkspur" in prompt and "Medication errors: 9" in prompt, prompt
        said = re.sub(r"\[\d+\]", "", done.answer)
        assert re.search(r"\b9\b", said) and not re.search(r"\b[13]\b", said), done.answer
        assert sources.passages and done.supported is True
    finally:
        eng.close()


def test_search_json_shape(library: Engine) -> None:
    result = run_cli("search", "neonatal infusion pump", "-k", "3", "--json",
                     env={"SANCTUM_HOME": str(library.paths.root)})
    assert result.returncode == 0, result.stderr
    hits = json.loads(result.stdout)
    assert len(hits) == 3
    assert all(set(h) == {"path", "page", "score", "text", "chunk_id"} for h in hits)
    assert Path(hits[0]["path"]).name == "pump-guide.pdf" and hits[0]["page"] == 2
    assert hits[0]["score"] >= hits[1]["score"] >= hits[2]["score"]
    no_pages = [h for h in hits if Path(h["path"]).suffix in (".md", ".txt", ".csv", ".eml", ".html", ".docx")]
    assert all(h["page"] is None for h in no_pages)
