"""Settings from the environment (python-dotenv reads `.env`; `.env.example` documents every key)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from dotenv import load_dotenv

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def _default_database_url() -> str:
    return f"sqlite:///{PROJECT_ROOT / 'var' / 'settle.db'}"


@dataclass(frozen=True)
class Settings:
    database_url: str = field(default_factory=_default_database_url)
    rasa_url: str = "http://127.0.0.1:5005"
    rasa_token: str = ""
    # Neutral name used before verification (DISC-3): never the creditor's name.
    business_name: str = "Settle Services"
    support_contact: str = "support@example.com"
    lockout_failures: int = 3
    lockout_hours: int = 24
    # After this long without a message a conversation starts a new session and the debtor verifies again (ID-1).
    session_idle_minutes: int = 60

    @classmethod
    def from_env(cls) -> Settings:
        load_dotenv(PROJECT_ROOT / ".env", override=False)
        env = os.environ
        return cls(
            database_url=env.get("DATABASE_URL") or _default_database_url(),
            rasa_url=env.get("RASA_URL", cls.rasa_url).rstrip("/"),
            rasa_token=env.get("RASA_TOKEN", ""),
            business_name=env.get("BUSINESS_NAME", cls.business_name),
            support_contact=env.get("SUPPORT_CONTACT", cls.support_contact),
            lockout_failures=int(env.get("ID_LOCKOUT_FAILURES", cls.lockout_failures)),
            lockout_hours=int(env.get("ID_LOCKOUT_HOURS", cls.lockout_hours)),
            session_idle_minutes=int(env.get("SESSION_IDLE_MINUTES", cls.session_idle_minutes)),
        )
