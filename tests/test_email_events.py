"""The mail provider's signed delivery events (Mailgun's event webhook) through the FastAPI app: an email is
"delivered" only on the provider's word (EMAIL-3), a bounce suppresses the address (EMAIL-1), a complaint is an
email opt-out (OPT-3). Each email is first really sent through a local aiosmtpd server, so the events name the
Message-ID Settle stored; the payloads are signed as Mailgun signs them (HMAC-SHA256 over timestamp + token)."""

from __future__ import annotations

import json
import secrets
import time
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from bot import contact_preferences
from bot.db import session_scope
from bot.db.models import AuditEvent, EmailMessage, Message, ScheduledMessage
from bot.gateway.app import create_app
from bot.mail import webhooks
from bot.mail.transport import email_transport, outbound_transport
from bot.messaging import outbox
from bot.messaging import queue as outbound_queue
from tests.test_email import (
    EMAIL,
    NOON_LA,
    PHONE,
    debtor_with_email,
    email_preference,
    queue_notice,
    queued,
    settings_for,
)

SECRET = "key-test-webhook-signing"
URL = "/webhooks/email/mailgun"



def signed(event: dict[str, Any], secret: str = SECRET, at: float | None = None) -> dict[str, Any]:
    """A webhook body as Mailgun posts it: the event and its signature block."""
    timestamp, token = str(int(at if at is not None else time.time())), secrets.token_hex(25)
    return {"signature": {"timestamp": timestamp, "token": token,
                          "signature": webhooks.sign(secret, timestamp, token)},
            "event-data": event}


def event(kind: str, message_id: str, **extra: Any) -> dict[str, Any]:
    """Mailgun's event-data: the Message-ID without its angle brackets, as Mailgun reports it."""
    return {"event": kind, "id": secrets.token_hex(8), "timestamp": time.time(), "recipient": EMAIL,
            "message": {"headers": {"message-id": message_id.strip("<>"), "to": EMAIL}}, **extra}


def client_for(engine: Engine, smtp_url: str) -> TestClient:
    return TestClient(create_app(settings_for(engine, smtp_url, mode="production", email_webhook_secret=SECRET)))


def sent_notice(engine: Engine, smtp_url: str) -> tuple[str, str]:
    """A validation notice really sent through the local server: (queued id, its Message-ID)."""
    notice_id = queue_notice(engine, debtor_with_email(engine))
    assert outbound_queue.process_due(engine, email_transport(engine, settings_for(engine, smtp_url)),
                                      now=NOON_LA).sent == 1
    return notice_id, queued(engine, notice_id).provider_id


def conversation_email(engine: Engine, message_id: str) -> dict[str, Any]:
    with session_scope(engine) as session:
        row = session.scalars(select(EmailMessage).where(EmailMessage.message_id == message_id)).one()
        return dict(session.get(Message, row.message_row_id).payload["email"])


def test_EMAIL_3_a_delivered_event_marks_the_notice_delivered(sqlite_engine, mail_server):
    """Mutation tried: apply() leaving the queued message's status alone -> it stays "sent", fails."""
    notice_id, message_id = sent_notice(sqlite_engine, mail_server)
    assert queued(sqlite_engine, notice_id).status == "sent"  # accepted by the server, not yet delivered
    with client_for(sqlite_engine, mail_server) as client:
        answer = client.post(URL, json=signed(event("delivered", message_id)))
    assert answer.status_code == 200 and answer.json() == {"result": "delivered"}
    notice = queued(sqlite_engine, notice_id)
    assert notice.status == "delivered" and notice.delivered_at is not None
    assert conversation_email(sqlite_engine, message_id)["status"] == "delivered"


def test_EMAIL_1_a_permanent_failure_bounces_the_notice_and_suppresses_the_address_not_the_phone(
        sqlite_engine, mail_server):
    """The server took it (250), the provider later reports a hard bounce. Mutation tried: apply() skipping
    contact_preferences.mark_bounced -> the next email is not blocked by EMAIL-1, fails."""
    notice_id, message_id = sent_notice(sqlite_engine, mail_server)
    failed = event("failed", message_id, severity="permanent", reason="bounce",
                   **{"delivery-status": {"code": 550, "message": "5.1.1 The email account does not exist"}})
    with client_for(sqlite_engine, mail_server) as client:
        assert client.post(URL, json=signed(failed)).json() == {"result": "bounced"}
        # A late "delivered" for the same email changes nothing: it bounced.
        assert client.post(URL, json=signed(event("delivered", message_id))).json()["result"].startswith("ignored")
    notice = queued(sqlite_engine, notice_id)
    assert (notice.status, notice.rule_ids) == ("bounced", ["EMAIL-1"])  # never reported as sent or delivered
    assert "does not exist" in notice.reason
    assert conversation_email(sqlite_engine, message_id)["status"] == "bounced"
    later = NOON_LA + timedelta(days=1)
    with session_scope(sqlite_engine) as session:
        account_id = notice.account_id
        again = outbox.schedule(session, account_id=account_id, channel="email", address=EMAIL, kind="reminder",
                                text="Your next payment is due soon.", not_before=later).id
        text = outbox.schedule(session, account_id=account_id, channel="sms", address=PHONE, kind="reminder",
                               text="Your next payment is due soon.", not_before=later).id
        contact_preferences.record_inbound(session, "sms", PHONE, later)  # ID-5 holds for the phone
        kinds = [(e.kind, e.rule_id) for e in session.scalars(select(AuditEvent))]
    assert ("outbound_bounced", "EMAIL-1") in kinds and ("address_bounced", "EMAIL-1") in kinds
    outbound_queue.process_due(sqlite_engine, outbound_transport(sqlite_engine, settings_for(
        sqlite_engine, mail_server)), now=later)
    assert (queued(sqlite_engine, again).status, queued(sqlite_engine, again).rule_ids) == ("blocked", ["EMAIL-1"])
    assert queued(sqlite_engine, text).status == "sent"


def test_a_temporary_failure_changes_nothing_the_provider_retries(sqlite_engine, mail_server):
    notice_id, message_id = sent_notice(sqlite_engine, mail_server)
    soft = event("failed", message_id, severity="temporary", **{"delivery-status": {"code": 452}})
    with client_for(sqlite_engine, mail_server) as client:
        assert client.post(URL, json=signed(soft)).json() == {"result": "ignored: failed"}
    assert queued(sqlite_engine, notice_id).status == "sent"
    assert email_preference(sqlite_engine) is None


def test_OPT_3_EMAIL_2_a_complaint_opts_the_address_out_of_email_only_and_is_audited(sqlite_engine, mail_server):
    """Mutation tried: apply() treating "complained" like an unknown event -> no opt-out, fails."""
    _, message_id = sent_notice(sqlite_engine, mail_server)
    with session_scope(sqlite_engine) as session:
        contact_preferences.record_inbound(session, "sms", PHONE)
    with client_for(sqlite_engine, mail_server) as client:
        assert client.post(URL, json=signed(event("complained", message_id))).json() == {"result": "complained"}
    preference = email_preference(sqlite_engine)
    assert preference is not None and preference.opted_out_via == "mailgun:complained"
    with session_scope(sqlite_engine) as session:
        assert contact_preferences.suppression(session, "email", EMAIL) == "OPT-3"
        assert contact_preferences.suppression(session, "sms", PHONE) is None  # the phone is untouched
        kinds = [(e.kind, e.rule_id) for e in session.scalars(select(AuditEvent))]
    assert ("email_complaint", "OPT-3") in kinds and ("opted_out", "OPT-3") in kinds
    assert conversation_email(sqlite_engine, message_id)["status"] == "complained"


def test_an_event_for_an_email_settle_never_sent_is_answered_200_and_ignored(sqlite_engine, mail_server):
    with client_for(sqlite_engine, mail_server) as client:
        answer = client.post(URL, json=signed(event("failed", "<nobody@settle.test>", severity="permanent")))
    assert answer.status_code == 200 and answer.json() == {"result": "ignored: unknown message"}
    with session_scope(sqlite_engine) as session:
        assert session.scalars(select(AuditEvent)).all() == []


@pytest.mark.parametrize("case,status", [("unsigned", 401), ("wrong key", 403), ("altered", 403), ("stale", 403),
                                         ("not json", 400), ("no message id", 400), ("other provider", 404)])
def test_a_bad_signature_or_a_malformed_event_is_refused_and_changes_nothing(sqlite_engine, mail_server, case,
                                                                            status):
    """Mutation tried: verify() returning True without comparing the HMAC -> "wrong key" and "altered" are
    accepted, fail; without the timestamp check -> "stale" is accepted, fails."""
    notice_id, message_id = sent_notice(sqlite_engine, mail_server)
    body: Any = signed(event("failed", message_id, severity="permanent"))
    url = URL
    if case == "unsigned":
        del body["signature"]
    elif case == "wrong key":
        body = signed(event("failed", message_id, severity="permanent"), secret="someone-else")
    elif case == "altered":
        body["signature"]["token"] = secrets.token_hex(25)
    elif case == "stale":
        body = signed(event("failed", message_id, severity="permanent"), at=time.time() - 3600)
    elif case == "no message id":
        del body["event-data"]["message"]
    elif case == "other provider":
        url = "/webhooks/email/sendgrid"
    with client_for(sqlite_engine, mail_server) as client:
        content = b"{not json" if case == "not json" else json.dumps(body).encode()
        answer = client.post(url, content=content, headers={"content-type": "application/json"})
    assert answer.status_code == status
    assert message_id not in answer.text and SECRET not in answer.text
    assert queued(sqlite_engine, notice_id).status == "sent" and email_preference(sqlite_engine) is None


def test_without_a_signing_key_the_webhook_says_it_is_not_configured(sqlite_engine, mail_server):
    _, message_id = sent_notice(sqlite_engine, mail_server)
    app = create_app(settings_for(sqlite_engine, mail_server, mode="production"))
    with TestClient(app) as client:
        answer = client.post(URL, json=signed(event("delivered", message_id)))
    assert answer.status_code == 503


def test_a_bounce_reported_by_the_provider_is_no_pre_debit_notice(sqlite_engine, mail_server):
    """PLAN-3 reads the queued message's status: a notice the provider bounced is "blocked" (no debit), one it
    delivered still counts as given."""
    from zoneinfo import ZoneInfo

    from bot.db.models import DebitNotice
    from bot.payments.autopay_authorisation import notice_state

    notice_id, message_id = sent_notice(sqlite_engine, mail_server)
    zone = ZoneInfo("America/Los_Angeles")
    notice = DebitNotice(scheduled_message_id=notice_id, debit_on=NOON_LA.date() + timedelta(days=7))
    day = NOON_LA.date() + timedelta(days=7)
    with client_for(sqlite_engine, mail_server) as client:
        client.post(URL, json=signed(event("delivered", message_id)))
        with session_scope(sqlite_engine) as session:
            assert notice_state(session, notice, day, zone) == "ok"
        client.post(URL, json=signed(event("failed", message_id, severity="permanent")))
    with session_scope(sqlite_engine) as session:
        assert session.get(ScheduledMessage, notice_id).status == "bounced"
        assert notice_state(session, notice, day, zone) == "blocked"


@pytest.mark.parametrize(("kind", "extra", "status"), [("delivered", {}, "delivered"),
                                                       ("failed", {"severity": "permanent"}, "bounced")])
def test_EMAIL_1_EMAIL_3_every_message_one_email_carried_shows_the_providers_word(sqlite_engine, mail_server, kind,
                                                                                  extra, status):
    """A turn of three replies goes as one email (DISC-1); the provider's "delivered" or bounce used to reach only
    the first stored message, so the console showed the balance and the question as merely sent after a bounce.
    Mutation tried: webhooks._mark_messages marking only the first row (carried = [first]) -> the second and third
    messages keep "sent", this fails."""
    import asyncio
    from datetime import datetime, timezone

    from bot import conversations
    from bot.mail.courier import EmailCourier
    from bot.messaging.delivery import Couriers
    from bot.messaging.outbox import Draft
    from tests.conftest import add_debtor

    now = datetime.now(timezone.utc)
    with session_scope(sqlite_engine) as session:
        debtor, account = add_debtor(session)
        conversation = conversations.get_or_create(session, "email", EMAIL)
        conversation.debtor_id, conversation.account_id, conversation.verified_at = debtor.id, account.id, now
        conversation_id = conversation.id
        conversations.record_message(session, conversation, direction="in", sender_role="debtor", text="balance?",
                                     status="received", payload={"kind": "email_reply", "email": {
                                         "message_id": "<their-1@example.com>", "subject": "Question",
                                         "references": ""}}, at=now)
        posted = outbox.post_replies(session, conversation, [
            Draft("This is a debt collector. This is an attempt to collect a debt."),
            Draft("Your balance with Acme Bank (account ending 0001) is $1,234.56."),
            Draft("What would you like to do next?")], now=now)
    asyncio.run(Couriers({"email": EmailCourier(sqlite_engine, settings_for(sqlite_engine, mail_server))})
                .deliver(posted))
    with session_scope(sqlite_engine) as session:
        [email] = session.scalars(select(EmailMessage)).all()
        message_id = email.message_id
    with client_for(sqlite_engine, mail_server) as client:
        answer = client.post(URL, json=signed(event(kind, message_id, **extra)))
    assert answer.json() == {"result": status}
    with session_scope(sqlite_engine) as session:
        shown = [(m.text[:20], m.payload["email"]["status"]) for m in session.scalars(
            select(Message).where(Message.conversation_id == conversation_id, Message.direction == "out")
            .order_by(Message.id))]
    assert shown == [("This is a debt colle", status), ("Your balance with Ac", status),
                     ("What would you like ", status)]
