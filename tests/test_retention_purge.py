"""REC-1: records are kept for policy/retention.yml's years after the last collection activity, then purged:
conversations deleted, personal data anonymised, the purge audited and sealed so verify-transcripts stays honest."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy import Engine, func, select

from bot import conversations
from bot.config import PROJECT_ROOT
from bot.db import get_engine, session_scope
from bot.db.models import (
    Account,
    AuditEvent,
    Conversation,
    ConversationIntent,
    Debtor,
    Message,
    Plan,
    SavedMessage,
    ScheduledMessage,
    TranscriptEntry,
)
from bot.records import retention, verification
from tests.conftest import add_debtor

NOW = datetime(2030, 6, 1, 12, tzinfo=timezone.utc)
LONG_AGO = datetime(2026, 1, 10, 9, tzinfo=timezone.utc)  # more than 3 years before NOW
POLICY = retention.RetentionPolicy(years_after_last_activity=3)


def _debtor_with_history(engine: Engine, ref: str, phone: str, at: datetime) -> tuple[str, str]:
    """A debtor whose whole history (placement, a conversation, its messages and events) happened at `at`,
    written through the ORM so the transcript chain seals it as it would have been sealed then."""
    with session_scope(engine) as session:
        debtor, account = add_debtor(session, account_ref=ref, phone=phone)
        debtor.created_at = account.created_at = at
        conversation = conversations.get_or_create(session, "sms", phone)
        conversation.debtor_id, conversation.account_id = debtor.id, account.id
        conversation.started_at = conversation.last_activity_at = at
        session.add(Message(conversation_id=conversation.id, direction="in", sender_role="debtor",
                            text="what do I owe?", intent="check_balance", created_at=at))
        session.flush()
        session.add(AuditEvent(kind="disclosure_given", rule_id="DISC-1", conversation_id=conversation.id,
                               account_id=account.id, at=at))
        session.flush()
        session.add(Message(conversation_id=conversation.id, direction="out", sender_role="bot",
                            text="You owe $1,234.56.", status="sent", created_at=at))
        session.add(ScheduledMessage(account_id=account.id, channel="sms", address=phone, kind="reminder",
                                     text="Your payment is due.", not_before=at, status="sent", sent_at=at,
                                     created_at=at))
        session.flush()
        return debtor.id, conversation.id


def _counts(engine: Engine, conversation_id: str) -> tuple[int, int, int]:
    with session_scope(engine) as session:
        return (session.scalar(select(func.count()).select_from(Message)
                               .where(Message.conversation_id == conversation_id)),
                session.scalar(select(func.count()).select_from(TranscriptEntry)
                               .where(TranscriptEntry.conversation_id == conversation_id)),
                session.scalar(select(func.count()).select_from(AuditEvent)
                               .where(AuditEvent.conversation_id == conversation_id)))


def _run(db_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "bot", *args], cwd=PROJECT_ROOT,
                          env={**os.environ, "DATABASE_URL": db_url}, capture_output=True, text=True, timeout=120)


def test_rec1_retention_policy_file_is_valid_and_says_three_years() -> None:
    assert retention.load_retention_policy() == retention.RetentionPolicy(years_after_last_activity=3)


@pytest.mark.parametrize(("text", "message"), [
    ("years_after_last_activity: 2\n", "at least 3"),
    ("years_after_last_activity: three\n", "whole number"),
    ("years: 3\n", "unknown field"),
    ("years_after_last_activity: [3\n", "not valid YAML"),
])
def test_rec1_a_bad_retention_policy_is_refused_naming_the_field(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "retention.yml"
    path.write_text(text)
    with pytest.raises(retention.RetentionPolicyError, match=message):
        retention.load_retention_policy(path)


def test_rec1_check_policies_reports_a_bad_retention_file(tmp_path: Path) -> None:
    path = tmp_path / "retention.yml"
    path.write_text("years_after_last_activity: 1\n")
    result = subprocess.run([sys.executable, "-m", "bot", "check-policies", "--retention", str(path)],
                            cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert "retention.yml: years_after_last_activity must be at least 3" in result.stderr


def test_rec1_an_expired_debtor_is_a_candidate_but_a_recent_one_is_not(engine: Engine) -> None:
    old_debtor, _ = _debtor_with_history(engine, "SET-1", "+15555550101", LONG_AGO)
    _debtor_with_history(engine, "SET-2", "+15555550102", NOW - timedelta(days=400))
    with session_scope(engine) as session:
        found = retention.candidates(session, POLICY, NOW)
    assert [c.debtor_id for c in found] == [old_debtor]
    assert found[0].retention_ends_at == datetime(2029, 1, 10, 9, tzinfo=timezone.utc)
    assert found[0].counts["messages"] == 2


def test_rec1_a_reminder_sent_last_year_keeps_an_old_debtors_records(engine: Engine) -> None:
    _debtor_with_history(engine, "SET-1", "+15555550101", LONG_AGO)
    with session_scope(engine) as session:
        account = session.scalar(select(Account).where(Account.account_ref == "SET-1"))
        session.add(ScheduledMessage(account_id=account.id, channel="sms", address="+15555550101", kind="reminder",
                                     text="Reminder.", not_before=NOW - timedelta(days=365), status="sent",
                                     sent_at=NOW - timedelta(days=365)))
    with session_scope(engine) as session:
        assert retention.candidates(session, POLICY, NOW) == []


def test_rec1_a_debtor_with_an_open_plan_is_never_purged_however_old(engine: Engine) -> None:
    _debtor_with_history(engine, "SET-1", "+15555550101", LONG_AGO)
    with session_scope(engine) as session:
        account = session.scalar(select(Account).where(Account.account_ref == "SET-1"))
        session.add(Plan(reference="P-1", account_id=account.id, kind="plan", balance_cents=1000, total_cents=1000,
                         installment_count=2, terms_text="2 x $5.00", status="active", consented_at=LONG_AGO,
                         consent_text="yes", created_at=LONG_AGO))
    with session_scope(engine) as session:
        assert retention.candidates(session, POLICY, NOW) == []


def test_rec1_purge_dry_run_prints_what_would_go_and_changes_nothing(db_url: str) -> None:
    engine = get_engine(db_url)
    debtor_id, conversation_id = _debtor_with_history(engine, "SET-1", "+15555550101", LONG_AGO)
    before = _counts(engine, conversation_id)
    result = _run(db_url, "purge", "--dry-run", "--now", "2030-06-01T12:00:00Z")
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"would purge debtor {debtor_id}: accounts SET-1; conversations {conversation_id};" in result.stdout
    assert "messages 2" in result.stdout and "retention ended 2029-01-10" in result.stdout
    assert "dry run: 1 debtors would be purged" in result.stdout
    assert _counts(engine, conversation_id) == before
    with session_scope(engine) as session:
        debtor = session.get(Debtor, debtor_id)
        assert (debtor.first_name, debtor.phone, debtor.purged_at) == ("Jordan", "+15555550101", None)


def test_rec1_purge_removes_an_expired_debtors_conversations_and_pii_but_not_a_recent_ones(db_url: str) -> None:
    engine = get_engine(db_url)
    old_debtor, old_conversation = _debtor_with_history(engine, "SET-1", "+15555550101", LONG_AGO)
    new_debtor, new_conversation = _debtor_with_history(engine, "SET-2", "+15555550102", NOW - timedelta(days=30))
    result = _run(db_url, "purge", "--now", "2030-06-01T12:00:00Z")
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"purged debtor {old_debtor}" in result.stdout and new_debtor not in result.stdout

    assert _counts(engine, old_conversation) == (0, 0, 0)
    assert _counts(engine, new_conversation)[0] == 2
    with session_scope(engine) as session:
        # The purged conversation's intents go with its messages: a search by intent no longer finds it.
        assert list(session.scalars(select(ConversationIntent.conversation_id))) == [new_conversation]
        old, new = session.get(Debtor, old_debtor), session.get(Debtor, new_debtor)
        assert (old.first_name, old.last_name, old.ssn_last4, old.zip, old.phone, old.email) == \
            ("purged", "purged", "0000", "00000", None, None)
        assert old.purged_at == NOW and new.first_name == "Jordan"
        conversation = session.get(Conversation, old_conversation)
        assert conversation.purged_at == NOW and "+1555" not in conversation.external_id
        [event] = session.scalars(select(AuditEvent).where(AuditEvent.kind == "retention_purged")).all()
        assert event.rule_id == "REC-1" and event.detail["messages"] == 2 and event.detail["conversations"] == 1
        assert "what do I owe" not in str(event.detail) and "Jordan" not in str(event.detail)
        sent = {m.address: m.text for m in session.scalars(select(ScheduledMessage))}
        assert sent == {"purged": "", "+15555550102": "Your payment is due."}
    # Run again: nothing is left to purge.
    again = _run(db_url, "purge", "--now", "2030-06-01T12:00:00Z")
    assert "0 debtors purged" in again.stdout


def test_rec1_verify_transcripts_stays_intact_after_a_purge_and_reports_it_as_purged(db_url: str) -> None:
    engine = get_engine(db_url)
    with session_scope(engine) as session:  # a recent, untouched conversation beside the purged one
        recent = conversations.get_or_create(session, "sms", "+15555550199")
        conversations.record_message(session, recent, direction="in", sender_role="debtor", text="hi")
    debtor_id, conversation_id = _debtor_with_history(engine, "SET-1", "+15555550101", LONG_AGO)
    with session_scope(engine) as session:
        [candidate] = retention.candidates(session, POLICY, NOW)
        retention.purge(session, candidate, NOW)
    with session_scope(engine) as session:
        report = verification.verify(session)
    assert report.intact, [str(p) for p in report.problems]
    assert report.purged == [conversation_id]
    result = _run(db_url, "verify-transcripts")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "intact: 2 conversations, 1 entries, 0 problems, 1 purged at the end of retention (REC-1)" \
        in result.stdout


def test_rec1_a_conversation_marked_purged_by_hand_is_reported_not_passed_as_a_purge(engine: Engine) -> None:
    with session_scope(engine) as session:
        conversation = conversations.get_or_create(session, "sms", "+15555550101")
        conversations.record_message(session, conversation, direction="in", sender_role="debtor", text="hi")
        conversation_id = conversation.id
    with engine.begin() as conn:  # someone deletes the record and pretends the purge did it, without the key
        conn.execute(sa.delete(TranscriptEntry.__table__))
        conn.execute(sa.delete(Message.__table__))
        conn.execute(sa.update(Conversation.__table__).values(purged_at=NOW, purge_seal="0" * 64))
    with session_scope(engine) as session:
        report = verification.verify(session)
    assert [str(p) for p in report.problems] == [
        f"{conversation_id} purge: marked purged without a valid purge seal"]


def test_rec1_a_message_written_to_a_purged_conversation_is_reported(engine: Engine) -> None:
    _, conversation_id = _debtor_with_history(engine, "SET-1", "+15555550101", LONG_AGO)
    with session_scope(engine) as session:
        [candidate] = retention.candidates(session, POLICY, NOW)
        retention.purge(session, candidate, NOW)
    with engine.begin() as conn:
        conn.execute(sa.insert(Message.__table__).values(conversation_id=conversation_id, direction="in",
                                                          sender_role="debtor", text="sneaked in",
                                                          status="received", created_at=NOW))
    with session_scope(engine) as session:
        report = verification.verify(session)
    assert f"{conversation_id} purge: messages written after the purge" in [str(p) for p in report.problems]


def test_rec1_a_message_arriving_after_the_listing_stops_that_debtors_purge(engine: Engine) -> None:
    debtor_id, conversation_id = _debtor_with_history(engine, "SET-1", "+15555550101", LONG_AGO)
    with session_scope(engine) as session:
        [candidate] = retention.candidates(session, POLICY, NOW)
    with session_scope(engine) as session:
        conversations.record_message(session, session.get(Conversation, conversation_id), direction="in",
                                     sender_role="debtor", text="I want to pay")
    with session_scope(engine) as session, pytest.raises(retention.StillRetained, match="new collection activity"):
        retention.purge(session, candidate, NOW)
    assert _counts(engine, conversation_id)[0] == 3
    with session_scope(engine) as session:
        assert session.get(Debtor, debtor_id).purged_at is None


def test_rec1_a_message_still_saved_for_an_answer_goes_with_its_purged_conversation(db_url: str) -> None:
    """A message saved while Rasa was down (saved_messages) and never answered points at the message the purge
    deletes: it goes too, and the purge neither stops on it (a foreign key on PostgreSQL) nor leaves it waiting.
    Mutation tried: SavedMessage taken out of retention.purge's list -> PostgreSQL refuses the purge and SQLite keeps
    the row (fails on both)."""
    engine = get_engine(db_url)
    old_debtor, old_conversation = _debtor_with_history(engine, "SET-3", "+15555550103", LONG_AGO)
    with session_scope(engine) as session:
        inbound = session.scalars(select(Message).where(Message.conversation_id == old_conversation,
                                                        Message.direction == "in")).one()
        session.add(SavedMessage(message_id=inbound.id, conversation_id=old_conversation, saved_at=LONG_AGO))
    result = _run(db_url, "purge", "--now", "2030-06-01T12:00:00Z")
    assert result.returncode == 0 and f"purged debtor {old_debtor}" in result.stdout, result.stdout + result.stderr
    with session_scope(engine) as session:
        assert session.scalar(select(func.count()).select_from(SavedMessage)
                              .where(SavedMessage.conversation_id == old_conversation)) == 0
