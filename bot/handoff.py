"""The handoff queue: conversations that need a person (HO-1). Flags pass along, secrets never do: a handoff
carries the reason, the rule and only what that rule allows to be captured."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot import audit, conversations
from bot.agents import queue
from bot.db.models import Handoff

# Who waits least: a crisis or a legal stop before a general request.
PRIORITY = {"crisis": 3, "bankruptcy": 2, "attorney": 2, "deceased": 2, "cease": 2, "military": 2,
            "third_party": 2,
            "hardship": 1, "chargeback": 1, "autopay_stop": 1, "dispute": 1, "verification_lockout": 1}
# A conversation has at most one open handoff (queue.open_handoff: waiting or claimed): while a person owns it, a
# new request (a crisis cue, a chargeback) is added to theirs rather than queued for someone else.


def request(session: Session, conversation_id: str, reason: str, *, rule_id: str | None = None,
            account_id: str | None = None, details: dict[str, Any] | None = None,
            now: datetime | None = None) -> Handoff:
    """Queue the conversation for a person, once: a second request adds to the open one (waiting or claimed)."""
    waiting = queue.open_handoff(session, conversation_id)
    priority = PRIORITY.get(reason, 0)
    if waiting is not None:
        waiting.priority = max(waiting.priority, priority)
        waiting.details = {**(waiting.details or {}), **(details or {}), "reasons": sorted(
            set((waiting.details or {}).get("reasons", [waiting.reason])) | {reason})}
        return waiting
    now = now or datetime.now(timezone.utc)
    handoff = Handoff(conversation_id=conversation_id, account_id=account_id, reason=reason, rule_id=rule_id,
                      priority=priority, details=details, created_at=now)
    session.add(handoff)
    session.flush()
    audit.record(session, "handoff_requested", rule_id=rule_id or "HO-1", conversation_id=conversation_id,
                 account_id=account_id, detail={"reason": reason}, at=now)
    if conversations.ended_at(session, conversation_id) is not None:
        # The turn that asked was still running when the person pressed "End chat": recorded, never offered.
        queue.person_left(session, conversation_id, now=now)
    return handoff


def person_ended(session: Session, conversation_id: str, now: datetime | None = None) -> None:
    """The person ended the conversation on their side (the web chat's "End chat"): recorded as an audit event on
    it (sealed into its transcript, REC-1; conversations.ended_at reads it), and what that means for its handoff
    (queue.person_left: a waiting one leaves the queue, a claimed one stays with its agent)."""
    audit.record(session, conversations.ENDED_EVENT, conversation_id=conversation_id, actor="debtor", at=now)
    queue.person_left(session, conversation_id, now=now)


def add_details(session: Session, conversation_id: str, details: dict[str, Any]) -> None:
    waiting = queue.open_handoff(session, conversation_id)
    if waiting is not None:
        waiting.details = {**(waiting.details or {}), **details}


def waiting_count(session: Session) -> int:
    return session.scalar(select(func.count(Handoff.id)).where(Handoff.status == "waiting")) or 0
