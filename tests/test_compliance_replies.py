"""Compliance-critical requests are recorded with their rule ID and answered without debt details."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot import conversations, disputes
from bot.compliance import sensitive_requests
from bot.db import session_scope
from bot.db.models import Account, AccountStatus, AuditEvent

DEBT_WORDS = ("debt", "balance", "$", "owe", "Acme")


@pytest.mark.parametrize("intent", sorted(sensitive_requests.RULES))
def test_each_request_is_audited_with_its_rule_and_reveals_nothing(sqlite_engine, intent):
    with session_scope(sqlite_engine) as session:
        conv = conversations.get_or_create(session, "rest", "web-1")
        replies = sensitive_requests.handle(session, conv.id, intent, "some text", "help@example.com")
        event = session.scalars(select(AuditEvent)).one()
    assert event.rule_id == sensitive_requests.RULES[intent].rule_id
    assert not any(word in reply for reply in replies for word in DEBT_WORDS)


def test_opt_out_confirmation_carries_nothing_else():
    """OPT-3: one confirmation, no balance, no link."""
    reply = sensitive_requests.RULES["opt_out"].reply
    assert "http" not in reply and "$" not in reply and "START" in reply


def test_self_harm_cues_get_the_crisis_line(sqlite_engine):
    """VUL-2."""
    with session_scope(sqlite_engine) as session:
        conv = conversations.get_or_create(session, "rest", "web-1")
        replies = sensitive_requests.handle(session, conv.id, "hardship", "i cant go on like this", "x@example.com")
    assert "988" in replies[0]


def test_military_cues_are_flagged(sqlite_engine):
    """VUL-1."""
    with session_scope(sqlite_engine) as session:
        conv = conversations.get_or_create(session, "rest", "web-1")
        sensitive_requests.handle(session, conv.id, "hardship", "I'm deployed overseas", "x@example.com")
        assert session.scalars(select(AuditEvent.rule_id).where(AuditEvent.kind == "military_cue")).one() == "VUL-1"


def test_a_dispute_is_recorded_with_time_and_portion_and_holds_the_account(engine):
    """DSP-1: recorded with timestamp and disputed portion; the account goes on hold (DSP-2)."""
    from datetime import datetime, timezone

    from tests.conftest import add_debtor

    with session_scope(engine) as session:
        debtor, account = add_debtor(session, balance_cents=5000)
        conv = conversations.get_or_create(session, "rest", "web-1")
        conv.debtor_id, conv.account_id, conv.verified_at = debtor.id, account.id, datetime.now(timezone.utc)
        assert disputes.record_dispute(session, conv.id, "not_mine") == ["SET-100001"]
        assert session.get(Account, account.id).status == AccountStatus.DISPUTED
        event = session.scalars(select(AuditEvent).where(AuditEvent.kind == "dispute_recorded")).one()
    assert event.rule_id == "DSP-1" and event.detail["disputed_cents"] == 5000 and event.detail["kind"] == "not_mine"
