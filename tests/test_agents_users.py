"""Console users (REC-2): Argon2 hashing, login with lockout, roles and what each may do, sessions, the CLI."""

from __future__ import annotations

import io
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from bot.agents import auth, users
from bot.db import session_scope
from bot.db.models import AgentSession, AuditEvent, Handoff, User

PASSWORD = "correct horse battery"
NOW = datetime(2026, 11, 23, 15, 0, tzinfo=timezone.utc)


def test_REC_2_passwords_are_stored_as_argon2id_hashes_only(sqlite_engine):
    with session_scope(sqlite_engine) as session:
        user = users.create_user(session, "Alex", PASSWORD, "agent", display_name="Alex Kim")
        stored = session.scalar(select(User.password_hash).where(User.id == user.id))
    assert stored.startswith("$argon2id$")
    assert PASSWORD not in stored
    assert user.username == "alex" and user.display_name == "Alex Kim"
    # Two hashes of one password differ (a fresh salt each time).
    assert users.hash_password(PASSWORD) != users.hash_password(PASSWORD)


def test_login_needs_the_right_password_and_says_nothing_about_which_part_was_wrong(sqlite_engine):
    with session_scope(sqlite_engine) as session:
        users.create_user(session, "alex", PASSWORD, "agent")
    with session_scope(sqlite_engine) as session:
        assert users.authenticate(session, "ALEX", PASSWORD) is not None  # usernames are case-insensitive
        assert users.authenticate(session, "alex", "wrong password!") is None
        assert users.authenticate(session, "nobody", PASSWORD) is None
        kinds = [e.kind for e in session.scalars(select(AuditEvent).order_by(AuditEvent.id))]
    assert kinds[-3:] == ["login_succeeded", "login_failed", "login_failed"]


def test_five_wrong_passwords_lock_the_account_for_a_while_even_for_the_right_one(sqlite_engine):
    with session_scope(sqlite_engine) as session:
        users.create_user(session, "alex", PASSWORD, "agent")
    for _ in range(users.MAX_FAILED_LOGINS):
        with session_scope(sqlite_engine) as session:
            assert users.authenticate(session, "alex", "not the password", now=NOW) is None
    with session_scope(sqlite_engine) as session:
        assert users.authenticate(session, "alex", PASSWORD, now=NOW + timedelta(minutes=1)) is None
    with session_scope(sqlite_engine) as session:
        assert users.authenticate(session, "alex", PASSWORD, now=NOW + users.LOCKOUT + timedelta(minutes=1))


def test_a_disabled_user_cannot_log_in(sqlite_engine):
    with session_scope(sqlite_engine) as session:
        users.create_user(session, "alex", PASSWORD, "agent").active = False
    with session_scope(sqlite_engine) as session:
        assert users.authenticate(session, "alex", PASSWORD) is None


@pytest.mark.parametrize("name,password,role,problem", [
    ("alex", "short", "agent", "at least"),
    ("a", PASSWORD, "agent", "username"),
    ("alex smith", PASSWORD, "agent", "username"),
    ("alex", PASSWORD, "admin", "role"),
])
def test_bad_users_are_refused_with_a_reason(sqlite_engine, name, password, role, problem):
    with session_scope(sqlite_engine) as session, pytest.raises(users.UserError, match=problem):
        users.create_user(session, name, password, role)


def test_a_username_is_taken_once(sqlite_engine):
    with session_scope(sqlite_engine) as session:
        users.create_user(session, "alex", PASSWORD, "agent")
        with pytest.raises(users.UserError, match="already exists"):
            users.create_user(session, "ALEX", PASSWORD, "supervisor")


def _user(role: str, user_id: str = "usr_a") -> User:
    return User(id=user_id, username=role, display_name=role, role=role, password_hash="x", active=True)


def test_REC_2_what_each_role_may_do():
    agent, other, supervisor, compliance = _user("agent"), _user("agent", "usr_b"), _user("supervisor", "usr_s"), \
        _user("compliance", "usr_c")
    waiting = Handoff(status="waiting")
    mine = Handoff(status="claimed", claimed_by=agent.id)
    theirs = Handoff(status="claimed", claimed_by=other.id)
    assert users.can_work(agent) and users.can_work(supervisor) and not users.can_work(compliance)
    assert users.can_reassign(supervisor) and not users.can_reassign(agent) and not users.can_reassign(compliance)
    # Agents see the waiting queue and their own conversations, not a colleague's.
    assert users.can_view(agent, waiting) and users.can_view(agent, mine) and not users.can_view(agent, theirs)
    assert users.can_view(supervisor, theirs) and users.can_view(compliance, theirs)
    # Only the owner writes; not a supervisor who has not taken it, never compliance.
    assert users.can_reply(agent, mine) and not users.can_reply(other, mine)
    assert not users.can_reply(supervisor, mine) and not users.can_reply(compliance, mine)
    agent.active = False
    assert not users.can_reply(agent, mine) and not users.can_view(agent, waiting)


def test_sessions_keep_only_a_hash_of_the_cookie_and_end_on_logout_idle_or_expiry(sqlite_engine):
    idle, lifetime = timedelta(minutes=30), timedelta(hours=8)
    with session_scope(sqlite_engine) as session:
        user = users.create_user(session, "alex", PASSWORD, "agent")
        token, signed = auth.start(session, user, lifetime=lifetime, now=NOW)
        assert session.get(AgentSession, token) is None  # the token itself is not a key in the table
        assert signed.csrf_token and signed.csrf_token != token
    with session_scope(sqlite_engine) as session:
        assert auth.resolve(session, token, idle=idle, now=NOW + timedelta(minutes=10)).user.username == "alex"
        assert auth.resolve(session, token + "x", idle=idle, now=NOW) is None
        assert auth.resolve(session, None, idle=idle, now=NOW) is None
        # Each use restarts the idle clock: used at +10 and +35, so 31 idle minutes later it is over.
        assert auth.resolve(session, token, idle=idle, now=NOW + timedelta(minutes=35)) is not None
        assert auth.resolve(session, token, idle=idle, now=NOW + timedelta(minutes=66)) is None
    with session_scope(sqlite_engine) as session:
        token, signed = auth.start(session, session.get(User, user.id), lifetime=lifetime, now=NOW)
        auth.end(session, signed, now=NOW)
        assert auth.resolve(session, token, idle=idle, now=NOW) is None


def test_csrf_tokens_compare_exactly_and_never_match_when_missing():
    assert auth.csrf_ok("abc", "abc")
    assert not auth.csrf_ok("abc", "abd")
    assert not auth.csrf_ok("abc", None)
    assert not auth.csrf_ok(None, None)
    assert not auth.csrf_ok("", "")


def test_create_user_command_reads_the_password_from_stdin(sqlite_engine, sqlite_url, monkeypatch, capsys):
    from bot.__main__ import main

    monkeypatch.setenv("DATABASE_URL", sqlite_url)
    monkeypatch.setattr("sys.stdin", io.StringIO(PASSWORD + "\n"))
    assert main(["create-user", "Sam", "--role", "supervisor", "--display-name", "Sam Lee", "--password-stdin"]) == 0
    assert "created supervisor 'sam'" in capsys.readouterr().out
    with session_scope(sqlite_engine) as session:
        assert users.authenticate(session, "sam", PASSWORD).role == "supervisor"
    monkeypatch.setattr("sys.stdin", io.StringIO("short\n"))
    assert main(["create-user", "kim", "--role", "agent", "--password-stdin"]) == 2
    assert "at least" in capsys.readouterr().err


def test_available_workers_counts_recent_available_agents_and_supervisors_only(sqlite_engine):
    with session_scope(sqlite_engine) as session:
        lifetime = timedelta(hours=8)
        for name, role in (("a1", "agent"), ("s1", "supervisor"), ("c1", "compliance")):
            auth.start(session, users.create_user(session, name, PASSWORD, role), lifetime=lifetime, now=NOW)
        stale = users.create_user(session, "a2", PASSWORD, "agent")
        auth.start(session, stale, lifetime=lifetime, now=NOW - timedelta(hours=2))
        assert auth.available_workers(session, now=NOW + timedelta(minutes=2)) == 2
        users.set_available(session, users.by_username(session, "s1"), False, now=NOW)
        assert auth.available_workers(session, now=NOW + timedelta(minutes=2)) == 1
        # HO-1: a console not seen for a few minutes is closed; its person no longer shortens the wait the bot
        # quotes (README "Handoff"). Mutation tried: the 15-minute window again; this failed.
        assert auth.available_workers(session, now=NOW + timedelta(minutes=4)) == 0


def test_HO_1_the_available_away_switch_is_stored_audited_and_only_for_people_who_take_conversations(sqlite_engine):
    """Mutation tried: `set_available` returning before it stores the value -> the first assertion fails."""
    with session_scope(sqlite_engine) as session:
        agent = users.create_user(session, "ana", PASSWORD, "agent")
        reviewer = users.create_user(session, "cat", PASSWORD, "compliance")
        assert agent.available  # a new user starts available, as everyone did before the switch existed
        users.set_available(session, agent, False, now=NOW)
        users.set_available(session, agent, False, now=NOW + timedelta(minutes=1))  # no change: no second event
        with pytest.raises(users.UserError):
            users.set_available(session, reviewer, True, now=NOW)
    with session_scope(sqlite_engine) as session:
        stored = session.scalar(select(User).where(User.username == "ana"))
        events = session.scalars(select(AuditEvent).where(AuditEvent.kind == "availability_changed")).all()
        assert (stored.available, stored.available_changed_at) == (False, NOW)
        assert [(e.rule_id, e.actor, e.detail) for e in events] == [("HO-1", "agent:ana", {"available": False})]
