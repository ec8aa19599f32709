"""What every action needs: the app database and the conversation behind a Rasa sender id."""

from __future__ import annotations

from functools import lru_cache

from sqlalchemy import Engine

from bot.config import Settings
from bot.db import get_engine
from bot.db.models import Conversation
from bot.identity import IdentityService

SMS_CHANNEL = "sms"


@lru_cache(maxsize=1)
def settings() -> Settings:
    return Settings.from_env()


def engine() -> Engine:
    return get_engine(settings().database_url)


def identity_service() -> IdentityService:
    from datetime import timedelta

    s = settings()
    return IdentityService(max_failures=s.lockout_failures, lockout=timedelta(hours=s.lockout_hours))


def phone_of(conversation: Conversation | None) -> str | None:
    """Over SMS the phone number narrows the debtor down; other channels need a locator."""
    if conversation is not None and conversation.channel == SMS_CHANNEL:
        return conversation.external_id
    return None
