"""Check the clinic/bank development set against Sanctum's own parser (see README.md).

    PYTHONPATH=. python resources/bench/clinic/check.py [DOCS_FOLDER] [--regen]

For every answerable question: its file exists, and its first (canonical) accepted answer occurs in
the parsed text of the named page/slide/sheet (the whole document where the format has no pages),
after the benchmark's normalisation: lower case, punctuation dropped, articles dropped, spaces
collapsed. Punctuation is tried both deleted ("£8,000" -> "£8000") and as a space ("8 000"), so
the check holds whichever way the scorer strips it. The distractors listed below (wrong column,
wrong row, wrong sheet, wrong year) must occur in the same file and must not contain any accepted
answer, so that an answer taken from the wrong cell is scored wrong.

For every impossible question: none of the words that would answer it occurs in any document.

--regen also runs make_docs.py into a temporary folder and reports files whose bytes differ from
the committed ones (library upgrades may change bytes; the parsed text is what matters).

Exit status 0 when everything holds, 1 otherwise.
"""

from __future__ import annotations

import collections
import json
import re
import string
import subprocess
import sys
import tempfile
import unicodedata
from pathlib import Path

HERE = Path(__file__).resolve().parent

#: Answerable questions -> values a reader picking the wrong cell, row, sheet or year would give.
DISTRACTORS: dict[str, list[str]] = {
    "Which drug is now the first-line treatment for stroke prevention in non-valvular atrial fibrillation?":
        ["rivaroxaban", "edoxaban", "warfarin"],
    "What is the reduced dose of apixaban for patients who meet the dose-reduction criteria?": ["5 mg", "20 mg"],
    "Which antibiotic should a penicillin-allergic patient with CURB-65 0-1 community-acquired pneumonia receive?":
        ["clarithromycin", "amoxicillin"],
    "When is the next meeting of the Drugs and Therapeutics Committee?": ["14 January 2025", "12 November 2024"],
    "Which ward had the most medication errors in Q4 2024?": ["Beech Ward", "Rowan Ward", "Elm Ward"],
    "Which ward had the most medication errors in Q3 2024?": ["Cedar Ward", "Beech Ward", "Ash Ward"],
    "How many falls did Beech Ward report in Q3 2024?": ["22", "8", "5"],
    "What is the bleep number of Priya Raman?": ["4529", "5371", "4486"],
    "What is the bleep number of the out-of-hours site manager?": ["5120", "2240", "2315"],
    "Which cardiology consultant is on call in the week commencing 10 March 2025?":
        ["Eleanor Whitcombe", "Aisha Bello", "Sofia Marchetti"],
    "Who is the general surgery registrar on call in the week commencing 17 March 2025?":
        ["Alistair Grieve", "Callum Reid", "Rosa Lindgren"],
    "How long must a patient with norovirus be free of symptoms before isolation can end?": ["48 hours", "14 days"],
    "What respiratory protection must staff wear when caring for a patient with suspected pulmonary tuberculosis?":
        ["FRSM", "Fluid-resistant surgical mask"],
    "How many omitted or delayed dose incidents were reported on Cedar and Rowan wards in Q4 2024?": ["9", "11", "7"],
    "How often does pharmacy audit a ward's controlled drug register?": ["every shift handover", "the same day"],
    "Which enoxaparin brand will pharmacy supply from 3 March 2025?": ["Clexane"],
    "What will the weekend dispensary opening hours be from 1 April 2025?": ["09:00 to 17:00"],
    "What are the visiting hours on the intensive care unit?": ["11:00 to 20:00", "14:00 to 18:00", "10:00 to 21:00"],
    "How much does it cost to park for up to 2 hours in car park B?": ["£3.20", "£4.80"],
    "What is the largest unsecured personal loan a branch manager can approve?":
        ["£400,000", "£60,000", "£80,000", "£15,000"],
    "What is the maximum debt-to-income ratio for unsecured lending under the 2025 credit policy?": ["45%", "90%"],
    "How much does a CHAPS payment cost on the Business Account?": ["£23.00", "£18.50", "£7.50"],
    "Which branch received the most complaints in H2 2024?": ["Station Road", "Harbour Street"],
    "What was the Net Promoter Score of the Old Town branch in H1 2024?": ["55", "11", "27"],
    "Above what amount must staff obtain evidence of the source of funds for a customer's cash deposit?":
        ["£2,500", "£20,000", "EUR 15,000"],
    "Who is the bank's Money Laundering Reporting Officer?": ["Anjali Mehta"],
    "From 1 April 2025, above what value must gifts and hospitality be recorded in the register?": ["£50", "£250"],
    "What is the AER on the 2-Year Fixed Bond?": ["4.25%", "3.97%"],
    "What is the maximum amount of cash a cashier may hold in their till?": ["£3,000", "£120,000"],
    "How many business days does the bank have to send a final response to a payment services complaint?":
        ["8 weeks", "35 business days", "5 business days"],
}

#: Impossible questions -> words or phrases that an answer would need; none may occur in any document.
ABSENT: dict[str, list[str]] = {
    "What did the formulary committee decide about dabigatran?": ["dabigatran", "pradaxa"],
    "How many medication errors did Willow Ward report in Q4 2024?": ["willow"],
    "Which ward had the most falls in Q1 2025?": ["q1", "q1 2025", "january to march 2025"],
    "What is the bleep number of Marta Lindqvist?": ["marta", "lindqvist"],
    "What isolation precautions does the infection control policy require for measles?": ["measles", "rubeola"],
    "What is the fee for a banker's draft on the Premier Account?": ["draft", "drafts", "banker's"],
    "What is the AER on the 5-Year Fixed Bond?": ["5-year", "five-year", "5 year", "3-year", "5-Year Fixed Bond"],
    "What is the capital of Australia?": ["australia", "canberra"],
    "Who won the 2018 FIFA World Cup?": ["fifa", "world cup", "france", "2018"],
    "Who wrote the novel Middlemarch?": ["middlemarch", "eliot"],
    "How many moons does Jupiter have?": ["jupiter", "moons"],
    "What is the recommended tyre pressure for a Ford Focus?": ["tyre", "tire", "ford", "psi"],
    "At what temperature does water boil at the summit of Mount Everest?": ["everest", "boil", "boiling"],
}

_ARTICLES = re.compile(r"\b(a|an|the)\b")


def normalise(text: str, *, punctuation_as_space: bool) -> str:
    """Lower case, punctuation deleted (ASCII, as SQuAD's scorer) or turned into spaces (all
    Unicode punctuation and symbols), articles dropped, whitespace collapsed."""
    text = text.lower()
    if punctuation_as_space:
        text = "".join(" " if unicodedata.category(ch)[0] in "PS" else ch for ch in text)
    else:
        text = "".join(ch for ch in text if ch not in string.punctuation)
    text = _ARTICLES.sub(" ", text)
    return " ".join(text.split())


def occurs(needle: str, haystack: str) -> bool:
    """``needle`` in ``haystack`` under both normalisations, as whole words ("14" is not in "2014")."""
    for mode in (False, True):
        n, h = normalise(needle, punctuation_as_space=mode), normalise(haystack, punctuation_as_space=mode)
        if not n or not re.search(r"(?<!\w)" + re.escape(n) + r"(?!\w)", h):
            return False
    return True


def occurs_any_mode(needle: str, haystack: str) -> bool:
    """``needle`` in ``haystack`` under either normalisation (for absence checks: stricter)."""
    for mode in (False, True):
        n, h = normalise(needle, punctuation_as_space=mode), normalise(haystack, punctuation_as_space=mode)
        if n and re.search(r"(?<!\w)" + re.escape(n) + r"(?!\w)", h):
            return True
    return False


def contains_answer(prediction: str, answers: list[str]) -> bool:
    """The scorer's rule: a prediction is right when it contains an accepted answer (substring)."""
    for mode in (False, True):
        p = normalise(prediction, punctuation_as_space=mode)
        if any(normalise(a, punctuation_as_space=mode) in p for a in answers):
            return True
    return False


def load_docs(folder: Path) -> dict[str, dict[int | None, str]]:
    from app.core.ingest.parsers import parse

    docs: dict[str, dict[int | None, str]] = {}
    for path in sorted(folder.iterdir()):
        document = parse(path)
        pages: dict[int | None, str] = collections.defaultdict(str)
        for section in document.sections:
            pages[section.page] += section.text + "\n"
        docs[path.name] = {**pages, None: "\n".join(s.text for s in document.sections)} if None not in pages else dict(pages)
        docs[path.name]["_format"] = document.format  # type: ignore[index]
    return docs


def main(argv: list[str]) -> int:
    args = [a for a in argv[1:] if not a.startswith("--")]
    folder = Path(args[0]) if args else HERE / "docs"
    questions = [json.loads(line) for line in (HERE / "questions.jsonl").read_text(encoding="utf-8").splitlines() if line]
    docs = load_docs(folder)
    failures: list[str] = []
    per_format: dict[str, list[int]] = collections.defaultdict(lambda: [0, 0])
    used_files: set[str] = set()

    all_text = "\n".join(str(pages[None]) for pages in docs.values())
    for number, q in enumerate(questions, start=1):
        text = q["q"]
        if set(q) - {"q", "answers", "impossible", "file", "page"}:
            failures.append(f"Q{number}: unexpected keys {sorted(set(q) - {'q', 'answers', 'impossible', 'file', 'page'})}")
        if q["impossible"]:
            per_format["(impossible)"][1] += 1
            if q["answers"]:
                failures.append(f"Q{number}: impossible but has answers")
            terms = ABSENT.get(text)
            if not terms:
                failures.append(f"Q{number}: no ABSENT terms listed: {text}")
                continue
            found = [t for t in terms if occurs_any_mode(t, all_text)]
            status = "ok" if not found else f"FAIL: found {found}"
            print(f"Q{number:>2} impossible  absent {terms}: {status}")
            if found:
                failures.append(f"Q{number}: answer words present in the documents: {found}")
            continue

        name, page = q["file"], q.get("page")
        used_files.add(name)
        if name not in docs:
            failures.append(f"Q{number}: no such file {name}")
            continue
        fmt = str(docs[name]["_format"])  # type: ignore[index]
        per_format[fmt][0] += 1
        paged = any(isinstance(k, int) for k in docs[name])
        if paged != (page is not None):
            failures.append(f"Q{number}: page given={page is not None} but {name} has pages={paged}")
            continue
        where = docs[name].get(page)
        if where is None:
            failures.append(f"Q{number}: {name} has no page {page}")
            continue
        answer = q["answers"][0]
        problems = []
        if not occurs(answer, str(where)):
            problems.append(f"answer {answer!r} not on the page")
        other_pages = [p for p in docs[name] if isinstance(p, int) and p != page and occurs(answer, str(docs[name][p]))]
        for distractor in DISTRACTORS.get(text, []):
            if not occurs(distractor, str(docs[name][None])):
                problems.append(f"distractor {distractor!r} not in file")
            if contains_answer(distractor, q["answers"]):
                problems.append(f"distractor {distractor!r} would score as right")
        if text not in DISTRACTORS:
            problems.append("no DISTRACTORS listed")
        place = f"{name}" + (f" p{page}" if page is not None else "")
        note = f" (also on p{other_pages})" if other_pages else ""
        print(f"Q{number:>2} {'ok  ' if not problems else 'FAIL'} {place:<44} {answer!r}{note}"
              + ("" if not problems else "  " + "; ".join(problems)))
        failures.extend(f"Q{number}: {p}" for p in problems)

    unused = sorted(set(docs) - used_files)
    if unused:
        failures.append(f"files no answerable question uses: {unused}")
    answerable = sum(v[0] for v in per_format.values())
    impossible = per_format.pop("(impossible)", [0, 0])[1]
    print(f"\n{len(docs)} documents, {len(questions)} questions: {answerable} answerable, {impossible} impossible")
    print("answerable per format: " + ", ".join(f"{fmt} {v[0]}" for fmt, v in sorted(per_format.items())))

    if "--regen" in argv:
        with tempfile.TemporaryDirectory() as tmp:
            subprocess.run([sys.executable, str(HERE / "make_docs.py"), tmp], check=True, stdout=subprocess.DEVNULL)
            differ = [p.name for p in sorted(Path(tmp).iterdir()) if (folder / p.name).read_bytes() != p.read_bytes()]
            print("regenerated: " + ("identical bytes" if not differ else f"bytes differ for {differ}"))

    if failures:
        print("\nFAILED:\n  " + "\n  ".join(failures))
        return 1
    print("all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
