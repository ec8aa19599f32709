"""When the bot may start a conversation: TIME-1 (08:00-20:59 local, overlap of all candidate zones,
minus times the consumer marked inconvenient) and TIME-2 (replies in a consumer-started session).

Pure functions on aware datetimes; the send gate calls them at send time, not at scheduling time, so a job
queued at 20:50 that runs at 21:05 is still deferred.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta, timezone
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.compliance.area_codes import zone_for_phone, zone_for_zip

RULE_ID = "TIME-1"
SESSION_RULE_ID = "TIME-2"

# TIME-1 / 1006.6(b)(1)(i): convenient is after 08:00 and before 21:00 at the consumer's location.
WINDOW_START = time(8, 0)
WINDOW_END = time(21, 0)  # exclusive: 20:59:59 is the last allowed second

# How far next_allowed() looks ahead before giving up (an empty overlap, or every day marked inconvenient).
SEARCH_HORIZON = timedelta(days=8)

# TIME-1: with no usable location signal the consumer could be anywhere in the 50 states, so the bot may send
# only when it is 08:00-20:59 in all of them (13:00-20:59 Eastern in winter, 14:00-20:59 in summer).
UNKNOWN_LOCATION_ZONES: tuple[str, ...] = (
    "America/New_York", "America/Chicago", "America/Denver", "America/Phoenix",
    "America/Los_Angeles", "America/Anchorage", "Pacific/Honolulu",
)

_MINUTE = timedelta(minutes=1)
UTC = timezone.utc  # candidate_zones() has a parameter named `timezone`


@dataclass(frozen=True)
class InconvenientTime:
    """A time the consumer said is inconvenient (TIME-1, 1006.6(b)(1)).

    weekday: 0=Monday ... 6=Sunday (datetime.weekday()), or None for every day.
    start, end: local wall-clock times, start inclusive, end exclusive, whole minutes. start > end wraps past
    midnight (22:00-07:00; the part after midnight belongs to the next day). start == end means the whole day.
    zone: the IANA zone the consumer meant; None means "their local time", and because we may not know which
    candidate zone that is, the block is applied in every candidate zone (the stricter reading).
    """

    weekday: int | None
    start: time
    end: time
    zone: str | None = None

    def __post_init__(self) -> None:
        if self.weekday is not None and not 0 <= self.weekday <= 6:
            raise ValueError(f"InconvenientTime.weekday must be 0-6 or None, got {self.weekday!r}")
        for name in ("start", "end"):
            value = getattr(self, name)
            if not isinstance(value, time) or value.tzinfo is not None:
                raise ValueError(f"InconvenientTime.{name} must be a naive local time, got {value!r}")
            if value.second or value.microsecond:
                # Whole minutes keep next_allowed() exact: every boundary falls on a whole minute.
                raise ValueError(f"InconvenientTime.{name} must be a whole minute, got {value.isoformat()}")
        if self.zone is not None:
            _zone(self.zone)

    @classmethod
    def all_day(cls, weekday: int | None, zone: str | None = None) -> InconvenientTime:
        return cls(weekday, time(0, 0), time(0, 0), zone)

    def covers(self, local: datetime) -> bool:
        """True if the local wall-clock time falls inside this block."""
        t, day = local.time().replace(tzinfo=None), local.weekday()
        if self.start == self.end:
            return self.weekday is None or day == self.weekday
        if self.start < self.end:
            return (self.weekday is None or day == self.weekday) and self.start <= t < self.end
        # Wraps past midnight: the evening part is on `weekday`, the early-morning part on the day after.
        evening = (self.weekday is None or day == self.weekday) and t >= self.start
        morning = (self.weekday is None or day == (self.weekday + 1) % 7) and t < self.end
        return evening or morning


@lru_cache(maxsize=256)
def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown IANA time zone: {name!r}") from exc


def _require_aware(value: datetime, name: str) -> None:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be a timezone-aware datetime, got naive {value!r}")


def _zones(zones: Sequence[str]) -> tuple[ZoneInfo, ...]:
    if isinstance(zones, str):
        zones = (zones,)  # a lone string would otherwise be read as a sequence of letters
    if not zones:
        raise ValueError("zones must name at least one IANA zone; use candidate_zones() to build it")
    return tuple(_zone(z) for z in zones)


def candidate_zones(timezone: str | None, phone: str | None, zip_code: str | None) -> tuple[str, ...]:
    """Every zone the consumer might be in, from the portfolio zone, the phone's area code and the ZIP.

    TIME-1: conflicting signals are all kept, so the window is their overlap. No usable signal at all gives
    UNKNOWN_LOCATION_ZONES. An invalid portfolio zone raises ValueError rather than being silently dropped.
    """
    found: list[str] = []
    if timezone and timezone.strip():
        found.append(timezone.strip())
        _zone(found[0])
    for zone in (zone_for_phone(phone), zone_for_zip(zip_code)):
        if zone is not None:
            found.append(zone)
    unique = tuple(dict.fromkeys(found))
    return unique or UNKNOWN_LOCATION_ZONES


def _in_window(local: datetime) -> bool:
    return WINDOW_START <= local.time().replace(tzinfo=None) < WINDOW_END


def _allowed(now: datetime, zones: tuple[ZoneInfo, ...], inconvenient: Sequence[InconvenientTime],
             window: bool = True) -> bool:
    for tz in zones:
        local = now.astimezone(tz)
        # TIME-1: inside 08:00-20:59 in every candidate zone.
        if window and not _in_window(local):
            return False
        # TIME-1: not in a block the consumer marked inconvenient (read in this zone unless it names its own).
        if any(block.zone is None and block.covers(local) for block in inconvenient):
            return False
    return not any(block.zone is not None and block.covers(now.astimezone(_zone(block.zone)))
                   for block in inconvenient)


def allowed_now(now_utc: datetime, zones: Sequence[str], inconvenient: Sequence[InconvenientTime] = (),
                window: bool = True) -> bool:
    """TIME-1: may the bot start a message (SMS, email, reminder) at now_utc? Judge this at send time.
    window=False judges only the consumer's inconvenient times (TIME-2: a reply in a session they started)."""
    _require_aware(now_utc, "now_utc")
    return _allowed(now_utc, _zones(zones), inconvenient, window)


def next_allowed(now_utc: datetime, zones: Sequence[str],
                 inconvenient: Sequence[InconvenientTime] = (), window: bool = True) -> datetime | None:
    """TIME-1: the earliest aware UTC time >= now_utc when a bot-initiated send is allowed.

    None if there is none within SEARCH_HORIZON (8 days): the zones do not overlap, or every day is blocked.
    Every boundary (08:00, 21:00, the inconvenient blocks, DST changes in US/Canadian zones) falls on a whole
    minute, so checking now and then each whole minute finds the exact earliest time.
    """
    _require_aware(now_utc, "now_utc")
    tzs = _zones(zones)
    now = now_utc.astimezone(UTC)
    if _allowed(now, tzs, inconvenient, window):
        return now
    candidate = now.replace(second=0, microsecond=0) + _MINUTE
    limit = now + SEARCH_HORIZON
    while candidate <= limit:
        if _allowed(candidate, tzs, inconvenient, window):
            return candidate
        candidate = _skip_outside_window(candidate, tzs) if window else candidate + _MINUTE
    return None


def allowed_periods(start: datetime, end: datetime, zones: Sequence[str],
                    inconvenient: Sequence[InconvenientTime] = ()) -> list[tuple[datetime, datetime]]:
    """TIME-1: the parts of [start, end) in which contact is allowed at every moment (allowed_now), in order, in
    UTC. A callback offered as "1 PM to 5 PM" promises a call at any time in it, so the whole block must pass."""
    _require_aware(start, "start")
    _require_aware(end, "end")
    tzs = _zones(zones)
    found: list[tuple[datetime, datetime]] = []
    moment = next_allowed(start, zones, inconvenient)
    limit = end.astimezone(UTC)
    while moment is not None and moment < limit:
        # Every boundary is a whole minute (next_allowed), so stepping minutes finds where the period stops.
        stop = moment.replace(second=0, microsecond=0) + _MINUTE
        while stop < limit and _allowed(stop, tzs, inconvenient, True):
            stop += _MINUTE
        stop = min(stop, limit)
        found.append((moment, stop))
        moment = next_allowed(stop, zones, inconvenient) if stop < limit else None
    return found


def _skip_outside_window(candidate: datetime, tzs: tuple[ZoneInfo, ...]) -> datetime:
    """The next minute worth checking. Outside 08:00-20:59 in some zone, nothing is allowed until 08:00 local
    there, so jump to two hours before it (a margin for DST shifts; the minute scan is exact from there);
    otherwise step one minute. Never skips an allowed minute."""
    step = candidate + _MINUTE
    for tz in tzs:
        local = candidate.astimezone(tz)
        if _in_window(local):
            continue
        day = local.date() if local.time() < WINDOW_START else local.date() + timedelta(days=1)
        opening = datetime.combine(day, WINDOW_START, tzinfo=tz).astimezone(UTC)
        jump = opening - timedelta(hours=2)  # margin for DST and gaps: the scan is exact from here
        if jump > step:
            step = jump.replace(second=0, microsecond=0)
    return step


def in_inconvenient_time(now_utc: datetime, zones: Sequence[str], inconvenient: Sequence[InconvenientTime]) -> bool:
    """True if now falls in a block the consumer marked inconvenient, in any candidate zone (TIME-2 uses this
    to reply once and ask whether the consumer wants to lift the block)."""
    _require_aware(now_utc, "now_utc")
    for block in inconvenient:
        targets = (_zone(block.zone),) if block.zone is not None else _zones(zones)
        if any(block.covers(now_utc.astimezone(tz)) for tz in targets):
            return True
    return False


def reply_allowed_in_session(*, consumer_started: bool) -> bool:
    """TIME-2: a live reply in a session the consumer started is always allowed, whatever the hour and even in
    a time they marked inconvenient (comment 6(b)(1)-2). In an inconvenient time, reply once and you may ask
    whether they want to lift the block (see in_inconvenient_time()).

    Anything the bot starts on its own, including a "reminder in 1 hour" promised inside that session, is
    bot-initiated: it returns False here and must pass allowed_now() / next_allowed() at send time.
    """
    return consumer_started
