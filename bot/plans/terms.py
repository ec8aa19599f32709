"""Plan terms in plain words (VOICE.md), complete enough for PLAN-1: the total, the number of payments, each
amount and date, and the fees ("No fees." when there are none).

Dates are spelled out ("Friday, March 6, 2026") with our own month and day names, so the server's locale can
never change what the debtor reads.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from bot.money import format_cents
from bot.plans.options import Installment, PlanOption

_DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_MONTH_NAMES = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
                "November", "December")
_EVERY = {"weekly": "every week", "biweekly": "every 2 weeks", "monthly": "every month"}
_COUNTED = {"weekly": "weekly payments", "biweekly": "payments every 2 weeks", "monthly": "monthly payments"}
_AUTHORITY = {"contract": "allowed by your contract", "state_law": "allowed by state law"}

# Up to this many payments every line is shown; beyond it the schedule is summarised (SMS-sized, VOICE.md).
SHOW_ALL_UP_TO = 6
SHOW_FIRST = 3


def format_date(day: date) -> str:
    """date(2026, 3, 6) -> "Friday, March 6, 2026"."""
    return f"{_DAY_NAMES[day.weekday()]}, {_MONTH_NAMES[day.month - 1]} {day.day}, {day.year}"


def describe_option(option: PlanOption, currency: str = "USD") -> str:
    """One short paragraph with the complete terms: amounts, count, first and last dates, total, fees."""

    def money(cents: int) -> str:
        return format_cents(cents, currency)

    total = money(option.total_cents)
    fees = _fees_text(option, money)
    first = format_date(option.first_due)
    if option.kind == "settlement":
        return (f"One payment of {total} on {first} settles this account in full. That is "
                f"{money(option.discount_cents)} less than the balance of {money(option.balance_cents)}. "
                f"Total: {total}. {fees}")
    if option.count == 1:
        return f"One payment of {total} on {first}. Total: {total}. {fees}"
    runs = _runs(option.installments)
    counted = _COUNTED.get(option.frequency or "", "payments")
    if len(runs) == 1:
        head = f"{option.count} {counted} of {money(runs[0][1])}"
    else:
        head = f"{option.count} {counted}: " + ", then ".join(f"{n} of {money(a)}" for n, a in runs)
    return f"{head}, from {first} to {format_date(option.last_due)}. Total: {total}. {fees}"


def describe_schedule(option: PlanOption, currency: str = "USD") -> list[str]:
    """Numbered lines, one per payment ("1. Friday, March 6, 2026: $150.00").

    Long schedules keep the first few lines, then one line per run of equal payments ("Then $25.00 every week
    until Friday, March 5, 2027 (payments 4 to 104)."), so every amount, the count and the last date stay exact.
    """
    installments = option.installments
    if len(installments) <= SHOW_ALL_UP_TO:
        return [_line(i, currency) for i in installments]
    lines = [_line(i, currency) for i in installments[:SHOW_FIRST]]
    every = _EVERY.get(option.frequency or "", "each time")
    position = SHOW_FIRST
    for count, amount in _runs(installments[SHOW_FIRST:]):
        run = installments[position:position + count]
        if count == 1:
            lines.append(_line(run[0], currency))
        else:
            lines.append(f"Then {format_cents(amount, currency)} {every} until {format_date(run[-1].due)} "
                         f"(payments {run[0].number} to {run[-1].number}).")
        position += count
    return lines


def _line(installment: Installment, currency: str) -> str:
    return f"{installment.number}. {format_date(installment.due)}: {format_cents(installment.amount_cents, currency)}"


def _runs(installments: tuple[Installment, ...]) -> list[tuple[int, int]]:
    """Consecutive equal amounts as (how many, amount)."""
    runs: list[tuple[int, int]] = []
    for installment in installments:
        if runs and runs[-1][1] == installment.amount_cents:
            runs[-1] = (runs[-1][0] + 1, installment.amount_cents)
        else:
            runs.append((1, installment.amount_cents))
    return runs


def _fees_text(option: PlanOption, money: Callable[[int], str]) -> str:
    if not option.fees:
        return "No fees."
    parts = [f"{fee.name} {money(fee.amount_cents)} ({_AUTHORITY.get(fee.authorised_by, fee.authorised_by)})"
             for fee in option.fees]
    return f"Includes {money(option.fee_cents)} in fees: {', '.join(parts)}."
