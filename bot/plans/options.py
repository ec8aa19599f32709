"""What a plan proposal is made of: the options (bot/plans/engine.py builds them) and their payments, as plain
frozen data. Its own module so that the engine and the wording of terms (bot/plans/terms.py) both depend on it and
not on each other.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from bot.plans.policy import Fee


@dataclass(frozen=True)
class Installment:
    number: int
    due: date
    amount_cents: int


@dataclass(frozen=True)
class PlanOption:
    """One offer. kind: "plan" | "settlement" | "pay_in_full"; frequency is None for a single payment."""

    kind: str
    frequency: str | None
    installments: tuple[Installment, ...]
    total_cents: int
    fee_cents: int
    balance_cents: int
    matches_request: bool = False
    fees: tuple[Fee, ...] = ()

    @property
    def count(self) -> int:
        return len(self.installments)

    @property
    def first_due(self) -> date:
        return self.installments[0].due

    @property
    def last_due(self) -> date:
        return self.installments[-1].due

    @property
    def discount_cents(self) -> int:
        """How much less than the balance a settlement is (0 for other kinds)."""
        return self.balance_cents - self.total_cents if self.kind == "settlement" else 0

    @property
    def amounts(self) -> tuple[int, ...]:
        return tuple(i.amount_cents for i in self.installments)


@dataclass(frozen=True)
class Proposal:
    """The options to offer, or a refusal. needs_person: hand off (PLAN-4), the offer is far from the request."""

    balance_cents: int
    options: tuple[PlanOption, ...] = ()
    refusal: str | None = None
    note: str | None = None
    needs_person: bool = False
    policy_name: str = ""
