"""Evidence: the sentences of the retrieved passages that bear on a question, and the check of an
answer against them.

A small model reads a few hundred focused tokens better than five whole chunks, so the answer
pipeline (:mod:`app.core.answer.service`) does not hand it the passages as retrieved. Each passage is cut
into *units*: sentences, and table rows rendered as records with their column headers ("Ward:
Larkspur · Falls: 1 · Medication errors: 9"). Units are scored by how much of the question they
(with their neighbours) cover, the best are kept with their neighbours and the passage's heading,
and only those reach the model.

The same coverage decides whether the documents answer the question at all (a question whose
telling words appear nowhere near each other in the evidence is declined before the model is
asked), and after generation the answer's facts (numbers, names, quoted phrases) are looked up in
the passages it cites (:func:`check_answer`).

Weights are inverse document frequencies over the units at hand: a question word that appears in
no unit weighs the most, which is what makes a question about something the documents never name
score low. Nothing here is fitted to individual questions; the two thresholds are calibrated on
the development sets by ``sanctum bench answers``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from app.core.storage.keywords import STOPWORDS, Analyzer

#: Rendering of a table row as a record: "Header: value · Header: value".
RECORD_SEPARATOR = " · "
_CELL_SEPARATOR = " | "
# A sentence ends at . ! or ? (and closing quotes/brackets) followed by space and a capital, digit
# or opening quote. Abbreviations such as "e.g. the" (lower case after) do not split.
_SENTENCE_END = re.compile(r"(?<=[.!?])[\"'”’)\]]*\s+(?=[\"'“‘(\[]?[A-Z0-9])")
_NUMBER = re.compile(r"\d+(?:[.,:/]\d+)*")
_QUOTED = re.compile(r"[\"“]([^\"”]{3,80})[\"”]")
_CAPITALISED = re.compile(r"(?<![.!?]\s)(?<!^)\b[A-Z][a-zA-Z]+(?:[\s-][A-Z][a-zA-Z]+)*")
#: Words that ask rather than tell: they say what kind of answer is wanted, and a passage that
#: answers the question need not contain them ("What is the name of…", "How many…").
QUESTION_WORDS = frozenset(
    ["name", "call", "term", "type", "kind", "mani", "much", "number", "use", "describ", "refer", "consid", "known",
     "mean", "main", "primari", "exampl", "particular", "specif", "general", "typic", "usual", "often", "common",
     "certain", "differ", "also", "like", "one", "two", "happen", "give", "get", "make", "take", "say", "state",
     "accord", "document", "text", "passag", "sourc",
     # requests rather than questions: "Tell me … in detail", "Summarise …", "Explain …"
     "tell", "detail", "explain", "list", "summar", "summaris", "show", "pleas", "know", "find", "brief",
     "briefli", "overview", "everyth", "anyth", "inform"]
)
#: Phrases by which an answer says the documents do not cover the question.
DECLINE_PATTERNS = re.compile(
    r"(documents?|sources?|excerpts?|texts?|passages?|context)\s+(do|does)\s+not\s+(say|state|mention|"
    r"contain|provide|specify|cover|include|answer)|"
    r"(could|can)\s*(not|n't)\s+(find|answer|determine)|no information|not (mentioned|stated|specified|"
    r"provided|given|found)|(do|does)\s*(not|n't)\s+know|not (possible|able) to (answer|determine)|"
    r"there is no (mention|information)|unknown from|cannot be (answered|determined)",
    re.IGNORECASE,
)
_ANALYZER = Analyzer()


def terms(text: str) -> list[str]:
    """Stemmed content words (the keyword index's analysis: lower case, stop words out)."""
    return _ANALYZER.terms(text)


_SPECIFIC = re.compile(r"[A-Za-z]*\d[\w'’-]*|[A-Z][\w'’-]*(?:\s+[A-Z][\w'’-]*)*")


def specific_terms(question: str) -> list[str]:
    """What a question names precisely: numbers and codes ("Q1", "2025", "5-Year") and names
    (capitalised words after the first word). A question about a name the documents never mention
    is not answered by them, however close the rest of its words come."""
    found = []
    first_word = re.match(r"\W*\w+", question)
    skip = first_word.end() if first_word else 0
    for m in _SPECIFIC.finditer(question):
        text = m.group(0)
        if m.start() < skip:
            continue
        words = [w for w in re.findall(r"\w+", text.lower()) if w not in STOPWORDS and w not in {"i"}]
        if words and not (text.isdigit() and len(text) < 2):  # "step 1", "P = NP is 1": too common to tell
            found.append(text)
    return found


def missing_specifics(question: str, texts: Sequence[str]) -> list[str]:
    """The :func:`specific_terms` of ``question`` that appear in none of ``texts`` (a code of four
    characters or more — with a digit, or all in capitals — also counts when a word starts with it:
    people type the start of a code)."""
    joined = "\n".join(texts)
    words = set(_norm(joined).split())
    return [t for t in specific_terms(question) if not fact_found(t, joined) and not _code_prefix(t, words)]


def _code_prefix(term: str, words: set[str]) -> bool:
    t = _norm(term)
    is_code = any(c.isdigit() for c in t) or (term.isalpha() and term.isupper())
    if len(t) < 4 or " " in t or not is_code:
        return False
    return any(w.startswith(t) for w in words)


def is_decline(answer: str) -> bool:
    """Whether ``answer`` says the documents do not answer the question."""
    return bool(DECLINE_PATTERNS.search(answer))


@dataclass(frozen=True)
class Unit:
    """A sentence or a table row of a passage.

    Attributes:
        start: Offset of its text in the passage.
        end: End offset.
        text: What the model and the user read (a table row as a record with its headers).
        quote: The exact slice of the passage (what the source viewer highlights).
        kind: "sentence", "row" (a table row, as a record), "header" (a table's header row: its
            names are in every record, so it is not shown) or "heading".
        line: Index of the (logical) line it sits on: a gap between two kept units' lines is
            shown as "…".
        cells: A table row's cells, and ``header`` its table's column headers (for the
            comparisons of :func:`table_extremes`).
    """

    start: int
    end: int
    text: str
    quote: str
    kind: str
    line: int
    cells: tuple[str, ...] = ()
    header: tuple[str, ...] = ()


def _is_heading(line: str) -> bool:
    words = line.split()
    return 0 < len(words) <= 12 and not line.rstrip().endswith((".", "?", "!", ":", ";", ",")) and \
        _CELL_SEPARATOR not in line and any(c.isalpha() for c in line)


def _looks_like_header(cells: list[str]) -> bool:
    """A header row names its columns: every cell has letters and none is a plain number."""
    return len(cells) > 1 and all(c and any(ch.isalpha() for ch in c) and not _NUMBER.fullmatch(c) for c in cells)


def table_header_of(text: str) -> list[str] | None:
    """The column headers of the last table in ``text`` (rows of " | "-joined cells), if it has one."""
    lines = text.split("\n")
    header = None
    previous_is_row = False
    for line in lines:
        is_row = _CELL_SEPARATOR in line
        if is_row and not previous_is_row:
            cells = [c.strip() for c in line.split(_CELL_SEPARATOR)]
            header = cells if _looks_like_header(cells) else None
        previous_is_row = is_row
    return header


def record(cells: list[str], header: list[str] | None, columns: Sequence[int] | None = None) -> str:
    """A table row as "Header: value · Header: value" (empty cells left out).

    Args:
        cells: The row's cells.
        header: The table's column headers (None: the cells alone).
        columns: Only these columns (indexes), in this order; None: all.
    """
    if not header or len(header) != len(cells):
        return RECORD_SEPARATOR.join(c for c in cells if c)
    keep = range(len(cells)) if columns is None else columns
    return RECORD_SEPARATOR.join(f"{header[i]}: {cells[i]}" for i in keep if cells[i])


def relevant_columns(header: list[str], question_terms: set[str]) -> list[int] | None:
    """The columns a question is about, with the first (the row's name) in front; None for all.

    A wide table read in full is where a small model takes a number from the wrong column: when the
    question names some of the columns ("medication errors", "bleep"), the records show those.
    """
    named = [i for i, h in enumerate(header) if i > 0 and set(terms(h)) & question_terms]
    if not named or len(named) == len(header) - 1:
        return None  # the question names no column beyond the row's name (or names them all)
    return [0, *named]


def split_units(text: str, *, table_header: list[str] | None = None,
                question_terms: set[str] | None = None) -> list[Unit]:
    """Cut a passage into sentences, headings and table rows (as records).

    Args:
        text: The passage's text.
        table_header: Column headers for rows at the very start of the passage, when the table
            began in an earlier chunk (see :func:`table_header_of`).
        question_terms: A question's terms: records then show the columns it names (see
            :func:`relevant_columns`) with the row's name.
    """
    units: list[Unit] = []
    header = table_header
    previous_is_row = False
    first_row_block = True
    for number, (start_of_line, line) in enumerate(_logical_lines(text)):
        stripped = line.strip()
        if not stripped:
            previous_is_row = False
            continue
        lead = start_of_line + (len(line) - len(line.lstrip()))
        if _CELL_SEPARATOR in line or stripped.startswith("| "):
            cells = [c.strip() for c in stripped.split(_CELL_SEPARATOR)]
            if not previous_is_row:
                if _looks_like_header(cells):
                    header = cells
                    previous_is_row = True
                    first_row_block = False
                    units.append(Unit(lead, lead + len(stripped), stripped, stripped, "header", number))
                    continue
                if not first_row_block:
                    header = None
            previous_is_row = True
            first_row_block = False
            if number == 0 and (stripped.startswith("|") or (header and len(cells) != len(header))):
                continue  # the tail of a row the chunk boundary cut: its start is in the chunk before
            columns = relevant_columns(header, question_terms) if header and question_terms else None
            if columns is not None and question_terms:
                # …and any cell the question names ("cardiology" in the Specialty column) stays too.
                columns = sorted({*columns, *(i for i, c in enumerate(cells) if set(terms(c)) & question_terms)})
            units.append(Unit(lead, lead + len(stripped), record(cells, header, columns), stripped, "row", number,
                              tuple(cells), tuple(header or ())))
            continue
        previous_is_row = False
        first_row_block = False
        if _is_heading(stripped):
            units.append(Unit(lead, lead + len(stripped), stripped, stripped, "heading", number))
            continue
        position = 0
        for piece in _SENTENCE_END.split(stripped):
            at = stripped.find(piece, position)
            position = at + len(piece)
            piece = piece.strip()
            if piece:
                units.append(Unit(lead + at, lead + at + len(piece), " ".join(piece.split()), piece, "sentence",
                                  number))
    return units


def _logical_lines(text: str) -> list[tuple[int, str]]:
    """Lines of ``text`` as (offset, text), a line a PDF wrapped joined with its continuation.

    A long line that does not end a sentence, followed by one that starts in lower case, is one
    line cut by the page's width ("…in non-valvular atrial" / "fibrillation, with effect…").
    """
    out: list[tuple[int, str]] = []
    offset = 0
    for line in text.split("\n"):
        start = offset
        offset += len(line) + 1
        if out and line[:1].islower() and _CELL_SEPARATOR not in line:
            s, previous = out[-1]
            tail = previous.rstrip()
            if len(tail) >= 50 and not tail.endswith((".", "!", "?", ":", ";")) and _CELL_SEPARATOR not in previous:
                out[-1] = (s, text[s:start + len(line)])
                continue
        out.append((start, line))
    return out


@dataclass
class Scored:
    """A unit of one passage with its scores.

    Attributes:
        passage: Index of the passage (in the order given).
        index: Index of the unit within its passage.
        unit: The unit.
        score: How well it (with its neighbours) covers the question, 0..1.
    """

    passage: int
    index: int
    unit: Unit
    score: float = 0.0


@dataclass
class EvidenceSet:
    """What :func:`select_evidence` found.

    Attributes:
        blocks: Per chosen passage (index into the passages given), the units kept, in order.
        coverage: The best window's coverage of the question (0..1): how much of what the
            question asks about appears together in one place.
        best: The best-scoring unit, if any.
        units: Every passage's units (for the answer check).
    """

    blocks: list[tuple[int, list[Unit]]]
    coverage: float
    best: Scored | None
    units: list[list[Unit]] = field(default_factory=list)


def _weights(question_terms: list[str], units: Sequence[Sequence[set[str]]]) -> dict[str, float]:
    """Inverse document frequency of each question term over all units (+1 smoothing)."""
    flat = [u for passage in units for u in passage]
    n = max(1, len(flat))
    weights = {}
    for term in set(question_terms):
        df = sum(1 for u in flat if term in u)
        weight = math.log(1.0 + (n + 1) / (df + 0.5))
        if term in QUESTION_WORDS:
            weight *= 0.25
        weights[term] = weight
    return weights


def select_evidence(
    question: str,
    passages: Sequence[tuple[str, list[str] | None, str | None]],
    *,
    max_chars: int = 1400,
    neighbours: int = 1,
    similarity: Callable[[list[str]], list[float]] | None = None,
) -> EvidenceSet:
    """Choose the units that bear on ``question``.

    Args:
        question: The question.
        passages: Per passage, best first: its text, the column headers of a table it starts in
            (or None), and its context words (title, section) counted toward coverage but not shown.
        max_chars: Roughly how much evidence text to keep (the model's reading).
        neighbours: Units kept on each side of a chosen one (same passage).
        similarity: Optional: cosine similarity of the question to each unit's text (a second,
            meaning-based signal that catches paraphrases).
    """
    q_terms = [t for t in terms(question)]
    units = [split_units(text, table_header=header, question_terms=set(q_terms)) for text, header, _ in passages]
    unit_terms = [[set(terms(u.text)) for u in us] for us in units]
    context_terms = [set(terms(ctx or "")) for _, _, ctx in passages]
    weights = _weights(q_terms, unit_terms)
    total = sum(weights.values()) or 1.0
    scored: list[Scored] = []
    for p, us in enumerate(units):
        for i, unit in enumerate(us):
            if unit.kind == "header":
                continue
            lo, hi = max(0, i - neighbours), min(len(us), i + neighbours + 1)
            window = set().union(*unit_terms[p][lo:hi], context_terms[p])
            # The unit itself counts fully, its neighbours and context at 60 %: the answer and the
            # question's words are usually in the same sentence.
            own = sum(w for t, w in weights.items() if t in unit_terms[p][i])
            near = sum(w for t, w in weights.items() if t in window and t not in unit_terms[p][i])
            scored.append(Scored(p, i, us[i], (own + 0.6 * near) / total))
    if similarity is not None and scored:
        sims = similarity([s.unit.text for s in scored])
        for s, sim in zip(scored, sims, strict=True):
            s.score = 0.7 * s.score + 0.3 * max(0.0, sim)
    # The passage's retrieval rank breaks near-ties: earlier passages matched better as a whole.
    ranked = sorted(scored, key=lambda s: -(s.score - 0.01 * s.passage))
    best = ranked[0] if ranked else None
    coverage = 0.0
    if best is not None:
        us, p, i = units[best.passage], best.passage, best.index
        lo, hi = max(0, i - neighbours), min(len(us), i + neighbours + 1)
        window = set().union(*unit_terms[p][lo:hi], context_terms[p])
        coverage = sum(w for t, w in weights.items() if t in window) / total
    chosen: dict[int, set[int]] = {}
    seen: set[str] = set()  # overlapping chunks repeat sentences: each is shown once
    used = 0
    for s in ranked:
        if used >= max_chars or (best is not None and s.score < 0.6 * best.score):
            break
        us = units[s.passage]
        if s.unit.quote in seen:
            continue
        keep = chosen.setdefault(s.passage, set())
        for j in range(max(0, s.index - neighbours), min(len(us), s.index + neighbours + 1)):
            if j not in keep and us[j].quote not in seen and us[j].kind != "header":
                keep.add(j)
                seen.add(us[j].quote)
                used += len(us[j].text) + 1
        # The heading the unit sits under, and a table's header, give it its meaning.
        for j in range(s.index - 1, -1, -1):
            if us[j].kind == "heading":
                if j not in keep and us[j].quote not in seen:
                    keep.add(j)
                    seen.add(us[j].quote)
                    used += len(us[j].text) + 1
                break
    blocks = [(p, [units[p][j] for j in sorted(keep)]) for p, keep in chosen.items()]
    blocks.sort(key=lambda b: b[0])
    return EvidenceSet(blocks=blocks, coverage=coverage, best=best, units=units)


def render_block(units: Sequence[Unit], question: str = "") -> str:
    """The units of one passage as the model reads them: "…" where text was left out, and, for a
    question that asks for the most or the least of a column, that comparison made for it."""
    out: list[str] = []
    last_line = None
    for u in units:
        if last_line is not None and u.line > last_line + 1 and out:
            out.append("…")
        out.append(u.text)
        last_line = u.line
    out += table_extremes(question, units)
    return "\n".join(out)


_MOST = re.compile(r"\b(most|highest|largest|biggest|greatest|maximum|top)\b", re.IGNORECASE)
_LEAST = re.compile(r"\b(least|fewest|lowest|smallest|minimum|bottom)\b", re.IGNORECASE)
_AMOUNT = re.compile(r"^[£$€]?\s*-?\d[\d,]*(?:\.\d+)?\s*%?$")


def table_extremes(question: str, units: Sequence[Unit]) -> list[str]:
    """Lines like "Most Medication errors (of the rows above): Rowan Ward (16)".

    Small models compare numbers across rows badly ("which ward had the most medication
    errors?"); the comparison is arithmetic, so it is done here, over the rows shown, for each
    numeric column the question names, when it asks for a most or a least.
    """
    most, least = bool(_MOST.search(question)), bool(_LEAST.search(question))
    if not (most or least):
        return []
    q_terms = set(terms(question))
    rows = [u for u in units if u.kind == "row" and u.header and len(u.cells) == len(u.header)]
    lines: list[str] = []
    for header in dict.fromkeys(u.header for u in rows):
        group = [u for u in rows if u.header == header]
        if len(group) < 2:
            continue
        for i, name in enumerate(header):
            if i == 0 or not set(terms(name)) & q_terms:
                continue
            values = [(_number(u.cells[i]), u.cells[0]) for u in group]
            known = [(v, key) for v, key in values if v is not None and key and not key.lower().startswith("all ")
                     and not key.lower().startswith("total")]
            if len(known) < 2:
                continue
            for wanted, pick, word in ((most, max, "Most"), (least, min, "Least")):
                if wanted:
                    top = pick(v for v, _ in known)
                    keys = [key for v, key in known if v == top]
                    lines.append(f"{word} {name} (of the rows above): {', '.join(keys)} ({_plain(top)})")
    return lines


def _number(cell: str) -> float | None:
    cell = cell.strip()
    if not _AMOUNT.match(cell):
        return None
    return float(re.sub(r"[£$€,%\s]", "", cell))


def _plain(value: float) -> str:
    return str(int(value)) if value == int(value) else f"{value:g}"


# -- checking an answer -------------------------------------------------------------------------

def facts(answer: str) -> list[str]:
    """The checkable facts of an answer: numbers, quoted phrases and capitalised names."""
    found = [m.group(0) for m in _NUMBER.finditer(answer)]
    found += [m.group(1) for m in _QUOTED.finditer(answer)]
    for m in _CAPITALISED.finditer(answer):
        name = m.group(0)
        if name.lower() not in {"the", "i", "it", "this", "they", "a", "an", "in", "on", "yes", "no"}:
            found.append(name)
    return found


def _norm(text: str) -> str:
    return " ".join(re.findall(r"\w+", text.lower().replace(",", "")))


def fact_found(fact: str, source: str) -> bool:
    """Whether ``fact`` appears in ``source`` (case, punctuation and thousands separators ignored;
    a name counts when each of its words does)."""
    f, s = _norm(fact), _norm(source)
    if not f:
        return True
    if f" {f} " in f" {s} ":
        return True
    words = f.split()
    if not any(c.isdigit() for c in f) and len(words) > 1:
        present = set(s.split())
        return all(w in present for w in words)
    return False


@dataclass(frozen=True)
class Check:
    """The outcome of checking an answer against its passages.

    Attributes:
        supported: Every fact of the answer was found in the passages (True); some were not
            (False); the answer states no checkable fact and shares too few words with them (False).
        missing: The facts not found.
        support: Per passage index, the units that best support the answer, best first.
        answer_coverage: How much of the question the best supporting unit's neighbourhood covers.
    """

    supported: bool
    missing: list[str]
    support: list[tuple[int, Unit, float]]
    answer_coverage: float


def check_answer(answer: str, question: str, passages: Sequence[str], evidence: EvidenceSet,
                 *, context: Sequence[str | None] = ()) -> Check:
    """Look the answer's facts up in the passages and find the sentences that support it.

    Args:
        answer: The model's answer (citation markers are ignored).
        question: The question (its words are not counted as the answer's).
        passages: The passages' texts, in the order given to :func:`select_evidence`.
        evidence: What :func:`select_evidence` returned for them.
        context: Per passage, its title/section words (as given to :func:`select_evidence`).
    """
    clean = re.sub(r"\[\d{1,2}(?:\s*[,;]\s*\d{1,2})*\]", " ", answer)
    all_text = "\n".join([*passages, *(c or "" for c in context)])
    claimed = facts(clean)
    q_norm = _norm(question)
    # Facts the question itself states prove nothing about the answer; the rest must be found.
    own = [f for f in claimed if not fact_found(f, q_norm)]
    missing = [f for f in own if not fact_found(f, all_text)]
    a_terms = set(terms(clean)) - set(terms(question))
    q_set = set(terms(question))
    support: list[tuple[int, Unit, float]] = []
    for p, units in enumerate(evidence.units):
        for u in units:
            u_terms = set(terms(u.text))
            overlap = len(a_terms & u_terms) / max(1, len(a_terms))
            fact_hits = sum(1 for f in own if fact_found(f, u.text))
            if overlap + fact_hits > 0:
                # Of the sentences that hold the answer, the one that is about the question first.
                about = len(q_set & u_terms) / max(1, len(q_set))
                support.append((p, u, overlap + fact_hits + 0.5 * about))
    support.sort(key=lambda t: -t[2])
    content_found = True
    if not own and a_terms:
        present = set(terms(all_text))
        content_found = len(a_terms & present) / len(a_terms) >= 0.5
    supported = not missing and content_found and bool(a_terms or own)
    answer_coverage = 0.0
    if support:
        # The answer's words may appear in several places (a drug named in three sentences): the
        # sentence it comes from is the one among the best-supporting that is about the question.
        q_terms = terms(question)
        unit_terms = [[set(terms(u.text)) for u in us] for us in evidence.units]
        weights = _weights(q_terms, unit_terms)
        total = sum(weights.values()) or 1.0
        top = support[0][2]
        for p, unit, score in support:
            if score < 0.8 * top:
                break
            i = evidence.units[p].index(unit)
            lo, hi = max(0, i - 1), min(len(evidence.units[p]), i + 2)
            window = set().union(*unit_terms[p][lo:hi])
            if context and p < len(context):
                window |= set(terms(context[p] or ""))
            answer_coverage = max(answer_coverage, sum(w for t, w in weights.items() if t in window) / total)
    return Check(supported=supported, missing=missing, support=support, answer_coverage=answer_coverage)
