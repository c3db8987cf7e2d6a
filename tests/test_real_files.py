"""The 145 real, partly hostile files in ../shared/data/ingestion, ingested as one batch.

None may crash or hang the batch; each file ends up ingested with text, or failed with a specific
reason. (The parsers' own test checks per-file text; this one checks the whole pipeline: worker
process, chunking, embedding, store.)
"""

from __future__ import annotations

import csv
import time
from pathlib import Path

import pytest

from app.core.engine import Engine
from tests.conftest import SHARED_DATA

INGESTION = SHARED_DATA / "ingestion"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.timeout(2400),  # ~6 min on an idle 2-core machine; room for a loaded one
    pytest.mark.skipif(not INGESTION.is_dir(), reason=f"real files not found at {INGESTION} (../shared beside the checkout)"),
]

# Expected refusals, by file name: the reason must contain these words.
EXPECTED_FAILURES = {
    "password.pdf": "password",
    "password_protected.xlsx": "password",
    "loremipsum-flat.pdf": "scanned",
    "fake.doc": ".docx",
    "fake-power-point.ppt": ".pptx",
    "tests-example.xls": ".xlsx",
    "random.bin": "not supported",
    "empty.xlsx": "",
}


def _manifest() -> list[Path]:
    with (INGESTION / "MANIFEST.tsv").open(encoding="utf-8") as fh:
        return [INGESTION / row["path"] for row in csv.DictReader(fh, delimiter="\t")]


def test_every_real_file_is_ingested_or_refused_with_a_reason(engine: Engine) -> None:
    files = _manifest()
    assert len(files) == 145
    started = time.perf_counter()
    outcomes = engine.ingest_service().ingest(files)
    elapsed = time.perf_counter() - started
    by_path = {o.path: o for o in outcomes}
    assert set(by_path) == {f.resolve() for f in files}, "every file gets exactly one outcome"
    problems = []
    for o in outcomes:
        if o.status == "ingested":
            if o.chunks < 1:
                problems.append(f"{o.path.name}: ingested without chunks")
        elif o.status == "failed":
            if not o.reason or len(o.reason) < 12:
                problems.append(f"{o.path.name}: failed without a specific reason ({o.reason!r})")
        else:
            problems.append(f"{o.path.name}: unexpected status {o.status}")
    for name, words in EXPECTED_FAILURES.items():
        match = [o for o in outcomes if o.path.name == name]
        assert match, name
        assert match[0].status == "failed" and words in (match[0].reason or ""), (name, match[0].reason)
    assert not problems, "\n".join(problems)
    ingested = [o for o in outcomes if o.status == "ingested"]
    big = next(o for o in outcomes if o.path.name == "DA-619p.pdf")
    assert big.status == "ingested" and big.pages == 619
    assert len(ingested) >= 115
    print(f"\n{len(ingested)} ingested, {len(outcomes) - len(ingested)} refused, {elapsed:.0f} s, "
          f"{sum(o.chunks for o in ingested)} chunks")
    # The library agrees with the outcomes, and the big PDF's pages are searchable.
    assert len(engine.library.all("ready")) == len(ingested)
    hit = engine.search_service().search("File with password", k=3)
    assert all("password.pdf" not in h.path for h in hit)
