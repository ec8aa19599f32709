"""PLAN-3: an autopay debit whose advance notice could not be given (the outbound gate blocked it, it bounced, it was
given up on) never runs, and the debtor is not left to believe it did: they are told once, in their language, with
a pay-now link for that installment; still unpaid AUTOPAY_RETRY_BUSINESS_DAYS business days later, the installment
is missed (and the debtor gets the last link). Real SDK against the Stripe stand-in, on SQLite and PostgreSQL.

The notice is blocked the ordinary way: the debtor texted STOP (OPT-3), so the notice, which goes by text, may not
go; the plan's conversation is a web chat, where the message about it can."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

from bot import contact_preferences
from bot.compliance import sensitive_requests
from bot.db import session_scope
from bot.db.models import Account, AuditEvent, DebitNotice, Debtor, Payment, Plan, ScheduledMessage
from bot.payments import texts
from bot.wording import formats
from tests.payments_helpers import bot_messages, pay_env_fixture  # noqa: F401 - the pay_env fixture
from tests.test_payments_autopay import at, installment, intents_for, run_day, two_schedulers_at_once, with_autopay

# What the debtor reads, by language: the words that find the message, then what it must say ({due}: the due date,
# {until}: the date the link expires at the end of, and the installment counts as missed).
SAYS = {
    "en": ("didn't run", "Your automatic payment of $150.00 due {due} didn't run",
           "we couldn't give you the notice the law requires before we take a payment",
           "Nothing was taken, and nothing will be taken automatically for it.", "secure link: ",
           "It expires at the end of {until}.", "If it isn't paid by {until}, we'll mark it as missed."),
    "es": ("no se hizo", "Su pago automático de $150.00 del {due} no se hizo",
           "no pudimos darle el aviso que pide la ley antes de cobrar un pago",
           "No se cobró nada, y no vamos a cobrar este pago de forma automática.", "enlace seguro: ",
           "Vence al final del {until}.", "Si no se paga a más tardar el {until}, lo vamos a marcar como no pagado."),
}
TOLD_EN = SAYS["en"][0]


def _notice_blocked(env, speaks: str | None = None) -> tuple[str, str, list[date]]:
    """A 3-payment autopay plan whose debtor (speaking `speaks`) texted STOP before payment 2's notice went, and the
    daily runs up to the day before payment 2 is due: (conversation id, plan id, due dates)."""
    conversation_id, account_id, plan_id, dues = with_autopay(env)
    with session_scope(env.engine) as session:
        debtor = session.get(Debtor, session.get(Account, account_id).debtor_id)
        debtor.language = speaks
        contact_preferences.opt_out(session, "sms", debtor.phone, via="sms", now=at(dues[0]))
    day = dues[1] - timedelta(days=14)
    while day < dues[1]:
        assert "charged" not in run_day(env, day)
        day += timedelta(days=1)
    second = installment(env, plan_id, 2)
    with session_scope(env.engine) as session:
        notice = session.scalars(select(DebitNotice).where(DebitNotice.installment_id == second.id)).one()
        status = session.get(ScheduledMessage, notice.scheduled_message_id).status
    assert status == "blocked"  # the premise: PLAN-3's notice was never given
    return conversation_id, plan_id, dues


def _told(env, conversation_id: str, words: str) -> list[str]:
    return [m for m in bot_messages(env.engine, conversation_id) if words in m]


def _told_once(env, conversation_id: str, due: date, language: str) -> tuple[str, date]:
    """The one message about the blocked notice, checked word for word in `language`: (its link, the missed date)."""
    missed_on = texts.add_business_days(due, env.settings.autopay_retry_business_days)
    [told] = _told(env, conversation_id, SAYS[language][0])
    for words in SAYS[language][1:]:
        assert words.format(due=formats.long_date(due, language), until=formats.long_date(missed_on, language)) \
            in told, (words, told)
    url = told.split(SAYS[language][4])[1].split()[0]
    assert "/pay/" in url
    return url, missed_on


def _queued_kinds(env, kind: str) -> list[str]:
    with session_scope(env.engine) as session:
        return list(session.scalars(select(ScheduledMessage.status).where(ScheduledMessage.kind == kind)
                                    .order_by(ScheduledMessage.created_at, ScheduledMessage.id)))


def _audit(env, kind: str) -> list[tuple[str | None, dict]]:
    with session_scope(env.engine) as session:
        return [(e.rule_id, e.detail) for e in session.scalars(select(AuditEvent).where(AuditEvent.kind == kind)
                                                               .order_by(AuditEvent.id))]


def test_PLAN_3_a_blocked_notice_means_no_debit_one_message_with_a_link_then_missed_after_the_window(pay_env):
    """Mutations tried: the tell-once guard (`blocked_told_at IS NULL` in autopay._notice_blocked's UPDATE) removed
    -> the second run of the due date sends a second message, fails; the missed step removed (`return
    "notice_blocked"` instead of mark_missed) -> the installment is still "scheduled" on the missed date, fails;
    charging on a blocked notice (`state not in ("ok", "blocked")` before the charge, the blocked branch removed) ->
    a payment intent is created, fails."""
    conversation_id, plan_id, dues = _notice_blocked(pay_env)
    second = installment(pay_env, plan_id, 2)

    assert run_day(pay_env, dues[1]) == {"notice_blocked": 1}
    assert intents_for(pay_env, second.id) == []  # PLAN-3: no debit without its notice
    url, missed_on = _told_once(pay_env, conversation_id, dues[1], "en")
    assert pay_env.checkout(url)  # the link opens the payment page for this installment
    assert installment(pay_env, plan_id, 2).status == "scheduled"

    assert run_day(pay_env, dues[1]) == {"notice_blocked": 1}  # the same day again: told once
    day = dues[1] + timedelta(days=1)
    while day < missed_on:
        assert run_day(pay_env, day) == {"notice_blocked": 1}, day
        day += timedelta(days=1)
    assert len(_told(pay_env, conversation_id, TOLD_EN)) == 1
    assert _queued_kinds(pay_env, "autopay_notice_blocked") == ["sent"]
    assert installment(pay_env, plan_id, 2).status == "scheduled"

    assert run_day(pay_env, missed_on) == {"missed": 1}
    assert installment(pay_env, plan_id, 2).status == "missed"
    [missed] = _told(pay_env, conversation_id, "marked as missed")
    assert f"due {texts.format_date(dues[1])}" in missed and "/pay/" in missed  # the last link
    run_day(pay_env, missed_on + timedelta(days=3))
    assert intents_for(pay_env, second.id) == [] and len(_told(pay_env, conversation_id, "marked as missed")) == 1
    with session_scope(pay_env.engine) as session:
        assert session.scalars(select(Payment.id).where(Payment.method == "autopay")).all() == []
    # Each step audited with PLAN-3, so the compliance console shows why no debit happened.
    [(rule, detail)] = _audit(pay_env, "autopay_notice_blocked")
    assert rule == "PLAN-3" and detail["installment_id"] == second.id and detail["missed_on"] == missed_on.isoformat()
    [(rule, detail)] = _audit(pay_env, "installment_missed")
    assert (rule, detail["installment_id"], detail["because"]) == ("PLAN-3", second.id, "notice_blocked")


def test_PLAN_3_LANG_1_a_spanish_debtor_is_told_in_spanish_and_paying_by_the_link_means_never_missed(pay_env):
    conversation_id, plan_id, dues = _notice_blocked(pay_env, "es")
    assert run_day(pay_env, dues[1]) == {"notice_blocked": 1}
    url, missed_on = _told_once(pay_env, conversation_id, dues[1], "es")
    assert _told(pay_env, conversation_id, TOLD_EN) == []
    assert pay_env.pay(pay_env.checkout(url))["kind"] == "succeeded"
    assert installment(pay_env, plan_id, 2).status == "paid"
    assert run_day(pay_env, missed_on) == {}  # paid: nothing more for it
    assert installment(pay_env, plan_id, 2).status == "paid"
    assert _told(pay_env, conversation_id, "quedó como no pagado") == [] and _audit(pay_env, "installment_missed") == []
    assert intents_for(pay_env, installment(pay_env, plan_id, 2).id) == []


def test_PLAN_3_two_schedulers_at_once_tell_the_debtor_once(pay_env):
    conversation_id, plan_id, dues = _notice_blocked(pay_env)
    second = installment(pay_env, plan_id, 2)
    outcomes = two_schedulers_at_once(pay_env, second.id, at(dues[1]))
    assert sorted(outcomes) in (["notice_blocked", "notice_blocked:told"], ["notice_blocked:told", "taken"]), outcomes
    assert _queued_kinds(pay_env, "autopay_notice_blocked") == ["pending"]
    assert len(_audit(pay_env, "autopay_notice_blocked")) == 1 and intents_for(pay_env, second.id) == []


def test_PLAN_3_CEASE_1_a_ceased_account_is_not_told_of_its_blocked_notice(pay_env):
    """The holds come first in autopay._claim: on a ceased account nothing is charged and nothing is queued about it.
    Mutation tried: the hold check in _claim removed -> the message is queued (the gate then blocks it), fails."""
    conversation_id, plan_id, dues = _notice_blocked(pay_env)
    with session_scope(pay_env.engine) as session:
        sensitive_requests.handle(session, conversation_id, "cease_contact", "Stop contacting me",
                                  pay_env.settings.support_contact, now=at(dues[1] - timedelta(days=1)))
    assert run_day(pay_env, dues[1]) == {"held": 1}
    assert _queued_kinds(pay_env, "autopay_notice_blocked") == [] and _told(pay_env, conversation_id, TOLD_EN) == []
    assert intents_for(pay_env, installment(pay_env, plan_id, 2).id) == []


def test_PLAN_3_a_notice_with_no_way_to_send_it_means_no_debit_and_missed_after_the_window(pay_env):
    """A debtor Settle can no longer reach (no phone, no email address, no plan conversation): the notice cannot be
    queued, so no debit; the scheduler says so ("notice_unsendable", where it said "notice_queued" of a notice it never
    made) and, once the window a blocked notice gets is over, the installment is missed instead of being tried again
    on every run for ever. Mutations tried: _claim ignoring queue_notice's answer (the old `return "notice_queued"`)
    -> "notice_queued" on the due date and never missed, fails."""
    _, account_id, plan_id, dues = with_autopay(pay_env)
    with session_scope(pay_env.engine) as session:
        debtor = session.get(Debtor, session.get(Account, account_id).debtor_id)
        debtor.phone = debtor.email = None
        session.get(Plan, plan_id).conversation_id = None
    second = installment(pay_env, plan_id, 2)
    missed_on = texts.add_business_days(dues[1], pay_env.settings.autopay_retry_business_days)
    day = dues[1]
    while day < missed_on:
        assert run_day(pay_env, day) == {"notice_unsendable": 1}, day
        day += timedelta(days=1)
    assert installment(pay_env, plan_id, 2).status == "scheduled"
    assert run_day(pay_env, missed_on) == {"missed": 1}
    assert installment(pay_env, plan_id, 2).status == "missed" and intents_for(pay_env, second.id) == []
    [(rule, detail)] = _audit(pay_env, "installment_missed")
    assert (rule, detail["installment_id"], detail["because"]) == ("PLAN-3", second.id, "notice_blocked")
