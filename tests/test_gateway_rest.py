"""The gateway's REST channel without a running Rasa: the message is stored first and nothing is lost. These run
in embedded mode from a loopback client, as the demo does; tests/test_access.py covers who may call it."""

from __future__ import annotations

import re
import socket

from fastapi.testclient import TestClient
from sqlalchemy import select

from bot.config import Settings
from bot.db import session_scope
from bot.db.models import AuditEvent, Conversation, Message, SavedMessage
from bot.gateway.app import create_app

LOOPBACK_CLIENT = ("127.0.0.1", 50000)


def _client(settings: Settings) -> TestClient:
    return TestClient(create_app(settings), client=LOOPBACK_CLIENT)


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_a_message_is_stored_and_saved_for_an_answer_when_rasa_is_down(sqlite_engine, sqlite_url):
    """The debtor is told the message is kept and will be answered (not asked to repeat it), and it is queued for the
    answer-saved job (bot/messaging/saved.py).
    Mutation: saved_messages.save(...) removed from Pipeline._send -> no SavedMessage row: this test fails."""
    settings = Settings(database_url=sqlite_url, rasa_url=f"http://127.0.0.1:{_closed_port()}", mode="embedded")
    with _client(settings) as client:
        response = client.post("/webhooks/rest/webhook", json={"sender": "web-1", "message": "what do I owe?"})
    assert response.status_code == 200
    body = response.json()
    assert body[0]["recipient_id"] == "web-1"
    assert "saved and I'll answer it as soon as I can" in body[0]["text"] and "try again" not in body[0]["text"]
    with session_scope(sqlite_engine) as session:
        conv = session.scalars(select(Conversation)).one()
        inbound, outbound = session.scalars(select(Message).order_by(Message.id)).all()
        queued = session.scalars(select(SavedMessage)).all()
    assert conv.external_id == "web-1" and conv.id != "web-1"  # the conversation id is opaque, ours
    assert (inbound.text, inbound.status, inbound.direction) == ("what do I owe?", "unprocessed", "in")
    assert outbound.direction == "out" and outbound.sender_role == "bot"
    assert [(q.message_id, q.conversation_id) for q in queued] == [(inbound.id, conv.id)]


def test_the_next_step_the_saved_reply_offers_works_while_rasa_is_down_in_english_and_spanish(sqlite_url):
    """VOICE.md "always a next step": the word the "message saved" reply tells the debtor to send (HELP, AYUDA) is
    answered by the gate without Rasa, with how to reach a person (HO-1, LANG-1).
    Mutation: the reply's keyword changed to "reply PERSON" in bot/wording/en.py -> PERSON goes to Rasa (down) and is
    saved too, with no contact: this test fails."""
    settings = Settings(database_url=sqlite_url, rasa_url=f"http://127.0.0.1:{_closed_port()}", mode="embedded")
    with _client(settings) as client:
        for sender, message in (("web-en", "what do I owe?"), ("web-es", "¿cuánto debo? quiero pagar mi deuda")):
            told = client.post("/webhooks/rest/webhook", json={"sender": sender, "message": message}).json()[0]["text"]
            keyword = re.search(r"(?:reply|responda) ([A-Z]+)", told).group(1)
            answer = client.post("/webhooks/rest/webhook", json={"sender": sender, "message": keyword}).json()
            assert len(answer) == 1 and settings.support_contact in answer[0]["text"], (told, answer)


def test_an_empty_message_gets_a_helpful_prompt(sqlite_url):
    """A prompt that helps anyone (DISC-3: whoever sends it may not be the debtor, so it names no balance)."""
    settings = Settings(database_url=sqlite_url, rasa_url=f"http://127.0.0.1:{_closed_port()}", mode="embedded")
    with _client(settings) as client:
        body = client.post("/webhooks/rest/webhook", json={"sender": "web-1", "message": "  "}).json()
    assert "talk to a person" in body[0]["text"] and "balance" not in body[0]["text"]


def test_malformed_requests_get_a_clear_error(sqlite_url):
    settings = Settings(database_url=sqlite_url, rasa_url=f"http://127.0.0.1:{_closed_port()}", mode="embedded")
    with _client(settings) as client:
        assert client.post("/webhooks/rest/webhook", json={"message": "hi"}).status_code == 422
        assert client.post("/webhooks/rest/webhook", content=b"not json",
                           headers={"content-type": "application/json"}).status_code == 422


def test_a_digit_picks_the_numbered_button_of_the_last_bot_message(sqlite_engine, sqlite_url):
    """Buttons are shortcuts: over SMS they are numbered, and typing the number picks that button."""
    from bot import conversations
    from bot.gateway.pipeline import Pipeline

    with session_scope(sqlite_engine) as session:
        conv = conversations.get_or_create(session, "sms", "+15555550101")
        conversations.record_message(session, conv, direction="out", sender_role="bot", text="Pick one",
                                     payload={"buttons": [{"title": "All of it", "payload": "All of it"},
                                                          {"title": "Not mine", "payload": "/choose{\"x\":2}"}]},
                                     status="sent")
    pipeline = Pipeline(sqlite_engine, rasa=None, settings=Settings(database_url=sqlite_url))
    received = pipeline._receive("sms", "+15555550101", "2")
    assert received.text == '/choose{"x":2}'
    assert pipeline._receive("sms", "+15555550101", "7").text == "7"  # no such choice: plain text
    with session_scope(sqlite_engine) as session:
        stored = session.scalars(select(Message.text).where(Message.direction == "in")).all()
    assert stored == ["2", "7"]  # the transcript keeps what the debtor typed


def test_ID_1_an_idle_conversation_must_verify_again(sqlite_engine, sqlite_url):
    """After the configured idle time the database forgets the verification and Rasa starts a new session."""
    from datetime import datetime, timedelta, timezone

    from bot import conversations
    from bot.gateway.pipeline import Pipeline

    with session_scope(sqlite_engine) as session:
        conv = conversations.get_or_create(session, "sms", "+15555550101")
        conv.verified_at = conv.session_started_at = datetime.now(timezone.utc) - timedelta(hours=2)
        conv.last_activity_at = datetime.now(timezone.utc) - timedelta(minutes=31)
    pipeline = Pipeline(sqlite_engine, rasa=None, settings=Settings(database_url=sqlite_url, session_idle_minutes=30))
    assert pipeline._receive("sms", "+15555550101", "balance").new_session
    assert not pipeline._receive("sms", "+15555550101", "again").new_session
    with session_scope(sqlite_engine) as session:
        assert session.get(Conversation, conv.id).verified_at is None


def test_PCI_2_a_card_split_over_two_messages_is_caught_whichever_worker_takes_each(engine, db_url):
    """Two gateway workers (two pipelines) share only the database: the second half of a card number, taken by the
    other worker, still completes the first half, and both stored messages are redacted. The carry comes from the
    previous stored message, not from one worker's memory (which also forgot it at every restart)."""
    from bot.gateway.pipeline import Pipeline

    first_worker = Pipeline(engine, rasa=None, settings=Settings(database_url=db_url))
    second_worker = Pipeline(engine, rasa=None, settings=Settings(database_url=db_url))
    first = first_worker._receive("web", "wsplit", "my card is 4242 4242")
    second = second_worker._receive("web", "wsplit", "4242 4242 thanks")
    assert first.redacted_previous is None
    # What Pipeline.handle has Rasa rewrite in its tracker store before the second message reaches it.
    assert second.redacted_previous == (first.message_id, "my card is [REDACTED]")
    with session_scope(engine) as session:
        stored = session.scalars(select(Message).where(Message.direction == "in").order_by(Message.id)).all()
        assert [m.text for m in stored] == ["my card is [REDACTED]", "[REDACTED] thanks"]
        assert all(m.rule_ids == ["PCI-2"] for m in stored)
        split = session.scalars(select(AuditEvent).where(AuditEvent.kind == "inbound_redacted")).all()
        assert any((e.detail or {}).get("split_message") for e in split)


def test_PCI_2_a_split_card_that_rasa_cannot_rewrite_is_audited(sqlite_engine, sqlite_url):
    """Rasa down when the second half comes: the fragment it was sent may still be in its tracker store, and the
    audit trail says so (with the message's id, never its digits)."""
    settings = Settings(database_url=sqlite_url, rasa_url=f"http://127.0.0.1:{_closed_port()}", mode="embedded")
    with _client(settings) as client:
        for text in ("my card is 4242 4242", "4242 4242"):
            assert client.post("/webhooks/rest/webhook", json={"sender": "web-9", "message": text}).status_code == 200
    with session_scope(sqlite_engine) as session:
        first = session.scalars(select(Message).where(Message.direction == "in").order_by(Message.id)).first()
        failed = session.scalars(select(AuditEvent).where(AuditEvent.kind == "tracker_redaction_failed")).one()
        assert (failed.rule_id, failed.detail["message_id"]) == ("PCI-2", first.id)
        assert "4242" not in str(failed.detail)
