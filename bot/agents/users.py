"""Console users and what each role may do (REC-2: role-based access).

- agent: sees the waiting queue and their own conversations; claims, replies, notes, hands back, resolves.
- supervisor: everything an agent may do, on every conversation, and reassigns.
- compliance: reads every conversation, the account panel and the notes (and adds notes); never claims or
  replies, so a reviewer can never speak to a debtor by accident.
- operator: runs collections operations at /ops (portfolio uploads, segments, policy edits, campaigns, the KPI
  dashboard); sees no conversation and never claims or replies.

Passwords are hashed with Argon2id (argon2-cffi, the OWASP-recommended algorithm); the hash carries its own
parameters, so raising them later rehashes each password at its next login."""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime, timedelta, timezone
from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot import audit, wording
from bot.db.models import Handoff, User

AGENT, SUPERVISOR, COMPLIANCE, OPERATOR = "agent", "supervisor", "compliance", "operator"
ROLES = (AGENT, SUPERVISOR, COMPLIANCE, OPERATOR)
ANSWERING_ROLES = (AGENT, SUPERVISOR)  # the people who talk to debtors (answers_debtors)
MIN_PASSWORD_LENGTH = 12  # NIST 800-63B asks for at least 8; staff see debtors' records, so more
MAX_PASSWORD_LENGTH = 256  # hashing a megabyte "password" would be a cheap way to burn CPU
# Brute force: after this many wrong passwords in a row the account waits, whoever tries.
MAX_FAILED_LOGINS = 5
LOCKOUT = timedelta(minutes=15)
_USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,59}$")

_hasher = PasswordHasher()  # Argon2id with the library's current defaults (RFC 9106 low-memory profile)


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    """Verified against when the username is unknown, so a wrong name costs as long as a wrong password (no user
    enumeration by timing). Made on first use: the action server imports this module and never logs anyone in."""
    return _hasher.hash("settle-no-such-user-placeholder")


class UserError(ValueError):
    """A user cannot be created as asked; the message says why."""


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def check_password_strength(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise UserError(f"the password needs at least {MIN_PASSWORD_LENGTH} characters")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise UserError(f"the password may have at most {MAX_PASSWORD_LENGTH} characters")


def normalise_username(username: str) -> str:
    return unicodedata.normalize("NFKC", username or "").strip().lower()


def create_user(session: Session, username: str, password: str, role: str, *, display_name: str | None = None,
                languages: list[str] | tuple[str, ...] | None = None, created_by: str = "cli") -> User:
    """A new console user. The username is case-insensitive; the display name is what debtors see; `languages` are
    the ones they answer debtors in (English when not given)."""
    name = normalise_username(username)
    if not _USERNAME.match(name):
        raise UserError("a username is 2-60 characters: letters, digits, '.', '_' or '-'")
    if role not in ROLES:
        raise UserError(f"the role must be one of {', '.join(ROLES)}")
    check_password_strength(password)
    if languages is not None and not answers_debtors(role):
        raise UserError("languages are for agents and supervisors (the people who answer debtors)")
    spoken = check_languages(languages) if languages is not None else None
    if session.scalar(select(User.id).where(User.username == name)) is not None:
        raise UserError(f"a user named {name!r} already exists")
    shown = (display_name or username).strip()[:100] or name
    user = User(username=name, display_name=shown, role=role, password_hash=hash_password(password),
                languages=list(spoken) if spoken else None)
    session.add(user)
    session.flush()
    audit.record(session, "user_created", rule_id="REC-2", actor=created_by,
                 detail={"user_id": user.id, "username": name, "role": role, "languages": list(languages_of(user))})
    return user


def check_languages(languages: list[str] | tuple[str, ...]) -> tuple[str, ...]:
    """The languages as stored: codes Settle writes in (bot/wording.LANGUAGES), each once, in the order given."""
    spoken = tuple(dict.fromkeys(str(code).strip().lower() for code in languages if str(code).strip()))
    if not spoken:
        raise UserError("a person answers in at least one language")
    unknown = [code for code in spoken if code not in wording.LANGUAGES]
    if unknown:
        raise UserError(f"Settle writes only in {', '.join(wording.LANGUAGES)}; not {', '.join(unknown)}")
    return spoken


def set_languages(session: Session, user: User, languages: list[str] | tuple[str, ...], *, changed_by: str) -> bool:
    """The languages a person answers debtors in (HO-1's routing reads them: a Spanish conversation waits for
    someone who has "es"). Audited with what they were and what they are; False when nothing changed."""
    if not answers_debtors(user.role):
        raise UserError(f"{user.username!r} is a {user.role} and never answers debtors")
    spoken = check_languages(languages)
    before = languages_of(user)
    if spoken == before:
        return False
    user.languages = list(spoken)
    audit.record(session, "user_languages_changed", rule_id="REC-2", actor=changed_by,
                 detail={"user_id": user.id, "username": user.username, "before": list(before),
                         "after": list(spoken)})
    return True


def set_password(session: Session, user: User, password: str) -> None:
    check_password_strength(password)
    user.password_hash = hash_password(password)
    user.failed_logins, user.locked_until = 0, None


def authenticate(session: Session, username: str, password: str, now: datetime | None = None) -> User | None:
    """The user, if the password is theirs and the account is active and not locked; None otherwise (and the
    caller says only "wrong username or password", whichever it was)."""
    now = now or datetime.now(timezone.utc)
    name = normalise_username(username)
    user = session.scalar(select(User).where(User.username == name)) if _USERNAME.match(name) else None
    if len(password) > MAX_PASSWORD_LENGTH:
        password = password[:MAX_PASSWORD_LENGTH]
    if user is None:
        _verify(_dummy_hash(), password)
        audit.record(session, "login_failed", rule_id="REC-2", actor="unknown", detail={"reason": "unknown user"})
        return None
    locked = user.locked_until is not None and user.locked_until > now
    ok = _verify(user.password_hash, password)
    if not user.active or locked or not ok:
        if not ok and not locked:
            user.failed_logins += 1
            if user.failed_logins >= MAX_FAILED_LOGINS:
                user.locked_until, user.failed_logins = now + LOCKOUT, 0
        reason = "inactive" if not user.active else "locked" if locked else "wrong password"
        audit.record(session, "login_failed", rule_id="REC-2", actor=actor(user), detail={"reason": reason})
        return None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    user.failed_logins, user.locked_until, user.last_login_at = 0, None, now
    audit.record(session, "login_succeeded", rule_id="REC-2", actor=actor(user))
    return user


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def set_available(session: Session, user: User, available: bool, now: datetime | None = None) -> None:
    """The console's available / away switch (HO-1: only available people count toward the wait the bot quotes).
    Audited, so a supervisor can see when the queue had nobody on it."""
    if not can_work(user):
        raise UserError("only people who take conversations can be available or away")
    if user.available == available:
        return
    now = now or datetime.now(timezone.utc)
    user.available, user.available_changed_at = available, now
    audit.record(session, "availability_changed", rule_id="HO-1", actor=actor(user),
                 detail={"available": available}, at=now)


def actor(user: User) -> str:
    """How a user appears in the audit trail."""
    return f"{user.role}:{user.username}"[:60]


def by_username(session: Session, username: str) -> User | None:
    return session.scalar(select(User).where(User.username == normalise_username(username)))


def assignable(session: Session, now: datetime | None = None) -> list[User]:
    """Who a supervisor can hand a conversation to: active agents and supervisors not locked out
    (`why_not_assignable`)."""
    people = session.scalars(select(User).where(User.active.is_(True), User.role.in_(ANSWERING_ROLES))
                             .order_by(func.lower(User.display_name)))
    return [person for person in people if why_not_assignable(person, now) is None]


def locked_out(user: User, now: datetime | None = None) -> bool:
    """Too many wrong passwords: the account cannot log in until `locked_until` (authenticate)."""
    now = now or datetime.now(timezone.utc)
    return user.locked_until is not None and user.locked_until > now


def why_not_assignable(user: User, now: datetime | None = None) -> str | None:
    """Why a conversation cannot be given to `user` (None: it can). A switched-off or locked-out account cannot
    log in to answer it, so the debtor would wait on nobody (HO-1)."""
    if not user.active:
        return f"{user.display_name}'s account is switched off, so they cannot answer it. Pick someone else."
    if not answers_debtors(user.role):
        return f"{user.display_name} is a {user.role} and does not take conversations. Pick someone else."
    if locked_out(user, now):
        return (f"{user.display_name} is locked out after too many wrong passwords, so they cannot answer it "
                f"now. Pick someone else.")
    return None


# --- what each role may do (the console checks these on every request, not only in the templates) ----------------

def answers_debtors(role: str) -> bool:
    """Agents and supervisors talk to debtors: only they work the queue and have languages."""
    return role in ANSWERING_ROLES


def can_work(user: User) -> bool:
    """Claim, reply, hand back, resolve: people who talk to debtors."""
    return user.active and answers_debtors(user.role)


def can_reassign(user: User) -> bool:
    return user.active and user.role == SUPERVISOR


def sees_everything(user: User) -> bool:
    """Supervisors see every queue; compliance reviews every conversation (read only)."""
    return user.active and user.role in (SUPERVISOR, COMPLIANCE)


def can_operate(user: User) -> bool:
    """Portfolio uploads, policy edits and campaigns at /ops: operators only (a campaign speaks to many debtors)."""
    return user.active and user.role == OPERATOR


def reads_dashboard(user: User) -> bool:
    """The KPI dashboard moved to /ops; compliance still reads it (it used to be theirs), read only."""
    return user.active and user.role in (OPERATOR, COMPLIANCE)


def can_view(user: User, handoff: Handoff) -> bool:
    """An agent sees what is waiting and what they own or last owned; not a colleague's open conversation. One
    that closed while it waited (the person left: no one took or closed it) stays as visible as it was."""
    if not user.active or user.role == OPERATOR:
        return False
    if sees_everything(user):
        return True
    unowned = handoff.claimed_by is None and handoff.resolved_by is None
    return handoff.status == "waiting" or unowned or user.id in (handoff.claimed_by, handoff.resolved_by)


def why_not_view(user: User) -> str:
    """What is true when can_view says no: the account is off, the role sees no conversations, or (an agent) it is
    a colleague's conversation."""
    if not user.active:
        return "Your account is switched off, so it cannot open conversations."
    if user.role == OPERATOR:
        return ("Operators do not open debtors' conversations: they are for agents, supervisors and compliance "
                "reviewers. Your work is in the operations console.")
    return "This conversation belongs to someone else."


def can_reply(user: User, handoff: Handoff) -> bool:
    """Only the person who owns the conversation writes in it (one voice at a time)."""
    return can_work(user) and handoff.status == "claimed" and handoff.claimed_by == user.id


def languages(user: User) -> tuple[str, ...]:
    """The languages the person answers debtors in; English when none are recorded."""
    return tuple(user.languages or ("en",))


languages_of = languages  # for code where `languages` names a parameter


def speaks(user: User, language: str | None) -> bool:
    return (language or "en") in languages(user)
