"""The operations dashboard's figures: the six KPIs of bot/records/kpi.py (computed there, once), plus dollars,
DSO, bot-initiated messages sent and the feedback score, overall and by segment, campaign and channel.

Definitions are data (DEFINITIONS) so the page states exactly what it computed."""

from __future__ import annotations

import csv
import io
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot import campaigns, feedback, segments
from bot.db.models import HANDED_OVER, Account, Campaign, Conversation, LedgerEntry, ScheduledMessage
from bot.money import format_cents
from bot.records import kpi
from bot.records.export import csv_cell

DEFINITIONS = {
    "recovered": ("Recovered", "Dollars applied to accounts in the range (succeeded payments, by applied date), over "
                  "the accounts with a conversation in the range (the recovery rate's numerator)."),
    "dso": ("DSO (days sales outstanding)", "The articles' definition, DSO = accounts receivable ÷ total credit "
            "sales × number of days, read for a collections portfolio as: the balances still outstanding now on "
            "accounts placed by the end of the range ÷ the dollars placed with Settle in the range (each account's "
            "balance at placement: its balance now plus what was paid since, net of refunds) × the days in the "
            "range. Lower is better; no placements in the range means no DSO."),
    "messages_sent": ("Messages sent", "Bot-initiated messages (reminders, notices, campaign messages) that the "
                      "outbox handed to a channel in the range."),
    "feedback_score": ("Feedback score", "Debtors' answers to the end-of-conversation question (1-5), averaged; "
                       "questions asked in the range and answered."),
    "breakdowns": ("By segment, campaign and channel", "A segment's row counts the conversations of its accounts' "
                   "debtors (known once a debtor is verified) and the segment each account is in today; a "
                   "campaign's row counts the debtors its messages reached, and its own messages; a channel's row, "
                   "the conversations and messages on that channel."),
}


# --- debtor feedback ------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class FeedbackFigure:
    """The mean answer (1-5) to the end-of-conversation question in a range, and how many answers it is over."""

    average: float
    answers: int


def feedback_score(session: Session, lo: datetime, hi: datetime) -> FeedbackFigure | None:
    """bot/feedback.py's figure for questions asked in [lo, hi); None (the page says "no feedback yet") when no
    question asked then was answered."""
    figures = feedback.overall_feedback_score(session, since=lo, until=hi)
    if not figures.answered or figures.mean_score is None:
        return None
    return FeedbackFigure(average=figures.mean_score, answers=figures.answered)


# --- figures -------------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Dso:
    days: float | None
    outstanding_cents: int
    placed_cents: int
    range_days: int


@dataclass
class Group:
    """One row of a breakdown: the KPIs of one segment, campaign or channel."""

    kind: str  # overall | segment | campaign | channel
    name: str
    kpis: list[kpi.Kpi]
    messages_sent: int = 0

    def rate(self, key: str) -> float | None:
        return next(k.rate for k in self.kpis if k.key == key)

    def figure(self, key: str) -> kpi.Kpi:
        return next(k for k in self.kpis if k.key == key)

    @property
    def conversations(self) -> int:
        return self.figure("handoff_rate").denominator


@dataclass
class Dashboard:
    start: date
    last: date
    overall: Group
    dso: Dso
    feedback: FeedbackFigure | None
    groups: list[Group] = field(default_factory=list)

    @property
    def recovered_cents(self) -> int:
        return self.overall.figure("recovery_rate").numerator

    @property
    def outstanding_cents(self) -> int:
        f = self.overall.figure("recovery_rate")
        return f.denominator - f.numerator


def _bounds(start: date, end: date) -> tuple[datetime, datetime]:
    return datetime.combine(start, time(), timezone.utc), datetime.combine(end, time(), timezone.utc)


def dso(session: Session, start: date, end: date) -> Dso:
    """DSO as DEFINITIONS states it, for start <= day < end."""
    lo, hi = _bounds(start, end)
    outstanding = session.scalar(select(func.coalesce(func.sum(Account.balance_cents), 0)).where(
        Account.created_at < hi)) or 0
    placed_ids = list(session.scalars(select(Account.id).where(Account.created_at >= lo, Account.created_at < hi)))
    placed_now = session.scalar(select(func.coalesce(func.sum(Account.balance_cents), 0)).where(
        Account.id.in_(placed_ids))) or 0
    # A ledger entry is the change to the balance (a payment is negative, a refund positive): undoing all of them
    # gives the balance at placement.
    changes = session.scalar(select(func.coalesce(func.sum(LedgerEntry.amount_cents), 0)).where(
        LedgerEntry.account_id.in_(placed_ids))) or 0
    placed = int(placed_now) - int(changes)
    days = (end - start).days
    return Dso(int(outstanding) / placed * days if placed > 0 else None, int(outstanding), placed, days)


def _messages_sent(session: Session, lo: datetime, hi: datetime, *, channel: str | None = None,
                   accounts: Collection[str] | None = None) -> int:
    query = select(func.count()).select_from(ScheduledMessage).where(
        ScheduledMessage.status.in_(HANDED_OVER), ScheduledMessage.sent_at >= lo, ScheduledMessage.sent_at < hi)
    if channel is not None:
        query = query.where(ScheduledMessage.channel == channel)
    if accounts is not None:
        query = query.where(ScheduledMessage.account_id.in_(list(accounts)))
    return session.scalar(query) or 0


def _debtors(session: Session, account_ids: Collection[str]) -> set[str]:
    if not account_ids:
        return set()
    return set(session.scalars(select(Account.debtor_id).where(Account.id.in_(list(account_ids)))))


# The debtor channels' rows come first, in this order, even when empty; any other channel conversations came on (the
# REST integration API) follows, so the rows always add up to the whole.
MAIN_CHANNELS = ("web", "sms", "email")


def _channels(session: Session) -> list[str]:
    present = set(session.scalars(select(Conversation.channel).distinct()))
    return [*MAIN_CHANNELS, *sorted(present - set(MAIN_CHANNELS))]


def compute(session: Session, start: date, end: date, book: segments.SegmentBook | None = None,
            now: datetime | None = None) -> Dashboard:
    """Every figure for start <= day < end: overall, then by segment, campaign and channel."""
    lo, hi = _bounds(start, end)
    overall = Group("overall", "All", kpi.compute(session, start, end), _messages_sent(session, lo, hi))
    board = Dashboard(start, end - timedelta(days=1), overall, dso(session, start, end),
                      feedback_score(session, lo, hi))
    if book is not None:
        assignments = segments.assign_all(session, book, now)
        for segment in book.segments:
            ids = {a.facts.account_id for a in assignments if a.segment.name == segment.name}
            board.groups.append(Group("segment", segment.label, kpi.compute(
                session, start, end, debtor_ids=_debtors(session, ids)), _messages_sent(session, lo, hi,
                                                                                         accounts=ids)))
    for campaign in session.scalars(select(Campaign).order_by(Campaign.created_at)):
        ids = campaigns.accounts_reached(session, campaign.id)
        board.groups.append(Group("campaign", campaign.name, kpi.compute(
            session, start, end, debtor_ids=_debtors(session, ids)),
            campaigns.messages_sent(session, campaign.id, lo, hi)))
    for channel in _channels(session):
        board.groups.append(Group("channel", channel, kpi.compute(session, start, end, channel=channel),
                                  _messages_sent(session, lo, hi, channel=channel)))
    return board


# --- export --------------------------------------------------------------------------------------------------------

def _pct(rate: float | None) -> str:
    return "" if rate is None else f"{rate * 100:.1f}"


def as_csv(board: Dashboard) -> str:
    """One row per group; rates in percent, money in dollars, with the range and the overall DSO first."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["range", f"{board.start.isoformat()} to {board.last.isoformat()}"])
    writer.writerow(["dso_days", "" if board.dso.days is None else f"{board.dso.days:.1f}"])
    writer.writerow(["feedback_score", "" if board.feedback is None else f"{board.feedback.average:.2f}"])
    keys = [k for k in kpi.DEFINITIONS]
    writer.writerow(["group", "name", "conversations", "messages_sent", "recovered_dollars",
                     *[f"{k}_percent" for k in keys]])
    for group in [board.overall, *board.groups]:
        recovered = group.figure("recovery_rate").numerator
        writer.writerow([csv_cell(v) for v in (group.kind, group.name, group.conversations, group.messages_sent,
                                               f"{recovered / 100:.2f}", *[_pct(group.rate(k)) for k in keys])])
    return out.getvalue()


def dollars(cents: int) -> str:
    return format_cents(int(cents))
