"""What the person handling a conversation is told, in the conversation on their console, when the debtor's words put
a rule in force while that person owns it (HO-1 with CEASE-1..4, ID-1, ID-4, OPT-2, VUL-2).

The bot says nothing in an owned conversation, so without this the agent would read "I have a lawyer now" as one
more line and carry on about the debt the rule has just put out of bounds. Each rule applied while owned leaves one
audit event (`EVENT`, with the rule's ID: the record, REC-1); the console shows those events in the transcript, in
these words. Staff-facing, so English only, like the rest of the console."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot import audit
from bot.db.models import AuditEvent

EVENT = "rule_applied_while_agent_owned"

# By the request applied (sensitive_requests.RULES' intents, plus the two ways someone else is writing).
TEXTS = {
    "opt_out": "The debtor opted out of this channel (OPT-2). Nothing more can go to them here, your replies "
               "included.",
    "cease_contact": "The debtor asked us to stop contacting them (CEASE-1). Collection has stopped: don't discuss "
                     "the debt. Only a closing or remedy message may go.",
    "attorney_represented": "The debtor says an attorney represents them (CEASE-2). Don't discuss the debt with "
                            "them; deal with the attorney. Any name or phone they gave is kept on this conversation.",
    "bankruptcy": "The debtor reported a bankruptcy (CEASE-3). Collection has stopped: don't discuss the debt; ask "
                  "only for the case number.",
    "deceased": "A death was reported (CEASE-4). Make no demand for payment, and don't suggest the writer must pay.",
    "wrong_person": "The writer says they are not the debtor (ID-4). Say nothing about the debt.",
    "third_party": "Someone other than the debtor is writing (ID-1, ID-4). Say nothing about the debt.",
    "new_speaker": "Someone else may be writing now (ID-1): the verification is withdrawn. Say nothing about the "
                   "debt until they verify.",
    "hardship": "The debtor told of hardship (VUL-2). Collection is paused: offer help, not payment.",
}
RULE_IDS = {"third_party": "ID-4", "new_speaker": "ID-1"}  # the others carry their rule's own ID


@dataclass(frozen=True)
class Notice:
    id: int
    rule_id: str | None
    text: str
    at: datetime


def record(session: Session, conversation_id: str, intent: str, rule_id: str | None = None,
           detail: dict[str, Any] | None = None) -> None:
    """The rule of `intent` was applied while a person owns the conversation: audited, and shown to them."""
    audit.record(session, EVENT, rule_id=rule_id or RULE_IDS.get(intent), conversation_id=conversation_id,
                 detail={"intent": intent, **(detail or {})})


def for_conversation(session: Session, conversation_id: str, after_id: int = 0) -> list[Notice]:
    rows = session.scalars(select(AuditEvent).where(
        AuditEvent.conversation_id == conversation_id, AuditEvent.kind == EVENT, AuditEvent.id > after_id)
        .order_by(AuditEvent.id))
    return [Notice(e.id, e.rule_id, TEXTS.get((e.detail or {}).get("intent", ""), "A compliance rule was applied."),
                   e.at) for e in rows]
