"""A rapid-fire conversation against the real stack: many messages for one sender at once (issue 18, item 9).

Measured here: before the folding (bot/gateway/pipeline.py) these 20 took 12.9 s, every one a Rasa turn queued on
Rasa's conversation lock; 200 sent 20 at a time took 142.6 s with a message waiting up to 16 s (on a slower
topology past RASA_RETRY_SECONDS: "trouble right now"). After: 0.5 s, and 2.2 s for the 200 (1.0 s at most).
Mutation tried: `_folds` making every message a turn of its own -> fails (20 turns, none folded).

The same over the channels debtors use: texts through signed Twilio webhooks, and messages from the widget's socket.
Mutation tried: the SMS and widget locks held around the whole pipeline call again -> those two fail (every message
a turn of its own, none folded)."""

from __future__ import annotations

import asyncio
import json
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from sqlalchemy import select

from bot.db import get_engine, session_scope
from bot.db.models import AuditEvent, Conversation, Message
from bot.gateway.pipeline import UNAVAILABLE_REPLY
from bot.gateway.sms_channel import WEBHOOK_PATH
from tests.integration.chat import letters
from tests.integration.conftest import PUBLIC
from tests.twilio_standin import ACCOUNT_SID, FROM_NUMBER, message_sid, sign

pytestmark = pytest.mark.integration

BURST = 20


def test_twenty_messages_at_once_are_all_processed_in_order(running_stack):
    """20 REST posts for one sender at the same moment: every one is stored and processed (none "unprocessed"),
    none is answered with the unavailable reply, and the stored replies follow the messages in order."""
    sender = f"rapid-{letters()}"
    url = f"{running_stack.config.gateway_url}/webhooks/rest/webhook"
    texts = [f"hello number {letters(4)}" if i % 2 else "what can you do" for i in range(BURST)]

    async def burst() -> list[httpx.Response]:
        async with httpx.AsyncClient(timeout=120) as client:
            return await asyncio.gather(*(client.post(url, json={"sender": sender, "message": t}) for t in texts))

    started = time.monotonic()
    responses = asyncio.run(burst())
    elapsed = time.monotonic() - started
    print(f"{BURST} messages at once for one sender: {elapsed:.1f} s")
    assert [r.status_code for r in responses] == [200] * BURST
    said = [reply.get("text", "") for r in responses for reply in r.json()]
    assert UNAVAILABLE_REPLY not in said

    with session_scope(get_engine(running_stack.config.database_url)) as session:
        conversation = session.scalars(select(Conversation).where(Conversation.external_id == sender)).one()
        messages = session.scalars(select(Message).where(Message.conversation_id == conversation.id)
                                   .order_by(Message.id)).all()
        inbound = [m for m in messages if m.direction == "in"]
        assert len(inbound) == BURST
        # Each was answered by a turn of its own or folded into a later message's turn; none left unprocessed.
        assert {m.status for m in inbound} <= {"processed", "folded"}, [m.status for m in inbound]
        assert not any(m.text == UNAVAILABLE_REPLY for m in messages if m.direction == "out")
        # Folded: fewer turns than messages (the debtor who sends lines quickly gets one answer to them).
        processed = [m for m in inbound if m.status == "processed"]
        assert len(processed) < BURST
        # REC-1: the message whose turn answered a fold holds the NLU reading of that turn; the last one is one.
        assert all(m.intent is not None for m in processed) and inbound[-1].status == "processed"
        # In order: every bot reply follows the message it answers, none is sent before an earlier turn's.
        outbound_after = [m.id for m in messages if m.direction == "out" and m.id > processed[-1].id]
        assert outbound_after, "the last turn's answer comes after every message"
        folds = session.scalars(select(AuditEvent).where(AuditEvent.conversation_id == conversation.id,
                                                         AuditEvent.kind == "messages_folded")).all()
        assert sum(len(f.detail["messages"]) for f in folds) == BURST - len(processed)
    assert elapsed < 60


def _folded_in_order(database_url: str, channel: str, external_id: str, texts: list[str]) -> list[Message]:
    """The conversation's inbound messages, checked: every one stored, in the order sent, each processed or folded
    (none unprocessed, none answered "trouble right now"), fewer turns than messages, the folds audited."""
    with session_scope(get_engine(database_url)) as session:
        conversation = session.scalars(select(Conversation).where(Conversation.channel == channel,
                                                                  Conversation.external_id == external_id)).one()
        messages = session.scalars(select(Message).where(Message.conversation_id == conversation.id)
                                   .order_by(Message.id)).all()
        inbound = [m for m in messages if m.direction == "in"]
        assert sorted(m.text for m in inbound) == sorted(texts)
        assert {m.status for m in inbound} <= {"processed", "folded"}, [m.status for m in inbound]
        assert not any(m.text == UNAVAILABLE_REPLY for m in messages if m.direction == "out")
        processed = [m for m in inbound if m.status == "processed"]
        assert len(processed) < len(texts), "no message was folded"
        assert inbound[-1].status == "processed" and all(m.intent is not None for m in processed)
        assert any(m.direction == "out" and m.id > processed[-1].id for m in messages)
        folds = session.scalars(select(AuditEvent).where(AuditEvent.conversation_id == conversation.id,
                                                         AuditEvent.kind == "messages_folded")).all()
        assert sum(len(f.detail["messages"]) for f in folds) == len(texts) - len(processed)
        session.expunge_all()
        return inbound


def test_texts_sent_at_once_over_twilio_are_stored_and_folded(running_stack, sms_gateway):
    """Ten signed Twilio webhooks from one number at the same moment, into a gateway with Twilio keys (in-process,
    against the stack's Rasa and database: the stack's gateway has none): every text stored with its SID, folded
    into fewer turns, and the answers sent through Twilio."""
    burst = 10
    number = "+1555" + "".join(str(ord(c) % 10) for c in letters(7))
    texts = [f"hello number {letters(4)}" if i % 2 else "what can you do" for i in range(burst)]
    client, twilio = sms_gateway

    def text(body: str) -> int:
        fields = {"MessageSid": message_sid(), "AccountSid": ACCOUNT_SID, "From": number,
                  "To": FROM_NUMBER, "Body": body, "NumMedia": "0"}
        return client.post(WEBHOOK_PATH, data=fields, headers={
            "X-Twilio-Signature": sign(PUBLIC + WEBHOOK_PATH, fields)}).status_code

    with ThreadPoolExecutor(burst) as pool:
        statuses = list(pool.map(text, texts))
    assert statuses == [200] * burst
    sent = [m["body"] for m in twilio.messages if m["to"] == number]
    inbound = _folded_in_order(running_stack.config.database_url, "sms", number, texts)
    assert all(m.payload["twilio"]["message_sid"].startswith("SM") for m in inbound)
    assert len({m.payload["twilio"]["message_sid"] for m in inbound}) == burst
    assert sent and UNAVAILABLE_REPLY not in sent


def test_messages_sent_at_once_from_the_widget_are_stored_and_folded(running_stack):
    """Eight messages from one widget socket of the stack's gateway, sent without waiting: each echoed once
    stored, in the order sent, folded into fewer turns; "typing" goes off once, after the last answer."""
    import websockets

    burst = 8  # under the widget's MAX_IN_FLIGHT
    gateway = running_stack.config.gateway_url
    token = httpx.post(f"{gateway}/widget/session", timeout=10).json()["token"]
    texts = [f"hello number {letters(4)}" if i % 2 else "what can you do" for i in range(burst)]

    async def scenario() -> list[dict]:
        frames: list[dict] = []
        async with websockets.connect(gateway.replace("http://", "ws://") + f"/widget/ws?token={token}") as ws:
            for i, text in enumerate(texts):
                await ws.send(json.dumps({"type": "message", "text": text, "client_id": f"c-{i}"}))
            echoed = 0
            while True:
                frame = json.loads(await asyncio.wait_for(ws.recv(), 60))
                frames.append(frame)
                echoed += frame["type"] == "message" and frame.get("role") == "debtor"
                if echoed == burst and frame == {"type": "typing", "on": False}:
                    return frames

    frames = asyncio.run(scenario())
    echoes = [f for f in frames if f["type"] == "message" and f["role"] == "debtor"]
    assert [f["client_id"] for f in echoes] == [f"c-{i}" for i in range(burst)]
    assert not any(f["type"] == "error" for f in frames), [f for f in frames if f["type"] == "error"]
    external_id = token.split(".")[1]
    inbound = _folded_in_order(running_stack.config.database_url, "web", external_id, texts)
    assert [m.text for m in inbound] == texts and [m.id for m in inbound] == [f["id"] for f in echoes]
