"""Export of a conversation for review or a regulator (REC-2): JSON and CSV, redacted unless the caller holds the
unredacted permission. Each export is audited as "transcript_exported" (not chained: exporting is not an edit)."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot import audit
from bot.agents import users
from bot.db.models import AgentNote, AuditEvent, Conversation, ConversationFlag, Message, ReviewAnnotation, User
from bot.records import verification
from bot.records.reading import Reading, reading_for
from bot.records.review import status_of
from bot.records.transcript import RECORD_ACCESS_EVENTS

# The rule id a message stored as what it answered carries (bot/records/identity_answers.py RULE_ID; not imported
# from there: that module reads the identity form's factor parsing, which sits above the records).
IDENTITY_ANSWER_RULE = "ID-2"
CSV_COLUMNS = ("conversation_id", "at", "type", "sender_role", "status", "intent", "rule_ids", "text")
# A spreadsheet runs a cell that starts with one of these as a formula (=HYPERLINK(...) sends data away, =cmd|...
# runs a program); fullwidth forms too, and after spaces, which some spreadsheets skip.
FORMULA_STARTS = frozenset("=+-@\t\r\n\uff1d\uff0b\uff0d\uff20")


def csv_cell(value: Any) -> Any:
    """A debtor's (or anyone's) text as a CSV cell that a spreadsheet shows and never evaluates: a leading "'"
    before a formula character (OWASP's CSV injection advice). Other values are unchanged."""
    if isinstance(value, str) and value.lstrip(" ")[:1] in FORMULA_STARTS:
        return "'" + value
    return value


def conversation_record(session: Session, conversation_id: str, reading: Reading) -> dict[str, Any]:
    """Messages and conversation events in time order, the flags, the review status and the chain check; the text
    as `reading` (the reader's, bot/records/reading.py) may see it."""
    conversation = session.get(Conversation, conversation_id)
    if conversation is None:
        raise LookupError(f"No conversation {conversation_id}.")
    items: list[dict[str, Any]] = []
    for m in session.scalars(select(Message).where(Message.conversation_id == conversation.id)):
        items.append({"at": m.created_at.isoformat(), "type": "message", "sender_role": m.sender_role,
                      "status": m.status, "intent": m.intent, "rule_ids": list(m.rule_ids or []),
                      "text": reading.text(m.text, direction=m.direction, intent=m.intent)})
    # An agent's private note is never sent to the debtor, but it is part of the record a reviewer reads (REC-2):
    # its text goes with its "note_added" event, read like any staff text.
    agent_notes = {n.id: n.text for n in session.scalars(
        select(AgentNote).where(AgentNote.conversation_id == conversation.id))}
    for e in session.scalars(select(AuditEvent).where(AuditEvent.conversation_id == conversation.id,
                                                      AuditEvent.kind.not_in(RECORD_ACCESS_EVENTS))):
        note_id = (e.detail or {}).get("note_id") if e.kind == "note_added" else None
        text = reading.text(agent_notes[note_id]) if note_id in agent_notes else ""
        items.append({"at": e.at.isoformat(), "type": "event", "sender_role": e.actor, "status": e.kind,
                      "intent": None, "rule_ids": [e.rule_id] if e.rule_id else [], "text": text})
    items.sort(key=lambda i: i["at"])
    check = verification.check_conversation(session, conversation)
    flags = [{"flag": f.flag, "rule_id": f.rule_id, "at": f.at.isoformat()} for f in session.scalars(
        select(ConversationFlag).where(ConversationFlag.conversation_id == conversation.id))]
    # Reviewers' notes and escalations: staff work on the record, shown with it and exported with it (REC-2).
    notes = [{"at": n.created_at.isoformat(), "kind": n.kind, "author": users.actor(session.get(User, n.author_id)),
              "message_id": n.message_id, "text": reading.text(n.text)}
             for n in session.scalars(
                 select(ReviewAnnotation).where(ReviewAnnotation.conversation_id == conversation.id)
                 .order_by(ReviewAnnotation.created_at, ReviewAnnotation.id))]
    # ID-2: answers to identity questions were stored as what they are; every view, unredacted too, shows that.
    masked = sum(1 for i in items if i["type"] == "message" and IDENTITY_ANSWER_RULE in i["rule_ids"])
    return {"conversation_id": conversation.id, "channel": conversation.channel,
            "started_at": conversation.started_at.isoformat(), "redacted": reading.redacted,
            "identity_answers_masked": masked,
            "review_status": status_of(session, conversation.id), "flags": flags, "items": items, "notes": notes,
            "chain": {"intact": check.intact, "entries": check.entries, "head": check.head,
                      "problems": [str(p) for p in check.problems]}}


def _audit_export(session: Session, user: User, conversation_ids: list[str], fmt: str, unredacted: bool) -> None:
    for conversation_id in conversation_ids:
        audit.record(session, "transcript_exported", conversation_id=conversation_id,
                     actor=users.actor(user), detail={"rule": "REC-2", "format": fmt, "unredacted": unredacted})


def as_json(session: Session, user: User, conversation_ids: list[str], *, unredacted: bool = False) -> str:
    reading = reading_for(user, unredacted=unredacted)  # NotPermitted (a PermissionError) without the permission
    records = [conversation_record(session, c, reading) for c in conversation_ids]
    _audit_export(session, user, conversation_ids, "json", unredacted)
    return json.dumps({"conversations": records}, indent=2)


def as_csv(session: Session, user: User, conversation_ids: list[str], *, unredacted: bool = False) -> str:
    reading = reading_for(user, unredacted=unredacted)
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, extrasaction="ignore")
    writer.writeheader()
    for conversation_id in conversation_ids:
        record = conversation_record(session, conversation_id, reading)
        for item in record["items"]:
            row = {**item, "conversation_id": conversation_id, "rule_ids": " ".join(item["rule_ids"])}
            writer.writerow({column: csv_cell(row.get(column)) for column in CSV_COLUMNS})
    _audit_export(session, user, conversation_ids, "csv", unredacted)
    return out.getvalue()


def printable_record(session: Session, user: User, conversation_id: str, *, unredacted: bool = False) -> dict[str, Any]:
    """The record for the printable transcript (HTML, print stylesheet), audited as an export."""
    record = conversation_record(session, conversation_id, reading_for(user, unredacted=unredacted))
    _audit_export(session, user, [conversation_id], "html", unredacted)
    return record
