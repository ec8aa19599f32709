"""REC-1: delivery reports, agent replies and system messages all land in the chain, with channel, role and rules."""

from __future__ import annotations

from sqlalchemy import Engine, select

from bot import conversations, sms
from bot.db import session_scope
from bot.db.models import TranscriptEntry
from bot.records import verification


def test_rec1_an_sms_delivery_report_an_agent_reply_and_a_system_message_are_sealed_in_the_chain(
        engine: Engine) -> None:
    with session_scope(engine) as session:
        conversation = conversations.get_or_create(session, sms.CHANNEL, "+15555550101")
        conversations.record_message(session, conversation, direction="out", sender_role="bot", text="Hello.",
                                     status="sent", payload={"sms": {"parts": [{"sid": "SM1", "status": "queued"}]}})
        agent = conversations.record_message(session, conversation, direction="out", sender_role="agent",
                                             text="This is Ana.", status="sent")
        agent.rule_ids = ["TONE-1"]
        conversations.record_message(session, conversation, direction="out", sender_role="system",
                                     text="Conversation handed to a person.", status="sent")
        conversation_id = conversation.id
    assert sms.record_status(engine, "+15555550101", "SM1", "delivered")

    with session_scope(engine) as session:
        entries = list(session.scalars(select(TranscriptEntry).where(
            TranscriptEntry.conversation_id == conversation_id).order_by(TranscriptEntry.seq)))
        report = verification.verify(session)
    messages = [e.data for e in entries if e.kind == "message"]
    assert [(m["channel"], m["sender_role"]) for m in messages] == [
        ("sms", "bot"), ("sms", "agent"), ("sms", "system")]
    assert entries[-1].kind == "change" and entries[-1].data["payload"]["sms"]["status"] == "delivered"
    assert any(e.kind == "change" and e.data.get("rule_ids") == ["TONE-1"] for e in entries)
    assert report.intact, report.problems
