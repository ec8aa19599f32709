"""A whole SMS conversation in Spanish, through signed Twilio webhooks and the real twilio SDK against the local
stand-in (tests/twilio_standin.py), Rasa replaced by a scripted stand-in that records what it was told (as in
tests/test_sms_channel.py). The debtor writes in Spanish, the conversation and the contact follow, AYUDA and ALTO
are answered before NLU in Spanish (OPT-2, OPT-3), and after ALTO the number gets one answer and no reminder.
On SQLite only (the keyword path is the English one's, which tests/test_sms_channel.py runs on both databases)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from bot import sms, wording
from bot.compliance import keywords
from bot.config import Settings
from bot.db import get_engine, session_scope
from bot.db.models import ContactPreference, Conversation, ScheduledMessage
from bot.gateway.app import create_app
from bot.gateway.rasa_client import RasaTurn
from bot.messaging import outbox
from tests.conftest import add_debtor
from tests.test_sms_channel import PHONE, PUBLIC, Phone
from tests.twilio_standin import ACCOUNT_SID, AUTH_TOKEN, FROM_NUMBER, TwilioStandIn


class RecordingRasa:
    """Answers each text with the language the gateway said the conversation is in, so the test sees it."""

    def __init__(self) -> None:
        self.asked: list[tuple[str, str | None]] = []
        self.parsed: list[str] = []

    async def send(self, conversation_id: str, text: str, metadata: dict[str, Any],
                   message_id: str | None = None) -> RasaTurn:
        self.asked.append((text, metadata.get("language")))
        return RasaTurn([{"text": f"[{metadata.get('language')}] {text}", "recipient_id": conversation_id}])

    async def parse(self, text: str, conversation_id: str) -> dict[str, Any]:
        self.parsed.append(text)
        return {"intent": {"name": "greet", "confidence": 0.9}}

    async def close(self) -> None:
        pass


@pytest.fixture
def client(sqlite_url: str, sqlite_engine: Any) -> Iterator[tuple[TestClient, RecordingRasa, TwilioStandIn]]:
    # sqlite_engine empties the session's SQLite database first (sqlite_url alone keeps earlier tests' rows).
    with TwilioStandIn() as twilio:
        settings = Settings(database_url=sqlite_url, rasa_url="http://127.0.0.1:9", public_base_url=PUBLIC,
                            twilio_timeout_seconds=1.0, sms_retry_backoff_seconds=0.0,
                            twilio_account_sid=ACCOUNT_SID, twilio_auth_token=AUTH_TOKEN,
                            twilio_from_number=FROM_NUMBER, twilio_api_url=twilio.url)
        with TestClient(create_app(settings)) as test_client:
            rasa = RecordingRasa()
            test_client.app.state.pipeline.rasa = rasa
            yield test_client, rasa, twilio


def test_OPT_2_OPT_3_a_spanish_sms_conversation_ending_in_ALTO(client, sqlite_url):
    """Mutation tried: "alto" removed from SPANISH_STOP_KEYWORDS (ALTO went to Rasa and nothing was opted out);
    the detector's verdict not kept on the conversation (Rasa was told "en"). The phone gets the words as
    bot/sms.sms_text sends them (accents GSM-7 lacks dropped when that saves a segment)."""
    test_client, rasa, twilio = client
    engine = get_engine(sqlite_url)
    with session_scope(engine) as session:
        _, account = add_debtor(session, phone=PHONE)
        outbox.schedule(session, account_id=account.id, channel="sms", address=PHONE, kind="reminder",
                        text="A payment is due Friday.", not_before=account.created_at)
    phone = Phone(test_client)

    phone.text("Hola, quiero saber cuanto debo")
    phone.text("si")  # too short to say anything about the language: it stays Spanish
    phone.text("AYUDA")
    phone.text("ALTO")
    phone.text("ya no me manden nada por favor")

    bodies = [m["body"] for m in twilio.messages]
    settings = test_client.app.state.settings
    assert bodies == [
        "[es] Hola, quiero saber cuanto debo",
        "[es] si",
        sms.sms_text(wording.say("help_reply", "es", business=settings.business_name,
                                support=settings.support_contact)),
        sms.sms_text(keywords.stop_reply("sms", "es")),
        sms.sms_text(keywords.opted_out_reply("sms", "es")),  # OPT-3: one answer after the opt-out, in Spanish
    ]
    assert "ALTO" in bodies[2]  # OPT-2: HELP says how to stop, with the Spanish keyword
    assert [text for text, _ in rasa.asked] == ["Hola, quiero saber cuanto debo", "si"]  # OPT-2: keywords skip NLU
    assert rasa.parsed == ["ya no me manden nada por favor"]  # OPT-3: after ALTO only the rules read a text
    with session_scope(engine) as session:
        conversation = session.scalars(select(Conversation)).one()
        assert conversation.language == "es" and conversation.language_confirmed_at is None
        preference = session.scalars(select(ContactPreference).where(ContactPreference.address == PHONE)).one()
        assert preference.opted_out_at is not None and preference.opted_out_via == "keyword:ALTO"
        assert preference.language == "es"  # kept on the contact: the next conversation starts in Spanish
        assert session.scalars(select(ScheduledMessage.status)).all() == ["cancelled"]  # OPT-3


def test_OPT_2_the_english_STOP_works_in_a_spanish_conversation_and_is_answered_in_english(client, sqlite_url):
    """Mutation tried: "stop" removed from STOP_KEYWORDS (the STOP went to Rasa and was not confirmed)."""
    test_client, rasa, twilio = client
    phone = Phone(test_client)
    phone.text("necesito hacer un plan de pagos")
    phone.text("STOP")
    assert [m["body"] for m in twilio.messages][-1] == sms.sms_text(keywords.stop_reply("sms", "en"))
    assert [text for text, _ in rasa.asked] == ["necesito hacer un plan de pagos"]
    with session_scope(get_engine(sqlite_url)) as session:
        assert session.scalars(select(ContactPreference.opted_out_at)).one() is not None


def test_OPT_3_ALTO_as_the_first_text_of_a_number_is_confirmed_in_spanish(client, sqlite_url):
    """A keyword is answered in its own language, even before the conversation has one.
    Mutation tried: the keyword's language ignored (the conversation's English default answered ALTO)."""
    test_client, rasa, twilio = client
    Phone(test_client).text("Alto.")
    assert [m["body"] for m in twilio.messages] == [sms.sms_text(keywords.stop_reply("sms", "es"))]
    assert rasa.asked == [] and rasa.parsed == []


def test_en_espanol_alone_is_confirmed_in_spanish_without_a_dialogue_turn(client, sqlite_url):
    """Mutation tried: observe()'s replies ignored by the pipeline ("en espanol" went to Rasa)."""
    test_client, rasa, twilio = client
    Phone(test_client).text("en espanol")
    Phone(test_client).text("ok")
    assert [m["body"] for m in twilio.messages] == [sms.sms_text(wording.say("language_now", "es")), "[es] ok"]
    assert rasa.asked == [("ok", "es")]


@pytest.mark.parametrize("keyword, later", [("ALTO", "hola"), ("PARAR", "gracias"), ("¡Baja!", "ok"),
                                            ("cancelar", "que pasa")])
def test_OPT_3_LANG_1_after_a_spanish_opt_out_word_the_one_later_reply_is_in_spanish(client, sqlite_url,
                                                                                    keyword, later):
    """L3 (/phone): a Spanish opt-out word, then a short text. The confirmation and the one answer after it are both
    Spanish: the keyword is a sure sign of its language, kept on the conversation.
    Mutation tried: the pipeline not passing the keyword's language to observe() (keyword=None): the later reply
    came in English -> fails."""
    test_client, rasa, twilio = client
    phone = Phone(test_client)
    phone.text(keyword)
    phone.text(later)
    assert [m["body"] for m in twilio.messages] == [sms.sms_text(keywords.stop_reply("sms", "es")),
                                                    sms.sms_text(keywords.opted_out_reply("sms", "es"))]
    assert rasa.asked == []  # OPT-3: only the rules read a text after the opt-out
    with session_scope(get_engine(sqlite_url)) as session:
        assert session.scalars(select(Conversation.language)).one() == "es"


def test_OPT_2_LANG_1_AYUDA_then_ALTO_then_START_all_answered_in_spanish(client, sqlite_url):
    """HELP and START after a Spanish keyword follow it (START has no Spanish twin: the conversation's language)."""
    test_client, rasa, twilio = client
    phone = Phone(test_client)
    for text in ("AYUDA", "ok", "ALTO", "START"):
        phone.text(text)
    settings = test_client.app.state.settings
    assert [m["body"] for m in twilio.messages] == [
        sms.sms_text(wording.say("help_reply", "es", business=settings.business_name,
                                support=settings.support_contact)),
        "[es] ok", sms.sms_text(keywords.stop_reply("sms", "es")), sms.sms_text(keywords.start_reply("sms", "es"))]


def test_OPT_3_LANG_1_STOP_in_english_is_confirmed_and_followed_in_english(client, sqlite_url):
    """The English keyword in a Spanish conversation: the opt-out's language is English, for the confirmation and
    the one later reply alike."""
    test_client, rasa, twilio = client
    phone = Phone(test_client)
    for text in ("necesito hacer un plan de pagos", "STOP", "hola"):
        phone.text(text)
    assert [m["body"] for m in twilio.messages][1:] == [sms.sms_text(keywords.stop_reply("sms", "en")),
                                                        sms.sms_text(keywords.opted_out_reply("sms", "en"))]
