"""What a debtor with a plan asks in their own words, end to end (gateway, Rasa, actions): stopping automatic
payments (PLAN-2) and saying when not to be texted (TIME-1). Each debtor is the test's own (Chat.verify_as_new_debtor),
so nothing here changes a demo account another test reads."""

from __future__ import annotations

import secrets
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from bot.compliance import outbound_gate
from bot.db.models import (
    Account,
    AuditEvent,
    AutopayAuthorisation,
    ContactPreference,
    Debtor,
    Installment,
    Payment,
    Plan,
    ScheduledMessage,
)
from tests.integration.chat import Chat

pytestmark = pytest.mark.integration


def _autopay_plan(chat: Chat, reference: str) -> tuple[str, str]:
    """A plan on autopay for the chat's account, as the first payment's page leaves it: (plan reference, auth id)."""
    with chat.session() as session:
        account = session.scalars(select(Account).where(Account.account_ref == reference)).one()
        first = date.today() + timedelta(days=20)
        plan = Plan(reference=f"PLN-{secrets.token_hex(3).upper()}", account_id=account.id, kind="plan",
                    frequency="monthly", balance_cents=240000, total_cents=240000, installment_count=3,
                    terms_text="terms", status="active", consented_at=datetime.now(timezone.utc), consent_text="YES")
        plan.installments = [Installment(number=1, due_date=first - timedelta(days=30), amount_cents=80000,
                                         status="paid"),
                             Installment(number=2, due_date=first, amount_cents=80000),
                             Installment(number=3, due_date=first + timedelta(days=30), amount_cents=80000)]
        session.add(plan)
        session.flush()
        payment = Payment(reference=f"PAY-{secrets.token_hex(4)}", account_id=account.id, plan_id=plan.id,
                          method="checkout", amount_cents=80000, status="succeeded")
        session.add(payment)
        session.flush()
        auth = AutopayAuthorisation(plan_id=plan.id, account_id=account.id, source_payment_id=payment.id,
                                    stripe_customer_id="cus_test", stripe_payment_method_id="pm_test",
                                    card_brand="visa", card_last4="4242", authorisation_text="I agree",
                                    authorised_at=datetime.now(timezone.utc) - timedelta(days=30))
        session.add(auth)
        session.flush()
        return plan.reference, auth.id


def _authorisation(chat: Chat, auth_id: str) -> tuple[str, list[AuditEvent]]:
    with chat.session() as session:
        auth = session.get(AutopayAuthorisation, auth_id)
        events = session.scalars(select(AuditEvent).where(AuditEvent.kind == "autopay_stopped",
                                                          AuditEvent.account_id == auth.account_id)).all()
        session.expunge_all()
        return auth.status, list(events)


def test_PLAN_2_stop_the_automatic_payments_turns_them_off_at_once_and_says_how_to_pay(running_stack):
    """PLAN-2 (Reg E 1005.10(c)): "stop the automatic payments please" revokes the authorisation in that turn,
    audited, and the debtor reads that it is off, that the plan goes on, and how to pay the next one. The
    exploratory tester's Ana got "You already have a plan... talk to a person" and stayed on autopay.
    Mutation tried: the pipeline's `autopay.revoke_on_request` line removed -> the plan reply, status `active`."""
    chat = Chat(running_stack, prefix="itest-autopay")
    reference = chat.verify_as_new_debtor()
    plan, auth_id = _autopay_plan(chat, reference)

    said = " ".join(chat.say("stop the automatic payments please"))

    assert f"Automatic payments for plan {plan} are off now" in said
    assert "Your plan is still on. Next payment: $800.00 on" in said and "say 'pay now'" in said
    assert "You already have a plan" not in said
    status, events = _authorisation(chat, auth_id)
    assert status == "revoked"
    assert [(e.rule_id, e.actor) for e in events] == [("PLAN-2", "debtor")]


def test_PLAN_2_LANG_1_quiero_cancelar_mi_plan_stops_the_debits_now_and_leaves_the_plan_to_a_person(running_stack):
    """PLAN-2 in Spanish: asking to end the plan stops its automatic debits at once (a person may end the plan
    itself; the debits may not wait for one). Mutation tried: `END_PLAN` matching nothing -> "Usted ya tiene un
    plan", authorisation still active."""
    chat = Chat(running_stack, prefix="itest-autopay-es")
    reference = chat.verify_as_new_debtor(request="hola, cuánto debo")
    plan, auth_id = _autopay_plan(chat, reference)

    said = " ".join(chat.say("quiero cancelar mi plan"))

    assert f"Los pagos automáticos del plan {plan} ya están apagados" in said
    assert "Su plan sigue. Próximo pago: $800.00 el" in said and "escriba 'hablar con una persona'" in said
    status, events = _authorisation(chat, auth_id)
    assert status == "revoked" and [e.rule_id for e in events] == ["PLAN-2"]


def test_TIME_1_dont_text_me_before_noon_or_after_6pm_is_kept_and_a_10am_reminder_waits(running_stack):
    """TIME-1 (1006.6(b)(1)): the tester's Sam wrote "please dont text me before noon or after 6pm, I work nights"
    and got the dispute boilerplate, with nothing stored. Now the debtor reads the times back, they are stored on
    the phone's preference, and a reminder due at 10:00 his time is deferred to noon by the outbound gate.
    Mutation tried: the pipeline's `inconvenient_words.answer` line removed -> the dispute text, nothing stored,
    the reminder allowed at 10:00."""
    chat = Chat(running_stack, prefix="itest-time1")
    reference = chat.verify_as_new_debtor()
    phone = f"+1212555{secrets.randbelow(10**4):04d}"
    with chat.session() as session:
        account = session.scalars(select(Account).where(Account.account_ref == reference)).one()
        debtor = session.get(Debtor, account.debtor_id)
        debtor.phone, debtor.timezone, debtor.zip = phone, "America/New_York", "10001"

    said = " ".join(chat.say("please dont text me before noon or after 6pm, I work nights"))

    assert "Got it. We won't text or call you before noon or after 6 PM, your time." in said
    assert "dispute" not in said.lower()
    zone = ZoneInfo("America/New_York")
    ten = datetime.combine(date.today() + timedelta(days=1), time(10, 0), tzinfo=zone)
    with chat.session() as session:
        preference = session.scalars(select(ContactPreference).where(ContactPreference.channel == "sms",
                                                                     ContactPreference.address == phone)).one()
        assert [(e["start"], e["end"]) for e in preference.inconvenient_times] == [("00:00", "12:00"),
                                                                                   ("18:00", "00:00")]
        events = session.scalars(select(AuditEvent).where(AuditEvent.kind == "inconvenient_time_marked")).all()
        assert any(e.rule_id == "TIME-1" and e.detail["channel"] == "sms" for e in events)
        account = session.scalars(select(Account).where(Account.account_ref == reference)).one()
        reminder = ScheduledMessage(account_id=account.id, channel="sms", address=phone, kind="reminder",
                                    text="Your next payment is due soon.", not_before=ten.astimezone(timezone.utc))
        session.add(reminder)
        session.flush()
        preference.last_inbound_at = ten.astimezone(timezone.utc) - timedelta(days=1)  # ID-5 holds
        verdict = outbound_gate.check_initiated(session, reminder, ten.astimezone(timezone.utc))
        session.rollback()
    assert not verdict.allowed and verdict.rule_ids == ("TIME-1",)
    assert verdict.defer_until.astimezone(zone).time() == time(12, 0)
