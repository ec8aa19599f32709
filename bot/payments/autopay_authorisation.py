"""The autopay authorisation (PLAN-2) and the debit notices it commits us to (PLAN-3).

- The choice on a plan's first payment page (AUTOPAY_FIELD) and the exact authorisation text beside it
  (authorisation_text), which the debtor agrees to and which is stored word for word.
- authorise(): the plan's first payment was applied with the debtor's "yes": the authorisation is kept for the
  card that payment was made with, and the PLAN-3 notices already due are queued. The ledger calls it while it
  applies that payment (ledger.apply_payment), so the receipt can carry the debtor's copy.
- The E-SIGN box (EMAIL-1) on the payment-done page of a payment that set up autopay: esign_offer() says whether
  to show it and with which words, record_esign() stores what the debtor chose, the same way the chat stores its
  answer (bot/compliance/esign.py: ticked, the PLAN-3 notices go by email; left empty, by text or not at all).
- PLAN-3 notices: a debit more than 5 days after the authorisation needs a notice sent 3 to 10 business days
  before it. schedule_notices() queues it 7 business days ahead (through the outbound queue and its gate);
  notice_state() tells the scheduler (autopay.py) whether a debit may go ahead.

Below the ledger, the pay links and the autopay scheduler: this module imports none of them."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot import audit, language, wording
from bot.compliance import esign, holds
from bot.config import Settings
from bot.db.models import (
    HANDED_OVER,
    Account,
    AutopayAuthorisation,
    DebitNotice,
    Debtor,
    EsignConsent,
    Installment,
    PayLink,
    Payment,
    Plan,
    ScheduledMessage,
)
from bot.local_dates import debtor_today, debtor_zone
from bot.money import format_cents
from bot.payments import texts
from bot.payments.messages import schedule_for_account
from bot.plans.service import UNPAID_INSTALLMENT

# The choice on a plan's first payment page (PLAN-2). Stripe limits a label to 50 characters, an option to 100.
AUTOPAY_KEY, AUTOPAY_YES, AUTOPAY_NO = "autopay", "yes", "no"
def autopay_field(language: str | None = None) -> dict[str, Any]:
    """The dropdown on Stripe's page, in the debtor's language (bot/wording/: autopay_*)."""
    return {
        "key": AUTOPAY_KEY, "type": "dropdown", "optional": False,
        "label": {"type": "custom", "custom": wording.say("autopay_field_label", language)},
        "dropdown": {"options": [
            {"label": wording.say("autopay_option_yes", language), "value": AUTOPAY_YES},
            {"label": wording.say("autopay_option_no", language), "value": AUTOPAY_NO},
        ]},
    }


AUTOPAY_FIELD = autopay_field()  # the English one
# What the page shows before the authorisation text; taken off again, in either language, to store the text alone.
AUTOPAY_PREFIX = wording.say("autopay_prefix")
AUTOPAY_PREFIXES = wording.every_language("autopay_prefix")

NO_NOTICE_WITHIN_DAYS = 5  # PLAN-3: a debit more than 5 days after the authorisation needs a notice
NOTICE_MIN_BUSINESS_DAYS, NOTICE_MAX_BUSINESS_DAYS = 3, 10
NOTICE_TARGET_BUSINESS_DAYS = 7  # inside 3-10, with room for quiet hours and frequency caps to defer it
NOTICE_LOOKAHEAD_DAYS = 16  # calendar days ahead to queue notices (10 business days and a weekend or two)
NOTICE_HOUR = time(10, 0)  # debtor's local time; the gate still applies TIME-1 and FREQ-1


def authorisation_text(session: Session, link: PayLink, settings: Settings, speaks: str | None = None) -> str:
    """PLAN-2: the autopay authorisation for the plan's payments after this one, as shown on the payment page, in
    `speaks` (the page's language, so the text and the words around it are one language), else the debtor's."""
    plan = session.get(Plan, link.plan_id)
    later = [i for i in plan.installments if i.id != link.installment_id and i.status in UNPAID_INSTALLMENT]
    if speaks is None:
        account = session.get(Account, plan.account_id)
        speaks = language.for_debtor(session, account.debtor_id if account is not None else None)
    if not later:
        return wording.say("authorisation_now", speaks, amount=format_cents(link.amount_cents, link.currency))
    amounts = sorted({i.amount_cents for i in later})
    amount_text = format_cents(amounts[0], link.currency) if len(amounts) == 1 else \
        wording.say("amount_range", speaks, low=format_cents(amounts[0], link.currency),
                    high=format_cents(amounts[-1], link.currency))
    return texts.authorisation(business=settings.business_name, support=settings.support_contact,
                               plan_reference=plan.reference, count=len(later), amount_text=amount_text,
                               first_due=later[0].due_date, last_due=later[-1].due_date, language=speaks)


def active_autopay(session: Session, plan_id: str) -> AutopayAuthorisation | None:
    return session.scalar(select(AutopayAuthorisation).where(AutopayAuthorisation.plan_id == plan_id,
                                                             AutopayAuthorisation.status == "active")
                          .order_by(AutopayAuthorisation.authorised_at.desc()).limit(1))


def authorise(session: Session, payment: Payment, link: PayLink, settings: Settings, now: datetime,
              consent_text: str | None) -> AutopayAuthorisation | None:
    """PLAN-2: the debtor paid a plan's first payment and ticked the authorisation: keep it, with the exact text
    they agreed to (`consent_text`, as the page showed it), and queue the PLAN-3 notices that are already due.

    The card is the one this payment was made with: the payment row carries it once the ledger has applied it."""
    existing = session.scalar(select(AutopayAuthorisation).where(AutopayAuthorisation.source_payment_id
                                                                 == payment.id))
    if existing is not None:
        return existing
    plan = session.get(Plan, link.plan_id)
    if plan is None:
        return None
    text = consent_text or authorisation_text(session, link, settings)
    auth = AutopayAuthorisation(plan_id=plan.id, account_id=payment.account_id, source_payment_id=payment.id,
                                stripe_customer_id=payment.stripe_customer_id,
                                stripe_payment_method_id=payment.stripe_payment_method_id,
                                card_brand=payment.card_brand, card_last4=payment.card_last4,
                                authorisation_text=text, authorised_at=now)
    session.add(auth)
    session.flush()
    audit.record(session, "autopay_authorised", rule_id="PLAN-2", account_id=payment.account_id,
                 conversation_id=payment.conversation_id,
                 detail={"plan": plan.reference, "authorisation_id": auth.id, "payment_id": payment.id})
    schedule_notices(session, settings, now, plan_id=plan.id)
    return auth


# --- E-SIGN consent on the web (EMAIL-1) --------------------------------------------------------------------------


def esign_offer(session: Session, checkout_session_id: str) -> str | None:
    """The box's words (WEB_CHECKBOX, the address masked) when the Checkout payment `checkout_session_id` set up
    autopay, the debtor has an email address and has not already agreed to email for it; None otherwise."""
    payment = session.scalar(select(Payment).where(Payment.stripe_checkout_session_id == checkout_session_id))
    if payment is None or payment.status != "succeeded" or session.scalar(select(AutopayAuthorisation.id).where(
            AutopayAuthorisation.source_payment_id == payment.id,
            AutopayAuthorisation.status == "active")) is None:
        return None
    debtor = session.get(Debtor, session.get(Account, payment.account_id).debtor_id)
    if not (debtor.email or "").strip():
        return None
    said = esign.decision(session, debtor.id, debtor.email)
    if said is not None and said.consented:
        return None
    return wording.say("esign_web_checkbox", language.for_debtor(session, debtor.id),
                       address=esign.masked(esign.normal(debtor.email)))


def record_esign(session: Session, checkout_session_id: str, ticked: bool, now: datetime) -> EsignConsent | None:
    """What the debtor chose in the box, stored word for word with the time (EMAIL-1); None when there was no box to
    choose in (an unknown session, no autopay, no email address, consent already given)."""
    question = esign_offer(session, checkout_session_id)
    if question is None:
        return None
    payment = session.scalar(select(Payment).where(Payment.stripe_checkout_session_id == checkout_session_id))
    debtor = session.get(Debtor, session.get(Account, payment.account_id).debtor_id)
    answer = esign.web_answer(ticked, language.for_debtor(session, debtor.id))
    return esign.record(session, debtor.id, debtor.email, question, answer, ticked, now, via="web",
                        conversation_id=payment.conversation_id, account_id=payment.account_id)


# --- PLAN-3 notices ----------------------------------------------------------------------------------------------


def schedule_notices(session: Session, settings: Settings, now: datetime, plan_id: str | None = None) -> int:
    """Queue the notice for each autopay installment due soon that needs one and has none yet."""
    query = select(AutopayAuthorisation).where(AutopayAuthorisation.status == "active")
    if plan_id is not None:
        query = query.where(AutopayAuthorisation.plan_id == plan_id)
    queued = 0
    for auth in session.scalars(query).all():
        plan = session.get(Plan, auth.plan_id)
        account = session.get(Account, plan.account_id)
        if plan.status != "active" or holds.hold_rule(session, account) is not None:
            continue  # DSP-2 and the other holds: no debit, so no notice of one
        debtor = session.get(Debtor, account.debtor_id)
        today = debtor_today(debtor, now)
        authorised_on = debtor_today(debtor, auth.authorised_at)
        for installment in plan.installments:
            if installment.status != "scheduled" or installment.due_date < authorised_on or \
                    installment.due_date > today + timedelta(days=NOTICE_LOOKAHEAD_DAYS):
                continue
            if not needs_notice(installment.due_date, authorised_on):
                continue
            if session.scalar(select(DebitNotice.id).where(DebitNotice.installment_id == installment.id,
                                                           DebitNotice.attempt == 1)) is not None:
                continue
            queue_notice(session, auth, plan, account, debtor, installment, today, now, None)
            queued += 1
    return queued


def needs_notice(debit_on: date, authorised_on: date) -> bool:
    return (debit_on - authorised_on).days > NO_NOTICE_WITHIN_DAYS


def queue_notice(session: Session, auth: AutopayAuthorisation, plan: Plan, account: Account, debtor: Debtor,
                 installment: Installment, today: date, now: datetime, existing: DebitNotice | None) -> bool:
    """The notice for one installment's first debit (a new one, or `existing` renewed when it went stale). False
    when there is no way to send it (no conversation, phone or email address: schedule_for_account audits that)."""
    send_on = max(texts.add_business_days(installment.due_date, -NOTICE_TARGET_BUSINESS_DAYS), today)
    debit_on = max(installment.due_date, texts.add_business_days(send_on, NOTICE_MIN_BUSINESS_DAYS))
    zone = debtor_zone(debtor)
    not_before = max(datetime.combine(send_on, NOTICE_HOUR, tzinfo=zone).astimezone(timezone.utc), now)
    speaks = language.for_debtor(session, debtor.id)
    card = texts.card_label(auth.card_brand, auth.card_last4, speaks) or texts.card_word(speaks)
    text = texts.debit_notice(amount_cents=min(installment.amount_cents, account.balance_cents),
                              currency=account.currency, debit_on=debit_on, card=card,
                              plan_reference=plan.reference, number=installment.number, count=plan.installment_count,
                              language=speaks)
    message = schedule_for_account(session, account, plan.conversation_id, "debit_notice", text, not_before)
    if message is None:
        return False
    if existing is None:
        session.add(DebitNotice(installment_id=installment.id, attempt=1, debit_on=debit_on,
                                scheduled_message_id=message.id))
    else:
        existing.debit_on, existing.scheduled_message_id = debit_on, message.id
    audit.record(session, "debit_notice_queued", rule_id="PLAN-3", account_id=account.id,
                 detail={"installment_id": installment.id, "debit_on": debit_on.isoformat(),
                         "send_on": send_on.isoformat()})
    session.flush()
    return True


def notice_state(session: Session, notice: DebitNotice | None, today: date, zone: Any) -> str:
    """PLAN-3 for one debit: "ok" (sent 3-10 business days ago and the debit date has come), "wait", "stale"
    (sent more than 10 business days ago), "blocked" (the gate stopped it: no notice, no debit) or "missing"."""
    if notice is None:
        return "missing"
    message = session.get(ScheduledMessage, notice.scheduled_message_id)
    # EMAIL-1: a notice that bounced or was given up on was never given; no debit rests on it.
    if message is None or message.status in ("blocked", "cancelled", "bounced", "failed"):
        return "blocked"
    if message.status not in HANDED_OVER or message.sent_at is None:
        return "wait"
    sent_on = message.sent_at.astimezone(zone).date()
    age = texts.business_days_between(sent_on, today)
    if age > NOTICE_MAX_BUSINESS_DAYS:
        return "stale"
    if age < NOTICE_MIN_BUSINESS_DAYS or today < notice.debit_on:
        return "wait"
    return "ok"
