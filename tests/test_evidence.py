"""Evidence selection, table records, declines and the answer check (no model needed)."""

from __future__ import annotations

import threading
import time

from app.core.answer.evidence import (
    check_answer,
    is_decline,
    render_block,
    select_evidence,
    split_units,
    table_header_of,
)
from app.core.models.cpu import CpuGate

ROTA = "Name | Role | Shift | Bleep\nHana Sato | Staff nurse | Night | 4471\nOmar Reyes | Charge nurse | Day | 4409"
INCIDENTS = ("Ward | Falls | Medication errors | Pressure ulcers\nLarkspur | 1 | 9 | 3\nBirch | 7 | 2 | 1\n"
             "Cedar | 4 | 5 | 0")
MINUTES = (
    "Drugs and Therapeutics Committee, minutes of 12 March\n"
    "The committee reviewed the anticoagulation pathway. Apixaban replaces rivaroxaban as first-line "
    "treatment for non-valvular atrial fibrillation from 1 April. Dabigatran stays second line. "
    "The next meeting is on 9 April."
)


def test_table_rows_become_records_with_their_column_headers() -> None:
    units = split_units(INCIDENTS)
    rows = [u for u in units if u.kind == "row"]
    assert rows[0].text == "Ward: Larkspur · Falls: 1 · Medication errors: 9 · Pressure ulcers: 3"
    assert rows[0].quote == "Larkspur | 1 | 9 | 3", "the quote stays the exact slice of the passage"
    assert INCIDENTS[rows[0].start:rows[0].end] == rows[0].quote


def test_a_table_begun_in_an_earlier_chunk_gets_that_chunks_headers() -> None:
    header = table_header_of("Some text before.\n" + ROTA.split("\n")[0] + "\nAda Byron | Nurse | Day | 4000")
    assert header == ["Name", "Role", "Shift", "Bleep"]
    units = split_units("Hana Sato | Staff nurse | Night | 4471", table_header=header)
    assert units[0].text == "Name: Hana Sato · Role: Staff nurse · Shift: Night · Bleep: 4471"
    assert table_header_of("1 | 2 | 3\n4 | 5 | 6") is None, "a row of numbers is no header"


def test_sentences_keep_exact_offsets() -> None:
    units = split_units(MINUTES)
    assert [u.kind for u in units] == ["heading", "sentence", "sentence", "sentence", "sentence"]
    for u in units:
        assert MINUTES[u.start:u.end] == u.quote


def test_evidence_picks_the_sentence_that_answers_and_scores_coverage() -> None:
    filler = "The cafeteria is open from 7am. Staff parking is on level 2. " * 3
    ev = select_evidence("Which drug is now first-line for atrial fibrillation?",
                         [(filler, None, "canteen"), (MINUTES, None, "formulary minutes")], max_chars=300)
    assert ev.best is not None and "Apixaban replaces rivaroxaban" in ev.best.unit.text
    assert ev.coverage > 0.6
    shown = "\n".join(render_block(units) for _, units in ev.blocks)
    assert "Apixaban replaces rivaroxaban" in shown and "cafeteria" not in shown


def test_a_question_the_documents_do_not_cover_scores_low() -> None:
    covered = select_evidence("What is the bleep number of Hana Sato?", [(ROTA, None, "nurse rota")])
    uncovered = select_evidence("What is the parking fee for visitors on Sundays?", [(ROTA, None, "nurse rota"),
                                                                                     (MINUTES, None, "minutes")])
    assert covered.coverage > 0.8
    assert uncovered.coverage < 0.3 < covered.coverage


def test_declines_are_recognised() -> None:
    for text in ("The documents do not say.", "I don't know.", "The dose is not mentioned in the excerpts.",
                 "There is no information about parking.", "I could not find that."):
        assert is_decline(text), text
    for text in ("Apixaban is first line.", "The bleep is 4471."):
        assert not is_decline(text), text


def test_answer_check_finds_facts_and_flags_invented_ones() -> None:
    question = "What is the bleep number of Hana Sato?"
    ev = select_evidence(question, [(ROTA, None, "rota")])
    good = check_answer("Hana Sato's bleep number is 4471.", question, [ROTA], ev)
    assert good.supported and not good.missing
    assert good.support[0][1].quote == "Hana Sato | Staff nurse | Night | 4471"
    bad = check_answer("Hana Sato's bleep number is 5521.", question, [ROTA], ev)
    assert not bad.supported and bad.missing == ["5521"]


def test_background_work_waits_while_an_answer_runs() -> None:
    gate = CpuGate()
    waited: list[float] = []
    with gate.foreground():
        worker = threading.Thread(target=lambda: waited.append(gate.wait_turn()))
        worker.start()
        time.sleep(0.3)
        assert worker.is_alive(), "the encoder must wait while an answer is written"
    worker.join(5)
    assert waited and waited[0] >= 0.25
    assert gate.wait_turn() < 0.1, "no answer running: no wait"
    gate.step_done()


def test_answers_and_background_steps_take_turns() -> None:
    gate = CpuGate(max_yield_s=5.0)
    steps: list[float] = []
    stop = threading.Event()

    def background() -> None:  # an ingest: steps of 50 ms, each after its turn
        while not stop.is_set():
            gate.wait_turn()
            steps.append(time.monotonic())
            time.sleep(0.05)
        gate.step_done()

    def answers() -> list[tuple[float, float]]:  # questions back to back, no pause between them
        spans = []
        for _ in range(8):
            with gate.foreground():
                began = time.monotonic()
                time.sleep(0.1)
                spans.append((began, time.monotonic()))
        return spans

    worker = threading.Thread(target=background)
    worker.start()
    time.sleep(0.02)
    spans = answers()
    stop.set()
    worker.join(5)
    inside = [t for t in steps for a, b in spans if a <= t < b]
    assert inside == [], "a background step never starts while an answer runs"
    between = [t for t in steps if spans[0][1] <= t <= spans[-1][0]]
    assert len(between) >= 6, f"back-to-back answers must leave the ingest a step between them ({len(between)})"
    for step in between:  # and an answer never starts while a step (50 ms) runs
        assert not any(step < a < step + 0.045 for a, _ in spans)


def test_speed_log_keeps_medians_per_model_and_no_text(tmp_path) -> None:
    from app.core.models.speeds import KEEP, SpeedLog

    log = SpeedLog(tmp_path / "speeds.json")
    assert log.speed("/m/a.gguf") is None
    for first, rate in ((2.0, 30.0), (4.0, 10.0), (3.0, 20.0)):
        log.record("/m/a.gguf", first, rate)
    speed = log.speed("/elsewhere/a.gguf")  # by file name
    assert speed is not None and (speed.first_word_s, speed.tokens_per_s, speed.answers) == (3.0, 20.0, 3)
    assert "3.0 s" in speed.describe()
    for _ in range(KEEP + 5):
        log.record("/m/a.gguf", 1.0, None)
    assert log.speed("/m/a.gguf").answers == KEEP  # type: ignore[union-attr]
    assert set((tmp_path / "speeds.json").read_text()) <= set('{}[]"., 0123456789:agufm.-_/')


def test_a_question_naming_what_the_documents_never_mention_is_caught() -> None:
    from app.core.answer.evidence import missing_specifics, specific_terms

    assert specific_terms("Which ward had the most falls in Q1 2025?") == ["Q1", "2025"]
    assert specific_terms("What is the bleep number of Hana Sato?") == ["Hana Sato"]
    assert missing_specifics("What is the bleep number of Hana Sato?", [ROTA]) == []
    assert missing_specifics("What is the bleep number of Marta Lindqvist?", [ROTA]) == ["Marta Lindqvist"]
    assert missing_specifics("Which drug replaced rivaroxaban in 2031?", [MINUTES]) == ["2031"]


def test_a_question_for_the_most_gets_the_comparison_made_for_it() -> None:
    from app.core.answer.evidence import table_extremes

    question = "Which ward had the most medication errors?"
    units = split_units(INCIDENTS + "\nAll wards | 12 | 16 | 4", question_terms=set(terms_of(question)))
    assert table_extremes(question, units) == ["Most Medication errors (of the rows above): Larkspur (9)"]
    assert table_extremes("Which ward had the fewest falls?", split_units(INCIDENTS)) == [
        "Least Falls (of the rows above): Larkspur (1)"]
    assert table_extremes("How many falls did Birch have?", split_units(INCIDENTS)) == [], "no most/least asked"
    shown = render_block(units, question)
    assert shown.endswith("Most Medication errors (of the rows above): Larkspur (9)")
    assert "Ward: Birch · Medication errors: 2" in shown, "records keep the row's name and the column asked about"


def terms_of(text: str) -> list[str]:
    from app.core.answer.evidence import terms

    return terms(text)


def test_the_start_of_a_code_counts_as_mentioned() -> None:
    from app.core.answer.evidence import missing_specifics

    text = "The code word for bed 12 is QZX73BB8E48F113."
    assert missing_specifics("What is the code word (not QZX73B)?", [text]) == []
    assert missing_specifics("What is the code word (not QZX99)?", [text]) == ["QZX99"]
    # a start written in capitals, without a digit (the code QZXBAE7BB105FA6 begins with letters only)
    letters = "The code word for bed 12 is QZXBAE7BB105FA6."
    assert missing_specifics("What is the code word (not QZXBAE)?", [letters]) == []
    assert missing_specifics("What is the code word (not QZXBAF)?", [letters]) == ["QZXBAF"]
    assert missing_specifics("Who is Hana Satomi?", ["Hana Sato works nights."]) == ["Hana Satomi"]
