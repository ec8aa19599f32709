"""REC-1: the transcript is append-only and hash-chained per conversation; any edit or deletion is caught."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy import Engine, select

from bot import audit, conversations
from bot.db import session_scope
from bot.db.models import Conversation, Message, TranscriptEntry
from bot.records import verification


def _conversation_with_history(engine: Engine) -> str:
    with session_scope(engine) as session:
        conversation = conversations.get_or_create(session, "rest", "debtor-1")
        inbound = conversations.record_message(session, conversation, direction="in", sender_role="debtor",
                                               text="what do I owe?")
        inbound.intent, inbound.intent_confidence = "check_balance", 0.97
        inbound.status = "processed"
        session.flush()
        audit.record(session, "disclosure_given", rule_id="DISC-1", conversation_id=conversation.id)
        conversations.record_message(session, conversation, direction="out", sender_role="bot",
                                     text="You owe $1,234.56.", status="sent")
        return conversation.id


def _verify(engine: Engine) -> verification.Report:
    with session_scope(engine) as session:
        return verification.verify(session)


def test_every_message_change_and_event_is_an_entry_of_the_chain(engine: Engine) -> None:
    conversation_id = _conversation_with_history(engine)
    with session_scope(engine) as session:
        entries = list(session.scalars(select(TranscriptEntry).where(
            TranscriptEntry.conversation_id == conversation_id).order_by(TranscriptEntry.seq)))
        conversation = session.get(Conversation, conversation_id)
    assert [e.kind for e in entries] == ["message", "change", "event", "message"]
    assert entries[1].data == {"status": "processed", "intent": "check_balance", "intent_confidence": 0.97}
    assert entries[2].data["rule_id"] == "DISC-1"
    assert [e.prev_hash for e in entries[1:]] == [e.hash for e in entries[:-1]]
    assert conversation.transcript_seq == 4 and conversation.transcript_head == entries[-1].hash
    report = _verify(engine)
    assert report.intact and report.entries == 4


def test_a_message_edited_by_hand_is_reported(engine: Engine) -> None:
    conversation_id = _conversation_with_history(engine)
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE messages SET text = 'You owe nothing.' WHERE direction = 'out'"))
    report = _verify(engine)
    assert not report.intact
    assert any(p.conversation_id == conversation_id and "edited outside the record: text" in p.what
               for p in report.problems)


def test_an_entry_edited_by_hand_breaks_its_hash(engine: Engine) -> None:
    _conversation_with_history(engine)
    with session_scope(engine) as session:
        entry = session.scalars(select(TranscriptEntry).where(TranscriptEntry.seq == 4)).one()
        entry.data = {**entry.data, "text": "You owe nothing."}
    report = _verify(engine)
    assert any(p.where == "entry 4" and "hash does not match" in p.what for p in report.problems)


def test_a_deleted_message_and_its_entries_are_missed_by_the_chain(engine: Engine) -> None:
    _conversation_with_history(engine)
    with engine.begin() as conn:
        last = conn.execute(sa.text("SELECT max(id) FROM messages")).scalar_one()
        conn.execute(sa.text("DELETE FROM transcript_entries WHERE message_id = :m"), {"m": last})
        conn.execute(sa.text("DELETE FROM messages WHERE id = :m"), {"m": last})
    report = _verify(engine)
    assert any(p.where == "chain" and "holds 3 entries but 4 were written" in p.what for p in report.problems)


def test_a_row_inserted_outside_the_record_is_reported(engine: Engine) -> None:
    conversation_id = _conversation_with_history(engine)
    with engine.begin() as conn:
        conn.execute(sa.text(
            "INSERT INTO messages (conversation_id, direction, sender_role, text, status, created_at) "
            "VALUES (:c, 'out', 'bot', 'A message nobody sent', 'sent', CURRENT_TIMESTAMP)"), {"c": conversation_id})
    report = _verify(engine)
    assert any("inserted outside it" in p.what for p in report.problems)


def test_an_audit_event_edited_by_hand_is_reported(engine: Engine) -> None:
    _conversation_with_history(engine)
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE audit_events SET rule_id = 'DISC-2' WHERE kind = 'disclosure_given'"))
    report = _verify(engine)
    assert any(p.where.startswith("audit event") and "edited" in p.what for p in report.problems)


def test_an_entry_rebuilt_without_the_key_does_not_verify(engine: Engine) -> None:
    """Someone with database access but not TRANSCRIPT_HMAC_KEY cannot re-seal an edit with a plain SHA-256."""
    import hashlib
    import json

    _conversation_with_history(engine)
    with session_scope(engine) as session:
        entry = session.scalars(select(TranscriptEntry).where(TranscriptEntry.seq == 4)).one()
        message = session.get(Message, entry.message_id)
        message.text = "You owe nothing."  # sealed honestly as a change entry ...
    with session_scope(engine) as session:
        change = session.scalars(select(TranscriptEntry).where(TranscriptEntry.seq == 5)).one()
        # ... then the change entry is dropped and entry 4 forged to look as if the text had always been so.
        entry = session.scalars(select(TranscriptEntry).where(TranscriptEntry.seq == 4)).one()
        data = {**entry.data, "text": "You owe nothing."}
        entry.data = data
        entry.hash = hashlib.sha256((entry.prev_hash + json.dumps(data, sort_keys=True)).encode()).hexdigest()
        conversation = session.get(Conversation, entry.conversation_id)
        conversation.transcript_seq, conversation.transcript_head = 4, entry.hash
        session.delete(change)
    report = _verify(engine)
    assert any(p.where == "entry 4" and "hash does not match" in p.what for p in report.problems)
