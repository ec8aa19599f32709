"""Automatic review flags: what makes a compliance reviewer look at a conversation, raised as it happens.

Like the transcript chain, flags are written by an `after_flush` hook (`raise_flags`, registered by
bot/records/listeners.py at each process's start), so every path that stores a message or an audit event raises
them; the console filters on them (bot/records/search.py).

- rule_fired: a compliance rule changed what happened (a gate blocked, deferred or redacted; a hold; a crisis cue),
  as opposed to a rule applied as a matter of course (a disclosure given, an identity verified);
- blocked: a message was stopped by the outbound gate (any rule);
- dispute: the debtor disputed the debt (DSP-1..3);
- cease: cease contact, attorney, bankruptcy or deceased (CEASE-1..4): all contact about the debt stops;
- opt_out: an opt-out of one channel (OPT-3, "STOP"), kept apart from a cease so a reviewer looking for cease
  notices does not wade through every STOP (migration 0025 moved the opt-outs flagged "cease" before);
- banned_phrase: an agent's reply hit a banned phrase or an unsupported figure (TONE-1, TONE-2, TBD-1);
- lockout: identity verification locked after too many failures (ID-3)."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from sqlalchemy import bindparam, insert, inspect
from sqlalchemy.orm import Session

from bot.db.models import AuditEvent, ConversationFlag, Message, conversation_start

RULE_FIRED, BLOCKED, DISPUTE, CEASE, OPT_OUT, BANNED_PHRASE, LOCKOUT = (
    "rule_fired", "blocked", "dispute", "cease", "opt_out", "banned_phrase", "lockout")
FLAGS = (RULE_FIRED, BLOCKED, DISPUTE, CEASE, OPT_OUT, BANNED_PHRASE, LOCKOUT)
LABELS = {RULE_FIRED: "Rule fired", BLOCKED: "Message blocked", DISPUTE: "Dispute",
          CEASE: "Cease contact (attorney, bankruptcy, death)", OPT_OUT: "Opt-out of a channel (STOP)",
          BANNED_PHRASE: "Agent reply blocked (banned phrase or amount)", LOCKOUT: "Verification lockout"}

# Rules applied as a matter of course: recorded and chained, but nothing for a reviewer to look at.
ROUTINE_EVENTS = frozenset({
    "disclosure_given", "balance_disclosed", "identity_verified", "validation_notice_queued", "debit_notice_queued",
    "agent_reply_sent", "handoff_requested", "handoff_claimed", "handoff_released", "handoff_reassigned",
    "handoff_returned", "handoff_resolved", "human_requested", "callback_requested", "note_added",
    "pay_link_created", "plan_offered", "plan_created", "payment_applied", "autopay_authorised", "opted_in",
    "dispute_verification_sent", "details_captured",
    "feedback_asked", "feedback_not_asked", "feedback_answered", "feedback_commented",  # bot/feedback.py: routine
})
EVENT_FLAGS = {
    "dispute_recorded": DISPUTE,
    "cease_requested": CEASE, "attorney_reported": CEASE, "bankruptcy_reported": CEASE, "deceased_reported": CEASE,
    "opted_out": OPT_OUT, "opt_out_requested": OPT_OUT,
    "identity_locked": LOCKOUT,
}
AGENT_CONTENT_RULES = frozenset({"TONE-1", "TONE-2", "TBD-1"})
# REC-2 audits who read or changed the record (a view, an export, a login): it never changes what happened in the
# conversation, so it raises no flag (a reviewer's own view of a conversation flagged it "Rule fired").
ACCESS_RULES = frozenset({"REC-2"})


def for_event(kind: str, rule_id: str | None, detail: dict[str, Any] | None) -> list[tuple[str, str | None]]:
    flags: list[tuple[str, str | None]] = []
    if kind in EVENT_FLAGS:
        flags.append((EVENT_FLAGS[kind], rule_id))
    if rule_id and kind not in ROUTINE_EVENTS and rule_id not in ACCESS_RULES:
        flags.append((RULE_FIRED, rule_id))
    return flags


def for_message(sender_role: str, status: str, rule_ids: list[str] | None) -> list[tuple[str, str | None]]:
    rules = list(rule_ids or [])
    flags: list[tuple[str, str | None]] = []
    if status == "blocked":
        flags.append((BLOCKED, rules[0] if rules else None))
    if sender_role == "agent":
        hit = [r for r in rules if r in AGENT_CONTENT_RULES]
        if hit:
            flags.append((BANNED_PHRASE, hit[0]))
    return flags


def raise_flags(session: Session, _flush_context: Any) -> None:
    now = datetime.now(timezone.utc)
    rows: list[dict[str, Any]] = []
    for obj in list(session.new) + list(session.dirty):
        if isinstance(obj, Message):
            state = inspect(obj)
            is_new = obj in session.new
            if not is_new and not (state.attrs.status.history.has_changes()
                                   or state.attrs.rule_ids.history.has_changes()):
                continue
            for flag, rule_id in for_message(obj.sender_role, obj.status, obj.rule_ids):
                rows.append({"conversation_id": obj.conversation_id, "flag": flag, "rule_id": rule_id,
                             "message_id": obj.id, "audit_event_id": None, "at": now})
        elif isinstance(obj, AuditEvent) and obj in session.new and obj.conversation_id is not None:
            for flag, rule_id in for_event(obj.kind, obj.rule_id, obj.detail):
                rows.append({"conversation_id": obj.conversation_id, "flag": flag, "rule_id": rule_id,
                             "message_id": None, "audit_event_id": obj.id, "at": obj.at or now})
    if rows:
        # Each flag carries its conversation's start time (bot/db/models.py), read in the INSERT itself.
        for row in rows:
            row["flagged_conversation"] = row["conversation_id"]
        session.connection().execute(insert(ConversationFlag.__table__).values(
            conversation_started_at=conversation_start(bindparam("flagged_conversation"))), rows)
