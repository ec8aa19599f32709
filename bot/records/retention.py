"""Retention and purge (REC-1): collection records are kept for policy/retention.yml's years after the last
collection activity on a debtor's accounts (12 CFR 1006.100 asks for 3), then deleted and the debtor anonymised.

A debtor with an open plan or an open dispute is never expired, however old the activity. The purge keeps the
conversation rows (plans, payments and disputes point at them) but deletes their messages, transcript entries,
flags, reviews, notes, annotations and audit events, blanks the text and address of the bot-initiated messages, the
dispute statements and the handoff details, and seals each one as purged: an HMAC, keyed like the
transcript chain, over its id, the chain's final length and head and the purge time. So the verifier can tell a
purge from rows deleted by hand, and nobody without the key can pass a deletion off as a purge."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path

from sqlalchemy import delete, func, or_, select
from sqlalchemy.orm import Session

from bot import audit
from bot.compliance.policy_files import read_yaml
from bot.db.models import (
    Account,
    AgentNote,
    AuditEvent,
    Conversation,
    ConversationFlag,
    ConversationIntent,
    ConversationReview,
    Debtor,
    Dispute,
    Handoff,
    LedgerEntry,
    Message,
    Payment,
    Plan,
    ReviewAnnotation,
    SavedMessage,
    ScheduledMessage,
    TranscriptEntry,
)
from bot.records.transcript import hmac_key

RULE_ID = "REC-1"
DEFAULT_RETENTION_PATH = Path(__file__).resolve().parents[2] / "policy" / "retention.yml"
OPEN_PLAN_STATUSES = ("awaiting_first_payment", "active")
OPEN_DISPUTE_STATUSES = ("open",)
PURGED_NAME = "purged"
PURGED_DOB = date(1900, 1, 1)


class RetentionPolicyError(ValueError):
    pass


class StillRetained(ValueError):
    """The debtor is no longer expired (new activity, an open plan or dispute): the purge leaves it whole."""


@dataclass(frozen=True)
class RetentionPolicy:
    years_after_last_activity: int


def load_retention_policy(path: str | Path = DEFAULT_RETENTION_PATH) -> RetentionPolicy:
    """Load and validate policy/retention.yml. Raises RetentionPolicyError naming the bad field."""
    name = Path(path).name
    raw = read_yaml(path, RetentionPolicyError)
    if not isinstance(raw, dict):
        raise RetentionPolicyError(f"{name}: expected a mapping with years_after_last_activity")
    unknown = sorted(set(raw) - {"years_after_last_activity"})
    if unknown:
        raise RetentionPolicyError(f"{name}: unknown field(s): {', '.join(map(str, unknown))}")
    years = raw.get("years_after_last_activity")
    if isinstance(years, bool) or not isinstance(years, int):
        raise RetentionPolicyError(f"{name}: years_after_last_activity must be a whole number of years")
    # 12 CFR 1006.100: records are kept at least three years after the last collection activity.
    if years < 3:
        raise RetentionPolicyError(f"{name}: years_after_last_activity must be at least 3 (12 CFR 1006.100)")
    return RetentionPolicy(years_after_last_activity=years)


def add_years(moment: datetime, years: int) -> datetime:
    try:
        return moment.replace(year=moment.year + years)
    except ValueError:  # 29 February into a common year
        return moment.replace(year=moment.year + years, day=28)


@dataclass
class Candidate:
    """One debtor whose retention has ended, and what the purge would take."""

    debtor_id: str
    account_refs: list[str]
    conversation_ids: list[str]
    last_activity_at: datetime
    retention_ends_at: datetime
    counts: dict[str, int] = field(default_factory=dict)


def _conversation_ids(session: Session, debtor_id: str, account_ids: list[str]) -> list[str]:
    clauses = [Conversation.debtor_id == debtor_id]
    if account_ids:
        clauses.append(Conversation.account_id.in_(account_ids))
    return list(session.scalars(select(Conversation.id).where(or_(*clauses)).order_by(Conversation.started_at,
                                                                                        Conversation.id)))


def last_activity(session: Session, debtor: Debtor) -> datetime:
    """The latest collection activity on this debtor: messages, sent reminders, payments, plans, disputes, ledger
    entries and audit events of its accounts and conversations; the account's placement when nothing else happened."""
    account_ids = list(session.scalars(select(Account.id).where(Account.debtor_id == debtor.id)))
    conversation_ids = _conversation_ids(session, debtor.id, account_ids)
    moments: list[datetime | None] = [debtor.created_at]
    if account_ids:
        moments.append(session.scalar(select(func.max(Account.created_at)).where(Account.id.in_(account_ids))))
        for column, owner in ((Payment.updated_at, Payment.account_id), (Payment.created_at, Payment.account_id),
                              (Plan.created_at, Plan.account_id), (Dispute.created_at, Dispute.account_id),
                              (LedgerEntry.created_at, LedgerEntry.account_id), (AuditEvent.at, AuditEvent.account_id),
                              (ScheduledMessage.sent_at, ScheduledMessage.account_id)):
            moments.append(session.scalar(select(func.max(column)).where(owner.in_(account_ids))))
    if conversation_ids:
        for column, owner in ((Message.created_at, Message.conversation_id),
                              (Conversation.last_activity_at, Conversation.id),
                              (AuditEvent.at, AuditEvent.conversation_id)):
            moments.append(session.scalar(select(func.max(column)).where(owner.in_(conversation_ids))))
    return max(_aware(m) for m in moments if m is not None)


def _aware(moment: datetime) -> datetime:
    # func.max on SQLite bypasses the column type and can hand back a naive UTC datetime (or a string).
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def _counts(session: Session, account_ids: list[str], conversation_ids: list[str]) -> dict[str, int]:
    def count(model: type, column: object, ids: list[str]) -> int:
        return session.scalar(select(func.count()).select_from(model).where(column.in_(ids))) or 0 if ids else 0

    return {
        "messages": count(Message, Message.conversation_id, conversation_ids),
        "transcript_entries": count(TranscriptEntry, TranscriptEntry.conversation_id, conversation_ids),
        "flags": count(ConversationFlag, ConversationFlag.conversation_id, conversation_ids),
        "reviews": count(ConversationReview, ConversationReview.conversation_id, conversation_ids),
        "annotations": count(ReviewAnnotation, ReviewAnnotation.conversation_id, conversation_ids),
        "agent_notes": count(AgentNote, AgentNote.conversation_id, conversation_ids),
        "audit_events": session.scalar(select(func.count()).select_from(AuditEvent).where(
            or_(AuditEvent.conversation_id.in_(conversation_ids), AuditEvent.account_id.in_(account_ids)))) or 0,
    }


def _open_matter(session: Session, account_ids: list[str]) -> str | None:
    """An open plan or an open dispute keeps the records, however old the last activity."""
    if not account_ids:
        return None
    if session.scalar(select(func.count()).select_from(Plan).where(
            Plan.account_id.in_(account_ids), Plan.status.in_(OPEN_PLAN_STATUSES))):
        return "an open plan"
    if session.scalar(select(func.count()).select_from(Dispute).where(
            Dispute.account_id.in_(account_ids), Dispute.status.in_(OPEN_DISPUTE_STATUSES))):
        return "an open dispute"
    return None


def candidates(session: Session, policy: RetentionPolicy, now: datetime) -> list[Candidate]:
    """Every debtor whose retention has ended at `now` (REC-1): last activity more than the policy's years ago,
    no open plan, no open dispute, not purged already."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    found = []
    for debtor in session.scalars(select(Debtor).where(Debtor.purged_at.is_(None)).order_by(Debtor.id)):
        accounts = list(session.scalars(select(Account).where(Account.debtor_id == debtor.id)
                                        .order_by(Account.account_ref)))
        account_ids = [a.id for a in accounts]
        if _open_matter(session, account_ids):
            continue
        latest = last_activity(session, debtor)
        ends = add_years(latest, policy.years_after_last_activity)
        if ends > now:
            continue
        conversation_ids = _conversation_ids(session, debtor.id, account_ids)
        found.append(Candidate(debtor.id, [a.account_ref for a in accounts], conversation_ids, latest, ends,
                               _counts(session, account_ids, conversation_ids)))
    return found


def purge_seal(conversation_id: str, seq: int, head: str | None, purged_at: datetime) -> str:
    body = "\n".join(("purged", conversation_id, str(seq), head or "",
                      purged_at.astimezone(timezone.utc).isoformat(timespec="microseconds")))
    return hmac.new(hmac_key(), body.encode(), hashlib.sha256).hexdigest()


def purge(session: Session, candidate: Candidate, now: datetime, actor: str = "system") -> dict[str, int]:
    """Delete one expired debtor's conversation records and anonymise its personal data, in the caller's
    transaction; records one audit event with the counts (no content). Returns the counts."""
    debtor = session.get(Debtor, candidate.debtor_id)
    if debtor is None or debtor.purged_at is not None:
        raise ValueError(f"debtor {candidate.debtor_id} does not exist or is purged already")
    account_ids = list(session.scalars(select(Account.id).where(Account.debtor_id == debtor.id)))
    # Checked again inside this transaction: a message or a plan may have arrived since the candidates were listed.
    reason = _open_matter(session, account_ids)
    if reason is None and last_activity(session, debtor) > candidate.last_activity_at:
        reason = "new collection activity"
    if reason is not None:
        raise StillRetained(f"debtor {debtor.id} has {reason} since it was listed; not purged")
    conversation_ids = _conversation_ids(session, debtor.id, account_ids)
    counts = _counts(session, account_ids, conversation_ids)
    if conversation_ids:
        for model in (TranscriptEntry, ConversationFlag, ConversationReview, ConversationIntent, ReviewAnnotation,
                      AgentNote, SavedMessage, Message):
            session.execute(delete(model).where(model.conversation_id.in_(conversation_ids)))
    session.execute(delete(AuditEvent).where(or_(AuditEvent.conversation_id.in_(conversation_ids),
                                                 AuditEvent.account_id.in_(account_ids))))
    for conversation in session.scalars(select(Conversation).where(Conversation.id.in_(conversation_ids))):
        conversation.purged_at = now
        conversation.purge_seal = purge_seal(conversation.id, conversation.transcript_seq,
                                             conversation.transcript_head, now)
        conversation.external_id = f"purged-{conversation.id}"  # it held the phone number or session
    for handoff in session.scalars(select(Handoff).where(Handoff.conversation_id.in_(conversation_ids))):
        handoff.details = None  # what the rule let be captured: an attorney's contact, a case number
    if account_ids:
        for dispute in session.scalars(select(Dispute).where(Dispute.account_id.in_(account_ids))):
            dispute.statement = None  # the debtor's own words
        for message in session.scalars(select(ScheduledMessage).where(ScheduledMessage.account_id.in_(account_ids))):
            # Bot-initiated messages held the phone number or email and the text; the row stays for the debit
            # notices that point at it.
            message.address, message.text = PURGED_NAME, ""
            if message.status == "pending":
                message.status, message.rule_ids, message.reason = "cancelled", [RULE_ID], "retention ended"
    debtor.first_name = debtor.last_name = PURGED_NAME
    debtor.dob, debtor.ssn_last4, debtor.zip = PURGED_DOB, "0000", "00000"
    debtor.phone = debtor.email = None
    debtor.purged_at = now
    session.flush()
    audit.record(session, "retention_purged", rule_id=RULE_ID, actor=actor,
                 detail={"debtor_id": debtor.id, "accounts": len(account_ids),
                         "conversations": len(conversation_ids), **counts,
                         "last_activity_at": candidate.last_activity_at.isoformat(),
                         "retention_ended_at": candidate.retention_ends_at.isoformat()})
    return counts

