"""Saved conversations: encrypted at rest, ordered, restricted to documents, follow-ups get history."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from app.core.answer.sources import PDF, TEXT, SourceService, find_span, search_phrase
from app.core.config import Settings
from app.core.crypto import Cipher, DataLocked
from app.core.storage.conversations import (
    ASSISTANT,
    USER,
    Citation,
    ConversationNotFound,
    ConversationStore,
    EvidenceQuote,
    history,
    title_from,
)
from tests import docmaker

KEY = bytes(range(32))


def test_round_trip_and_nothing_readable_on_disk(tmp_path: Path) -> None:
    db = tmp_path / "c.sqlite3"
    store = ConversationStore(db, Cipher(KEY))
    conv = store.create("Maria Gonzales discharge", doc_ids=["d1"])
    store.append(conv.conv_id, USER, "What dose of warfarin for Maria Gonzales?")
    cite = Citation(1, "/notes/gonzales.pdf", 3, "Page 3", "Warfarin 5 mg daily, INR target 2-3.", "d1", 0.8)
    store.append(conv.conv_id, ASSISTANT, "Warfarin 5 mg daily [1].", citations=[cite])
    store.set_draft(conv.conv_id, "and the INR")
    store.close()

    raw = db.read_bytes() + (tmp_path / "c.sqlite3-wal").read_bytes() if (tmp_path / "c.sqlite3-wal").exists() \
        else db.read_bytes()
    for secret in (b"Gonzales", b"warfarin", b"Warfarin", b"gonzales.pdf", b"INR"):
        assert secret not in raw

    again = ConversationStore(db, Cipher(KEY))
    [c] = again.list()
    assert (c.title, c.doc_ids) == ("Maria Gonzales discharge", ["d1"])
    msgs = again.messages(c.conv_id)
    assert [m.role for m in msgs] == [USER, ASSISTANT]
    assert msgs[1].citations == [cite]
    assert again.draft(c.conv_id) == "and the INR"
    with pytest.raises(DataLocked):
        ConversationStore(db, Cipher(bytes(32))).list()


def test_evidence_and_verdict_are_kept_sealed_and_old_messages_still_open(tmp_path: Path) -> None:
    db = tmp_path / "c.sqlite3"
    store = ConversationStore(db, Cipher(KEY))
    conv = store.create("Falls")
    cite = Citation(2, "/ward/falls audit.xlsx", 1, "Sheet 'Q1'", "Ward: Larkspur · Falls: 1", "d2", 0.7)
    quote = EvidenceQuote(2, "/ward/falls audit.xlsx", 1, "Sheet 'Q1'", "Ward: Larkspur · Falls: 1", "Larkspur")
    store.append(conv.conv_id, ASSISTANT, "Larkspur had 3 falls [2].", citations=[cite], evidence=[quote],
                 supported=False)
    store.append(conv.conv_id, ASSISTANT, "The documents do not say.", supported=None, declined=True)
    # A message saved before evidence was recorded: its body has none of the new keys.
    old = store.append(conv.conv_id, ASSISTANT, "Old answer [2].", citations=[cite])
    con = sqlite3.connect(db)
    body = store._seal('{"text": "Old answer [2].", "citations": [], "cancelled": false, "grounded": true}',
                       old.msg_id, "body")
    con.execute("UPDATE messages SET body=? WHERE msg_id=?", (body, old.msg_id))
    con.commit()
    con.close()
    store.close()
    raw = b"".join(f.read_bytes() for f in tmp_path.glob("c.sqlite3*"))
    assert b"Larkspur" not in raw and b"falls audit" not in raw

    unsupported, declined, legacy = ConversationStore(db, Cipher(KEY)).messages(conv.conv_id)
    assert unsupported.evidence == [quote] and unsupported.supported is False and not unsupported.declined
    assert unsupported.evidence[0].where() == "falls audit.xlsx, Sheet 'Q1'"
    assert declined.evidence == [] and declined.supported is None and declined.declined
    assert legacy.text == "Old answer [2]." and legacy.evidence == [] and legacy.supported is None
    assert not legacy.declined


def test_a_value_moved_to_another_row_does_not_open(tmp_path: Path) -> None:
    db = tmp_path / "c.sqlite3"
    store = ConversationStore(db, Cipher(KEY))
    a, b = store.create("first"), store.create("second")
    store.close()
    con = sqlite3.connect(db)
    title_a = con.execute("SELECT title FROM conversations WHERE conv_id=?", (a.conv_id,)).fetchone()[0]
    con.execute("UPDATE conversations SET title=? WHERE conv_id=?", (title_a, b.conv_id))
    con.commit()
    con.close()
    with pytest.raises(DataLocked):
        ConversationStore(db, Cipher(KEY)).get(b.conv_id)


def test_rename_restrict_delete_and_order(tmp_path: Path) -> None:
    store = ConversationStore(tmp_path / "c.sqlite3", Cipher(KEY))
    old, new = store.create("old"), store.create("new")
    store.append(old.conv_id, USER, "bump")  # most recently used comes first
    assert [c.title for c in store.list()] == ["old", "new"]
    store.rename(new.conv_id, "  Ward   4  ")
    store.restrict(new.conv_id, ["x", "y"])
    assert store.get(new.conv_id).title == "Ward 4" and store.get(new.conv_id).doc_ids == ["x", "y"]
    store.restrict(new.conv_id, None)
    assert store.get(new.conv_id).doc_ids is None
    store.delete(old.conv_id)
    assert [c.title for c in store.list()] == ["Ward 4"]
    with pytest.raises(ConversationNotFound):
        store.append(old.conv_id, USER, "gone")


def test_history_keeps_finished_grounded_turns_only(tmp_path: Path) -> None:
    store = ConversationStore(tmp_path / "c.sqlite3", Cipher(KEY))
    c = store.create()
    store.append(c.conv_id, USER, "q1")
    store.append(c.conv_id, ASSISTANT, "a1")
    store.append(c.conv_id, USER, "q2")
    store.append(c.conv_id, ASSISTANT, "a2 cut", cancelled=True)
    store.append(c.conv_id, USER, "q3")
    store.append(c.conv_id, ASSISTANT, "not in the documents", grounded=False)
    turns = history(store.messages(c.conv_id))
    assert [(m.role, m.content) for m in turns] == [("user", "q1"), ("assistant", "a1")]
    assert title_from("  How often   is the dressing changed? ") == "How often is the dressing changed?"
    assert title_from("word " * 40).endswith("…") and len(title_from("word " * 40)) <= 61


def test_sources_are_found_again_in_their_files(tmp_path: Path) -> None:
    service = SourceService(settings=Settings())
    body = "Intro line.\n\nCentral line dressings are changed every 7 days.\nThen the site is cleaned."
    txt = docmaker.make_text(tmp_path / "notes.txt", body)
    loc = service.locate(txt, text="Central line dressings are changed every 7 days.")
    assert loc.kind == TEXT and loc.exact
    assert loc.text[loc.start:loc.end] == "Central line dressings are changed every 7 days."
    pdf = docmaker.make_pdf(tmp_path / "p.pdf", ["one", "two"])
    loc = service.locate(pdf, text="two words here and more", page=2, label="Page 2")
    assert (loc.kind, loc.page) == (PDF, 2)
    assert search_phrase("a b\nthe four word line here\nrest") == "the four word line here"
    with pytest.raises(Exception, match="moved or deleted"):
        service.locate(tmp_path / "gone.txt", text="x")


def test_a_passage_is_found_in_a_page_text_laid_out_differently() -> None:
    page = ("Ward 4 protocols.\r\nCentral line care. Central line dress-\u0002ings are changed every 7\r\n"
            "days, or at once when damp. Use chlor\ufb01xed wipes.\r\nFalls prevention.")
    passage = "Central line care. Central line dress-ings are changed every 7 days, or at once when damp."
    start, end = find_span(page, passage)
    assert page[start:end].startswith("Central line care.") and page[start:end].endswith("when damp.")
    assert "\r\n" in page[start:end], "the passage spans two lines of the page"
    s, e = find_span(page, "chlorfixed wipes")
    assert page[s:e] == "chlor\ufb01xed wipes"
    # The middle differs (a word the parser read otherwise): the span still runs from its head to its tail.
    s, e = find_span(page, passage.replace("are changed", "is changed"))
    assert (s, e) == (start, end)
    assert find_span(page, "Something that is not on this page at all, not even partly.") is None
    twice = "Wash hands. Gloves on. Wash hands. Gloves off."
    assert find_span(twice, "Wash hands.", near=12) == (23, 34) and twice[23:34] == "Wash hands."
