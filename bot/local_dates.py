"""The debtor's calendar: every date a debtor reads is a date in the debtor's own time zone (the account's debtor's
`timezone`), never the server's or UTC's. Times are stored as timezone-aware UTC instants; this module is the one
place that turns an instant into the debtor's calendar date.

A period that ends at an instant (the validation period ends at the start of the day after its last day, in the
debtor's zone: bot/compliance/validation_period.py) is shown as the last day it covers, as the notice shows it."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.db.models import Debtor


def debtor_zone(debtor: Debtor | str | None) -> ZoneInfo:
    """The debtor's own time zone (a Debtor or a zone name); UTC if none is known or it is not a real zone."""
    name = debtor if isinstance(debtor, str) or debtor is None else debtor.timezone
    try:
        return ZoneInfo(name) if name else ZoneInfo("UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def debtor_date(instant: datetime, debtor: Debtor | str | None) -> date:
    """The debtor's calendar date at `instant` (timezone-aware): 2026-12-07 03:00 UTC is December 6 in New York."""
    if instant.tzinfo is None:
        raise ValueError("instant must be timezone-aware")
    return instant.astimezone(debtor_zone(debtor)).date()


def debtor_today(debtor: Debtor | str | None, now: datetime | None = None) -> date:
    """Today in the debtor's own time zone: due dates are their calendar days, not the server's."""
    return debtor_date(now or datetime.now(timezone.utc), debtor)


def last_day_covered(ends_at: datetime, debtor: Debtor | str | None) -> date:
    """The last calendar day (the debtor's) of a period that is over at `ends_at`: a period over at the start of
    January 11 in New York (05:00 UTC) covers up to January 10, the date its notice shows."""
    return debtor_date(ends_at - timedelta(microseconds=1), debtor)
