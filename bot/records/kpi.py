"""The six KPIs of the operations dashboard for a date range [start, end) in UTC, each with its definition, its
numerator and denominator, and a per-day series for the charts. Conversation KPIs count conversations by the day
they started. bot/records/dashboard.py adds the dollars, DSO and the breakdowns by segment, campaign and channel."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.db.models import Account, Conversation, ConversationFlag, Handoff, Installment, Payment, Plan

DEFINITIONS = {
    "recovery_rate": ("Recovery rate", "Cents applied to accounts in the range (succeeded payments, by applied "
                      "date) ÷ those cents plus the accounts' balances now, over accounts with a conversation in "
                      "the range."),
    "ptp_kept_rate": ("Promise-to-pay kept rate", "Plan installments due in the range that were paid ÷ those "
                      "paid or missed (scheduled and cancelled ones are not counted)."),
    "right_party_contact_rate": ("Right-party contact rate", "Conversations started in the range in which the "
                                 "debtor passed identity verification ÷ conversations started in the range."),
    "dispute_rate": ("Dispute rate", "Conversations started in the range with a dispute flag ÷ conversations "
                     "started in the range."),
    "handoff_rate": ("Handoff rate", "Conversations started in the range with at least one handoff to a person ÷ "
                     "conversations started in the range."),
    "containment_rate": ("Containment rate", "Conversations started in the range finished without a person (no "
                         "handoff) ÷ conversations started in the range."),
}


@dataclass(frozen=True)
class Kpi:
    key: str
    label: str
    definition: str
    numerator: int
    denominator: int
    series: list[tuple[date, float | None]] = field(default_factory=list)

    @property
    def rate(self) -> float | None:
        return self.numerator / self.denominator if self.denominator else None


def _bounds(start: date, end: date) -> tuple[datetime, datetime]:
    if end <= start:
        raise ValueError("The end date must be after the start date.")
    return (datetime.combine(start, time(), timezone.utc), datetime.combine(end, time(), timezone.utc))


def _days(start: date, end: date) -> list[date]:
    return [start + timedelta(days=i) for i in range((end - start).days)]


def _kpi(key: str, per_day: dict[date, list[int]], days: list[date]) -> Kpi:
    num = sum(v[0] for v in per_day.values())
    den = sum(v[1] for v in per_day.values())
    series = [(d, per_day[d][0] / per_day[d][1] if per_day.get(d) and per_day[d][1] else None) for d in days]
    label, definition = DEFINITIONS[key]
    return Kpi(key, label, definition, num, den, series)


def compute(session: Session, start: date, end: date, *, channel: str | None = None,
            debtor_ids: Collection[str] | None = None) -> list[Kpi]:
    """The six KPIs for start <= day < end; only conversations on `channel`, or of the debtors `debtor_ids` (a
    segment's or a campaign's, known once verified), when given. With either filter, the promise-to-pay figure
    counts the installments of those conversations' accounts only."""
    lo, hi = _bounds(start, end)
    days = _days(start, end)
    in_range = [Conversation.started_at >= lo, Conversation.started_at < hi]
    if channel is not None:
        in_range.append(Conversation.channel == channel)
    if debtor_ids is not None:
        in_range.append(Conversation.debtor_id.in_(list(debtor_ids)))
    rows = session.execute(select(Conversation.id, Conversation.started_at, Conversation.verified_at,
                                  Conversation.account_id).where(*in_range)).all()
    # The range's conversations as a subquery, not their ids bound one by one: PostgreSQL joins along the indexes
    # (migration 0016) instead of receiving thousands of parameters per query (bench/scale.py).
    conversations = select(Conversation.id).where(*in_range)
    # A handoff or a flag is made during its conversation, so never before the range starts: bounding them by time
    # too lets PostgreSQL read them along their time index (what happened since `lo`) instead of hashing the whole
    # table, which grows with the record (bench/scale.py).
    handed = set(session.scalars(select(Handoff.conversation_id).where(
        Handoff.conversation_id.in_(conversations), Handoff.created_at >= lo)))
    disputed = set(session.scalars(select(ConversationFlag.conversation_id).where(
        ConversationFlag.conversation_id.in_(conversations), ConversationFlag.flag == "dispute",
        ConversationFlag.at >= lo)))
    by_kind: dict[str, dict[date, list[int]]] = {k: defaultdict(lambda: [0, 0]) for k in DEFINITIONS}
    for r in rows:
        day = r.started_at.astimezone(timezone.utc).date()
        for key, hit in (("right_party_contact_rate", r.verified_at is not None),
                         ("dispute_rate", r.id in disputed), ("handoff_rate", r.id in handed),
                         ("containment_rate", r.id not in handed)):
            by_kind[key][day][0] += int(hit)
            by_kind[key][day][1] += 1
    accounts = select(Conversation.account_id).where(*in_range, Conversation.account_id.is_not(None))
    # One primary-key probe per account of the range (a scalar subquery is never hashed): joining the accounts
    # instead made PostgreSQL hash a sequential scan of the whole table (500,000 rows at 10 million messages).
    in_range_accounts = accounts.distinct().subquery()
    balance = select(Account.balance_cents).where(Account.id == in_range_accounts.c.account_id).scalar_subquery()
    balances = {account_id: cents or 0 for account_id, cents in
                session.execute(select(in_range_accounts.c.account_id, balance)).all()}
    applied = session.execute(select(Payment.account_id, Payment.applied_cents, Payment.applied_at).where(
        Payment.account_id.in_(accounts), Payment.status == "succeeded", Payment.applied_at >= lo,
        Payment.applied_at < hi)).all()
    for p in applied:
        by_kind["recovery_rate"][p.applied_at.astimezone(timezone.utc).date()][0] += p.applied_cents
    total_applied = sum(p.applied_cents for p in applied)
    recovery_den = total_applied + sum(balances.values())
    due = select(Installment.due_date, Installment.status).where(
        Installment.due_date >= start, Installment.due_date < end, Installment.status.in_(("paid", "missed")))
    if channel is not None or debtor_ids is not None:
        due = due.join(Plan, Plan.id == Installment.plan_id).where(Plan.account_id.in_(accounts))
    installments = session.execute(due).all()
    for i in installments:
        by_kind["ptp_kept_rate"][i.due_date][0] += int(i.status == "paid")
        by_kind["ptp_kept_rate"][i.due_date][1] += 1
    result = [_kpi(k, by_kind[k], days) for k in DEFINITIONS]
    # Recovery's denominator is one figure for the range (balances are not kept per day): the series is cumulative.
    running, series = 0, []
    for d in days:
        running += by_kind["recovery_rate"].get(d, [0, 0])[0]
        series.append((d, running / recovery_den if recovery_den else None))
    result[0] = Kpi("recovery_rate", *DEFINITIONS["recovery_rate"], total_applied, recovery_den, series)
    return result
