"""Comparing variants of a message: the two-proportion z-test (pooled), the Holm–Bonferroni correction when several
variants are compared, and a plain sentence about each comparison.

Pure arithmetic, no database. With few people the normal approximation is poor, so below MIN_PER_ARM in either arm
or fewer than MIN_EVENTS successes the sentence says there is too little data instead of quoting a p-value.

Several variants. Each of B, C, ... is compared with A; with three variants there are two chances for chance alone
to look like a difference, so at the 5% line the chance of at least one false "real" would be near 10%. `holm`
corrects for that (Holm–Bonferroni step-down: the smallest p-value is multiplied by the number of comparisons, the
next by one fewer, and so on, each at least the one before), which keeps that chance at most ALPHA for the whole
family and is never less powerful than plain Bonferroni. A difference is called real when its adjusted p-value is
below ALPHA; the sentence quotes both. Only comparisons with enough data are tested, so only they count."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace

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
    adjusted_p: float | None = None  # Holm–Bonferroni over `family` comparisons (None: not corrected, family of 1)
    family: int = 1

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
    def decisive_p(self) -> float | None:
        """The p-value the decision is made on: the adjusted one when corrected, else the test's own."""
        return self.adjusted_p if self.adjusted_p is not None else self.p_value

    @property
    def significant(self) -> bool:
        return self.enough_data and self.decisive_p is not None and self.decisive_p < ALPHA


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


def holm(p_values: Sequence[float]) -> list[float]:
    """Holm–Bonferroni adjusted p-values, in the order given: with the m p-values sorted ascending p(1) <= ... <=
    p(m), adjusted p(k) = min(1, max over j <= k of (m - j + 1) p(j)). Rejecting where the adjusted value is below
    alpha is Holm's step-down procedure at alpha."""
    m = len(p_values)
    adjusted = [0.0] * m
    running = 0.0
    for rank, index in enumerate(sorted(range(m), key=lambda i: p_values[i])):
        running = max(running, min(1.0, (m - rank) * p_values[index]))
        adjusted[index] = running
    return adjusted


def corrected(comparisons: Sequence[Comparison]) -> list[Comparison]:
    """The same comparisons, those with enough data and a p-value adjusted together (Holm–Bonferroni) when there are
    two or more of them; the others as they were."""
    tested = [i for i, c in enumerate(comparisons) if c.enough_data and c.p_value is not None]
    found = list(comparisons)
    if len(tested) < 2:
        return found
    for i, adjusted in zip(tested, holm([comparisons[i].p_value or 0.0 for i in tested]), strict=True):
        found[i] = replace(comparisons[i], adjusted_p=adjusted, family=len(tested))
    return found


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
    p = f"p = {c.p_value:.3f}"
    if c.adjusted_p is not None:
        p += (f", {c.adjusted_p:.3f} after the Holm–Bonferroni correction for the {c.family} variants compared with "
              "the first")
    if c.significant:
        better = name_b if (c.rate_b or 0) > (c.rate_a or 0) else name_a
        return f"{what}: {rates}. The difference is real: {better} does better ({p}, below {ALPHA})."
    return f"{what}: {rates}. The difference could be chance ({p}, not below {ALPHA}): keep both or run longer."
