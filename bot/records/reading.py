"""What a console user may read of a conversation (REC-2, HO-1, ID-2): the one rule every page, live update and
export that shows messages asks.

- a compliance reviewer reads redacted text (review_redaction.for_review); unredacted only when they ask for it
  and hold the separate permission (User.can_view_unredacted), and that read is audited under its own name;
- an agent or a supervisor reads what the debtor wrote, but never the answers to the identity questions nor
  anything that looks like a date of birth, an SSN, a ZIP or an account number (review_redaction.for_agent): with
  those they could pass verification as the debtor (HO-1 "passing flags but never secrets", ID-2). They see the
  verification outcome as a flag instead (bot/agents/queue.py, Summary.verification);
- nobody else reads a conversation (an operator gets no transcript; bot/agents/users.can_view).

The audit event a read leaves names what was shown (`audit_kind`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.agents import users
from bot.db.models import User
from bot.records.review_redaction import IDENTITY_INTENT, for_agent, for_review

REDACTED, UNREDACTED, AGENT = "redacted", "unredacted", "agent"
UNREDACTED_REFUSED = "Reading a transcript unredacted needs a separate permission (REC-2)."


class NotPermitted(PermissionError):
    """The user asked to read more than they may (REC-2); the message is safe to show."""


@dataclass(frozen=True)
class Reading:
    """How one user reads messages: `view` is REDACTED, UNREDACTED or AGENT."""

    view: str

    @property
    def redacted(self) -> bool:
        return self.view != UNREDACTED

    @property
    def audit_kind(self) -> str:
        """The audit event a read of a transcript leaves (REC-2: unredacted access is logged as such)."""
        return "transcript_viewed_unredacted" if self.view == UNREDACTED else "transcript_viewed"

    def text(self, text: str | None, *, direction: str = "in", intent: str | None = None) -> str:
        """A message's text as this reader may see it."""
        if self.view == UNREDACTED:
            return text or ""
        if self.view == AGENT:
            # The agent reads Settle's own words (the bot's, the agents'), which never echo a factor (ID-2); only
            # what the debtor typed is masked.
            return for_agent(text, identity_answer=intent == IDENTITY_INTENT) if direction == "in" else text or ""
        return for_review(text)

    def message(self, message: Any) -> str:
        """What a transcript line shows: a button's title for a tapped button, else the text, as this reader may."""
        payload = message.payload or {}
        shown = payload.get("title") if message.direction == "in" and payload.get("title") else message.text
        return self.text(shown, direction=message.direction, intent=message.intent)


def may_read_unredacted(user: User) -> bool:
    """REC-2: the separate permission to read a transcript unredacted (a compliance reviewer who holds it)."""
    return bool(user.active and user.role == users.COMPLIANCE and user.can_view_unredacted)


def reading_for(user: User, *, unredacted: bool = False) -> Reading:
    """How this user reads transcripts; NotPermitted for an unredacted read without the permission (REC-2)."""
    if unredacted:
        if may_read_unredacted(user):
            return Reading(UNREDACTED)
        raise NotPermitted(UNREDACTED_REFUSED)
    return Reading(AGENT if users.answers_debtors(user.role) else REDACTED)
