"""When people are there to pick up a handoff (AGENT_HOURS), and the callback times offered outside them (HO-1).

Format: `mon-fri 09:00-17:00 America/New_York`; several spans separated by commas share the zone at the end
(`mon-fri 09:00-17:00, sat 10:00-14:00 America/Chicago`). Empty or `always`: someone is always there (the demo).
Every callback time offered is one a person may contact the debtor at (TIME-1: 08:00-20:59 in every zone they
may be in, and not in a time they marked inconvenient), on the agents' clock, or on the debtor's own when there are
no hours to offer.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot import wording
from bot.compliance import contact_window
from bot.wording import formats

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# How debtors say US zones (VOICE.md: everyday words); other zones are shown by their IANA name.
ZONE_NAMES = {
    "America/New_York": "Eastern time", "America/Detroit": "Eastern time", "America/Chicago": "Central time",
    "America/Denver": "Mountain time", "America/Phoenix": "Arizona time", "America/Los_Angeles": "Pacific time",
    "America/Anchorage": "Alaska time", "Pacific/Honolulu": "Hawaii time", "UTC": "UTC",
}
# A callback is offered as a block of at most this long, so "9 AM to 1 PM" rather than a whole day.
MAX_BLOCK = timedelta(hours=4)
# With AGENT_HOURS "always", callback times are looked for this far ahead (in the debtor's daytime).
CONTACT_DAYS_AHEAD = timedelta(days=3)

_SPAN = re.compile(r"^(?P<days>[a-z]{3}(?:\s*-\s*[a-z]{3})?(?:\s*/\s*[a-z]{3}(?:\s*-\s*[a-z]{3})?)*)\s+"
                   r"(?P<start>\d{1,2}:\d{2})\s*-\s*(?P<end>\d{1,2}:\d{2})$")


class AgentHoursError(ValueError):
    """AGENT_HOURS cannot be read; the message says what is wrong."""


@dataclass(frozen=True)
class Span:
    days: frozenset[int]  # 0 = Monday
    start: time
    end: time


@dataclass(frozen=True)
class CallbackWindow:
    start: datetime
    end: datetime
    label: str  # "Monday, March 9, 9 AM to 1 PM Eastern time"


def _days(text: str) -> frozenset[int]:
    found: set[int] = set()
    for part in text.split("/"):
        ends = [p.strip() for p in part.split("-")]
        if any(e not in DAYS for e in ends):
            raise AgentHoursError(f"AGENT_HOURS: unknown day in {part.strip()!r} (use mon..sun)")
        first, last = DAYS.index(ends[0]), DAYS.index(ends[-1])
        day = first
        while True:
            found.add(day)
            if day == last:
                break
            day = (day + 1) % 7
    return frozenset(found)


def _clock(text: str) -> time:
    hours, minutes = (int(p) for p in text.split(":"))
    if hours == 24 and minutes == 0:
        return time(23, 59, 59)
    if not (0 <= hours < 24 and 0 <= minutes < 60):
        raise AgentHoursError(f"AGENT_HOURS: {text!r} is not a time of day")
    return time(hours, minutes)


def clock_label(moment: time, language: str | None = None) -> str:
    """9 AM, 12:30 PM; "9 a.m." in Spanish (VOICE.md: everyday words)."""
    hour = moment.hour % 12 or 12
    suffix = ("AM", "PM") if language != wording.SPANISH else ("a.m.", "p.m.")
    suffix_now = suffix[moment.hour >= 12]
    return f"{hour} {suffix_now}" if moment.minute == 0 else f"{hour}:{moment.minute:02d} {suffix_now}"


def date_label(day: date, language: str | None = None) -> str:
    """Monday, March 9 / lunes, 9 de marzo (VOICE.md: dates are spelled out)."""
    return formats.long_date(day, language, year=False)


def _zone_label(zone: ZoneInfo, language: str | None) -> str:
    if language == wording.SPANISH and zone.key in ZONE_NAMES:
        return wording.say(f"zone_{zone.key.split('/')[-1].lower()}", language)
    return ZONE_NAMES.get(zone.key, zone.key)


@dataclass(frozen=True)
class AgentHours:
    spans: tuple[Span, ...]
    zone: ZoneInfo

    @classmethod
    def parse(cls, spec: str | None) -> AgentHours:
        text = (spec or "").strip()
        if not text or text.lower() == "always":
            return cls((), ZoneInfo("UTC"))
        head, _, zone_name = text.rpartition(" ")
        if "/" not in zone_name and zone_name != "UTC":
            raise AgentHoursError(f"AGENT_HOURS: end with a time zone such as America/New_York, got {text!r}")
        try:
            zone = ZoneInfo(zone_name)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise AgentHoursError(f"AGENT_HOURS: unknown time zone {zone_name!r}") from exc
        spans = []
        for part in head.lower().split(","):
            match = _SPAN.match(part.strip())
            if not match:
                raise AgentHoursError(f"AGENT_HOURS: cannot read {part.strip()!r}; write e.g. 'mon-fri 09:00-17:00'")
            start, end = _clock(match["start"]), _clock(match["end"])
            if end <= start:
                raise AgentHoursError(f"AGENT_HOURS: {part.strip()!r} ends before it starts")
            spans.append(Span(_days(match["days"]), start, end))
        if not spans:
            raise AgentHoursError("AGENT_HOURS: no opening hours given")
        return cls(tuple(spans), zone)

    @property
    def always(self) -> bool:
        return not self.spans

    @property
    def zone_label(self) -> str:
        return ZONE_NAMES.get(self.zone.key, self.zone.key)

    def is_open(self, now: datetime) -> bool:
        if self.always:
            return True
        local = now.astimezone(self.zone)
        return any(local.weekday() in s.days and s.start <= local.time() < s.end for s in self.spans)

    def _openings(self, now: datetime, days_ahead: int = 14) -> list[tuple[datetime, datetime]]:
        """The open periods from now on, in order (clipped to start at now)."""
        local = now.astimezone(self.zone)
        found = []
        for offset in range(days_ahead):
            day = local.date() + timedelta(days=offset)
            for span in sorted(self.spans, key=lambda s: s.start):
                if day.weekday() not in span.days:
                    continue
                start = datetime.combine(day, span.start, self.zone)
                end = datetime.combine(day, span.end, self.zone)
                if end > local:
                    found.append((max(start, local), end))
        return found

    def callback_windows(self, now: datetime, count: int = 3, language: str | None = None,
                         zones: Sequence[str] = (),
                         inconvenient: Sequence[contact_window.InconvenientTime] = ()) -> list[CallbackWindow]:
        """The next few blocks a person could get back to the debtor in (HO-1: a callback): within opening hours
        (none with AGENT_HOURS "always": then the next few days), and always only when a person may contact the
        debtor (TIME-1, contact_window.allowed_periods: 08:00-20:59 in every zone in `zones` and not in a time they
        marked inconvenient, `inconvenient`). No zones given, none offered: nobody knows whose clock to keep."""
        windows: list[CallbackWindow] = []
        if not zones:
            return windows
        openings = [(now, now + CONTACT_DAYS_AHEAD)] if self.always else self._openings(now)
        label_zone = ZoneInfo(zones[0]) if self.always else self.zone
        for opening_start, opening_end in openings:
            for allowed_start, allowed_end in contact_window.allowed_periods(opening_start, opening_end, zones,
                                                                             inconvenient):
                start, end = allowed_start.astimezone(label_zone), allowed_end.astimezone(label_zone)
                if start != start.replace(minute=0, second=0, microsecond=0):
                    # Mid-hour start: the block starts at the next whole hour, as a person would say it.
                    start = start.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
                while start < end and len(windows) < count:
                    block_end = min(end, start + MAX_BLOCK)
                    if block_end - start >= timedelta(minutes=30):
                        label = wording.say("callback_label", language, date=date_label(start.date(), language),
                                            start=clock_label(start.time(), language),
                                            end=clock_label(block_end.time(), language),
                                            zone=_zone_label(label_zone, language))
                        windows.append(CallbackWindow(start, block_end, label))
                    start = block_end
                if len(windows) >= count:
                    return windows
        return windows

    def describe(self, language: str | None = None) -> str:
        """Monday to Friday, 9 AM to 5 PM Eastern time / de lunes a viernes, de 9 a.m. a 5 p.m., hora del Este."""
        if self.always:
            return wording.say("hours_always", language)
        names = tuple(formats.day_name(n, language) for n in range(7))
        parts = []
        for span in self.spans:
            days = sorted(span.days)
            if len(days) > 2 and days == list(range(days[0], days[-1] + 1)):
                day_text = wording.say("hours_day_range", language, first=names[days[0]], last=names[days[-1]])
            else:
                day_text = ", ".join(names[d] for d in days)
            parts.append(wording.say("hours_span", language, days=day_text, start=clock_label(span.start, language),
                                     end=clock_label(span.end, language)))
        return wording.say("hours_zone", language, spans="; ".join(parts), zone=_zone_label(self.zone, language))
