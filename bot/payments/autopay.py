"""Autopay for plans: the card saved at a plan's first payment is charged off-session on each later due date.

Rules and policy (COMPLIANCE.md PLAN-2, PLAN-3, DSP-2; README "Payments"):
- Only with an active authorisation (PLAN-2): the debtor ticked the exact authorisation text on the payment page
  of the plan's first payment; its copy is in their receipt (recorded by autopay_authorisation.py when the
  ledger applies that payment). A chargeback or a person stops it.
- Never early (PLAN-3): an installment is charged on or after its due date in the debtor's own time zone, never
  before; installments due before the authorisation are left for the debtor to pay by link.
- Notice (PLAN-3): a debit more than 5 days after the authorisation needs a notice sent 3 to 10 business days
  before it. The scheduler queues the notice 7 business days ahead (through the outbound queue and its gate; the
  notices are in autopay_authorisation.py) and charges only when the notice actually went out in that window;
  if it went out late, the debit waits until it is 3 business days old (later, never earlier); if it is over 10
  business days old, a new one is sent. A notice that could not be given (the gate blocked it, it bounced or was
  given up on) means that debit never runs: the debtor is told once (DebitNotice.blocked_told_at) that it did not,
  with a pay-now link, and the installment is marked missed if it is still unpaid AUTOPAY_RETRY_BUSINESS_DAYS
  business days later.
- Never twice: each attempt has its own Payment row with a unique idempotency key
  ("autopay-<installment>-<attempt>"), claimed under a row lock on the installment (PostgreSQL FOR UPDATE SKIP
  LOCKED; SQLite serialises writers), and Stripe gets the same key on every retry. Two schedulers at once: one
  claims, the other skips; a claim left pending by a crash is re-driven with the same key after 5 minutes, so
  Stripe answers with the charge it already made.
- Decline or authentication required: the debtor gets a message with a pay-now link for that installment. A
  decline is retried once, AUTOPAY_RETRY_BUSINESS_DAYS (3) business days later; the message names that date and
  is the retry's PLAN-3 notice. Authentication required is not retried off-session (it would fail again): the
  link is the way to pay. If the retry fails too, or the authentication case is still unpaid on that date, the
  installment is marked missed and the debtor gets a last link; the plan goes on with its next date.
- Holds (DSP-2, CEASE-*, VUL-2): nothing is charged on a held account.
- A stop asked before verification (PLAN-2): "stop the automatic payments" from someone who never confirmed who
  they are is kept (keep_until_verified) and done if they verify. Until then, or until a person settles it (a
  handoff "autopay_stop", resolved), none of that debtor's installments is charged: not on the word of whoever
  asked, and not against it either.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from typing import Any

import stripe
from sqlalchemy import Engine, func, or_, select, update
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from bot import audit, handoff, language, wording
from bot.compliance import holds
from bot.config import Settings
from bot.db import session_scope
from bot.db.models import (
    Account,
    AuditEvent,
    AutopayAuthorisation,
    Conversation,
    DebitNotice,
    Debtor,
    Handoff,
    Installment,
    PayLink,
    Payment,
    Plan,
    ScheduledMessage,
)
from bot.local_dates import debtor_today, debtor_zone
from bot.payments import payment_intents, service, texts
from bot.payments.autopay_authorisation import (
    active_autopay,
    needs_notice,
    notice_state,
    queue_notice,
    schedule_notices,
)
from bot.payments.ledger import lock_row, new_reference
from bot.payments.messages import schedule_for_account as _schedule
from bot.wording import formats

log = logging.getLogger("settle.autopay")

STALE_CLAIM = timedelta(minutes=5)
MAX_ATTEMPTS = 2


def stop(session: Session, plan_id: str, reason: str, actor: str = "system", now: datetime | None = None,
         conversation_id: str | None = None) -> bool:
    """Stop autopay on a plan (the debtor revoked it, in the chat or through a person, or a chargeback). Pending
    notices for it are cancelled. Returns whether anything was active."""
    now = now or datetime.now(timezone.utc)
    auth = active_autopay(session, plan_id)
    if auth is None:
        return False
    auth.status, auth.stopped_at, auth.stopped_reason = "revoked" if actor != "system" else "stopped", now, reason
    notices = session.scalars(select(DebitNotice).join(Installment, Installment.id == DebitNotice.installment_id)
                              .where(Installment.plan_id == plan_id)).all()
    for notice in notices:
        message = session.get(ScheduledMessage, notice.scheduled_message_id)
        if message is not None and message.status == "pending" and message.kind == "debit_notice":
            message.status, message.reason = "cancelled", f"autopay stopped: {reason}"
    audit.record(session, "autopay_stopped", rule_id="PLAN-2", account_id=auth.account_id, actor=actor,
                 conversation_id=conversation_id, at=now, detail={"plan_id": plan_id, "reason": reason})
    return True


# --- the debtor revokes it (PLAN-2, Reg E 1005.10(c)) --------------------------------------------------------------
# The words decide, whatever the NLU guesses: a request to stop automatic payments is honoured at once, never left
# waiting for a person. Ending the plan itself is a person's job; its automatic debits stop at once all the same.
_STOP_EN = (r"stop|cancel|end|turn\s*off|switch\s*off|shut\s*off|revoke|remove|disable|pause|quit|no\s+more|"
            r"(?:do\s*n[o']?t|dont)\s+want|take\s+off|get\s+rid\s+of|opt\s+out\s+of|withdraw")
_AUTOPAY_EN = (r"auto[\s-]?pay(?:ments?)?|automatic(?:ally)?\s+(?:card\s+)?(?:payments?|charges?|debits?|"
               r"withdrawals?|billing|drafts?)|auto(?:matic)?[\s-]?(?:debits?|drafts?|withdrawals?|charges?)|"
               r"recurring\s+(?:payments?|charges?|debits?)|(?:charging|debiting|billing)\s+my\s+(?:card|account)")
_STOP_ES = (r"parar|pare|paren|detener|detenga|cancelar|cancele|cancela|cancelen|quitar|quite|quiten|suspender|"
            r"suspenda|desactivar|desactive|anular|anule|(?:ya\s+)?no\s+quiero|dejar\s+de|dejen\s+de|deje\s+de|"
            r"revocar|revoco|terminar")
_AUTOPAY_ES = (r"(?:pagos?|cargos?|cobros?|d[eé]bitos?)\s+autom[aá]tic[oa]s?|domiciliaci[oó]n|autopago|"
               r"cobrar(?:me)?\s+(?:de\s+|a\s+)?(?:mi\s+)?tarjeta|cargar(?:me)?\s+(?:a\s+|en\s+)?(?:mi\s+)?tarjeta|"
               r"(?:cobr|carg|descont|descuent|debit)\w*\s+autom[aá]ticamente")
_NOT = r"(?<!don't )(?<!dont )(?<!do not )(?<!never )(?<!no )"
STOP_AUTOPAY = re.compile(rf"\b{_NOT}(?:{_STOP_EN}|{_STOP_ES})\b.{{0,40}}?\b(?:{_AUTOPAY_EN}|{_AUTOPAY_ES})",
                          re.IGNORECASE | re.DOTALL)
# "ya no me cobren de mi tarjeta", "no me carguen más a la tarjeta": no stop word before the charge, the "no" says it.
STOP_CHARGES_ES = re.compile(r"\bno\s+(?:me\s+)?(?:cobren|cobre|carguen|cargue|descuenten|descuente|saquen)\b"
                             r".{0,20}?\b(?:tarjeta|cuenta)\b", re.IGNORECASE | re.DOTALL)
END_PLAN = re.compile(r"\b(?<!don't )(?<!do not )(?:cancel|end|stop|quit|close|terminate|get\s+out\s+of|drop|"
                      r"cancelar|cancele|terminar|anular|salirme\s+de|salir\s+de)\b.{0,20}?\bplan\b",
                      re.IGNORECASE | re.DOTALL)


def asks_to_stop(text: str) -> str | None:
    """"autopay" (stop the automatic payments), "plan" (end the plan itself, which stops them too) or None."""
    if STOP_AUTOPAY.search(text) or STOP_CHARGES_ES.search(text):
        return "autopay"
    if END_PLAN.search(text):
        return "plan"
    return None


def revoke_on_request(session: Session, conversation: Conversation, text: str, now: datetime,
                      speaks: str) -> list[str] | None:
    """PLAN-2: the debtor asked, in their own words, to stop automatic payments (or to end their plan): every active
    authorisation of theirs is revoked now (audited with PLAN-2, pending PLAN-3 notices cancelled) and they are told
    what that means and how to pay instead. None (the dialogue answers) when the words ask nothing of the kind, or
    the person is not verified (ID-1: nothing about the debt, autopay included, before that), or they asked to end a
    plan that has no automatic payments (a person changes plans)."""
    asked = asks_to_stop(text)
    if asked is None or conversation.debtor_id is None or conversation.verified_at is None:
        return None
    return _revoke(session, conversation, asked, now, speaks)


# PLAN-2: a request to stop automatic payments made before the person is identified, kept on the conversation (its
# audit event is the record) and honoured when they verify in it (honour_earlier_request, from bot/identity.py).
STOP_ASKED, STOP_HONOURED = "autopay_stop_asked", "autopay_stop_honoured"
# The dialogue intent that starts the identity check after such a request (and shows the plan once verified).
VERIFY_WITH_INTENT = "ask_plan_status"


def keep_until_verified(session: Session, conversation: Conversation, text: str, now: datetime,
                        speaks: str) -> list[str] | None:
    """PLAN-2 before verification: "stop the automatic payments" is kept (audited with PLAN-2) and the debtor told,
    in words that name no debt (DISC-3, ID-1: whoever holds the phone may not be the debtor), that it will be done
    once they are identified; the caller starts the identity check (VERIFY_WITH_INTENT). None when the words ask
    nothing of the kind, or the conversation is verified (revoke_on_request does it at once)."""
    asked = asks_to_stop(text)
    if asked is None or conversation.verified_at is not None:
        return None
    audit.record(session, STOP_ASKED, rule_id="PLAN-2", conversation_id=conversation.id, actor="debtor", at=now,
                 detail={"asked": asked})
    return [wording.say("autopay_stop_after_verify", speaks)]


# The handoff reason that asks a person to settle such a request when a charge falls due meanwhile.
STOP_REVIEW = "autopay_stop"


def unsettled_stop_request(session: Session, debtor: Debtor) -> AuditEvent | None:
    """PLAN-2: the earliest request to stop automatic payments made before the person was identified, in one of the
    debtor's conversations (verified once, or from the phone or email address their account has: a web chat from
    nobody known is no one's), that verification has not honoured and no person has settled since (a handoff for
    it resolved after it was asked), else None."""
    theirs = [Conversation.debtor_id == debtor.id]
    if debtor.phone:
        theirs.append((Conversation.channel == "sms") & (Conversation.external_id == debtor.phone))
    if debtor.email:
        theirs.append((Conversation.channel == "email")
                      & (func.lower(Conversation.external_id) == debtor.email.strip().lower()))
    asked = session.scalars(select(AuditEvent).join(Conversation, Conversation.id == AuditEvent.conversation_id)
                            .where(AuditEvent.kind == STOP_ASKED, or_(*theirs)).order_by(AuditEvent.id)).all()
    if not asked:
        return None  # the usual case: one indexed query
    conversation_ids = {event.conversation_id for event in asked}
    honoured = {(event.detail or {}).get("asked_event") for event in session.scalars(select(AuditEvent).where(
        AuditEvent.conversation_id.in_(conversation_ids), AuditEvent.kind == STOP_HONOURED))}
    settled = [h for h in session.scalars(select(Handoff).where(Handoff.conversation_id.in_(conversation_ids),
                                                                Handoff.resolved_at.is_not(None)))
               if h.reason == STOP_REVIEW or STOP_REVIEW in (h.details or {}).get("reasons", ())]
    for event in asked:
        if event.id in honoured:
            continue
        if any(h.conversation_id == event.conversation_id and h.resolved_at >= event.at for h in settled):
            continue
        return event
    return None


def honour_earlier_request(session: Session, conversation: Conversation, now: datetime, speaks: str) -> list[str]:
    """PLAN-2: a request to stop automatic payments made in this conversation before the person verified is carried
    out now that they have (called on verification, before anything else is said): every active authorisation of
    theirs revoked, as if asked now, and the replies saying so. [] when none is waiting."""
    asked = session.scalars(select(AuditEvent).where(AuditEvent.conversation_id == conversation.id,
                                                     AuditEvent.kind == STOP_ASKED).order_by(AuditEvent.id)).all()
    honoured = {(event.detail or {}).get("asked_event") for event in session.scalars(select(AuditEvent).where(
        AuditEvent.conversation_id == conversation.id, AuditEvent.kind == STOP_HONOURED))}
    waiting = [event for event in asked if event.id not in honoured]
    if not waiting or conversation.debtor_id is None:
        return []
    kinds = {(event.detail or {}).get("asked") for event in waiting}
    replies = _revoke(session, conversation, "plan" if "plan" in kinds else "autopay", now, speaks) or []
    for event in waiting:
        audit.record(session, STOP_HONOURED, rule_id="PLAN-2", conversation_id=conversation.id, actor="debtor",
                     at=now, detail={"asked_event": event.id})
    return replies


def _revoke(session: Session, conversation: Conversation, asked: str, now: datetime, speaks: str) -> list[str] | None:
    """Revoke every active authorisation of the conversation's debtor and say what that means (PLAN-2)."""
    plans = session.scalars(select(Plan).join(Account, Account.id == Plan.account_id).join(
        AutopayAuthorisation, AutopayAuthorisation.plan_id == Plan.id).where(
        Account.debtor_id == conversation.debtor_id, AutopayAuthorisation.status == "active")
        .order_by(Plan.created_at)).unique().all()
    if not plans:
        return [wording.say("autopay_none", speaks)] if asked == "autopay" else None
    replies = []
    for plan in plans:
        stop(session, plan.id, f"the debtor asked in the conversation ({asked})", actor="debtor", now=now,
             conversation_id=conversation.id)
        replies.append(wording.say("autopay_revoked", speaks, reference=plan.reference))
        due = [i for i in plan.installments if i.status in ("scheduled", "missed")]
        if due:
            account = session.get(Account, plan.account_id)
            replies.append(wording.say("autopay_revoked_next", speaks,
                                       amount=formats.money(due[0].amount_cents, account.currency, speaks),
                                       date=formats.long_date(due[0].due_date, speaks, year=False)))
    if asked == "plan":
        replies.append(wording.say("autopay_revoked_plan_person", speaks))
    return replies


# --- the scheduler -----------------------------------------------------------------------------------------------


@dataclass
class RunSummary:
    outcomes: dict[str, int] = field(default_factory=dict)
    lines: list[str] = field(default_factory=list)

    def add(self, installment_id: str, outcome: str) -> None:
        key = outcome.split(":", 1)[0]
        self.outcomes[key] = self.outcomes.get(key, 0) + 1
        self.lines.append(f"{installment_id}: {outcome}")


def charge_due(engine: Engine, client: stripe.StripeClient, settings: Settings, now: datetime | None = None,
               dry_run: bool = False) -> RunSummary:
    """One scheduler pass: queue PLAN-3 notices, then charge every autopay installment that is due."""
    now = now or datetime.now(timezone.utc)
    summary = RunSummary()
    if not dry_run:
        with session_scope(engine) as session:
            schedule_notices(session, settings, now)
    with session_scope(engine) as session:
        # A day's margin for time zones: each installment is checked against its debtor's own date below.
        candidates = session.scalars(
            select(Installment.id).join(Plan, Plan.id == Installment.plan_id)
            .join(AutopayAuthorisation, AutopayAuthorisation.plan_id == Plan.id)
            .where(Plan.status == "active", AutopayAuthorisation.status == "active",
                   Installment.status == "scheduled", Installment.due_date <= (now + timedelta(days=1)).date())
            .order_by(Installment.due_date, Installment.id)).all()
    for installment_id in dict.fromkeys(candidates):
        try:
            outcome = charge_installment(engine, client, settings, installment_id, now, dry_run)
        except Exception:  # one bad installment must not stop the others; it is retried next run
            log.exception("autopay failed for installment %s", installment_id)
            outcome = "error"
        summary.add(installment_id, outcome)
    return summary


@dataclass
class _Claim:
    payment_id: str
    params: dict[str, Any]
    key: str


def charge_installment(engine: Engine, client: stripe.StripeClient, settings: Settings, installment_id: str,
                       now: datetime, dry_run: bool = False) -> str:
    """Charge one installment if everything allows it; returns what happened (for the run's summary)."""
    try:
        with session_scope(engine) as session:
            claim = _claim(session, engine, settings, installment_id, now)
            if dry_run:
                session.rollback()
                return f"would charge {claim.params['amount']} cents" if isinstance(claim, _Claim) else claim
    except (IntegrityError, OperationalError):
        return "taken"  # another scheduler claimed this attempt at the same moment (SQLite: a write conflict)
    if not isinstance(claim, _Claim):
        return claim
    try:
        intent = client.v1.payment_intents.create(params=claim.params, options={"idempotency_key": claim.key})
    except stripe.CardError as exc:
        error = exc.error
        intent = getattr(error, "payment_intent", None)
        with session_scope(engine) as session:
            payment = session.get(Payment, claim.payment_id)
            code = getattr(error, "decline_code", None) or exc.code or "card_declined"  # the bank's reason
            record_failure(session, payment, code, exc.user_message or str(exc),
                           intent.id if intent is not None else None, settings, now)
        return f"declined:{code}"
    except stripe.InvalidRequestError as exc:
        # The saved card can't be used any more (detached, removed): like a decline, without a retry.
        with session_scope(engine) as session:
            record_failure(session, session.get(Payment, claim.payment_id), "authentication_required"
                           if exc.code == "authentication_required" else "payment_method_unusable", str(exc), None,
                           settings, now)
        return f"unusable:{exc.code}"
    except stripe.StripeError as exc:
        # 5xx, timeouts, network: unknown whether Stripe acted. The claim stays pending and is re-driven later
        # with the same idempotency key, so Stripe answers with what it did (never a second charge).
        log.warning("Stripe unavailable for installment %s: %s", installment_id, exc)
        return "stripe_unavailable"
    if intent.status != "succeeded":
        with session_scope(engine) as session:
            record_failure(session, session.get(Payment, claim.payment_id), "authentication_required",
                           f"payment status {intent.status}", intent.id, settings, now)
        return f"declined:{intent.status}"
    payment_intents.apply_intent(engine, client, settings, intent.to_dict(), None)
    return "charged"


def _claim(session: Session, engine: Engine, settings: Settings, installment_id: str, now: datetime) -> _Claim | str:
    query = select(Installment).where(Installment.id == installment_id, Installment.status == "scheduled")
    if engine.dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)  # another scheduler has it: skip, don't wait
    installment = session.scalar(query)
    if installment is None:
        return "taken"
    plan = session.get(Plan, installment.plan_id)
    account = session.get(Account, plan.account_id)
    debtor = session.get(Debtor, account.debtor_id)
    auth = active_autopay(session, plan.id)
    if auth is None or plan.status != "active":
        return "no_autopay"
    today = debtor_today(debtor, now)
    zone = debtor_zone(debtor)
    if installment.due_date > today:
        return "not_due"  # PLAN-3: never early
    if installment.due_date < debtor_today(debtor, auth.authorised_at):
        return "due_before_authorisation"  # not covered by what the debtor authorised: paid by link instead
    rule = holds.hold_rule(session, account)
    if rule is not None:
        return f"held:{rule}"  # DSP-2, CEASE-*, VUL-2: nothing is charged on a held account
    asked = unsettled_stop_request(session, debtor)
    if asked is not None and asked.conversation_id is not None:
        handoff.request(session, asked.conversation_id, STOP_REVIEW, rule_id="PLAN-2", account_id=account.id,
                        details={"autopay_stop_asked_at": asked.at.isoformat()}, now=now)
        return "held:PLAN-2"
    attempts = session.scalars(select(Payment).where(Payment.installment_id == installment.id,
                                                     Payment.method == "autopay").order_by(Payment.attempt)).all()
    last = attempts[-1] if attempts else None
    if last is not None and last.status == "pending":
        if now - last.updated_at < STALE_CLAIM:
            return "in_flight"
        return _as_claim(last, plan, account, installment)  # re-driven with the same key after a crash
    if last is not None and last.status in ("succeeded", "held"):
        return "done"
    attempt = 1
    if last is not None:  # failed
        retryable = last.failure_code not in ("authentication_required", "payment_method_unusable") and \
            last.attempt < MAX_ATTEMPTS
        if not retryable:
            deadline = _window_end(debtor_today(debtor, last.updated_at), settings)
            if last.attempt < MAX_ATTEMPTS and today < deadline:
                return "waiting_for_debtor"
            return mark_missed(session, installment, plan, account, settings, now)
        attempt = last.attempt + 1
    authorised_on = debtor_today(debtor, auth.authorised_at)
    if attempt > 1 or needs_notice(installment.due_date, authorised_on):
        notice = session.scalar(select(DebitNotice).where(DebitNotice.installment_id == installment.id,
                                                          DebitNotice.attempt == attempt))
        state = notice_state(session, notice, today, zone)
        if state in ("missing", "stale") and attempt == 1:
            if queue_notice(session, auth, plan, account, debtor, installment, today, now,
                            None if state == "missing" else notice):
                return "notice_queued" if state == "missing" else "notice_renewed"
            # PLAN-3: no way to give the notice, so no debit; once the window a blocked notice gets is over, the
            # installment is missed rather than tried again on every run for ever.
            if today < _window_end(installment.due_date, settings):
                return "notice_unsendable"
            return mark_missed(session, installment, plan, account, settings, now, because="notice_blocked")
        if state == "stale" or state == "missing":
            return mark_missed(session, installment, plan, account, settings, now)
        if state == "blocked":
            return _notice_blocked(session, notice, installment, plan, account, debtor, settings, today, now)
        if state != "ok":
            return f"notice_{state}"  # PLAN-3: no debit without its notice in the window
    amount = min(installment.amount_cents, account.balance_cents)
    if amount <= 0:
        installment.status = "cancelled"
        return "nothing_owed"
    payment = Payment(reference=new_reference(session), account_id=account.id,
                      conversation_id=plan.conversation_id, plan_id=plan.id, installment_id=installment.id,
                      method="autopay", attempt=attempt, idempotency_key=f"autopay-{installment.id}-{attempt}",
                      amount_cents=amount, currency=account.currency, stripe_customer_id=auth.stripe_customer_id,
                      stripe_payment_method_id=auth.stripe_payment_method_id, card_brand=auth.card_brand,
                      card_last4=auth.card_last4, created_at=now, updated_at=now)  # the run's clock: claim age
    session.add(payment)
    session.flush()  # the unique idempotency key: a second scheduler's claim fails here
    audit.record(session, "autopay_attempt", rule_id="PLAN-3", account_id=account.id,
                 detail={"installment_id": installment.id, "attempt": attempt, "amount_cents": amount})
    return _as_claim(payment, plan, account, installment)


def _notice_blocked(session: Session, notice: DebitNotice, installment: Installment, plan: Plan, account: Account,
                    debtor: Debtor, settings: Settings, today: date, now: datetime) -> str:
    """PLAN-3: the notice could not be given, so this debit never runs (nothing here charges). The debtor is told
    once, with a pay-now link; still unpaid AUTOPAY_RETRY_BUSINESS_DAYS business days later (the window of the
    authentication-required decline), the installment is missed. Paid by the link meanwhile, it is no longer
    "scheduled" and the scheduler never gets here."""
    # Tell once: only the run whose UPDATE sets the time tells (another run, or another scheduler at the same
    # moment, finds it set), as the outbox's queue claims a message.
    told = session.execute(update(DebitNotice).where(DebitNotice.id == notice.id, DebitNotice.blocked_told_at.is_(None))
                           .values(blocked_told_at=now).execution_options(synchronize_session=False)).rowcount == 1
    session.refresh(notice)  # the time it was set, by this run or an earlier one
    zone = debtor_zone(debtor)
    missed_on = _window_end(debtor_today(debtor, notice.blocked_told_at), settings)
    if told:
        link = _link(session, installment, settings, now, missed_on, debtor)
        message = None
        if link is not None:
            speaks = language.for_debtor(session, debtor.id)
            expires = texts.link_expiry(session.get(PayLink, link.link_id).expires_at, zone, speaks)
            text = texts.autopay_notice_blocked(amount_cents=min(installment.amount_cents, account.balance_cents),
                                                currency=account.currency, due=installment.due_date, url=link.url,
                                                expires=expires, missed_on=missed_on, language=speaks)
            # Through the outbox: the gate applies quiet hours, opt-outs, holds and caps, and says why if it can't.
            message = _schedule(session, account, plan.conversation_id, "autopay_notice_blocked", text, now)
        audit.record(session, "autopay_notice_blocked", rule_id="PLAN-3", account_id=account.id,
                     conversation_id=plan.conversation_id,
                     detail={"installment_id": installment.id, "attempt": notice.attempt,
                             "notice_message_id": notice.scheduled_message_id, "missed_on": missed_on.isoformat(),
                             "message_id": message.id if message is not None else None})
        return "notice_blocked:told"
    if today < missed_on:
        return "notice_blocked"
    return mark_missed(session, installment, plan, account, settings, now, because="notice_blocked")


def _window_end(day: date, settings: Settings) -> date:
    """The date a declined or unnoticed debit's installment is retried or counts as missed, from `day`."""
    return texts.add_business_days(day, settings.autopay_retry_business_days)


def _as_claim(payment: Payment, plan: Plan, account: Account, installment: Installment) -> _Claim:
    params = {
        "amount": payment.amount_cents, "currency": payment.currency.lower(),
        "customer": payment.stripe_customer_id, "payment_method": payment.stripe_payment_method_id,
        "off_session": True, "confirm": True, "payment_method_types": ["card"],
        "description": f"Plan {plan.reference} payment {installment.number} of {plan.installment_count}",
        "metadata": {"account_id": account.id, "plan_id": plan.id, "installment_id": installment.id,
                     "payment_id": payment.id, "attempt": str(payment.attempt)},
    }
    return _Claim(payment.id, params, payment.idempotency_key)


def record_failure(session: Session, payment: Payment, code: str, message: str, intent_id: str | None,
                   settings: Settings, now: datetime) -> None:
    """A declined off-session charge (from the API's answer or the payment_failed webhook, whichever comes
    first; the second finds it done): the debtor gets a pay-now link and the retry or missed date."""
    # Locked: the scheduler and the payment_failed webhook may both get here at once; the second waits, then sees
    # the payment failed already, so the installment is marked missed (and the debtor told) once.
    payment = lock_row(session, Payment, payment.id)
    if payment.status != "pending":
        return
    payment.status, payment.failure_code, payment.failure_message = "failed", code, message[:500]
    payment.stripe_payment_intent_id = payment.stripe_payment_intent_id or intent_id
    installment = session.get(Installment, payment.installment_id)
    plan = session.get(Plan, installment.plan_id)
    account = session.get(Account, plan.account_id)
    debtor = session.get(Debtor, account.debtor_id)
    today = debtor_today(debtor, now)
    audit.record(session, "autopay_declined", account_id=account.id, conversation_id=plan.conversation_id,
                 detail={"installment_id": installment.id, "attempt": payment.attempt, "code": code})
    session.flush()
    if payment.attempt >= MAX_ATTEMPTS:
        mark_missed(session, installment, plan, account, settings, now)
        return
    retry_on = _window_end(today, settings)
    retryable = code not in ("authentication_required", "payment_method_unusable")
    link = _link(session, installment, settings, now, retry_on, debtor)
    if link is None:
        return
    speaks = language.for_debtor(session, debtor.id)
    text = texts.autopay_declined(amount_cents=payment.amount_cents, currency=payment.currency,
                                  due=installment.due_date, reason=texts.decline_reason(code, speaks), url=link.url,
                                  retry_on=retry_on if retryable else None,
                                  missed_on=None if retryable else retry_on, language=speaks)
    message = _schedule(session, account, plan.conversation_id, "autopay_declined", text, now)
    if message is not None and retryable:
        # This message names the retry date: it is the retry's PLAN-3 notice.
        session.add(DebitNotice(installment_id=installment.id, attempt=payment.attempt + 1, debit_on=retry_on,
                                scheduled_message_id=message.id))
        session.flush()


def mark_missed(session: Session, installment: Installment, plan: Plan, account: Account, settings: Settings,
                now: datetime, because: str | None = None) -> str:
    """The installment is missed and the debtor gets a last link. `because` "notice_blocked": its debit never ran for
    want of its PLAN-3 notice, which the audit names so the compliance console shows why."""
    installment.status = "missed"
    audit.record(session, "installment_missed", rule_id="PLAN-3" if because == "notice_blocked" else None,
                 account_id=account.id, conversation_id=plan.conversation_id,
                 detail={"installment_id": installment.id, "plan": plan.reference, "number": installment.number,
                         **({"because": because} if because else {})})
    debtor = session.get(Debtor, account.debtor_id)
    link = _link(session, installment, settings, now, debtor_today(debtor, now) + timedelta(days=7), debtor)
    if link is not None:
        text = texts.missed(amount_cents=min(installment.amount_cents, account.balance_cents),
                            currency=account.currency, due=installment.due_date, url=link.url,
                            language=language.for_debtor(session, debtor.id))
        _schedule(session, account, plan.conversation_id, "installment_missed", text, now)
    return "missed"


def _link(session: Session, installment: Installment, settings: Settings, now: datetime, until: date,
          debtor: Debtor) -> service.NewLink | None:
    """A pay-now link for the installment, valid until the end of `until` in the debtor's zone."""
    end = datetime.combine(until + timedelta(days=1), time(0, 0), tzinfo=debtor_zone(debtor))
    ttl = max(end.astimezone(timezone.utc) - now, timedelta(hours=settings.pay_link_ttl_hours))
    try:
        return service.installment_link(session, installment, settings, now, ttl)
    except service.PaymentRefused as refused:
        # DSP-2 and the other holds: no link and no ask; the audit says why.
        audit.record(session, "autopay_link_refused", rule_id=refused.rule_id,
                     detail={"installment_id": installment.id})
        return None


# --- messages --------------------------------------------------------------------------------------------------
