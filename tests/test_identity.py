"""Right-party verification, as a domain service without Rasa (ID-1, ID-2, ID-3)."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from bot import conversations
from bot.db import session_scope
from bot.db.models import AuditEvent, Conversation
from bot.identity import (
    FAILED,
    LOCKED,
    VERIFIED,
    IdentityService,
    extract_factors,
    parse_dob,
    parse_locator,
    parse_secret,
)
from tests.conftest import add_debtor

DOB = date(1979, 3, 14)


@pytest.mark.parametrize(
    "text",
    ["03/14/1979", "3/14/79", "1979-03-14", "March 14 1979", "march 14th, 1979", "14 March 1979",
     "mar 14 79", "my dob is 3-14-1979", "born on the 14th of march 1979", "03141979", "3.14.1979"],
)
def test_dates_of_birth_in_common_formats_are_understood(text):
    assert parse_dob(text, today=date(2026, 11, 22)) == DOB


@pytest.mark.parametrize("text", ["13/45/1979", "02/30/1990", "12/31/2030", "tomorrow", "1234", ""])
def test_impossible_or_future_dates_are_not_taken_as_a_birth_date(text):
    assert parse_dob(text, today=date(2026, 11, 22)) is None


def test_one_message_can_carry_several_factors():
    found = extract_factors("dob 3/14/79 and zip 90210, acct SET-100001", today=date(2026, 11, 22))
    assert (found.dob, found.zip, found.account_ref) == (DOB, "90210", "SET-100001")
    assert found.ssn_last4 is None


def test_four_digits_are_an_ssn_tail_and_five_a_zip():
    assert parse_secret("last 4 are 1234") == ("ssn_last4", "1234")
    assert parse_secret("zip is 90210-1234") == ("zip", "90210")
    assert parse_secret("1234 90210") is None  # ambiguous: ask again rather than guess


def test_a_locator_is_an_account_reference_or_a_full_name():
    assert parse_locator("acct # set-100234") == "SET-100234"
    assert parse_locator("my name is jordan rivera") == "Jordan Rivera"
    assert parse_locator("jordan") is None


def _conversation(session, external_id="web-1", channel="rest") -> Conversation:
    return conversations.get_or_create(session, channel, external_id)


def test_dob_plus_ssn_tail_and_account_reference_verify_the_debtor(engine):
    """ID-2: two knowledge factors plus something that finds the account."""
    with session_scope(engine) as session:
        debtor, account = add_debtor(session)
        conv = _conversation(session)
        result = IdentityService().verify(session, conv.id, dob=DOB, secret="1234", locator="SET-100001")
        assert result.status == VERIFIED
        assert result.account_ids == (account.id,)
        assert session.get(Conversation, conv.id).verified_at is not None


def test_zip_can_stand_in_for_the_ssn_tail_and_a_full_name_for_the_reference(engine):
    with session_scope(engine) as session:
        add_debtor(session)
        conv = _conversation(session)
        assert IdentityService().verify(session, conv.id, dob=DOB, secret="90210",
                                        locator="Jordan Rivera").status == VERIFIED


def test_over_sms_the_phone_number_finds_the_debtor(engine):
    with session_scope(engine) as session:
        add_debtor(session)
        add_debtor(session, account_ref="SET-100050", first_name="Alex", dob="1990-01-02", ssn_last4="4321")
        conv = _conversation(session, "+15555550101", channel="sms")
        # Two people share the household phone; the factors pick out the right one.
        result = IdentityService().verify(session, conv.id, dob=date(1990, 1, 2), secret="4321",
                                          phone="+15555550101")
        assert result.status == VERIFIED


@pytest.mark.parametrize(
    "dob, secret, locator",
    [
        (date(1980, 3, 14), "1234", "SET-100001"),  # wrong DOB
        (DOB, "9999", "SET-100001"),  # wrong SSN tail
        (DOB, "1234", "SET-999999"),  # unknown account
        (DOB, "0210", "SET-100001"),  # four digits never match the ZIP
    ],
)
def test_any_wrong_factor_fails_without_saying_which(engine, dob, secret, locator):
    """ID-2: the outcome and the audit record say 'not matched', never which factor was wrong."""
    with session_scope(engine) as session:
        add_debtor(session)
        conv = _conversation(session)
        result = IdentityService().verify(session, conv.id, dob=dob, secret=secret, locator=locator)
        assert result.status == FAILED
        assert session.get(Conversation, conv.id).verified_at is None
        events = session.scalars(select(AuditEvent).where(AuditEvent.conversation_id == conv.id)).all()
        assert [e.kind for e in events] == ["identity_verification_failed"]
        assert "dob" not in str(events[0].detail) and "1234" not in str(events[0].detail)


def test_three_failures_lock_disclosure_even_for_the_right_answers(engine):
    """ID-3: 3 wrong DOBs, then the correct one: still refused, and the lockout is audited."""
    service = IdentityService()
    with session_scope(engine) as session:
        add_debtor(session)
        conv = _conversation(session)
        statuses = [service.verify(session, conv.id, dob=date(1970, 1, i), secret="1234",
                                   locator="SET-100001").status for i in (1, 2, 3)]
        assert statuses == [FAILED, FAILED, LOCKED]
        assert service.verify(session, conv.id, dob=DOB, secret="1234", locator="SET-100001").status == LOCKED
        assert service.is_locked(session, conv.id)
        kinds = [e.kind for e in session.scalars(select(AuditEvent).where(AuditEvent.rule_id == "ID-3"))]
        assert "identity_locked" in kinds


def test_a_new_conversation_cannot_keep_guessing_at_a_locked_account(engine):
    """ID-3: the lock follows the account, not just the chat window."""
    service = IdentityService()
    with session_scope(engine) as session:
        add_debtor(session)
        first = _conversation(session, "web-a")
        for day in (1, 2, 3):
            service.verify(session, first.id, dob=date(1970, 1, day), secret="1234", locator="SET-100001")
        second = _conversation(session, "web-b")
        assert service.verify(session, second.id, dob=DOB, secret="1234", locator="SET-100001").status == LOCKED


def test_the_lock_lifts_after_24_hours(engine):
    service = IdentityService()
    earlier = datetime.now(timezone.utc) - timedelta(hours=25)
    with session_scope(engine) as session:
        add_debtor(session)
        conv = _conversation(session)
        for day in (1, 2, 3):
            service.verify(session, conv.id, dob=date(1970, 1, day), secret="1234", locator="SET-100001",
                           now=earlier)
        assert service.verify(session, conv.id, dob=DOB, secret="1234", locator="SET-100001").status == VERIFIED
