"""Issue 17: receipts and plan confirmations go where the payment or the plan happened (the conversation, as today)
and, when the debtor gave E-SIGN consent to email (EMAIL-1), also as an email to keep: queued in the outbox (kinds
receipt, plan_confirmation) and sent through the gate like any email (EMAIL-3: TIME-1, DISC-2, opt-out), "sent" only
when the real SMTP server (mail_server) accepted it."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from email import message_from_string, policy
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine, select

from bot import contact_preferences
from bot.compliance import esign
from bot.db import session_scope
from bot.db.models import Account, Debtor, MailboxMessage, Plan, ScheduledMessage
from bot.mail.transport import outbound_transport
from bot.messaging import copies
from bot.messaging import queue as outbound_queue
from bot.plans import service as plans
from tests.conftest import add_debtor
from tests.payments_helpers import add_plan, bot_messages, link_for, pay_env_fixture, verified_debtor  # noqa: F401
from tests.test_email import EMAIL, NOON_LA, settings_for

LA = ZoneInfo("America/Los_Angeles")


def _noon_after(moment: datetime) -> datetime:
    """The first 12:00 in Los Angeles after `moment`: inside TIME-1's window whatever the clock said when the
    payment was made (the receipt is queued at the payment's time)."""
    day = moment.astimezone(LA).date() + timedelta(days=1)
    return datetime.combine(day, time(12), tzinfo=LA).astimezone(timezone.utc)


def _emails(engine: Engine) -> list[tuple[str, str]]:
    """(subject, plain text) of what the mail server received."""
    with session_scope(engine) as session:
        raws = session.scalars(select(MailboxMessage.raw).order_by(MailboxMessage.id)).all()
    parsed = [message_from_string(raw, policy=policy.default) for raw in raws]
    return [(str(m["Subject"]), m.get_body(preferencelist=("plain",)).get_content()) for m in parsed]


def _agree_to_email(session, debtor: Debtor, at: datetime) -> None:
    debtor.email = EMAIL
    esign.record(session, debtor.id, EMAIL, esign.WEB_CHECKBOX.format(address=esign.masked(EMAIL)), esign.WEB_TICKED,
                 True, at, via="web")


@pytest.mark.parametrize("agreed", [True, False], ids=["esign_consent", "no_consent"])
def test_EMAIL_1_EMAIL_3_a_receipt_is_in_the_chat_and_with_consent_also_an_email_to_keep(
        pay_env, mail_server, sqlite_engine, agreed):
    """Mutation tried: copies.email_copy not checking the consent (any address on file) -> the no-consent case
    emails the receipt, fails; tell_debtor without the copies.email_copy call -> no email, fails."""
    conversation_id, account_id = verified_debtor(pay_env.engine, balance_cents=20000)
    with session_scope(pay_env.engine) as session:
        debtor = session.get(Debtor, session.get(Account, account_id).debtor_id)
        if agreed:
            _agree_to_email(session, debtor, datetime.now(timezone.utc))
        else:
            debtor.email = EMAIL
    assert pay_env.pay(pay_env.checkout(link_for(pay_env, conversation_id, "balance")))["kind"] == "succeeded"
    receipt = [m for m in bot_messages(pay_env.engine, conversation_id) if "We received your payment" in m]
    assert len(receipt) == 1  # in the chat, as today
    with session_scope(pay_env.engine) as session:
        copies_ = session.scalars(select(ScheduledMessage).where(ScheduledMessage.kind == "receipt")).all()
        due = max((c.not_before for c in copies_), default=datetime.now(timezone.utc))
    assert len(copies_) == (1 if agreed else 0)
    transport = outbound_transport(pay_env.engine, settings_for(pay_env.engine, mail_server))
    outbound_queue.process_due(pay_env.engine, transport, now=_noon_after(due))
    emails = _emails(sqlite_engine)
    if not agreed:
        assert emails == []
        return
    [(subject, body)] = emails
    assert subject == "Your receipt" and "We received your payment of $200.00" in body
    assert body.startswith("This message is from a debt collector.")  # DISC-2
    with session_scope(pay_env.engine) as session:
        copy = session.scalars(select(ScheduledMessage).where(ScheduledMessage.kind == "receipt")).one()
        assert (copy.status, copy.channel, copy.address) == ("sent", "email", EMAIL)


def _plan_confirmation(engine: Engine, at: datetime) -> str:
    """A verified debtor who agreed to email accepts a plan; the confirmation's email copy is queued at `at`."""
    with session_scope(engine) as session:
        debtor, account = add_debtor(session, balance_cents=30000)
        _agree_to_email(session, debtor, at - timedelta(days=1))
        account_id = account.id
    plan_id = add_plan(engine, None, account_id, [10000] * 3, date(2026, 12, 20))
    with session_scope(engine) as session:
        plan = session.get(Plan, plan_id)
        text = "\n\n".join(plans.confirmation(plan, "USD"))
        return copies.email_copy(session, session.get(Account, account_id), copies.PLAN_CONFIRMATION, text, at).id


def test_EMAIL_3_a_plan_confirmation_copy_waits_for_the_contact_window_then_is_emailed(sqlite_engine, mail_server):
    """Accepted at 23:30 in Los Angeles: the copy waits for 8 AM (TIME-1), then goes. Mutation tried: the gate
    without its contact-window check (outbound_gate.check_initiated) -> the copy goes at 23:30, fails."""
    late = datetime(2026, 12, 2, 23, 30, tzinfo=LA).astimezone(timezone.utc)
    copy_id = _plan_confirmation(sqlite_engine, late)
    transport = outbound_transport(sqlite_engine, settings_for(sqlite_engine, mail_server))
    assert outbound_queue.process_due(sqlite_engine, transport, now=late).deferred == 1
    with session_scope(sqlite_engine) as session:
        copy = session.get(ScheduledMessage, copy_id)
        assert (copy.status, copy.rule_ids) == ("pending", ["TIME-1"])
        assert copy.not_before == datetime(2026, 12, 3, 8, 0, tzinfo=LA)
    assert _emails(sqlite_engine) == []
    assert outbound_queue.process_due(sqlite_engine, transport, now=NOON_LA + timedelta(days=1)).sent == 1
    [(subject, body)] = _emails(sqlite_engine)
    assert subject == "Your payment plan" and "Your plan is set up. Your reference is PLN-" in body
    assert "/email/opt-out/" in body  # EMAIL-2: every collection email carries its opt-out


def test_EMAIL_2_EMAIL_3_after_an_email_opt_out_no_copy_goes(sqlite_engine, mail_server):
    """Consent to email is not a way round an email opt-out (OPT-3): the copy queued after it is blocked by the gate.
    Mutation tried: check_initiated without the contact_preferences.suppression check -> the copy is emailed, fails."""
    with session_scope(sqlite_engine) as session:
        contact_preferences.opt_out(session, "email", EMAIL, via="link", now=NOON_LA - timedelta(days=2))
    copy_id = _plan_confirmation(sqlite_engine, NOON_LA)
    transport = outbound_transport(sqlite_engine, settings_for(sqlite_engine, mail_server))
    outbound_queue.process_due(sqlite_engine, transport, now=NOON_LA)
    with session_scope(sqlite_engine) as session:
        copy = session.get(ScheduledMessage, copy_id)
        assert (copy.status, copy.rule_ids) == ("blocked", ["OPT-3"])
    assert _emails(sqlite_engine) == []


def test_DISC_2_OPT_1_EMAIL_2_a_spanish_speaking_debtors_email_copy_is_all_in_spanish(sqlite_engine, mail_server):
    """The body (the confirmation in the debtor's language), the gate's DISC-2 and OPT-1 lines, the subject, the
    footer and the HTML's lang follow the language kept on the debtor (issue 23). Mutation tried: the transport's
    compose.build without `language` (English subject and footer around a Spanish body: failed)."""
    with session_scope(sqlite_engine) as session:
        debtor, account = add_debtor(session, balance_cents=30000)
        debtor.language = "es"
        _agree_to_email(session, debtor, NOON_LA - timedelta(days=1))
        account_id = account.id
    plan_id = add_plan(sqlite_engine, None, account_id, [10000] * 3, date(2026, 12, 20))
    with session_scope(sqlite_engine) as session:
        text = "\n\n".join(plans.confirmation(session.get(Plan, plan_id), "USD", language="es"))
        copies.email_copy(session, session.get(Account, account_id), copies.PLAN_CONFIRMATION, text, NOON_LA)
    transport = outbound_transport(sqlite_engine, settings_for(sqlite_engine, mail_server))
    assert outbound_queue.process_due(sqlite_engine, transport, now=NOON_LA).sent == 1
    with session_scope(sqlite_engine) as session:
        [raw] = session.scalars(select(MailboxMessage.raw)).all()
    email = message_from_string(raw, policy=policy.default)
    body = email.get_body(("plain",)).get_content()
    html = email.get_body(("html",)).get_content()
    assert str(email["Subject"]) == "Su plan de pagos"
    assert body.startswith("Este mensaje es de un cobrador de deudas.")  # DISC-2
    assert "Gracias. Su plan está listo. Su referencia es PLN-" in body
    assert "Responda ALTO para no recibir más mensajes." in body  # OPT-1
    assert "¿No quiere recibir estos emails? Responda ALTO" in body and "/email/opt-out/" in body  # EMAIL-2
    assert '<html lang="es">' in html and "deje de recibir nuestros emails" in html
    assert "Reply STOP" not in body and "Questions?" not in body and "Don't want" not in html
