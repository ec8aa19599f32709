"""Issue 17, notices: the validation notice as the document of 12 CFR 1006.34(c) (DISC-5) with its period counted
from sending (1006.34(b)(5)), E-SIGN consent before a required notice goes by email or else the print queue
(EMAIL-1, 1006.42), and "email me a copy" of a conversation with its check page (REC-1). Mail goes through a real
aiosmtpd server on loopback (tests/test_email.py's fixtures); pages through the real app."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta, timezone
from email import message_from_string, policy
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, select

from bot import conversations, wording
from bot.agents import queue as agent_queue
from bot.compliance import esign, validation_notice, validation_period
from bot.compliance.validation_period import business_days_after, is_business_day, legal_public_holidays
from bot.config import Settings
from bot.db import session_scope
from bot.db.models import (
    Account,
    Conversation,
    Debtor,
    EsignConsent,
    Handoff,
    MailboxMessage,
    Message,
    ScheduledMessage,
    TranscriptEntry,
)
from bot.gateway.pipeline import Pipeline
from bot.gateway.rasa_client import RasaTurn
from bot.mail import links
from bot.mail.transport import email_transport, outbound_transport
from bot.messaging import outbox
from bot.messaging import queue as outbound_queue
from bot.records import transcript_copy
from tests.conftest import add_debtor
from tests.test_email import (
    EMAIL,
    NOON_LA,
    answer_esign,
    app_client,
    audit_kinds,
    debtor_with_email,
    queue_notice,
    queued,
    settings_for,
)

LA = ZoneInfo("America/Los_Angeles")


# --- the validation period (1006.34(b)(5)) ----------------------------------------------------------------------


def test_DISC_5_legal_public_holidays_are_the_observed_days_of_5_USC_6103():
    """Mutation tried: _observed returning the day itself -> July 3, 2026 (July 4 is a Saturday) is missing, fails."""
    days = legal_public_holidays(2026)
    assert date(2026, 7, 3) in days and date(2026, 7, 4) not in days  # Saturday -> Friday before
    assert {date(2026, 1, 19), date(2026, 2, 16), date(2026, 5, 25), date(2026, 9, 7), date(2026, 10, 12),
            date(2026, 11, 26), date(2026, 12, 25), date(2026, 6, 19), date(2026, 11, 11), date(2026, 1, 1)} <= days
    assert len(days) == 11
    assert date(2021, 12, 31) in legal_public_holidays(2021)  # New Year's Day 2022 was a Saturday


def test_DISC_5_a_notice_sent_before_christmas_is_received_after_five_business_days_and_the_period_is_30_more():
    """Sent Wednesday December 23, 2026: Thursday 24, (Friday 25 is Christmas, then a weekend), Monday 28, Tuesday
    29, Wednesday 30, Thursday 31 -> received December 31; the period ends January 30, 2027, and is over at
    midnight Los Angeles time. Mutation tried: counting every calendar day (no is_business_day) -> December 28,
    fails."""
    period = validation_period.validation_period(datetime(2026, 12, 23, 18, 0, tzinfo=timezone.utc),
                                                 "America/Los_Angeles")
    assert (period.sent_on, period.received_on, period.ends_on) == (
        date(2026, 12, 23), date(2026, 12, 31), date(2027, 1, 30))
    assert period.ends_at == datetime(2027, 1, 31, 0, 0, tzinfo=LA)


@example(sent=datetime(2025, 2, 3, 5, 30, tzinfo=timezone.utc), zone="America/Chicago")  # Sunday 23:30, DST ahead
@settings(max_examples=300, deadline=None)
@given(sent=st.datetimes(min_value=datetime(2024, 1, 1), max_value=datetime(2031, 12, 31),
                         timezones=st.just(timezone.utc)),
       zone=st.sampled_from(["America/Los_Angeles", "America/New_York", "Pacific/Honolulu", "America/Chicago"]))
def test_DISC_5_property_receipt_is_exactly_five_business_days_later_and_the_period_ends_30_days_after(sent, zone):
    """For any send time: receipt is a business day with exactly five business days after the local send date up
    to it; the end date is receipt + 30; the instant the period is over is the start of the next local day.
    Mutation tried: RECEIPT_BUSINESS_DAYS = 4 -> the count assertion fails."""
    period = validation_period.validation_period(sent, zone)
    assert period.sent_on == sent.astimezone(ZoneInfo(zone)).date()
    assert is_business_day(period.received_on)
    between = [period.sent_on + timedelta(days=n) for n in range(1, (period.received_on - period.sent_on).days + 1)]
    assert sum(is_business_day(d) for d in between) == 5
    assert period.ends_on == period.received_on + timedelta(days=30)
    local_end = period.ends_at.astimezone(ZoneInfo(zone))
    assert local_end.date() == period.ends_on + timedelta(days=1) and (local_end.hour, local_end.minute) == (0, 0)
    # At least 5 + 30 calendar days to dispute. Counted in local dates, not elapsed time: a notice sent late on a
    # Sunday before the spring clock change ends 34 days 23:30 of elapsed time later, and that is the law's period.
    assert (period.ends_on - period.sent_on).days >= 35


@settings(max_examples=150, deadline=None)
@given(first=st.dates(min_value=date(2025, 1, 1), max_value=date(2030, 12, 31)), later=st.integers(0, 40))
def test_DISC_5_property_a_later_sending_never_ends_the_period_sooner(first, later):
    """A notice sent later never gets a shorter period. (No mutation of its own: the count is pinned by the two tests
    above; this guards the order of days.)"""
    assert business_days_after(first + timedelta(days=later), 5) >= business_days_after(first, 5)


# --- the validation notice as a document (1006.34(c)) -------------------------------------------------------------


def _send_notice(engine: Engine, smtp_url: str, now: datetime = NOON_LA) -> tuple[str, Any]:
    notice_id = queue_notice(engine, debtor_with_email(engine))
    summary = outbound_queue.process_due(engine, email_transport(engine, settings_for(engine, smtp_url)), now=now)
    assert summary.sent == 1
    with session_scope(engine) as session:
        raw = session.scalars(select(MailboxMessage.raw)).one()
    return notice_id, message_from_string(raw, policy=policy.default)


def test_DISC_5_the_validation_notice_email_carries_every_item_of_1006_34_c(sqlite_engine, mail_server):
    """What the debtor reads, in the text part and the HTML part. The account (tests/conftest.add_debtor): $1,209.56
    on the itemization date June 30, 2026, a $25.00 fee since, $1,234.56 now. Sent at noon on Wednesday December 2,
    2026 in Los Angeles: received Wednesday December 9, the period ends Friday January 8, 2027.
    Mutation tried: dropping the itemization table from validation_notice.txt -> the fee line is missing, fails."""
    _, email = _send_notice(sqlite_engine, mail_server)
    for part in (email.get_body(("plain",)).get_content(), email.get_body(("html",)).get_content()):
        for seen in ("Settle Services is a debt collector", "We are trying to collect a debt",  # (c)(1)
                     "PO Box 1000", "Springfield, IL 62701",  # the collector's mailing address
                     "Jordan Rivera", "ZIP 90210",  # the consumer's name and address
                     "Acme Bank", "ending 0001",  # the creditor and the account
                     "As of June 30, 2026, you owed", "$1,209.56",  # (c)(2)(vi)-(vii): itemization date, amount
                     "in interest", "$0.00", "in fees", "$25.00", "paid or were credited",  # (c)(2)(viii)
                     "Total amount of the debt now", "$1,234.56",  # (c)(2)(ix)
                     "by January 8, 2027",  # (c)(3): the end of the validation period
                     "dispute all or part of the debt", "we must stop collection",  # dispute prompts
                     "We accept disputes online", "http://testserver/",  # how to dispute, online too
                     "name and address of the original creditor",  # (c)(3)(v)
                     "www.cfpb.gov/debt-collection",  # (c)(3)(iv)
                     "How do you want to respond?", "This is not my debt", "The amount is wrong",  # (c)(4)
                     "This message is from a debt collector", "/notices/"):  # DISC-2; the printable copy
            assert seen in part, seen


def test_DISC_5_the_printable_notice_opens_from_its_signed_link_and_a_bad_link_shows_nothing(
        sqlite_engine, mail_server):
    """Mutation tried: document_routes.notice_page not checking the token's signature (notice_of returning the
    decoded id) -> the forged link shows the notice, fails."""
    notice_id, email = _send_notice(sqlite_engine, mail_server)
    url = links.notice_url("http://testserver", "test-link-secret", notice_id)
    assert url in email.get_body(("plain",)).get_content()
    with app_client(sqlite_engine, mail_server, mode="production") as client:  # no login, in production too
        page = client.get(url)
        assert page.status_code == 200
        for seen in ("Validation notice", "Print", "Acme Bank", "As of June 30, 2026, you owed", "$1,234.56",
                     "by January 8, 2027", "How do you want to respond?"):
            assert seen in page.text, seen
        assert "script" not in page.headers["content-security-policy"] or "'none'" in page.headers[
            "content-security-policy"]
        forged = f"{links.NOTICE_PATH}{links._token('another-secret', notice_id, links.NOTICE_PURPOSE)}"
        opt_out_token = links.opt_out_token("test-link-secret", EMAIL)  # a genuine token for another purpose
        for bad in (forged, f"{links.NOTICE_PATH}garbage", f"{links.NOTICE_PATH}{opt_out_token}"):
            response = client.get(bad)
            assert response.status_code == 400 and "This link doesn&#39;t work" in response.text
            assert "Acme Bank" not in response.text
        missing = client.get(links.notice_url("", "test-link-secret", "out_nosuchnotice"))
        assert missing.status_code == 404 and "Acme Bank" not in missing.text


def test_DISC_5_the_printable_notice_of_a_spanish_speaker_speaks_spanish_and_an_english_one_stays_english(
        sqlite_engine, mail_server):
    """Issue 23: the page around a notice that carries the Spanish one is in Spanish (its date spelled in Spanish),
    whatever the browser; an English-only notice stays English even for a Spanish browser; a broken link follows
    the browser. Mutation tried: notice_page ignoring the document's languages (the Spanish notice's page read
    "Validation notice" as its heading, failed)."""
    from html import unescape

    account_id = debtor_with_email(sqlite_engine)
    with session_scope(sqlite_engine) as session:
        session.get(Account, account_id).debtor.language = "es"
    spanish_id = queue_notice(sqlite_engine, account_id)
    outbound_queue.process_due(sqlite_engine, email_transport(sqlite_engine, settings_for(sqlite_engine, mail_server)),
                               now=NOON_LA)
    spanish_browser = {"Accept-Language": "es-US,es;q=0.9"}
    with app_client(sqlite_engine, mail_server, mode="production") as client:
        page = client.get(links.notice_url("", "test-link-secret", spanish_id), headers={"Accept-Language": "en"})
        shown = unescape(page.text)
        assert page.status_code == 200 and '<html lang="es">' in shown
        assert "<h1>Aviso de validación</h1>" in shown and "Este es el aviso que le mandamos el 2 de diciembre" in shown
        assert "This is the notice we sent you" not in shown
        broken = client.get(f"{links.NOTICE_PATH}garbage", headers=spanish_browser)
        assert broken.status_code == 400 and "Este enlace no funciona" in broken.text
        missing = client.get(links.notice_url("", "test-link-secret", "out_nosuchnotice"), headers=spanish_browser)
        assert missing.status_code == 404 and "No encontramos este aviso" in missing.text


def test_DISC_5_an_english_notice_page_stays_english_for_a_spanish_browser(sqlite_engine, mail_server):
    from html import unescape

    english_id, _ = _send_notice(sqlite_engine, mail_server)
    with app_client(sqlite_engine, mail_server, mode="production") as client:
        page = client.get(links.notice_url("", "test-link-secret", english_id), headers={"Accept-Language": "es"})
        shown = unescape(page.text)
        assert '<html lang="en">' in shown and "<h1>Validation notice</h1>" in shown
        assert "This is the notice we sent you on" in shown and "Este es el aviso" not in shown


def test_DISC_5_the_period_counts_from_when_the_notice_really_goes_and_the_system_uses_the_date_it_shows(
        sqlite_engine, mail_server):
    """Queued at 22:00 in Los Angeles on Wednesday December 2 (outside TIME-1), it goes at 08:00 on Thursday
    December 3: received Thursday December 10, the period ends January 9, 2027, and that is the date DSP-2/DSP-3
    read. Mutation tried: the queue not calling notice_document.prepare -> the email says January 8, fails."""
    late = datetime(2026, 12, 3, 6, 0, tzinfo=timezone.utc)  # 22:00 on December 2 in Los Angeles
    notice_id = queue_notice(sqlite_engine, debtor_with_email(sqlite_engine), now=late)
    transport = email_transport(sqlite_engine, settings_for(sqlite_engine, mail_server))
    assert outbound_queue.process_due(sqlite_engine, transport, now=late).deferred == 1  # TIME-1
    morning = datetime(2026, 12, 3, 16, 0, tzinfo=timezone.utc)  # 08:00 in Los Angeles
    assert outbound_queue.process_due(sqlite_engine, transport, now=morning).sent == 1
    with session_scope(sqlite_engine) as session:
        raw = session.scalars(select(MailboxMessage.raw)).one()
        account = session.scalars(select(Account)).one()
        ends_at = account.validation_period_ends_at
    text = message_from_string(raw, policy=policy.default).get_body(("plain",)).get_content()
    assert "by January 9, 2027" in text and "January 8" not in text
    assert ends_at == validation_period.validation_period(morning, "America/Los_Angeles").ends_at
    assert ends_at == datetime(2027, 1, 10, 0, 0, tzinfo=LA)
    assert queued(sqlite_engine, notice_id).document["ends_on"] == "2027-01-09"


@pytest.mark.parametrize("change", ["no_itemization", "does_not_add_up"])
def test_DISC_5_a_notice_that_cannot_be_written_truthfully_is_held_never_sent(sqlite_engine, mail_server, change):
    """No itemization on file, or a balance the itemization does not explain (higher than the amount then plus
    interest and fees): the notice is held with DISC-5 and its reason; nothing reaches the mail server.
    Mutation tried: removing the `paid_or_credited < 0` check in notice_document.build -> the notice goes with a
    negative payment line, fails."""
    account_id = debtor_with_email(sqlite_engine)
    with session_scope(sqlite_engine) as session:
        account = session.get(Account, account_id)
        if change == "no_itemization":
            account.itemization_date = account.itemization_cents = None
        else:
            account.itemization_cents, account.fees_since_cents = 100000, 0  # $1,000.00 then, $1,234.56 now
    notice_id = queue_notice(sqlite_engine, account_id)
    summary = outbound_queue.process_due(sqlite_engine, email_transport(sqlite_engine, settings_for(
        sqlite_engine, mail_server)), now=NOON_LA)
    assert (summary.sent, summary.blocked) == (0, 1)
    message = queued(sqlite_engine, notice_id)
    assert (message.status, message.rule_ids) == ("blocked", ["DISC-5"])
    assert ("itemization" in message.reason)
    with session_scope(sqlite_engine) as session:
        assert session.scalars(select(MailboxMessage)).all() == []


# --- E-SIGN consent or the print queue (EMAIL-1, 1006.42) -----------------------------------------------------------


def _mailbox(engine: Engine) -> list[MailboxMessage]:
    with session_scope(engine) as session:
        rows = session.scalars(select(MailboxMessage)).all()
        session.expunge_all()
        return list(rows)


def test_EMAIL_1_the_yes_is_stored_word_for_word_and_the_notice_then_goes_by_email(sqlite_engine, mail_server):
    """Mutation tried: esign.answer storing the payload ("yes") instead of the button's words -> fails."""
    with session_scope(sqlite_engine) as session:
        debtor, account = add_debtor(session)
        debtor.email = EMAIL
        account_id = account.id
    notice_id = queue_notice(sqlite_engine, account_id)
    with session_scope(sqlite_engine) as session:
        reply = answer_esign(session, session.get(Account, account_id), "yes", title="Yes, email them")
    assert reply == ["Thanks. We'll email your notices to j***@example.com. You can also say 'email me a copy' to "
                     "get this chat by email."]
    with session_scope(sqlite_engine) as session:
        consent = session.scalars(select(EsignConsent)).one()
        assert consent.consented and consent.answer == "Yes, email them" and consent.at == NOON_LA
        assert consent.question == esign.QUESTION.format(address="j***@example.com")
        assert "notices the law says we must send" in consent.question and consent.address == EMAIL
    assert ("esign_consent_given", "EMAIL-1") in audit_kinds(sqlite_engine)
    outbound_queue.process_due(sqlite_engine, email_transport(sqlite_engine, settings_for(
        sqlite_engine, mail_server)), now=NOON_LA)
    assert queued(sqlite_engine, notice_id).status == "sent" and len(_mailbox(sqlite_engine)) == 1


def test_EMAIL_1_without_consent_the_notice_waits_for_the_answer_then_goes_to_the_print_queue_never_sent(
        sqlite_engine, mail_server):
    """No answer to the question: the notice waits an hour (ANSWER_WAIT), then goes by post: the print queue, never
    "sent", nothing in the mailbox, and the agent console says so. Mutation tried: outbound_gate.check_initiated
    without the esign.gate call -> the notice is emailed, fails."""
    notice_id = queue_notice(sqlite_engine, debtor_with_email(sqlite_engine, consent=False))
    transport = email_transport(sqlite_engine, settings_for(sqlite_engine, mail_server))
    waiting = outbound_queue.process_due(sqlite_engine, transport, now=NOON_LA)
    assert (waiting.sent, waiting.deferred) == (0, 1)
    message = queued(sqlite_engine, notice_id)
    assert message.rule_ids == ["EMAIL-1"] and message.not_before == NOON_LA + esign.ANSWER_WAIT
    later = outbound_queue.process_due(sqlite_engine, transport, now=NOON_LA + esign.ANSWER_WAIT)
    assert (later.sent, later.queued_for_post) == (0, 1)
    message = queued(sqlite_engine, notice_id)
    assert (message.status, message.channel, message.sent_at) == ("queued_for_post", "mail", None)
    assert message.address == "Jordan Rivera, 90210" and "print-and-mail" in message.reason
    assert _mailbox(sqlite_engine) == []
    kinds = audit_kinds(sqlite_engine)
    assert ("outbound_rerouted", "EMAIL-1") in kinds and ("outbound_queued_for_post", "EMAIL-1") in kinds
    with session_scope(sqlite_engine) as session:
        conversation = conversations.get_or_create(session, "web", "console-view")
        conversation.debtor_id = session.scalars(select(Debtor.id)).one()
        handoff = Handoff(conversation_id=conversation.id, reason="asked_for_person")
        session.add(handoff)
        session.flush()
        [view] = agent_queue.account_panel(session, handoff).accounts
    assert view.notices[0]["channel"] == "post"
    assert view.notices[0]["status"] == "queued for a print-and-mail provider (not sent)"


def test_EMAIL_1_a_no_sends_the_notice_to_the_print_queue_at_once(sqlite_engine, mail_server):
    """Mutation tried: esign.answer not moving not_before to now -> the notice still waits, fails."""
    with session_scope(sqlite_engine) as session:
        debtor, account = add_debtor(session)
        debtor.email, debtor.postal_address = EMAIL, "1 Main St\nBeverly Hills, CA 90210"
        account_id = account.id
    notice_id = queue_notice(sqlite_engine, account_id)
    transport = email_transport(sqlite_engine, settings_for(sqlite_engine, mail_server))
    assert outbound_queue.process_due(sqlite_engine, transport, now=NOON_LA).deferred == 1  # waits for the answer
    answered = NOON_LA + timedelta(minutes=10)
    with session_scope(sqlite_engine) as session:
        assert answer_esign(session, session.get(Account, account_id), "no", title="No, send them by post",
                            now=answered) == [esign.DECLINED_REPLY]
        assert not session.scalars(select(EsignConsent)).one().consented
    summary = outbound_queue.process_due(sqlite_engine, transport, now=answered)
    assert summary.queued_for_post == 1
    message = queued(sqlite_engine, notice_id)
    assert (message.status, message.address) == ("queued_for_post",
                                                 "Jordan Rivera; 1 Main St; Beverly Hills, CA 90210")
    assert message.document["consumer_address"] == ["1 Main St", "Beverly Hills, CA 90210"]


def test_EMAIL_1_a_debtor_without_email_gets_the_notice_by_post_and_the_jobs_never_record_it_as_sent(
        sqlite_engine):
    """The "mail" channel used to be recorded as sent by the local outbox. Mutation tried: removing the MAIL
    branch in queue._decide -> the jobs' transport records the letter as a sent message, fails."""
    with session_scope(sqlite_engine) as session:
        _, account = add_debtor(session)
        account_id = account.id
    notice_id = queue_notice(sqlite_engine, account_id)
    settings = settings_for(sqlite_engine, "")
    summary = outbound_queue.process_due(sqlite_engine, outbound_transport(sqlite_engine, settings), now=NOON_LA)
    assert (summary.sent, summary.queued_for_post) == (0, 1)
    message = queued(sqlite_engine, notice_id)
    assert (message.channel, message.status, message.sent_at) == ("mail", "queued_for_post", None)
    with session_scope(sqlite_engine) as session:
        assert session.scalars(select(Message).where(Message.direction == "out")).all() == []


class FormRasa:
    """A Rasa whose turns are scripted: (reply, the form still active after it)."""

    def __init__(self, turns: list[tuple[dict[str, Any], str | None]]) -> None:
        self.turns = turns

    async def send(self, conversation_id, text, metadata, message_id=None) -> RasaTurn:
        reply, active_loop = self.turns.pop(0)
        return RasaTurn([reply], "inform", 0.9, active_loop=active_loop)


async def test_EMAIL_1_the_question_waits_until_a_form_or_a_choice_is_done(sqlite_engine, sqlite_url):
    """Mid-form, or after options offered as buttons, the debtor's next "1" or "YES" belongs to the form: the
    E-SIGN question (itself answered by a yes) comes only at the end of a turn that asks nothing else.
    Mutation tried: asking whatever the turn's form -> the plan terms' turn ends with the question, fails."""
    account_id = debtor_with_email(sqlite_engine, consent=False)
    queue_notice(sqlite_engine, account_id)
    with session_scope(sqlite_engine) as session:
        conversation = conversations.get_or_create(session, "web", "mid-form")
        account = session.get(Account, account_id)
        conversation.debtor_id, conversation.account_id, conversation.verified_at = (
            account.debtor_id, account.id, datetime.now(timezone.utc))
    options = {"text": "Here are your options.", "buttons": [{"title": "3 payments", "payload": "1"}]}
    rasa = FormRasa([(options, None), ({"text": "Reply YES to agree to these terms."}, "plan_form"),
                     ({"text": "Your plan PLN-ABC123 is set up."}, None)])
    pipeline = Pipeline(sqlite_engine, rasa=rasa, settings=Settings(database_url=sqlite_url))
    said = [[p.text for p in (await pipeline.handle("web", "mid-form", text)).sent] for text in ("a plan", "1", "YES")]
    assert said[0] == ["Here are your options."] and said[1] == ["Reply YES to agree to these terms."]
    assert said[2][0] == "Your plan PLN-ABC123 is set up." and esign.QUESTION_MARK in said[2][1]
    with session_scope(sqlite_engine) as session:
        assert session.scalars(select(EsignConsent)).all() == []  # the plan's YES was never taken for consent


def test_EMAIL_1_the_question_is_asked_once_to_a_verified_debtor_with_a_notice_waiting(sqlite_engine):
    """Mutation tried: question_due without the "asked in this conversation" check -> asked twice, fails."""
    account_id = debtor_with_email(sqlite_engine, consent=False)
    queue_notice(sqlite_engine, account_id)
    with session_scope(sqlite_engine) as session:
        conversation = conversations.get_or_create(session, "web", "ask-once")
        conversation.debtor_id = session.get(Account, account_id).debtor_id
        assert esign.question_due(session, conversation) is None  # not verified: nothing about notices
        conversation.verified_at = NOON_LA
        question = esign.question_due(session, conversation)
        assert question["text"].startswith("Can we email you the notices the law says we must send")
        assert "j***@example.com" in question["text"] and EMAIL not in question["text"]
        assert [b["title"] for b in question["buttons"]] == ["Yes, email them", "No, send them by post"]
        conversations.record_message(session, conversation, direction="out", sender_role="bot",
                                     text=question["text"], status="sent", at=NOON_LA)
        assert esign.question_due(session, conversation) is None


# --- "email me a copy" and its check (REC-1) ----------------------------------------------------------------------


def _chat(engine: Engine, verified: bool = True, email: str | None = EMAIL) -> str:
    with session_scope(engine) as session:
        debtor, account = add_debtor(session)
        debtor.email = email
        conversation = conversations.get_or_create(session, "web", "copy-chat")
        conversation.debtor_id, conversation.account_id = debtor.id, account.id
        conversation.verified_at = NOON_LA if verified else None
        for direction, role, text in (("in", "debtor", "what do I owe?"),
                                      ("out", "bot", "Your balance with Acme Bank is $1,234.56.\nWhat next?"),
                                      ("in", "debtor", "email me a copy")):
            conversations.record_message(session, conversation, direction=direction, sender_role=role, text=text,
                                         status="sent" if direction == "out" else "received", at=NOON_LA)
        conversations.record_message(session, conversation, direction="out", sender_role="bot", text="held",
                                     status="blocked", at=NOON_LA)
        return conversation.id


def _ask(engine: Engine, conversation_id: str) -> list[str]:
    with session_scope(engine) as session:
        return transcript_copy.request_copy(session, session.get(Conversation, conversation_id), NOON_LA)


def test_REC_1_email_me_a_copy_is_recognised_as_typed_or_from_the_button():
    for text in ("email me a copy", "Email me a copy.", "please e-mail me a copy of this chat", "send me a copy"):
        assert transcript_copy.asks_for_copy(text), text
    for text in ("can you email me", "copy", "email me a copy of my bank statement from 2019"):
        assert not transcript_copy.asks_for_copy(text), text


def test_REC_1_the_copy_is_emailed_with_the_chain_head_and_checks_intact_then_altered_after_one_character(
        sqlite_engine, mail_server):
    """Mutation tried: transcript_copy.check without the line comparison (chain head only) -> the copy with one
    changed character checks intact, fails."""
    conversation_id = _chat(sqlite_engine)
    assert _ask(sqlite_engine, conversation_id) == [transcript_copy.SENT_REPLY.format(address="j***@example.com")]
    summary = outbound_queue.process_due(sqlite_engine, email_transport(sqlite_engine, settings_for(
        sqlite_engine, mail_server)), now=NOON_LA)
    assert summary.sent == 1
    [kept] = _mailbox(sqlite_engine)
    email = message_from_string(kept.raw, policy=policy.default)
    assert email["Subject"] == "A copy of your chat with us"
    text = email.get_body(("plain",)).get_content()
    entries, head = re.search(r"Entries: (\d+)\r?\nChain head: ([0-9a-f]{64})", text).groups()
    with session_scope(sqlite_engine) as session:
        # The copy covers the record up to the request; the request's own audit event comes right after it.
        chain = {e.seq: e for e in session.scalars(select(TranscriptEntry).where(
            TranscriptEntry.conversation_id == conversation_id))}
        assert chain[int(entries)].hash == head and chain[int(entries) + 1].kind == "event"
    assert "You: what do I owe?" in text and "Settle: Your balance with Acme Bank is $1,234.56." in text
    assert "    What next?" in text and "held" not in text.split(transcript_copy.END)[0]  # blocked: never shown
    assert "http://testserver/transcripts/check" in text
    assert "This message is from a debt collector" in text  # DISC-2 on the covering words, not in the copy
    with session_scope(sqlite_engine) as session:
        assert transcript_copy.check(session, text).status == "intact"
        html = email.get_body(("html",)).get_content()
        assert transcript_copy.BEGIN in html
        altered = text.replace("what do I owe?", "what do I owe!")
        assert transcript_copy.check(session, altered).status == "altered"
        forged_head = re.sub(r"Chain head: ([0-9a-f])", lambda m: "Chain head: " + ("a" if m.group(1) != "a"
                                                                                      else "b"), text, count=1)
        assert transcript_copy.check(session, forged_head).status == "altered"
        with pytest.raises(transcript_copy.NotACopy):
            transcript_copy.check(session, "hello")


def test_REC_1_a_copy_emailed_before_the_rendering_changed_still_checks_intact_and_one_changed_character_does_not(
        sqlite_engine, mail_server):
    """A chat copy emailed before the debtor's own lines were masked in copies checked as "altered": the check
    rendered the record again with today's masking, and told the debtor their true copy had been changed. The copy
    we queued is kept word for word with its email; a copy matching it, with the record's chain head, is intact.
    Mutation tried: check without the _sent_copies fallback -> the older copy is "altered": fails."""
    conversation_id = _chat(sqlite_engine)
    _ask(sqlite_engine, conversation_id)
    with session_scope(sqlite_engine) as session:
        queued = session.scalars(select(ScheduledMessage).where(ScheduledMessage.kind == transcript_copy.KIND)).one()
        current = queued.document["transcript"]
        # How an older Settle rendered the same record: a line the masking now shows otherwise.
        older = current.replace("You: what do I owe?", "You: What do I owe?")
        assert older != current
        queued.document = {**queued.document, "transcript": older}
    with session_scope(sqlite_engine) as session:
        assert transcript_copy.check(session, f"> {older}".replace("\n", "\n> ")).status == "intact"
        assert transcript_copy.check(session, current).status == "intact"
        assert transcript_copy.check(session, older.replace("Acme Bank", "Acme Bonk")).status == "altered"


def test_REC_1_the_check_page_says_intact_altered_or_asks_for_the_whole_copy(sqlite_engine, mail_server):
    """The page anyone can use, paste or upload. Mutation tried: the POST handler answering intact for a copy whose
    check is altered (ignoring result.status in the template) -> "Altered" is missing, fails."""
    conversation_id = _chat(sqlite_engine)
    _ask(sqlite_engine, conversation_id)
    outbound_queue.process_due(sqlite_engine, email_transport(sqlite_engine, settings_for(
        sqlite_engine, mail_server)), now=NOON_LA)
    [kept] = _mailbox(sqlite_engine)
    text = message_from_string(kept.raw, policy=policy.default).get_body(("plain",)).get_content()
    with app_client(sqlite_engine, mail_server, mode="production") as client:
        assert "Paste the copy" in client.get("/transcripts/check").text
        intact = client.post("/transcripts/check", data={"copy": text})
        assert intact.status_code == 200 and "Intact: this copy matches our record." in intact.text
        assert "Acme Bank" not in intact.text  # the page shows nothing of the record
        altered = client.post("/transcripts/check", data={"copy": text.replace("$1,234.56", "$1,234.50")})
        assert altered.status_code == 200 and "Altered: this copy does not match our record." in altered.text
        upload = client.post("/transcripts/check", files={"file": ("copy.eml", kept.raw.encode(), "message/rfc822")})
        assert upload.status_code == 200 and "Intact" in upload.text
        nothing = client.post("/transcripts/check", data={"copy": "hello"})
        assert nothing.status_code == 400 and "couldn&#39;t find a copy" in nothing.text
        huge = client.post("/transcripts/check", data={"copy": "x" * (transcript_copy.MAX_COPY_CHARS + 1)})
        assert huge.status_code == 413
        # Issue 23: in the browser's language (never the record's: the page says nothing of it); English stays.
        assert re.search(r"Line \d+ of the copy differs from the record\.", altered.text)
        spanish = {"Accept-Language": "es-US,es;q=0.9"}
        page = client.get("/transcripts/check", headers=spanish)
        assert '<html lang="es">' in page.text and "Pegue la copia" in page.text and "Paste the copy" not in page.text
        intact = client.post("/transcripts/check", data={"copy": text}, headers=spanish)
        assert "Intacta: esta copia es igual a nuestro registro." in intact.text and "Intact:" not in intact.text
        altered = client.post("/transcripts/check", data={"copy": text.replace("$1,234.56", "$1,234.50")},
                              headers=spanish)
        assert re.search(r"Cambiada: .*La línea \d+ de la copia no es igual al registro\.", altered.text, re.S)
        nothing = client.post("/transcripts/check", data={"copy": "hello"}, headers=spanish)
        assert "No encontramos una copia en lo que pegó." in nothing.text


@pytest.mark.parametrize("verified,email,reply", [
    (False, EMAIL, transcript_copy.NOT_VERIFIED_REPLY),
    (True, None, transcript_copy.NO_EMAIL_REPLY),
])
def test_REC_1_ID_1_no_copy_before_verification_or_without_an_address(sqlite_engine, verified, email, reply):
    """Mutation tried: request_copy without the verified_at check -> the unverified chat is queued, fails."""
    conversation_id = _chat(sqlite_engine, verified=verified, email=email)
    assert _ask(sqlite_engine, conversation_id) == [reply]
    with session_scope(sqlite_engine) as session:
        assert session.scalars(select(ScheduledMessage)).all() == []


def test_FREQ_1_REC_1_the_copy_the_debtor_asked_for_is_not_held_by_the_daily_cap_nor_counted_in_it(
        sqlite_engine, mail_server):
    """The validation notice went today (the default cap: one unsolicited email a local day); the copy asked for in
    the chat still goes, and a reminder after it is still the one capped. Mutation tried: dropping
    `message.kind not in REQUESTED_KINDS` from check_initiated -> the copy waits until tomorrow (FREQ-1), fails."""
    conversation_id = _chat(sqlite_engine)
    with session_scope(sqlite_engine) as session:
        account = session.scalars(select(Account)).one()
        conversation = session.get(Conversation, conversation_id)
        validation_notice.queue_if_first_contact(session, account, conversation_id, NOON_LA)
        answer_esign(session, account, "yes", title="Yes, email them")
        transcript_copy.request_copy(session, conversation, NOON_LA)
    transport = email_transport(sqlite_engine, settings_for(sqlite_engine, mail_server))
    assert outbound_queue.process_due(sqlite_engine, transport, now=NOON_LA).sent == 2
    with session_scope(sqlite_engine) as session:
        kinds = {m.kind: m.status for m in session.scalars(select(ScheduledMessage))}
        reminder = outbox.schedule(session, account_id=account.id, channel="email", address=EMAIL, kind="reminder",
                                   text="A reminder about your account.", not_before=NOON_LA)
        reminder_id = reminder.id
    assert kinds == {"validation_notice": "sent", "transcript_copy": "sent"}
    assert outbound_queue.process_due(sqlite_engine, transport, now=NOON_LA).deferred == 1
    assert queued(sqlite_engine, reminder_id).rule_ids == ["FREQ-1"]


def test_DISC_5_a_spanish_speaking_debtor_gets_the_spanish_notice_with_the_english_one(sqlite_engine, mail_server):
    """1006.34(d)(3)(vi)(B): the complete Spanish notice goes in the same email as the English one, same facts,
    dates in Spanish; the English stays whole. Mutation tried: `languages` always ["en"] in notice_document.build
    (no Spanish in the email: fails)."""
    account_id = debtor_with_email(sqlite_engine)
    with session_scope(sqlite_engine) as session:
        session.get(Account, account_id).debtor.language = "es"
    queue_notice(sqlite_engine, account_id)
    summary = outbound_queue.process_due(
        sqlite_engine, email_transport(sqlite_engine, settings_for(sqlite_engine, mail_server)), now=NOON_LA)
    assert summary.sent == 1
    with session_scope(sqlite_engine) as session:
        email = message_from_string(session.scalars(select(MailboxMessage.raw)).one(), policy=policy.default)
        sent = session.scalars(select(ScheduledMessage).where(ScheduledMessage.kind == "validation_notice")).one()
        assert sent.document["languages"] == ["en", "es"]
        assert "Validation notice." in sent.text and "Aviso de validación." in sent.text
    for part in (email.get_body(("plain",)).get_content(), email.get_body(("html",)).get_content()):
        english, _, spanish = part.partition("AVISO EN ESPAÑOL")
        assert "How can you dispute the debt?" in english and "by January 8, 2027" in english
        for seen in ("Settle Services es un cobrador de deudas", "Acme Bank", "termina en 0001",
                     "Al 30 de junio de 2026, usted debía", "$1,209.56", "$25.00", "$1,234.56",
                     "¿Cómo puede impugnar la deuda?", "a más tardar el 8 de enero de 2027",
                     "acreedor original", "www.cfpb.gov/debt-collection", "¿Cómo quiere responder?",
                     "Esta deuda no es mía", "La cantidad está mal"):
            assert seen in spanish, seen


@pytest.mark.parametrize(("channel", "typed", "consented", "answer"), [
    ("sms", "1", True, "1 (Yes, email them)"), ("web", "1", True, "1 (Yes, email them)"),
    ("sms", "2", False, "2 (No, send them by post)"), ("sms", "yes", True, "yes"),
])
async def test_EMAIL_1_a_digit_picking_a_button_of_the_question_answers_it(sqlite_engine, sqlite_url, channel, typed,
                                                                           consented, answer):
    """Exploratory tester (demo phone, REST): "1" at "1. Yes, email them / 2. No, send them by post" got "OK. What
    would you like to do?" and no consent was stored: the digit picked the button (pipeline._choice) but the answer
    was read from the typed "1", which is no yes. The picked button now answers, stored with the digit and the
    button's words. Mutation tried: esign.answer called without `picked` -> Rasa gets the turn, nothing stored:
    fails."""
    account_id = debtor_with_email(sqlite_engine, consent=False)
    queue_notice(sqlite_engine, account_id)
    with session_scope(sqlite_engine) as session:
        conversation = conversations.get_or_create(session, channel, "+15555550125")
        account = session.get(Account, account_id)
        conversation.debtor_id, conversation.account_id, conversation.verified_at = (
            account.debtor_id, account.id, datetime.now(timezone.utc))
    rasa = FormRasa([({"text": "Your balance is $1,234.56."}, None)])  # one Rasa turn only: the answer takes none
    pipeline = Pipeline(sqlite_engine, rasa=rasa, settings=Settings(database_url=sqlite_url))
    first = [p.text for p in (await pipeline.handle(channel, "+15555550125", "what do I owe")).sent]
    assert esign.QUESTION_MARK in first[-1]
    said = [p.text for p in (await pipeline.handle(channel, "+15555550125", typed)).sent]
    expected = "esign_consented" if consented else "esign_declined"
    assert said[0] == wording.say(expected, address=esign.masked(EMAIL)) if consented else wording.say(expected)
    with session_scope(sqlite_engine) as session:
        consent = session.scalars(select(EsignConsent)).one()
        assert (consent.consented, consent.answer) == (consented, answer)
