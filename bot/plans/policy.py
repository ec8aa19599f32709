"""Creditor plan policy, kept as data (policy/plan_policy.yml) and checked when it is loaded.

The file has a `default` policy and `creditors:` overrides keyed by creditor name. An override may set any
subset of the fields; the rest come from `default`. Money is written in dollars in the file and held in
integer cents here. A mistake anywhere fails the whole load with every problem listed, each named by its
field path, so a bad edit can never half-apply.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy.orm import Session

from bot import policy_store
from bot.money import parse_dollars

FREQUENCIES = ("weekly", "biweekly", "monthly")
FEE_AUTHORITIES = ("contract", "state_law")
DEFAULT_POLICY_PATH = Path(__file__).resolve().parents[2] / "policy" / "plan_policy.yml"

# Sanity bounds: a value outside them is far more likely a typo than a real policy.
MAX_TERM_MONTHS = 120
MAX_FIRST_PAYMENT_DAYS = 90

_REQUIRED = ("frequencies", "min_installment", "max_term_months", "first_payment_within_days")
_OPTIONAL = ("down_payment", "settlement", "fees")
_FIELDS = _REQUIRED + _OPTIONAL
_SETTLEMENT_FIELDS = ("min_balance", "max_balance", "min_account_age_days", "max_discount_percent")
_FEE_FIELDS = ("name", "amount", "authorised_by")
_PERCENT = re.compile(r"[0-9]+(?:\.[0-9]{1,2})?")


class PolicyError(ValueError):
    """The policy file is unusable. The message lists every problem, one per line, each with its field path."""

    def __init__(self, source: str, problems: list[str]) -> None:
        self.source = source
        self.problems = list(problems)
        super().__init__("\n".join(f"{source}: {p}" for p in self.problems))


@dataclass(frozen=True)
class DownPayment:
    """The first instalment must be at least this: a percent of the plan total, or a fixed amount."""

    percent: Decimal | None = None
    amount_cents: int | None = None

    def required_cents(self, total_cents: int) -> int:
        """The smallest first payment allowed on a plan of total_cents (never more than the total)."""
        if self.amount_cents is not None:
            return min(self.amount_cents, total_cents)
        basis_points = int((self.percent or Decimal(0)) * 100)
        # Rounded up: a percent of the total is a floor, so rounding down would break it by a cent.
        return min(-(-total_cents * basis_points // 10_000), total_cents)


@dataclass(frozen=True)
class SettlementOffer:
    """A lump sum below the balance that the creditor accepts in full settlement, for a band of balances."""

    min_balance_cents: int
    max_discount_percent: Decimal
    max_balance_cents: int | None = None
    min_account_age_days: int | None = None

    def applies(self, balance_cents: int, account_age_days: int | None) -> bool:
        """True if this offer covers the balance (bounds inclusive) and the account is old enough.

        An unknown account age never meets a minimum age: the offer needs proof, not a guess."""
        if balance_cents < self.min_balance_cents:
            return False
        if self.max_balance_cents is not None and balance_cents > self.max_balance_cents:
            return False
        if self.min_account_age_days is not None:
            return account_age_days is not None and account_age_days >= self.min_account_age_days
        return True

    def floor_cents(self, balance_cents: int) -> int:
        """The lowest lump sum accepted: balance * (100 - max_discount_percent) / 100, rounded UP to the cent."""
        keep_basis_points = 10_000 - int(self.max_discount_percent * 100)
        return -(-balance_cents * keep_basis_points // 10_000)


@dataclass(frozen=True)
class Fee:
    """A plan fee. PLAN-1: allowed only when the contract or state law expressly authorises it."""

    name: str
    amount_cents: int
    authorised_by: str


@dataclass(frozen=True)
class PlanPolicy:
    """One creditor's effective plan policy (the default merged with its override). Money in cents."""

    name: str
    frequencies: tuple[str, ...]
    min_installment_cents: int
    max_term_months: int
    first_payment_within_days: int
    down_payment: DownPayment | None = None
    settlement: tuple[SettlementOffer, ...] = ()
    fees: tuple[Fee, ...] = ()

    @property
    def fee_cents(self) -> int:
        """Total fees on an instalment plan (fees apply to plans only, not to one-off payments)."""
        return sum(fee.amount_cents for fee in self.fees)

    def settlement_offer(self, balance_cents: int, account_age_days: int | None) -> SettlementOffer | None:
        """The applicable offer with the lowest floor (best for the debtor), or None."""
        offers = [o for o in self.settlement if o.applies(balance_cents, account_age_days)]
        if not offers:
            return None
        return min(offers, key=lambda o: o.floor_cents(balance_cents))


@dataclass(frozen=True)
class PolicyBook:
    """Every creditor's policy from one file."""

    source: str
    default: PlanPolicy
    creditors: Mapping[str, PlanPolicy]
    # The checked fields as written, so a segment's plan variant can be laid between the default and a creditor's
    # own terms (for_creditor).
    default_fields: Mapping[str, Any] = field(default_factory=dict)
    creditor_fields: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    def for_creditor(self, name: str | None, variant: Mapping[str, Any] | None = None) -> PlanPolicy:
        """The creditor's policy, matched ignoring case and extra spaces; the default for anyone else. With a
        segment's plan variant (policy/segments.yml), its fields replace the default's, but never the creditor's
        own: a creditor's term is its mandate, a variant only changes what the creditor left to the default."""
        policy = self.default
        if name:
            wanted = _creditor_key(name)
            policy = next((p for c, p in self.creditors.items() if _creditor_key(c) == wanted), self.default)
        if not variant:
            return policy
        problems: list[str] = []
        fields = _check_fields(dict(variant), "plan_variant", problems)
        if problems:
            raise PolicyError(self.source, problems)
        own = self.creditor_fields.get(policy.name, {}) if policy is not self.default else {}
        return _build(policy.name, {**self.default_fields, **fields, **own})


def current_policy(path: str | Path = DEFAULT_POLICY_PATH) -> PolicyBook:
    """load_policy, read again only when the file changed (bot/policy_store.from_file)."""
    return policy_store.from_file(path, load_policy)


def load_policy(path: str | Path = DEFAULT_POLICY_PATH) -> PolicyBook:
    """Read and check a policy file. Raises PolicyError listing every problem, each with its field path."""
    source = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise PolicyError(source, [f"cannot read the file: {exc.strerror or exc}"]) from exc
    return policy_from_text(text, source)


def active_policy(session: Session) -> PolicyBook:
    """The plan policy in force in every process: the newest version saved at /ops, or the shipped file
    (bot/policy_store.py). Every plan offer asks."""
    return policy_store.active(session, "plan_policy", lambda text: policy_from_text(text, "plan_policy.yml"),
                               current_policy)


def policy_from_text(text: str, source: str = "<policy>") -> PolicyBook:
    """Parse and check a policy document's text. Raises PolicyError listing every problem."""
    loader = _PolicyLoader(text)
    try:
        data = loader.get_single_data()
    except yaml.YAMLError as exc:
        raise PolicyError(source, [f"not valid YAML: {exc}"]) from exc
    finally:
        loader.dispose()
    if loader.duplicates:
        raise PolicyError(source, loader.duplicates)
    return parse_policy(data, source)


def parse_policy(data: object, source: str = "<policy>") -> PolicyBook:
    """Check already-parsed policy data (as from YAML) and build the PolicyBook. Raises PolicyError."""
    problems: list[str] = []
    if not isinstance(data, dict):
        raise PolicyError(source, [f"must be a mapping with `default` and `creditors`, got {_show(data)}"])
    for key in data:
        if key not in ("default", "creditors"):
            problems.append(f"{key}: unknown key; expected `default` or `creditors`")

    raw_default = data.get("default")
    if not isinstance(raw_default, dict):
        problems.append(f"default: is required and must be a mapping of policy fields, got {_show(raw_default)}")
        raw_default = {}
    default_fields = _check_fields(raw_default, "default", problems)
    for name in _REQUIRED:
        if name not in raw_default:
            problems.append(f"default.{name}: is required")

    raw_creditors = data.get("creditors") or {}
    if not isinstance(raw_creditors, dict):
        problems.append(f"creditors: must be a mapping of creditor name to policy fields, got {_show(raw_creditors)}")
        raw_creditors = {}
    overrides: dict[str, dict[str, Any]] = {}
    seen: dict[str, str] = {}
    for creditor, raw in raw_creditors.items():
        if not isinstance(creditor, str) or not creditor.strip():
            problems.append(f"creditors.{creditor}: a creditor name must be non-empty text")
            continue
        if _creditor_key(creditor) in seen:
            problems.append(f"creditors.{creditor}: same creditor as {seen[_creditor_key(creditor)]!r} "
                            "(names match ignoring case and spaces)")
            continue
        seen[_creditor_key(creditor)] = creditor
        if raw is None:
            raw = {}  # an empty override: the creditor simply uses the default
        if not isinstance(raw, dict):
            problems.append(f"creditors.{creditor}: must be a mapping of policy fields, got {_show(raw)}")
            continue
        overrides[creditor] = _check_fields(raw, f"creditors.{creditor}", problems)

    if problems:
        raise PolicyError(source, problems)
    default = _build("default", default_fields)
    creditors = {name: _build(name, {**default_fields, **fields}) for name, fields in overrides.items()}
    return PolicyBook(source=source, default=default, creditors=creditors, default_fields=default_fields,
                      creditor_fields=overrides)


def _build(name: str, fields: dict[str, Any]) -> PlanPolicy:
    return PlanPolicy(
        name=name,
        frequencies=fields["frequencies"],
        min_installment_cents=fields["min_installment"],
        max_term_months=fields["max_term_months"],
        first_payment_within_days=fields["first_payment_within_days"],
        down_payment=fields.get("down_payment"),
        settlement=fields.get("settlement") or (),
        fees=fields.get("fees") or (),
    )


def check_override(raw: object, path: str) -> list[str]:
    """The problems in a set of plan-policy fields given elsewhere (a segment's plan variant, policy/segments.yml),
    by the same checks as a creditor override here; empty when they are valid."""
    if not isinstance(raw, dict):
        return [f"{path}: must be a mapping of plan-policy fields, got {_show(raw)}"]
    problems: list[str] = []
    _check_fields(raw, path, problems)
    return problems


def _check_fields(raw: dict[Any, Any], path: str, problems: list[str]) -> dict[str, Any]:
    """Check each field that is present; returns the converted values of the good ones."""
    out: dict[str, Any] = {}
    for key, value in raw.items():
        where = f"{path}.{key}"
        if key not in _FIELDS:
            problems.append(f"{where}: unknown field; expected one of {', '.join(_FIELDS)}")
            continue
        before = len(problems)
        converted = _CHECKS[key](value, where, problems)
        if len(problems) == before:
            out[key] = converted
    return out


def _frequencies(value: object, where: str, problems: list[str]) -> tuple[str, ...]:
    if not isinstance(value, list) or not value:
        problems.append(f"{where}: must be a non-empty list drawn from {', '.join(FREQUENCIES)}, got {_show(value)}")
        return ()
    result: list[str] = []
    for i, item in enumerate(value):
        if item not in FREQUENCIES:
            problems.append(f"{where}[{i}]: unknown frequency {_show(item)}; expected one of {', '.join(FREQUENCIES)}")
        elif item in result:
            problems.append(f"{where}[{i}]: {item} is listed twice")
        else:
            result.append(item)
    return tuple(result)


def _positive_money(value: object, where: str, problems: list[str]) -> int:
    cents = _money(value)
    if cents is None or cents <= 0:
        problems.append(f"{where}: must be a positive amount in dollars, got {_show(value)}")
        return 0
    return cents


def _whole_number(value: object, where: str, problems: list[str], low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        problems.append(f"{where}: must be a whole number from {low} to {high}, got {_show(value)}")
        return 0
    return value


def _term(value: object, where: str, problems: list[str]) -> int:
    return _whole_number(value, where, problems, 1, MAX_TERM_MONTHS)


def _window(value: object, where: str, problems: list[str]) -> int:
    return _whole_number(value, where, problems, 0, MAX_FIRST_PAYMENT_DAYS)


def _down_payment(value: object, where: str, problems: list[str]) -> DownPayment | None:
    if value is None:
        return None
    if not isinstance(value, dict) or len(value) != 1 or next(iter(value)) not in ("percent", "amount"):
        problems.append(f"{where}: must be {{percent: 0-100}} or {{amount: dollars}}, got {_show(value)}")
        return None
    (key, raw), = value.items()
    if key == "amount":
        return DownPayment(amount_cents=_positive_money(raw, f"{where}.amount", problems))
    percent = _percent(raw)
    if percent is None or percent > 100:
        problems.append(f"{where}.percent: must be a percent from 0 to 100 (at most 2 decimals), got {_show(raw)}")
        return None
    return DownPayment(percent=percent)


def _settlement(value: object, where: str, problems: list[str]) -> tuple[SettlementOffer, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        problems.append(f"{where}: must be a list of offers, got {_show(value)}")
        return ()
    offers = []
    for i, raw in enumerate(value):
        at = f"{where}[{i}]"
        if not isinstance(raw, dict):
            problems.append(f"{at}: must be a mapping with min_balance and max_discount_percent, got {_show(raw)}")
            continue
        before = len(problems)
        for key in raw:
            if key not in _SETTLEMENT_FIELDS:
                problems.append(f"{at}.{key}: unknown field; expected one of {', '.join(_SETTLEMENT_FIELDS)}")
        for key in ("min_balance", "max_discount_percent"):
            if key not in raw:
                problems.append(f"{at}.{key}: is required")
        low = _money(raw.get("min_balance", 0))
        if low is None:
            problems.append(f"{at}.min_balance: must be an amount in dollars (0 or more), "
                            f"got {_show(raw['min_balance'])}")
        high = None
        if raw.get("max_balance") is not None:
            high = _money(raw["max_balance"])
            if high is None or (low is not None and high < low):
                problems.append(f"{at}.max_balance: must be an amount in dollars no lower than min_balance, "
                                f"got {_show(raw['max_balance'])}")
        age = raw.get("min_account_age_days")
        if age is not None:
            age = _whole_number(age, f"{at}.min_account_age_days", problems, 0, 100_000)
        discount = _percent(raw.get("max_discount_percent"))
        if "max_discount_percent" in raw and (discount is None or not 0 < discount < 100):
            problems.append(f"{at}.max_discount_percent: must be more than 0 and less than 100 (at most 2 decimals), "
                            f"got {_show(raw['max_discount_percent'])}")
        if len(problems) == before:
            offers.append(SettlementOffer(min_balance_cents=low or 0, max_balance_cents=high,
                                          min_account_age_days=age, max_discount_percent=discount or Decimal(0)))
    return tuple(offers)


def _fees(value: object, where: str, problems: list[str]) -> tuple[Fee, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        problems.append(f"{where}: must be a list of fees, got {_show(value)}")
        return ()
    fees = []
    for i, raw in enumerate(value):
        at = f"{where}[{i}]"
        if not isinstance(raw, dict):
            problems.append(f"{at}: must be a mapping with name, amount and authorised_by, got {_show(raw)}")
            continue
        before = len(problems)
        for key in raw:
            if key not in _FEE_FIELDS:
                problems.append(f"{at}.{key}: unknown field; expected one of {', '.join(_FEE_FIELDS)}")
        name = raw.get("name")
        if not isinstance(name, str) or not name.strip():
            problems.append(f"{at}.name: must be non-empty text, got {_show(name)}")
        amount = _positive_money(raw.get("amount"), f"{at}.amount", problems)
        authority = raw.get("authorised_by")
        if authority is None:
            problems.append(f"{at}.authorised_by: is required; PLAN-1 allows a fee only when the contract or "
                            "state law expressly authorises it (contract or state_law)")
        elif authority not in FEE_AUTHORITIES:
            problems.append(f"{at}.authorised_by: must be contract or state_law, got {_show(authority)}")
        if len(problems) == before:
            fees.append(Fee(name=name.strip(), amount_cents=amount, authorised_by=authority))
    return tuple(fees)


_CHECKS = {
    "frequencies": _frequencies,
    "min_installment": _positive_money,
    "max_term_months": _term,
    "first_payment_within_days": _window,
    "down_payment": _down_payment,
    "settlement": _settlement,
    "fees": _fees,
}


def _money(value: object) -> int | None:
    """Dollars (a YAML number, or text like "25.00") -> cents; None if it is not an amount."""
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        return None
    try:
        return parse_dollars(str(value))
    except ValueError:
        return None


def _percent(value: object) -> Decimal | None:
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        return None
    text = str(value).strip()
    if not _PERCENT.fullmatch(text):
        return None
    try:
        return Decimal(text)
    except InvalidOperation:  # pragma: no cover - the pattern already rules this out
        return None


def _show(value: object) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return f'"{str(value).lower()}"'
    if isinstance(value, (int, str)):
        return f'"{value}"'
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return type(value).__name__


def _creditor_key(name: str) -> str:
    return " ".join(name.split()).casefold()


class _YamlNumber(str):
    """A YAML float kept as its text, so dollars never pass through binary floating point."""


class _PolicyLoader(yaml.SafeLoader):
    """SafeLoader that keeps floats as text and reports duplicate keys instead of silently keeping the last."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.duplicates: list[str] = []

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            try:
                if key in seen:
                    self.duplicates.append(f"line {key_node.start_mark.line + 1}: {key} is set twice")
                seen.add(key)
            except TypeError:
                pass  # unhashable key; the base constructor reports it
        return super().construct_mapping(node, deep=deep)


_PolicyLoader.add_constructor("tag:yaml.org,2002:float", lambda loader, node: _YamlNumber(node.value))
