"""How often the bot may start contact: FREQ-1 caps on bot-initiated texts and the Reg F 7-in-7 call counter.

Only bot-initiated contact counts. Replies inside a session the consumer started are not contact attempts for
these caps (TIME-2), so callers pass only the times of bot-initiated sends for the debt. These checks do not
look at the clock window: the send gate also needs contact_window.allowed_now() (TIME-1).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from datetime import datetime, time, timedelta, timezone
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from sqlalchemy.orm import Session

from bot import policy_store
from bot.compliance.policy_files import read_yaml

RULE_ID = "FREQ-1"
DEFAULT_CONTACT_RULES_PATH = Path(__file__).resolve().parents[2] / "policy" / "contact_rules.yml"

# FREQ-1: "per 7 days" is a rolling 7 x 24 h window, stricter than seven calendar days.
WINDOW = timedelta(days=7)
# FREQ-1 / 1006.14(b)(2)(i)(B): no call within 7 days after a telephone conversation about the debt. Rolling from
# the conversation, which is stricter than counting the conversation's calendar day as day 1.
AFTER_CONVERSATION = timedelta(days=7)

US_STATES = frozenset(
    "AL AK AZ AR CA CO CT DE DC FL GA HI ID IL IN IA KS KY LA ME MD MA MI MN MS MO MT NE NV NH NJ NM NY NC ND "
    "OH OK OR PA RI SC SD TN TX UT VT VA WA WV WI WY PR VI GU MP AS".split()
)


# The rule book's ceilings (COMPLIANCE.md FREQ-1): an operator may tighten a cap, never loosen it past these.
CEILINGS: Mapping[str, tuple[int, str]] = {
    "sms_per_day": (1, "the rule book's cap is 1 bot-initiated text a day (FREQ-1; comment 14(a)-1.i)"),
    "sms_per_7_days": (3, "the rule book's cap is 3 bot-initiated texts per 7 days (FREQ-1; comment 14(a)-1.i)"),
    "calls_per_7_days": (7, "Reg F presumes more than 7 calls in 7 days is harassment (12 CFR 1006.14(b)(2))"),
}
# State laws stricter than the defaults (FREQ-1): the override may be tightened, never removed or loosened.
STATE_LAWS: Mapping[str, tuple[dict[str, int | bool], str]] = {
    "MA": ({"sms_per_7_days": 2, "calls_per_7_days": 2, "texts_and_calls_share_cap": True},
           "Massachusetts allows at most 2 texts and calls together per 7 days (209 CMR 18.16(1)(d))"),
}


class ContactRulesError(ValueError):
    """policy/contact_rules.yml is wrong; the message names the field."""


@dataclass(frozen=True)
class Limits:
    sms_per_day: int
    sms_per_7_days: int
    calls_per_7_days: int
    texts_and_calls_share_cap: bool
    citation: str


@dataclass(frozen=True)
class ContactRules:
    defaults: Limits
    states: Mapping[str, Limits]  # already merged with the defaults

    def for_state(self, state: str | None) -> Limits:
        """The limits for a two-letter state code (any case); unknown or missing states get the defaults."""
        if state is None:
            return self.defaults
        return self.states.get(state.strip().upper(), self.defaults)


@dataclass(frozen=True)
class CapDecision:
    allowed: bool
    rule_id: str
    reason: str
    # The earliest time the cap allows a send: now_utc when allowed, None when it never will (a cap of 0).
    next_allowed: datetime | None


_INT_FIELDS = ("sms_per_day", "sms_per_7_days", "calls_per_7_days")
_FIELDS = tuple(f.name for f in fields(Limits))


def _limits(raw: Any, where: str, base: Limits | None) -> Limits:
    if not isinstance(raw, dict):
        raise ContactRulesError(f"{where}: must be a mapping of field: value, got {type(raw).__name__}")
    unknown = sorted(set(raw) - set(_FIELDS), key=str)
    if unknown:
        raise ContactRulesError(f"{where}.{unknown[0]}: unknown field (allowed: {', '.join(_FIELDS)})")
    values: dict[str, Any] = {} if base is None else {name: getattr(base, name) for name in _FIELDS}
    for name in _FIELDS:
        if name not in raw:
            if base is None:
                raise ContactRulesError(f"{where}.{name}: missing")
            continue
        value = raw[name]
        if name in _INT_FIELDS:
            # bool is an int in Python; `true` is a typo here, not a count.
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ContactRulesError(f"{where}.{name}: must be a whole number >= 0, got {value!r}")
        elif name == "texts_and_calls_share_cap":
            if not isinstance(value, bool):
                raise ContactRulesError(f"{where}.{name}: must be true or false, got {value!r}")
        elif not isinstance(value, str) or not value.strip():
            raise ContactRulesError(f"{where}.{name}: must be non-empty text, got {value!r}")
        values[name] = value
    return Limits(**values)


def parse_contact_rules(data: Any, source: str = "contact_rules") -> ContactRules:
    """Validate already-parsed YAML. Errors name the field, e.g. "contact_rules.yml: states.MA.sms_per_day"."""
    if not isinstance(data, dict):
        raise ContactRulesError(f"{source}: must be a mapping with version, defaults and states")
    unknown = sorted(set(data) - {"version", "defaults", "states"}, key=str)
    if unknown:
        raise ContactRulesError(f"{source}: {unknown[0]}: unknown top-level field")
    if data.get("version") != 1:
        raise ContactRulesError(f"{source}: version: must be 1, got {data.get('version')!r}")
    if "defaults" not in data:
        raise ContactRulesError(f"{source}: defaults: missing")
    defaults = _limits(data["defaults"], f"{source}: defaults", None)
    raw_states = data.get("states") or {}
    if not isinstance(raw_states, dict):
        raise ContactRulesError(f"{source}: states: must be a mapping of state code to overrides")
    states: dict[str, Limits] = {}
    for code, override in raw_states.items():
        if not isinstance(code, str) or code not in US_STATES:
            raise ContactRulesError(f"{source}: states.{code}: not a two-letter upper-case US state code")
        states[code] = _limits(override, f"{source}: states.{code}", defaults)
    rules = ContactRules(defaults=defaults, states=states)
    problems = _above_the_law(rules, source)
    if problems:
        raise ContactRulesError("\n".join(problems))
    return rules


def _above_the_law(rules: ContactRules, source: str) -> list[str]:
    """Every cap above the rule book's ceiling and every state law the file removes or loosens, one line each."""
    found = []
    for where, limits in (("defaults", rules.defaults), *((f"states.{c}", v) for c, v in rules.states.items())):
        for name, (ceiling, why) in CEILINGS.items():
            if getattr(limits, name) > ceiling:
                found.append(f"{source}: {where}.{name}: {getattr(limits, name)} is above {ceiling}: {why}")
    for code, (law, why) in STATE_LAWS.items():
        limits = rules.for_state(code)
        looser = [f"{name} {getattr(limits, name)}" for name, bound in law.items()
                  if (getattr(limits, name) is not bound if isinstance(bound, bool) else getattr(limits, name) > bound)]
        if looser:
            missing = "is missing" if code not in rules.states else "is looser than the law"
            wanted = ", ".join(f"{n}: {str(b).lower() if isinstance(b, bool) else b}" for n, b in law.items())
            found.append(f"{source}: states.{code}: the legal override {missing} ({', '.join(looser)}): {why}; "
                         f"keep at least {wanted}")
    return found


def current_contact_rules(path: str | Path = DEFAULT_CONTACT_RULES_PATH) -> ContactRules:
    """load_contact_rules, read again only when the file changed (bot/policy_store.from_file)."""
    return policy_store.from_file(path, load_contact_rules)


def active_contact_rules(session: Session) -> ContactRules:
    """The contact rules in force in every process: the newest version saved at /ops, or the shipped file
    (bot/policy_store.py). The outbound gate asks for every message."""
    return policy_store.active(session, "contact_rules", contact_rules_from_text, current_contact_rules)


def contact_rules_from_text(text: str, source: str = "contact_rules.yml") -> ContactRules:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ContactRulesError(f"{source}: not valid YAML: {exc}") from exc
    return parse_contact_rules(data, source)


def load_contact_rules(path: str | Path = DEFAULT_CONTACT_RULES_PATH) -> ContactRules:
    """Load and validate policy/contact_rules.yml (FREQ-1). Raises ContactRulesError naming the bad field."""
    return parse_contact_rules(read_yaml(path, ContactRulesError), Path(path).name)


def _aware(values: Sequence[datetime], name: str) -> list[datetime]:
    for value in values:
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"{name} must hold timezone-aware datetimes, got naive {value!r}")
    return [value.astimezone(timezone.utc) for value in values]


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown IANA time zone: {name!r}") from exc


def _rolling_ok(times: Sequence[datetime], at: datetime, cap: int) -> tuple[bool, datetime]:
    """Fewer than `cap` sends in (at - 7 days, at]? If not, when the oldest one that matters ages out.
    Sends stamped after `at` (clock skew) count too: the safe side."""
    recent = sorted((t for t in times if t > at - WINDOW), reverse=True)
    if len(recent) < cap:
        return True, at
    return False, recent[cap - 1] + WINDOW


def _blocked(reason: str) -> CapDecision:
    return CapDecision(False, RULE_ID, reason, None)


def check_sms_cap(sent_at: Sequence[datetime], now_utc: datetime, zone: str, state: str | None,
                  rules: ContactRules, *, calls_at: Sequence[datetime] = ()) -> CapDecision:
    """FREQ-1: may the bot start another text on this debt at now_utc?

    sent_at: times of earlier bot-initiated texts for the debt (not replies in consumer-started sessions).
    zone: the consumer's IANA zone, which defines their calendar day for the per-day cap.
    calls_at: call attempts on the debt; counted only where the state makes texts and calls share a cap (MA).
    """
    if now_utc.tzinfo is None or now_utc.utcoffset() is None:
        raise ValueError(f"now_utc must be a timezone-aware datetime, got naive {now_utc!r}")
    now = now_utc.astimezone(timezone.utc)
    texts = _aware(sent_at, "sent_at")
    calls = _aware(calls_at, "calls_at")
    tz = _zone(zone)
    limits = rules.for_state(state)
    where = f"{state.strip().upper()} ({limits.citation})" if state and limits is not rules.defaults else "default"
    if limits.sms_per_day == 0 or limits.sms_per_7_days == 0:
        return _blocked(f"FREQ-1: bot-initiated texts are not allowed under the {where} limits")
    weekly = texts + calls if limits.texts_and_calls_share_cap else texts
    what = "texts and calls" if limits.texts_and_calls_share_cap else "texts"

    at, reasons = now, []
    for _ in range(64):  # each pass moves `at` forward; a handful of passes always settles
        local_day = at.astimezone(tz).date()
        today = sum(1 for t in texts if t.astimezone(tz).date() == local_day)
        day_ok = today < limits.sms_per_day
        week_ok, week_next = _rolling_ok(weekly, at, limits.sms_per_7_days)
        if day_ok and week_ok:
            break
        if not reasons:
            if not day_ok:
                reasons.append(f"{today} bot-initiated text(s) already sent on the consumer's local day "
                               f"(limit {limits.sms_per_day}, {where})")
            if not week_ok:
                reasons.append(f"{limits.sms_per_7_days} or more bot-initiated {what} in the last 7 days "
                               f"(limit {limits.sms_per_7_days}, {where})")
        day_next = at
        if not day_ok:  # next local midnight
            day_next = datetime.combine(local_day + timedelta(days=1), time(0), tzinfo=tz).astimezone(timezone.utc)
        at = max(day_next, week_next)
    else:  # pragma: no cover - only reachable with absurd future-dated input
        return _blocked("FREQ-1: could not find a time the caps allow")

    if at == now:
        return CapDecision(True, RULE_ID, f"within the {where} text limits", now)
    return CapDecision(False, RULE_ID, "FREQ-1: " + "; ".join(reasons), at)


def check_call_cap(calls_at: Sequence[datetime], now_utc: datetime, *, rules: ContactRules, state: str | None = None,
                   last_conversation_at: datetime | None = None, texts_at: Sequence[datetime] = ()) -> CapDecision:
    """FREQ-1 / 1006.14(b)(2): may a call be placed on this debt at now_utc?

    Blocked when the calls already placed in the last 7 days reach the cap (Reg F: 7, so the 8th is blocked),
    or within 7 days after a telephone conversation about the debt. The dialer shares this counter: pass every
    call attempt for the debt, from any system. texts_at counts only where texts and calls share a cap (MA).
    """
    if now_utc.tzinfo is None or now_utc.utcoffset() is None:
        raise ValueError(f"now_utc must be a timezone-aware datetime, got naive {now_utc!r}")
    now = now_utc.astimezone(timezone.utc)
    calls = _aware(calls_at, "calls_at")
    texts = _aware(texts_at, "texts_at")
    limits = rules.for_state(state)
    where = f"{state.strip().upper()} ({limits.citation})" if state and limits is not rules.defaults else "default"
    if limits.calls_per_7_days == 0:
        return _blocked(f"FREQ-1: calls are not allowed under the {where} limits")
    counted = calls + texts if limits.texts_and_calls_share_cap else calls
    what = "calls and texts" if limits.texts_and_calls_share_cap else "calls"

    reasons, earliest = [], now
    ok, when = _rolling_ok(counted, now, limits.calls_per_7_days)
    if not ok:
        reasons.append(f"{limits.calls_per_7_days} or more {what} in the last 7 days "
                       f"(limit {limits.calls_per_7_days}, {where})")
        earliest = max(earliest, when)
    if last_conversation_at is not None:
        (conversation,) = _aware((last_conversation_at,), "last_conversation_at")
        if conversation > now - AFTER_CONVERSATION:
            reasons.append("a telephone conversation about this debt took place in the last 7 days "
                           "(1006.14(b)(2)(i)(B))")
            earliest = max(earliest, conversation + AFTER_CONVERSATION)
    if not reasons:
        return CapDecision(True, RULE_ID, f"within the {where} call limits", now)
    return CapDecision(False, RULE_ID, "FREQ-1: " + "; ".join(reasons), earliest)
