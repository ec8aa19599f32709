"""Reviewer actions on a conversation (REC-2): mark reviewed, reopen, annotate, escalate.

Each action is audited with the reviewer as actor. The audit kinds are transcript.RECORD_ACCESS_EVENTS, so they
are recorded but not chained: reviewing a conversation never changes its transcript. The rule ID goes in the
detail, not in AuditEvent.rule_id, or the flag hook would read a review as "a rule fired"."""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy.orm import Session

from bot import audit
from bot.agents import users
from bot.db.models import Conversation, ConversationReview, ReviewAnnotation, User

REVIEW_ROLE = "compliance"
STATUSES = ("unreviewed", "reviewed", "escalated")
MAX_NOTE_CHARS = 4000


class ReviewError(ValueError):
    """A reviewer action that cannot be done, with a message fit to show the reviewer."""


def _reviewer(user: User) -> User:
    if user.role != REVIEW_ROLE or not user.active:
        raise ReviewError("Only an active compliance user can review conversations.")
    return user


def _conversation(session: Session, conversation_id: str) -> Conversation:
    conversation = session.get(Conversation, conversation_id)
    if conversation is None:
        raise ReviewError(f"No conversation {conversation_id}.")
    return conversation


def status_of(session: Session, conversation_id: str) -> str:
    review = session.get(ConversationReview, conversation_id)
    return review.status if review else "unreviewed"


def _set_status(session: Session, user: User, conversation_id: str, status: str, kind: str) -> ConversationReview:
    _reviewer(user)
    conversation = _conversation(session, conversation_id)
    review = session.get(ConversationReview, conversation.id)
    previous = review.status if review else "unreviewed"
    if review is None:
        review = ConversationReview(conversation_id=conversation.id)
        session.add(review)
    review.status, review.updated_by = status, user.id
    review.updated_at = datetime.now(timezone.utc)
    audit.record(session, kind, conversation_id=conversation.id, account_id=conversation.account_id,
                 actor=users.actor(user), detail={"rule": "REC-2", "from": previous, "to": status})
    return review


def mark_reviewed(session: Session, user: User, conversation_id: str) -> ConversationReview:
    return _set_status(session, user, conversation_id, "reviewed", "review_marked")


def reopen(session: Session, user: User, conversation_id: str) -> ConversationReview:
    return _set_status(session, user, conversation_id, "unreviewed", "review_reopened")


def _clean_note(text: str) -> str:
    note = (text or "").strip()
    if not note:
        raise ReviewError("Write a note first.")
    if len(note) > MAX_NOTE_CHARS:
        raise ReviewError(f"A note is at most {MAX_NOTE_CHARS} characters; this one has {len(note)}.")
    return note


def annotate(session: Session, user: User, conversation_id: str, text: str,
             message_id: int | None = None) -> ReviewAnnotation:
    _reviewer(user)
    conversation = _conversation(session, conversation_id)
    note = ReviewAnnotation(conversation_id=conversation.id, message_id=message_id, author_id=user.id,
                            kind="note", text=_clean_note(text))
    session.add(note)
    session.flush()
    audit.record(session, "review_annotated", conversation_id=conversation.id,
                 account_id=conversation.account_id, actor=users.actor(user),
                 detail={"rule": "REC-2", "annotation_id": note.id, "message_id": message_id})
    return note


def escalate(session: Session, user: User, conversation_id: str, reason: str) -> ReviewAnnotation:
    """Escalation needs a reason, kept as an annotation of kind "escalation"."""
    _reviewer(user)
    conversation = _conversation(session, conversation_id)
    note = ReviewAnnotation(conversation_id=conversation.id, author_id=user.id, kind="escalation",
                            text=_clean_note(reason))
    session.add(note)
    session.flush()
    _set_status(session, user, conversation.id, "escalated", "review_escalated")
    return note
