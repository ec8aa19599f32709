"""DISC-5: when the validation period of a notice ends. One function, `validation_period`, gives the end date the
notice shows and the instant the system uses (Account.validation_period_ends_at, read by DSP-2 and DSP-3), so the
two can never disagree.

Reg F counts the period from receipt. Settle cannot know when an email was read or a letter arrived, so it uses
the safe harbour of 1006.34(b)(5): the consumer is assumed to receive the notice five days after it was sent,
"excluding legal public holidays identified in 5 U.S.C. 6103(a), Saturdays, and Sundays", and the period ends 30
days after that receipt. The end date is a date in the consumer's time zone; the period is over at the start of the
following day there."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

RECEIPT_BUSINESS_DAYS = 5  # 1006.34(b)(5)
PERIOD_DAYS = 30  # 1006.34(b)(5): "30 days after the consumer receives ... the validation information"


def _nth_weekday(year: int, month: int, weekday: int, n: int) -> date:
    """The n-th (1-based) `weekday` (Monday 0) of the month; n = -1 is the last one."""
    if n > 0:
        first = date(year, month, 1)
        return first + timedelta(days=(weekday - first.weekday()) % 7 + 7 * (n - 1))
    last = date(year + (month == 12), month % 12 + 1, 1) - timedelta(days=1)
    return last - timedelta(days=(last.weekday() - weekday) % 7)


def _observed(day: date) -> date:
    """A fixed-date holiday on a Saturday is observed the Friday before, on a Sunday the Monday after (5 U.S.C.
    6103(b), Executive Order 11582)."""
    return day - timedelta(days=1) if day.weekday() == 5 else day + timedelta(days=1) if day.weekday() == 6 else day


@lru_cache(maxsize=64)
def legal_public_holidays(year: int) -> frozenset[date]:
    """The days of `year` that 5 U.S.C. 6103(a) holidays fall on, as observed."""
    fixed = [date(year, 1, 1), date(year, 6, 19), date(year, 7, 4), date(year, 11, 11), date(year, 12, 25)]
    days = {_observed(d) for d in fixed}
    days |= {
        _nth_weekday(year, 1, 0, 3),  # Birthday of Martin Luther King, Jr.
        _nth_weekday(year, 2, 0, 3),  # Washington's Birthday
        _nth_weekday(year, 5, 0, -1),  # Memorial Day
        _nth_weekday(year, 9, 0, 1),  # Labor Day
        _nth_weekday(year, 10, 0, 2),  # Columbus Day
        _nth_weekday(year, 11, 3, 4),  # Thanksgiving Day
    }
    # New Year's Day of next year on a Saturday is observed on December 31 of this one.
    if date(year + 1, 1, 1).weekday() == 5:
        days.add(date(year, 12, 31))
    return frozenset(d for d in days if d.year == year)


def is_business_day(day: date) -> bool:
    return day.weekday() < 5 and day not in legal_public_holidays(day.year)


def business_days_after(day: date, count: int) -> date:
    """The `count`-th day after `day` that is not a Saturday, a Sunday or a legal public holiday."""
    while count > 0:
        day += timedelta(days=1)
        count -= is_business_day(day)
    return day


@dataclass(frozen=True)
class ValidationPeriod:
    sent_on: date  # the consumer's local date the notice was sent
    received_on: date  # assumed receipt: 5 business days later (1006.34(b)(5))
    ends_on: date  # the end date the notice shows: 30 days after receipt
    ends_at: datetime  # the instant it is over: the start of the next day in the consumer's zone (timezone-aware)


def validation_period(sent_at: datetime, zone: str) -> ValidationPeriod:
    """The validation period of a notice sent at `sent_at` (timezone-aware) to a consumer in `zone`."""
    if sent_at.tzinfo is None:
        raise ValueError("sent_at must be timezone-aware")
    tz = ZoneInfo(zone)
    sent_on = sent_at.astimezone(tz).date()
    received_on = business_days_after(sent_on, RECEIPT_BUSINESS_DAYS)
    ends_on = received_on + timedelta(days=PERIOD_DAYS)
    return ValidationPeriod(sent_on, received_on, ends_on,
                            datetime.combine(ends_on + timedelta(days=1), time(0), tzinfo=tz))
