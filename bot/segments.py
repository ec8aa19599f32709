"""Segments as policy (policy/segments.yml): which segment each account is in, why, and its treatment.

An account is in the first segment, in file order, whose conditions it meets (age of the receivable, balance,
payment history, hold status, channel reachability); the last segment takes everyone else. The treatment says
which channels campaigns may use, how many campaign messages a week (never above the rule book's FREQ-1 cap, which
the outbox applies anyway) and which plan-policy variant the segment gets. Plain Python over the session: no HTTP."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot import contact_preferences, policy_store
from bot.compliance import frequency
from bot.compliance.holds import hold_rules
from bot.compliance.policy_files import read_yaml
from bot.db.models import Account, Debtor, Installment, Payment, Plan
from bot.money import format_cents, parse_dollars
from bot.plans import policy as plan_policy
from bot.records.export import csv_cell

DEFAULT_SEGMENTS_PATH = Path(__file__).resolve().parents[1] / "policy" / "segments.yml"
CHANNELS = ("sms", "email")
HISTORIES = ("paying", "broken", "never_paid")
REACHABLE = (*CHANNELS, "none")
CONDITIONS = ("hold", "reachable", "payment_history", "balance", "age_days")
MAX_PRIORITY = 100
_NAME = re.compile(r"^[a-z][a-z0-9_]{0,59}$")


class SegmentsError(ValueError):
    """The segments file is unusable; the message lists every problem, one per line, each with its field path."""

    def __init__(self, source: str, problems: list[str]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(f"{source}: {p}" for p in self.problems))


@dataclass(frozen=True)
class Treatment:
    channels: tuple[str, ...]
    per_7_days: int
    plan_variant: str


@dataclass(frozen=True)
class Segment:
    name: str
    label: str
    treatment: Treatment
    hold: bool | None = None
    reachable: tuple[str, ...] = ()
    payment_history: tuple[str, ...] = ()
    balance: tuple[int | None, int | None] = (None, None)  # cents, inclusive
    age_days: tuple[int | None, int | None] = (None, None)
    priority: int = 0  # higher first: outreach and the agents' queue order by it when no propensity model is stored

    def check(self, facts: AccountFacts) -> tuple[bool, list[str]]:
        """Whether the account meets every condition, and each condition said with the account's own value."""
        said: list[str] = []
        if self.hold is not None:
            held = facts.hold_rule is not None
            if held != self.hold:
                return False, said
            said.append(f"on hold ({facts.hold_rule})" if held else "not on hold")
        if self.reachable:
            reach = facts.reachable or ("none",)
            if not set(reach) & set(self.reachable):
                return False, said
            said.append("reachable by " + " and ".join(facts.reachable) if facts.reachable
                        else "no channel to reach them")
        if self.payment_history:
            if facts.payment_history not in self.payment_history:
                return False, said
            said.append({"paying": "has paid, nothing missed", "broken": "missed a plan payment",
                         "never_paid": "no payment yet"}[facts.payment_history])
        low, high = self.balance
        if low is not None or high is not None:
            if (low is not None and facts.balance_cents < low) or (high is not None and facts.balance_cents > high):
                return False, said
            said.append(f"balance {format_cents(facts.balance_cents)}{_bounds_words(low, high, money=True)}")
        low, high = self.age_days
        if low is not None or high is not None:
            if (low is not None and facts.age_days < low) or (high is not None and facts.age_days > high):
                return False, said
            said.append(f"{facts.age_days} days old{_bounds_words(low, high, money=False)}")
        return True, said


def _bounds_words(low: int | None, high: int | None, *, money: bool) -> str:
    show = (lambda v: format_cents(v)) if money else str
    if low is not None and high is not None:
        return f" (between {show(low)} and {show(high)})"
    return f" (at least {show(low)})" if low is not None else f" (at most {show(high)})"


@dataclass(frozen=True)
class SegmentBook:
    segments: tuple[Segment, ...]
    plan_variants: dict[str, dict[str, Any]]

    def by_name(self, name: str) -> Segment | None:
        return next((s for s in self.segments if s.name == name), None)


@dataclass(frozen=True)
class AccountFacts:
    """What segmentation looks at, for one account."""

    account_id: str
    account_ref: str
    creditor: str
    balance_cents: int
    age_days: int
    payment_history: str
    hold_rule: str | None
    reachable: tuple[str, ...]
    addresses: dict[str, str] = field(default_factory=dict)  # channel -> address


@dataclass(frozen=True)
class Assignment:
    facts: AccountFacts
    segment: Segment
    reason: str


# --- the file ------------------------------------------------------------------------------------------------------

def load_segments(path: str | Path = DEFAULT_SEGMENTS_PATH,
                  contact_rules_path: str | Path = frequency.DEFAULT_CONTACT_RULES_PATH) -> SegmentBook:
    """Read and check policy/segments.yml. Raises SegmentsError listing every problem with its field path."""
    source = Path(path).name
    try:
        data = _read(path, source)
    except OSError as exc:
        raise SegmentsError(source, [f"cannot read the file: {exc.strerror or exc}"]) from exc
    try:
        cap = frequency.load_contact_rules(contact_rules_path).defaults.sms_per_7_days
    except (frequency.ContactRulesError, OSError):
        cap = None  # check-policies reports the contact rules' own problem; segments are checked without the cap
    return parse_segments(data, source, cap)


def _read(path: str | Path, source: str) -> Any:
    class _Error(Exception):
        pass

    try:
        return read_yaml(path, _Error)
    except _Error as exc:
        raise SegmentsError(source, [str(exc).removeprefix(f"{source}: ")]) from exc


def parse_segments(data: object, source: str = "<segments>", cap_per_7_days: int | None = None) -> SegmentBook:
    """Check already-parsed segments data and build the book. Raises SegmentsError."""
    problems: list[str] = []
    if not isinstance(data, dict):
        raise SegmentsError(source, ["must be a mapping with version, plan_variants and segments"])
    for key in data:
        if key not in ("version", "plan_variants", "segments"):
            problems.append(f"{key}: unknown top-level field")
    if data.get("version") != 1:
        problems.append(f"version: must be 1, got {data.get('version')!r}")
    variants = data.get("plan_variants")
    if not isinstance(variants, dict) or not variants:
        problems.append("plan_variants: must be a mapping of variant name to plan-policy fields")
        variants = {}
    for name, fields in variants.items():
        if not isinstance(name, str) or not _NAME.match(name):
            problems.append(f"plan_variants.{name}: a name is lower-case letters, digits and _")
        problems += plan_policy.check_override(fields if fields is not None else {}, f"plan_variants.{name}")
    raw_segments = data.get("segments")
    if not isinstance(raw_segments, list) or not raw_segments:
        problems.append("segments: must be a list of at least one segment")
        raw_segments = []
    segments: list[Segment] = []
    seen: set[str] = set()
    for i, raw in enumerate(raw_segments):
        where = _where(i, raw)
        built = _segment(raw, where, problems, set(variants), cap_per_7_days)
        if built is None:
            continue
        if built.name in seen:
            problems.append(f"{where}.name: {built.name!r} is used twice")
        seen.add(built.name)
        segments.append(built)
    if raw_segments and isinstance(raw_segments[-1], dict) and raw_segments[-1].get("when"):
        last = _where(len(raw_segments) - 1, raw_segments[-1])
        problems.append(f"{last}.when: the last segment must have an empty `when` (everyone else), so every account "
                        "has a segment")
    if problems:
        raise SegmentsError(source, problems)
    return SegmentBook(tuple(segments), {k: dict(v or {}) for k, v in variants.items()})


def _where(index: int, raw: object) -> str:
    """A segment as the person editing the file finds it: counted from 1, with its name when it has one."""
    name = raw.get("name") if isinstance(raw, dict) else None
    return f"segment {index + 1}" + (f" ({name})" if isinstance(name, str) and name else "")


def _segment(raw: object, where: str, problems: list[str], variants: set[str],
             cap: int | None) -> Segment | None:
    if not isinstance(raw, dict):
        problems.append(f"{where}: must be a mapping with name, label, when and treatment")
        return None
    before = len(problems)
    for key in raw:
        if key not in ("name", "label", "priority", "when", "treatment"):
            problems.append(f"{where}.{key}: unknown field")
    name = raw.get("name")
    if not isinstance(name, str) or not _NAME.match(name):
        problems.append(f"{where}.name: lower-case letters, digits and _, starting with a letter")
    label = raw.get("label", name)
    if not isinstance(label, str) or not label.strip() or len(label) > 100:
        problems.append(f"{where}.label: a short text (1-100 characters)")
    priority = raw.get("priority")
    if not isinstance(priority, int) or isinstance(priority, bool) or not 0 <= priority <= MAX_PRIORITY:
        problems.append(f"{where}.priority: a whole number from 0 to {MAX_PRIORITY} (higher is contacted first, and "
                        "served first among equals in the agents' queue, while no propensity model is stored)")
    when = raw.get("when") or {}
    if not isinstance(when, dict):
        problems.append(f"{where}.when: must be a mapping of conditions")
        when = {}
    for key in when:
        if key not in CONDITIONS:
            problems.append(f"{where}.when.{key}: unknown condition; expected one of {', '.join(CONDITIONS)}")
    hold = when.get("hold")
    if hold is not None and not isinstance(hold, bool):
        problems.append(f"{where}.when.hold: true or false")
    reachable = _choices(when.get("reachable"), REACHABLE, f"{where}.when.reachable", problems)
    history = _choices(when.get("payment_history"), HISTORIES, f"{where}.when.payment_history", problems)
    balance = _range(when.get("balance"), f"{where}.when.balance", problems, money=True)
    age = _range(when.get("age_days"), f"{where}.when.age_days", problems, money=False)
    treatment = _treatment(raw.get("treatment"), f"{where}.treatment", problems, variants, cap)
    if hold is True and treatment is not None and treatment.channels:
        # A held account (dispute, cease, hardship) gets no outreach at all; the gate blocks it anyway, but a policy
        # that says otherwise misleads whoever reads it.
        problems.append(f"{where}.treatment.channels: a segment of held accounts (open dispute DSP-2, cease CEASE-1, "
                        "hardship or vulnerability pause VUL-2) gets no outreach: channels must be []")
    if len(problems) > before or treatment is None:
        return None
    return Segment(name, label.strip(), treatment, hold, reachable, history, balance, age, priority)


def _choices(value: object, allowed: Sequence[str], where: str, problems: list[str]) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not value or any(v not in allowed for v in value):
        problems.append(f"{where}: a list of {', '.join(allowed)}")
        return ()
    return tuple(value)


def _range(value: object, where: str, problems: list[str], *, money: bool) -> tuple[int | None, int | None]:
    if value is None:
        return (None, None)
    if not isinstance(value, dict) or not value or set(value) - {"min", "max"}:
        problems.append(f"{where}: a mapping with min and/or max")
        return (None, None)
    bounds: list[int | None] = []
    for key in ("min", "max"):
        raw = value.get(key)
        if raw is None:
            bounds.append(None)
            continue
        try:
            number = parse_dollars(str(raw)) if money else int(raw) if isinstance(raw, int) else None
        except ValueError:
            number = None
        if number is None or number < 0 or isinstance(raw, bool):
            problems.append(f"{where}.{key}: {'an amount in dollars' if money else 'a whole number of days'}, "
                            "0 or more")
            return (None, None)
        bounds.append(number)
    low, high = bounds
    if low is not None and high is not None and low > high:
        problems.append(f"{where}: min is above max")
    return (low, high)


def _treatment(raw: object, where: str, problems: list[str], variants: set[str],
               cap: int | None) -> Treatment | None:
    if not isinstance(raw, dict):
        problems.append(f"{where}: must be a mapping with channels, per_7_days and plan_variant")
        return None
    for key in raw:
        if key not in ("channels", "per_7_days", "plan_variant"):
            problems.append(f"{where}.{key}: unknown field")
    channels = raw.get("channels")
    if not isinstance(channels, list) or any(c not in CHANNELS for c in channels) or len(set(channels)) != len(
            channels):
        problems.append(f"{where}.channels: a list of {', '.join(CHANNELS)} (or [] for no outreach)")
        channels = []
    per_week = raw.get("per_7_days")
    if not isinstance(per_week, int) or isinstance(per_week, bool) or per_week < 0:
        problems.append(f"{where}.per_7_days: a whole number, 0 or more")
        per_week = 0
    elif cap is not None and per_week > cap:
        messages = "message" if cap == 1 else "messages"
        problems.append(f"{where}.per_7_days: {per_week} is above the rule book's cap of {cap} {messages} per 7 days "
                        "(contact_rules.yml defaults.sms_per_7_days, FREQ-1)")
    variant = raw.get("plan_variant")
    if variant not in variants:
        problems.append(f"{where}.plan_variant: one of the plan_variants ({', '.join(sorted(variants)) or 'none'})")
    return Treatment(tuple(channels), per_week, str(variant))


def current_segments(path: str | Path = DEFAULT_SEGMENTS_PATH) -> SegmentBook:
    """load_segments, read again only when the file changed (bot/policy_store.from_file)."""
    return policy_store.from_file(path, load_segments)


def segments_from_text(text: str, source: str = "segments.yml") -> SegmentBook:
    """Parse and check a segments document's text (the FREQ-1 cap is checked when it is saved: bot/policy_edits)."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise SegmentsError(source, [f"not valid YAML: {exc}"]) from exc
    return parse_segments(data, source)


def active_segments(session: Session) -> SegmentBook:
    """The segments in force in every process: the newest version saved at /ops, or the shipped file
    (bot/policy_store.py). Raises SegmentsError when the shipped file is unusable."""
    return policy_store.active(session, "segments", segments_from_text, current_segments)


def plan_variant_for(session: Session, account: Account, now: datetime | None = None) -> dict[str, Any]:
    """The plan-policy fields of the variant the account's segment gets ({} when segments.yml cannot be read: the
    creditor's policy as it is; check-policies and `run` report the file)."""
    try:
        book = active_segments(session)
    except (SegmentsError, OSError):
        return {}
    debtor = session.get(Debtor, account.debtor_id)
    facts = facts_for(session, [(account, debtor)], now or datetime.now(timezone.utc))[0]
    return dict(book.plan_variants.get(assign(book, facts).segment.treatment.plan_variant) or {})


def settlement_offer_for(session: Session, account: Account) -> plan_policy.SettlementOffer | None:
    """The lump-sum settlement the account's creditor allows now (its policy with the account's segment variant),
    or None. The account's age is not known, so only offers without an age condition apply, as in the plan engine.
    The one reading of it: what the bot offers (bot/payments) and the most a person may offer (the outbound gate,
    TONE-2)."""
    return plan_policy.active_policy(session).for_creditor(account.creditor, plan_variant_for(session, account)) \
        .settlement_offer(account.balance_cents, None)


# --- the accounts --------------------------------------------------------------------------------------------------

def age_days(account: Account, now: datetime) -> int:
    """Age of the receivable: from its itemization date (charge-off or last statement) or else from placement."""
    start: date = account.itemization_date or account.created_at.astimezone(timezone.utc).date()
    return max(0, (now.astimezone(timezone.utc).date() - start).days)


def _address_key(channel: str, address: str) -> str:
    """How contact preferences store an address: email lower-cased, phone numbers as they are (E.164)."""
    return address.strip().lower() if channel == "email" else address


def facts_for(session: Session, accounts: Iterable[tuple[Account, Debtor]], now: datetime) -> list[AccountFacts]:
    pairs = list(accounts)
    ids = [a.id for a, _ in pairs]
    paid = set(session.scalars(select(Payment.account_id).where(Payment.account_id.in_(ids),
                                                                Payment.status == "succeeded")))
    missed = set(session.scalars(select(Plan.account_id).join(Installment, Installment.plan_id == Plan.id).where(
        Plan.account_id.in_(ids), Installment.status == "missed")))
    # In bulk (a few queries, not a few per account): the whole portfolio is assigned for the /ops page and the
    # campaigns, and the reminders' candidates for the order without a model.
    holds = hold_rules(session, [a for a, _ in pairs])
    blocked = {c: contact_preferences.suppressions(session, c, [_address_key(c, a) for _, d in pairs
                                                                 if (a := getattr(d, field))])
               for c, field in (("sms", "phone"), ("email", "email"))}
    found = []
    for account, debtor in pairs:
        history = "broken" if account.id in missed else "paying" if account.id in paid else "never_paid"
        addresses = {c: a for c, a in (("sms", debtor.phone), ("email", debtor.email)) if a}
        reachable = tuple(c for c, a in addresses.items() if blocked[c].get(_address_key(c, a)) is None)
        found.append(AccountFacts(account.id, account.account_ref, account.creditor, account.balance_cents,
                                  age_days(account, now), history, holds[account.id], reachable, addresses))
    return found


def assign(book: SegmentBook, facts: AccountFacts) -> Assignment:
    for segment in book.segments:
        ok, said = segment.check(facts)
        if ok:
            reason = "; ".join(said) if said else "matched no earlier segment"
            return Assignment(facts, segment, reason)
    raise AssertionError("the last segment takes everyone (parse_segments checks it)")  # pragma: no cover


def assign_all(session: Session, book: SegmentBook, now: datetime | None = None,
               segment: str | None = None) -> list[Assignment]:
    """Every account's segment and why (in one segment only, when named), ordered by account reference."""
    now = now or datetime.now(timezone.utc)
    rows = session.execute(select(Account, Debtor).join(Debtor, Debtor.id == Account.debtor_id)
                           .order_by(Account.account_ref)).all()
    found = [assign(book, f) for f in facts_for(session, [(a, d) for a, d in rows], now)]
    return [a for a in found if segment is None or a.segment.name == segment]


def counts(book: SegmentBook, assignments: Sequence[Assignment]) -> list[tuple[Segment, int, int]]:
    """(segment, accounts, balance cents) for every segment in file order, empty ones included."""
    return [(s, sum(1 for a in assignments if a.segment.name == s.name),
             sum(a.facts.balance_cents for a in assignments if a.segment.name == s.name)) for s in book.segments]


# --- export ---------------------------------------------------------------------------------------------------------

def as_csv(assignments: Sequence[Assignment]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["account_ref", "creditor", "balance", "age_days", "payment_history", "hold", "reachable",
                     "segment", "reason", "channels", "per_7_days", "plan_variant", "priority"])
    for a in assignments:
        f, t = a.facts, a.segment.treatment
        writer.writerow([csv_cell(v) for v in (
            f.account_ref, f.creditor, f"{f.balance_cents / 100:.2f}", f.age_days, f.payment_history,
            f.hold_rule or "", " ".join(f.reachable) or "none", a.segment.name, a.reason,
            " ".join(t.channels) or "none", t.per_7_days, t.plan_variant, a.segment.priority)])
    return out.getvalue()
