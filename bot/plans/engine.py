"""Plan options a debtor may be offered: compliant with the creditor's policy, built around what they said they
can pay (PLAN-4: accept reasonable proposals or hand off; never push borrowing), with exact cents (PLAN-1).

Amount rules
    Requested amount ("$150 a month"): every payment is exactly that amount, except
      - the first, which is raised to the policy's down payment if that is higher, and
      - the last, which is whatever is left (smaller). If what is left would be below the minimum payment, it is
        added to the payment before it instead, so the count drops by one and the final payment is larger
        (at most amount + minimum - 1 cent).
    Any other plan (equal split): n payments of floor(total / n) cents, with the leftover cents added one each to
      the earliest payments, so no two payments differ by more than a cent. With a down payment higher than that,
      the first payment is the down payment and the rest of the total is split the same way over n - 1.
    A balance below the minimum payment is always one payment of the whole balance.
    Plan fees (policy `fees`) are added to instalment plans only; a single payment or a settlement has none.

Date rules (all in the debtor's calendar; the caller passes `today` already converted to their time zone)
    Weekly / biweekly: on the requested weekday, else on today's weekday; the first payment is the first such day
      on or after today.
    Monthly: on the requested day of the month, else today's day. A day the month doesn't have becomes the month's
      last day (31st -> Feb 28/29, back to the 31st in March).
    Every frequency: a date on a Saturday or Sunday moves to the next Monday (banks don't process payments at
      weekends; bot/plans/due_dates.py, the one rule the summary also states); dates stay strictly increasing
      because a move is at most 2 days and dates are at least 7 days apart.
    If the first such date is later than the policy's first-payment window, the first payment is due on the last
      weekday of the window (the closest allowed date to the one asked for), and the rest follow the requested
      day, starting at least half a period later (weekly 4 days, biweekly 7, monthly 15) so two payments don't
      fall in one pay period.
    The last payment is due no later than max_term_months after the first (same day of the month, clamped).
    A single payment (pay in full, settlement) is due on the same date as the first payment of option 1.

Options, at most three: option 1 is what the debtor asked for if that is compliant (matches_request), otherwise
the nearest compliant plan with Proposal.note saying why; option 2 a plan at another allowed frequency (or a
different length at the same one); option 3 a settlement lump sum if the policy offers one, else pay in full.
"Nearest" = the allowed frequency whose smallest compliant payment is the smallest multiple of what the debtor
offered (converted by payments per year: 52 weekly, 26 biweekly, 12 monthly, rounded down); their own frequency
wins ties. If that payment, or a required first payment, is more than twice what they offered, needs_person is
set (PLAN-4: not a reasonable counter-offer, so a person takes over); the options are still returned.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterator
from datetime import date, timedelta
from fractions import Fraction

from bot import wording
from bot.money import format_cents
from bot.plans.affordability import Affordability
from bot.plans.due_dates import SHORT_MONTH_DAY, business_day, monthly_date, say_day
from bot.plans.options import Installment, PlanOption, Proposal
from bot.plans.policy import FREQUENCIES, PlanPolicy
from bot.plans.terms import format_date

# Mirrors bot.db.models.AccountStatus.ACTIVE without importing the database layer into pure domain code.
COLLECTIBLE_STATUS = "active"
PERIODS_PER_YEAR = {"weekly": 52, "biweekly": 26, "monthly": 12}
_STEP_DAYS = {"weekly": 7, "biweekly": 14}
# For each frequency, the others from most to least similar in period length.
_CLOSEST = {"weekly": ("biweekly", "monthly"), "biweekly": ("weekly", "monthly"), "monthly": ("biweekly", "weekly")}
# When the first payment cannot be on the requested day, the next one is at least half a period after it, so two
# payments don't land in the same pay period.
ANCHOR_GAP_DAYS = {"weekly": 4, "biweekly": 7, "monthly": 15}
# PLAN-4: if the nearest compliant payment is more than this many times what the debtor offered, it is not a
# reasonable counter-offer, so a person should take over.
HAND_OFF_RATIO = 2

# The words are in bot/wording/ (one catalogue per language): plan_refusal_<status>, plan_note_*, and the names
# of frequencies and weekdays below.
_REFUSALS = ("disputed", "ceased", "attorney", "bankrupt", "deceased", "paid", "closed")


def propose(
    balance_cents: int,
    policy: PlanPolicy,
    affordability: Affordability,
    *,
    today: date,
    account_status: str = COLLECTIBLE_STATUS,
    account_age_days: int | None = None,
    language: str | None = None,
) -> Proposal:
    """Up to three compliant options for paying balance_cents, built around what the debtor said they can pay.

    Refuses (Proposal.refusal, no options) unless the account is collectible ("active") with something owed.
    """
    next_step = wording.say("plan_next_step", language)
    if account_status != COLLECTIBLE_STATUS:
        reason = wording.say(f"plan_refusal_{account_status if account_status in _REFUSALS else 'other'}", language)
        return Proposal(balance_cents, refusal=f"{reason} {next_step}", policy_name=policy.name)
    if balance_cents <= 0:
        return Proposal(balance_cents, refusal=f"{wording.say('plan_refusal_paid', language)} {next_step}",
                        policy_name=policy.name)
    return _Planner(balance_cents, policy, affordability, today, account_age_days, language).run()


class _Planner:
    def __init__(self, balance: int, policy: PlanPolicy, wanted: Affordability, today: date,
                 account_age_days: int | None, language: str | None = None) -> None:
        self.language = language
        self.balance = balance
        self.policy = policy
        self.today = today
        self.age = account_age_days
        self.amount = wanted.amount_cents if wanted.amount_cents and wanted.amount_cents > 0 else None
        self.frequency = wanted.frequency if wanted.frequency in FREQUENCIES else None
        self.weekday = wanted.weekday if wanted.weekday in range(7) else None
        self.day = wanted.day_of_month if wanted.day_of_month in range(1, 32) else None
        self.minimum = policy.min_installment_cents
        self.total = balance + policy.fee_cents  # a plan's total; single payments carry no fee
        self.notes: list[str] = []
        self.needs_person = False
        self._dates: dict[str, tuple[list[date], bool]] = {}

    # --- the proposal -------------------------------------------------------------------------------------

    def run(self) -> Proposal:
        primary = self._primary()
        down = self._down_payment()
        if primary.kind == "plan" and primary.amounts[0] == down > _regular(primary.amounts):
            self.note("plan_note_down_payment", amount=_money(self._down_payment()))
        if self.needs_person:
            self.note("plan_note_needs_person")
        options = [primary]
        secondary = self._secondary(primary)
        if secondary is not None:
            options.append(secondary)
        lump = self._lump_sum(primary.first_due)
        if all(o.installments != lump.installments for o in options):
            options.append(lump)
        return Proposal(self.balance, options=tuple(options[:3]), note=" ".join(self.notes) or None,
                        needs_person=self.needs_person, policy_name=self.policy.name)

    def _primary(self) -> PlanOption:
        allowed = self.policy.frequencies
        if self.balance < self.minimum:
            matches = self.amount is not None and self.amount >= self.balance
            option = self._single(self._dates_for(self._preferred()[0])[0][0], matches=matches)
            if not matches:
                self.note("plan_note_one_payment", minimum=_money(self.minimum), balance=_money(self.balance))
            if self.amount is not None and self.amount < self.balance:
                self._judge(self.balance, self.amount)
            return option
        if self.amount is not None:
            if self.amount >= self.balance:
                return self._single(self._dates_for(self._preferred()[0])[0][0], matches=True)
            tries = [self.frequency] if self.frequency else self._preferred()
            for frequency in tries:
                if frequency in allowed:
                    option = self._fixed_plan(frequency, self.amount)
                    if option is not None:
                        return option
            return self._nearest()
        if self.frequency is not None and self.frequency not in allowed:
            frequency = self._preferred()[0]
            self.note("plan_note_not_available_instead", named=self.say(f"named_{self.frequency}"),
                      every=self.say(f"every_{frequency}"))
            return self._smallest_plan(frequency)
        frequency = self._preferred()[0]
        return self._smallest_plan(frequency, matches=self.frequency is not None)

    def _secondary(self, primary: PlanOption) -> PlanOption | None:
        if self.balance < self.minimum:
            return None
        base = primary.frequency or self._preferred()[0]
        # If option 1 moved away from the frequency they asked for, their frequency comes next.
        asked = (self.frequency,) if self.frequency and self.frequency != base else ()
        others = list(dict.fromkeys(f for f in (*asked, *_CLOSEST[base]) if f in self.policy.frequencies))
        candidates: list[PlanOption] = []
        for frequency in others:
            budget = self._budget_at(frequency)
            candidates.append(self._near_plan(frequency, budget) if budget else self._smallest_plan(frequency))
        candidates += [self._smallest_plan(f) for f in (base, *others) if f in self.policy.frequencies]
        for option in candidates:
            if option.kind == "plan" and option.installments != primary.installments:
                return option
        return None

    def _lump_sum(self, due: date) -> PlanOption:
        offer = self.policy.settlement_offer(self.balance, self.age)
        if offer is not None:
            amount = offer.floor_cents(self.balance)
            if amount < self.balance:
                return PlanOption(kind="settlement", frequency=None, installments=(Installment(1, due, amount),),
                                  total_cents=amount, fee_cents=0, balance_cents=self.balance)
        return self._single(due, matches=False)

    def _nearest(self) -> PlanOption:
        """Option 1 when the debtor's amount is below policy: the compliant plan needing the least stretch."""
        assert self.amount is not None
        asked = self.frequency
        order = [f for f in ((asked, *_CLOSEST[asked]) if asked else self._preferred()) if f in self.policy.frequencies]
        best: tuple[Fraction, int, str, int] | None = None
        for rank, frequency in enumerate(order):
            budget = self._budget_at(frequency) or 1
            amounts = self._equal_amounts(self._max_count(frequency), self._dates_for(frequency)[0])
            stretch = Fraction(_regular(amounts), budget)
            if best is None or (stretch, rank) < best[:2]:
                best = (stretch, rank, frequency, budget)
        assert best is not None
        stretch, _, frequency, budget = best
        option = self._near_plan(frequency, budget)

        if asked is not None and asked not in self.policy.frequencies:
            self.note("plan_note_not_available", named=self.say(f"named_{asked}"))
        elif self.amount < self.minimum:
            self.note("plan_note_minimum", amount=_money(self.minimum))
        else:
            per = self.say(f"per_{asked}" if asked else "per_payment")
            self.note("plan_note_too_long", amount=_money(self.amount), per=per,
                      months=self.policy.max_term_months)
        regular = _money(_regular(option.amounts))
        every = self.say(f"per_{option.frequency}" if option.frequency else "per_once")
        self.note("plan_note_fits" if stretch <= 1 else "plan_note_closest", amount=regular, every=every)
        self._judge(_regular(option.amounts), budget, first=option.amounts[0])
        return option

    def _judge(self, needed: int, budget: int, first: int | None = None) -> None:
        """PLAN-4: a counter-offer far above what they can pay is not reasonable; a person should take over."""
        if needed > HAND_OFF_RATIO * budget or (first is not None and first > HAND_OFF_RATIO * budget):
            self.needs_person = True

    # --- building options ---------------------------------------------------------------------------------

    def _fixed_plan(self, frequency: str, amount: int) -> PlanOption | None:
        """The debtor's own amount at their frequency, or None if that breaks the policy."""
        dates, on_anchor = self._dates_for(frequency)
        amounts = _fixed_amounts(self.total, amount, self.minimum, self._down_payment(), len(dates))
        if amounts is None:
            return None
        option = self._plan(frequency, amounts, dates, matches=amounts[0] <= amount)
        self._anchor_note(frequency, option, on_anchor)
        return option

    def _smallest_plan(self, frequency: str, matches: bool = False) -> PlanOption:
        """The longest compliant plan at this frequency, so the smallest payments."""
        dates, on_anchor = self._dates_for(frequency)
        option = self._plan(frequency, self._equal_amounts(self._max_count(frequency), dates), dates, matches)
        if matches:
            self._anchor_note(frequency, option, on_anchor)
        return option

    def _near_plan(self, frequency: str, budget: int) -> PlanOption:
        """Equal payments as close to `budget` as the policy allows (no higher unless the policy needs it)."""
        dates, _ = self._dates_for(frequency)
        count = max(1, min(-(-self.total // budget), self._max_count(frequency)))
        return self._plan(frequency, self._equal_amounts(count, dates), dates, matches=False)

    def _plan(self, frequency: str, amounts: list[int], dates: list[date], matches: bool) -> PlanOption:
        if len(amounts) == 1:
            return self._single(dates[0], matches)
        paired = zip(dates[:len(amounts)], amounts, strict=True)  # callers never pass more amounts than dates
        installments = tuple(Installment(n, due, cents) for n, (due, cents) in enumerate(paired, 1))
        return PlanOption(kind="plan", frequency=frequency, installments=installments, total_cents=self.total,
                          fee_cents=self.policy.fee_cents, balance_cents=self.balance, matches_request=matches,
                          fees=self.policy.fees)

    def _single(self, due: date, matches: bool) -> PlanOption:
        return PlanOption(kind="pay_in_full", frequency=None, installments=(Installment(1, due, self.balance),),
                          total_cents=self.balance, fee_cents=0, balance_cents=self.balance, matches_request=matches)

    def _equal_amounts(self, count: int, dates: list[date]) -> list[int]:
        count = max(1, min(count, len(dates)))
        return _equal_amounts(self.total, count, self._down_payment())

    def _max_count(self, frequency: str) -> int:
        """The most payments an equal-split plan may have here (validity only shrinks as the count grows)."""
        cap = len(self._dates_for(frequency)[0])
        low, high = 1, cap
        while low < high:
            mid = (low + high + 1) // 2
            if _equal_ok(self.total, mid, self.minimum, self._down_payment()):
                low = mid
            else:
                high = mid - 1
        return low

    def _down_payment(self) -> int:
        return self.policy.down_payment.required_cents(self.total) if self.policy.down_payment else 0

    def _budget_at(self, frequency: str) -> int | None:
        """What the debtor's amount comes to at another frequency, rounded down so it never exceeds what they said.

        With no frequency given, the amount is per payment ("$50 each paycheck"), whatever the frequency."""
        if self.amount is None:
            return None
        if self.frequency is None:
            return self.amount
        return self.amount * PERIODS_PER_YEAR[self.frequency] // PERIODS_PER_YEAR[frequency]

    def _preferred(self) -> list[str]:
        """Allowed frequencies, the one the debtor's words point to first."""
        if self.frequency:
            order = (self.frequency, *_CLOSEST[self.frequency])
        elif self.day is not None:
            order = ("monthly", "biweekly", "weekly")
        elif self.weekday is not None:
            order = ("weekly", "biweekly", "monthly")
        else:
            order = self.policy.frequencies
        return [f for f in order if f in self.policy.frequencies] or list(self.policy.frequencies)

    def _anchor_note(self, frequency: str, option: PlanOption, on_anchor: bool) -> None:
        if on_anchor or option.kind != "plan" or self._anchor(frequency) is None:
            return
        day = self._anchor(frequency)
        assert day is not None
        rest = self.say(f"weekdays_{day}") if frequency != "monthly" else \
            self.say("day_of_month", day=say_day(day, self.language))
        if frequency == "monthly" and day > SHORT_MONTH_DAY:
            rest += self.say("or_last_day")
        self.note("plan_note_anchor", date=format_date(option.first_due, self.language), rest=rest)

    def say(self, key: str, **values: object) -> str:
        return wording.say(key, self.language, **values)

    def note(self, key: str, **values: object) -> None:
        self.notes.append(self.say(key, **values))

    # --- dates --------------------------------------------------------------------------------------------

    def _anchor(self, frequency: str) -> int | None:
        return self.day if frequency == "monthly" else self.weekday

    def _dates_for(self, frequency: str) -> tuple[list[date], bool]:
        """Every due date a plan at this frequency may use, and whether the first is on the requested day."""
        if frequency not in self._dates:
            self._dates[frequency] = _due_dates(frequency, self._anchor(frequency), self.today, self.policy)
        return self._dates[frequency]


def _due_dates(frequency: str, anchor: int | None, today: date, policy: PlanPolicy) -> tuple[list[date], bool]:
    if anchor is None:
        anchor = today.day if frequency == "monthly" else today.weekday()
    window_end = today + timedelta(days=policy.first_payment_within_days)
    anchored = _anchored(frequency, anchor, today)
    first = next(anchored)
    on_anchor = first <= window_end
    if not on_anchor:
        first = _last_weekday(today, window_end)
        anchored = _anchored(frequency, anchor, first + timedelta(days=ANCHOR_GAP_DAYS[frequency]))
    limit = _add_months(first, policy.max_term_months)
    dates = [first]
    for due in anchored:
        if due > limit:
            break
        if due > dates[-1]:
            dates.append(due)
    return dates, on_anchor


def _anchored(frequency: str, anchor: int, start: date) -> Iterator[date]:
    """Due dates on the anchor (weekday, or day of the month), on or after start, in order."""
    if frequency == "monthly":
        year, month = start.year, start.month
        while True:
            due = monthly_date(year, month, anchor)
            if due >= start:
                yield due
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    due = start + timedelta(days=(anchor - start.weekday()) % 7)
    while True:
        yield business_day(due)
        due += timedelta(days=_STEP_DAYS[frequency])


def _last_weekday(start: date, end: date) -> date:
    """The latest Monday-Friday from start to end, or end if the window is all weekend."""
    due = end
    while due.weekday() >= 5 and due > start:
        due -= timedelta(days=1)
    return due if due.weekday() < 5 else end


def _add_months(day: date, months: int) -> date:
    year, month = divmod(day.month - 1 + months, 12)
    year, month = day.year + year, month + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


# --- amounts (pure functions, tested directly) ---------------------------------------------------------------


def _fixed_amounts(total: int, amount: int, minimum: int, down: int, max_count: int) -> list[int] | None:
    """Payments of exactly `amount` (see the module docstring), or None if not compliant."""
    if amount >= total:
        return [total]
    if amount < minimum:
        return None
    first = max(amount, down)
    if first >= total:
        return [total]
    full, left = divmod(total - first, amount)
    count = 1 + full + (1 if left else 0)
    if left and left < minimum:
        count -= 1  # the small remainder joins the payment before it
    if count > max_count:
        return None
    amounts = [first] + [amount] * full
    if left:
        if left < minimum:
            amounts[-1] += left
        else:
            amounts.append(left)
    return amounts


def _equal_amounts(total: int, count: int, down: int) -> list[int]:
    """Equal split with leftover cents on the earliest payments; a higher down payment goes first."""
    base, left = divmod(total, count)
    if base + (1 if left else 0) >= down or count == 1:
        return [base + 1] * left + [base] * (count - left)
    base, left = divmod(total - down, count - 1)
    return [down] + [base + 1] * left + [base] * (count - 1 - left)


def _equal_ok(total: int, count: int, minimum: int, down: int) -> bool:
    if count == 1:
        return True
    base, left = divmod(total, count)
    if base + (1 if left else 0) >= down:
        return base >= minimum
    return total - down >= (count - 1) * minimum


def _regular(amounts: tuple[int, ...] | list[int]) -> int:
    """The usual payment: the largest after the first (which may be a down payment)."""
    return max(amounts[1:]) if len(amounts) > 1 else amounts[0]


def _money(cents: int) -> str:
    return format_cents(cents)
