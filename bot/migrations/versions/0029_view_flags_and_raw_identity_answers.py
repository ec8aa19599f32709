"""Remove the "Rule fired" flags a reviewer's view raised (REC-2), and relabel identity answers stored raw (ID-2)

Revision ID: 0029
Revises: 0028
Create Date: 2026-12-07 13:20:00

(a) REC-2 audits who read or exported a conversation; such an access never changes what happened in it, so it
raises no flag now (bot/records/flags.py `ACCESS_RULES`). Earlier code flagged "rule_fired" on every view, so a
conversation looked at three times carried three "Rule fired" flags a reviewer could not tell from real ones. The
flags are told apart the way the current code tells them: a rule_fired flag under an access rule (REC-2). They are
deleted; the views themselves stay audited as they were.

(b) ID-2: an answer to an identity question is stored as what it is ("[date of birth]"), never its value, since
commit 2688112 (bot/records/identity_answers.py). Answers stored before kept the value in `messages.text` and in
the hash-chained transcript. Each inbound message the NLU read as an answer (intent `inform_identity`) and not yet
stored as one (no ID-2 among its rule ids) is relabelled with the labelling intake uses now
(`identity_answers.stored_form`, as if its question waited: the NLU says it answered one); one whose words hold
nothing factor-like, or that may begin a split card number, stays as typed, as intake would store it. As in 0028,
the sealed copies are rewritten in place (ID-2 wants no copy of a value kept, so appending a change is not enough),
the chain is re-sealed from the first rewritten entry with the transcript key, and a chained audit event
`transcript_redacted` (ID-2, actor `migration:0029`) names the entries and messages rewritten and the head before.
Re-sealing needs the same TRANSCRIPT_HMAC_KEY as the running app (run migrations with it set, as the release job
does). Rasa's tracker store is not this database: its copies are not touched here. A transcript copy emailed before
(bot/records/transcript_copy.py) that names an entry from the first rewritten one on no longer checks as intact at
/transcripts/check (its chain head was re-sealed); the transcript_redacted event's `head_before` accounts for it,
as after 0028.

Downgrade changes nothing: a flag raised by a view was never a finding, and an answer's value must not come back.
"""
from collections.abc import Sequence
from datetime import datetime, timezone
from types import SimpleNamespace
from typing import Any

import sqlalchemy as sa
from alembic import op

from bot.db.models import UTCDateTime
from bot.records.flags import ACCESS_RULES, RULE_FIRED
from bot.records.identity_answers import RULE_ID as ID_2
from bot.records.identity_answers import SLOT_LABELS, stored_form
from bot.records.review_redaction import IDENTITY_INTENT
from bot.records.transcript import GENESIS, entry_hash, event_snapshot

# revision identifiers, used by Alembic.
revision: str = '0029'
down_revision: str | Sequence[str] | None = '0028'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ACTOR = "migration:0029"
BATCH = 500
# Any question: stored_form only needs to know one waited (which one does not change the labels).
SOME_QUESTION = next(iter(SLOT_LABELS))

flags = sa.table("conversation_flags", sa.column("flag", sa.String), sa.column("rule_id", sa.String))
messages = sa.table("messages", sa.column("id", sa.Integer), sa.column("conversation_id", sa.String),
                    sa.column("direction", sa.String), sa.column("intent", sa.String), sa.column("text", sa.Text),
                    sa.column("rule_ids", sa.JSON))
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


def _with_id_2(rule_ids: Any) -> list[str]:
    kept = list(rule_ids or [])
    return kept if ID_2 in kept else [*kept, ID_2]


def _relabel_messages(bind: sa.Connection) -> dict[str, dict[int, tuple[str, list[str]]]]:
    """Relabel the raw identity answers; {conversation: {message id: (text, rule ids) as stored now}}."""
    changed: dict[str, dict[int, tuple[str, list[str]]]] = {}
    last = 0
    while True:
        rows = bind.execute(sa.select(messages.c.id, messages.c.conversation_id, messages.c.text,
                                      messages.c.rule_ids)
                            .where(messages.c.id > last, messages.c.direction == "in",
                                   messages.c.intent == IDENTITY_INTENT)
                            .order_by(messages.c.id).limit(BATCH)).all()
        if not rows:
            return changed
        for message_id, conversation_id, text, rule_ids in rows:
            last = message_id
            if ID_2 in (rule_ids or []):
                continue  # stored as its labels at intake already
            label = stored_form(text or "", SOME_QUESTION)
            if label is None:
                continue
            new_rule_ids = _with_id_2(rule_ids)
            bind.execute(messages.update().where(messages.c.id == message_id)
                         .values(text=label, rule_ids=new_rule_ids))
            changed.setdefault(conversation_id, {})[message_id] = (label, new_rule_ids)


def _relabelled(data: Any, label: str) -> Any:
    """A sealed message or change entry's data with the answer's text replaced and ID-2 added to its rule ids."""
    if not isinstance(data, dict):
        return data
    data = dict(data)
    if "text" in data:
        data["text"] = label
    if "rule_ids" in data:
        data["rule_ids"] = _with_id_2(data["rule_ids"])
    return data


def _reseal(bind: sa.Connection, conversation_id: str, touched: dict[int, tuple[str, list[str]]]) -> None:
    """Rewrite the conversation's sealed copies of the relabelled answers, re-seal the chain from the first rewritten
    entry, and append the chained event that says so (see the module docstring)."""
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
        if row.message_id in touched and row.kind in ("message", "change"):
            data = _relabelled(data, touched[row.message_id][0])
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
    event = SimpleNamespace(kind="transcript_redacted", rule_id=ID_2, actor=ACTOR, account_id=None, at=now,
                            detail={"why": "answers to the identity questions stored as typed before intake "
                                           "stored them as labels (ID-2)",
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


def upgrade() -> None:
    """Upgrade schema."""
    bind = op.get_bind()
    bind.execute(flags.delete().where(flags.c.flag == RULE_FIRED, flags.c.rule_id.in_(sorted(ACCESS_RULES))))
    for conversation_id, touched in _relabel_messages(bind).items():
        _reseal(bind, conversation_id, touched)


def downgrade() -> None:
    """Downgrade schema: nothing (a view's flag was never a finding; an answer's value must not come back)."""
