"""Autopay for plans, with the real SDK against the stand-in, on SQLite and PostgreSQL: the card saved at the first
payment is charged off-session on each later due date (PLAN-2), after a notice sent 3-10 business days before
(PLAN-3), never early, never twice (even with two schedulers at once), never on a held account (DSP-2); a decline
brings a pay-now link, one retry, then "missed"."""

from __future__ import annotations

import secrets
import threading
from datetime import date, datetime, time, timedelta, timezone

from sqlalchemy import func, select

from bot import contact_preferences, conversations, disputes
from bot.agents import queue, users
from bot.db import session_scope
from bot.db.models import (
    Account,
    AuditEvent,
    AutopayAuthorisation,
    DebitNotice,
    Debtor,
    Handoff,
    Installment,
    LedgerEntry,
    Payment,
    Plan,
    ScheduledMessage,
    StripeCustomer,
)
from bot.local_dates import debtor_today, debtor_zone
from bot.messaging import queue as outbound_queue
from bot.payments import autopay, texts
from bot.payments.autopay_authorisation import active_autopay
from tests.payments_helpers import (
    CARD_3DS,
    add_plan,
    balance,
    bot_messages,
    ledger_count,
    link_for,
    pay_env_fixture,  # noqa: F401 - the pay_env fixture
    verified_debtor,
)

AMOUNT = 15000


def at(day: date, hour: int = 19) -> datetime:
    """19:00 UTC: late morning in Los Angeles (the test debtors' zone), inside the contact window (TIME-1)."""
    return datetime.combine(day, time(hour), tzinfo=timezone.utc)


def run_day(env, day: date) -> dict[str, int]:
    """What a daily scheduler does: charge what is due, then send what is queued through the gate."""
    summary = autopay.charge_due(env.engine, env.client, env.settings, now=at(day))
    outbound_queue.process_due(env.engine, outbound_queue.local_transport(env.engine), now=at(day))
    return summary.outcomes


def with_autopay(env, card: str = "4242 4242 4242 4242", **pay: object) -> tuple[str, str, str, list[date]]:
    """A plan of 3 monthly payments whose first payment was made today with autopay authorised."""
    conversation_id, account_id = verified_debtor(env.engine, balance_cents=3 * AMOUNT)
    texted_us(env.engine, account_id)
    today = debtor_today(None, datetime.now(timezone.utc)) - timedelta(days=1)
    plan_id = add_plan(env.engine, conversation_id, account_id, [AMOUNT] * 3, today)
    outcome = env.pay(env.checkout(link_for(env, conversation_id, "installment")), card,
                      fields={"autopay": "yes"}, **pay)
    assert outcome["kind"] == "succeeded"
    with session_scope(env.engine) as session:
        dues = [i.due_date for i in session.get(Plan, plan_id).installments]
        assert active_autopay(session, plan_id) is not None
    return conversation_id, account_id, plan_id, dues


def texted_us(engine, account_id: str, at_: datetime | None = None) -> str:
    """The debtor texted us from their phone (ID-5, and EMAIL-1's safe harbour for a PLAN-3 notice by text)."""
    with session_scope(engine) as session:
        phone = session.get(Debtor, session.get(Account, account_id).debtor_id).phone
        contact_preferences.record_inbound(session, "sms", phone, at_ or datetime.now(timezone.utc))
        return phone


def installment(env, plan_id: str, number: int) -> Installment:
    with session_scope(env.engine) as session:
        return session.scalars(select(Installment).where(Installment.plan_id == plan_id,
                                                         Installment.number == number)).one()


def intents_for(env, installment_id: str) -> list[dict]:
    return [r for r in env.requests("/v1/payment_intents") if (r["idempotency_key"] or "").startswith(
        f"autopay-{installment_id}-")]


def saved_card(env, plan_id: str) -> str:
    with session_scope(env.engine) as session:
        return session.scalars(select(AutopayAuthorisation.stripe_payment_method_id)
                               .where(AutopayAuthorisation.plan_id == plan_id)).one()


def test_PLAN_3_a_notice_goes_out_3_to_10_business_days_before_and_the_charge_comes_on_the_due_date(pay_env):
    conversation_id, account_id, plan_id, dues = with_autopay(pay_env)
    second = installment(pay_env, plan_id, 2)
    day = dues[0] + timedelta(days=1)
    while day < dues[1]:
        outcomes = run_day(pay_env, day)
        assert "charged" not in outcomes, day  # PLAN-3: never early
        day += timedelta(days=1)
    assert intents_for(pay_env, second.id) == []
    with session_scope(pay_env.engine) as session:
        notice = session.scalars(select(DebitNotice).where(DebitNotice.installment_id == second.id)).one()
        message = session.get(ScheduledMessage, notice.scheduled_message_id)
        assert message.status == "sent" and message.kind == "debit_notice"
        sent_on = message.sent_at.astimezone(debtor_zone(None)).date()
    assert 3 <= texts.business_days_between(sent_on, dues[1]) <= 10
    assert "we'll take $150.00 from your Visa card ending 4242" in message.text and "payment 2 of 3" in message.text
    assert "talk to a person" in message.text  # how to stop it

    assert run_day(pay_env, dues[1]) == {"charged": 1}
    assert balance(pay_env.engine, account_id) == AMOUNT
    assert installment(pay_env, plan_id, 2).status == "paid"
    receipts = [m for m in bot_messages(pay_env.engine, conversation_id) if "We received your payment" in m]
    assert len(receipts) == 2 and "Payment 2 of 3" in receipts[-1]
    assert run_day(pay_env, dues[1]) == {}  # the next run finds nothing due
    assert len(intents_for(pay_env, second.id)) == 1


def test_PLAN_3_no_debit_until_its_notice_has_been_out_3_business_days(pay_env):
    conversation_id, account_id, plan_id, dues = with_autopay(pay_env)
    second = installment(pay_env, plan_id, 2)
    # The scheduler never ran before the due date: no notice went out in time, so no debit on the due date.
    outcomes = autopay.charge_due(pay_env.engine, pay_env.client, pay_env.settings, now=at(dues[1])).outcomes
    assert outcomes == {"notice_queued": 1} or outcomes == {"notice_wait": 1}
    day = dues[1]
    while installment(pay_env, plan_id, 2).status == "scheduled":
        run_day(pay_env, day)
        day += timedelta(days=1)
        assert day < dues[1] + timedelta(days=10)
    charged_on = day - timedelta(days=1)
    with session_scope(pay_env.engine) as session:
        notice = session.scalars(select(DebitNotice).where(DebitNotice.installment_id == second.id)).one()
        sent_on = session.get(ScheduledMessage, notice.scheduled_message_id).sent_at.date()
    assert texts.business_days_between(sent_on, charged_on) >= 3 and charged_on >= notice.debit_on
    assert balance(pay_env.engine, account_id) == AMOUNT


def two_schedulers_at_once(env, installment_id: str, now: datetime) -> list[str]:
    """charge_installment for one installment by two schedulers let go at the same moment: what each said."""
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def scheduler() -> None:
        barrier.wait()
        outcomes.append(autopay.charge_installment(env.engine, env.client, env.settings, installment_id, now))

    threads = [threading.Thread(target=scheduler) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


def test_an_installment_run_by_two_schedulers_at_once_is_charged_once(pay_env):
    conversation_id, account_id, plan_id, dues = with_autopay(pay_env)
    day = dues[1] - timedelta(days=14)
    while day < dues[1]:  # the daily runs before: the PLAN-3 notice is queued and sent
        run_day(pay_env, day)
        day += timedelta(days=1)
    second = installment(pay_env, plan_id, 2)
    outcomes = two_schedulers_at_once(pay_env, second.id, at(dues[1]))
    assert sorted(outcomes)[0] == "charged" and sorted(outcomes)[1] in ("taken", "in_flight"), outcomes
    created = [r for r in intents_for(pay_env, second.id) if r["status"] == 200 and not r["replayed"]]
    assert len(created) == 1
    assert balance(pay_env.engine, account_id) == AMOUNT
    with session_scope(pay_env.engine) as session:
        assert session.scalar(select(func.count(LedgerEntry.id)).where(LedgerEntry.account_id == account_id)) == 2
        assert session.scalar(select(func.count(Payment.id)).where(Payment.installment_id == second.id)) == 1


def test_a_claim_left_by_a_crashed_scheduler_is_redriven_with_the_same_key_and_charges_once(pay_env):
    conversation_id, account_id, plan_id, dues = with_autopay(pay_env)
    day = dues[1] - timedelta(days=14)
    while day < dues[1]:
        run_day(pay_env, day)
        day += timedelta(days=1)
    second = installment(pay_env, plan_id, 2)
    # No webhooks for this one: the success event would otherwise repair the crash before scheduler B runs.
    pay_env.knob("POST", "webhooks/endpoint", {"url": None, "secret": None})
    # Scheduler A claims and charges, then dies before recording anything.
    with session_scope(pay_env.engine) as session:
        claim = autopay._claim(session, pay_env.engine, pay_env.settings, second.id, at(dues[1]))
    pay_env.client.v1.payment_intents.create(params=claim.params, options={"idempotency_key": claim.key})
    # Scheduler B: within 5 minutes it leaves the claim alone; after that it re-drives it with the same key.
    assert autopay.charge_installment(pay_env.engine, pay_env.client, pay_env.settings, second.id,
                                      at(dues[1])) == "in_flight"
    later = at(dues[1]) + timedelta(minutes=10)
    assert autopay.charge_installment(pay_env.engine, pay_env.client, pay_env.settings, second.id, later) == \
        "charged"
    calls = intents_for(pay_env, second.id)
    assert [c["replayed"] for c in calls] == [False, True]  # Stripe answered with the charge it had made
    assert balance(pay_env.engine, account_id) == AMOUNT


def test_a_plan_goes_on_after_the_stand_in_restarts_the_saved_card_is_charged_once(pay_env):
    """Issue 21: the stand-in forgot everything on restart, so the customer and card Settle's database remembers
    were "No such customer" to it and the plan's next charge failed. Now it keeps them in its state file."""
    conversation_id, account_id, plan_id, dues = with_autopay(pay_env)
    card = saved_card(pay_env, plan_id)
    with session_scope(pay_env.engine) as session:
        customer_id = session.scalars(select(AutopayAuthorisation.stripe_customer_id)
                                      .where(AutopayAuthorisation.plan_id == plan_id)).one()
    entries = ledger_count(pay_env.engine, account_id)
    pay_env.restart_standin()  # mid-plan: payment 1 made, 2 and 3 to come off-session
    assert pay_env.knob("GET", "requests")["requests"] == []  # a new stand-in, asked nothing yet
    day = dues[1] - timedelta(days=14)
    while day < dues[1]:  # the daily runs before: the PLAN-3 notice goes out
        assert "charged" not in run_day(pay_env, day)
        day += timedelta(days=1)
    assert run_day(pay_env, dues[1]) == {"charged": 1}
    second = installment(pay_env, plan_id, 2)
    [call] = intents_for(pay_env, second.id)
    assert call["status"] == 200 and not call["replayed"]
    intent = pay_env.client.v1.payment_intents.retrieve(payments_for(pay_env, second.id)[0].stripe_payment_intent_id)
    assert (intent.customer, intent.payment_method, intent.status) == (customer_id, card, "succeeded")
    assert pay_env.client.v1.payment_methods.retrieve(card).customer == customer_id  # still attached
    assert second.status == "paid" and balance(pay_env.engine, account_id) == AMOUNT
    assert ledger_count(pay_env.engine, account_id) == entries + 1  # once
    assert run_day(pay_env, dues[1]) == {} and ledger_count(pay_env.engine, account_id) == entries + 1


def test_a_plans_first_payment_link_opens_and_pays_after_the_stand_in_restarts(pay_env):
    """Before issue 21 this link answered 503 after a restart: its session was gone, and the new one named the
    debtor's Stripe customer (kept in Settle's database), which the stand-in no longer knew."""
    conversation_id, account_id = verified_debtor(pay_env.engine, balance_cents=3 * AMOUNT)
    plan_id = add_plan(pay_env.engine, conversation_id, account_id, [AMOUNT] * 3, date.today())
    url = link_for(pay_env, conversation_id, "installment")
    first = pay_env.checkout(url)  # the debtor opened it (the customer was made), then the stand-in stopped
    pay_env.restart_standin()
    assert pay_env.checkout(url) == first  # the same open session
    pay_env.client.v1.checkout.sessions.expire(first)  # as after a day: the next visit makes a new session
    pay_env.idle()
    second = pay_env.checkout(url)
    checkout = pay_env.client.v1.checkout.sessions.retrieve(second)
    with session_scope(pay_env.engine) as session:
        [remembered] = session.scalars(select(StripeCustomer.stripe_customer_id)).all()
    assert second != first and checkout.customer == remembered
    assert pay_env.requests("/v1/customers") == []  # the customer Settle remembers, not a new one
    assert pay_env.pay(second, fields={"autopay": "yes"})["kind"] == "succeeded"
    assert balance(pay_env.engine, account_id) == 2 * AMOUNT and ledger_count(pay_env.engine, account_id) == 1
    with session_scope(pay_env.engine) as session:
        auth = active_autopay(session, plan_id)
        assert auth is not None and auth.stripe_customer_id == remembered


def payments_for(env, installment_id: str) -> list[Payment]:
    with session_scope(env.engine) as session:
        return list(session.scalars(select(Payment).where(Payment.installment_id == installment_id)))


def test_a_decline_sends_a_pay_now_link_retries_once_then_marks_the_payment_missed(pay_env):
    conversation_id, account_id, plan_id, dues = with_autopay(pay_env)
    pay_env.knob("POST", f"payment_methods/{saved_card(pay_env, plan_id)}/behaviour",
                 {"behaviour": "decline:insufficient_funds"})
    day = dues[1] - timedelta(days=14)
    while day <= dues[1]:
        run_day(pay_env, day)
        day += timedelta(days=1)
    second = installment(pay_env, plan_id, 2)
    [declined] = [m for m in bot_messages(pay_env.engine, conversation_id) if "didn't go through" in m]
    retry_on = texts.add_business_days(dues[1], pay_env.settings.autopay_retry_business_days)
    assert "wasn't enough money available" in declined and "/pay/" in declined and "Nothing was taken" in declined
    assert f"try your card again on {texts.format_date(retry_on)}" in declined
    assert balance(pay_env.engine, account_id) == 2 * AMOUNT and second.status == "scheduled"

    while day < retry_on:
        assert "charged" not in run_day(pay_env, day) and len(intents_for(pay_env, second.id)) == 1
        day += timedelta(days=1)
    run_day(pay_env, retry_on)  # the one retry: declined again
    assert len(intents_for(pay_env, second.id)) == 2
    assert installment(pay_env, plan_id, 2).status == "missed"
    [missed] = [m for m in bot_messages(pay_env.engine, conversation_id) if "marked as missed" in m]
    assert "/pay/" in missed
    run_day(pay_env, retry_on + timedelta(days=3))
    assert len(intents_for(pay_env, second.id)) == 2  # no third try
    with session_scope(pay_env.engine) as session:
        assert session.scalar(select(func.count(AuditEvent.id)).where(AuditEvent.kind == "installment_missed")) == 1
        assert session.get(Plan, plan_id).status == "active"  # the plan goes on with its next date


def test_a_decline_paid_by_the_link_is_not_retried(pay_env):
    conversation_id, account_id, plan_id, dues = with_autopay(pay_env)
    pay_env.knob("POST", f"payment_methods/{saved_card(pay_env, plan_id)}/behaviour", {"behaviour": "decline"})
    day = dues[1] - timedelta(days=14)
    while day <= dues[1]:
        run_day(pay_env, day)
        day += timedelta(days=1)
    [declined] = [m for m in bot_messages(pay_env.engine, conversation_id) if "didn't go through" in m]
    url = declined.split("secure link: ")[1].split()[0]
    assert pay_env.pay(pay_env.checkout(url))["kind"] == "succeeded"
    assert installment(pay_env, plan_id, 2).status == "paid"
    run_day(pay_env, texts.add_business_days(dues[1], 3))
    assert len(intents_for(pay_env, installment(pay_env, plan_id, 2).id)) == 1
    assert balance(pay_env.engine, account_id) == AMOUNT


def test_authentication_required_gets_a_link_and_no_off_session_retry(pay_env):
    conversation_id, account_id, plan_id, dues = with_autopay(pay_env, CARD_3DS, authenticate="complete")
    day = dues[1] - timedelta(days=14)
    while day <= dues[1]:
        run_day(pay_env, day)
        day += timedelta(days=1)
    [declined] = [m for m in bot_messages(pay_env.engine, conversation_id) if "didn't go through" in m]
    assert "confirm this payment yourself" in declined and "/pay/" in declined and "mark it as missed" in declined
    second = installment(pay_env, plan_id, 2)
    deadline = texts.add_business_days(dues[1], 3)
    run_day(pay_env, deadline)
    assert len(intents_for(pay_env, second.id)) == 1
    assert installment(pay_env, plan_id, 2).status == "missed"


def test_DSP_2_nothing_is_charged_on_a_disputed_account(pay_env):
    conversation_id, account_id, plan_id, dues = with_autopay(pay_env)
    with session_scope(pay_env.engine) as session:
        disputes.record_dispute(session, conversation_id, "amount", correct_cents=10000)
    day = dues[1] - timedelta(days=14)
    outcomes: dict[str, int] = {}
    while day <= dues[1] + timedelta(days=5):
        for key, value in run_day(pay_env, day).items():
            outcomes[key] = outcomes.get(key, 0) + value
        day += timedelta(days=1)
    assert "charged" not in outcomes and "held" in outcomes
    assert intents_for(pay_env, installment(pay_env, plan_id, 2).id) == []
    assert balance(pay_env.engine, account_id) == 2 * AMOUNT
    with session_scope(pay_env.engine) as session:  # DSP-2: no notice with a payment ask went out either
        notices = session.scalars(select(ScheduledMessage).where(ScheduledMessage.kind == "debit_notice")).all()
        assert all(n.status != "sent" for n in notices)


def test_stopping_autopay_stops_the_charges_and_the_notices(pay_env):
    conversation_id, account_id, plan_id, dues = with_autopay(pay_env)
    run_day(pay_env, dues[1] - timedelta(days=12))
    with session_scope(pay_env.engine) as session:
        assert autopay.stop(session, plan_id, "debtor asked a person", actor="agent")
    day = dues[1] - timedelta(days=11)
    while day <= dues[1]:
        run_day(pay_env, day)
        day += timedelta(days=1)
    assert intents_for(pay_env, installment(pay_env, plan_id, 2).id) == []
    with session_scope(pay_env.engine) as session:
        statuses = session.scalars(select(ScheduledMessage.status).where(
            ScheduledMessage.kind == "debit_notice")).all()
    assert statuses and set(statuses) == {"cancelled"}


def test_a_dry_run_charges_nothing_and_writes_nothing(pay_env):
    conversation_id, account_id, plan_id, dues = with_autopay(pay_env)
    summary = autopay.charge_due(pay_env.engine, pay_env.client, pay_env.settings, now=at(dues[1]), dry_run=True)
    assert summary.lines and intents_for(pay_env, installment(pay_env, plan_id, 2).id) == []
    with session_scope(pay_env.engine) as session:
        assert session.scalar(select(func.count(DebitNotice.id))) == 0
        assert session.scalar(select(func.count(Payment.id)).where(Payment.method == "autopay")) == 0


def test_the_charge_installments_command_charges_what_is_due(pay_env, monkeypatch, capsys):
    import pytest

    from bot.__main__ import main

    conversation_id, account_id, plan_id, dues = with_autopay(pay_env)
    monkeypatch.setenv("DATABASE_URL", pay_env.settings.database_url)
    monkeypatch.setenv("STRIPE_API_BASE", pay_env.standin.url)
    monkeypatch.delenv("STRIPE_SECRET_KEY", raising=False)
    notice_day = texts.add_business_days(dues[1], -7)
    for day in (notice_day - timedelta(days=3), notice_day):
        assert main(["charge-installments", "--now", at(day).isoformat()]) == 0
    assert main(["charge-installments", "--now", at(dues[1]).isoformat(), "--dry-run"]) == 0
    assert "would charge 15000 cents" in capsys.readouterr().out and balance(pay_env.engine, account_id) == 2 * AMOUNT
    assert main(["charge-installments", "--now", at(dues[1]).isoformat()]) == 0
    out = capsys.readouterr().out
    assert "charged 1" in out and "stand-in" in out and "messages: sent" in out  # the receipt, through the gate
    assert balance(pay_env.engine, account_id) == AMOUNT
    with pytest.raises(SystemExit):
        main(["charge-installments", "--now", "2026-03-06T09:00"])  # a time without its zone is refused


# --- PLAN-2: "stop the automatic payments" from someone not yet identified --------------------------------------


def asked_to_stop_unverified(env, account_id: str, channel: str = "sms") -> str:
    """Someone writes from the debtor's phone (or a web chat nobody is known in) "please stop the automatic
    payments" and never verifies: the request is kept (autopay.keep_until_verified), as the pipeline does."""
    phone = texted_us(env.engine, account_id)
    with session_scope(env.engine) as session:
        texting = conversations.get_or_create(session, channel, phone if channel == "sms" else "web-stranger")
        assert texting.verified_at is None
        assert autopay.keep_until_verified(session, texting, "please stop the automatic payments",
                                           datetime.now(timezone.utc), "en")
        return texting.id


def run_days(env, first: date, last: date) -> dict[str, int]:
    outcomes: dict[str, int] = {}
    day = first
    while day <= last:
        for key, value in run_day(env, day).items():
            outcomes[key] = outcomes.get(key, 0) + value
        day += timedelta(days=1)
    return outcomes


def test_PLAN_2_a_stop_asked_from_the_debtors_phone_before_verifying_holds_the_charges_until_a_person_settles_it(
        pay_env):
    """The debtor texted "please stop the automatic payments", was told it would be done once they confirmed who
    they are, and never did: the next installment was charged anyway (the request lived only in the audit). Now no
    charge runs while such a request waits; a person is asked (handoff "autopay_stop", PLAN-2), and once they have
    settled it (resolved the handoff), the scheduler goes on as they left it. Mutation tried: `_claim` without the
    unsettled_stop_request check -> the installment is charged: fails."""
    conversation_id, account_id, plan_id, dues = with_autopay(pay_env)
    texting_id = asked_to_stop_unverified(pay_env, account_id)
    outcomes = run_days(pay_env, dues[1] - timedelta(days=12), dues[1] + timedelta(days=2))
    assert "charged" not in outcomes and outcomes.get("held"), outcomes
    second = installment(pay_env, plan_id, 2)
    assert intents_for(pay_env, second.id) == [] and second.status == "scheduled"
    with session_scope(pay_env.engine) as session:
        asked = session.scalars(select(Handoff).where(Handoff.conversation_id == texting_id)).all()
        assert [(h.reason, h.rule_id, h.status) for h in asked] == [("autopay_stop", "PLAN-2", "waiting")]
        assert queue.REASON_LABELS["autopay_stop"] == "Asked to stop automatic payments (not verified)"
        agent = users.create_user(session, f"agent-{secrets.token_hex(3)}", "correct horse battery", "agent")
        queue.claim(session, asked[0].id, agent)
        queue.resolve(session, asked[0].id, agent, "no_contact")
    # Settled by a person who left autopay on (they could not reach the debtor): the charge runs as authorised.
    assert run_day(pay_env, dues[1] + timedelta(days=3)).get("charged") == 1


def test_PLAN_2_a_stop_asked_in_a_web_chat_nobody_is_known_in_does_not_hold_anyones_charges(pay_env):
    """A web chat is anyone's browser: its unverified "stop the automatic payments" is kept for when that person
    verifies, but it names no debtor, so no one's charge waits on it. Mutation tried: unsettled_stop_request
    taking every unverified conversation's request (`Conversation.verified_at.is_(None)` among `theirs`) -> held:
    fails."""
    conversation_id, account_id, plan_id, dues = with_autopay(pay_env)
    asked_to_stop_unverified(pay_env, account_id, channel="web")
    outcomes = run_days(pay_env, dues[1] - timedelta(days=12), dues[1])
    assert outcomes.get("charged") == 1 and "held" not in outcomes, outcomes


def test_PLAN_2_handing_the_stop_request_back_to_the_bot_is_not_settling_it(pay_env):
    """Found exploring as an agent: the queue showed "Asked to stop automatic payments (not verified)", the agent
    took it and pressed "Hand back to the bot" (the debtor had not answered), and the next installment went ahead:
    a hand-back closed the handoff, and any closed one counted as settled. Handing back decides nothing, and nor
    does a web chat's person leaving: only a person's Resolve settles the request (PLAN-2). Until then the charge
    stays held and the request is back in the agents' queue.
    Mutation: unsettled_stop_request counting every closed handoff as settled again (without the status check)
    -> the installment is charged after the hand-back: fails."""
    conversation_id, account_id, plan_id, dues = with_autopay(pay_env)
    texting_id = asked_to_stop_unverified(pay_env, account_id)
    assert run_days(pay_env, dues[1] - timedelta(days=12), dues[1]).get("held")
    with session_scope(pay_env.engine) as session:
        asked = session.scalars(select(Handoff).where(Handoff.conversation_id == texting_id)).one()
        agent = users.create_user(session, f"agent-{secrets.token_hex(3)}", "correct horse battery", "agent")
        queue.claim(session, asked.id, agent)
        queue.hand_back(session, asked.id, agent)
    outcomes = run_day(pay_env, dues[1] + timedelta(days=1))
    assert "charged" not in outcomes and outcomes.get("held"), outcomes
    second = installment(pay_env, plan_id, 2)
    assert intents_for(pay_env, second.id) == [] and second.status == "scheduled"
    with session_scope(pay_env.engine) as session:
        waiting = queue.open_handoff(session, texting_id)
        assert waiting is not None and waiting.status == "waiting"
        assert queue.REASON_LABELS[waiting.reason] == "Asked to stop automatic payments (not verified)"
