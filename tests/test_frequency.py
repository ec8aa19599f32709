"""FREQ-1: caps on bot-initiated texts (1 a local day, 3 a rolling 7 days, state overrides) and the 7-in-7 calls."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.compliance.frequency import (
    DEFAULT_CONTACT_RULES_PATH,
    ContactRulesError,
    check_call_cap,
    check_sms_cap,
    load_contact_rules,
    parse_contact_rules,
)

UTC = timezone.utc
ET = "America/New_York"
NY = ZoneInfo(ET)
RULES = load_contact_rules()


def et(*args: int) -> datetime:
    return datetime(*args, tzinfo=NY)


NOW = et(2025, 6, 10, 12, 0)


def days_ago(days: float) -> datetime:
    return NOW - timedelta(days=days)


# --- texts ---

def test_FREQ_1_first_sms_is_allowed():
    decision = check_sms_cap([], NOW, ET, None, RULES)
    assert decision.allowed and decision.rule_id == "FREQ-1" and decision.next_allowed == NOW


def test_FREQ_1_fourth_sms_in_seven_days_is_blocked():
    sent = [days_ago(6), days_ago(4), days_ago(2)]
    decision = check_sms_cap(sent, NOW, ET, None, RULES)
    assert not decision.allowed
    assert decision.rule_id == "FREQ-1"
    assert "7 days" in decision.reason
    # The oldest of the three leaves the rolling window 7 x 24 h after it was sent.
    assert decision.next_allowed == days_ago(6) + timedelta(days=7)


def test_FREQ_1_a_send_exactly_seven_days_ago_has_left_the_window():
    sent = [days_ago(7), days_ago(4), days_ago(2)]
    assert check_sms_cap(sent, NOW, ET, None, RULES).allowed


def test_FREQ_1_second_sms_on_the_same_local_day_is_blocked_until_local_midnight():
    decision = check_sms_cap([et(2025, 6, 10, 9, 0)], NOW, ET, None, RULES)
    assert not decision.allowed
    assert "local day" in decision.reason
    assert decision.next_allowed == et(2025, 6, 11, 0, 0)


def test_FREQ_1_per_day_means_the_consumer_local_day_not_the_utc_day():
    la = "America/Los_Angeles"
    sent = [datetime(2025, 6, 10, 6, 0, tzinfo=UTC)]  # June 9, 23:00 in Los Angeles
    now = datetime(2025, 6, 10, 16, 0, tzinfo=UTC)  # June 10, 09:00 in Los Angeles: a new local day
    assert check_sms_cap(sent, now, la, None, RULES).allowed
    # Same instants for a consumer in UTC+0: one calendar day, so blocked.
    assert not check_sms_cap(sent, now, "Etc/UTC", None, RULES).allowed


def test_FREQ_1_local_midnight_is_dst_correct():
    # Saturday March 8, 2025: the next local midnight is still EST (05:00 UTC); the change is at 02:00.
    decision = check_sms_cap([et(2025, 3, 8, 10, 0)], et(2025, 3, 8, 15, 0), ET, None, RULES)
    assert decision.next_allowed == datetime(2025, 3, 9, 5, 0, tzinfo=UTC)
    # Saturday November 1: the next local midnight is still EDT (04:00 UTC).
    decision = check_sms_cap([et(2025, 11, 1, 10, 0)], et(2025, 11, 1, 15, 0), ET, None, RULES)
    assert decision.next_allowed == datetime(2025, 11, 2, 4, 0, tzinfo=UTC)


def test_FREQ_1_both_caps_together_wait_for_the_later_one():
    sent = [days_ago(5), days_ago(3), et(2025, 6, 10, 8, 30)]
    decision = check_sms_cap(sent, NOW, ET, None, RULES)
    assert not decision.allowed
    assert decision.next_allowed == days_ago(5) + timedelta(days=7)


def test_FREQ_1_massachusetts_counts_two_per_seven_days():
    sent = [days_ago(5), days_ago(2)]
    assert check_sms_cap(sent, NOW, ET, None, RULES).allowed
    decision = check_sms_cap(sent, NOW, ET, "MA", RULES)
    assert not decision.allowed
    assert "209 CMR 18.16" in decision.reason
    assert decision.next_allowed == days_ago(5) + timedelta(days=7)


def test_FREQ_1_massachusetts_texts_and_calls_share_the_cap():
    decision = check_sms_cap([days_ago(3)], NOW, ET, "ma", RULES, calls_at=[days_ago(1)])
    assert not decision.allowed
    # Outside Massachusetts calls do not count against texts.
    assert check_sms_cap([days_ago(3)], NOW, ET, "NY", RULES, calls_at=[days_ago(1)]).allowed


def test_FREQ_1_unknown_state_uses_the_defaults():
    assert check_sms_cap([days_ago(5), days_ago(2)], NOW, ET, "ZZ", RULES).allowed


def test_FREQ_1_a_zero_cap_never_allows():
    rules = parse_contact_rules({"version": 1, "defaults": _defaults(),
                                 "states": {"VT": {"sms_per_day": 0}, "MA": MA_LAW}})
    decision = check_sms_cap([], NOW, ET, "VT", rules)
    assert not decision.allowed and decision.next_allowed is None


def test_FREQ_1_naive_datetimes_are_rejected():
    with pytest.raises(ValueError, match="aware"):
        check_sms_cap([], datetime(2025, 6, 10, 12, 0), ET, None, RULES)
    with pytest.raises(ValueError, match="aware"):
        check_sms_cap([datetime(2025, 6, 9, 12, 0)], NOW, ET, None, RULES)


def test_FREQ_1_next_allowed_is_itself_allowed():
    sent = [days_ago(6.5), days_ago(3), days_ago(0.1)]
    decision = check_sms_cap(sent, NOW, ET, None, RULES)
    assert not decision.allowed
    assert check_sms_cap(sent, decision.next_allowed, ET, None, RULES).allowed
    assert not check_sms_cap(sent, decision.next_allowed - timedelta(seconds=1), ET, None, RULES).allowed


# --- calls (Reg F 7-in-7) ---

def test_FREQ_1_eighth_call_in_seven_days_is_blocked():
    calls = [days_ago(6 - i * 0.5) for i in range(7)]
    decision = check_call_cap(calls, NOW, rules=RULES)
    assert not decision.allowed and decision.rule_id == "FREQ-1"
    assert decision.next_allowed == calls[0] + timedelta(days=7)
    assert check_call_cap(calls[1:], NOW, rules=RULES).allowed  # the 7th call is fine


def test_FREQ_1_no_call_within_seven_days_of_a_conversation():
    decision = check_call_cap([], NOW, rules=RULES, last_conversation_at=days_ago(3))
    assert not decision.allowed
    assert "conversation" in decision.reason
    assert decision.next_allowed == days_ago(3) + timedelta(days=7)
    assert check_call_cap([], NOW, rules=RULES, last_conversation_at=days_ago(7)).allowed


def test_FREQ_1_massachusetts_calls_count_texts_two_per_seven_days():
    assert not check_call_cap([days_ago(2)], NOW, rules=RULES, state="MA", texts_at=[days_ago(1)]).allowed
    assert check_call_cap([days_ago(2)], NOW, rules=RULES, state="TX", texts_at=[days_ago(1)]).allowed


# --- the policy file ---

MA_LAW = {"sms_per_7_days": 2, "calls_per_7_days": 2, "texts_and_calls_share_cap": True}


def _defaults() -> dict:
    return {"sms_per_day": 1, "sms_per_7_days": 3, "calls_per_7_days": 7,
            "texts_and_calls_share_cap": False, "citation": "test"}


def test_FREQ_1_policy_file_loads_with_defaults_and_massachusetts():
    rules = load_contact_rules(DEFAULT_CONTACT_RULES_PATH)
    assert (rules.defaults.sms_per_day, rules.defaults.sms_per_7_days, rules.defaults.calls_per_7_days) == (1, 3, 7)
    ma = rules.for_state("MA")
    assert ma.sms_per_7_days == 2 and ma.texts_and_calls_share_cap and ma.sms_per_day == 1


@pytest.mark.parametrize(("data", "field"), [
    ({"version": 2, "defaults": _defaults()}, "version"),
    ({"version": 1}, "defaults"),
    ({"version": 1, "defaults": {**_defaults(), "sms_per_day": -1}}, "defaults.sms_per_day"),
    ({"version": 1, "defaults": {**_defaults(), "sms_per_7_days": "two"}}, "defaults.sms_per_7_days"),
    ({"version": 1, "defaults": {**_defaults(), "calls_per_7_days": True}}, "defaults.calls_per_7_days"),
    ({"version": 1, "defaults": {k: v for k, v in _defaults().items() if k != "citation"}}, "defaults.citation"),
    ({"version": 1, "defaults": {**_defaults(), "sms_per_week": 3}}, "defaults.sms_per_week"),
    ({"version": 1, "defaults": _defaults(), "states": {"Mass": {"sms_per_day": 1}}}, "states.Mass"),
    ({"version": 1, "defaults": _defaults(), "states": {"MA": {"sms_per_7_days": 2.5}}}, "states.MA.sms_per_7_days"),
    ({"version": 1, "defaults": _defaults(), "states": {"MA": {"texts_and_calls_share_cap": "yes"}}},
     "states.MA.texts_and_calls_share_cap"),
    ({"version": 1, "defaults": _defaults(), "extra": 1}, "extra"),
])
def test_FREQ_1_policy_errors_name_the_field(data, field):
    with pytest.raises(ContactRulesError, match=rf"\b{field}\b"):
        parse_contact_rules(data)


def test_FREQ_1_policy_file_errors_name_the_file(tmp_path: Path):
    path = tmp_path / "contact_rules.yml"
    path.write_text("version: 1\ndefaults:\n  sms_per_day: lots\n", encoding="utf-8")
    with pytest.raises(ContactRulesError, match=r"contact_rules\.yml: defaults\.sms_per_day"):
        load_contact_rules(path)
    path.write_text("version: [1\n", encoding="utf-8")
    with pytest.raises(ContactRulesError, match="not valid YAML"):
        load_contact_rules(path)
