"""What every action needs: the app database and the conversation behind a Rasa sender id."""

from __future__ import annotations

from functools import lru_cache

from sqlalchemy import Engine

from bot.config import Settings
from bot.db import get_engine, session_scope
from bot.db.models import Conversation
from bot.identity import AttemptLimit, IdentityService

SMS_CHANNEL = "sms"


@lru_cache(maxsize=1)
def settings() -> Settings:
    return Settings.from_env()


def engine() -> Engine:
    return get_engine(settings().database_url)


@lru_cache(maxsize=1)
def attempt_limit() -> AttemptLimit:
    """Identity checks per account (RATE_LIMIT_VERIFICATION), one counter set for the process (or Redis)."""
    s = settings()
    return AttemptLimit(s.rate_limit_verification, s.redis_url)


def identity_service() -> IdentityService:
    from datetime import timedelta

    s = settings()
    return IdentityService(max_failures=s.lockout_failures, lockout=timedelta(hours=s.lockout_hours),
                           attempts=attempt_limit())


class _NotStored(LookupError):
    """No conversation with this id (yet). Raised, not returned: lru_cache keeps answers, never exceptions."""


@lru_cache(maxsize=4096)
def _channel_address(database_url: str, conversation_id: str) -> tuple[str, str]:
    with session_scope(get_engine(database_url)) as session:
        conversation = session.get(Conversation, conversation_id)
        if conversation is None:
            raise _NotStored(conversation_id)
        return conversation.channel, conversation.external_id


def phone_of(sender_id: str) -> str | None:
    """Over SMS the phone number narrows the debtor down; other channels need a locator. A conversation's channel
    and address never change, so the answer is kept: a form asks several times a turn (rasa-sdk calls
    required_slots more than once). A conversation not stored yet is asked about again next time."""
    try:
        channel, address = _channel_address(settings().database_url, sender_id)
    except _NotStored:
        return None
    return address if channel == SMS_CHANNEL else None
