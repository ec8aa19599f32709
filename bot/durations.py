"""How long something has waited, as a person reads it at a glance: "just now", "5 min", "2 h 10 min", "2 days".

One function for every wait or age the consoles show, so a queue row never says "3019 min". The value is always
rounded down to the unit shown (a wait of 59 seconds is "just now", of 1 h 59 min 59 s "1 h 59 min"): it never
claims more time has passed than has. Staff-facing: the debtor hears words, not abbreviations (VOICE.md)."""

from __future__ import annotations

from datetime import datetime, timedelta


def human_duration(elapsed: timedelta) -> str:
    """Under a minute (or negative: a clock a little ahead) is "just now"; then minutes, hours and minutes under a
    day, and whole days after that."""
    minutes = max(0, int(elapsed.total_seconds() // 60))
    if minutes < 1:
        return "just now"
    if minutes < 60:
        return f"{minutes} min"
    hours, rest = divmod(minutes, 60)
    if hours < 24:
        return f"{hours} h" if rest == 0 else f"{hours} h {rest} min"
    days = hours // 24
    return "1 day" if days == 1 else f"{days} days"


def human_age(moment: datetime, now: datetime) -> str:
    """How long `moment` has been waiting. Both must be timezone-aware: a naive time cannot be compared honestly."""
    if moment.tzinfo is None or now.tzinfo is None:
        raise ValueError("human_age needs timezone-aware datetimes")
    return human_duration(now - moment)


def human_ago(moment: datetime, now: datetime) -> str:
    """ "just now" or "5 min ago", for a sentence ("asked 5 min ago")."""
    age = human_age(moment, now)
    return age if age == "just now" else f"{age} ago"
