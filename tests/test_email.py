"""Email through the outbox (issue 17): a real aiosmtpd server on a loopback port in every test, never a mock of
the SMTP client. A message is "sent" only when the server accepted it (EMAIL-3); a 451 or a refused connection
defers it with backoff; a 550 bounces it and suppresses the address (EMAIL-1); every email carries an opt-out by
link and by reply that covers email only (EMAIL-2, OPT-3); the demo mailbox shows what the local server kept."""

from __future__ import annotations

import os
import smtplib
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from email import message_from_string, policy
from html import unescape
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from bot import contact_preferences, conversations, wording
from bot.compliance import esign, validation_notice
from bot.config import PROJECT_ROOT, Settings
from bot.db import session_scope
from bot.db.models import (
    Account,
    AuditEvent,
    ContactPreference,
    Debtor,
    EsignConsent,
    MailboxMessage,
    Message,
    ScheduledMessage,
)
from bot.gateway.app import create_app
from bot.mail import links, smtp
from bot.mail.server import free_port, start
from bot.mail.transport import email_transport, outbound_transport
from bot.messaging import outbox
from bot.messaging import queue as outbound_queue
from tests.conftest import MAIL_FROM, add_debtor
from tests.payments_helpers import pay_env_fixture  # noqa: F401 - the pay_env fixture

NOON_LA = datetime(2026, 12, 2, 20, 0, tzinfo=timezone.utc)  # 12:00 in Los Angeles (the test debtors' zone)
SETTLE = MAIL_FROM  # the mail_server fixture (tests/conftest.py) keeps mail sent from it
EMAIL = "jordan.rivera@example.com"
PHONE = "+15555550101"


class Refusing:
    """A mail server that answers RCPT TO with `reply` (451: try later; 550: no such user)."""

    def __init__(self, reply: str) -> None:
        self.reply, self.asked = reply, 0

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: list) -> str:
        self.asked += 1
        return self.reply


def refusing_server(reply: str) -> tuple[Any, Refusing, str]:
    handler, port = Refusing(reply), free_port()
    return start(handler, port=port), handler, f"smtp://127.0.0.1:{port}"


def settings_for(engine: Engine, smtp_url: str, **extra: Any) -> Settings:
    return Settings(database_url=engine.url.render_as_string(hide_password=False), smtp_url=smtp_url,
                    email_from=SETTLE, email_link_secret="test-link-secret", gateway_url="http://testserver",
                    widget_secret="w", **extra)


def debtor_with_email(engine: Engine, email: str = EMAIL, consent: bool = True) -> str:
    """A debtor with an email address who, with `consent`, said yes in a chat to required notices by email (EMAIL-1,
    E-SIGN: bot/compliance/esign.py), the way the pipeline records it."""
    with session_scope(engine) as session:
        debtor, account = add_debtor(session)
        debtor.email = email
        if consent:
            answer_esign(session, account, "yes", title="Yes, email them")
        return account.id


def answer_esign(session: Any, account: Account, text: str, title: str | None = None,
                 now: datetime = NOON_LA) -> list[str] | None:
    """The E-SIGN question asked in a verified web chat and answered with `text` (a button's payload and title)."""
    conversation = conversations.get_or_create(session, "web", f"esign-{account.id}")
    conversation.debtor_id, conversation.account_id, conversation.verified_at = account.debtor_id, account.id, now
    question = esign.QUESTION.format(address=esign.masked(EMAIL))
    conversations.record_message(session, conversation, direction="out", sender_role="bot", text=question,
                                 status="sent", at=now)
    inbound = conversations.record_message(session, conversation, direction="in", sender_role="debtor", text=text,
                                           payload={"title": title} if title else None, at=now)
    return esign.answer(session, conversation, inbound, now)


def queue_notice(engine: Engine, account_id: str, now: datetime = NOON_LA) -> str:
    """DISC-5's validation notice, queued the way a first chat queues it."""
    with session_scope(engine) as session:
        conversation = conversations.get_or_create(session, "web", f"chat-{account_id}")
        assert validation_notice.queue_if_first_contact(session, session.get(Account, account_id), conversation.id,
                                                        now)
        return session.scalars(select(ScheduledMessage.id).where(ScheduledMessage.account_id == account_id)).one()


def queued(engine: Engine, message_id: str) -> ScheduledMessage:
    with session_scope(engine) as session:
        message = session.get(ScheduledMessage, message_id)
        session.expunge(message)
        return message


def sent_emails(engine: Engine) -> list[Message]:
    with session_scope(engine) as session:
        rows = session.scalars(select(Message).where(Message.direction == "out", Message.status == "sent")).all()
        return [r for r in rows if (r.payload or {}).get("email")]


def audit_kinds(engine: Engine) -> list[tuple[str, str | None]]:
    with session_scope(engine) as session:
        return [(e.kind, e.rule_id) for e in session.scalars(select(AuditEvent).order_by(AuditEvent.id))]


# --- delivery -------------------------------------------------------------------------------------------------


def test_EMAIL_3_DISC_5_the_validation_notice_goes_by_email_and_is_sent_when_the_server_accepts_it(
        sqlite_engine, mail_server):
    """Mutation tried: queue.py marking the message sent without calling the transport -> no mailbox row, fails."""
    notice_id = queue_notice(sqlite_engine, debtor_with_email(sqlite_engine))
    assert queued(sqlite_engine, notice_id).channel == "email"
    summary = outbound_queue.process_due(sqlite_engine, email_transport(sqlite_engine, settings_for(
        sqlite_engine, mail_server)), now=NOON_LA)
    assert summary.sent == 1
    message = queued(sqlite_engine, notice_id)
    assert message.status == "sent" and message.sent_at == NOON_LA
    with session_scope(sqlite_engine) as session:
        [kept] = session.scalars(select(MailboxMessage)).all()
        raw, rcpt = kept.raw, kept.rcpt_to
    assert rcpt == [EMAIL]
    email = message_from_string(raw, policy=policy.default)
    assert message.provider_id == email["Message-ID"]  # the Message-ID stored with the message
    assert email["Subject"].startswith("Your validation notice")
    text = email.get_body(("plain",)).get_content()
    html = email.get_body(("html",)).get_content()
    assert "from a debt collector" in text and "Reply STOP to opt out" in text  # DISC-2, OPT-1
    opt_out = links.opt_out_url("http://testserver", "test-link-secret", EMAIL)
    assert opt_out in text and opt_out in html and opt_out in email["List-Unsubscribe"]  # EMAIL-2
    assert email["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    [recorded] = sent_emails(sqlite_engine)
    assert recorded.payload["email"]["message_id"] == message.provider_id
    assert recorded.payload["email"]["server_reply"].startswith("250")


def test_EMAIL_3_a_451_defers_with_backoff_and_nothing_is_called_sent(sqlite_engine, mail_server):
    """Mutation tried: _delivery_deferred leaving not_before as it was -> the backoff assertion fails."""
    notice_id = queue_notice(sqlite_engine, debtor_with_email(sqlite_engine))
    controller, handler, url = refusing_server("451 4.3.0 Mailbox busy, try again later")
    try:
        summary = outbound_queue.process_due(sqlite_engine, email_transport(sqlite_engine, settings_for(
            sqlite_engine, url)), now=NOON_LA)
    finally:
        controller.stop()
    assert handler.asked == 1 and (summary.sent, summary.deferred) == (0, 1)
    message = queued(sqlite_engine, notice_id)
    assert (message.status, message.attempts, message.sent_at) == ("pending", 1, None)
    assert message.not_before == NOON_LA + timedelta(minutes=5) and "451" in message.reason
    assert sent_emails(sqlite_engine) == []
    assert ("outbound_delivery_deferred", "EMAIL-3") in audit_kinds(sqlite_engine)

    good = email_transport(sqlite_engine, settings_for(sqlite_engine, mail_server))
    assert outbound_queue.process_due(sqlite_engine, good, now=NOON_LA + timedelta(minutes=4)).sent == 0  # waits
    assert outbound_queue.process_due(sqlite_engine, good, now=NOON_LA + timedelta(minutes=5)).sent == 1
    assert queued(sqlite_engine, notice_id).status == "sent"


def test_EMAIL_3_a_refused_connection_defers_and_backoff_grows_then_gives_up(sqlite_engine):
    """Nothing listens on the port: each run defers, twice as long each time; after MAX_DELIVERY_ATTEMPTS the
    notice is "failed" (EMAIL-1), never "sent"."""
    notice_id = queue_notice(sqlite_engine, debtor_with_email(sqlite_engine))
    transport = email_transport(sqlite_engine, settings_for(sqlite_engine, f"smtp://127.0.0.1:{free_port()}"))
    now, waits = NOON_LA, []
    for _ in range(4 * outbound_queue.MAX_DELIVERY_ATTEMPTS):  # with TIME-1's nights in between
        outbound_queue.process_due(sqlite_engine, transport, now=now)
        message = queued(sqlite_engine, notice_id)
        if message.status != "pending":
            break
        waits.append(message.not_before - now)
        now = message.not_before
    assert waits[:3] == [timedelta(minutes=5), timedelta(minutes=10), timedelta(minutes=20)]
    assert outbound_queue.backoff(9) == outbound_queue.BACKOFF_MAX  # later waits are capped (or TIME-1's, at night)
    assert (message.status, message.rule_ids, message.sent_at) == ("failed", ["EMAIL-1"], None)
    assert message.attempts == outbound_queue.MAX_DELIVERY_ATTEMPTS
    assert sent_emails(sqlite_engine) == []


def test_EMAIL_1_a_550_bounces_suppresses_the_address_and_leaves_the_phone_alone(sqlite_engine, mail_server):
    """Mutation tried: suppression() ignoring bounced_at -> the second email is sent, and the test fails."""
    account_id = debtor_with_email(sqlite_engine)
    notice_id = queue_notice(sqlite_engine, account_id)
    controller, _, url = refusing_server("550 5.1.1 No such user here")
    try:
        summary = outbound_queue.process_due(sqlite_engine, email_transport(sqlite_engine, settings_for(
            sqlite_engine, url)), now=NOON_LA)
    finally:
        controller.stop()
    assert summary.bounced == 1 and summary.sent == 0
    message = queued(sqlite_engine, notice_id)
    assert (message.status, message.rule_ids, message.sent_at) == ("bounced", ["EMAIL-1"], None)
    assert "550" in message.reason
    assert ("outbound_bounced", "EMAIL-1") in audit_kinds(sqlite_engine)
    assert sent_emails(sqlite_engine) == []

    # The next email to that address is refused by the gate, even through a server that would take it.
    later = NOON_LA + timedelta(days=1)
    with session_scope(sqlite_engine) as session:
        again = outbox.schedule(session, account_id=account_id, channel="email", address=EMAIL, kind="reminder",
                                text="Your next payment is due soon.", not_before=later).id
        text = outbox.schedule(session, account_id=account_id, channel="sms", address=PHONE, kind="reminder",
                               text="Your next payment is due soon.", not_before=later).id
        contact_preferences.record_inbound(session, "sms", PHONE, later)  # ID-5 holds for the phone
    outbound_queue.process_due(sqlite_engine, outbound_transport(sqlite_engine, settings_for(
        sqlite_engine, mail_server)), now=later)
    assert (queued(sqlite_engine, again).status, queued(sqlite_engine, again).rule_ids) == ("blocked", ["EMAIL-1"])
    assert queued(sqlite_engine, text).status == "sent"


def test_EMAIL_3_without_SMTP_URL_email_stays_queued_and_says_so(sqlite_engine):
    notice_id = queue_notice(sqlite_engine, debtor_with_email(sqlite_engine))
    transport = email_transport(sqlite_engine, settings_for(sqlite_engine, ""))
    outbound_queue.process_due(sqlite_engine, transport, now=NOON_LA)
    outbound_queue.process_due(sqlite_engine, transport, now=NOON_LA + timedelta(hours=7))
    message = queued(sqlite_engine, notice_id)
    assert (message.status, message.attempts, message.sent_at) == ("pending", 0, None)  # never given up on
    assert "SMTP_URL" in message.reason
    assert audit_kinds(sqlite_engine).count(("outbound_not_configured", "EMAIL-3")) == 1
    assert sent_emails(sqlite_engine) == []


def test_SMTP_URL_parsing_and_the_password_never_shown():
    config = smtp.parse_url("smtp://apikey:s%40cret@mail.example.com:587")
    assert (config.host, config.port, config.implicit_tls, config.username, config.password) == \
        ("mail.example.com", 587, False, "apikey", "s@cret")
    assert "s@cret" not in repr(config) and not config.loopback
    assert smtp.parse_url("smtps://u:p@mail.example.com").port == 465
    assert smtp.parse_url("smtp://127.0.0.1:2525").loopback
    for bad in ("http://mail.example.com", "smtp://", "smtp://host:notaport"):
        with pytest.raises(smtp.SmtpUrlError):
            smtp.parse_url(bad)


# --- opt-out (EMAIL-2, OPT-3) --------------------------------------------------------------------------------------


def app_client(engine: Engine, smtp_url: str, mode: str = "embedded") -> TestClient:
    return TestClient(create_app(settings_for(engine, smtp_url, mode=mode)))


def email_preference(engine: Engine, address: str = EMAIL) -> ContactPreference | None:
    with session_scope(engine) as session:
        preference = session.scalar(select(ContactPreference).where(
            ContactPreference.channel == "email", ContactPreference.address == address))
        if preference is not None:
            session.expunge(preference)
        return preference


def test_EMAIL_2_the_opt_out_link_confirms_on_GET_and_opts_out_only_on_POST(sqlite_engine, mail_server):
    """Mutation tried: opting out in the GET handler -> the "GET changes nothing" assertion fails."""
    url = links.opt_out_url("", "test-link-secret", EMAIL)
    with app_client(sqlite_engine, mail_server, mode="production") as client:  # the link works in production
        page = client.get(url)
        assert page.status_code == 200 and "Stop emails from us?" in page.text and "j***@example.com" in page.text
        assert EMAIL not in page.text
        assert email_preference(sqlite_engine) is None  # GET changes nothing (a link scanner may fetch it)
        done = client.post(url)
        assert done.status_code == 200 and "We won't email j***@example.com again" in unescape(done.text)
        assert email_preference(sqlite_engine).opted_out_via == "email-link"
        assert client.post(url).status_code == 200  # twice: still fine, recorded once
        forged = links.opt_out_token("another-secret", "someone@example.com")
        for token in (forged, "garbage", url.rsplit("/", 1)[1] + "x"):
            bad = client.post(f"{links.PATH}{token}")
            assert bad.status_code == 400 and "This link doesn't work" in unescape(bad.text)
    assert audit_kinds(sqlite_engine).count(("opted_out", "OPT-3")) == 1


def test_EMAIL_2_the_opt_out_page_speaks_the_debtors_language_else_the_browsers(sqlite_engine, mail_server):
    """Issue 23: a Spanish-speaking debtor's link reads Spanish before and after the button, whatever the browser;
    an address Settle knows no language for, and a broken link, follow Accept-Language; English stays English.
    Mutation tried: known_for_address returning None (the Spanish debtor with an English browser read English)."""
    debtor_with_email(sqlite_engine, consent=False)
    with session_scope(sqlite_engine) as session:
        session.scalars(select(Debtor).where(Debtor.email == EMAIL)).one().language = "es"
    url = links.opt_out_url("", "test-link-secret", EMAIL)
    stranger = links.opt_out_url("", "test-link-secret", "sam@example.com")
    english, spanish = {"Accept-Language": "en-US"}, {"Accept-Language": "es-US,es;q=0.9"}
    with app_client(sqlite_engine, mail_server, mode="production") as client:
        page = client.get(url, headers=english)
        assert '<html lang="es">' in page.text and "¿No quiere más emails de nosotros?" in page.text
        assert "Toque el botón y no vamos a mandar más emails a j***@example.com. Es gratis." in page.text
        assert "Stop emails" not in page.text
        done = client.post(url, headers=english)
        assert "No vamos a mandar más emails a j***@example.com." in done.text and "We won't" not in unescape(done.text)
        assert "¿No quiere más emails" in client.get(stranger, headers=spanish).text
        assert "Stop emails from us?" in client.get(stranger, headers=english).text
        broken = client.get(f"{links.PATH}garbage", headers=spanish)
        assert broken.status_code == 400 and "Este enlace no funciona" in broken.text
        assert broken.headers["content-language"] == "es"
        assert "This link doesn't work" in unescape(client.get(f"{links.PATH}garbage", headers=english).text)


def test_EMAIL_2_OPT_3_an_email_opt_out_blocks_the_next_email_and_not_the_next_sms(sqlite_engine, mail_server):
    """Mutation tried: check_initiated ignoring an OPT-3 suppression -> the email is sent, fails. (The phone has its
    own preference row, channel "sms"; the SMS half fails if an email opt-out ever reaches it.)"""
    account_id = debtor_with_email(sqlite_engine)
    with app_client(sqlite_engine, mail_server) as client:
        assert client.post(links.opt_out_url("", "test-link-secret", EMAIL)).status_code == 200
    with session_scope(sqlite_engine) as session:
        email = outbox.schedule(session, account_id=account_id, channel="email", address=EMAIL, kind="reminder",
                                text="Your next payment is due soon.", not_before=NOON_LA).id
        text = outbox.schedule(session, account_id=account_id, channel="sms", address=PHONE, kind="reminder",
                               text="Your next payment is due soon.", not_before=NOON_LA).id
        contact_preferences.record_inbound(session, "sms", PHONE, NOON_LA)  # ID-5 holds for the phone
    outbound_queue.process_due(sqlite_engine, outbound_transport(sqlite_engine, settings_for(
        sqlite_engine, mail_server)), now=NOON_LA)
    assert (queued(sqlite_engine, email).status, queued(sqlite_engine, email).rule_ids) == ("blocked", ["OPT-3"])
    assert queued(sqlite_engine, text).status == "sent"
    with session_scope(sqlite_engine) as session:
        assert session.scalars(select(MailboxMessage)).all() == []


@pytest.mark.parametrize("body,subject", [("STOP\n", "Re: Your next automatic payment"),
                                          ("unsubscribe please?\n\n> quoted text", "Re: hi"),
                                          ("Thanks!\n", "Unsubscribe")])
def test_EMAIL_2_a_reply_STOP_or_unsubscribe_opts_out_email_only(sqlite_engine, mail_server, body, subject):
    """A real reply through the local server's inbound path. Mutation tried: handle_reply not called for mail to
    Settle's address -> no opt-out, fails."""
    if body.startswith("unsubscribe please"):
        body = "unsubscribe\n\n> quoted text"  # the keyword alone on its first line, the quote below
    with session_scope(sqlite_engine) as session:
        contact_preferences.record_inbound(session, "sms", PHONE)
    port = int(mail_server.rsplit(":", 1)[1])
    with smtplib.SMTP("127.0.0.1", port) as client:
        client.sendmail("Jordan.Rivera@Example.com", [SETTLE],
                        f"From: Jordan.Rivera@Example.com\r\nTo: {SETTLE}\r\nSubject: {subject}\r\n\r\n{body}")
    preference = email_preference(sqlite_engine)
    assert preference is not None and preference.opted_out_via == "email-reply"
    with session_scope(sqlite_engine) as session:
        assert contact_preferences.suppression(session, "sms", PHONE) is None  # the phone is untouched


def test_a_reply_without_a_keyword_opts_nothing_out(sqlite_engine, mail_server):
    port = int(mail_server.rsplit(":", 1)[1])
    with smtplib.SMTP("127.0.0.1", port) as client:
        client.sendmail(EMAIL, [SETTLE], f"From: {EMAIL}\r\nTo: {SETTLE}\r\nSubject: Re: notice\r\n\r\n"
                                         "Please don't stop, I want a plan.\r\n")
    assert email_preference(sqlite_engine) is None


def test_the_embedded_mail_process_sends_the_email_queue_and_keeps_what_it_receives(sqlite_engine, sqlite_url):
    """`python -m bot.mail.server` as `run` starts it (bot/stack.py): a real process with its own SMTP server on
    loopback, sending the queue through it. Mutation tried: main() without register_flush_listeners() -> REC-1
    refuses its writes and nothing is sent, fails."""
    now = datetime.now(timezone.utc)
    # A debtor for whom it is daytime now (TIME-1), wherever the test runs.
    zone = next(z for z in ("Asia/Tokyo", "Asia/Kolkata", "Europe/London", "America/New_York", "Pacific/Honolulu",
                            "Pacific/Auckland") if 10 <= now.astimezone(ZoneInfo(z)).hour < 18)
    with session_scope(sqlite_engine) as session:
        debtor, account = add_debtor(session, zip_code="00000", phone=None)
        debtor.email, debtor.timezone = EMAIL, zone
        answer_esign(session, account, "yes", now=now)  # EMAIL-1: the debtor said yes to notices by email
        notice = outbox.schedule(session, account_id=account.id, channel="email", address=EMAIL,
                                 kind="validation_notice", text="Validation notice. Acme Bank says you owe $1,234.56.",
                                 not_before=now - timedelta(minutes=1)).id
    port = free_port()
    env = {**os.environ, "DATABASE_URL": sqlite_url, "SMTP_URL": f"smtp://127.0.0.1:{port}",
           "EMAIL_LINK_SECRET": "test-link-secret", "EMAIL_FROM": SETTLE}
    process = subprocess.Popen([sys.executable, "-m", "bot.mail.server", "--port", str(port), "--send-every", "0.5"],
                               cwd=PROJECT_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and queued(sqlite_engine, notice).status != "sent":
            assert process.poll() is None, process.stdout.read()
            time.sleep(0.3)
    finally:
        process.terminate()
        output = process.communicate(timeout=30)[0]
    assert queued(sqlite_engine, notice).status == "sent", output
    with session_scope(sqlite_engine) as session:
        [kept] = session.scalars(select(MailboxMessage)).all()
        assert kept.rcpt_to == [EMAIL] and kept.message_id == queued(sqlite_engine, notice).provider_id


# --- the demo mailbox ---------------------------------------------------------------------------------------------


def test_the_demo_mailbox_shows_sent_email_newest_first_with_the_html_sandboxed(sqlite_engine, mail_server):
    """Mutation tried: `|safe` on srcdoc in mailbox.html -> the email's markup lands in the page unescaped (its
    first quote closes the attribute), and the srcdoc assertion fails."""
    account_id = debtor_with_email(sqlite_engine)
    with session_scope(sqlite_engine) as session:
        for n, words in enumerate(("First message.", "Second message <script>alert(1)</script>.")):
            outbox.schedule(session, account_id=account_id, channel="email", address=EMAIL, kind="reminder",
                            text=words, not_before=NOON_LA - timedelta(days=2 - n))
    transport = email_transport(sqlite_engine, settings_for(sqlite_engine, mail_server))
    outbound_queue.process_due(sqlite_engine, transport, now=NOON_LA - timedelta(days=2))
    outbound_queue.process_due(sqlite_engine, transport, now=NOON_LA)
    with app_client(sqlite_engine, mail_server) as client:
        page = client.get("/mailbox")
        assert page.status_code == 200
        assert page.text.index("Second message") < page.text.index("First message")  # newest first
        assert "<script>alert" not in page.text and "&lt;script&gt;" in page.text  # the text part, escaped
        assert 'sandbox="allow-popups allow-popups-to-escape-sandbox"' in page.text
        assert 'srcdoc="&lt;!doctype html&gt;' in page.text  # the email's markup as an attribute's text, escaped
        assert "script-src" not in page.headers["content-security-policy"]  # no script on the page at all
        assert "default-src 'none'" in page.headers["content-security-policy"]

        # Reply STOP from the page: through the local server, to the inbound path.
        [first_id] = [m for m in [_mailbox_ids(sqlite_engine)[-1]]]
        replied = client.post("/mailbox/reply-stop", data={"id": str(first_id)}, follow_redirects=False)
        assert replied.status_code == 303
        assert email_preference(sqlite_engine).opted_out_via == "email-reply"
        assert client.post("/mailbox/reply-stop", data={"id": "x"}).status_code == 400
        assert client.post("/mailbox/reply-stop", data={"id": "1"},
                           headers={"origin": "https://evil.example"}).status_code == 403
    with app_client(sqlite_engine, mail_server, mode="production") as client:
        assert client.get("/mailbox").status_code == 404  # demo only, like /phone


def test_the_demo_mailbox_speaks_the_browsers_language_and_shows_the_emails_as_sent(sqlite_engine, mail_server):
    """Issue 23: a demo page, in the browser's language or ?lang=; English stays English. Mutation tried:
    mailbox_page ignoring Accept-Language (the Spanish browser read "Demo mailbox", failed)."""
    account_id = debtor_with_email(sqlite_engine)
    with session_scope(sqlite_engine) as session:
        outbox.schedule(session, account_id=account_id, channel="email", address=EMAIL, kind="reminder",
                        text="First message.", not_before=NOON_LA)
    outbound_queue.process_due(sqlite_engine, email_transport(sqlite_engine, settings_for(sqlite_engine, mail_server)),
                               now=NOON_LA)
    with app_client(sqlite_engine, mail_server) as client:
        spanish = client.get("/mailbox", headers={"Accept-Language": "es-US,es;q=0.9"})
        assert spanish.headers["content-language"] == "es" and '<html lang="es">' in spanish.text
        assert "<h1>Buzón de prueba</h1>" in spanish.text and "Versión de texto" in spanish.text
        assert f"Responder STOP (como {EMAIL})" in spanish.text and "First message." in spanish.text
        assert f"para {EMAIL}" in spanish.text and "Demo mailbox" not in spanish.text
        english = client.get("/mailbox", headers={"Accept-Language": "en-US"})
        assert "<h1>Demo mailbox</h1>" in english.text and f"Reply STOP (as {EMAIL})" in english.text
        assert "Buzón" not in english.text
        assert "<h1>Buzón de prueba</h1>" in client.get("/mailbox?lang=es").text


def _mailbox_ids(engine: Engine) -> list[int]:
    with session_scope(engine) as session:
        return list(session.scalars(select(MailboxMessage.id).order_by(MailboxMessage.id.desc())))


# --- PLAN-3: a notice that bounced is no notice ------------------------------------------------------------------


def test_EMAIL_1_PLAN_3_a_bounced_pre_debit_notice_stops_the_debit_and_is_never_reported_sent(pay_env):
    """The plan's debtor has an email address, so the pre-debit notice goes by email; the server answers 550.
    Mutation tried: notice_state() without "bounced" in its blocked statuses -> notice_wait forever is still no
    charge, so the test also checks the state it reports: "notice_blocked"."""
    from bot.db.models import DebitNotice, Debtor
    from bot.payments import autopay
    from tests.test_payments_autopay import at, installment, intents_for, with_autopay

    conversation_id, account_id, plan_id, dues = with_autopay(pay_env)
    with session_scope(pay_env.engine) as session:
        debtor = session.get(Debtor, session.get(Account, account_id).debtor_id)
        debtor.email = "gone@example.com"  # and they agreed to required notices there (EMAIL-1)
        esign.record(session, debtor.id, debtor.email, "Email me the notices?", "Yes", True, at(dues[0]), via="web")
    second = installment(pay_env, plan_id, 2)
    controller, handler, url = refusing_server("550 5.1.1 No such user here")
    transport = outbound_transport(pay_env.engine, settings_for(pay_env.engine, url))
    outcomes: list[dict[str, int]] = []
    try:
        day = dues[0] + timedelta(days=1)
        while day <= dues[1] + timedelta(days=2):
            outcomes.append(autopay.charge_due(pay_env.engine, pay_env.client, pay_env.settings, now=at(day)).outcomes)
            outbound_queue.process_due(pay_env.engine, transport, now=at(day))
            day += timedelta(days=1)
    finally:
        controller.stop()
    assert handler.asked == 1  # tried once, refused for good, never again (the address is suppressed)
    assert not any("charged" in o for o in outcomes) and intents_for(pay_env, second.id) == []
    assert {"notice_blocked": 1} in outcomes  # PLAN-3: no debit on a notice that was never given
    assert installment(pay_env, plan_id, 2).status == "scheduled"
    with session_scope(pay_env.engine) as session:
        notice = session.scalars(select(DebitNotice).where(DebitNotice.installment_id == second.id)).one()
        message = session.get(ScheduledMessage, notice.scheduled_message_id)
        assert (message.channel, message.address) == ("email", "gone@example.com")
        assert (message.status, message.sent_at, message.rule_ids) == ("bounced", None, ["EMAIL-1"])
        said = session.scalars(select(Message.text).where(Message.direction == "out", Message.status == "sent")).all()
    assert not any("from your Visa card ending 4242" in text and "payment 2 of 3" in text for text in said)


# --- the E-SIGN question in the debtor's language (issue 23) -----------------------------------------------------


def test_EMAIL_1_a_spanish_speaking_debtor_is_asked_in_spanish_and_their_si_is_recorded_word_for_word(sqlite_engine):
    """The question, its buttons and the reply follow the conversation's language; the consent stores the Spanish
    question and answer exactly (E-SIGN). Mutation tried: QUESTION_MARKS without the Spanish marker (the "sí" was not
    taken as an answer to the question and nothing was recorded: failed)."""
    account_id = debtor_with_email(sqlite_engine, consent=False)
    queue_notice(sqlite_engine, account_id)
    with session_scope(sqlite_engine) as session:
        account = session.get(Account, account_id)
        conversation = conversations.get_or_create(session, "web", f"es-{account.id}")
        conversation.debtor_id, conversation.account_id, conversation.verified_at = account.debtor_id, account.id, \
            NOON_LA
        conversation.language = "es"
        asked = esign.question_due(session, conversation)
        assert asked["text"].startswith("¿Le podemos mandar por email los avisos que la ley nos pide enviar")
        assert [b["title"] for b in asked["buttons"]] == ["Sí, por email", "No, por correo postal"]
        conversations.record_message(session, conversation, direction="out", sender_role="bot", text=asked["text"],
                                     status="sent", at=NOON_LA)
        inbound = conversations.record_message(session, conversation, direction="in", sender_role="debtor",
                                               text="Sí", at=NOON_LA)
        replies = esign.answer(session, conversation, inbound, NOON_LA)
        consent = session.scalars(select(EsignConsent)).one()
        assert (consent.consented, consent.question, consent.answer) == (True, asked["text"], "Sí")
        assert esign.question_due(session, conversation) is None  # answered: not asked again
    assert replies == [wording.say("esign_consented", "es", address=esign.masked(EMAIL))]


def test_EMAIL_1_an_english_debtor_is_still_asked_in_english(sqlite_engine):
    account_id = debtor_with_email(sqlite_engine, consent=False)
    queue_notice(sqlite_engine, account_id)
    with session_scope(sqlite_engine) as session:
        account = session.get(Account, account_id)
        conversation = conversations.get_or_create(session, "web", f"en-{account.id}")
        conversation.debtor_id, conversation.account_id, conversation.verified_at = account.debtor_id, account.id, \
            NOON_LA
        asked = esign.question_due(session, conversation)
    assert asked["text"] == esign.QUESTION.format(address=esign.masked(EMAIL))
    assert [b["title"] for b in asked["buttons"]] == [esign.YES_TITLE, esign.NO_TITLE]


def test_REC_1_a_copy_of_the_chat_is_asked_for_and_answered_in_spanish(sqlite_engine):
    """"mándeme una copia" (the words the Spanish E-SIGN reply suggests) asks for the copy; the answer is in the
    conversation's language."""
    from bot.records import transcript_copy

    assert transcript_copy.asks_for_copy("mándeme una copia") and transcript_copy.asks_for_copy("envieme una copia")
    with session_scope(sqlite_engine) as session:
        conversation = conversations.get_or_create(session, "web", "copy-es")
        conversation.language = "es"
        replies = transcript_copy.request_copy(session, conversation, NOON_LA)
    assert replies == [wording.say("copy_not_verified", "es")]
