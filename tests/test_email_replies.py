"""What a debtor's email reply becomes, and what goes back (the exploratory tester's email findings): a card number
in the subject is redacted at intake and never echoed (PCI-2, PCI-3); one turn is one email, with the disclosure
owed in it (DISC-1, DISC-2); an HTML-only or bottom-posted reply is read as the debtor's words; an email opt-out
says truthfully how emails come back (OPT-3); a copy of the chat carries no identity answer (ID-2).

Everything real: the gateway's signed inbound route, the pipeline, the outbox and its gate, an aiosmtpd server on
loopback (the mail_server fixture) and SQLite. Rasa is not running (app_for): a turn that needs it gets the
"trouble right now" answer, so no test here depends on the dialogue."""

from __future__ import annotations

import asyncio
import smtplib
from datetime import datetime, timezone
from email import message_from_string, policy
from email.message import EmailMessage
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from bot import conversations
from bot.compliance.disclosures import debt_collector_disclosure
from bot.compliance.keywords import opted_out_reply, stop_reply
from bot.compliance.redaction import contains_card_number
from bot.config import Settings
from bot.db import session_scope
from bot.db.models import Conversation, MailboxMessage, Message
from bot.gateway.pipeline import UNAVAILABLE_REPLY
from bot.mail import inbound
from bot.mail.courier import EmailCourier
from bot.mail.server import MailboxHandler, free_port, start
from bot.messaging import outbox
from bot.messaging.delivery import Couriers
from bot.messaging.outbox import Draft
from bot.records import transcript_copy
from tests.conftest import add_debtor
from tests.sensitive_scan import scan_sqlite
from tests.test_email import EMAIL, NOON_LA, SETTLE, settings_for
from tests.test_email_conversation import (
    SECRET,
    THEIR_ID,
    app_for,
    body,
    conversation_messages,
    emails_to_debtor,
    post_reply,
)

CARD_SUBJECT = "my card 4242 4242 4242 4242 exp 12/34"
QUOTE = "On Sun, Dec 6, 2026 at 11:08 PM Settle Services <notices@settle.test> wrote:\n> What is your date of birth?\n"


def reply(body_text: str = "HELP", subject: str = "Re: Question about my account", html: str | None = None,
          message_id: str = THEIR_ID) -> bytes:
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = f"Grace Okafor <{EMAIL}>", SETTLE, subject
    message["Message-ID"] = message_id
    if html is not None:  # a single text/html part, as some mail apps send
        message.set_content(html, subtype="html")
    else:
        message.set_content(body_text)
    return bytes(message)


def inbound_texts(engine: Engine) -> list[str]:
    return [m.text for m in conversation_messages(engine) if m.direction == "in"]


# --- 1. PCI-2, PCI-3: the subject is the debtor's words too ---------------------------------------------------------


def test_PCI_2_PCI_3_a_card_number_in_the_subject_is_redacted_before_storage_and_never_echoed(sqlite_engine,
                                                                                               mail_server):
    """The tester's Chloe: the body was redacted, the subject was kept (messages.payload, the hash chain) and echoed
    in "Re:". Mutation tried: inbound.read keeping message["Subject"] as sent (no redacted_header) -> the PAN is in
    the payload, the transcript and the answer's subject, fails."""
    with app_for(sqlite_engine, mail_server) as client:
        assert post_reply(client, reply(f"{CARD_SUBJECT}\nHELP", subject=CARD_SUBJECT)).status_code == 200
    [answer, *more] = emails_to_debtor(sqlite_engine)
    assert more == []
    assert answer["Subject"] == "Re: my card [REDACTED] exp [REDACTED]"
    [received] = [m for m in conversation_messages(sqlite_engine) if m.direction == "in"]
    assert received.payload["email"]["subject"] == "my card [REDACTED] exp [REDACTED]"
    # PCI-3: a Luhn scan of the whole database (messages, transcript_entries, mailbox_messages, audit) finds 0.
    assert scan_sqlite(Path(sqlite_engine.url.database)) == []


def test_PCI_2_the_local_mail_server_keeps_a_reply_redacted_even_when_its_body_is_base64(sqlite_engine):
    """The demo's SMTP sink redacted the raw bytes: a base64 body (or an encoded subject) hid the number from it.
    It now keeps a redacted copy of the decoded reply. Mutation tried: MailboxHandler.keep storing
    redaction.redact(raw) as before -> the decoded body still holds 4242..., fails."""
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = EMAIL, SETTLE, f"{CARD_SUBJECT} ¿está bien?"
    message["Message-ID"] = THEIR_ID
    message.set_content(f"Here it is: {CARD_SUBJECT}\n", cte="base64")
    port = free_port()
    controller = start(MailboxHandler(sqlite_engine, SETTLE), port=port)  # no gateway: the reply is kept here
    try:
        with smtplib.SMTP("127.0.0.1", port) as smtp:
            smtp.sendmail(EMAIL, [SETTLE], bytes(message))
    finally:
        controller.stop()
    with session_scope(sqlite_engine) as session:
        [kept] = session.scalars(select(MailboxMessage)).all()
        subject, raw = kept.subject, kept.raw
    copy = message_from_string(raw, policy=policy.default)
    assert "[REDACTED]" in subject and not contains_card_number(subject)
    assert not contains_card_number(str(copy["Subject"]))
    assert copy.get_body(("plain",)).get_content().strip() == "Here it is: my card [REDACTED] exp [REDACTED]"
    assert scan_sqlite(Path(sqlite_engine.url.database)) == []


# --- 2. DISC-1, DISC-2: one turn, one email ------------------------------------------------------------------------


def test_DISC_1_a_turn_of_several_replies_goes_as_one_email_with_the_disclosure_before_the_balance(sqlite_engine,
                                                                                                  mail_server):
    """The tester's Grace got 4 emails for one reply, the balance in one without "debt collector". Mutation tried:
    Couriers.deliver handing each reply to the courier on its own (no deliver_together) -> 4 emails, the
    balance's without the disclosure, fails."""
    now = datetime.now(timezone.utc)
    with session_scope(sqlite_engine) as session:
        debtor, account = add_debtor(session)
        conversation = conversations.get_or_create(session, "email", EMAIL)
        conversation.debtor_id, conversation.account_id, conversation.verified_at = debtor.id, account.id, now
        conversations.record_message(session, conversation, direction="in", sender_role="debtor", text="Grace Okafor",
                                     status="received", payload={"kind": "email_reply", "email": {
                                         "message_id": THEIR_ID, "subject": "Question", "references": ""}}, at=now)
        drafts = [Draft(debt_collector_disclosure("en")),
                  Draft("Your balance with Acme Bank (account ending 0001) is $1,234.56."),
                  Draft("What would you like to do next? You can say 'payment plan' or 'talk to a person'."),
                  Draft("Can we email you the notices?", payload={"buttons": [
                      {"title": "Yes, email them", "payload": "/esign_yes"},
                      {"title": "No, send them by post", "payload": "/esign_no"}]})]
        posted = outbox.post_replies(session, conversation, drafts, now=now)
    assert [p.status for p in posted] == ["sent"] * 4
    settings = settings_for(sqlite_engine, mail_server)
    asyncio.run(Couriers({"email": EmailCourier(sqlite_engine, settings)}).deliver(posted))
    [email] = emails_to_debtor(sqlite_engine)
    text = body(email).replace("\r\n", "\n")
    assert text.index("This is a debt collector. This is an attempt to collect a debt") \
        < text.index("$1,234.56") < text.index("What would you like to do next?")
    assert "1. Yes, email them\n2. No, send them by post" in text
    assert email["In-Reply-To"] == THEIR_ID and email["Subject"] == "Re: Question"
    out = [m for m in conversation_messages(sqlite_engine) if m.direction == "out"]
    assert {m.payload["email"]["message_id"] for m in out} == {email["Message-ID"]}  # each row names the email


def test_DISC_2_the_gateway_answers_one_email_with_one_email_whatever_the_turn_says(sqlite_engine, mail_server):
    """Through the real inbound route: a card number in the body gives two replies (the card warning, then the
    answer); they arrive as one email. Mutation tried: the same as above (no deliver_together) -> 2 emails, fails."""
    with app_for(sqlite_engine, mail_server) as client:
        answer = post_reply(client, reply("my card is 4242 4242 4242 4242, what do I owe?"))
    assert answer.json() == {"result": "stored", "replies": 2}
    [email] = emails_to_debtor(sqlite_engine)
    assert "card" in body(email) and UNAVAILABLE_REPLY in body(email)


# --- 3, 4: the debtor's words, whatever the mail app ----------------------------------------------------------------


def test_an_html_only_reply_is_read_as_its_text_without_scripts_styles_or_quoted_history(sqlite_engine, mail_server):
    """The tester's "3344" sent as a single text/html part got "Your message came through empty". Mutation tried:
    inbound.body_text reading the plain part only -> the stored text is empty and the empty-message answer goes,
    fails; _HtmlText skipping only <blockquote> -> the style and the script's words are read, fails."""
    html = ("<html><head><style>p { color: red }</style><script>alert('3344 hidden')</script></head><body>"
            "<div dir='ltr'>3344</div><div class='gmail_quote'>On Sun, Dec 6, 2026 Settle wrote:<br>"
            "<blockquote>What are the last 4 digits of your Social Security number?</blockquote></div></body></html>")
    with app_for(sqlite_engine, mail_server) as client:
        assert post_reply(client, reply(html=html)).status_code == 200
    assert inbound_texts(sqlite_engine) == ["[SSN last four]"]  # read as the answer; stored as its label (ID-2)
    assert all("came through empty" not in body(e) for e in emails_to_debtor(sqlite_engine))


def test_an_html_only_reply_posted_as_mailguns_fields_is_read_as_its_text(sqlite_engine, mail_server):
    """A Mailgun route without "mime" posts parsed fields: body-html alone when the reply had no text part.
    Mutation tried: _reply_from_fields reading body-plain only -> the stored text is empty, fails."""
    from bot.mail import server

    with app_for(sqlite_engine, mail_server) as client:
        form = {**server.signed_form(SECRET, EMAIL, b""), "from": EMAIL,
                "subject": "Re: Question", "Message-Id": THEIR_ID, "body-html": "<p>3344</p><script>x()</script>"}
        form.pop("body-mime")
        assert client.post("/webhooks/email/mailgun/inbound", data=form).status_code == 200
    assert inbound_texts(sqlite_engine) == ["[SSN last four]"]  # read as the answer; stored as its label (ID-2)


def test_a_reply_written_below_the_quote_is_read_as_the_debtors_words(sqlite_engine, mail_server):
    """The tester's Hana wrote "01/19/1999" under the quoted question and got "came through empty". Mutation tried:
    inbound.own_words stopping at the first quoted line (the old reading) -> the stored text is empty, fails."""
    with app_for(sqlite_engine, mail_server) as client:
        assert post_reply(client, reply(f"{QUOTE}\n01/19/1999\n\n-- \nHana Kim | Analyst | 404-555-0110\n")
                          ).status_code == 200
    assert inbound_texts(sqlite_engine) == ["[date of birth]"]  # read as the answer; stored as its label (ID-2)
    assert all("came through empty" not in body(e) for e in emails_to_debtor(sqlite_engine))


def test_the_debtors_words_are_kept_above_below_and_between_quotes_and_signatures_are_dropped():
    """Mutation tried: own_words without the signature rule (in_signature never set) -> the "--" block and the
    "Sent from my iPhone" line are taken for the debtor's words, fails."""
    assert inbound.own_words("What is my balance?\n\nThanks,\nGrace\nSent from my iPhone\n--\nGrace Okafor | "
                             "Senior Analyst | tel 404-555-0110\n") == "What is my balance?\n\nThanks,\nGrace"
    assert inbound.own_words("I can pay $50.\n\nOn Sun, Dec 6, 2026 at 11:08 PM Settle Services <\n"
                             "notices@settle.test> wrote:\n> How much?\n> Reply STOP\n\nOn Friday.\n> quoted\n"
                             ) == "I can pay $50.\n\n\nOn Friday."
    assert inbound.own_words("Thanks, got it.\n\n-----Original Message-----\nFrom: Settle\nSent: Sunday\n\n"
                             "This message is from a debt collector.") == "Thanks, got it."
    assert inbound.own_words("yes\n\nFrom: Settle Services <notices@settle.test>\nSent: Sunday\nTo: Jordan\n\n"
                             "Your balance is $10.00") == "yes"


# --- 5. OPT-3: an email opt-out says how emails really come back ---------------------------------------------------


def test_OPT_3_EMAIL_2_the_email_opt_out_never_offers_a_START_that_email_does_not_honour(sqlite_engine, mail_server):
    """README "Email": a START by email never opts back in (a From line is easy to forge); the confirmation said
    "Type START to resubscribe" and the answer to START "Type START if you want answers here again". Both now say
    START by email can't, and point to the support address every email's footer gives. Mutation tried:
    keywords._per_channel without email's own wording (the "other" channel's) -> "Type START" is in both, fails."""
    settings: Settings
    with app_for(sqlite_engine, mail_server) as client:
        settings = client.app.state.settings
        assert post_reply(client, reply("STOP")).status_code == 200
        assert post_reply(client, reply("START", message_id="<reply-two@example.com>")).status_code == 200
    confirmation, only_reply = (body(e) for e in emails_to_debtor(sqlite_engine))
    assert stop_reply("email") in confirmation and opted_out_reply("email") in only_reply
    for text in (confirmation, only_reply):
        assert "Replying START can't turn them back on" in text and "Type START" not in text
        # "the support address below" is really below (the email is bare, OPT-3: the address on its own line)
        assert text.index("support address below") < text.index(settings.support_contact)
    assert "no se" not in stop_reply("email", "es") and "START no los vuelve a activar" in stop_reply("email", "es")


def test_OPT_3_the_email_opt_out_confirmation_and_the_one_later_answer_carry_nothing_else(sqlite_engine,
                                                                                          mail_server):
    """Exploratory pass: the confirmation of "Please stop emailing me." came with the footer: "Questions? Reply to
    this email..." and "Don't want these emails? ... open this link: http://.../email/opt-out/...". OPT-3: one
    confirmation containing nothing else (no balance, no link). Both emails are now the words and the support
    address they point to. They are told by their kind (outbound_gate.OPT_OUT_ONLY), not their words. Mutations tried:
    `bare` not passed by EmailCourier -> the footer and its link are back: fails; the pipeline not marking the later
    answer OPT_OUT_ANSWER -> that email has the footer: fails."""
    with app_for(sqlite_engine, mail_server) as client:
        settings = client.app.state.settings
        assert post_reply(client, reply("Please stop emailing me.")).status_code == 200
        assert post_reply(client, reply("what do I owe?", message_id="<reply-two@example.com>")).status_code == 200
    confirmation, only_reply = emails_to_debtor(sqlite_engine)
    for email in (confirmation, only_reply):
        plain, html = body(email), email.get_body(("html",)).get_content()
        assert "http" not in plain and "href" not in html, plain
        assert "Questions?" not in plain and "Don't want these emails?" not in plain
        assert email["List-Unsubscribe"] is None
        assert settings.support_contact in plain and settings.support_contact in html
    assert stop_reply("email") in body(confirmation) and opted_out_reply("email") in body(only_reply)


# --- 6. ID-2: a copy of the chat carries no identity answer --------------------------------------------------------


def test_ID_2_REC_1_a_copy_of_the_chat_masks_the_identity_answers_and_still_checks_intact(sqlite_engine, mail_server):
    """The tester's copy said "You: 3/14/79", "You: 1234" and the account reference in clear: with them anyone
    holding the email passes verification. Mutation tried: transcript_copy.render without for_agent -> the copy
    holds 3/14/79, fails."""
    from bot.mail.transport import email_transport
    from bot.messaging import queue as outbound_queue

    now = NOON_LA  # TIME-1: the copy is an email like any other, sent between 8 AM and 9 PM in Los Angeles
    with session_scope(sqlite_engine) as session:
        debtor, account = add_debtor(session)
        debtor.email = EMAIL
        conversation = conversations.get_or_create(session, "web", "copy-identity")
        conversation.debtor_id, conversation.account_id, conversation.verified_at = debtor.id, account.id, now
        for direction, text, intent in (("in", "wat do i ow??", "ask_balance"),
                                        ("out", "What is your date of birth? For example: 03/14/1979.", None),
                                        ("in", "3/14/79", "inform_identity"),
                                        ("out", "Thanks. What are the last 4 digits of your SSN?", None),
                                        ("in", "1234", "inform_identity"),
                                        ("in", "my account is SET-100001", None),
                                        ("out", "Your balance with Acme Bank is $1,234.56.", None)):
            message = conversations.record_message(session, conversation, direction=direction,
                                                   sender_role="debtor" if direction == "in" else "bot", text=text,
                                                   status="received" if direction == "in" else "sent", at=now)
            message.intent = intent
        session.flush()
        conversation_id = conversation.id
    with session_scope(sqlite_engine) as session:
        transcript_copy.request_copy(session, session.get(Conversation, conversation_id), now)
    outbound_queue.process_due(sqlite_engine, email_transport(sqlite_engine, settings_for(sqlite_engine, mail_server)),
                               now=now)
    [email] = emails_to_debtor(sqlite_engine)
    text = body(email).replace("\r\n", "\n")
    assert "You: [date of birth]" in text and "You: [SSN last four]" in text
    assert "You: my account is [account number]" in text
    for secret in ("3/14/79", "You: 1234", "SET-100001"):
        assert secret not in text
    assert "Settle: Your balance with Acme Bank is $1,234.56." in text  # the bot's words are as said
    with session_scope(sqlite_engine) as session:
        assert transcript_copy.check(session, text).status == "intact"
        assert session.scalar(select(Message.text).where(Message.text == "3/14/79")) == "3/14/79"  # record unchanged


@pytest.mark.parametrize(("text", "language"), [
    ("Please stop emailing me.", "en"), ("Please stop emailing me.\n\nGrace", "en"), ("no more emails please", "en"),
    ("unsubscribe me", "en"), ("ya no me manden correos", "es"),
])
def test_OPT_2_OPT_3_a_short_email_asking_for_no_more_email_is_the_emails_stop(text, language):
    """OPT-2 ("any reasonable means"): the merged model read the tester's signed "Please stop emailing me." as a
    fallback, then a cease. By email such a reply is STOP, in its language, whatever the model reads. Mutation tried:
    the email check removed from keywords.classify; this failed."""
    from bot.compliance import keywords

    assert keywords.classify(text, "email") == keywords.STOP
    assert keywords.language_of(text, "email") == language


@pytest.mark.parametrize("text", ["stop emailing me about the debt I paid", "Please stop emailing me until Friday"])
def test_OPT_2_a_longer_email_about_emails_is_left_to_the_nlu(text):
    from bot.compliance import keywords

    assert keywords.classify(text, "email") is None
