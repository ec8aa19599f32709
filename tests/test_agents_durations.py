"""Waits and ages as people read them in the consoles ("just now", "5 min", "2 h 10 min", "2 days"), never
"3019 min". Mutation tried: `if hours < 24` changed to `if hours < 240` -> "50 h 19 min" for the tester's 3019
minutes, and both the example and the property (hours under a day) fail."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.durations import human_age, human_ago, human_duration

SHAPE = re.compile(r"^(?:just now|(?P<m>[1-9]\d?) min|(?P<h>[1-9]\d?) h(?: (?P<hm>[1-9]\d?) min)?|1 day|"
                   r"(?P<d>[2-9]|[1-9]\d+) days)$")


@pytest.mark.parametrize(("elapsed", "shown"), [
    (timedelta(0), "just now"),
    (timedelta(seconds=59), "just now"),
    (timedelta(seconds=-30), "just now"),  # a clock slightly ahead of the database's
    (timedelta(minutes=1), "1 min"),
    (timedelta(minutes=5, seconds=59), "5 min"),
    (timedelta(minutes=59, seconds=59), "59 min"),
    (timedelta(hours=1), "1 h"),
    (timedelta(hours=2, minutes=10), "2 h 10 min"),
    (timedelta(hours=23, minutes=59), "23 h 59 min"),
    (timedelta(hours=24), "1 day"),
    (timedelta(hours=47, minutes=59), "1 day"),
    (timedelta(minutes=3019), "2 days"),  # what the tester saw as "3019 min"
    (timedelta(days=400), "400 days"),
])
def test_examples(elapsed: timedelta, shown: str) -> None:
    assert human_duration(elapsed) == shown


def _floor_minutes(text: str) -> tuple[int, int]:
    """The span of minutes a shown duration stands for: [low, low + unit)."""
    match = SHAPE.match(text)
    assert match, text
    if text == "just now":
        return 0, 1
    if match["m"]:
        return int(match["m"]), 1
    if match["h"]:
        return int(match["h"]) * 60 + int(match["hm"] or 0), 1
    days = 1 if text == "1 day" else int(match["d"])
    return days * 1440, 1440


@given(st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=3650)))
def test_the_shown_duration_is_the_elapsed_time_rounded_down_to_its_unit(elapsed: timedelta) -> None:
    text = human_duration(elapsed)
    low, unit = _floor_minutes(text)  # also: the shape is one of the five, minutes < 60 and hours < 24
    minutes = elapsed.total_seconds() / 60
    assert low <= minutes < low + unit


@given(st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=3650)),
       st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=3650)))
def test_a_longer_wait_never_reads_shorter(a: timedelta, b: timedelta) -> None:
    shorter, longer = sorted((a, b))
    assert _floor_minutes(human_duration(shorter))[0] <= _floor_minutes(human_duration(longer))[0]


def test_an_age_needs_timezone_aware_times() -> None:
    now = datetime(2026, 12, 6, 12, 0, tzinfo=timezone.utc)
    assert human_age(now - timedelta(minutes=130), now) == "2 h 10 min"
    assert human_ago(now - timedelta(minutes=130), now) == "2 h 10 min ago"
    assert human_ago(now - timedelta(seconds=5), now) == "just now"
    with pytest.raises(ValueError):
        human_age(datetime(2026, 12, 6, 11, 0), now)
