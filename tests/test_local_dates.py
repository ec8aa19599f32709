"""Every date a debtor reads is a date on the debtor's own calendar (VOICE.md "exact and honest"; DSP-1, DSP-3).
The instants here sit just after midnight UTC, when it is still the day before in the Americas, so a date taken
from the UTC instant is a day off and these tests fail."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

from hypothesis import given, settings
from hypothesis import strategies as st

from bot import conversations, disputes, language, local_dates
from bot.compliance.validation_period import validation_period
from bot.db import session_scope
from bot.db.models import Debtor
from tests.conftest import add_debtor

# 03:00 UTC on December 7 is 22:00 on Sunday, December 6 in New York.
LATE_SUNDAY_IN_NEW_YORK = datetime(2026, 12, 7, 3, 0, tzinfo=timezone.utc)
NEW_YORK = "America/New_York"
ZONES = ("America/New_York", "America/Los_Angeles", "America/Chicago", "Pacific/Honolulu", "America/Anchorage",
         "America/Puerto_Rico", "UTC")


def _verified_in_new_york(session):
    debtor, account = add_debtor(session, account_ref="SET-100002")
    debtor.timezone = NEW_YORK
    conv = conversations.get_or_create(session, "rest", "web-ny")
    conv.debtor_id, conv.account_id, conv.verified_at = debtor.id, account.id, LATE_SUNDAY_IN_NEW_YORK
    return conv, account


def test_DSP_3_the_dispute_by_date_is_the_last_day_the_notice_shows_not_the_utc_date_after_it(engine):
    """DSP-3: the notice says "by January 10, 2027" (the period is over at the start of January 11 in New York,
    05:00 UTC); the bot says the same day. Mutation tried: must_i_pay_answer formatting `min(ends).date()`
    (the UTC date) -> fails ("January 11")."""
    sent_at = datetime(2026, 12, 4, 15, 0, tzinfo=timezone.utc)
    period = validation_period(sent_at, NEW_YORK)
    assert period.ends_at == datetime(2027, 1, 11, 5, 0, tzinfo=timezone.utc)  # the stored instant
    with session_scope(engine) as session:
        conv, account = _verified_in_new_york(session)
        account.validation_period_ends_at = period.ends_at
        answer = disputes.must_i_pay_answer(session, conv.id, now=LATE_SUNDAY_IN_NEW_YORK)
    assert period.ends_on == date(2027, 1, 10)
    assert "If you dispute it by Sunday, January 10, 2027" in answer
    assert "January 11" not in answer


def test_DSP_3_the_spanish_dispute_by_date_is_the_notices_day_too(engine):
    """DSP-3, LANG-1: "domingo, 10 de enero de 2027", not "lunes, 11 de enero"."""
    period = validation_period(datetime(2026, 12, 4, 15, 0, tzinfo=timezone.utc), NEW_YORK)
    with session_scope(engine) as session:
        conv, account = _verified_in_new_york(session)
        language.set_language(session, conv, "es", confirmed=True, now=LATE_SUNDAY_IN_NEW_YORK)
        account.validation_period_ends_at = period.ends_at
        answer = disputes.must_i_pay_answer(session, conv.id, now=LATE_SUNDAY_IN_NEW_YORK)
    assert "domingo, 10 de enero de 2027" in answer and "11 de enero" not in answer


def test_DSP_1_a_dispute_recorded_late_sunday_evening_says_sunday_not_the_utc_monday(engine):
    """DSP-1: the written confirmation dates the dispute on the debtor's calendar: 22:00 on December 6 in New York
    is "December 6", as the receipt minutes earlier said. Mutation tried: confirmation using
    `recorded_at.date()` (UTC) -> fails ("December 7")."""
    with session_scope(engine) as session:
        conv, _ = _verified_in_new_york(session)
        receipts = disputes.record_dispute(session, conv.id, "not_mine", now=LATE_SUNDAY_IN_NEW_YORK)
        english, spanish = disputes.confirmation(receipts), disputes.confirmation(receipts, "es")
    assert english.startswith("Got it. On December 6, 2026 I recorded your dispute")
    assert "El 6 de diciembre de 2026 anoté su disputa" in spanish


def test_the_debtors_date_is_their_own_calendar_day():
    """One function turns an instant into the debtor's calendar date; an unknown zone falls back to UTC."""
    assert local_dates.debtor_date(LATE_SUNDAY_IN_NEW_YORK, NEW_YORK) == date(2026, 12, 6)
    assert local_dates.debtor_date(LATE_SUNDAY_IN_NEW_YORK, Debtor(timezone="Pacific/Honolulu")) == date(2026, 12, 6)
    assert local_dates.debtor_date(LATE_SUNDAY_IN_NEW_YORK, "Not/AZone") == date(2026, 12, 7)
    assert local_dates.debtor_date(LATE_SUNDAY_IN_NEW_YORK, None) == date(2026, 12, 7)


@settings(max_examples=200, deadline=None)
@given(sent_at=st.datetimes(min_value=datetime(2025, 1, 1), max_value=datetime(2030, 12, 31),
                            timezones=st.just(timezone.utc)),
       zone=st.sampled_from(ZONES))
def test_DSP_3_the_last_day_covered_is_always_the_notices_end_date(sent_at, zone):
    """DISC-5/DSP-3: for any send time and zone, the date the bot shows for the stored end instant is the date the
    notice shows, and the period is still open all through that day in the debtor's zone. Mutation tried:
    last_day_covered without stepping back from the end instant -> fails (the day after)."""
    period = validation_period(sent_at, zone)
    assert local_dates.last_day_covered(period.ends_at, zone) == period.ends_on
    assert local_dates.debtor_date(period.ends_at - timedelta(seconds=1), zone) == period.ends_on
