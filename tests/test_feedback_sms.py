"""Debtor feedback through the gateway: over SMS (signed Twilio webhooks in, the real twilio SDK out to the local
stand-in, tests/twilio_standin.py; Rasa replaced by a scripted stand-in that reads intents as Rasa's NLU would, as in
tests/test_sms_channel.py), and after an agent resolves a conversation in the console. The rules themselves are
tested in tests/test_feedback.py."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from bot import conversations, feedback, handoff
from bot.compliance.sensitive_requests import CRISIS_LINE
from bot.config import Settings
from bot.db import get_engine, session_scope
from bot.db.models import AuditEvent, FeedbackRequest
from bot.gateway.app import create_app
from bot.gateway.rasa_client import RasaTurn
from tests.conftest import add_debtor
from tests.test_sms_channel import Phone, _settings
from tests.twilio_standin import TwilioStandIn

PHONE = "+15555550177"
GOODBYE = "Thanks for getting in touch. You can message again any time."
READINGS = {"what do i owe?": "check_balance", "bye": "goodbye", "i want to pay now": "pay_now",
            "pick a plan": "request_payment_plan"}


class ReadingRasa:
    """Answers like Rasa's REST channel, with the NLU reading of each text (what the pipeline stores and the
    feedback rules read); `parse` is the NLU alone."""

    def __init__(self) -> None:
        self.asked: list[str] = []

    async def send(self, conversation_id: str, text: str, metadata: dict[str, Any],
                   message_id: str | None = None) -> RasaTurn:
        self.asked.append(text)
        intent = READINGS.get(text.lower(), "out_of_scope")
        replies = {"check_balance": [{"text": "Your balance is on its way."}], "goodbye": [{"text": GOODBYE}],
                   "request_payment_plan": [{"text": "Pick one:", "buttons": [
                       {"title": "Monthly", "payload": "/choose{\"plan\":\"1\"}"},
                       {"title": "Weekly", "payload": "/choose{\"plan\":\"2\"}"}]}]}
        return RasaTurn(replies.get(intent, [{"text": "Sorry, I didn't catch that."}]), intent, 0.95)

    async def parse(self, text: str, conversation_id: str) -> dict[str, Any]:
        return {"intent": {"name": READINGS.get(text.lower(), "out_of_scope"), "confidence": 0.95}}

    async def close(self) -> None:
        pass


def _daytime_zone(now: datetime) -> str:
    """A zone where it is about 1 PM now, so TIME-1's window is open whenever the test runs."""
    offset = (13 - now.hour + 12) % 24 - 12
    return "Etc/UTC" if offset == 0 else f"Etc/GMT{'-' if offset > 0 else '+'}{abs(offset)}"


@pytest.fixture
def phone(db_url):
    """A gateway with Twilio keys pointed at the stand-in; the texting debtor is verified in a daytime zone (the
    scripted Rasa does not verify anyone; the real verification over SMS is tests/integration/test_sms.py)."""
    now = datetime.now(timezone.utc)
    with session_scope(get_engine(db_url)) as session:
        debtor, account = add_debtor(session, phone=PHONE, zip_code="00000")
        debtor.timezone = _daytime_zone(now)
        conversation = conversations.get_or_create(session, "sms", PHONE)
        conversation.debtor_id, conversation.account_id = debtor.id, account.id
        conversation.verified_at = conversation.session_started_at = now
    with TwilioStandIn() as twilio, TestClient(create_app(_settings(db_url, twilio))) as client:
        rasa = ReadingRasa()
        client.app.state.pipeline.rasa = rasa
        handset = Phone(client, PHONE)

        def text(body: str) -> list[str]:
            seen = len(twilio.messages)
            assert handset.text(body).status_code == 200
            return [m["body"] for m in twilio.messages[seen:]]

        yield text, rasa


def _requests(db_url: str) -> list[FeedbackRequest]:
    with session_scope(get_engine(db_url)) as session:
        return list(session.scalars(select(FeedbackRequest)))


def test_the_question_comes_by_text_after_goodbye_and_the_score_and_comment_skip_nlu(phone, db_url):
    """The bot's end over SMS: the question follows the goodbye as a text through Twilio; "4" and the comment
    after it are answered before NLU (Rasa's dialogue never sees them) and stored.
    Mutation tried: not arming the comment (`comment_due` returning False) -> the comment goes to Rasa, is answered
    "Sorry, I didn't catch that." and the comment assertion fails."""
    text, rasa = phone
    assert text("what do I owe?") == ["Your balance is on its way."]
    assert text("bye") == [GOODBYE, feedback.QUESTION]
    assert text("4") == [feedback.THANKS_FOR_SCORE]
    assert text("the texts were clear") == [feedback.THANKS_FOR_COMMENT]
    assert rasa.asked == ["what do I owe?", "bye"]
    [request] = _requests(db_url)
    assert (request.channel, request.ended_by, request.intent, request.score, request.comment) == (
        "sms", "bot", "check_balance", 4, "the texts were clear")


def test_a_request_after_the_score_goes_to_the_dialogue_not_into_the_comment(phone, db_url):
    text, rasa = phone
    text("what do I owe?")
    text("bye")
    assert text("5") == [feedback.THANKS_FOR_SCORE]
    assert text("I want to pay now") == ["Sorry, I didn't catch that."]  # the scripted dialogue's answer to it
    assert rasa.asked[-1] == "I want to pay now"
    assert _requests(db_url)[0].comment is None


def test_a_plan_pick_pending_arms_no_question_and_its_digit_stays_a_pick(phone, db_url):
    """The bot's goodbye came with buttons (a choice still open): no question, so "1" picks the first option.
    Mutation tried: ignoring buttons in the pipeline's `pending` -> the question goes and the first assertion
    fails."""
    text, rasa = phone
    text("what do I owe?")
    rasa_reply = {"text": GOODBYE, "buttons": [{"title": "Monthly", "payload": "/choose"}]}
    original = rasa.send

    async def goodbye_with_buttons(conversation_id, body, metadata, message_id=None):
        turn = await original(conversation_id, body, metadata, message_id)
        return RasaTurn([rasa_reply], turn.intent, turn.confidence) if turn.intent == "goodbye" else turn

    rasa.send = goodbye_with_buttons
    assert feedback.QUESTION not in " ".join(text("bye"))
    text("1")
    assert rasa.asked[-1] == "/choose"  # the button's payload went to the dialogue
    assert _requests(db_url) == []


@pytest.mark.parametrize(("before", "rule_id"), [
    pytest.param(["STOP", "START"], "OPT-3", id="OPT-3-opted-out-earlier"),
    pytest.param(["some days I want to end my life"], "VUL-2", id="VUL-2-crisis"),
])
def test_OPT_3_VUL_2_no_question_by_text_on_an_opted_out_or_crisis_conversation(phone, db_url, before, rule_id):
    """An SMS conversation that opted out (OPT-3, even after START) or raised a crisis cue (VUL-2) gets no question.
    Mutation tried: removing "opted_out" from EXCLUDING_EVENTS -> the OPT-3 case is asked (START lifted the
    suppression, so only the event rules it out)."""
    text, rasa = phone
    for body in before:
        said = text(body)
    if rule_id == "VUL-2":
        assert CRISIS_LINE in said
    text("what do I owe?")
    assert feedback.QUESTION not in " ".join(text("bye"))
    assert _requests(db_url) == []
    with session_scope(get_engine(db_url)) as session:
        assert rule_id in session.scalars(select(AuditEvent.rule_id).where(AuditEvent.kind == "feedback_not_asked"))


def test_an_agents_resolve_asks_the_debtor_and_the_score_counts_for_that_agent(sqlite_engine):
    """The agent's end, through the console: Ana resolves, the debtor (still in their session, REST channel) gets
    the question, and their "5" is thanked before NLU (Rasa is down here: anything sent to it would get the
    'trouble' reply) and counted for Ana.
    Mutation tried: not calling `feedback.after_resolve` in the console's resolve route -> no question is stored
    and the first assertion fails."""
    from tests.test_agents_console import _login

    settings_client = _console(sqlite_engine)
    with settings_client as client:
        now = datetime.now(timezone.utc)
        with session_scope(sqlite_engine) as session:
            debtor, account = add_debtor(session, phone=None, zip_code="00000")
            debtor.timezone = _daytime_zone(now)
            conversation = conversations.get_or_create(session, "rest", "feedback-debtor")
            conversation.debtor_id, conversation.account_id, conversation.verified_at = debtor.id, account.id, now
            conversations.record_message(session, conversation, direction="in", sender_role="debtor",
                                         text="let me talk to a person")
            handoff_id = handoff.request(session, conversation.id, "request_human", rule_id="HO-1",
                                         account_id=account.id).id
        token = _login(client, "ana")
        assert client.post(f"/agent/h/{handoff_id}/claim", data={"csrf_token": token}).status_code == 200
        resolved = client.post(f"/agent/h/{handoff_id}/resolve", data={"csrf_token": token, "outcome": "plan_set"})
        assert resolved.status_code == 200
        with session_scope(sqlite_engine) as session:
            [request] = session.scalars(select(FeedbackRequest)).all()
            assert (request.ended_by, request.handoff_id, request.intent) == ("agent", handoff_id, "request_human")
        answer = client.post("/webhooks/rest/webhook", json={"sender": "feedback-debtor", "message": "5"}).json()
        assert [r["text"] for r in answer] == [feedback.THANKS_FOR_SCORE]
        with session_scope(sqlite_engine) as session:
            assert feedback.feedback_report(session).by_agent == {
                "Ana": feedback.FeedbackFigures(asked=1, answered=1, mean_score=5.0, response_rate=1.0)}


def _console(sqlite_engine) -> TestClient:
    """The gateway with the agent console, in embedded mode from a loopback client (the REST channel open), as
    tests/test_agents_console.py starts it, with Ana as an agent."""
    from bot.agents import users
    from tests.test_agents_console import PASSWORD, _closed_port

    url = str(sqlite_engine.url)
    with session_scope(sqlite_engine) as session:
        users.create_user(session, "ana", PASSWORD, "agent", display_name="Ana")
    settings = Settings(database_url=url, rasa_url=f"http://127.0.0.1:{_closed_port()}", widget_secret="test-secret",
                        mode="embedded")
    return TestClient(create_app(settings), client=("127.0.0.1", 50000))


def test_the_question_comes_by_email_after_goodbye_in_the_debtors_thread(sqlite_engine, mail_server):
    """Email is the same pipeline: the goodbye and the question go back by email (the local SMTP server), and the
    score the debtor emails back is thanked by email.
    Mutation tried: not calling `feedback.after_bot_turn` in the pipeline -> no question email, fails."""
    from tests.test_email import EMAIL
    from tests.test_email_conversation import app_for, body, emails_to_debtor, post_reply, reply_mime

    now = datetime.now(timezone.utc)
    with session_scope(sqlite_engine) as session:
        debtor, account = add_debtor(session, phone=None, zip_code="00000")
        debtor.email, debtor.timezone = EMAIL, _daytime_zone(now)
        conversation = conversations.get_or_create(session, "email", EMAIL)
        conversation.debtor_id, conversation.account_id = debtor.id, account.id
        conversation.verified_at = conversation.session_started_at = now
    with app_for(sqlite_engine, mail_server) as client:
        client.app.state.pipeline.rasa = ReadingRasa()
        for number, words in enumerate(("what do I owe?", "bye", "4")):
            assert post_reply(client, reply_mime(words, message_id=f"<r{number}@example.com>")).status_code == 200
    said = [body(e) for e in emails_to_debtor(sqlite_engine)]
    assert any(feedback.QUESTION in text for text in said)
    assert feedback.THANKS_FOR_SCORE in said[-1]
    [request] = _requests(str(sqlite_engine.url))
    assert (request.channel, request.score) == ("email", 4)
