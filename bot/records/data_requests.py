"""Data subject requests (REC-3): a debtor asks to see (access) or delete (deletion) what is held about them.

Each request is a DataSubjectRequest row with when it was received, when the law says it must be answered (the
stricter of GDPR's one month, art. 12(3), and CCPA's 45 days, 1798.130) and when it was completed.

Deletion removes what may go now and keeps what the law requires until retention ends (REC-1,
bot/records/retention.py): the 12 CFR 1006.100 records (transcripts, disclosures, consents, disputes, cease
events, plans, payments, the ledger) are exempt from erasure (GDPR 17(3)(b),(e); CCPA 1798.105(d), 1798.145(e)).
Further contact is suppressed through bot/contact_preferences.py, so the outbound gate blocks any later message."""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from bot import audit, contact_preferences
from bot.db.models import (
    Account,
    ContactPreference,
    Conversation,
    DataSubjectRequest,
    Debtor,
    Dispute,
    Installment,
    LedgerEntry,
    Message,
    Payment,
    Plan,
    ScheduledMessage,
)
from bot.records import retention

RULE_ID = "REC-3"
CCPA_DAYS = 45
E164 = re.compile(r"^\+[1-9]\d{6,14}$")
SUPPRESSED_CHANNELS = ("sms", "email")  # the channels the bot starts conversations on
PROFILE_FIELDS = ("id", "first_name", "last_name", "dob", "ssn_last4", "zip", "phone", "email", "timezone",
                  "created_at", "erasure_requested_at")


class DataRequestError(ValueError):
    pass


@dataclass
class Outcome:
    request: DataSubjectRequest
    document: dict[str, Any] | None = None
    deleted: list[str] = field(default_factory=list)
    suppressed: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)


def due_at(received_at: datetime) -> datetime:
    """The stricter deadline: one calendar month (GDPR 12(3)) or 45 days (CCPA 1798.130), whichever is sooner."""
    year, month = (received_at.year + 1, 1) if received_at.month == 12 else (received_at.year, received_at.month + 1)
    day = min(received_at.day, calendar.monthrange(year, month)[1])
    return min(received_at.replace(year=year, month=month, day=day), received_at + timedelta(days=CCPA_DAYS))


def find_debtor(session: Session, *, account_ref: str | None = None, phone: str | None = None) -> Debtor:
    """The debtor named by an account reference or a phone number (E.164); a clear error when there is none."""
    if (account_ref is None) == (phone is None):
        raise DataRequestError("name the debtor by exactly one of --account REF or --phone E164")
    if phone is not None:
        if not E164.match(phone):
            raise DataRequestError(f"not an E.164 phone number (e.g. +15555550101): {phone!r}")
        debtors = session.scalars(select(Debtor).where(Debtor.phone == phone)).all()
        if len(debtors) > 1:
            raise DataRequestError(f"{len(debtors)} debtors share {phone}; name the account with --account")
        if not debtors:
            raise DataRequestError(f"no debtor has the phone number {phone}")
        return debtors[0]
    account = session.scalar(select(Account).where(Account.account_ref == account_ref))
    if account is None:
        raise DataRequestError(f"no account with the reference {account_ref!r}")
    return session.get(Debtor, account.debtor_id)


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(timezone.utc).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def _row(obj: Any, skip: tuple[str, ...] = ()) -> dict[str, Any]:
    return {c.key: _plain(getattr(obj, c.key)) for c in obj.__mapper__.column_attrs if c.key not in skip}


def _accounts(session: Session, debtor: Debtor) -> list[Account]:
    return list(session.scalars(select(Account).where(Account.debtor_id == debtor.id).order_by(Account.account_ref)))


def _conversations(session: Session, debtor: Debtor, account_ids: list[str]) -> list[Conversation]:
    clauses = [Conversation.debtor_id == debtor.id]
    if account_ids:
        clauses.append(Conversation.account_id.in_(account_ids))
    return list(session.scalars(select(Conversation).where(or_(*clauses))
                                .order_by(Conversation.started_at, Conversation.id)))


def _addresses(debtor: Debtor, conversations: list[Conversation]) -> set[tuple[str, str]]:
    found = {("sms", debtor.phone)} if debtor.phone else set()
    if debtor.email:
        found.add(("email", debtor.email))
    found |= {(c.channel, c.external_id) for c in conversations if c.channel in SUPPRESSED_CHANNELS
              and c.purged_at is None}
    return found


def _record(session: Session, debtor: Debtor, kind: str, now: datetime, actor: str,
            result: dict[str, Any]) -> DataSubjectRequest:
    request = DataSubjectRequest(debtor_id=debtor.id, kind=kind, status="completed", received_at=now,
                                 due_at=due_at(now), completed_at=now, handled_by=actor, result=result)
    session.add(request)
    session.flush()
    audit.record(session, f"data_request_{kind}", rule_id=RULE_ID, actor=actor,
                 detail={"request_id": request.id, "debtor_id": debtor.id, **result})
    return request


def export(session: Session, debtor: Debtor, *, actor: str = "operator", now: datetime | None = None) -> Outcome:
    """REC-3 access: a JSON-ready document of everything held about the debtor; the request completed."""
    now = now or datetime.now(timezone.utc)
    accounts = _accounts(session, debtor)
    account_ids = [a.id for a in accounts]
    conversations = _conversations(session, debtor, account_ids)

    def rows(model: type, column: Any, order: Any) -> list[dict[str, Any]]:
        if not account_ids:
            return []
        return [_row(r) for r in session.scalars(select(model).where(column.in_(account_ids)).order_by(order))]

    plans = []
    if account_ids:
        for plan in session.scalars(select(Plan).where(Plan.account_id.in_(account_ids)).order_by(Plan.created_at)):
            plans.append({**_row(plan), "installments": [_row(i) for i in session.scalars(
                select(Installment).where(Installment.plan_id == plan.id).order_by(Installment.number))]})
    addresses = _addresses(debtor, conversations)
    preferences = [_row(p, skip=("id",)) for p in session.scalars(select(ContactPreference))
                   if (p.channel, p.address) in addresses]
    document = {
        "request": {"kind": "access", "received_at": _plain(now), "due_at": _plain(due_at(now))},
        "profile": {name: _plain(getattr(debtor, name)) for name in PROFILE_FIELDS},
        "accounts": [_row(a) for a in accounts],
        "ledger": rows(LedgerEntry, LedgerEntry.account_id, LedgerEntry.id),
        "plans": plans,
        "payments": rows(Payment, Payment.account_id, Payment.created_at),
        "disputes": rows(Dispute, Dispute.account_id, Dispute.created_at),
        "contact_preferences": preferences,
        "conversations": [
            {**_row(c, skip=("transcript_head", "purge_seal")),
             "messages": [_row(m) for m in session.scalars(
                 select(Message).where(Message.conversation_id == c.id).order_by(Message.id))]}
            for c in conversations],
    }
    counts = {"accounts": len(accounts), "conversations": len(conversations),
              "messages": sum(len(c["messages"]) for c in document["conversations"])}
    request = _record(session, debtor, "access", now, actor, counts)
    document["request"]["id"] = request.id
    return Outcome(request, document=document)


def delete(session: Session, debtor: Debtor, *, actor: str = "operator", now: datetime | None = None,
           policy: retention.RetentionPolicy | None = None) -> Outcome:
    """REC-3 deletion: remove what may go now, suppress further contact, keep the 1006.100 records until
    retention ends (REC-1), and say what was kept and why."""
    now = now or datetime.now(timezone.utc)
    policy = policy or retention.load_retention_policy()
    accounts = _accounts(session, debtor)
    account_ids = [a.id for a in accounts]
    conversations = _conversations(session, debtor, account_ids)
    deleted: list[str] = []
    suppressed: list[str] = []

    # Queued messages first (to the debtor's accounts or addresses), so the count says what this request stopped;
    # then the suppression, whose preference rows keep the addresses: that is what stops the bot reaching them again.
    addresses = sorted(_addresses(debtor, conversations))
    targets = [ScheduledMessage.account_id.in_(account_ids)] if account_ids else []
    targets += [(ScheduledMessage.channel == channel) & (ScheduledMessage.address == address)
                for channel, address in addresses]
    queued = list(session.scalars(select(ScheduledMessage).where(
        or_(*targets), ScheduledMessage.status == "pending"))) if targets else []
    for message in queued:
        message.status, message.rule_ids, message.reason = "cancelled", [RULE_ID], "deletion request"
    session.flush()
    deleted.append(f"queued outbound messages not yet sent: {len(queued)} cancelled")
    for channel, address in addresses:
        contact_preferences.opt_out(session, channel, address, via="deletion request (REC-3)", now=now)
        suppressed.append(f"{channel} {address}: no further bot-initiated messages (OPT-3 suppression)")
    if debtor.email:
        debtor.email = None
        deleted.append("email address: deleted from the profile (kept only on the suppression list)")
    else:
        deleted.append("email address: none held")
    deleted.append("marketing consents: none held (Settle keeps no marketing consent)")
    debtor.erasure_requested_at = now

    ends = retention.add_years(retention.last_activity(session, debtor), policy.years_after_last_activity)
    until = f"until {ends.date().isoformat()} (retention, REC-1), then purged"
    why = "12 CFR 1006.100 record; exempt from erasure: GDPR 17(3)(b),(e), CCPA 1798.105(d), 1798.145(e)"
    messages = sum(len(list(session.scalars(select(Message.id).where(Message.conversation_id == c.id))))
                   for c in conversations)
    disputes = len(list(session.scalars(select(Dispute.id).where(Dispute.account_id.in_(account_ids))))) \
        if account_ids else 0
    kept = [
        f"transcripts: {len(conversations)} conversations, {messages} messages, with their disclosure, consent and "
        f"cease events {until}: {why}",
        f"disputes: {disputes} {until}: {why}",
        f"accounts, plans, payments and ledger of {', '.join(a.account_ref for a in accounts) or 'no account'} "
        f"{until}: {why}",
        f"name, date of birth, SSN last 4, ZIP, phone {until}: needed to identify the debtor in those records",
    ]
    request = _record(session, debtor, "deletion", now, actor,
                      {"cancelled_messages": len(queued), "suppressed_addresses": len(addresses),
                       "retention_ends_at": ends.isoformat()})
    return Outcome(request, deleted=deleted, suppressed=suppressed, kept=kept)
