"""REC-1: every process registers the records layer's flush listeners at its start (bot/records/listeners.py), so a
message it stores gets its transcript entry; a process that does not is refused its first write.

Each entry point runs in a fresh interpreter: this test process registered the listeners already (tests/conftest.py),
so only a new process shows whether its own start does."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from sqlalchemy import Engine, select

from bot import conversations
from bot.config import PROJECT_ROOT
from bot.db import session_scope
from bot.db.models import Conversation, Message, TranscriptEntry
from bot.records import demo_history, verification
from bot.records.listeners import register_flush_listeners
from tests.conftest import add_debtor

# Run after an entry point's start: stores one inbound message through the ordinary service, on the app database.
STORE = """
import sys
from bot import conversations
from bot.db import get_engine, session_scope
with session_scope(get_engine(sys.argv[1])) as session:
    conversation = conversations.get_or_create(session, "sms", sys.argv[2])
    conversations.record_message(session, conversation, direction="in", sender_role="debtor", text="what do I owe?")
"""
STARTS = {
    "gateway": "from bot.gateway.app import create_app\ncreate_app()",  # what uvicorn --factory runs
    "action server": "import actions",
    "nothing": "",
}


def _python(code: str, db_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", code, *args], cwd=PROJECT_ROOT, capture_output=True, text=True,
                          env={**os.environ, "DATABASE_URL": db_url}, timeout=120)


def _entries(engine: Engine, external_id: str) -> list[TranscriptEntry]:
    with session_scope(engine) as session:
        return list(session.scalars(select(TranscriptEntry).join(Conversation)
                                    .where(Conversation.external_id == external_id).order_by(TranscriptEntry.seq)))


@pytest.mark.parametrize("process", ["gateway", "action server"])
def test_rec1_a_message_stored_after_the_process_starts_is_in_the_transcript(
        process: str, sqlite_engine: Engine, sqlite_url: str) -> None:
    result = _python(STARTS[process] + "\n" + STORE, sqlite_url, sqlite_url, "+15555550101")
    assert result.returncode == 0, result.stderr
    entries = _entries(sqlite_engine, "+15555550101")
    assert [(e.kind, e.data["text"]) for e in entries] == [("message", "what do I owe?")]
    with session_scope(sqlite_engine) as session:
        report = verification.verify(session)
    assert report.intact, report.problems


def test_rec1_a_message_stored_by_the_command_line_is_in_the_transcript(sqlite_engine: Engine,
                                                                        sqlite_url: str) -> None:
    with session_scope(sqlite_engine) as session:  # the demo history talks about the accounts reserved for it
        for n, ref in enumerate(demo_history.HISTORY_ACCOUNTS):
            add_debtor(session, account_ref=ref, phone=f"+1555555020{n}")
    result = subprocess.run([sys.executable, "-m", "bot", "seed-demo-history"], cwd=PROJECT_ROOT, capture_output=True,
                            text=True, env={**os.environ, "DATABASE_URL": sqlite_url}, timeout=120)
    assert result.returncode == 0, result.stderr
    _assert_every_message_sealed(sqlite_engine)


def test_rec1_the_containers_init_step_seals_the_demo_history_it_loads(sqlite_engine: Engine, sqlite_url: str) -> None:
    """deploy/images/init.py (`settle-init --demo`, the compose topology's one-off step) is a process of its own:
    the demo history it loads is sealed in the transcript chain like any message."""
    result = subprocess.run([sys.executable, str(PROJECT_ROOT / "deploy" / "images" / "init.py"), "--demo"],
                            cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=120,
                            env={**os.environ, "DATABASE_URL": sqlite_url, "PYTHONPATH": str(PROJECT_ROOT)})
    assert result.returncode == 0, result.stderr
    assert "demo portfolio loaded" in result.stdout
    _assert_every_message_sealed(sqlite_engine)


def _assert_every_message_sealed(engine: Engine) -> None:
    """Messages were stored, each has its transcript entry, and the chain verifies."""
    with session_scope(engine) as session:
        stored = session.scalars(select(Message.id)).all()
        sealed = session.scalars(select(TranscriptEntry.message_id).where(TranscriptEntry.kind == "message")).all()
        report = verification.verify(session)
    assert stored and sorted(stored) == sorted(sealed)
    assert report.intact, report.problems


def test_rec1_a_process_that_never_registered_the_listeners_cannot_store_a_message(sqlite_engine: Engine,
                                                                                    sqlite_url: str) -> None:
    result = _python(STARTS["nothing"] + "\n" + STORE, sqlite_url, sqlite_url, "+15555550109")
    assert result.returncode != 0
    assert "FlushListenersMissing" in result.stderr and "register_flush_listeners()" in result.stderr
    with session_scope(sqlite_engine) as session:
        assert session.scalars(select(Message)).all() == []  # nothing stored without its transcript entry


def test_registering_the_listeners_again_seals_each_message_once(sqlite_engine: Engine) -> None:
    register_flush_listeners()
    register_flush_listeners()
    with session_scope(sqlite_engine) as session:
        conversation = conversations.get_or_create(session, "sms", "+15555550101")
        conversations.record_message(session, conversation, direction="in", sender_role="debtor", text="hello")
    assert [(e.seq, e.kind) for e in _entries(sqlite_engine, "+15555550101")] == [(1, "message")]
