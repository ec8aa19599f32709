"""The SMS channel through the gateway: signed Twilio webhooks in, the real twilio SDK out to the local stand-in
(tests/twilio_standin.py), Rasa replaced by a scripted stand-in so these run fast. The same paths with the real
Rasa are in tests/integration/test_sms.py."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from bot import outbound_queue
from bot.config import Settings
from bot.db import get_engine, session_scope
from bot.db.models import AuditEvent, ContactPreference, Conversation, Message, ScheduledMessage
from bot.gateway.app import create_app
from bot.gateway.pipeline import EMPTY_MESSAGE_REPLY, stop_reply
from bot.gateway.rasa_client import RasaTurn
from bot.gateway.sms_channel import EMPTY_TWIML, MAX_PROCESSED_CHARS, MEDIA_REPLY, STATUS_PATH, WEBHOOK_PATH
from tests.conftest import add_debtor
from tests.twilio_standin import ACCOUNT_SID, AUTH_TOKEN, FROM_NUMBER, TwilioStandIn, message_sid, sign

PUBLIC = "https://settle.example.com"
PHONE = "+15555550101"


class ScriptedRasa:
    """Answers like Rasa's REST channel would; records what it was asked."""

    def __init__(self, answer: Callable[[str], list[dict[str, Any]]] | None = None) -> None:
        self.answer = answer or (lambda text: [{"text": f"You said: {text}"}])
        self.asked: list[str] = []

    async def send(self, conversation_id: str, text: str, metadata: dict[str, Any],
                   message_id: str | None = None) -> RasaTurn:
        self.asked.append(text)
        return RasaTurn([dict(r, recipient_id=conversation_id) for r in self.answer(text)])

    async def close(self) -> None:
        pass


class Phone:
    """Texts the gateway the way Twilio does: form fields, signed for the public URL."""

    def __init__(self, client: TestClient, number: str = PHONE, token: str = AUTH_TOKEN) -> None:
        self.client, self.number, self.token = client, number, token

    def fields(self, body: str, sid: str | None = None, **extra: str) -> dict[str, str]:
        return {"MessageSid": sid or message_sid(), "SmsSid": sid or "", "AccountSid": ACCOUNT_SID,
                "From": self.number, "To": FROM_NUMBER, "Body": body, "NumMedia": "0", **extra}

    def post(self, fields: dict[str, str], path: str = WEBHOOK_PATH, signature: str | None = None):
        headers = {"X-Twilio-Signature": signature if signature is not None else sign(PUBLIC + path, fields,
                                                                                      self.token)}
        return self.client.post(path, data=fields, headers=headers)

    def text(self, body: str, sid: str | None = None, **extra: str):
        return self.post(self.fields(body, sid, **extra))


@pytest.fixture
def twilio() -> Iterator[TwilioStandIn]:
    with TwilioStandIn() as standin:
        yield standin


def _settings(db_url: str, twilio: TwilioStandIn | None, **kwargs: Any) -> Settings:
    keys = {} if twilio is None else {
        "twilio_account_sid": ACCOUNT_SID, "twilio_auth_token": AUTH_TOKEN, "twilio_from_number": FROM_NUMBER,
        "twilio_api_url": twilio.url}
    return Settings(database_url=db_url, rasa_url="http://127.0.0.1:9", public_base_url=PUBLIC,
                    twilio_timeout_seconds=1.0, sms_retry_backoff_seconds=0.0, **keys, **kwargs)


@pytest.fixture
def gateway(db_url, twilio):
    """A started gateway with Twilio keys (pointed at the stand-in) and a scripted Rasa."""

    def start(answer=None, **kwargs: Any):
        client = TestClient(create_app(_settings(db_url, twilio, **kwargs)))
        client.__enter__()
        rasa = ScriptedRasa(answer)
        client.app.state.pipeline.rasa = rasa
        started.append(client)
        return client, rasa

    started: list[TestClient] = []
    yield start
    for client in started:
        client.__exit__(None, None, None)


def _messages(db_url: str) -> list[Message]:
    with session_scope(get_engine(db_url)) as session:
        return list(session.scalars(select(Message).order_by(Message.id)))


def _audit_kinds(db_url: str) -> list[str]:
    with session_scope(get_engine(db_url)) as session:
        return list(session.scalars(select(AuditEvent.kind).order_by(AuditEvent.id)))


# --- signatures and replays ------------------------------------------------------------------------------------


def test_a_signed_text_is_stored_answered_and_sent_through_twilio(gateway, db_url, twilio):
    client, rasa = gateway()
    response = Phone(client).text("hello there")
    assert response.status_code == 200 and response.text == EMPTY_TWIML
    assert response.headers["content-type"].startswith("application/xml")
    assert rasa.asked == ["hello there"]
    inbound, outbound = _messages(db_url)
    assert (inbound.direction, inbound.text, inbound.status) == ("in", "hello there", "processed")
    assert inbound.payload["twilio"]["message_sid"].startswith("SM")
    assert [m["body"] for m in twilio.messages] == ["You said: hello there"]
    assert twilio.messages[0]["to"] == PHONE and twilio.messages[0]["from"] == FROM_NUMBER
    assert twilio.messages[0]["_status_callback"] == PUBLIC + STATUS_PATH
    assert outbound.payload["sms"]["parts"][0]["sid"] == twilio.messages[0]["sid"]


@pytest.mark.parametrize("signature", ["", "bm90IGEgc2lnbmF0dXJl", "forged"])
def test_a_forged_or_missing_signature_is_refused_with_403_and_audited(gateway, db_url, twilio, signature):
    client, rasa = gateway()
    response = Phone(client).post(Phone(client).fields("STOP"), signature=signature)
    assert response.status_code == 403
    assert rasa.asked == [] and _messages(db_url) == [] and twilio.requests == []
    assert _audit_kinds(db_url) == ["sms_signature_rejected"]


def test_a_signature_made_with_another_token_or_for_other_fields_is_refused(gateway, db_url):
    client, _ = gateway()
    assert Phone(client, token="someone-elses-token").text("hi").status_code == 403
    fields = Phone(client).fields("hi")
    signature = sign(PUBLIC + WEBHOOK_PATH, fields)
    tampered = {**fields, "Body": "STOP"}  # a valid signature, replayed over different content
    assert Phone(client).post(tampered, signature=signature).status_code == 403
    assert _messages(db_url) == []


def test_without_twilio_keys_every_webhook_is_refused(db_url):
    with TestClient(create_app(_settings(db_url, None))) as client:
        assert Phone(client).text("hi").status_code == 403
    assert _audit_kinds(db_url) == ["sms_signature_rejected"]


def test_a_replayed_webhook_changes_nothing(gateway, db_url, twilio):
    """Same MessageSid, same valid signature: no second inbound row, no second reply."""
    client, rasa = gateway()
    phone = Phone(client)
    fields = phone.fields("what do I owe?")
    assert phone.post(fields).status_code == 200
    assert phone.post(fields).status_code == 200
    assert rasa.asked == ["what do I owe?"]
    assert [m.direction for m in _messages(db_url)] == ["in", "out"]
    assert len(twilio.messages) == 1
    assert _audit_kinds(db_url) == ["sms_replay_ignored"]


# --- keywords, choices, long and odd texts ----------------------------------------------------------------------


def test_OPT_3_stop_over_sms_gets_one_confirmation_and_suppresses_the_number(gateway, db_url, twilio):
    client, rasa = gateway()
    with session_scope(get_engine(db_url)) as session:
        _, account = add_debtor(session, phone=PHONE)
        outbound_queue.schedule(session, account_id=account.id, channel="sms", address=PHONE, kind="reminder",
                                text="A payment is due Friday.", not_before=account.created_at)
    Phone(client).text("Stop")
    assert rasa.asked == []  # OPT-2: handled before NLU
    assert [m["body"] for m in twilio.messages] == [stop_reply("sms")]
    with session_scope(get_engine(db_url)) as session:
        preference = session.scalars(select(ContactPreference).where(ContactPreference.address == PHONE)).one()
        assert preference.opted_out_at is not None
        assert session.scalars(select(ScheduledMessage.status)).all() == ["cancelled"]


def test_a_long_reply_is_split_on_word_boundaries(gateway, db_url, twilio):
    words = [f"word{n}" for n in range(300)]
    long_reply = " ".join(words)  # about 2,400 characters
    client, _ = gateway(answer=lambda text: [{"text": long_reply}], sms_max_segments=1)
    Phone(client).text("tell me everything")
    bodies = [m["body"] for m in twilio.messages]
    assert len(bodies) > 10 and all(len(b) <= 160 for b in bodies)
    assert " ".join(bodies).split() == words  # nothing lost, no word cut, in order
    stored = [m for m in _messages(db_url) if m.direction == "out"]
    assert len(stored) == 1 and stored[0].text == long_reply  # the transcript keeps the reply whole
    assert len(stored[0].payload["sms"]["parts"]) == len(bodies)


def test_by_default_a_long_reply_goes_as_concatenated_segments_in_as_few_texts_as_possible(gateway, twilio):
    reply = " ".join(["abcdefghi"] * 200)  # 1,999 characters: more than Twilio's 1,600 per text
    client, _ = gateway(answer=lambda text: [{"text": reply}])
    Phone(client).text("hi")
    assert [len(m["body"]) for m in twilio.messages] == [1529, 469]
    assert [m["num_segments"] for m in twilio.messages] == ["10", "4"]


def test_buttons_are_numbered_and_a_digit_picks_the_second_one(gateway, db_url, twilio):
    def answer(text: str) -> list[dict[str, Any]]:
        if text == "i dispute this":
            return [{"text": "Which part do you dispute?", "buttons": [
                {"title": "All of it", "payload": "/dispute_all"}, {"title": "It's not mine", "payload": "/not_mine"}]}]
        return [{"text": f"Got {text}"}]

    client, rasa = gateway(answer=answer)
    phone = Phone(client)
    phone.text("i dispute this")
    assert twilio.messages[-1]["body"] == "Which part do you dispute?\n1. All of it\n2. It's not mine"
    phone.text("2")
    assert rasa.asked == ["i dispute this", "/not_mine"]
    assert [m.text for m in _messages(db_url) if m.direction == "in"] == ["i dispute this", "2"]


def test_retries_on_a_500_from_twilio_and_records_the_delivery(gateway, db_url, twilio):
    client, _ = gateway()
    twilio.fail_next(2, status=500)
    Phone(client).text("hello")
    assert len(twilio.requests) == 3 and len(twilio.messages) == 1
    outbound = [m for m in _messages(db_url) if m.direction == "out"][0]
    assert outbound.payload["sms"]["parts"][0]["attempts"] == 3
    assert outbound.payload["sms"]["status"] == "queued"


def test_a_reply_twilio_never_took_is_recorded_as_failed_and_audited(gateway, db_url, twilio):
    client, _ = gateway()
    twilio.fail_next(3, status=503)
    assert Phone(client).text("hello").status_code == 200  # Twilio already has its 200
    outbound = [m for m in _messages(db_url) if m.direction == "out"][0]
    assert outbound.payload["sms"]["status"] == "failed" and outbound.status == "sent"
    assert "sms_send_failed" in _audit_kinds(db_url)


def test_an_empty_text_gets_the_helpful_prompt(gateway, twilio):
    client, rasa = gateway()
    Phone(client).text("")
    assert rasa.asked == [] and [m["body"] for m in twilio.messages] == [EMPTY_MESSAGE_REPLY]


def test_a_picture_alone_gets_told_pictures_cannot_be_read_and_its_url_is_not_kept(gateway, db_url, twilio):
    client, _ = gateway()
    Phone(client).text("", NumMedia="1", MediaContentType0="image/jpeg",
                       MediaUrl0="https://api.twilio.com/2010-04-01/Accounts/AC/Messages/MM/Media/ME")
    assert [m["body"] for m in twilio.messages][-1] == MEDIA_REPLY
    inbound = _messages(db_url)[0]
    assert inbound.payload["twilio"]["num_media"] == 1
    assert inbound.payload["twilio"]["media_types"] == ["image/jpeg"]
    assert "Media/ME" not in str(inbound.payload)  # PCI-3: a picture may show a card


def test_a_very_long_text_is_processed_in_part_and_kept_whole(gateway, db_url):
    client, rasa = gateway()
    body = ("I want to explain my situation in detail. " * 120).strip()  # about 5,000 characters
    Phone(client).text(body)
    assert len(rasa.asked[0]) <= MAX_PROCESSED_CHARS and body.startswith(rasa.asked[0])
    inbound = _messages(db_url)[0]
    assert inbound.payload["twilio"]["full_text"] == body and inbound.payload["twilio"]["truncated_for_processing"]


def test_PCI_2_a_card_number_in_a_very_long_text_is_redacted_in_the_kept_copy_too(gateway, db_url):
    client, rasa = gateway()
    body = "x " * 900 + "my card is 4111 1111 1111 1111 thanks"
    Phone(client).text(body)
    inbound = _messages(db_url)[0]
    assert "4111" not in inbound.payload["twilio"]["full_text"] and "4111" not in inbound.text
    assert "4111" not in " ".join(rasa.asked)


# --- status callbacks -----------------------------------------------------------------------------------------


def test_a_status_callback_updates_the_stored_reply(gateway, db_url, twilio):
    client, _ = gateway()
    phone = Phone(client)
    phone.text("hello")
    sid = twilio.messages[0]["sid"]
    for status in ("sent", "delivered"):
        fields = {"MessageSid": sid, "SmsSid": sid, "MessageStatus": status, "SmsStatus": status,
                  "AccountSid": ACCOUNT_SID, "From": FROM_NUMBER, "To": PHONE, "ApiVersion": "2010-04-01"}
        assert phone.post(fields, path=STATUS_PATH).status_code == 204
    outbound = [m for m in _messages(db_url) if m.direction == "out"][0]
    assert outbound.payload["sms"]["status"] == "delivered"
    assert [h["status"] for h in outbound.payload["sms"]["history"]] == ["sent", "delivered"]


def test_a_forged_status_callback_is_refused(gateway, db_url, twilio):
    client, _ = gateway()
    phone = Phone(client)
    phone.text("hello")
    fields = {"MessageSid": twilio.messages[0]["sid"], "MessageStatus": "failed", "To": PHONE}
    assert phone.post(fields, path=STATUS_PATH, signature="forged").status_code == 403
    outbound = [m for m in _messages(db_url) if m.direction == "out"][0]
    assert outbound.payload["sms"]["status"] == "queued"


# --- the demo phone (no keys: the local outbox) ----------------------------------------------------------------


@pytest.fixture
def demo(db_url):
    with TestClient(create_app(_settings(db_url, None))) as client:
        rasa = ScriptedRasa(lambda text: [{"text": "Pick one", "buttons": [
            {"title": "Balance", "payload": "/balance"}, {"title": "Talk to a person", "payload": "/human"}]}]
            if text == "hi" else [{"text": f"Got {text}"}])
        client.app.state.pipeline.rasa = rasa
        yield client, rasa


def _demo_send(client: TestClient, number: str, text: str):
    return client.post("/phone/api/send", json={"number": number, "text": text}, headers={"X-Demo-Phone": "1"})


def test_the_demo_phone_lists_the_portfolio_numbers(demo, db_url):
    client, _ = demo
    with session_scope(get_engine(db_url)) as session:
        add_debtor(session, phone=PHONE, first_name="Jordan")
    page = client.get("/phone")
    assert page.status_code == 200 and PHONE in page.text
    assert "Jordan" not in page.text  # numbers only


def test_ID_5_a_demo_phone_text_is_handled_like_an_sms_and_counts_as_inbound(demo, db_url):
    client, rasa = demo
    response = _demo_send(client, "(555) 555-0101", "hi")
    assert response.status_code == 200
    assert response.json()["replies"] == ["Pick one\n1. Balance\n2. Talk to a person"]
    _demo_send(client, PHONE, "2")
    assert rasa.asked == ["hi", "/human"]
    with session_scope(get_engine(db_url)) as session:
        conversation = session.scalars(select(Conversation)).one()
        assert (conversation.channel, conversation.external_id) == ("sms", PHONE)
        preference = session.scalars(select(ContactPreference)).one()
        assert preference.last_inbound_at is not None  # ID-5: the consumer texted from this number
    thread = client.get("/phone/api/thread", params={"number": PHONE}).json()["messages"]
    assert [(m["direction"], m["text"]) for m in thread] == [
        ("in", "hi"), ("out", "Pick one\n1. Balance\n2. Talk to a person"), ("in", "2"), ("out", "Got /human")]


def test_the_demo_phone_needs_json_and_its_header(demo):
    client, _ = demo
    assert client.post("/phone/api/send", data={"number": PHONE, "text": "STOP"}).status_code == 400
    assert client.post("/phone/api/send", json={"number": PHONE, "text": "STOP"}).status_code == 400
    assert _demo_send(client, "not a number", "hi").status_code == 400


def test_the_demo_phone_is_off_when_twilio_is_configured(gateway):
    client, _ = gateway()
    assert client.get("/phone").status_code == 404
    assert _demo_send(client, PHONE, "hi").status_code == 404


def test_a_reminder_without_keys_shows_on_the_demo_phone(demo, db_url):
    client, _ = demo
    engine = get_engine(db_url)
    outbound_queue.local_transport(engine)("sms", PHONE, "A reminder. Reply STOP to opt out.")
    thread = client.get("/phone/api/thread", params={"number": PHONE}).json()["messages"]
    assert [m["text"] for m in thread] == ["A reminder. Reply STOP to opt out."]


def test_a_replay_racing_the_original_is_dropped_while_the_original_is_in_flight(gateway):
    from bot.gateway.sms_channel import get_channel

    client, _ = gateway()
    channel = get_channel(client.app)
    assert channel.claim("SM-racing") and not channel.claim("SM-racing")
    channel.release("SM-racing")
    assert channel.claim("SM-racing")
