"""TIME-1 (send window, overlap of zones, inconvenient times, DST) and TIME-2 (replies in consumer sessions)."""

from __future__ import annotations

from datetime import datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.compliance import area_codes
from bot.compliance.contact_window import (
    UNKNOWN_LOCATION_ZONES,
    InconvenientTime,
    allowed_now,
    allowed_periods,
    candidate_zones,
    in_inconvenient_time,
    next_allowed,
    reply_allowed_in_session,
)

UTC = timezone.utc
ET, CT, MT, PT = "America/New_York", "America/Chicago", "America/Denver", "America/Los_Angeles"
AZ, AK, HI = "America/Phoenix", "America/Anchorage", "Pacific/Honolulu"
NY = ZoneInfo(ET)
LA = ZoneInfo(PT)


def et(*args: int) -> datetime:
    return datetime(*args, tzinfo=NY)


# --- the 08:00-20:59 window ---

def test_TIME_1_job_at_21_05_is_deferred_to_08_00_next_day():
    now = et(2025, 6, 10, 21, 5)
    assert not allowed_now(now, [ET])
    assert next_allowed(now, [ET]) == et(2025, 6, 11, 8, 0)


def test_TIME_1_window_is_08_00_to_20_59_inclusive():
    assert not allowed_now(et(2025, 6, 10, 7, 59, 59), [ET])
    assert allowed_now(et(2025, 6, 10, 8, 0), [ET])
    assert allowed_now(et(2025, 6, 10, 20, 59, 59), [ET])
    assert not allowed_now(et(2025, 6, 10, 21, 0), [ET])


def test_TIME_1_inside_the_window_next_allowed_is_now_in_utc():
    now = et(2025, 6, 10, 12, 34, 56)
    result = next_allowed(now, [ET])
    assert result == now and result.tzinfo == UTC


def test_TIME_1_early_morning_is_deferred_to_08_00_same_day():
    assert next_allowed(et(2025, 6, 10, 6, 30, 15), [ET]) == et(2025, 6, 10, 8, 0)


def test_TIME_1_is_judged_in_the_consumer_zone_not_the_server_zone():
    # 10:00 in New York is 07:00 in Los Angeles: too early for a Pacific consumer.
    now = et(2025, 6, 10, 10, 0)
    assert allowed_now(now, [ET])
    assert not allowed_now(now, [PT])
    assert next_allowed(now, [PT]) == datetime(2025, 6, 10, 8, 0, tzinfo=LA)


# --- conflicting signals: the overlap ---

def test_TIME_1_pacific_area_code_and_eastern_address_allow_11_to_20_59_eastern():
    zones = candidate_zones(ET, "(213) 555-0100", None)
    assert set(zones) == {ET, PT}
    assert not allowed_now(et(2025, 6, 10, 10, 59), zones)
    assert allowed_now(et(2025, 6, 10, 11, 0), zones)
    assert allowed_now(et(2025, 6, 10, 20, 59), zones)
    assert not allowed_now(et(2025, 6, 10, 21, 0), zones)
    assert next_allowed(et(2025, 6, 10, 9, 0), zones) == et(2025, 6, 10, 11, 0)
    assert next_allowed(et(2025, 6, 10, 21, 0), zones) == et(2025, 6, 11, 11, 0)


def test_TIME_1_zip_code_adds_its_zone_to_the_overlap():
    zones = candidate_zones(PT, None, "10001")  # a New York ZIP
    assert set(zones) == {ET, PT}
    assert not allowed_now(et(2025, 6, 10, 10, 30), zones)


def test_TIME_1_candidate_zones_are_deduplicated_in_signal_order():
    assert candidate_zones(ET, "+1 212 555 0100", "10001") == (ET,)
    assert candidate_zones(ET, "+1-310-555-0100", "60601") == (ET, PT, CT)


def test_TIME_1_unknown_location_means_every_us_zone():
    """No usable signal: send only when it is 08:00-20:59 across all 50 states."""
    assert candidate_zones(None, None, None) == UNKNOWN_LOCATION_ZONES
    assert candidate_zones("", "800-555-0100", "not a zip") == UNKNOWN_LOCATION_ZONES  # toll-free: no place
    # Summer: Hawaii is 6 hours behind New York, so the window is 14:00-20:59 Eastern.
    assert next_allowed(et(2025, 7, 1, 9, 0), UNKNOWN_LOCATION_ZONES) == et(2025, 7, 1, 14, 0)
    assert not allowed_now(et(2025, 7, 1, 13, 59), UNKNOWN_LOCATION_ZONES)


def test_TIME_1_invalid_portfolio_zone_is_an_error_not_ignored():
    with pytest.raises(ValueError, match="Mars/Base"):
        candidate_zones("Mars/Base", None, None)
    with pytest.raises(ValueError, match="Mars/Base"):
        allowed_now(et(2025, 6, 10, 12, 0), ["Mars/Base"])


def test_TIME_1_zones_that_never_overlap_give_no_send_time():
    # UTC, UTC+8 and UTC-8: their 08:00-21:00 windows have no common instant.
    zones = ["Etc/UTC", "Etc/GMT-8", "Etc/GMT+8"]
    assert next_allowed(et(2025, 6, 10, 12, 0), zones) is None


def test_TIME_1_naive_datetimes_are_rejected():
    with pytest.raises(ValueError, match="aware"):
        allowed_now(datetime(2025, 6, 10, 12, 0), [ET])
    with pytest.raises(ValueError, match="aware"):
        next_allowed(datetime(2025, 6, 10, 12, 0), [ET])


def test_TIME_1_no_zones_is_an_error():
    with pytest.raises(ValueError, match="at least one"):
        allowed_now(et(2025, 6, 10, 12, 0), [])


def test_TIME_1_a_single_zone_string_is_accepted():
    assert allowed_now(et(2025, 6, 10, 12, 0), ET)


# --- DST ---

def test_TIME_1_spring_forward_night_opens_at_08_00_edt():
    # 2025-03-09: clocks go 02:00 EST -> 03:00 EDT. 08:00 EDT is 12:00 UTC, not 13:00.
    assert next_allowed(datetime(2025, 3, 9, 2, 30, tzinfo=UTC), [ET]) == datetime(2025, 3, 9, 12, 0, tzinfo=UTC)
    assert not allowed_now(datetime(2025, 3, 9, 11, 59, tzinfo=UTC), [ET])
    assert allowed_now(datetime(2025, 3, 9, 12, 0, tzinfo=UTC), [ET])


def test_TIME_1_fall_back_night_opens_at_08_00_est():
    # 2025-11-02: clocks go 02:00 EDT -> 01:00 EST. 08:00 EST is 13:00 UTC.
    assert next_allowed(datetime(2025, 11, 2, 5, 30, tzinfo=UTC), [ET]) == datetime(2025, 11, 2, 13, 0, tzinfo=UTC)
    assert not allowed_now(datetime(2025, 11, 2, 12, 30, tzinfo=UTC), [ET])  # 07:30 EST


def test_TIME_1_window_closes_at_21_00_local_either_side_of_dst():
    assert allowed_now(datetime(2025, 3, 8, 1, 59, tzinfo=UTC), [ET])  # Mar 7 20:59 EST
    assert not allowed_now(datetime(2025, 3, 8, 2, 0, tzinfo=UTC), [ET])  # 21:00 EST
    assert not allowed_now(datetime(2025, 3, 10, 1, 0, tzinfo=UTC), [ET])  # Mar 9 21:00 EDT
    assert not allowed_now(datetime(2025, 11, 3, 2, 0, tzinfo=UTC), [ET])  # Nov 2 21:00 EST


def test_TIME_1_arizona_and_pacific_overlap_shifts_with_pacific_dst():
    zones = [AZ, PT]
    # Winter: Phoenix is an hour ahead of Los Angeles -> window 09:00-20:59 Phoenix time.
    assert next_allowed(datetime(2025, 1, 15, 14, 0, tzinfo=UTC), zones) == datetime(2025, 1, 15, 16, 0, tzinfo=UTC)
    # Summer: same clock time -> window 08:00-20:59 in both.
    assert next_allowed(datetime(2025, 7, 15, 14, 0, tzinfo=UTC), zones) == datetime(2025, 7, 15, 15, 0, tzinfo=UTC)


# --- times the consumer marked inconvenient ---

def test_TIME_1_inconvenient_lunch_hour_is_skipped():
    lunch = [InconvenientTime(None, time(12, 0), time(13, 0))]
    assert not allowed_now(et(2025, 6, 10, 12, 15), [ET], lunch)
    assert allowed_now(et(2025, 6, 10, 13, 0), [ET], lunch)
    assert next_allowed(et(2025, 6, 10, 12, 15), [ET], lunch) == et(2025, 6, 10, 13, 0)


def test_TIME_1_inconvenient_weekday_only_applies_on_that_day():
    tuesday_mornings = [InconvenientTime(1, time(8, 0), time(11, 0))]  # 2025-06-10 is a Tuesday
    assert not allowed_now(et(2025, 6, 10, 9, 0), [ET], tuesday_mornings)
    assert allowed_now(et(2025, 6, 11, 9, 0), [ET], tuesday_mornings)


def test_TIME_1_no_sundays_defers_to_monday_08_00():
    no_sundays = [InconvenientTime.all_day(6)]
    assert next_allowed(et(2025, 6, 15, 10, 0), [ET], no_sundays) == et(2025, 6, 16, 8, 0)


def test_TIME_1_inconvenient_block_can_wrap_past_midnight():
    # "Not before 10 on Saturdays": Friday 22:00 to Saturday 10:00.
    block = [InconvenientTime(4, time(22, 0), time(10, 0))]
    assert not allowed_now(et(2025, 6, 14, 9, 30), [ET], block)  # Saturday
    assert allowed_now(et(2025, 6, 15, 9, 30), [ET], block)  # Sunday
    assert next_allowed(et(2025, 6, 14, 7, 0), [ET], block) == et(2025, 6, 14, 10, 0)


def test_TIME_1_inconvenient_time_without_zone_is_applied_in_every_candidate_zone():
    block = [InconvenientTime(None, time(12, 0), time(13, 0))]
    zones = [ET, PT]
    assert not allowed_now(et(2025, 6, 10, 12, 30), zones, block)  # noon Eastern
    assert not allowed_now(et(2025, 6, 10, 15, 30), zones, block)  # noon Pacific
    assert allowed_now(et(2025, 6, 10, 14, 0), zones, block)


def test_TIME_1_inconvenient_time_with_its_own_zone_is_applied_there_only():
    block = [InconvenientTime(None, time(12, 0), time(13, 0), zone=PT)]
    assert allowed_now(et(2025, 6, 10, 12, 30), [ET, PT], block)
    assert not allowed_now(et(2025, 6, 10, 15, 30), [ET, PT], block)


def test_TIME_1_every_day_inconvenient_gives_no_send_time():
    assert next_allowed(et(2025, 6, 10, 12, 0), [ET], [InconvenientTime.all_day(None)]) is None


def test_TIME_1_inconvenient_times_must_be_whole_minutes_and_valid_days():
    with pytest.raises(ValueError, match="whole minute"):
        InconvenientTime(None, time(12, 0, 30), time(13, 0))
    with pytest.raises(ValueError, match="weekday"):
        InconvenientTime(7, time(12, 0), time(13, 0))


# --- TIME-2 ---

def test_TIME_2_chat_at_23_30_in_a_consumer_session_is_answered():
    now = et(2025, 6, 10, 23, 30)
    assert not allowed_now(now, [ET])
    assert reply_allowed_in_session(consumer_started=True)


def test_TIME_2_reminder_in_one_hour_is_bot_initiated_and_held_until_08_00():
    session_at = et(2025, 6, 10, 23, 30)
    reminder_due = session_at + timedelta(hours=1)
    assert not reply_allowed_in_session(consumer_started=False)
    assert next_allowed(reminder_due, [ET]) == et(2025, 6, 11, 8, 0)


def test_TIME_2_reply_in_inconvenient_time_is_allowed_and_detectable():
    lunch = [InconvenientTime(None, time(12, 0), time(13, 0))]
    now = et(2025, 6, 10, 12, 30)
    assert reply_allowed_in_session(consumer_started=True)
    assert in_inconvenient_time(now, [ET], lunch)  # reply once; may ask whether to lift the block
    assert not in_inconvenient_time(et(2025, 6, 10, 14, 0), [ET], lunch)


# --- area codes and ZIPs ---

@pytest.mark.parametrize(("phone", "zone"), [
    ("+1 (212) 555-0100", ET), ("213-555-0100", PT), ("13125550100", CT), ("303.555.0100", MT),
    ("602 555 0100", AZ), ("907-555-0100", AK), ("808-555-0100", HI), ("915-555-0100", MT),
    ("850-555-0100", CT), ("219-555-0100", CT), ("317-555-0100", "America/Indiana/Indianapolis"),
    ("787-555-0100", "America/Puerto_Rico"), ("416-555-0100", "America/Toronto"),
])
def test_TIME_1_area_codes_map_to_their_zone(phone, zone):
    assert area_codes.zone_for_phone(phone) == zone


@pytest.mark.parametrize("phone", [None, "", "555-0100", "800-555-0100", "+44 20 7946 0000", "011-555-0100"])
def test_TIME_1_unknown_or_non_geographic_numbers_give_no_zone(phone):
    assert area_codes.zone_for_phone(phone) is None


@pytest.mark.parametrize(("zip_code", "zone"), [
    ("10001", ET), ("60601", CT), ("80202", MT), ("85004", AZ), ("94105-1234", PT), ("99501", AK),
    ("96813", HI), ("32501", CT), ("32301", ET), ("79901", MT), ("75201", CT), ("46320", CT),
    ("46204", "America/Indiana/Indianapolis"), ("83814", PT), ("83702", "America/Boise"),
    ("00901", "America/Puerto_Rico"),
])
def test_TIME_1_zip_prefixes_map_to_their_zone(zip_code, zone):
    assert area_codes.zone_for_zip(zip_code) == zone


@pytest.mark.parametrize("zip_code", [None, "", "1234", "abcde", "09012", "86515", "49938"])
def test_TIME_1_military_mixed_or_malformed_zips_give_no_zone(zip_code):
    assert area_codes.zone_for_zip(zip_code) is None


def test_TIME_1_every_mapped_zone_is_a_real_iana_zone():
    zones = set(area_codes.AREA_CODE_ZONES.values()) | set(area_codes.ZIP3_ZONES.values())
    zones |= set(area_codes.SPLIT_AREA_CODES.values())
    for zone in zones:
        ZoneInfo(zone)
    assert set(area_codes.SPLIT_AREA_CODES) <= set(area_codes.AREA_CODE_ZONES)


# --- properties of next_allowed ---

TRANSITIONS = [datetime(2025, 3, 9, 7, 0, tzinfo=UTC), datetime(2025, 11, 2, 6, 0, tzinfo=UTC),
               datetime(2026, 3, 8, 7, 0, tzinfo=UTC), datetime(2024, 11, 3, 6, 0, tzinfo=UTC)]
ZONES = [ET, CT, MT, AZ, PT, AK, HI, "America/St_Johns", "America/Halifax", "America/Puerto_Rico"]

instants = st.one_of(
    st.datetimes(min_value=datetime(2024, 1, 1), max_value=datetime(2026, 12, 31), timezones=st.just(UTC)),
    st.builds(lambda base, minutes, seconds: base + timedelta(minutes=minutes, seconds=seconds),
              st.sampled_from(TRANSITIONS), st.integers(-48 * 60, 48 * 60), st.integers(0, 59)),
)
clock = st.builds(time, st.integers(0, 23), st.integers(0, 59))
blocks = st.lists(st.builds(InconvenientTime, st.one_of(st.none(), st.integers(0, 6)), clock, clock), max_size=3)


@settings(max_examples=200, deadline=None)
@given(now=instants, zones=st.lists(st.sampled_from(ZONES), min_size=1, max_size=3, unique=True), inconvenient=blocks)
def test_TIME_1_next_allowed_is_allowed_never_early_and_minimal(now, zones, inconvenient):
    result = next_allowed(now, zones, inconvenient)
    if allowed_now(now, zones, inconvenient):
        assert result == now
    if result is None:
        return
    assert result.tzinfo == UTC
    assert result >= now
    assert allowed_now(result, zones, inconvenient)
    if result != now:
        assert not allowed_now(result - timedelta(minutes=1), zones, inconvenient)
        # Nothing in between is allowed either: every boundary is on a whole minute, so check each one
        # (the implementation skips ahead; this does not).
        minute = now.replace(second=0, microsecond=0) + timedelta(minutes=1)
        if result - now <= timedelta(hours=36):
            while minute < result:
                assert not allowed_now(minute, zones, inconvenient), minute
                minute += timedelta(minutes=1)


def test_TIME_1_allowed_periods_are_the_parts_of_a_span_a_person_may_contact_in():
    """What callback offers are cut from (bot/agents/hours.py): a day's span split by the window in both zones and by
    a lunch hour marked inconvenient. Mutation tried: the inner minute scan not checking `inconvenient` (stepping on
    the window alone) -> one period 11:00-21:00 Eastern: failed."""
    lunch = [InconvenientTime(None, time(12, 0), time(13, 0))]
    periods = allowed_periods(et(2026, 11, 23, 6, 0), et(2026, 11, 24, 6, 0), (ET, PT), lunch)
    assert [(a.astimezone(NY).strftime("%H:%M"), b.astimezone(NY).strftime("%H:%M")) for a, b in periods] == [
        ("11:00", "12:00"), ("13:00", "15:00"), ("16:00", "21:00")]
