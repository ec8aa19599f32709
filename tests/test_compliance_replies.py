"""Compliance-critical requests take effect, are recorded with their rule ID, and reveal nothing about a debt."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from bot import contact_preferences, conversations, disputes
from bot.compliance import holds, sensitive_requests
from bot.db import session_scope
from bot.db.models import Account, AccountStatus, AuditEvent, Dispute, Handoff, ScheduledMessage
from bot.gateway.pipeline import stop_reply
from tests.conftest import add_debtor

DEBT_WORDS = ("debt", "balance", "$", "owe", "Acme")
NOW = datetime(2026, 11, 22, 18, 0, tzinfo=timezone.utc)


def _verified(session, **debtor):
    debtor_row, account = add_debtor(session, **debtor)
    conv = conversations.get_or_create(session, "rest", "web-1")
    conv.debtor_id, conv.account_id, conv.verified_at = debtor_row.id, account.id, NOW
    return conv, account


def _reminder(session, account, address="+15555550101"):
    message = ScheduledMessage(account_id=account.id, channel="sms", address=address, kind="reminder",
                               text="A payment is due soon.", not_before=NOW + timedelta(days=1))
    session.add(message)
    session.flush()
    return message


@pytest.mark.parametrize("intent", sorted(sensitive_requests.RULES))
def test_each_request_is_audited_with_its_rule_and_reveals_nothing(sqlite_engine, intent):
    with session_scope(sqlite_engine) as session:
        conv = conversations.get_or_create(session, "rest", "web-1")
        replies = sensitive_requests.handle(session, conv.id, intent, "some text", "help@example.com")
        rule = sensitive_requests.RULES[intent]
        event = session.scalars(select(AuditEvent).where(AuditEvent.kind == rule.event)).one()
    assert event.rule_id == rule.rule_id
    assert replies and not any(word in reply for reply in replies for word in DEBT_WORDS)


def test_OPT_3_natural_language_opt_out_gives_one_bare_confirmation(sqlite_engine):
    with session_scope(sqlite_engine) as session:
        conv = conversations.get_or_create(session, "sms", "+15555550101")
        replies = sensitive_requests.handle(session, conv.id, "opt_out", "stop texting me", "x@example.com")
        assert contact_preferences.suppression(session, "sms", "+15555550101") == "OPT-3"
    assert replies == [stop_reply("sms")]
    assert "http" not in replies[0] and "$" not in replies[0] and "START" in replies[0]


def test_CEASE_1_cease_ends_collection_empties_the_scheduler_and_hands_off(engine):
    """'leave me alone, not paying' -> one closing message, account ceased, nothing left scheduled."""
    with session_scope(engine) as session:
        conv, account = _verified(session)
        reminder = _reminder(session, account)
        replies = sensitive_requests.handle(session, conv.id, "cease_contact", "leave me alone, not paying", "x")
        assert len(replies) == 1
        assert session.get(Account, account.id).status == AccountStatus.CEASED
        assert session.get(ScheduledMessage, reminder.id).status == "cancelled"
        assert session.get(ScheduledMessage, reminder.id).rule_ids == ["CEASE-1"]
        assert holds.hold_rule(session, session.get(Account, account.id)) == "CEASE-1"
        assert session.scalars(select(Handoff.reason)).one() == "cease"


def test_CEASE_1_a_cease_from_a_phone_before_verification_covers_that_numbers_accounts(engine):
    with session_scope(engine) as session:
        _, account = add_debtor(session)
        conv = conversations.get_or_create(session, "sms", "+15555550101")
        sensitive_requests.handle(session, conv.id, "cease_contact", "stop contacting me", "x")
        assert session.get(Account, account.id).status == AccountStatus.CEASED


def test_CEASE_2_only_the_attorneys_name_and_phone_are_captured(engine):
    with session_scope(engine) as session:
        conv, account = _verified(session)
        sensitive_requests.handle(session, conv.id, "attorney_represented", "my lawyer handles this", "x")
        sensitive_requests.capture(session, conv.id, "attorney_represented",
                                   {"attorney_name": "Pat Doe", "attorney_phone": "+15555550199",
                                    "ssn": "123-45-6789"})
        handoff_row = session.scalars(select(Handoff)).one()
        assert session.get(Account, account.id).status == AccountStatus.ATTORNEY
    assert handoff_row.details == {"attorney_name": "Pat Doe", "attorney_phone": "+15555550199"}
    assert handoff_row.rule_id == "CEASE-2"


def test_CEASE_3_bankruptcy_halts_and_keeps_only_the_case_number(engine):
    with session_scope(engine) as session:
        conv, account = _verified(session)
        sensitive_requests.handle(session, conv.id, "bankruptcy", "i filed chapter 7", "x")
        sensitive_requests.capture(session, conv.id, "bankruptcy", {"bankruptcy_case_number": "24-12345"})
        assert session.get(Account, account.id).status == AccountStatus.BANKRUPT
        assert session.scalars(select(Handoff.details)).one() == {"bankruptcy_case_number": "24-12345"}


def test_CEASE_4_a_reported_death_pauses_collection_without_a_demand(engine):
    with session_scope(engine) as session:
        _, account = add_debtor(session)
        conv = conversations.get_or_create(session, "sms", "+15555550101")
        replies = sensitive_requests.handle(session, conv.id, "deceased", "my husband passed away", "x@example.com")
        assert session.get(Account, account.id).collection_paused_reason == "deceased_reported"
        assert session.scalars(select(Handoff.reason)).one() == "deceased"
    assert not any(word in r.lower() for r in replies for word in ("pay", "owe", "estate must"))


def test_ID_4_a_wrong_person_marks_the_number_and_cancels_what_was_scheduled(engine):
    with session_scope(engine) as session:
        _, account = add_debtor(session)
        reminder = _reminder(session, account)
        conv = conversations.get_or_create(session, "sms", "+15555550101")
        sensitive_requests.handle(session, conv.id, "wrong_person", "wrong number", "x")
        assert contact_preferences.suppression(session, "sms", "+15555550101") == "ID-4"
        assert session.get(ScheduledMessage, reminder.id).status == "cancelled"


def test_VUL_2_hardship_pauses_collection_and_offers_a_person(engine):
    with session_scope(engine) as session:
        conv, account = _verified(session)
        replies = sensitive_requests.handle(session, conv.id, "hardship", "i lost my job", "x")
        assert session.get(Account, account.id).collection_paused_reason == "hardship"
        assert holds.hold_rule(session, session.get(Account, account.id)) == "VUL-2"
    assert "talk to a person" in replies[-1]


@pytest.mark.parametrize("text", ["i cant go on", "I want to end my life", "thinking about killing myself",
                                  "i'd be better off dead"])
def test_VUL_2_self_harm_cues_get_988_and_a_person_whatever_the_intent(engine, text):
    with session_scope(engine) as session:
        conv, account = _verified(session)
        replies = sensitive_requests.crisis_cue(session, conv.id, text)
        assert session.scalars(select(Handoff.reason)).one() == "crisis"
        assert session.get(Account, account.id).collection_paused_reason == "hardship"
    assert replies == [sensitive_requests.CRISIS_LINE] and "988" in replies[0]


def test_VUL_2_ordinary_messages_get_no_crisis_line(sqlite_engine):
    with session_scope(sqlite_engine) as session:
        conv = conversations.get_or_create(session, "rest", "web-1")
        assert sensitive_requests.crisis_cue(session, conv.id, "can i go on a payment plan") == []


def test_VUL_1_military_cues_are_flagged_and_handed_off(sqlite_engine):
    with session_scope(sqlite_engine) as session:
        conv = conversations.get_or_create(session, "rest", "web-1")
        replies = sensitive_requests.handle(session, conv.id, "hardship", "I'm deployed overseas", "x@example.com")
        assert session.scalars(select(AuditEvent.rule_id).where(AuditEvent.kind == "military_cue")).one() == "VUL-1"
        assert session.scalars(select(Handoff.reason)).one() == "military"
    assert not any("command" in r.lower() for r in replies)


def test_DSP_1_a_dispute_is_recorded_with_time_and_portion_and_holds_the_account(engine):
    """DSP-1: recorded with timestamp and disputed portion, confirmed in writing; DSP-2: the account is held."""
    with session_scope(engine) as session:
        conv, account = _verified(session, balance_cents=5000)
        receipts = disputes.record_dispute(session, conv.id, "amount", correct_cents=2000, now=NOW)
        dispute = session.scalars(select(Dispute)).one()
        assert (dispute.kind, dispute.disputed_cents, dispute.created_at) == ("amount", 3000, NOW)
        assert holds.hold_rule(session, session.get(Account, account.id)) == "DSP-2"
        text = disputes.confirmation(receipts)
    assert "$30.00" in text and "November 22, 2026" in text and "ending 0001" in text


def test_DSP_2_the_hold_lifts_only_when_a_person_records_verification(engine):
    with session_scope(engine) as session:
        conv, account = _verified(session)
        receipt = disputes.record_dispute(session, conv.id, "not_mine", now=NOW)[0]
        disputes.record_verification_sent(session, receipt.dispute_id, by="agent:pat", now=NOW)
        assert holds.hold_rule(session, session.get(Account, account.id)) is None
        assert session.get(Account, account.id).status == AccountStatus.ACTIVE


def test_DSP_3_do_i_have_to_pay_gets_the_dispute_right_and_its_end_date(engine):
    with session_scope(engine) as session:
        conv, account = _verified(session)
        account.validation_period_ends_at = NOW + timedelta(days=20)
        answer = disputes.must_i_pay_answer(session, conv.id, now=NOW)
        disputes.record_dispute(session, conv.id, "all", now=NOW)
        after = disputes.must_i_pay_answer(session, conv.id, now=NOW)
    assert "right to dispute" in answer and "December 12, 2026" in answer
    assert "won't ask you to pay" in after
    assert "48" not in answer + after and "immediately" not in answer + after  # no overshadowing
