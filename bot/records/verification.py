"""Checks the transcript record (REC-1): `python -m bot verify-transcripts`.

For each conversation it checks that the chain is whole (entries 1..n, each hash recomputes and names the one
before, the last is the head kept on the conversation), and that the working tables agree with it: every message
and every chained audit event has its entry and still reads as its entries say. So an edited, inserted or deleted
row in `messages`, `audit_events` or `transcript_entries` is reported, with where and what.

A conversation the retention purge emptied (REC-1, bot/records/retention.py) is reported as purged, neither intact
nor broken: its seal must recompute, and nothing may have been written to it since."""

from __future__ import annotations

import hmac
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.db.models import AuditEvent, Conversation, Message, TranscriptEntry
from bot.records.retention import purge_seal
from bot.records.transcript import (
    GENESIS,
    RECORD_ACCESS_EVENTS,
    entry_hash,
    event_snapshot,
    message_snapshot,
    messages_as_recorded,
)


@dataclass(frozen=True)
class Problem:
    conversation_id: str
    where: str  # e.g. "entry 7", "message 123", "audit event 45", "chain"
    what: str

    def __str__(self) -> str:
        return f"{self.conversation_id} {self.where}: {self.what}"


@dataclass
class ChainCheck:
    """The result for one conversation: what a printable transcript shows under "hash-chain check"."""

    conversation_id: str
    entries: int = 0
    head: str | None = None
    problems: list[Problem] = field(default_factory=list)
    purged: bool = False

    @property
    def intact(self) -> bool:
        return not self.problems


@dataclass
class Report:
    conversations: int = 0
    entries: int = 0
    problems: list[Problem] = field(default_factory=list)
    checked: set[str] = field(default_factory=set)
    purged: list[str] = field(default_factory=list)

    @property
    def intact(self) -> bool:
        return not self.problems


def check_conversation(session: Session, conversation: Conversation) -> ChainCheck:
    result = ChainCheck(conversation.id, head=conversation.transcript_head)
    problem = result.problems.append
    if conversation.purged_at is not None:
        result.purged = True
        _check_purged(session, conversation, problem)
        return result
    entries = list(session.scalars(
        select(TranscriptEntry).where(TranscriptEntry.conversation_id == conversation.id)
        .order_by(TranscriptEntry.seq)))
    result.entries = len(entries)

    head = GENESIS
    for expected_seq, entry in enumerate(entries, start=1):
        where = f"entry {entry.seq}"
        if entry.seq != expected_seq:
            problem(Problem(conversation.id, f"entry {expected_seq}", "missing (deleted)"))
            break
        if entry.prev_hash != head:
            problem(Problem(conversation.id, where, "does not follow the entry before it"))
        digest = entry_hash(entry.prev_hash, conversation.id, entry.seq, entry.kind, entry.message_id,
                            entry.audit_event_id, entry.at, entry.data)
        if digest != entry.hash:
            problem(Problem(conversation.id, where, "edited: its hash does not match its content"))
        head = entry.hash
    if len(entries) != conversation.transcript_seq or (entries and head != conversation.transcript_head):
        problem(Problem(conversation.id, "chain",
                        f"holds {len(entries)} entries but {conversation.transcript_seq} were written "
                        "(newest entries deleted or added outside the record)"))

    _check_messages(session, conversation.id, entries, problem)
    _check_events(session, conversation.id, entries, problem)
    return result


def _check_messages(session: Session, conversation_id: str, entries: list[TranscriptEntry], problem: Any) -> None:
    recorded = messages_as_recorded(entries)
    rows = {m.id: m for m in session.scalars(select(Message).where(Message.conversation_id == conversation_id))}
    for message_id, expected in recorded.items():
        message = rows.pop(message_id, None)
        if message is None:
            problem(Problem(conversation_id, f"message {message_id}", "deleted"))
            continue
        actual = message_snapshot(message, expected.get("channel", ""))
        changed = sorted(k for k in actual if actual[k] != expected.get(k))
        if changed:
            problem(Problem(conversation_id, f"message {message_id}", "edited outside the record: "
                            + ", ".join(changed)))
    for message_id in sorted(rows):
        problem(Problem(conversation_id, f"message {message_id}", "not in the record (inserted outside it)"))


def _check_events(session: Session, conversation_id: str, entries: list[TranscriptEntry], problem: Any) -> None:
    recorded = {e.audit_event_id: e.data for e in entries if e.kind == "event"}
    rows = {e.id: e for e in session.scalars(
        select(AuditEvent).where(AuditEvent.conversation_id == conversation_id,
                                 AuditEvent.kind.not_in(RECORD_ACCESS_EVENTS)))}
    for event_id, expected in recorded.items():
        audit = rows.pop(event_id, None)
        if audit is None:
            problem(Problem(conversation_id, f"audit event {event_id}", "deleted"))
        elif event_snapshot(audit) != expected:
            problem(Problem(conversation_id, f"audit event {event_id}", "edited outside the record"))
    for event_id in sorted(rows):
        problem(Problem(conversation_id, f"audit event {event_id}", "not in the record (inserted outside it)"))


def _check_purged(session: Session, conversation: Conversation, problem: Any) -> None:
    seal = purge_seal(conversation.id, conversation.transcript_seq, conversation.transcript_head,
                      conversation.purged_at)
    if conversation.purge_seal is None or not hmac.compare_digest(seal, conversation.purge_seal):
        problem(Problem(conversation.id, "purge", "marked purged without a valid purge seal"))
    left = {
        "transcript entries": select(TranscriptEntry.id).where(TranscriptEntry.conversation_id == conversation.id),
        "messages": select(Message.id).where(Message.conversation_id == conversation.id),
        "audit events": select(AuditEvent.id).where(AuditEvent.conversation_id == conversation.id,
                                                    AuditEvent.kind.not_in(RECORD_ACCESS_EVENTS)),
    }
    for what, query in left.items():
        if session.scalar(query.limit(1)) is not None:
            problem(Problem(conversation.id, "purge", f"{what} written after the purge"))


def verify(session: Session, conversation_ids: Iterable[str] | None = None) -> Report:
    report = Report()
    query = select(Conversation).order_by(Conversation.started_at, Conversation.id)
    if conversation_ids is not None:
        query = query.where(Conversation.id.in_(list(conversation_ids)))
    for conversation in session.scalars(query):
        check = check_conversation(session, conversation)
        report.conversations += 1
        report.checked.add(conversation.id)
        if check.purged:
            report.purged.append(conversation.id)
        report.entries += check.entries
        report.problems.extend(check.problems)
    return report

