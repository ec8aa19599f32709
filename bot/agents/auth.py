"""Console sessions and CSRF tokens.

Server-side sessions: the cookie carries 256 random bits; the table keeps only their SHA-256, so logging out,
an idle timeout or disabling a user ends a session at once, and a copy of the database holds no usable session.
Each session has its own CSRF token (synchronizer pattern): every POST must carry it, compared in constant time.
Before login there is no session, so the login form uses a double-submit token (a cookie and a form field that
must match), which stops another site from logging a browser in to an account of its choosing."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from bot import audit
from bot.agents import users
from bot.db.models import AgentSession, User

COOKIE = "settle_agent"
LOGIN_CSRF_COOKIE = "settle_agent_login"
# last_seen_at is written at most this often: a console polling every few seconds must not write every time.
TOUCH_EVERY = timedelta(seconds=60)
# Someone who switched to "available" counts toward the wait the bot quotes only while their console is open. An
# open console's live stream re-reads the session every few seconds (bot/gateway/console/routes.py POLL_SECONDS),
# which writes last_seen_at every TOUCH_EVERY; a session unseen for three of those is a closed tab, a forgotten
# switch or a script that only logged in (the staff tester was quoted 5 minutes with no console open at 15).
ONLINE_WINDOW = 3 * TOUCH_EVERY


@dataclass(frozen=True)
class SignedIn:
    user: User
    session_id: str
    csrf_token: str


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_token() -> str:
    return secrets.token_urlsafe(32)


def start(session: Session, user: User, *, lifetime: timedelta, now: datetime | None = None) -> tuple[str, SignedIn]:
    """A new session for this user; returns the cookie value (never stored) and the session."""
    now = now or datetime.now(timezone.utc)
    token = new_token()
    row = AgentSession(id=_digest(token), user_id=user.id, csrf_token=new_token(), created_at=now,
                       last_seen_at=now, expires_at=now + lifetime)
    session.add(row)
    session.flush()
    return token, SignedIn(user, row.id, row.csrf_token)


def resolve(session: Session, token: str | None, *, idle: timedelta,
            now: datetime | None = None) -> SignedIn | None:
    """The signed-in user behind a cookie, or None: unknown, revoked, expired, idle too long or user disabled."""
    if not token or len(token) > 200:
        return None
    now = now or datetime.now(timezone.utc)
    row = session.get(AgentSession, _digest(token))
    if row is None or row.revoked_at is not None or row.expires_at <= now or row.last_seen_at + idle <= now:
        return None
    user = session.get(User, row.user_id)
    if user is None or not user.active:
        return None
    if now - row.last_seen_at >= TOUCH_EVERY:
        row.last_seen_at = now
    return SignedIn(user, row.id, row.csrf_token)


def end(session: Session, signed_in: SignedIn, now: datetime | None = None) -> None:
    now = now or datetime.now(timezone.utc)
    session.execute(update(AgentSession).where(AgentSession.id == signed_in.session_id)
                    .values(revoked_at=now))
    audit.record(session, "logout", rule_id="REC-2", actor=users.actor(signed_in.user))


def csrf_ok(expected: str | None, given: str | None) -> bool:
    """Constant-time comparison; a missing token on either side never matches."""
    if not expected or not given:
        return False
    return hmac.compare_digest(expected.encode(), given.encode())


def available_workers(session: Session, now: datetime | None = None) -> int:
    """People who can pick up a handoff, said they are available (the console's switch) and have the console
    open (a session seen in the last ONLINE_WINDOW: its live stream keeps it fresh)."""
    return len(available_worker_ids(session, now))


def available_worker_ids(session: Session, now: datetime | None = None) -> set[str]:
    """The ids of the people available_workers counts."""
    now = now or datetime.now(timezone.utc)
    rows = session.scalars(
        select(AgentSession.user_id).join(User, User.id == AgentSession.user_id).where(
            AgentSession.revoked_at.is_(None), AgentSession.expires_at > now,
            AgentSession.last_seen_at > now - ONLINE_WINDOW, User.active.is_(True), User.available.is_(True),
            User.role.in_((users.AGENT, users.SUPERVISOR)))
    ).all()
    return set(rows)
