"""Issue 17: EMAIL-1 for PLAN-3's pre-debit notice and the safe harbour of 1006.42(b)/1006.6(d)(4)(i)(A) for both
required notices. A notice sent electronically needs E-SIGN consent for that address (given in the chat, or by the
box on the payment-done page when autopay is set up on the web) or an address the debtor used to write to us; a text
is an electronic disclosure too. Without either, a PLAN-3 notice goes by text to a number the debtor texted from, or
cannot be given, and then the debit it gates does not run. Real SMTP server (mail_server), real gateway and Stripe
stand-in over HTTP (pay_env)."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import httpx
import pytest
from sqlalchemy import Engine, select

from bot import contact_preferences
from bot.compliance import esign
from bot.db import session_scope
from bot.db.models import (
    Account,
    ContactPreference,
    Conversation,
    DebitNotice,
    Debtor,
    EsignConsent,
    MailboxMessage,
    Payment,
    Plan,
    ScheduledMessage,
)
from bot.local_dates import debtor_today
from bot.mail.transport import outbound_transport
from bot.messaging import outbox
from bot.messaging import queue as outbound_queue
from bot.payments import autopay
from tests.conftest import add_debtor
from tests.payments_helpers import add_plan, link_for, pay_env_fixture, verified_debtor  # noqa: F401 - pay_env
from tests.test_email import EMAIL, NOON_LA, audit_kinds, queue_notice, queued, settings_for
from tests.test_payments_autopay import AMOUNT, at, installment, intents_for, texted_us

NOTICE_WORDS = "from your Visa card ending 4242"


def _mailbox(engine: Engine) -> list[MailboxMessage]:
    with session_scope(engine) as session:
        rows = list(session.scalars(select(MailboxMessage)))
        session.expunge_all()
        return rows


def _autopay_on_the_web(env, email: str | None) -> tuple[str, str, str, list, str]:
    """A debtor (with `email`) pays a 3-payment plan's first payment on the web and chooses autopay: (conversation
    id, account id, plan id, due dates, Checkout Session id)."""
    conversation_id, account_id = verified_debtor(env.engine, balance_cents=3 * AMOUNT)
    with session_scope(env.engine) as session:
        session.get(Debtor, session.get(Account, account_id).debtor_id).email = email
    today = debtor_today(None, datetime.now(timezone.utc)) - timedelta(days=1)  # as with_autopay
    plan_id = add_plan(env.engine, conversation_id, account_id, [AMOUNT] * 3, today)
    checkout = env.checkout(link_for(env, conversation_id, "installment"))
    assert env.pay(checkout, fields={"autopay": "yes"})["kind"] == "succeeded"
    with session_scope(env.engine) as session:
        dues = [i.due_date for i in session.get(Plan, plan_id).installments]
    return conversation_id, account_id, plan_id, dues, checkout


def _run_until(env, transport, first_day: date, last_day: date) -> list[dict[str, int]]:
    """The daily scheduler (PLAN-3 notices and charges) and the queue, each day from `first_day` to `last_day`."""
    outcomes, day = [], first_day
    while day <= last_day:
        outcomes.append(autopay.charge_due(env.engine, env.client, env.settings, now=at(day)).outcomes)
        outbound_queue.process_due(env.engine, transport, now=at(day))
        day += timedelta(days=1)
    return outcomes


def _notice(env, plan_id: str) -> ScheduledMessage:
    second = installment(env, plan_id, 2)
    with session_scope(env.engine) as session:
        notice = session.scalars(select(DebitNotice).where(DebitNotice.installment_id == second.id)).one()
        message = session.get(ScheduledMessage, notice.scheduled_message_id)
        session.expunge(message)
        return message


@pytest.mark.parametrize("ticked", [True, False], ids=["box_ticked", "box_left_empty"])
def test_EMAIL_1_PLAN_3_autopay_set_up_on_the_web_ticked_box_gets_the_notice_by_email_else_by_text(
        pay_env, mail_server, sqlite_engine, ticked):
    """The payment-done page of a payment that set up autopay offers the E-SIGN box; its exact words and the choice
    are stored like the chat's answer. Ticked: the PLAN-3 notice goes by email through the real SMTP server and the
    debit runs. Left empty, with a phone the debtor texted us from: by text, never by email, and the debit runs.
    Mutation tried: esign.may_deliver ignoring the consent (only the safe harbour) -> the ticked case goes by text,
    fails; autopay_authorisation.record_esign storing WEB_TICKED whatever the box said -> the empty case emails it,
    fails."""
    conversation_id, account_id, plan_id, dues, checkout = _autopay_on_the_web(pay_env, EMAIL)
    phone = texted_us(pay_env.engine, account_id)
    done = httpx.get(f"{pay_env.gateway.url}/pay/done", params={"session_id": checkout}, timeout=30)
    words = esign.WEB_CHECKBOX.format(address="j***@example.com")
    assert done.status_code == 200 and 'type="checkbox" name="esign"' in done.text
    assert words.replace("'", "&#x27;") in done.text or words in done.text
    assert httpx.post(f"{pay_env.gateway.url}/pay/notices", data={"session_id": "cs_forged"},
                      timeout=30).status_code == 404
    form = {"session_id": checkout, **({"esign": "yes"} if ticked else {})}
    saved = httpx.post(f"{pay_env.gateway.url}/pay/notices", data=form, timeout=30)
    assert saved.status_code == 200 and "Saved" in saved.text
    with session_scope(pay_env.engine) as session:
        consent = session.scalars(select(EsignConsent)).one()
        assert (consent.via, consent.question, consent.consented, consent.address) == ("web", words, ticked, EMAIL)
        assert consent.answer == (esign.WEB_TICKED if ticked else esign.WEB_UNTICKED)
        assert consent.conversation_id == conversation_id and consent.answer_message_id is None
    if ticked:  # once agreed, the page asks no more
        again = httpx.get(f"{pay_env.gateway.url}/pay/done", params={"session_id": checkout}, timeout=30)
        assert 'name="esign"' not in again.text
    transport = outbound_transport(pay_env.engine, settings_for(pay_env.engine, mail_server))
    outcomes = _run_until(pay_env, transport, dues[0] + timedelta(days=1), dues[1])
    message = _notice(pay_env, plan_id)
    assert message.status == "sent" and NOTICE_WORDS in message.text
    notices = [m for m in _mailbox(sqlite_engine) if "payment 2 of 3" in (m.raw or "")]
    if ticked:
        assert (message.channel, message.address) == ("email", EMAIL) and len(notices) == 1
    else:
        assert (message.channel, message.address, message.rule_ids) == ("sms", phone, ["EMAIL-1"])
        assert notices == [] and ("outbound_rerouted", "EMAIL-1") in audit_kinds(pay_env.engine)
    assert {"charged": 1} in outcomes and len(intents_for(pay_env, installment(pay_env, plan_id, 2).id)) == 1


@pytest.mark.parametrize("phone", ["+15555550101", None], ids=["phone_never_texted_from", "no_phone"])
def test_EMAIL_1_PLAN_3_no_consent_and_no_safe_harbour_the_notice_is_not_given_and_the_debit_does_not_run(
        pay_env, phone):
    """No email, and a phone the debtor never texted us from (a text needs E-SIGN consent or the safe harbour as
    an email does; TCPA consent to texts, on file here, is neither), or no phone at all (the notice would be a chat
    bubble, not a notice the debtor can keep, even though they wrote to us in that chat): the notice is blocked
    with EMAIL-1 and installment 2 is never charged ("notice_blocked"). Mutation tried: esign.gate returning None
    for texts (the email-only rule of before) -> the text goes and the debit runs, fails; removing the chat-bubble
    "block" -> the notice is sent into the chat and the debit runs, fails."""
    conversation_id, account_id, plan_id, dues, _ = _autopay_on_the_web(pay_env, None)
    with session_scope(pay_env.engine) as session:
        session.get(Debtor, session.get(Account, account_id).debtor_id).phone = phone
        chat = session.get(Conversation, conversation_id)  # they wrote to us in the web chat, not by text or email
        contact_preferences.record_inbound(session, chat.channel, chat.external_id, at(dues[0]))
        if phone:  # TCPA consent to texts (ID-5 passes) is not E-SIGN consent to required notices by text
            session.add(ContactPreference(channel="sms", address=phone, consent_at=at(dues[0])))
    outcomes = _run_until(pay_env, outbound_queue.local_transport(pay_env.engine), dues[0] + timedelta(days=1),
                          dues[1] + timedelta(days=2))
    message = _notice(pay_env, plan_id)
    assert (message.status, message.rule_ids, message.sent_at) == ("blocked", ["EMAIL-1"], None)
    assert message.channel == ("sms" if phone else "rest")
    assert {"notice_blocked": 1} in outcomes and not any("charged" in o for o in outcomes)
    assert intents_for(pay_env, installment(pay_env, plan_id, 2).id) == []
    with session_scope(pay_env.engine) as session:
        assert session.scalars(select(Payment.status).where(Payment.method == "autopay")).all() == []


def _debit_notice(engine: Engine, account_id: str) -> str:
    """A PLAN-3 notice queued for email two days ago (so the hour for the chat question has passed)."""
    with session_scope(engine) as session:
        message = outbox.schedule(session, account_id=account_id, channel="email", address=EMAIL,
                                  kind="debit_notice", text="On Dec 9 we'll take $150.00 from your card.",
                                  not_before=NOON_LA)
        message.created_at = NOON_LA - timedelta(days=2)
        return message.id


@pytest.mark.parametrize("kind", ["validation_notice", "debit_notice"])
def test_EMAIL_1_safe_harbour_an_address_the_debtor_wrote_to_us_from_gets_the_notice_without_consent(
        sqlite_engine, mail_server, kind):
    """1006.6(d)(4)(i)(A): the debtor emailed us from the address (its preference's last_inbound_at): the notice
    goes there by email at once, no question, no post; after an email opt-out the safe harbour is gone. Mutation
    tried: esign.safe_harbour returning False -> the validation notice waits for the answer, the debit notice is
    blocked, fails."""
    with session_scope(sqlite_engine) as session:
        debtor, account = add_debtor(session, phone=None)
        debtor.email, account_id = EMAIL, account.id
        contact_preferences.record_inbound(session, "email", EMAIL, NOON_LA - timedelta(days=3))
    notice_id = queue_notice(sqlite_engine, account_id) if kind == "validation_notice" \
        else _debit_notice(sqlite_engine, account_id)
    transport = outbound_transport(sqlite_engine, settings_for(sqlite_engine, mail_server))
    assert outbound_queue.process_due(sqlite_engine, transport, now=NOON_LA).sent == 1
    message = queued(sqlite_engine, notice_id)
    assert (message.status, message.channel, message.address) == ("sent", "email", EMAIL)
    assert len(_mailbox(sqlite_engine)) == 1
    with session_scope(sqlite_engine) as session:
        assert esign.safe_harbour(session, "email", EMAIL.upper())  # the address is normalised
        contact_preferences.opt_out(session, "email", EMAIL, via="link", now=NOON_LA)
        assert not esign.safe_harbour(session, "email", EMAIL)
