"""REC-3: a debtor's access and deletion requests, answered within the stricter of GDPR's month and CCPA's 45 days;
deletion keeps the 12 CFR 1006.100 records until retention ends and stops every further message."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from bot import conversations
from bot.config import PROJECT_ROOT
from bot.db import get_engine, session_scope
from bot.db.models import AuditEvent, DataSubjectRequest, Debtor, Dispute, Message, ScheduledMessage
from bot.messaging import outbox
from bot.messaging import queue as outbound_queue
from bot.records import data_requests
from tests.conftest import add_debtor

PHONE = "+15555550101"
NOON_PACIFIC = datetime(2026, 11, 17, 20, 0, tzinfo=timezone.utc)


def _debtor(engine: Engine) -> tuple[str, str, str]:
    with session_scope(engine) as session:
        debtor, account = add_debtor(session, account_ref="SET-7", phone=PHONE)
        debtor.email = "jordan@example.com"
        conversation = conversations.get_or_create(session, "sms", PHONE)
        conversation.debtor_id, conversation.account_id = debtor.id, account.id
        conversations.record_message(session, conversation, direction="in", sender_role="debtor",
                                     text="I never owed Acme anything")
        conversations.record_message(session, conversation, direction="out", sender_role="bot",
                                     text="I have recorded your dispute.", status="sent")
        session.add(Dispute(account_id=account.id, conversation_id=conversation.id, kind="not_mine",
                            disputed_cents=123456, statement="I never owed Acme anything"))
        return debtor.id, account.id, conversation.id


def _run(db_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "bot", "data-request", *args], cwd=PROJECT_ROOT,
                          env={**os.environ, "DATABASE_URL": db_url}, capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize(("received", "due"), [
    (datetime(2026, 1, 31, 9, tzinfo=timezone.utc), datetime(2026, 2, 28, 9, tzinfo=timezone.utc)),
    (datetime(2026, 12, 15, 9, tzinfo=timezone.utc), datetime(2027, 1, 15, 9, tzinfo=timezone.utc)),
])
def test_rec3_a_request_is_due_one_month_after_receipt_sooner_than_ccpas_45_days(received: datetime,
                                                                                  due: datetime) -> None:
    assert data_requests.due_at(received) == due
    assert data_requests.due_at(received) <= received + timedelta(days=45)


def test_rec3_export_writes_the_debtors_messages_and_completes_the_request(db_url: str, tmp_path: Path) -> None:
    engine = get_engine(db_url)
    debtor_id, _, conversation_id = _debtor(engine)
    out = tmp_path / "export.json"
    result = _run(db_url, "export", "--account", "SET-7", "--out", str(out), "--actor", "dpo")
    assert result.returncode == 0, result.stdout + result.stderr
    document = json.loads(out.read_text())
    assert document["profile"]["first_name"] == "Jordan" and document["profile"]["email"] == "jordan@example.com"
    assert [a["account_ref"] for a in document["accounts"]] == ["SET-7"]
    assert document["disputes"][0]["kind"] == "not_mine"
    [conversation] = document["conversations"]
    assert conversation["id"] == conversation_id
    assert [m["text"] for m in conversation["messages"]] == ["I never owed Acme anything",
                                                             "I have recorded your dispute."]
    with session_scope(engine) as session:
        [request] = session.scalars(select(DataSubjectRequest)).all()
        assert (request.debtor_id, request.kind, request.status, request.handled_by) == \
            (debtor_id, "access", "completed", "dpo")
        assert request.completed_at is not None and request.due_at > request.received_at
        assert document["request"]["id"] == request.id
        event = session.scalar(select(AuditEvent).where(AuditEvent.kind == "data_request_access"))
        assert event.rule_id == "REC-3" and event.detail["messages"] == 2


def test_rec3_deletion_keeps_the_dispute_record_and_blocks_further_outbound_messages(db_url: str) -> None:
    engine = get_engine(db_url)
    debtor_id, account_id, conversation_id = _debtor(engine)
    with session_scope(engine) as session:
        queued = outbox.schedule(session, account_id=account_id, channel="sms", address=PHONE,
                                         kind="reminder", text="Reminder.", not_before=NOON_PACIFIC)
    result = _run(db_url, "delete", "--phone", PHONE, "--actor", "dpo")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "deleted: email address: deleted from the profile" in result.stdout
    assert "deleted: queued outbound messages not yet sent: 1 cancelled" in result.stdout
    assert f"suppressed: sms {PHONE}: no further bot-initiated messages" in result.stdout
    assert "kept: disputes: 1 until" in result.stdout and "1006.100" in result.stdout
    assert "kept: transcripts: 1 conversations, 2 messages" in result.stdout

    with session_scope(engine) as session:
        debtor = session.get(Debtor, debtor_id)
        assert debtor.email is None and debtor.erasure_requested_at is not None
        assert debtor.phone == PHONE  # needed to identify the debtor in the kept records
        assert session.get(ScheduledMessage, queued.id).status == "cancelled"
        [dispute] = session.scalars(select(Dispute)).all()
        assert dispute.statement == "I never owed Acme anything"
        assert len(session.scalars(select(Message).where(Message.conversation_id == conversation_id)).all()) == 2
        [request] = session.scalars(select(DataSubjectRequest)).all()
        assert (request.kind, request.status) == ("deletion", "completed")
        assert session.scalar(select(AuditEvent).where(AuditEvent.kind == "data_request_deletion")).rule_id == "REC-3"
        later_sms = outbox.schedule(session, account_id=account_id, channel="sms", address=PHONE,
                                            kind="reminder", text="Reminder.", not_before=NOON_PACIFIC)
        later_email = outbox.schedule(session, account_id=account_id, channel="email",
                                              address="jordan@example.com", kind="reminder",
                                              text="A payment is due.", not_before=NOON_PACIFIC)
    outbound_queue.process_due(engine, outbound_queue.local_transport(engine), now=NOON_PACIFIC)
    with session_scope(engine) as session:
        assert session.get(ScheduledMessage, later_sms.id).status == "blocked"
        assert session.get(ScheduledMessage, later_email.id).status == "blocked"


def test_rec3_verify_transcripts_stays_intact_after_a_deletion_request(engine: Engine) -> None:
    from bot.records import verification

    _debtor(engine)
    with session_scope(engine) as session:
        data_requests.delete(session, data_requests.find_debtor(session, account_ref="SET-7"))
    with session_scope(engine) as session:
        assert verification.verify(session).intact


@pytest.mark.parametrize(("args", "message"), [
    (("export", "--account", "NOPE-1"), "no account with the reference 'NOPE-1'"),
    (("delete", "--phone", "5555550101"), "not an E.164 phone number"),
    (("delete", "--phone", "+15555550999"), "no debtor has the phone number +15555550999"),
    (("delete", "--account", "SET-7", "--out", "x.json"), "--out applies to export only"),
    (("delete", "--account", "SET-7", "--actor", "x" * 61), "--actor must be 1 to 60 characters"),
])
def test_rec3_a_bad_request_is_refused_clearly_and_changes_nothing(db_url: str, args: tuple[str, ...],
                                                                   message: str) -> None:
    engine = get_engine(db_url)
    debtor_id, _, _ = _debtor(engine)
    result = _run(db_url, *args)
    assert result.returncode == 2 and message in result.stderr
    with session_scope(engine) as session:
        assert session.scalars(select(DataSubjectRequest)).all() == []
        assert session.get(Debtor, debtor_id).email == "jordan@example.com"
