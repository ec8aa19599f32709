"""TIME-1: a debtor who says when (or where) not to reach them, in their own words, English or Spanish.

"please dont text me before noon or after 6pm, I work nights" is a designation of inconvenient times
(1006.6(b)(1)): read() turns it into the blocks contact_window applies (the outbound gate reads them from the
contact preference), and answer() stores them and says so. The words decide, whatever the NLU guesses, and only
a request not to be contacted that names a time, a day or a place counts: "don't text me" alone is OPT-2's, left to
the dialogue. A place ("don't call me at work") cannot be kept by the gate, so it is noted for a person."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, time

from sqlalchemy.orm import Session

from bot import audit, contact_preferences, handoff, wording
from bot.compliance import sensitive_requests
from bot.compliance.contact_window import InconvenientTime
from bot.db.models import Conversation, Debtor

MIDNIGHT = time(0, 0)

# A request not to be reached (not a question about times): "don't text me", "no me escriba", "only text me".
_ASK = re.compile(
    r"\b(?:do\s*n[o']?t|dont|never|stop|please\s+no|no\s+more)\s+(?:\w+\s+)?(?:text|call|contact|message|email|"
    r"write|reach|bother|ring|phone)\w*"
    r"|\b(?:no|no\s+more|not)\s+(?:texts?|calls?|messages?|emails?)\b"
    r"|\b(?:only|just)\s+(?:text|call|contact|message|reach)\w*"
    r"|\bno\s+(?:me\s+)?(?:escr[ií]b|ll[aá]m|m[aá]nd|cont[aá]ct|mol[eé]st|env[ií])\w*"
    r"|\bs[oó]lo\s+(?:me\s+)?(?:escr[ií]b|ll[aá]m|cont[aá]ct)\w*"
    r"|\b(?:bad|inconvenient|not\s+a\s+good)\s+times?\b",
    re.IGNORECASE)

_HOUR = (r"(?P<{n}>noon|midday|midnight|mediod[ií]a|medianoche|\d{{1,2}}(?::\d{{2}})?"
         r"(?:\s*(?:a\.?\s?m\.?|p\.?\s?m\.?))?(?:\s+de\s+la\s+(?:mañana|manana|tarde|noche))?)")


def _hour(name: str) -> str:
    return _HOUR.format(n=name)


_ART = r"(?:(?:the|las?|el)\s+)?"
_BETWEEN = re.compile(rf"\b(?:between|from|entre|desde|de)\s+{_ART}{_hour('a')}\s*(?:and|to|till|until|-|–|y|a|"
                      rf"hasta)\s+{_ART}{_hour('b')}", re.IGNORECASE)
_BEFORE = re.compile(rf"\b(?:before|earlier\s+than|antes\s+de(?:l)?)\s+{_ART}{_hour('a')}", re.IGNORECASE)
_AFTER = re.compile(rf"\b(?:after|later\s+than|past|despu[eé]s\s+de(?:l)?)\s+{_ART}{_hour('a')}", re.IGNORECASE)
# Parts of the day, as people say them (start, end); the evening runs to midnight.
_PARTS = (
    (re.compile(r"\b(?:mornings?|in\s+the\s+morning|(?:por|en)\s+las?\s+mañanas?|(?:por|en)\s+las?\s+mananas?)\b",
                re.IGNORECASE), time(0, 0), time(12, 0)),
    (re.compile(r"\b(?:afternoons?|in\s+the\s+afternoon|(?:por|en)\s+las?\s+tardes?)\b", re.IGNORECASE),
     time(12, 0), time(18, 0)),
    (re.compile(r"\b(?:evenings?|in\s+the\s+evening|at\s+night|nights|(?:por|en)\s+las?\s+noches?)\b",
                re.IGNORECASE), time(18, 0), MIDNIGHT),
)
_DAYS = (
    (r"mondays?|lunes", 0), (r"tuesdays?|martes", 1), (r"wednesdays?|mi[eé]rcoles", 2), (r"thursdays?|jueves", 3),
    (r"fridays?|viernes", 4), (r"saturdays?|s[aá]bados?", 5), (r"sundays?|domingos?", 6),
)
_WEEKEND = re.compile(r"\b(?:week\s*ends?|fines?\s+de\s+semana)\b", re.IGNORECASE)
_PLACE = re.compile(r"\b(?:at|to)\s+(?:my\s+)?(?:work|job|office|workplace)\b|\bwhile\s+i'?m\s+(?:at\s+)?work"
                    r"|\ben\s+(?:el|mi)\s+(?:trabajo|oficina)\b", re.IGNORECASE)
# "I work nights" says why, not when: a part of the day counts only as the object of the request, so a reason after
# a comma ("..., I work nights") adds nothing.
_REASON = re.compile(r"\b(?:i\s+work|trabajo|because|porque|since|ya\s+que)\b.*$", re.IGNORECASE)


# "I got no texts after 6pm" reports, it asks nothing.
_REPORT = re.compile(r"\b(?:got|get|gotten|received?|had|have|haven'?t|didn'?t|never\s+got|recib[ií]\w*)\s+"
                     r"(?:any\s+)?(?:no|not)?\s*(?:texts?|calls?|messages?|emails?|mensajes?|llamadas?)\b",
                     re.IGNORECASE)


@dataclass(frozen=True)
class Reading:
    """What the debtor asked: the blocks (local time, every day unless a day is named) and whether a place was
    named (work), which only a person can honour."""

    blocks: tuple[InconvenientTime, ...]
    place: bool = False


def parse_hour(said: str) -> time | None:
    """"6pm" 18:00, "6:30 p.m." 18:30, "noon" 12:00, "9" 09:00, "6" 18:00 (no one is reached at 6 a.m. anyway: the
    window is 08:00-20:59), "6 de la tarde" 18:00, "18:00" 18:00. None for what is no time of day."""
    text = said.strip().lower()
    if text in ("noon", "midday", "mediodía", "mediodia"):
        return time(12, 0)
    if text in ("midnight", "medianoche"):
        return MIDNIGHT
    match = re.fullmatch(r"(\d{1,2})(?::(\d{2}))?\s*(a\.?\s?m\.?|p\.?\s?m\.?)?(?:\s+de\s+la\s+(mañana|manana|tarde|"
                         r"noche))?", text)
    if match is None:
        return None
    hour, minute = int(match.group(1)), int(match.group(2) or 0)
    if hour > 23 or minute > 59:
        return None
    meridiem = (match.group(3) or "")[:1] or {"tarde": "p", "noche": "p", "mañana": "a", "manana": "a"}.get(
        match.group(4) or "", "")
    if meridiem and not 1 <= hour <= 12:
        return None
    if meridiem == "p" and hour < 12:
        hour += 12
    elif meridiem == "a" and hour == 12:
        hour = 0
    elif not meridiem and 1 <= hour <= 7:
        hour += 12  # "after 6", "antes de las 5": the afternoon
    return time(hour, minute)


def read(text: str) -> Reading | None:
    """The times (and place) a request not to be contacted names; None when the words ask nothing of the kind."""
    ask = _ASK.search(text)
    if ask is None or _REPORT.search(text[:ask.end()]):
        return None
    said = _REASON.sub("", text[ask.start():])
    blocks: list[InconvenientTime] = []
    taken: list[tuple[int, int]] = []

    def add(start: time | None, end: time | None, span: tuple[int, int]) -> None:
        if start is not None and end is not None and start != end:
            blocks.append(InconvenientTime(None, start, end))
            taken.append(span)

    for match in _BETWEEN.finditer(said):
        add(parse_hour(match.group("a")), parse_hour(match.group("b")), match.span())
    for match in _BEFORE.finditer(said):
        if not any(a <= match.start() < b for a, b in taken):
            add(MIDNIGHT, parse_hour(match.group("a")), match.span())
    for match in _AFTER.finditer(said):
        if not any(a <= match.start() < b for a, b in taken):
            add(parse_hour(match.group("a")), MIDNIGHT, match.span())
    if not blocks:
        for pattern, start, end in _PARTS:
            if pattern.search(said):
                add(start, end, (0, 0))
    if re.match(r"(?:only|just|s[oó]lo)\b", ask.group(0), re.IGNORECASE):
        blocks = _outside(blocks)  # "only text me between 1 and 5": every other hour is the inconvenient time
    for pattern, weekday in _DAYS:
        if re.search(rf"\b(?:on\s+|los\s+|el\s+)?(?:{pattern})\b", said, re.IGNORECASE):
            blocks.append(InconvenientTime.all_day(weekday))
    if _WEEKEND.search(said):
        blocks += [InconvenientTime.all_day(5), InconvenientTime.all_day(6)]
    place = bool(_PLACE.search(said))
    if not blocks and not place:
        return None
    return Reading(tuple(dict.fromkeys(blocks)), place)


def _outside(blocks: list[InconvenientTime]) -> list[InconvenientTime]:
    """The hours of the day outside the times named (a named day stays as it is)."""
    hours = [b for b in blocks if b.start != b.end]
    if len(hours) != 1:
        return blocks  # several windows to be reached in: too easy to get wrong; kept as said
    block = hours[0]
    outside = [InconvenientTime(None, MIDNIGHT, block.start)] if block.start != MIDNIGHT else []
    outside += [InconvenientTime(None, block.end, MIDNIGHT)] if block.end != MIDNIGHT else []
    return [b for b in blocks if b.start == b.end] + outside


def as_stored(block: InconvenientTime, marked_at: datetime) -> dict[str, object]:
    """The contact preference's form (outbound_gate reads it), with when it was said (TIME-2 counts from then)."""
    return {"weekday": block.weekday, "start": block.start.strftime("%H:%M"), "end": block.end.strftime("%H:%M"),
            "zone": block.zone, "marked_at": marked_at.isoformat()}


def _clock(value: time, language: str) -> str:
    if language == wording.SPANISH:
        return value.strftime("%H:%M")
    if value == time(12, 0):
        return "noon"
    hour = value.hour % 12 or 12
    minutes = f":{value.minute:02d}" if value.minute else ""
    return f"{hour}{minutes} {'PM' if value.hour >= 12 else 'AM'}"


def describe(blocks: tuple[InconvenientTime, ...], language: str) -> str:
    """"before noon or after 6 PM", "antes de las 12:00 ni después de las 18:00", "on Sunday"."""
    parts = []
    for block in blocks:
        if block.start == block.end:
            parts.append(wording.say("inconvenient_day", language, day=wording.say(f"day_{block.weekday}", language)))
        elif block.start == MIDNIGHT:
            parts.append(wording.say("inconvenient_before", language, time=_clock(block.end, language)))
        elif block.end == MIDNIGHT:
            parts.append(wording.say("inconvenient_after", language, time=_clock(block.start, language)))
        else:
            parts.append(wording.say("inconvenient_between", language, start=_clock(block.start, language),
                                     end=_clock(block.end, language)))
    return wording.say("inconvenient_and", language).join(parts)


def answer(session: Session, conversation: Conversation, text: str, now: datetime, speaks: str,
           collector_address: str = "") -> list[str] | None:
    """TIME-1: store the times this message marks inconvenient (on this address and, once the debtor is verified,
    on their phone and email too: the time is theirs, whatever the channel), audit it and say so. A place is noted
    for a person (audited and queued for one). None when the message marks nothing."""
    reading = read(text)
    if reading is None:
        return None
    if not reading.blocks:
        # A place alone: "stop contacting me, and don't call me at work" is a cease (CEASE-1), left to its rule;
        # "please don't call me at work" is noted for a person with the one place rule (1006.6(b)(3)).
        if reading.place and not sensitive_requests.asks_to_cease(text):
            return sensitive_requests.note_place_restriction(session, conversation.id, text, collector_address, now)
        return None
    replies: list[str] = []
    if reading.blocks:
        entries = [as_stored(block, now) for block in reading.blocks]
        addresses = {(conversation.channel, conversation.external_id)}
        debtor = session.get(Debtor, conversation.debtor_id) if conversation.verified_at is not None \
            and conversation.debtor_id else None
        if debtor is not None:
            addresses |= {(channel, address) for channel, address in (("sms", debtor.phone), ("email", debtor.email))
                          if address}
        for channel, address in sorted(addresses):
            contact_preferences.mark_inconvenient_times(session, channel, address, entries,
                                                        conversation_id=conversation.id, now=now)
        replies.append(wording.say("inconvenient_marked", speaks, times=describe(reading.blocks, speaks)))
    if reading.place:
        # 1006.6(b)(1) covers places too; nothing here can tell where a phone is, so a person keeps it.
        audit.record(session, "inconvenient_place_noted", rule_id="TIME-1", conversation_id=conversation.id,
                     actor="debtor", at=now, detail={"place": "work"})
        handoff.request(session, conversation.id, "contact_preference", rule_id="TIME-1",
                        details={"inconvenient_place": "work"}, now=now)
        replies.append(wording.say("inconvenient_place", speaks))
    return replies
