"""Debt disputes (DSP-1): recorded with the time and the disputed portion, and the account put on hold."""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy.orm import Session

from bot import audit
from bot.accounts import verified_accounts
from bot.db.models import AccountStatus

DISPUTE_KINDS = ("all", "amount", "not_mine", "already_paid")


def record_dispute(session: Session, conversation_id: str, kind: str, now: datetime | None = None) -> list[str]:
    """Record a dispute of the whole balance on each of the verified debtor's open accounts; returns the
    masked references. A typed dispute is a written one (comment 38-1.iii)."""
    if kind not in DISPUTE_KINDS:
        raise ValueError(f"unknown dispute kind {kind!r}; expected one of {DISPUTE_KINDS}")
    now = now or datetime.now(timezone.utc)
    disputed = []
    for account in verified_accounts(session, conversation_id):
        if account.status != AccountStatus.ACTIVE:
            continue
        # DSP-2: the account is on hold (no payment asks, links or plans) until verification is sent.
        account.status = AccountStatus.DISPUTED
        audit.record(session, "dispute_recorded", rule_id="DSP-1", conversation_id=conversation_id,
                     account_id=account.id, actor="debtor",
                     detail={"kind": kind, "disputed_cents": account.balance_cents, "at": now.isoformat()})
        disputed.append(account.account_ref)
    return disputed
