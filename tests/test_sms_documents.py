"""A long document over SMS (a plan's terms, a receipt with its authorisation) is a short text with a link; the
link's page (/texts/<token>, the real gateway) shows the whole document, works for TEXT_LINK_DAYS and shows nothing
to a forged or stale link. The web chat and email get the whole text in the message itself."""

from __future__ import annotations

import asyncio
import re
from datetime import datetime, timedelta, timezone
from html import unescape

from fastapi.testclient import TestClient
from sqlalchemy import Engine, update

from bench import sms_segments
from bot import conversations, sms
from bot.config import Settings
from bot.db import session_scope
from bot.db.models import Conversation, Message
from bot.gateway.app import create_app
from bot.mail.courier import EmailCourier
from bot.messaging import outbox
from bot.messaging.delivery import Couriers
from bot.messaging.outbox import Draft, Posted
from bot.plans import service as plans
from tests.conftest import add_debtor
from tests.test_email import EMAIL, settings_for
from tests.test_email_conversation import body, emails_to_debtor
from tests.twilio_standin import ACCOUNT_SID, AUTH_TOKEN, FROM_NUMBER, TwilioStandIn

PHONE = "+15555550101"
BASE = "https://settle.example.com"
SECRET = "test-link-secret"
TERMS = plans.terms_text(sms_segments.twelve_monthly(), "USD", "en")  # 750 characters, 5 segments whole


def _settings(engine: Engine, twilio: TwilioStandIn) -> Settings:
    return Settings(database_url=engine.url.render_as_string(hide_password=False), twilio_account_sid=ACCOUNT_SID,
                    twilio_auth_token=AUTH_TOKEN, twilio_from_number=FROM_NUMBER, twilio_api_url=twilio.url,
                    sms_retry_backoff_seconds=0.0, public_base_url=BASE, email_link_secret=SECRET,
                    gateway_url="http://testserver", widget_secret="w")


def _post_terms(engine: Engine, channel: str, address: str, account_ref: str = "SET-100001") -> list[Posted]:
    """The terms said as a reply in a verified, live conversation (the debtor just wrote)."""
    now = datetime.now(timezone.utc)
    with session_scope(engine) as session:
        debtor, account = add_debtor(session, phone=PHONE, account_ref=account_ref)
        debtor.email = EMAIL
        conversation = conversations.get_or_create(session, channel, address)
        conversation.debtor_id, conversation.account_id, conversation.verified_at = debtor.id, account.id, now
        payload = {"kind": "email_reply", "email": {"message_id": "<their@example.com>", "subject": "Plan",
                                                    "references": ""}} if channel == "email" else None
        conversations.record_message(session, conversation, direction="in", sender_role="debtor", text="1",
                                     status="received", payload=payload, at=now)
        return outbox.post_replies(session, conversation, [Draft(TERMS)], now=now)


def _sent_over_sms(engine: Engine) -> tuple[str, Settings, int]:
    with TwilioStandIn() as twilio:
        settings = _settings(engine, twilio)
        [posted] = _post_terms(engine, "sms", PHONE)
        courier = sms.SmsCourier(engine, sms.sender_from_settings(settings), settings.sms_max_segments,
                                 sms.text_links(settings))
        asyncio.run(Couriers({"sms": courier}).deliver([posted]))
        [text] = [m["body"] for m in twilio.messages]
    return text, settings, posted.message_id


def test_PLAN_1_an_agreement_over_sms_is_one_short_text_whose_link_shows_the_whole_agreement(engine):
    """The terms (5 segments whole) reach the phone as one text of at most 3 segments: the first line with the
    total, the count, the amounts, the first and last dates and the fees (PLAN-1), then the link; the gateway's page
    behind the link shows every line of the terms; the stored reply keeps the whole terms and notes the short form.
    Mutation: SmsCourier.deliver sending sms_text() instead of reply_body_of() -> 5 segments and no link, fails.
    Mutation: SmsCourier.deliver passing short_form=False -> the record assertion fails."""
    text, settings, message_id = _sent_over_sms(engine)
    with session_scope(engine) as session:
        stored = session.get(Message, message_id)
        assert stored.text == TERMS and stored.payload["sms"]["short_form"] is True
    assert sms.segment_count(sms.sms_text(TERMS)) == 5
    assert sms.segment_count(text) <= sms.REPLY_SEGMENTS
    assert text.startswith(TERMS.splitlines()[0])  # "12 monthly payments: ... Total: $1,234.55. No fees."
    path = re.search(rf"Read all of it here: {re.escape(BASE)}(/texts/\S+)", text).group(1)
    with TestClient(create_app(settings)) as client:
        page = client.get(path)
    assert page.status_code == 200
    shown = unescape(page.text)
    for line in TERMS.splitlines():
        assert f"<p>{line}</p>" in shown
    assert "This is the whole message we texted you on" in shown
    assert page.headers["cache-control"] == "no-store" and page.headers["referrer-policy"] == "no-referrer"


def test_a_document_link_expires_and_a_forged_one_shows_nothing(engine):
    """After TEXT_LINK_DAYS the link gets 410 and none of the terms; a token for another message id signed with
    another secret gets 400; a genuine token for the debtor's own inbound text gets 404.
    Mutation: text_page() ignoring found["expired"] -> the 410 assertion fails."""
    text, settings, message_id = _sent_over_sms(engine)
    path = re.search(rf"{re.escape(BASE)}(/texts/\S+)", text).group(1)
    with session_scope(engine) as session:
        session.execute(update(Message).where(Message.id == message_id).values(
            created_at=datetime.now(timezone.utc) - timedelta(days=sms.TEXT_LINK_DAYS, hours=1)))
        inbound_id = session.scalar(Message.__table__.select().with_only_columns(Message.id)
                                    .where(Message.direction == "in"))
    forged = sms.TextLinks("", "another-secret").url(message_id)
    inbound = sms.TextLinks("", SECRET).url(inbound_id)
    with TestClient(create_app(settings)) as client:
        stale, bad, theirs = client.get(path), client.get(forged), client.get(inbound)
    assert stale.status_code == 410 and "This link has expired" in stale.text
    assert "$240.00" not in stale.text and "Total" not in stale.text
    assert bad.status_code == 400 and "$240.00" not in bad.text
    assert theirs.status_code == 404 and "We can&#39;t find this message" in theirs.text


def test_the_demo_phone_shows_the_text_as_twilio_got_it(engine):
    """The demo phone (no Twilio keys) shows the same short form and link the courier sends.
    Mutation: demo_phone.thread() rendering with sms_text() -> the whole terms show, fails."""
    from bot.gateway.demo_phone import thread

    text, settings, _ = _sent_over_sms(engine)
    shown = [m["text"] for m in thread(engine, PHONE, sms.text_links(settings)) if m["direction"] == "out"]
    assert shown == [text]


def test_web_chat_and_email_get_the_whole_agreement(sqlite_engine, mail_server):
    """Only SMS is shortened: the web chat's reply (and its live event) and the email carry every line.
    Mutation: EmailCourier rendering with sms.as_sent() -> the email has the link, not the terms, fails."""
    [web] = _post_terms(sqlite_engine, "web", "widget-session-1")
    assert web.text == TERMS and web.event["text"] == TERMS
    [mail] = _post_terms(sqlite_engine, "email", EMAIL, account_ref="SET-100002")
    asyncio.run(Couriers({"email": EmailCourier(sqlite_engine, settings_for(sqlite_engine, mail_server))})
                .deliver([mail]))
    [email] = emails_to_debtor(sqlite_engine)
    words = body(email).replace("\r\n", "\n")
    for line in TERMS.splitlines():
        assert line in words
    assert "/texts/" not in words
    with session_scope(sqlite_engine) as session:
        assert session.get(Conversation, web.conversation_id).channel == "web"
