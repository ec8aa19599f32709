"""The transcript record (REC-1): every message and every conversation event, append-only, hash-chained per
conversation.

Nothing calls this module to write: an `after_flush` hook on every SQLAlchemy session (`seal`, put on Session by
bot/records/listeners.py at each process's start) appends an entry whenever a Message is stored or changed
(delivery status, NLU reading, redaction, rules) and whenever an audit event about a conversation is recorded, in
the same transaction. So no code path (gateway, action server, scheduler, console, CLI) can store a message without
sealing it; a process that forgot to register refuses to write at all (bot/db: FlushListenersMissing).

Each entry's hash is an HMAC-SHA256 over the previous entry's hash and the entry's canonical JSON, keyed with
TRANSCRIPT_HMAC_KEY. The conversation row keeps the chain's length and head, so deleting the newest entries is
caught too. Someone who can write the database but does not hold the key cannot rebuild a valid chain after an
edit; `python -m bot verify-transcripts` (bot/records/verification.py) checks it all."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime, timezone
from functools import lru_cache
from typing import Any

from sqlalchemy import insert, inspect, select, update
from sqlalchemy.orm import Session

from bot.config import PROJECT_ROOT, persisted_secret
from bot.db.models import AuditEvent, Conversation, Message, TranscriptEntry

GENESIS = "0" * 64
# A message's fields as the record keeps them; a later change to any of them is an entry of its own.
MESSAGE_FIELDS = ("direction", "sender_role", "text", "payload", "status", "rule_ids", "intent",
                  "intent_confidence", "created_at")
CHANGEABLE_FIELDS = tuple(f for f in MESSAGE_FIELDS if f not in ("direction", "sender_role"))
# Events about the record rather than the conversation (a reviewer reading or exporting it): audited, not chained,
# or reading a transcript would change it.
RECORD_ACCESS_EVENTS = frozenset({
    "transcript_viewed", "transcript_viewed_unredacted", "transcript_exported", "review_marked",
    "review_escalated", "review_annotated", "review_reopened",
})


@lru_cache(maxsize=1)
def hmac_key() -> bytes:
    """TRANSCRIPT_HMAC_KEY, or (embedded default) a random key kept in var/. Losing the key makes every chain
    unverifiable, so production sets it from a secret store."""
    configured = os.environ.get("TRANSCRIPT_HMAC_KEY", "").strip()
    return (configured or persisted_secret(PROJECT_ROOT / "var" / "transcript_hmac_key")).encode()


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(timezone.utc).isoformat(timespec="microseconds")
    if isinstance(value, float):
        return round(value, 6)  # the same figure after a round trip through any database
    return value


def message_snapshot(message: Message, channel: str) -> dict[str, Any]:
    return {"channel": channel, **{name: _plain(getattr(message, name)) for name in MESSAGE_FIELDS}}


def event_snapshot(audit: AuditEvent) -> dict[str, Any]:
    return {"kind": audit.kind, "rule_id": audit.rule_id, "actor": audit.actor, "account_id": audit.account_id,
            "detail": audit.detail, "at": _plain(audit.at)}


def messages_as_recorded(entries: Iterable[TranscriptEntry]) -> dict[int, dict[str, Any]]:
    """Each message as the record says it reads after these entries (its first entry, then its changes)."""
    recorded: dict[int, dict[str, Any]] = {}
    for entry in entries:
        if entry.kind == "message" and entry.message_id is not None:
            recorded[entry.message_id] = dict(entry.data)
        elif entry.kind == "change" and entry.message_id in recorded:
            recorded[entry.message_id].update(entry.data)
    return recorded


def entry_hash(prev_hash: str, conversation_id: str, seq: int, kind: str, message_id: int | None,
               audit_event_id: int | None, at: datetime, data: dict[str, Any]) -> str:
    body = json.dumps(
        {"conversation_id": conversation_id, "seq": seq, "kind": kind, "message_id": message_id,
         "audit_event_id": audit_event_id, "at": _plain(at), "data": data},
        sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str,
    )
    return hmac.new(hmac_key(), (prev_hash + "\n" + body).encode(), hashlib.sha256).hexdigest()


def _pending_entries(session: Session) -> dict[str, list[tuple[str, int | None, int | None, datetime, Any]]]:
    """What this flush adds to each conversation's record, in the order it happened."""
    now = datetime.now(timezone.utc)
    pending: dict[str, list[tuple[str, int | None, int | None, datetime, Any]]] = defaultdict(list)
    for message in sorted((o for o in session.new if isinstance(o, Message)), key=lambda m: m.id):
        pending[message.conversation_id].append(("message", message.id, None, message.created_at, message))
    for message in sorted((o for o in session.dirty if isinstance(o, Message)), key=lambda m: m.id):
        state = inspect(message)
        changes = {name: _plain(getattr(message, name)) for name in CHANGEABLE_FIELDS
                   if state.attrs[name].history.has_changes()}
        if changes:
            pending[message.conversation_id].append(("change", message.id, None, now, changes))
    for audit in sorted((o for o in session.new if isinstance(o, AuditEvent)), key=lambda e: e.id):
        if audit.conversation_id is not None and audit.kind not in RECORD_ACCESS_EVENTS:
            pending[audit.conversation_id].append(("event", None, audit.id, audit.at, event_snapshot(audit)))
    return pending


def seal(session: Session, _flush_context: Any) -> None:
    pending = _pending_entries(session)
    if not pending:
        return
    connection = session.connection()
    table = Conversation.__table__
    for conversation_id, items in pending.items():
        # The row lock orders two writers of one conversation (gateway and action server); SQLite's single writer
        # does the same there. The unique (conversation_id, seq) constraint is the last guard against a fork.
        seq, head, channel = connection.execute(
            select(table.c.transcript_seq, table.c.transcript_head, table.c.channel)
            .where(table.c.id == conversation_id).with_for_update()
        ).one()
        head = head or GENESIS
        rows = []
        for kind, message_id, audit_event_id, at, item in items:
            data = message_snapshot(item, channel) if kind == "message" else item
            seq += 1
            digest = entry_hash(head, conversation_id, seq, kind, message_id, audit_event_id, at, data)
            rows.append({"conversation_id": conversation_id, "seq": seq, "kind": kind, "message_id": message_id,
                         "audit_event_id": audit_event_id, "at": at, "data": data, "prev_hash": head,
                         "hash": digest})
            head = digest
        connection.execute(insert(TranscriptEntry.__table__), rows)
        connection.execute(update(table).where(table.c.id == conversation_id)
                           .values(transcript_seq=seq, transcript_head=head))
