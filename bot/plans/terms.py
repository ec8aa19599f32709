"""Plan terms in plain words (VOICE.md), complete enough for PLAN-1: the total, the number of payments, each
amount and date, and the fees ("No fees." when there are none).

Dates are spelled out ("Friday, March 6, 2026", "viernes, 6 de marzo de 2026") with our own month and day names
(bot/wording/formats.py), so the server's locale can never change what the debtor reads. The words are in the
catalogues of bot/wording/, one per language.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from bot import wording
from bot.plans import due_dates
from bot.plans.options import Installment, PlanOption
from bot.wording import formats

# Up to this many payments every line is shown; beyond it the schedule is summarised (SMS-sized, VOICE.md).
SHOW_ALL_UP_TO = 6
SHOW_FIRST = 3
_AUTHORITIES = ("contract", "state_law")


def format_date(day: date, language: str | None = None) -> str:
    """date(2026, 3, 6) -> "Friday, March 6, 2026" / "viernes, 6 de marzo de 2026"."""
    return formats.long_date(day, language)


def describe_option(option: PlanOption, currency: str = "USD", language: str | None = None) -> str:
    """One short paragraph with the complete terms: amounts, count, first and last dates, total, fees."""

    def money(cents: int) -> str:
        return formats.money(cents, currency, language)

    def say(key: str, **values: object) -> str:
        return wording.say(key, language, **values)

    total = money(option.total_cents)
    fees = _fees_text(option, money, language)
    first = format_date(option.first_due, language)
    if option.kind == "settlement":
        return say("terms_settlement", total=total, date=first, discount=money(option.discount_cents),
                   balance=money(option.balance_cents), fees=fees)
    if option.count == 1:
        return say("terms_single", total=total, date=first, fees=fees)
    runs = _runs(option.installments)
    counted = say(f"counted_{option.frequency}" if option.frequency in ("weekly", "biweekly", "monthly")
                  else "counted_other")
    if len(runs) == 1:
        head = say("terms_head_equal", count=option.count, counted=counted, amount=money(runs[0][1]))
    else:
        parts = say("terms_then").join(say("terms_run", count=n, amount=money(a)) for n, a in runs)
        head = say("terms_head_runs", count=option.count, counted=counted, runs=parts)
    return say("terms_plan", head=head, first=first, last=format_date(option.last_due, language), total=total,
               fees=fees)


def describe_schedule(option: PlanOption, currency: str = "USD", language: str | None = None) -> list[str]:
    """Numbered lines, one per payment ("1. Friday, March 6, 2026: $150.00").

    Long schedules keep the first few lines, then one line per run of equal payments ("Then $25.00 every week
    until Friday, March 5, 2027 (payments 4 to 104)."), so every amount, the count and the last date stay exact.
    A monthly run states the rule its dates follow ("on the 6th of each month ... a weekend moves to the Monday
    after", PLAN-1: the dates drift between the 6th and the 8th), or lists each date when no one rule gives them.
    """
    installments = option.installments
    if len(installments) <= SHOW_ALL_UP_TO:
        return [_line(i, currency, language) for i in installments]
    lines = [_line(i, currency, language) for i in installments[:SHOW_FIRST]]
    every = wording.say(f"every_{option.frequency}" if option.frequency in ("weekly", "biweekly", "monthly")
                        else "every_other", language)
    position = SHOW_FIRST
    for count, amount in _runs(installments[SHOW_FIRST:]):
        run = installments[position:position + count]
        day = due_dates.monthly_day([i.due for i in run]) if option.frequency == "monthly" else None
        if count == 1 or (option.frequency == "monthly" and day is None):
            lines += [_line(i, currency, language) for i in run]  # no one rule gives these dates: each is listed
        elif day is not None:
            # PLAN-1: the rule that made the dates, stated (bot/plans/due_dates.py), not "every month".
            lines.append(wording.say("schedule_run_monthly", language, amount=formats.money(amount, currency, language),
                                     day=due_dates.say_day(day, language), date=format_date(run[-1].due, language),
                                     first=run[0].number, last=run[-1].number,
                                     short=wording.say("or_last_day", language)
                                     if day > due_dates.SHORT_MONTH_DAY else ""))
        else:
            lines.append(wording.say("schedule_run", language, amount=formats.money(amount, currency, language),
                                     every=every, date=format_date(run[-1].due, language), first=run[0].number,
                                     last=run[-1].number))
        position += count
    return lines


def _line(installment: Installment, currency: str, language: str | None = None) -> str:
    return (f"{installment.number}. {format_date(installment.due, language)}: "
            f"{formats.money(installment.amount_cents, currency, language)}")


def _runs(installments: tuple[Installment, ...]) -> list[tuple[int, int]]:
    """Consecutive equal amounts as (how many, amount)."""
    runs: list[tuple[int, int]] = []
    for installment in installments:
        if runs and runs[-1][1] == installment.amount_cents:
            runs[-1] = (runs[-1][0] + 1, installment.amount_cents)
        else:
            runs.append((1, installment.amount_cents))
    return runs


def _fees_text(option: PlanOption, money: Callable[[int], str], language: str | None = None) -> str:
    if not option.fees:
        return wording.say("no_fees", language)
    parts = [wording.say("fee_item", language, name=fee.name, amount=money(fee.amount_cents),
                         authority=wording.say(f"authority_{fee.authorised_by}", language)
                         if fee.authorised_by in _AUTHORITIES else fee.authorised_by)
             for fee in option.fees]
    return wording.say("fees", language, amount=money(option.fee_cents), items=", ".join(parts))
