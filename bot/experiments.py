"""Comparing two variants of a message: the two-proportion z-test (pooled), and a plain sentence about it.

Pure arithmetic, no database. With few people the normal approximation is poor, so below MIN_PER_ARM in either arm
or fewer than MIN_EVENTS successes the sentence says there is too little data instead of quoting a p-value."""

from __future__ import annotations

import math
from dataclasses import dataclass

ALPHA = 0.05  # the usual 5% line: a difference this unlikely by chance alone is called real
MIN_PER_ARM = 30
MIN_EVENTS = 5


@dataclass(frozen=True)
class Comparison:
    successes_a: int
    total_a: int
    successes_b: int
    total_b: int
    z: float | None
    p_value: float | None

    @property
    def rate_a(self) -> float | None:
        return self.successes_a / self.total_a if self.total_a else None

    @property
    def rate_b(self) -> float | None:
        return self.successes_b / self.total_b if self.total_b else None

    @property
    def enough_data(self) -> bool:
        return min(self.total_a, self.total_b) >= MIN_PER_ARM and self.successes_a + self.successes_b >= MIN_EVENTS

    @property
    def significant(self) -> bool:
        return self.enough_data and self.p_value is not None and self.p_value < ALPHA


def normal_cdf(x: float) -> float:
    return 0.5 * math.erfc(-x / math.sqrt(2))


def two_proportion_test(successes_a: int, total_a: int, successes_b: int, total_b: int) -> Comparison:
    """z = (p_b - p_a) / sqrt(p (1 - p) (1/n_a + 1/n_b)), p pooled; two-sided p-value. No z when it is undefined
    (an empty arm, or every person in both arms the same)."""
    for value in (successes_a, total_a, successes_b, total_b):
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ValueError("counts are whole numbers, 0 or more")
    if successes_a > total_a or successes_b > total_b:
        raise ValueError("successes cannot exceed the people counted")
    if not total_a or not total_b:
        return Comparison(successes_a, total_a, successes_b, total_b, None, None)
    pooled = (successes_a + successes_b) / (total_a + total_b)
    spread = math.sqrt(pooled * (1 - pooled) * (1 / total_a + 1 / total_b))
    if spread == 0:
        return Comparison(successes_a, total_a, successes_b, total_b, None, None)
    z = (successes_b / total_b - successes_a / total_a) / spread
    return Comparison(successes_a, total_a, successes_b, total_b, z, 2 * (1 - normal_cdf(abs(z))))


def _pct(rate: float | None) -> str:
    return "no one yet" if rate is None else f"{rate * 100:.1f}%"


def verdict(name_a: str, name_b: str, what: str, comparison: Comparison, events: str | None = None) -> str:
    """One sentence an operator can act on; `events` names what is counted, in the plural ("replies")."""
    c = comparison
    rates = f"{name_a} {_pct(c.rate_a)} ({c.successes_a} of {c.total_a}), {name_b} {_pct(c.rate_b)} " \
            f"({c.successes_b} of {c.total_b})"
    if not c.enough_data:
        return (f"{what}: {rates}. Too little data to tell: each variant needs at least {MIN_PER_ARM} people and "
                f"{MIN_EVENTS} {events or what.lower() + 's'} between them.")
    if c.p_value is None:
        return f"{what}: {rates}. No difference at all between the variants."
    if c.significant:
        better = name_b if (c.rate_b or 0) > (c.rate_a or 0) else name_a
        return (f"{what}: {rates}. The difference is real: {better} does better "
                f"(p = {c.p_value:.3f}, below {ALPHA}).")
    return (f"{what}: {rates}. The difference could be chance (p = {c.p_value:.3f}, not below {ALPHA}): "
            "keep both or run longer.")
