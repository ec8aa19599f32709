"""Audit events: every consumer-facing decision leaves a record, with the rule ID that fired."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from sqlalchemy.orm import Session

from bot import metrics
from bot.db.models import AuditEvent

# The record every outbound message the gate stops leaves (bot/messaging): /metrics counts it by rule ID.
OUTBOUND_BLOCKED = "outbound_blocked"


_WORDS = {"sms": "SMS", "esign": "E-SIGN", "id": "ID", "cv": "CV", "auc": "AUC", "url": "URL"}


def describe(kind: str) -> str:
    """An event's name as a person reads it: "validation_notice_queued" -> "Validation notice queued"."""
    text = " ".join(_WORDS.get(word, word) for word in kind.split("_") if word)
    return text[:1].upper() + text[1:]


def record(
    session: Session,
    kind: str,
    *,
    rule_id: str | None = None,
    conversation_id: str | None = None,
    account_id: str | None = None,
    actor: str = "system",
    detail: dict[str, Any] | None = None,
    at: datetime | None = None,
) -> AuditEvent:
    event = AuditEvent(
        at=at or datetime.now(timezone.utc),
        kind=kind,
        rule_id=rule_id,
        conversation_id=conversation_id,
        account_id=account_id,
        actor=actor,
        detail=detail,
    )
    session.add(event)
    session.flush()
    if kind == OUTBOUND_BLOCKED:
        metrics.count_blocked(session, (detail or {}).get("rules") or [rule_id or "unknown"])
    return event
