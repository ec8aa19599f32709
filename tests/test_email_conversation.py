"""Email in a live conversation (issue 17): a debtor's reply to Settle's address joins their email conversation
through the same pipeline as a text (stored first, redacted, answered), and the answers, the bot's or an agent's,
go back by email through the outbox, in the debtor's thread (In-Reply-To, References, "Re:"). Every reply is
answered inside the session the debtor started by writing (TIME-2), so no test here depends on the hour.

The replies come in signed as Mailgun's inbound route signs them (POST /webhooks/email/mailgun/inbound), or through
the embedded local mail server, which forwards them the same way; the answers go out through a real aiosmtpd
server on loopback."""

from __future__ import annotations

import re
import smtplib
import socket
from datetime import timedelta
from email import message_from_string, policy
from email.message import EmailMessage
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from bot import conversations, handoff
from bot.agents import users
from bot.compliance.keywords import help_reply, stop_reply
from bot.db import session_scope
from bot.db.models import AuditEvent, Conversation, MailboxMessage, Message, ScheduledMessage
from bot.db.models import EmailMessage as SentEmail
from bot.gateway.app import create_app
from bot.gateway.pipeline import UNAVAILABLE_REPLY
from bot.mail import server
from bot.mail.server import MailboxHandler, free_port, start
from bot.messaging import outbox
from tests.test_email import EMAIL, SETTLE, debtor_with_email, email_preference, settings_for

SECRET = "key-test-inbound-signing"
INBOUND = "/webhooks/email/mailgun/inbound"
THEIR_ID = "<reply-one@example.com>"
PASSWORD = "correct horse battery"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]



def app_for(engine: Engine, smtp_url: str) -> TestClient:
    """The gateway with no Rasa listening (a turn that needs it gets the "trouble right now" answer, quickly)."""
    settings = settings_for(engine, smtp_url, mode="production", email_webhook_secret=SECRET,
                            rasa_url=f"http://127.0.0.1:{closed_port()}", rasa_retry_seconds=0.5)
    return TestClient(create_app(settings), client=("127.0.0.1", 50000))


def reply_mime(body: str, subject: str = "Re: Your validation notice: what we have on file and your rights",
               message_id: str = THEIR_ID, references: str = "<notice-one@settle.test>") -> bytes:
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = f"Jordan Rivera <{EMAIL}>", SETTLE, subject
    message["Message-ID"], message["In-Reply-To"], message["References"] = message_id, references, references
    message.set_content(f"{body}\n\nOn Tue, Dec 1, 2026 at 9:00 AM Settle wrote:\n> This message is from a debt "
                        "collector.\n")
    return bytes(message)


def post_reply(client: TestClient, raw: bytes, secret: str = SECRET) -> Any:
    return client.post(INBOUND, data=server.signed_form(secret, EMAIL, raw))


def emails_to_debtor(engine: Engine) -> list[EmailMessage]:
    with session_scope(engine) as session:
        rows = session.scalars(select(MailboxMessage).order_by(MailboxMessage.id)).all()
        return [message_from_string(r.raw, policy=policy.default) for r in rows if r.rcpt_to == [EMAIL]]


def body(email: EmailMessage) -> str:
    return email.get_body(("plain",)).get_content()


def conversation_messages(engine: Engine) -> list[Message]:
    with session_scope(engine) as session:
        conversation = session.scalar(select(Conversation).where(Conversation.channel == "email",
                                                                 Conversation.external_id == EMAIL))
        rows = session.scalars(select(Message).where(Message.conversation_id == conversation.id)
                               .order_by(Message.id)).all()
        for row in rows:
            session.expunge(row)
        return rows


def test_an_email_reply_is_stored_then_answered_by_email_in_the_same_thread(sqlite_engine, mail_server):
    """HELP is answered by the pipeline without Rasa. Mutation tried: couriers_for() without the "email" courier ->
    the answer is stored but no email reaches the mailbox, fails."""
    with app_for(sqlite_engine, mail_server) as client:
        answer = post_reply(client, reply_mime("HELP"))
        settings = client.app.state.settings
    assert answer.status_code == 200 and answer.json() == {"result": "stored", "replies": 1}
    inbound, out = conversation_messages(sqlite_engine)
    assert (inbound.direction, inbound.text, inbound.payload["email"]["message_id"]) == ("in", "HELP", THEIR_ID)
    assert out.direction == "out" and out.status == "sent" and out.payload["email"]["status"] == "sent"
    [email] = emails_to_debtor(sqlite_engine)
    assert email["In-Reply-To"] == THEIR_ID
    assert email["References"] == f"<notice-one@settle.test> {THEIR_ID}"
    assert email["Subject"] == "Re: Your validation notice: what we have on file and your rights"
    assert help_reply(settings) in body(email) and "/email/opt-out/" in body(email)  # EMAIL-2: the link, always
    assert out.payload["email"]["message_id"] == email["Message-ID"]
    with session_scope(sqlite_engine) as session:  # kept by Message-ID for the provider's events
        assert session.scalar(select(SentEmail.message_row_id).where(
            SentEmail.message_id == email["Message-ID"])) == out.id


def test_a_free_text_email_goes_through_the_pipeline_to_the_dialogue(sqlite_engine, mail_server):
    """Not a keyword: the pipeline asks Rasa (not running here) and answers as it answers a text when Rasa is
    down; the answer goes by email. The card number typed into the email is never stored (PCI-2)."""
    with app_for(sqlite_engine, mail_server) as client:
        assert post_reply(client, reply_mime("I want a payment plan. My card is 4242 4242 4242 4242")
                          ).status_code == 200
    inbound, *replies = conversation_messages(sqlite_engine)
    assert "4242 4242 4242 4242" not in inbound.text and inbound.text.startswith("I want a payment plan.")
    assert "On Tue" not in inbound.text  # the quoted earlier message is not the debtor's words
    said = [body(e) for e in emails_to_debtor(sqlite_engine)]
    assert any(UNAVAILABLE_REPLY in text for text in said)
    assert all("4242 4242" not in text for text in said)


def test_OPT_3_EMAIL_2_stop_by_email_opts_out_and_gets_one_confirmation_email(sqlite_engine, mail_server):
    """1006.6(e): the one confirmation after an opt-out by reply goes; the queued reminder does not. Mutation
    tried: START by email honoured (the pipeline's channel check removed) -> the address is opted back in, fails."""
    account_id = debtor_with_email(sqlite_engine)
    with session_scope(sqlite_engine) as session:
        from datetime import datetime, timezone
        reminder = outbox.schedule(session, account_id=account_id, channel="email", address=EMAIL, kind="reminder",
                                   text="Your next payment is due soon.",
                                   not_before=datetime.now(timezone.utc) + timedelta(days=1)).id
    with app_for(sqlite_engine, mail_server) as client:
        assert post_reply(client, reply_mime("STOP")).status_code == 200
        assert post_reply(client, reply_mime("START", message_id="<reply-two@example.com>")).status_code == 200
    preference = email_preference(sqlite_engine)
    assert preference is not None and preference.opted_out_at is not None  # START by email did not undo it
    emails = emails_to_debtor(sqlite_engine)
    assert [stop_reply("email") in body(e) for e in emails].count(True) == 1
    with session_scope(sqlite_engine) as session:
        assert session.get(ScheduledMessage, reminder).status == "cancelled"


def test_a_replayed_reply_is_stored_once_and_answered_once(sqlite_engine, mail_server):
    with app_for(sqlite_engine, mail_server) as client:
        assert post_reply(client, reply_mime("HELP")).json()["result"] == "stored"
        assert post_reply(client, reply_mime("HELP")).json() == {"result": "ignored: already received"}
    assert [m.direction for m in conversation_messages(sqlite_engine)] == ["in", "out"]
    assert len(emails_to_debtor(sqlite_engine)) == 1


@pytest.mark.parametrize("case,status", [("wrong key", 403), ("unsigned", 401), ("no sender", 400)])
def test_an_unsigned_or_senderless_reply_is_refused_and_nothing_is_stored(sqlite_engine, mail_server, case, status):
    """Mutation tried: the inbound route not checking the signature -> "wrong key" is stored, fails."""
    with app_for(sqlite_engine, mail_server) as client:
        if case == "wrong key":
            answer = post_reply(client, reply_mime("HELP"), secret="someone-else")
        elif case == "unsigned":
            answer = client.post(INBOUND, data={"body-mime": reply_mime("HELP").decode()})
        else:
            form = server.signed_form(SECRET, "", reply_mime("HELP").replace(f"<{EMAIL}>".encode(), b""))
            answer = client.post(INBOUND, data=form)
    assert answer.status_code == status
    with session_scope(sqlite_engine) as session:
        assert session.scalars(select(Message)).all() == []


def test_the_local_mail_server_forwards_a_reply_to_the_gateway_and_the_answer_comes_back_by_email(sqlite_engine):
    """The embedded default: a real SMTP reply to Settle's address reaches the gateway's inbound route (signed with
    EMAIL_WEBHOOK_SECRET), and the answer arrives in the same local mailbox."""
    port = free_port()
    smtp_url = f"smtp://127.0.0.1:{port}"
    with app_for(sqlite_engine, smtp_url) as client:
        def forward(mail_from: str, raw: bytes) -> bool:  # what server.gateway_forward does, over the test client
            return client.post(INBOUND, data=server.signed_form(SECRET, mail_from, raw)).status_code == 200

        controller = start(MailboxHandler(sqlite_engine, SETTLE, forward), port=port)
        try:
            with smtplib.SMTP("127.0.0.1", port) as smtp:
                smtp.sendmail(EMAIL, [SETTLE], reply_mime("HELP"))
        finally:
            controller.stop()
    [email] = emails_to_debtor(sqlite_engine)
    assert email["In-Reply-To"] == THEIR_ID and "for help, contact" in body(email)


def test_HO_1_an_agent_who_takes_an_email_conversation_answers_by_email(sqlite_engine, mail_server):
    """Mutation tried: EmailCourier.send without the thread (no In-Reply-To) -> the threading assertion fails."""
    with session_scope(sqlite_engine) as session:
        users.create_user(session, "ana", PASSWORD, "agent", display_name="Ana")
    with app_for(sqlite_engine, mail_server) as client:
        assert post_reply(client, reply_mime("HELP")).status_code == 200
        with session_scope(sqlite_engine) as session:
            conversation = conversations.get_or_create(session, "email", EMAIL)
            handoff_id = handoff.request(session, conversation.id, "request_human", rule_id="HO-1").id
        page = client.get("/agent/login")
        logged_in = client.post("/agent/login", data={"username": "ana", "password": PASSWORD,
                                                      "csrf_token": CSRF.search(page.text).group(1)})
        token = CSRF.search(logged_in.text).group(1)
        assert client.post(f"/agent/h/{handoff_id}/claim", data={"csrf_token": token}).status_code == 200
        sent = client.post(f"/agent/h/{handoff_id}/reply", data={"csrf_token": token, "text": "Hi, I'm Ana."},
                           headers={"X-Requested-With": "fetch"})
        assert sent.status_code == 200 and sent.json()["ok"]
    emails = emails_to_debtor(sqlite_engine)
    assert len(emails) == 2 and "Ana: Hi, I'm Ana." in body(emails[-1])
    assert emails[-1]["In-Reply-To"] == THEIR_ID
    with session_scope(sqlite_engine) as session:
        kinds = [e.kind for e in session.scalars(select(AuditEvent))]
    assert "email_send_failed" not in kinds
