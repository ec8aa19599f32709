"""PLAN-1: the one rule for when a plan's payments fall, used both to make the schedule (bot/plans/engine.py) and to
say it (bot/plans/terms.py), so what the debtor agrees to is what is stored.

A monthly payment is due on its day of the month (the month's last day when the month is shorter); a Saturday or
Sunday moves to the Monday after (banks don't process payments at weekends). Weekly and biweekly dates move the
same way. Pure functions on dates in the debtor's calendar."""

from __future__ import annotations

import calendar
from collections.abc import Sequence
from datetime import date, timedelta

from bot import wording

SHORT_MONTH_DAY = 28  # every month has the days up to this one; after it, "or the month's last day"


def business_day(due: date) -> date:
    """A Saturday or Sunday moves to the next Monday. A move is at most 2 days and due dates are at least 7 apart,
    so they stay in order."""
    return due + timedelta(days=7 - due.weekday()) if due.weekday() >= 5 else due


def monthly_date(year: int, month: int, day: int) -> date:
    """The payment date for `day` of this month, by the rule above."""
    return business_day(date(year, month, min(day, calendar.monthrange(year, month)[1])))


def monthly_day(dates: Sequence[date]) -> int | None:
    """The day of the month from which the rule gives every one of these dates (the smallest, if several do), or
    None when no single day does: then the dates are listed, never summed up by a rule they do not follow."""
    for day in range(1, 32):
        if all(due == monthly_date(due.year, due.month, day) for due in dates):
            return day
    return None


def say_day(day: int, language: str | None = None) -> str:
    """"6th" / "6": the day of the month as the debtor reads it."""
    if language == wording.SPANISH:
        return str(day)
    suffix = "th" if 10 <= day % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(day % 10, "th")
    return f"{day}{suffix}"
