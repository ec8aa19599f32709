"""Redact card numbers and SSNs in email subjects and headers stored before intake redacted them (PCI-2, PCI-3)

Revision ID: 0028
Revises: 0026
Create Date: 2026-12-07 07:40:00

Since the exploratory tester's finding, a reply's Subject, Message-ID and References are redacted at intake
(bot/mail/inbound.py `redacted_header`). Rows stored before that may hold a card number in the subject a debtor
typed, in the "Re: <subject>" Settle answered with, and in the threading headers: in `messages.payload["email"]`,
in the hash-chained transcript (`transcript_entries.data`, which sealed that payload) and in the demo mail server's
`mailbox_messages` (subject and raw headers). This applies the project's one redaction rule
(bot/compliance/redaction.py `redact`) to each of them.

How the hash chain (REC-1) treats it. PCI-2's redaction of a split card number (bot/gateway/pipeline.py
`_redact_previous`) appends a "change" entry and leaves the earlier entry as sealed: that entry only ever held a
fragment, never a whole number. Here the sealed entries hold whole numbers, so appending is not enough: PCI-3 wants
none left anywhere. So, per conversation touched, the entries' copies of those headers are redacted in place, the
chain is re-sealed with the transcript key from the first rewritten entry on (bot/records/transcript.py
`entry_hash`), and a chained audit event `transcript_redacted` (PCI-2, actor `migration:0028`) records which
entries and messages were rewritten and the chain head before the rewrite, so a head hash printed before the
migration is accounted for. `python -m bot verify-transcripts` reports the chain intact afterwards; re-sealing
needs the same TRANSCRIPT_HMAC_KEY as the running app (run migrations with it set, as the release job does).

Downgrade changes nothing: a redacted number cannot be restored, and must not be.
"""
from collections.abc import Sequence
from datetime import datetime, timezone
from email import message_from_string, policy
from types import SimpleNamespace
from typing import Any

import sqlalchemy as sa
from alembic import op

from bot.compliance import redaction
from bot.db.models import UTCDateTime
from bot.records.transcript import GENESIS, entry_hash, event_snapshot

# revision identifiers, used by Alembic.
revision: str = '0028'
down_revision: str | Sequence[str] | None = '0026'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ACTOR = "migration:0028"
# The header fields an email's record keeps in a message's payload (inbound: bot/mail/inbound.py; outbound:
# bot/mail/courier.py); every string field of that record is the debtor's words or an echo of them, except
# Settle's own Message-ID of an email it sent, which the provider's events are matched by (bot/mail/webhooks.py).
MAIL_HEADERS = ("Subject", "Message-ID", "In-Reply-To", "References")
BATCH = 500

messages = sa.table("messages", sa.column("id", sa.Integer), sa.column("conversation_id", sa.String),
                    sa.column("direction", sa.String), sa.column("payload", sa.JSON))
entries = sa.table("transcript_entries", sa.column("id", sa.Integer), sa.column("conversation_id", sa.String),
                   sa.column("seq", sa.Integer), sa.column("kind", sa.String), sa.column("message_id", sa.Integer),
                   sa.column("audit_event_id", sa.Integer), sa.column("at", UTCDateTime),
                   sa.column("data", sa.JSON), sa.column("prev_hash", sa.String), sa.column("hash", sa.String))
conversations = sa.table("conversations", sa.column("id", sa.String), sa.column("transcript_seq", sa.Integer),
                         sa.column("transcript_head", sa.String), sa.column("purged_at", UTCDateTime))
audit_events = sa.table("audit_events", sa.column("id", sa.Integer), sa.column("at", UTCDateTime),
                        sa.column("kind", sa.String), sa.column("actor", sa.String), sa.column("rule_id", sa.String),
                        sa.column("conversation_id", sa.String), sa.column("account_id", sa.String),
                        sa.column("detail", sa.JSON))
mailbox = sa.table("mailbox_messages", sa.column("id", sa.Integer), sa.column("subject", sa.String),
                   sa.column("message_id", sa.String), sa.column("raw", sa.Text))


def _redacted(value: Any) -> Any:
    return redaction.redact(value).text if isinstance(value, str) else value


def _redacted_record(record: Any, outbound: bool) -> Any:
    """An email record of a payload with its header fields redacted (Settle's own Message-ID of an email it sent
    kept: it never held a debtor's words)."""
    if not isinstance(record, dict):
        return record
    return {key: value if (outbound and key == "message_id") else _redacted(value) for key, value in record.items()}


def _redacted_payload(payload: Any, outbound: bool) -> Any:
    if not isinstance(payload, dict) or "email" not in payload:
        return payload
    return {**payload, "email": _redacted_record(payload["email"], outbound)}


def _redact_messages(bind: sa.Connection) -> dict[str, dict[int, bool]]:
    """Redact the email records of stored messages; {conversation: {message id: outbound}} of those changed."""
    changed: dict[str, dict[int, bool]] = {}
    last = 0
    while True:
        rows = bind.execute(sa.select(messages.c.id, messages.c.conversation_id, messages.c.direction,
                                      messages.c.payload)
                            .where(messages.c.id > last, sa.cast(messages.c.payload, sa.Text).like('%"email"%'))
                            .order_by(messages.c.id).limit(BATCH)).all()
        if not rows:
            return changed
        for message_id, conversation_id, direction, payload in rows:
            last = message_id
            redacted = _redacted_payload(payload, direction == "out")
            if redacted != payload:
                bind.execute(messages.update().where(messages.c.id == message_id).values(payload=redacted))
                changed.setdefault(conversation_id, {})[message_id] = direction == "out"


def _reseal(bind: sa.Connection, conversation_id: str, touched: dict[int, bool]) -> None:
    """Redact the conversation's sealed copies of those messages' email records, re-seal the chain from the first
    rewritten entry, and append the chained event that says so (see the module docstring)."""
    found = bind.execute(sa.select(conversations.c.transcript_seq, conversations.c.transcript_head,
                                   conversations.c.purged_at).where(conversations.c.id == conversation_id)).one()
    if found.purged_at is not None:  # a purged conversation's entries are gone; nothing sealed to rewrite
        return
    head_before = found.transcript_head or GENESIS
    rows = bind.execute(sa.select(entries).where(entries.c.conversation_id == conversation_id)
                        .order_by(entries.c.seq)).all()
    head, rewriting, rewritten = GENESIS, False, []
    for row in rows:
        data = row.data
        if row.message_id in touched and isinstance(data, dict) and "payload" in data:
            data = {**data, "payload": _redacted_payload(data["payload"], touched[row.message_id])}
        if data != row.data:
            rewriting = True
            rewritten.append(row.seq)
        if rewriting:
            digest = entry_hash(head, conversation_id, row.seq, row.kind, row.message_id, row.audit_event_id,
                                row.at, data)
            bind.execute(entries.update().where(entries.c.id == row.id)
                         .values(data=data, prev_hash=head, hash=digest))
            head = digest
        else:
            head = row.hash
    seq = rows[-1].seq if rows else 0
    if not rewritten:
        return
    now = datetime.now(timezone.utc)
    event = SimpleNamespace(kind="transcript_redacted", rule_id="PCI-2", actor=ACTOR, account_id=None, at=now,
                            detail={"why": "card numbers or SSNs in email subjects and headers stored before "
                                           "intake redacted them (PCI-3)",
                                    "entries": rewritten, "messages": sorted(touched), "head_before": head_before})
    event_id = bind.execute(audit_events.insert().values(
        at=now, kind=event.kind, actor=ACTOR, rule_id=event.rule_id, conversation_id=conversation_id,
        account_id=None, detail=event.detail).returning(audit_events.c.id)).scalar_one()
    data = event_snapshot(event)
    digest = entry_hash(head, conversation_id, seq + 1, "event", None, event_id, now, data)
    bind.execute(entries.insert().values(conversation_id=conversation_id, seq=seq + 1, kind="event", message_id=None,
                                         audit_event_id=event_id, at=now, data=data, prev_hash=head, hash=digest))
    bind.execute(conversations.update().where(conversations.c.id == conversation_id)
                 .values(transcript_seq=seq + 1, transcript_head=digest))


def _redact_mailbox(bind: sa.Connection) -> None:
    """The demo mail server's copies: the subject column, the Message-ID column and the raw message's headers (its
    body was redacted as raw text when kept, bot/mail/server.py)."""
    last = 0
    while True:
        rows = bind.execute(sa.select(mailbox).where(mailbox.c.id > last).order_by(mailbox.c.id).limit(BATCH)).all()
        if not rows:
            return
        for row in rows:
            last = row.id
            # Read decoded (an RFC 2047 subject can hide a number), written back as plain text (compat32 does not
            # parse "<[REDACTED]@...>" as a Message-ID, which the default policy refuses).
            decoded = message_from_string(row.raw or "", policy=policy.default)
            kept = message_from_string(row.raw or "", policy=policy.compat32)
            raw_changed = False
            for header in MAIL_HEADERS:
                value = decoded[header]
                if value is not None and _redacted(str(value)) != str(value):
                    kept.replace_header(header, _redacted(str(value)).replace("\r", " ").replace("\n", " "))
                    raw_changed = True
            values: dict[str, Any] = {}
            if raw_changed:
                values["raw"] = kept.as_string()
            if _redacted(row.subject) != row.subject:
                values["subject"] = _redacted(row.subject)
            if _redacted(row.message_id) != row.message_id:
                values["message_id"] = _redacted(row.message_id)
            if values:
                bind.execute(mailbox.update().where(mailbox.c.id == row.id).values(**values))


def upgrade() -> None:
    """Upgrade schema."""
    bind = op.get_bind()
    for conversation_id, touched in _redact_messages(bind).items():
        _reseal(bind, conversation_id, touched)
    _redact_mailbox(bind)


def downgrade() -> None:
    """Downgrade schema: nothing (a redacted number cannot be restored, and must not be)."""
