"""REC-1: `python -m bot verify-transcripts`, run as an operator runs it, catches a row edited by hand with SQL."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import sqlalchemy as sa
from sqlalchemy import Engine

from bot import audit, conversations
from bot.config import PROJECT_ROOT
from bot.db import get_engine, session_scope


def _history(engine: Engine) -> str:
    with session_scope(engine) as session:
        conversation = conversations.get_or_create(session, "sms", "+15555550101")
        conversations.record_message(session, conversation, direction="in", sender_role="debtor",
                                     text="what do I owe?")
        audit.record(session, "disclosure_given", rule_id="DISC-1", conversation_id=conversation.id)
        conversations.record_message(session, conversation, direction="out", sender_role="bot",
                                     text="You owe $1,234.56.", status="sent")
        return conversation.id


def _run(db_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "bot", "verify-transcripts", *args], cwd=PROJECT_ROOT,
                          env={**os.environ, "DATABASE_URL": db_url}, capture_output=True, text=True, timeout=120)


def test_rec1_verify_transcripts_exits_0_on_an_intact_record(db_url: str) -> None:
    _history(get_engine(db_url))
    result = _run(db_url)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "intact: 1 conversations, 3 entries, 0 problems" in result.stdout


def test_rec1_verify_transcripts_names_a_message_row_edited_by_hand_and_exits_1(db_url: str) -> None:
    engine = get_engine(db_url)
    conversation_id = _history(engine)
    with engine.begin() as conn:
        message_id = conn.execute(sa.text("SELECT id FROM messages WHERE direction = 'out'")).scalar_one()
        conn.execute(sa.text("UPDATE messages SET text = 'You owe nothing.' WHERE id = :m"), {"m": message_id})
    result = _run(db_url)
    assert result.returncode == 1
    assert f"PROBLEM {conversation_id} message {message_id}: edited outside the record: text" in result.stdout
    assert "NOT INTACT: 1 conversations, 3 entries, 1 problems" in result.stdout


def test_rec1_verify_transcripts_json_reports_an_entry_edited_by_hand(db_url: str) -> None:
    engine = get_engine(db_url)
    conversation_id = _history(engine)
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE transcript_entries SET prev_hash = :h WHERE seq = 2"), {"h": "f" * 64})
    result = _run(db_url, "--json", "--conversation", conversation_id)
    assert result.returncode == 1
    report = json.loads(result.stdout)
    assert report["intact"] is False and report["conversations"] == 1
    assert {"conversation_id": conversation_id, "where": "entry 2",
            "what": "does not follow the entry before it"} in report["problems"]


def test_verify_transcripts_refuses_an_unknown_conversation(db_url: str) -> None:
    result = _run(db_url, "--conversation", "cnv_nosuchthing")
    assert result.returncode == 2
    assert "no such conversation: cnv_nosuchthing" in result.stderr
