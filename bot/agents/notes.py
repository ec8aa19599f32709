"""Private notes on a conversation: for the people handling it, never sent to the debtor.

A note is redacted like a debtor's message before it is stored (PCI-2): an agent who pastes a card number or an
SSN into a note leaves "[REDACTED]" in the record, never the number (PCI-3)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot import audit
from bot.agents import users
from bot.compliance import redaction
from bot.db.models import AgentNote, Handoff, User

MAX_NOTE = 4000


class NoteError(ValueError):
    """The note cannot be stored as written (empty, too long)."""


class NoteForbidden(NoteError):
    """The author may not see this conversation."""


@dataclass(frozen=True)
class NoteView:
    id: int
    author: str
    role: str
    text: str
    at: datetime


def add(session: Session, handoff: Handoff, author: User, text: str, now: datetime | None = None) -> AgentNote:
    """Anyone who may see the conversation may note something on it (compliance reviewers too)."""
    if not users.can_view(author, handoff):
        raise NoteForbidden("You cannot see this conversation.")
    text = (text or "").strip()
    if not text:
        raise NoteError("Write a note first.")
    if len(text) > MAX_NOTE:
        raise NoteError(f"A note can be up to {MAX_NOTE} characters.")
    found = redaction.redact(text)
    note = AgentNote(conversation_id=handoff.conversation_id, handoff_id=handoff.id, author_id=author.id,
                     text=found.text, created_at=now or datetime.now(timezone.utc))
    session.add(note)
    session.flush()
    audit.record(session, "note_added", rule_id="PCI-2" if found.kinds else None, actor=users.actor(author),
                 conversation_id=handoff.conversation_id, detail={"note_id": note.id, "redacted": list(found.kinds)})
    return note


def for_conversation(session: Session, conversation_id: str, after_id: int = 0) -> list[NoteView]:
    rows = session.execute(select(AgentNote, User).join(User, User.id == AgentNote.author_id).where(
        AgentNote.conversation_id == conversation_id, AgentNote.id > after_id).order_by(AgentNote.id)).all()
    return [NoteView(n.id, u.display_name, u.role, n.text, n.created_at) for n, u in rows]
