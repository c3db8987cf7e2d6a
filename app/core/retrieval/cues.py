"""A question that names a financial statement prefers the pages that are that statement.

"What is 3M's FY2018 capital expenditure? Rely on the cash flow statement." The figure is on the
page titled "Consolidated Statement of Cash Flows", but the words of the question (capital,
expenditure, 2018) are spread over dozens of pages of the same filing: MD&A prose, notes, the
five-year summary. Reports name their primary statements in a few fixed ways, so a question that
names one (income statement / statement of operations / of earnings; balance sheet / statement of
financial position; cash flow statement / statement of cash flows) gives a bonus to the chunks whose
page title (the section heading that ingest stored with the chunk, see
:func:`app.core.ingest.parsers.context.section_headings`) is that statement.

The bonus is in units of the fused score's standard deviation over the candidates (see
:func:`app.core.retrieval.hybrid.fuse`). Measured on financebench-dev (39 questions, 22 of them
naming a statement; ``sanctum bench pages``), page-hit@5 with a bonus of 0 / 0.5 / 1 / 2: 21 / 27 /
27 / 27, page-hit@1 10 / 16 / 20 / 22. One standard deviation is the middle of that plateau: it
lifts a statement page over look-alike prose without letting any chunk of it outrank a chunk that
matches the question far better.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

STATEMENT_BONUS = 1.0

# What a question says when it means one statement.
_ASKED = {
    "income": re.compile(r"\b(?:income\s+statements?|statements?\s+of\s+(?:consolidated\s+)?(?:income|operations|"
                         r"earnings)|p\s?&\s?l\b|profit\s+and\s+loss\s+(?:statement|account))", re.IGNORECASE),
    "balance": re.compile(r"\b(?:balance\s+sheets?|statements?\s+of\s+financial\s+position)", re.IGNORECASE),
    "cash": re.compile(r"\b(?:cash[\s-]?flows?\s+statements?|statements?\s+of\s+cash[\s-]?flows?)", re.IGNORECASE),
}
# How a page titled as that statement reads ("Consolidated Statements of Operations").
_TITLED = {
    "income": re.compile(r"\bstatements?\s+of\s+(?:consolidated\s+)?(?:income|operations|earnings)\b", re.IGNORECASE),
    "balance": re.compile(r"\b(?:balance\s+sheets?|statements?\s+of\s+(?:consolidated\s+)?financial\s+position)\b",
                          re.IGNORECASE),
    "cash": re.compile(r"\bstatements?\s+of\s+(?:consolidated\s+)?cash\s+flows?\b", re.IGNORECASE),
}


def statements_asked(question: str) -> frozenset[str]:
    """The statements a question names: a subset of {"income", "balance", "cash"}."""
    return frozenset(kind for kind, pattern in _ASKED.items() if pattern.search(question))


def statement_titled(heading: str | None) -> str | None:
    """The statement a chunk's heading says its page is ("Item 8. … › Consolidated Balance Sheets"), or None.

    Only the page's own title counts (the part after the report item), never the item's name.
    """
    if not heading:
        return None
    title = heading.rsplit(" › ", 1)[-1]
    if title.startswith("Item "):
        return None
    for kind, pattern in _TITLED.items():
        if pattern.search(title):
            return kind
    return None


def statement_bonus(asked: frozenset[str], headings: Sequence[str | None], *,
                    bonus: float = STATEMENT_BONUS) -> np.ndarray:
    """Per chunk, ``bonus`` where its heading is a statement the question asked for, else 0."""
    if not asked or not bonus:
        return np.zeros(len(headings))
    return np.array([bonus if statement_titled(h) in asked else 0.0 for h in headings])
