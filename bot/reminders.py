"""Who gets a bot-initiated text, and what it says: installment reminders, missed-payment notes and a
first-contact campaign. `python -m bot send-reminders` runs it (bot/cli/send_reminders.py).

Each run:
  1. finds the candidates: an unpaid installment of an open plan due within REMINDER_DAYS_AHEAD days (in the
     debtor's own calendar), or one whose due date has passed; or, for a campaign, the accounts of a segment of
     the portfolio (one first-contact text per phone number);
  2. skips what may not or need not go (no phone, plan not open, already queued or sent, already in touch) and
     says why;
  3. queues the rest as ScheduledMessages (kinds installment_reminder, missed_payment, first_contact; channel sms
     to Debtor.phone) with an id derived from what the message is about, so a re-run or two runs at once never
     queue the same reminder twice (the primary key refuses it);
  4. hands them to bot.messaging.queue.process_due, where the outbound gate sends, defers (TIME-1, FREQ-1) or
     blocks (OPT-3, ID-4, ID-5, holds, TONE-1) each one at send time, adds the DISC-2 notice and the OPT-1 line,
     and records the outcome.
--dry-run does the same decisions in one transaction that is rolled back, printing for every debtor what would be
sent or exactly why not, and writes nothing.

Templates live here, in TEMPLATES, and nowhere else. The two that carry debt information start with the full
DISC-1 disclosure when the debtor has never had it; otherwise the gate's DISC-2 notice is enough. The first-contact
text is content-neutral (DISC-3): a neutral business name, that it is automated (DISC-4), an invitation to reply;
no debt, amount, creditor or even first name, because whoever holds that phone may not be the debtor."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from sqlalchemy import Engine, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot import audit, language, outreach_order, wording
from bot.compliance import outbound_gate
from bot.compliance.disclosures import debt_collector_disclosure
from bot.compliance.holds import hold_rule
from bot.config import Settings
from bot.db import session_scope
from bot.db.models import (
    HANDED_OVER,
    Account,
    AutopayAuthorisation,
    Conversation,
    Debtor,
    Installment,
    Message,
    Plan,
    ScheduledMessage,
)
from bot.local_dates import debtor_today, debtor_zone
from bot.messaging import outbox
from bot.messaging.queue import RunSummary, Transport, process_due
from bot.plans.service import OPEN_STATUSES
from bot.plans.terms import format_date
from bot.sms import SmsUnavailable
from bot.wording import formats

INSTALLMENT_REMINDER = "installment_reminder"
MISSED_PAYMENT = "missed_payment"
FIRST_CONTACT = "first_contact"
REMINDER_KINDS = (INSTALLMENT_REMINDER, MISSED_PAYMENT)
CAMPAIGNS = ("first-contact",)

# Every bot-initiated text's words, by the catalogue key (bot/wording/, one text per language). VOICE.md: plain,
# short, always a next step; figures from the ledger (TONE-2); no urgency, threats or guilt (TONE-1). The gate adds
# the DISC-2 notice to the two debt texts and the OPT-1 line to all three, in the same language.
TEMPLATES = {
    INSTALLMENT_REMINDER: "reminder_installment",
    MISSED_PAYMENT: "reminder_missed",
    # DISC-3: nothing about a debt, nothing that names the creditor or the debtor.
    FIRST_CONTACT: "first_contact",
}


def render(kind: str, settings: Settings, language: str | None = None, **values: str) -> str:
    return wording.say(TEMPLATES[kind], language, business=settings.business_name,
                       support=settings.support_contact, **values)


# --- candidates ---------------------------------------------------------------------------------------------------


@dataclass
class Candidate:
    """One possible text (or, with `skip`, why there is none) for one debtor."""

    debtor: Debtor
    account: Account
    kind: str
    about: str  # for the report: "payment 2 of 6 on plan K7M2QX, due Friday, March 6, 2026"
    address: str | None = None
    text: str = ""
    key: tuple[str, ...] = ()
    skip: str | None = None
    installment_id: str | None = None


def message_id_for(kind: str, *key: str) -> str:
    """The ScheduledMessage id for what a message is about: the same reminder always gets the same id, so the
    primary key makes queueing idempotent even for two runs at once. The key holds a random row id, so nothing
    can be inferred from the id (as with bot.db.models.new_id)."""
    digest = hashlib.sha256("\x1f".join((kind, *key)).encode()).digest()
    return f"out_{base64.b32encode(digest).decode().lower()[:20]}"


def _disclosed(session: Session, debtor_id: str) -> bool:
    """DISC-1 was given to this debtor in some conversation."""
    return session.scalar(select(Conversation.id).where(
        Conversation.debtor_id == debtor_id, Conversation.disclosure_given_at.is_not(None)).limit(1)) is not None


def installment_candidates(session: Session, settings: Settings, now: datetime,
                           days_ahead: int | None = None) -> list[Candidate]:
    """Per plan: the next unpaid installment due within days_ahead (a reminder), and the latest one whose due
    date has passed unpaid (a missed-payment note). Plans that are not open are reported, not texted."""
    days = settings.reminder_days_ahead if days_ahead is None else days_ahead
    horizon = now.astimezone(timezone.utc).date() + timedelta(days=days + 1)  # widest zone; trimmed per debtor
    rows = session.execute(
        select(Installment, Plan, Account, Debtor)
        .join(Plan, Plan.id == Installment.plan_id).join(Account, Account.id == Plan.account_id)
        .join(Debtor, Debtor.id == Account.debtor_id)
        .where(Installment.status.in_(("scheduled", "missed")), Installment.due_date <= horizon)
        .order_by(Account.account_ref, Plan.id, Installment.due_date)
    ).all()
    by_plan: dict[str, tuple[Plan, Account, Debtor, list[Installment]]] = {}
    for installment, plan, account, debtor in rows:
        by_plan.setdefault(plan.id, (plan, account, debtor, []))[3].append(installment)
    autopay = _autopay_plans(session, list(by_plan))
    found: list[Candidate] = []
    for plan, account, debtor, installments in by_plan.values():
        today = debtor_today(debtor, now)
        if plan.id in autopay:
            # bot/payments/autopay.py texts these itself: the PLAN-3 debit notice, a decline, a missed payment.
            found.append(Candidate(debtor, account, INSTALLMENT_REMINDER, f"plan {plan.reference}",
                                   address=debtor.phone, skip="autopay is on: the payment texts come from "
                                   "charge-installments (PLAN-3 notice, decline, missed)"))
            continue
        missed = [i for i in installments if i.due_date < today]
        upcoming = [i for i in installments if today <= i.due_date <= today + timedelta(days=days)
                    and i.status == "scheduled"]
        picks = ([(MISSED_PAYMENT, missed[-1])] if missed else []) + \
                ([(INSTALLMENT_REMINDER, upcoming[0])] if upcoming else [])
        for kind, installment in picks:
            found.append(_installment_candidate(session, settings, kind, installment, plan, account, debtor))
    return found


def _autopay_plans(session: Session, plan_ids: Sequence[str]) -> set[str]:
    if not plan_ids:
        return set()
    return set(session.scalars(select(AutopayAuthorisation.plan_id).where(
        AutopayAuthorisation.plan_id.in_(plan_ids), AutopayAuthorisation.status == "active")))


def _installment_candidate(session: Session, settings: Settings, kind: str, installment: Installment, plan: Plan,
                           account: Account, debtor: Debtor) -> Candidate:
    about = (f"payment {installment.number} of {plan.installment_count} on plan {plan.reference}, "
             f"due {format_date(installment.due_date)}")
    candidate = Candidate(debtor, account, kind, about, address=debtor.phone, installment_id=installment.id,
                          key=(installment.id, installment.due_date.isoformat()))
    if plan.status not in OPEN_STATUSES:
        candidate.skip = f"plan {plan.reference} is {plan.status.replace('_', ' ')}, not active"
        return candidate
    if not debtor.phone:
        candidate.skip = "no phone number on file"
        return candidate
    # The debtor's language, as the gate will read it for the DISC-2 and OPT-1 lines (bot/language.py).
    speaks = language.for_contact(session, "sms", debtor.phone, debtor.id)
    text = render(kind, settings, speaks, number=str(installment.number), count=str(plan.installment_count),
                  reference=plan.reference, amount=formats.money(installment.amount_cents, account.currency, speaks),
                  due=formats.long_date(installment.due_date, speaks))
    # DISC-1: the first message with debt information carries the full disclosure.
    candidate.text = text if _disclosed(session, debtor.id) else f"{debt_collector_disclosure(speaks)} {text}"
    return candidate


def parse_segment(segment: str) -> str | None:
    """"all" -> None (the whole portfolio); "creditor=Acme Bank" -> "Acme Bank". ValueError otherwise."""
    value = segment.strip()
    if value.lower() == "all":
        return None
    name, _, creditor = value.partition("=")
    if name.strip().lower() != "creditor" or not creditor.strip():
        raise ValueError(f"segment must be 'all' or 'creditor=NAME', got {segment!r}")
    return creditor.strip()


def first_contact_candidates(session: Session, settings: Settings, creditor: str | None) -> list[Candidate]:
    """One candidate per account of the segment; one text per phone number (shared numbers are reported)."""
    query = select(Account, Debtor).join(Debtor, Debtor.id == Account.debtor_id).order_by(Account.account_ref)
    if creditor is not None:
        query = query.where(Account.creditor == creditor)
    found: list[Candidate] = []
    taken: dict[str, str] = {}  # phone -> the account ref whose text covers it
    for account, debtor in session.execute(query).all():
        candidate = Candidate(debtor, account, FIRST_CONTACT, "first contact", address=debtor.phone,
                              key=(account.id,))
        found.append(candidate)
        if not debtor.phone:
            candidate.skip = "no phone number on file"
        elif debtor.phone in taken:
            candidate.skip = f"same phone number as {taken[debtor.phone]}: one first-contact text per number"
        elif (rule := hold_rule(session, account)) is not None:
            # A ceased, disputed, paused or closed account is not a first contact to start (CEASE-*, DSP-2, VUL-2).
            candidate.skip = f"account on hold ({rule}, status {account.status})"
        elif (why := _already_in_touch(session, debtor)) is not None:
            candidate.skip = why
        else:
            taken[debtor.phone] = account.account_ref
            candidate.text = render(FIRST_CONTACT, settings, language.for_contact(session, "sms", debtor.phone,
                                                                                  debtor.id))
    return found


def _already_in_touch(session: Session, debtor: Debtor) -> str | None:
    texted = session.scalar(select(Message.created_at).join(Conversation, Conversation.id == Message.conversation_id)
                            .where(Conversation.channel == "sms", Conversation.external_id == debtor.phone,
                                   Message.direction == "in").order_by(Message.id.desc()).limit(1))
    if texted is not None:
        return f"already in touch: texted us on {texted:%Y-%m-%d}"
    verified = session.scalar(select(Conversation.id).where(Conversation.debtor_id == debtor.id).limit(1))
    if verified is not None:
        return "already in touch: has talked with us in a conversation"
    return None


# --- decisions -----------------------------------------------------------------------------------------------------


@dataclass
class Outcome:
    candidate: Candidate
    action: str  # queued | skipped | would-send | would-defer | would-block | unchanged
    detail: str = ""
    message_id: str | None = None
    label: str = ""  # filled in by run(), for the report
    zone: str | None = None


def _existing(session: Session, candidate: Candidate) -> ScheduledMessage | None:
    """An equivalent message already queued or sent: the same id, or (first contact) any to that number."""
    found = session.get(ScheduledMessage, message_id_for(candidate.kind, *candidate.key))
    if found is None and candidate.kind == FIRST_CONTACT:
        found = session.scalar(select(ScheduledMessage).where(
            ScheduledMessage.kind == FIRST_CONTACT, ScheduledMessage.address == candidate.address,
            ScheduledMessage.status.in_(("pending", *HANDED_OVER))).limit(1))
    return found


def _local(when: datetime, debtor: Debtor | str | None) -> str:
    zone = debtor_zone(debtor)
    return f"{when.astimezone(zone):%a %b %d %H:%M} {getattr(zone, 'key', 'UTC')}"


def explain(verdict: outbound_gate.Verdict, debtor: Debtor, now: datetime) -> str:
    """The gate's verdict in words, with times in the debtor's own zone."""
    if verdict.allowed:
        return "send now"
    rules = ", ".join(verdict.rule_ids)
    # Some reasons already start with their rule ("FREQ-1: ..."); say the rule once.
    reasons = "; ".join(r.removeprefix(f"{rules}: ") for r in verdict.reasons)
    if verdict.defer_until is not None:
        if "TIME-1" in verdict.rule_ids:
            why = f"quiet hours (TIME-1): it is {_local(now, debtor)}"
        else:
            why = f"{rules}: {reasons}"
        return f"defer to {_local(verdict.defer_until, debtor)} ({why})"
    return f"block ({rules}: {reasons})"


def _skip_existing(existing: ScheduledMessage, debtor: Debtor) -> str:
    if existing.status in HANDED_OVER and existing.sent_at is not None:
        return f"already sent on {_local(existing.sent_at, debtor)}"
    if existing.status == "pending":
        rules = f" ({', '.join(existing.rule_ids)})" if existing.rule_ids else ""
        return f"already queued for {_local(existing.not_before, debtor)}{rules}"
    return f"already {existing.status}"


def decide(session: Session, candidates: Sequence[Candidate], now: datetime, *, dry_run: bool) -> list[Outcome]:
    """Queue each candidate (or, dry run, ask the gate what it would do). Everything happens in `session`; the
    caller commits (real run) or rolls back (dry run)."""
    outcomes: list[Outcome] = []
    for candidate in candidates:
        if candidate.skip is not None:
            outcomes.append(Outcome(candidate, "skipped", candidate.skip))
            continue
        message_id = message_id_for(candidate.kind, *candidate.key)
        existing = _existing(session, candidate)
        if existing is not None and existing.status in ("pending", *HANDED_OVER):
            outcomes.append(Outcome(candidate, "skipped", _skip_existing(existing, candidate.debtor), existing.id))
            continue
        if existing is not None:
            # Blocked or cancelled before (e.g. ID-5): try again only if the gate would now let it go. The
            # probe is never added to the session, so a refusal writes nothing (no audit noise on every run).
            verdict = outbound_gate.check_initiated(session, _probe(candidate, now), now)
            if not verdict.allowed and verdict.defer_until is None:
                outcomes.append(Outcome(candidate, "skipped", f"still {existing.status}: "
                                        f"{', '.join(verdict.rule_ids)}: {'; '.join(verdict.reasons)}",
                                        existing.id))
                continue
            existing.status, existing.rule_ids, existing.reason = "pending", None, None
            existing.text, existing.not_before = candidate.text, now
            message = existing
        else:
            message = _queue(session, message_id, candidate, now, savepoint=not dry_run)
            if message is None:
                outcomes.append(Outcome(candidate, "skipped", "queued by another run just now", message_id))
                continue
        if not dry_run:
            outcomes.append(Outcome(candidate, "queued", "", message.id))
            continue
        verdict = outbound_gate.check_initiated(session, message, now)
        if verdict.allowed:
            # So that FREQ-1 counts it for this debtor's next candidate in the same dry run (rolled back).
            message.status, message.sent_at = "sent", now
            session.flush()
        action = "would-send" if verdict.allowed else ("would-defer" if verdict.defer_until else "would-block")
        outcomes.append(Outcome(candidate, action, explain(verdict, candidate.debtor, now), message.id))
    return outcomes


def _probe(candidate: Candidate, now: datetime) -> ScheduledMessage:
    return ScheduledMessage(account_id=candidate.account.id, channel="sms", address=candidate.address,
                            kind=candidate.kind, text=candidate.text, not_before=now)


def _queue(session: Session, message_id: str, candidate: Candidate, now: datetime,
           savepoint: bool = True) -> ScheduledMessage | None:
    """outbox.schedule() with the idempotent id. A run that
    lost the race to another gets None. The dry run flushes without a savepoint: with pysqlite, a savepoint opened
    before any other write is committed by its release, and the dry run's rollback could not undo it."""
    def queue() -> ScheduledMessage:
        return outbox.schedule(session, account_id=candidate.account.id, channel="sms", address=candidate.address,
                               kind=candidate.kind, text=candidate.text, not_before=now, message_id=message_id)

    if not savepoint:
        return queue()
    try:
        with session.begin_nested():
            return queue()
    except IntegrityError:
        return None


def cancel_stale(session: Session, settings: Settings, now: datetime) -> list[ScheduledMessage]:
    """Pending reminders whose installment was paid, rescheduled or whose plan closed: cancelled, so a deferred
    reminder never goes out about a payment that is no longer due."""
    pending = session.scalars(select(ScheduledMessage).where(
        ScheduledMessage.status == "pending", ScheduledMessage.kind.in_(REMINDER_KINDS))).all()
    if not pending:
        return []
    valid: set[str] = set()
    accounts = {m.account_id for m in pending if m.account_id}
    rows = session.execute(select(Installment, Plan, Debtor).join(Plan, Plan.id == Installment.plan_id)
                           .join(Account, Account.id == Plan.account_id).join(Debtor, Debtor.id == Account.debtor_id)
                           .where(Plan.account_id.in_(accounts), Plan.status.in_(OPEN_STATUSES),
                                  Installment.status.in_(("scheduled", "missed")))).all()
    autopay = _autopay_plans(session, list({plan.id for _, plan, _ in rows}))
    for installment, plan, debtor in rows:
        if plan.id in autopay:
            continue  # autopay took over: its own texts replace ours
        key = (installment.id, installment.due_date.isoformat())
        today = debtor_today(debtor, now)
        valid.add(message_id_for(MISSED_PAYMENT, *key))
        if installment.status == "scheduled" and installment.due_date >= today:
            valid.add(message_id_for(INSTALLMENT_REMINDER, *key))
    stale = [m for m in pending if m.id not in valid]
    for message in stale:
        message.status, message.reason = "cancelled", "installment no longer due, plan not open or on autopay"
        audit.record(session, "reminder_cancelled", account_id=message.account_id,
                     detail={"message_id": message.id, "kind": message.kind})
    return stale


# --- a run ----------------------------------------------------------------------------------------------------------


@dataclass
class Report:
    outcomes: list[Outcome] = field(default_factory=list)
    cancelled: int = 0
    summary: RunSummary | None = None
    stopped: str | None = None  # the run stopped early (Twilio unreachable): what is left goes next time
    lines: list[str] = field(default_factory=list)


def _label(candidate: Candidate) -> str:
    phone = f"***{candidate.address[-4:]}" if candidate.address else "no phone"
    return f"{candidate.account.account_ref} ({phone}) {candidate.kind}"


def run(engine: Engine, settings: Settings, transport: Transport, *, now: datetime | None = None,
        dry_run: bool = False, campaign: str | None = None, segment: str = "all",
        out: Callable[[str], None] = print) -> Report:
    """One pass: find, decide, queue, send (process_due). A dry run prints every decision and writes nothing."""
    now = (now or datetime.now(timezone.utc)).astimezone(timezone.utc)
    report = Report()

    def say(line: str) -> None:
        report.lines.append(line)
        out(line)

    what = f"first-contact campaign ({segment})" if campaign else "installment reminders"
    say(f"{'Dry run: ' if dry_run else ''}{what} at {now:%Y-%m-%d %H:%M} UTC")
    with session_scope(engine, rehearsal=dry_run) as session:  # a dry run decides everything, then rolls back
        if campaign:
            if campaign not in CAMPAIGNS:
                raise ValueError(f"unknown campaign {campaign!r}; known: {', '.join(CAMPAIGNS)}")
            candidates = first_contact_candidates(session, settings, parse_segment(segment))
        else:
            stale = cancel_stale(session, settings, now)
            report.cancelled = len(stale)
            for message in stale:
                say(f"  {message.id} {message.kind}: {'would cancel' if dry_run else 'cancelled'} "
                    "(installment no longer due, plan not open or on autopay)")
            candidates = installment_candidates(session, settings, now)
        # The order in force (bot/outreach_order.py): propensity to pay with a model, else segment priority.
        candidates = outreach_order.order(session, candidates, lambda c: c.account.id, now)
        report.outcomes = decide(session, candidates, now, dry_run=dry_run)
        # Worded now, while the rows are loaded (a dry run's rollback expires them).
        if not report.outcomes:
            say("  nobody to text")
        for outcome in report.outcomes:
            outcome.label = _label(outcome.candidate)
            outcome.zone = outcome.candidate.debtor.timezone
            if outcome.action == "skipped":
                words = f"skip: {outcome.detail}"
            elif outcome.action == "queued":
                words = "queued"
            else:  # the gate's verdict: "send now", "defer to ... (why)", "block (rules: why)"
                words = f"would {outcome.detail}"
            say(f"  {outcome.label} [{outcome.candidate.about}] {words}")
    if dry_run:
        say("Already queued and due now (what the gate would do):")
        with session_scope(engine) as session:
            due = session.scalar(select(func.count()).select_from(ScheduledMessage).where(
                ScheduledMessage.status == "pending", ScheduledMessage.not_before <= now))
        if not due:
            say("  none")
        report.summary = process_due(engine, transport, now=now, dry_run=True)
        return report
    try:
        report.summary = process_due(engine, transport, now=now)
    except SmsUnavailable as exc:
        report.stopped = f"Twilio could not be reached ({exc}); what is left stays queued for the next run"
        say(f"Stopped: {report.stopped}")
    _report_results(engine, report, say)
    if report.summary is not None:
        s = report.summary
        say(f"Sent {s.sent}, deferred {s.deferred}, blocked {s.blocked}.")
    return report


def _report_results(engine: Engine, report: Report, say: Callable[[str], None]) -> None:
    """What process_due did with the messages queued this run (sent, deferred with the rule, blocked)."""
    queued = [o for o in report.outcomes if o.action == "queued" and o.message_id]
    if not queued:
        return
    with session_scope(engine) as session:
        for outcome in queued:
            message = session.get(ScheduledMessage, outcome.message_id)
            if message is None:
                continue
            debtor = outcome.zone
            rules = ", ".join(message.rule_ids or [])
            if message.status in HANDED_OVER:
                result = message.status
            elif message.status == "pending" and rules:
                result = f"deferred to {_local(message.not_before, debtor)} ({rules}: {message.reason})"
            elif message.status == "pending":
                result = "still queued"
            else:
                result = f"{message.status} ({rules}: {message.reason})"
            say(f"  {outcome.label}: {result}")

