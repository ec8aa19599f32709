"""Schema changes go through Alembic, and a database that already holds data upgrades cleanly."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime, timezone

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.orm import Session

from bot.config import PROJECT_ROOT
from bot.db import get_engine
from bot.db.migrate import upgrade
from bot.db.models import Base


def test_the_migrations_build_exactly_the_models_schema(db_url):
    """No model change without its migration (checked on SQLite and PostgreSQL)."""
    with get_engine(db_url).connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == []


def test_a_populated_foundation_database_upgrades_to_head(tmp_path):
    url = f"sqlite:///{tmp_path / 'old.db'}"
    upgrade(url, "0001")
    engine = get_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO debtors (id, first_name, last_name, dob, ssn_last4, zip, timezone, "
                             "created_at, updated_at) VALUES ('dbt_1', 'A', 'B', '1980-01-01', '1234', '10001', "
                             "'America/New_York', '2026-01-01', '2026-01-01')"))
        conn.execute(sa.text("INSERT INTO accounts (id, debtor_id, account_ref, creditor, balance_cents, currency, "
                             "status, created_at, updated_at) VALUES ('acc_1', 'dbt_1', 'SET-1', 'C', 100, 'USD', "
                             "'active', '2026-01-01', '2026-01-01')"))
    upgrade(url)
    with engine.connect() as conn:
        row = conn.execute(sa.text("SELECT time_barred, legal_action_permitted FROM accounts")).one()
    assert tuple(row) == (0, 0)


def _migrate(url: str, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "bot", "migrate", *args], cwd=PROJECT_ROOT,
                            env={**os.environ, "DATABASE_URL": url}, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)


def test_a_pod_waits_for_the_release_migration_before_it_starts(tmp_path):
    """deploy/k8s: the gateway's and action server's init container runs `migrate --wait` while the Job `migrate`
    upgrades the database; it lets the pod start only once the schema is this code's head. Mutation tried:
    is_current() comparing with the first revision instead of the heads -> the waiter returned at once."""
    url = f"sqlite:///{tmp_path / 'release.db'}"
    upgrade(url, "0001")  # the previous release's schema
    gave_up = _migrate(url, "--wait", "0")
    assert gave_up.wait(timeout=120) == 1
    assert "older than this code" in gave_up.stderr.read()
    waiter = _migrate(url, "--wait", "120")
    assert "migrate: waiting: the database schema is older" in waiter.stderr.readline()  # it looked, and waits
    upgrade(url)  # the Job's `python -m bot migrate`
    assert waiter.wait(timeout=60) == 0
    assert "schema is current" in waiter.stdout.read()


def test_a_pod_of_the_previous_release_starts_on_a_newer_releases_schema(tmp_path):
    """deploy/k8s: after the Job migrated for a new release, a pod of the previous one (a rollback, a restart during
    the rollout) must not wait for a schema it cannot reach: a revision this code does not know is a newer one.
    Mutation tried: is_current() comparing with the heads only -> the older pod waited."""
    from bot.db.migrate import is_current

    url = f"sqlite:///{tmp_path / 'newer.db'}"
    upgrade(url)
    with get_engine(url).begin() as connection:
        connection.execute(sa.text("UPDATE alembic_version SET version_num = '9999'"))  # the next release's head
    assert is_current(url)
    upgrade(url.replace("newer", "older"), "0001")
    assert not is_current(url.replace("newer", "older"))  # an older schema still waits


def test_waiting_for_an_unreachable_database_names_it_without_its_url():
    """The init container's log says why a pod waits, never the URL (it carries the password). Mutation tried: the
    URL added to the reason -> failed."""
    from tests.conftest import free_port

    url = f"postgresql+psycopg2://settle:pw-not-for-logs@127.0.0.1:{free_port()}/settle"
    waiter = _migrate(url, "--wait", "1")
    assert waiter.wait(timeout=120) == 1
    said = waiter.stderr.read() + waiter.stdout.read()
    assert "the database is not reachable (OperationalError)" in said and "pw-not-for-logs" not in said


def test_a_campaign_run_before_0017_keeps_its_sends_and_its_round(tmp_path):
    """0017 backfills campaign_sends from the recipients' messages (round 1) and counts a run campaign's round, so
    the dashboard's messages sent and the results still find them. Mutation tried: the backfill INSERT removed ->
    no campaign_sends row."""
    url = f"sqlite:///{tmp_path / 'campaigns.db'}"
    upgrade(url, "0016")
    engine = get_engine(url)
    day = "'2026-12-01 12:00:00'"
    with engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO debtors (id, first_name, last_name, dob, ssn_last4, zip, timezone, "
                             f"created_at, updated_at) VALUES ('dbt_1', 'A', 'B', '1980-01-01', '1234', '10001', "
                             f"'America/New_York', {day}, {day})"))
        conn.execute(sa.text("INSERT INTO accounts (id, debtor_id, account_ref, creditor, balance_cents, currency, "
                             f"status, created_at, updated_at) VALUES ('acc_1', 'dbt_1', 'SET-1', 'C', 100, 'USD', "
                             f"'active', {day}, {day})"))
        conn.execute(sa.text("INSERT INTO scheduled_messages (id, account_id, channel, address, kind, text, "
                             f"not_before, status, created_at) VALUES ('out_1', 'acc_1', 'email', 'a@example.com', "
                             f"'campaign', 'Hello', {day}, 'sent', {day})"))
        conn.execute(sa.text("INSERT INTO campaigns (id, name, segment, channel, variants, starts_at, result_days, "
                             f"status, created_by, created_at) VALUES ('cmp_1', 'Old', 'everyone_else', 'email', "
                             f"'[]', {day}, 14, 'run', 'operator:olga', {day}), ('cmp_2', 'Later', 'everyone_else', "
                             f"'email', '[]', {day}, 14, 'scheduled', 'operator:olga', {day})"))
        conn.execute(sa.text("INSERT INTO campaign_recipients (campaign_id, account_id, variant, "
                             f"scheduled_message_id, assigned_at) VALUES ('cmp_1', 'acc_1', 'A', 'out_1', {day})"))
    upgrade(url)
    with engine.connect() as conn:
        sends = conn.execute(sa.text("SELECT campaign_id, account_id, round, scheduled_message_id "
                                     "FROM campaign_sends")).all()
        rounds = dict(conn.execute(sa.text("SELECT id, rounds FROM campaigns")).all())
    assert [tuple(s) for s in sends] == [("cmp_1", "acc_1", 1, "out_1")]
    assert rounds == {"cmp_1": 1, "cmp_2": 0}


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_url(request: pytest.FixtureRequest, tmp_path) -> Iterator[str]:
    """A database with no schema yet, on each backend (for a migration's own data)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.db'}"
        return
    from tests.conftest import PG_ADMIN_URL

    name = f"settle_migrate_{secrets.token_hex(4)}"
    admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    try:
        yield url
    finally:
        get_engine(url).dispose()
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _two_conversations(conn: sa.Connection, last_activity_at: str | None) -> None:
    """cnv_0 and cnv_1, started 2026-11-01 09:00 and 2026-11-02 10:30 UTC, raw (a migration test runs before the
    models' tables exist); last active then, or at `last_activity_at` so that a copy taken from it shows."""
    for n, started in enumerate(("2026-11-01 09:00:00+00:00", "2026-11-02 10:30:00+00:00")):
        conn.execute(sa.text("INSERT INTO conversations (id, channel, external_id, started_at, last_activity_at, "
                             "transcript_seq) VALUES (:id, 'web', :id, :at, :last, 0)"),
                     {"id": f"cnv_{n}", "at": started, "last": last_activity_at or started})


def test_flags_handoffs_and_reviews_from_before_0021_take_their_conversations_start(empty_url):
    """0021 fills the copy of the conversation's start on existing flags, handoffs and reviews (the search pages
    along it), then makes it required. Mutation tried: the backfill UPDATE removed -> the NOT NULL failed on the
    existing rows."""
    upgrade(empty_url, "0020")
    engine = get_engine(empty_url)
    with engine.begin() as conn:
        _two_conversations(conn, last_activity_at=None)
        conn.execute(sa.text("INSERT INTO conversation_flags (conversation_id, flag, at) VALUES "
                             "('cnv_0', 'dispute', '2026-12-01'), ('cnv_1', 'dispute', '2026-12-01')"))
        conn.execute(sa.text("INSERT INTO handoffs (id, conversation_id, reason, priority, status, created_at) "
                             "VALUES ('hof_1', 'cnv_1', 'asked', 0, 'waiting', '2026-12-01')"))
        conn.execute(sa.text("INSERT INTO conversation_reviews (conversation_id, status, updated_at) "
                             "VALUES ('cnv_0', 'escalated', '2026-12-01')"))
    upgrade(empty_url)
    from bot.db.models import Conversation, ConversationFlag, ConversationReview, Handoff

    with Session(engine) as session:
        starts = dict(session.execute(sa.select(Conversation.id, Conversation.started_at)).all())
        copies = [*session.execute(sa.select(ConversationFlag.conversation_id,
                                             ConversationFlag.conversation_started_at)).all(),
                  *session.execute(sa.select(Handoff.conversation_id, Handoff.conversation_started_at)).all(),
                  *session.execute(sa.select(ConversationReview.conversation_id,
                                             ConversationReview.conversation_started_at)).all()]
    assert len(copies) == 4 and all(copy == starts[conversation] for conversation, copy in copies)
    assert starts["cnv_1"] == datetime(2026, 11, 2, 10, 30, tzinfo=timezone.utc)


def test_the_intents_read_before_0022_are_recorded_once_per_conversation_with_its_start(empty_url):
    """0022 fills conversation_intents from the messages already stored (the search by intent walks it): one row per
    conversation and intent however many messages read it, none for a message without one, each with its
    conversation's start. Mutations tried: DISTINCT removed from the backfill (the primary key refused the second
    dispute_debt); the join taking conversations.last_activity_at (the copies were wrong); messages without an intent
    let in (NOT NULL refused them); the backfill removed (nothing recorded)."""
    upgrade(empty_url, "0021")
    engine = get_engine(empty_url)
    with engine.begin() as conn:
        _two_conversations(conn, last_activity_at="2026-12-01")
        conn.execute(sa.text(
            "INSERT INTO messages (conversation_id, direction, sender_role, text, status, intent, created_at) VALUES "
            "('cnv_0', 'in', 'debtor', 'a', 'processed', 'dispute_debt', '2026-12-01'), "
            "('cnv_0', 'out', 'bot', 'b', 'sent', NULL, '2026-12-01'), "
            "('cnv_0', 'in', 'debtor', 'c', 'processed', 'dispute_debt', '2026-12-01'), "
            "('cnv_0', 'in', 'debtor', 'd', 'processed', 'hardship', '2026-12-01'), "
            "('cnv_1', 'in', 'debtor', 'e', 'processed', 'dispute_debt', '2026-12-01'), "
            "('cnv_1', 'in', 'debtor', 'f', 'received', NULL, '2026-12-01')"))
    upgrade(empty_url)
    from bot.db.models import ConversationIntent

    with Session(engine) as session:
        recorded = [tuple(row) for row in session.execute(
            sa.select(ConversationIntent.conversation_id, ConversationIntent.intent,
                      ConversationIntent.conversation_started_at)
            .order_by(ConversationIntent.conversation_id, ConversationIntent.intent))]
    first, second = (datetime(2026, 11, 1, 9, tzinfo=timezone.utc), datetime(2026, 11, 2, 10, 30, tzinfo=timezone.utc))
    assert recorded == [("cnv_0", "dispute_debt", first), ("cnv_0", "hardship", first),
                        ("cnv_1", "dispute_debt", second)]


OLD_SUBJECT = "my card 4242 4242 4242 4242 exp 12/34"


def test_PCI_3_REC_1_0028_redacts_old_email_subjects_everywhere_and_the_chain_still_verifies(empty_url):
    """Subjects were redacted at intake only from one session on: a reply stored before kept the debtor's card
    number in its payload, in the "Re:" Settle answered with, in the sealed transcript and in the demo mailbox.
    0028 redacts them all with the one redaction rule and re-seals the chain; verify-transcripts then says
    intact, and the conversation's record says what was rewritten (a transcript_redacted event, PCI-2).
    Mutations tried: _reseal skipped (only messages redacted) -> the card number is still in transcript_entries
    and verification reports the messages "edited outside the record", fails; the hashes not recomputed
    (data rewritten, hash kept) -> "edited: its hash does not match its content", fails."""
    from bot import conversations
    from bot.compliance.redaction import contains_card_number
    from bot.db import session_scope
    from bot.db.models import AuditEvent, MailboxMessage, Message, TranscriptEntry
    from bot.records.verification import verify

    upgrade(empty_url, "0026")  # the revision before 0028; the rows are written with today's models
    engine = get_engine(empty_url)
    with session_scope(engine) as session:
        conversation = conversations.get_or_create(session, "email", "grace@example.com")
        conversation_id = conversation.id
        received = conversations.record_message(
            session, conversation, direction="in", sender_role="debtor", text="HELP", status="received",
            payload={"kind": "email_reply", "email": {"message_id": "<4242424242424242@mail.example>",
                                                      "subject": OLD_SUBJECT, "references": ""}})
        answered = conversations.record_message(
            session, conversation, direction="out", sender_role="bot", text="How can I help?", status="sent",
            payload={"email": {"message_id": "<settle-1@settle.test>", "subject": f"Re: {OLD_SUBJECT}",
                               "status": "sent"}})
        session.flush()
        answered.payload = {"email": {**answered.payload["email"], "status": "delivered"}}  # a change entry too
        their_id = "<4242424242424242@mail.example>"
        session.add(MailboxMessage(mail_from="grace@example.com", rcpt_to=["settle@settle.test"], subject=OLD_SUBJECT,
                                   message_id=their_id,
                                   raw=f"Subject: {OLD_SUBJECT}\nMessage-ID: {their_id}\n\nHELP\n"))
        ids = (received.id, answered.id)
    with session_scope(engine) as session:
        assert verify(session).intact  # the old record was whole before
    upgrade(empty_url)
    with session_scope(engine) as session:
        payloads = {m.id: m.payload["email"] for m in session.scalars(sa.select(Message))}
        assert payloads[ids[0]]["subject"] == "my card [REDACTED] exp [REDACTED]"
        assert payloads[ids[0]]["message_id"] == "<[REDACTED]@mail.example>"
        assert payloads[ids[1]]["subject"] == "Re: my card [REDACTED] exp [REDACTED]"
        assert payloads[ids[1]]["message_id"] == "<settle-1@settle.test>"  # Settle's own: the provider's events
        sealed = [str(e.data) for e in session.scalars(sa.select(TranscriptEntry))]
        kept = session.scalars(sa.select(MailboxMessage)).one()
        assert not any(contains_card_number(text) for text in sealed + [kept.subject, kept.raw, kept.message_id])
        report = verify(session)
        assert report.intact, [str(p) for p in report.problems]
        [event] = session.scalars(sa.select(AuditEvent).where(AuditEvent.kind == "transcript_redacted")).all()
        assert (event.conversation_id, event.rule_id, event.actor) == (conversation_id, "PCI-2", "migration:0028")
        assert event.detail["messages"] == sorted(ids) and len(event.detail["entries"]) == 3


def test_REC_2_ID_2_0029_drops_the_flags_views_raised_and_relabels_raw_identity_answers_in_a_chain_still_intact(
        empty_url):
    """(a) Earlier code flagged "Rule fired" (REC-2) each time a reviewer viewed a conversation: 0029 removes those
    flags, told apart as the current code does (flags.ACCESS_RULES), and keeps every other flag. (b) Answers to the
    identity questions stored as typed before intake stored labels (ID-2): 0029 relabels them with intake's own
    labelling (identity_answers.stored_form), in the message and in its sealed copies, re-seals the chain and says
    so (transcript_redacted, ID-2); an answer already labelled, one with nothing factor-like and any other message
    keep their text. Run on SQLite and PostgreSQL.
    Mutations tried: the flag DELETE removed -> the REC-2 flag is still listed, fails; _reseal skipped (messages
    relabelled only) -> "03/14/1979" still in transcript_entries, fails; the sealed entries' data left as it was
    (only re-hashed) -> the same, fails; the rule ids not given ID-2 (the consoles count masked answers by it) ->
    fails."""
    from bot import audit, conversations
    from bot.db import session_scope
    from bot.db.models import AuditEvent, ConversationFlag, Message, TranscriptEntry
    from bot.records.verification import verify

    upgrade(empty_url, "0028")
    engine = get_engine(empty_url)
    with session_scope(engine) as session:
        conversation = conversations.get_or_create(session, "sms", "+15555550129")
        conversation_id = conversation.id
        said = {}
        for key, text, intent, rule_ids in (
                ("dob", "03/14/1979", "inform_identity", None),  # stored raw by the old intake
                ("secret", "my last four is 1234", "inform_identity", None),
                ("labelled", "[date of birth]", "inform_identity", ["ID-2"]),  # stored by today's intake
                ("words", "the fourteenth of march", "inform_identity", None),
                ("payment", "I paid $50 on 03/14/2026", "make_payment", None)):
            message = conversations.record_message(session, conversation, direction="in", sender_role="debtor",
                                                   text=text, status="received")
            message.rule_ids = rule_ids
            session.flush()
            message.intent, message.status = intent, "processed"  # the NLU's reading, a change entry
            session.flush()
            said[key] = message.id
        audit.record(session, "dispute_recorded", rule_id="DSP-1", conversation_id=conversation_id)
        audit.record(session, "transcript_viewed", rule_id="REC-2", conversation_id=conversation_id)
        # What earlier code raised for that view, beside what it raised for the dispute.
        session.add(ConversationFlag(conversation_id=conversation_id, flag="rule_fired", rule_id="REC-2",
                                     conversation_started_at=conversation.started_at))
    with session_scope(engine) as session:
        assert verify(session).intact
        before = sorted((f.flag, f.rule_id) for f in session.scalars(sa.select(ConversationFlag)))
    assert before == [("dispute", "DSP-1"), ("rule_fired", "DSP-1"), ("rule_fired", "REC-2")]
    upgrade(empty_url)
    with session_scope(engine) as session:
        flags = sorted((f.flag, f.rule_id) for f in session.scalars(sa.select(ConversationFlag)))
        stored = {m.id: (m.text, m.rule_ids) for m in session.scalars(sa.select(Message))}
        sealed = " ".join(str(e.data) for e in session.scalars(sa.select(TranscriptEntry)))
        report = verify(session)
        events = session.scalars(sa.select(AuditEvent).where(AuditEvent.kind == "transcript_redacted")).all()
    assert flags == [("dispute", "DSP-1"), ("rule_fired", "DSP-1")]
    assert stored[said["dob"]] == ("[date of birth]", ["ID-2"])
    assert stored[said["secret"]] == ("[SSN last four]", ["ID-2"])
    assert stored[said["labelled"]] == ("[date of birth]", ["ID-2"])
    assert stored[said["words"]] == ("the fourteenth of march", None)
    assert stored[said["payment"]] == ("I paid $50 on 03/14/2026", None)
    assert "03/14/1979" not in sealed and "last four is" not in sealed and "03/14/2026" in sealed
    assert report.intact, [str(p) for p in report.problems]
    [event] = events
    assert (event.conversation_id, event.rule_id, event.actor) == (conversation_id, "ID-2", "migration:0029")
    assert event.detail["messages"] == [said["dob"], said["secret"]]
