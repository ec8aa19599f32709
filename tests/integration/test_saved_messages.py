"""Messages texted while no Rasa answered are answered once Rasa is back, by the answer-saved job, on the same channel
(signed Twilio webhooks in, the real twilio SDK out to the local stand-in), in order and once.

"Rasa down" is a gateway pointed at a closed port; "Rasa back" is the job run against the shared stack's real Rasa and
action server, on the same app database (the stack's own gateway has no Twilio keys)."""

from __future__ import annotations

import asyncio
import secrets
import socket

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from bot.cli.answer_saved import answer_waiting
from bot.config import Settings
from bot.db import get_engine, session_scope
from bot.db.models import AuditEvent, Conversation, Handoff, Message
from bot.gateway.app import create_app
from bot.messaging import saved
from tests.integration.conftest import PUBLIC
from tests.integration.test_sms import Handset
from tests.twilio_standin import ACCOUNT_SID, AUTH_TOKEN, FROM_NUMBER, TwilioStandIn

pytestmark = pytest.mark.integration


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _settings(stack, twilio: TwilioStandIn, rasa_url: str) -> Settings:
    return Settings(database_url=stack.config.database_url, rasa_url=rasa_url, rasa_token=stack.config.rasa_token,
                    twilio_account_sid=ACCOUNT_SID, twilio_auth_token=AUTH_TOKEN, twilio_from_number=FROM_NUMBER,
                    twilio_api_url=twilio.url, public_base_url=PUBLIC, sms_retry_backoff_seconds=0.0)


def _inbound(stack, number: str) -> list[Message]:
    with session_scope(get_engine(stack.config.database_url)) as session:
        found = session.scalars(select(Message).join(Conversation).where(
            Conversation.external_id == number, Message.direction == "in").order_by(Message.id)).all()
        session.expunge_all()
        return found


def test_texts_saved_while_rasa_was_down_are_answered_once_and_in_order_when_it_is_back(running_stack):
    """Mutation: answer_waiting's deliver loop removed (`await out.deliver(result.sent)`) -> the answers are stored
    but never texted: this test fails. Mutation: _next_saved takes the newest saved message first -> the person reply
    comes before the verification question: fails."""
    number = "+15555550171"
    with TwilioStandIn() as twilio:
        down = _settings(running_stack, twilio, f"http://127.0.0.1:{_closed_port()}")
        with TestClient(create_app(down)) as client:
            phone = Handset(client, twilio, number)
            for text in ("what do I owe?", "talk to a person"):
                told = phone.text(text)
                assert len(told) == 1 and "saved and I'll answer it as soon as I can" in told[0]
        assert [m.status for m in _inbound(running_stack, number)] == ["unprocessed", "unprocessed"]

        up = _settings(running_stack, twilio, running_stack.config.rasa_url)
        engine = get_engine(running_stack.config.database_url)
        seen = len(twilio.messages)
        report = asyncio.run(answer_waiting(engine, up))
        answers = [m["body"] for m in twilio.messages[seen:] if m["to"] == number]
        assert report.rasa_ready and report.answered >= 2
        verify = next(i for i, a in enumerate(answers) if "who you are" in a or "date of birth" in a)
        person = next(i for i, a in enumerate(answers) if "person on our team" in a)
        assert verify < person, answers  # the first message's answer first
        assert [m.status for m in _inbound(running_stack, number)] == ["processed", "processed"]

        seen = len(twilio.messages)
        asyncio.run(answer_waiting(engine, up))  # a second run (or a second scheduler) answers nothing again
        assert [m for m in twilio.messages[seen:] if m["to"] == number] == []
        with session_scope(engine) as session:
            conversation_id = session.scalars(select(Conversation.id).where(Conversation.external_id == number)).one()
            assert not saved.has_waiting(session, conversation_id)


def test_OPT_3_a_STOP_texted_meanwhile_stops_the_saved_message_s_answer(running_stack):
    """Rasa is back, but the debtor texted STOP after the saved message: the dialogue does not answer it (nothing is
    texted); a person gets it in the agent queue.
    Mutation: the opt-out check removed from saved.why_not_answered -> Rasa answers it and the outbox blocks the
    reply (OPT-3), but no person is told and the dialogue ran: this test fails."""
    number = "+15555550172"
    with TwilioStandIn() as twilio:
        down = _settings(running_stack, twilio, f"http://127.0.0.1:{_closed_port()}")
        with TestClient(create_app(down)) as client:
            phone = Handset(client, twilio, number)
            phone.text("what do I owe?")
            assert len(phone.text("STOP")) == 1  # OPT-3: the one confirmation, at once (no Rasa needed)
        seen = len(twilio.messages)
        engine = get_engine(running_stack.config.database_url)
        asyncio.run(answer_waiting(engine, _settings(running_stack, twilio, running_stack.config.rasa_url)))
        assert [m for m in twilio.messages[seen:] if m["to"] == number] == []
        first = _inbound(running_stack, number)[0]
        assert (first.status, first.rule_ids, first.intent) == (saved.UNANSWERED, ["OPT-3"], None)  # never read
        with session_scope(engine) as session:
            handoff = session.scalars(select(Handoff).where(Handoff.conversation_id == first.conversation_id)).one()
            assert handoff.reason == saved.HANDOFF_REASON


def test_a_text_after_rasa_is_back_takes_the_saved_ones_with_it_in_order(running_stack, sms_gateway):
    """The debtor texts again before the job ran: the saved text goes to Rasa first, folded with the new one into one
    turn (the dialogue reads them in the order written), and the answer comes back with the new text's; nothing is
    left for the job.
    Mutation: saved_waiting never set in Pipeline._receive -> the saved text stays unprocessed and queued: fails."""
    number = "+15555550173"
    with TwilioStandIn() as down_twilio:
        down = _settings(running_stack, down_twilio, f"http://127.0.0.1:{_closed_port()}")
        with TestClient(create_app(down)) as client:
            Handset(client, down_twilio, number).text("what do I owe?")
    client, twilio = sms_gateway  # the same app database, the real Rasa
    answer = Handset(client, twilio, number).text("hello")
    assert answer and not any("saved and I'll answer" in a for a in answer)
    first, second = _inbound(running_stack, number)
    assert (first.status, second.status) == ("folded", "processed")
    with session_scope(get_engine(running_stack.config.database_url)) as session:
        assert not saved.has_waiting(session, first.conversation_id)
        folded = session.scalars(select(AuditEvent).where(AuditEvent.kind == "messages_folded",
                                                          AuditEvent.conversation_id == first.conversation_id)).one()
        assert folded.detail == {"into": second.id, "messages": [first.id]}


def test_a_text_that_arrives_while_the_job_answers_the_saved_ones_waits_and_is_answered_after_them(
        running_stack, sms_gateway):
    """A debtor texted while the answer-saved job held the conversation's saved messages: the new text was answered
    first, before what they wrote earlier. It now waits for the job to let go (here the job holds them 2 s) and
    takes the saved text with it, in order.
    Mutation tried: the wait loop in Pipeline._saved_first returning False at once -> "hello" is answered alone
    and the saved text is still unprocessed: fails."""
    import threading
    from datetime import datetime, timezone

    number = "+15555550174"
    with TwilioStandIn() as down_twilio:
        down = _settings(running_stack, down_twilio, f"http://127.0.0.1:{_closed_port()}")
        with TestClient(create_app(down)) as client:
            Handset(client, down_twilio, number).text("what do I owe?")
    engine = get_engine(running_stack.config.database_url)
    [saved_text] = _inbound(running_stack, number)
    with session_scope(engine) as session:
        assert saved.claim(session, saved_text.conversation_id, "answer-saved-job", datetime.now(timezone.utc))

    def job_lets_go() -> None:
        with session_scope(engine) as session:
            saved.release(session, saved_text.conversation_id, "answer-saved-job")

    timer = threading.Timer(2.0, job_lets_go)
    timer.start()
    try:
        client, twilio = sms_gateway
        answer = Handset(client, twilio, number).text("hello")
    finally:
        timer.cancel()
    assert answer and not any("saved and I'll answer" in a for a in answer)
    first, second = _inbound(running_stack, number)
    assert (first.status, second.status) == ("folded", "processed")
    with session_scope(engine) as session:
        assert not saved.has_waiting(session, first.conversation_id)


def test_a_web_chat_left_open_gets_the_saved_message_answered_live_once_rasa_is_back(running_stack):
    """`make run`'s demo: a message typed while Rasa was still loading got "Your message is saved...", and the
    answer-saved job's answer (another process, no Redis) reached the open chat only when it reconnected. The
    gateway now answers saved messages itself (ANSWER_SAVED_SECONDS, set by `make run`), and its hub pushes the
    answer to the open chat. Mutation tried: the lifespan not starting the saved-answers round -> no answer arrives and
    the message stays saved: fails."""
    import json

    import httpx
    import websockets

    from tests.browser.conftest import serve_gateway

    database_url = running_stack.config.database_url

    def socket_url(base: str, token: str) -> str:
        return base.replace("http://", "ws://") + f"/widget/ws?token={token}"

    async def frame(ws) -> dict:
        return json.loads(await asyncio.wait_for(ws.recv(), 90))

    async def write_while_down(base: str) -> tuple[str, str]:
        token = httpx.post(f"{base}/widget/session", timeout=10).json()["token"]
        async with websockets.connect(socket_url(base, token)) as ws:
            token = (await frame(ws))["token"]  # the session frame: the token to come back with
            await ws.send(json.dumps({"type": "message", "text": "what can you do", "client_id": "c-1"}))
            while (f := await frame(ws))["type"] != "message" or f.get("role") == "debtor":
                pass
            return token, f["text"]

    async def read_when_back(base: str, token: str) -> list[dict]:
        async with websockets.connect(socket_url(base, token)) as ws:
            while (await frame(ws))["type"] != "history":
                pass
            live = []
            while not any(f["type"] == "message" and f.get("role") == "bot" for f in live):
                live.append(await frame(ws))
            return live

    with serve_gateway(database_url, widget_secret="live-saved") as down:
        token, saved_reply = asyncio.run(write_while_down(down))
    assert "saved and I'll answer" in saved_reply
    with serve_gateway(database_url, widget_secret="live-saved", rasa_url=running_stack.config.rasa_url,
                       rasa_token=running_stack.config.rasa_token, answer_saved_seconds=2) as up:
        live = asyncio.run(read_when_back(up, token))
    answer = next(f for f in live if f["type"] == "message" and f.get("role") == "bot")
    assert "saved and I'll answer" not in answer["text"] and answer["text"].strip()
    [message] = _inbound(running_stack, token.split(".")[1])
    assert message.status == "processed"


def test_ID_2_answers_texted_during_start_up_are_saved_as_labels_and_asked_for_again(running_stack):
    """The exploratory tester's start-up path: "what do I owe", a date of birth and a last four texted before Rasa
    answers. Nobody can know whether a question waited, so the date and the figure are saved as their labels
    (bot/records/identity_answers.py, "while not verified"); once Rasa is back the first is answered (the check
    starts) and each of the others is asked for again, which is then true: no value is in the app database.
    Mutation tried: the pipeline passing `unverified=False` to stored_form -> "09/30/1991" and "2020" saved as
    typed (and replayed to the form): this fails."""
    number = "+15555550176"
    with TwilioStandIn() as twilio:
        down = _settings(running_stack, twilio, f"http://127.0.0.1:{_closed_port()}")
        with TestClient(create_app(down)) as client:
            phone = Handset(client, twilio, number)
            for text in ("what do I owe", "09/30/1991", "2020"):
                assert "saved and I'll answer it as soon as I can" in phone.text(text)[0]
        assert [(m.text, m.status) for m in _inbound(running_stack, number)] == [
            ("what do I owe", "unprocessed"), ("[date of birth]", "unprocessed"), ("[SSN last four]", "unprocessed")]

        seen = len(twilio.messages)
        asyncio.run(answer_waiting(get_engine(running_stack.config.database_url),
                                   _settings(running_stack, twilio, running_stack.config.rasa_url)))
        answers = [m["body"] for m in twilio.messages[seen:] if m["to"] == number]
        assert any("date of birth" in a or "who you are" in a for a in answers), answers
        assert sum("please send that answer again" in a for a in answers) == 2, answers
        assert [m.text for m in _inbound(running_stack, number)][1:] == ["[date of birth]", "[SSN last four]"]
        with session_scope(get_engine(running_stack.config.database_url)) as session:
            conversation_id = session.scalars(select(Conversation.id).where(Conversation.external_id == number)).one()
            texts = [str(t) for t in session.scalars(select(Message.text).where(
                Message.conversation_id == conversation_id))]
        assert not [t for t in texts if "09/30/1991" in t or "2020" in t], texts


def test_CEASE_2_an_attorney_stated_in_a_saved_text_takes_the_live_route_when_it_is_answered(running_stack):
    """CEASE-2: an attorney stated in plain words, texted while Rasa was down, is answered by the job as it would have
    been live (pipeline.request_in_words, one route for both): the attorney request, recorded and handed to a person,
    and the attorney form asks for the name. Before: "Sorry, I didn't catch that" (the model misreads these words,
    and the replay sent them as they were), nothing recorded.
    Mutation: Pipeline._next_saved with `received.text = picked or message.text` (no request_in_words, as before) ->
    "didn't catch that" and no attorney_reported: fails."""
    number = f"+1555{secrets.randbelow(10**7):07d}"
    report = "I'm so confused by all this and it's been a hard year. I have a lawyer now, please talk to him."
    with TwilioStandIn() as twilio:
        down = _settings(running_stack, twilio, f"http://127.0.0.1:{_closed_port()}")
        with TestClient(create_app(down)) as client:
            assert "saved and I'll answer it" in Handset(client, twilio, number).text(report)[0]
        seen = len(twilio.messages)
        engine = get_engine(running_stack.config.database_url)
        asyncio.run(answer_waiting(engine, _settings(running_stack, twilio, running_stack.config.rasa_url)))
        said = " ".join(m["body"] for m in twilio.messages[seen:] if m["to"] == number)
    assert "didn't catch that" not in said and "date of birth" not in said, said
    assert "attorney's name" in said, said
    with session_scope(engine) as session:
        conversation_id = session.scalars(select(Conversation.id).where(Conversation.external_id == number)).one()
        kinds = session.scalars(select(AuditEvent.kind).where(AuditEvent.conversation_id == conversation_id)).all()
        reasons = session.scalars(select(Handoff.reason).where(Handoff.conversation_id == conversation_id)).all()
    assert "attorney_reported" in kinds and reasons == ["attorney"], (kinds, reasons)


def test_CEASE_2_a_saved_attorney_text_folded_into_the_next_one_takes_the_live_route_too(running_stack, sms_gateway):
    """CEASE-2: the debtor texts again once Rasa is back, before the job ran: the saved attorney statement goes first
    (Pipeline._saved_first) by the same route as live, so the attorney form takes their next text as the name and
    asks for the phone.
    Mutation: _saved_first's `request_in_words(message.text)` replaced by `(message.text, None)` -> the saved text is
    not the attorney request, the form starts only at "Susan Park" and asks for the name again: fails."""
    number = f"+1555{secrets.randbelow(10**7):07d}"
    with TwilioStandIn() as down_twilio:
        down = _settings(running_stack, down_twilio, f"http://127.0.0.1:{_closed_port()}")
        with TestClient(create_app(down)) as client:
            Handset(client, down_twilio, number).text("I have a lawyer now, please talk to him.")
    client, twilio = sms_gateway  # the same app database, the real Rasa
    said = " ".join(Handset(client, twilio, number).text("Susan Park"))
    assert "didn't catch that" not in said and "phone number" in said, said  # the name was taken
    with session_scope(get_engine(running_stack.config.database_url)) as session:
        conversation_id = session.scalars(select(Conversation.id).where(Conversation.external_id == number)).one()
        kinds = session.scalars(select(AuditEvent.kind).where(AuditEvent.conversation_id == conversation_id)).all()
        assert "attorney_reported" in kinds and not saved.has_waiting(session, conversation_id), kinds
