"""Plan engine and terms text: every option obeys the creditor's policy, sums exactly, and is described in
full (PLAN-1); the debtor's own proposal is accepted when compliant, otherwise the nearest compliant one or a
person (PLAN-4); nothing ever suggests borrowing (PLAN-4)."""

from __future__ import annotations

import calendar
import re
from datetime import date, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.plans.affordability import Affordability, parse_affordability
from bot.plans.engine import propose
from bot.plans.options import PlanOption, Proposal
from bot.plans.policy import DEFAULT_POLICY_PATH, PlanPolicy, load_policy, parse_policy
from bot.plans.terms import describe_option, describe_schedule, format_date

BOOK = load_policy(DEFAULT_POLICY_PATH)
DEFAULT = BOOK.default
TODAY = date(2026, 3, 6)  # a Friday
BORROWING = re.compile(
    r"\b(loans?|borrow\w*|lend\w*|credit\s+cards?|cash\s+advances?|advance|friends?|family|relatives?|payday\s+lend)",
    re.IGNORECASE,
)


def policy(**fields) -> PlanPolicy:
    base = {"frequencies": ["monthly", "biweekly", "weekly"], "min_installment": "25.00", "max_term_months": 24,
            "first_payment_within_days": 14}
    return parse_policy({"default": {**base, **fields}}).default


def plan(balance: int, said: str = "", pol: PlanPolicy = DEFAULT, today: date = TODAY, **kw) -> Proposal:
    return propose(balance, pol, parse_affordability(said), today=today, **kw)


def add_months(day: date, months: int) -> date:
    year, month = divmod(day.month - 1 + months, 12)
    year, month = day.year + year, month + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def assert_compliant(option: PlanOption, pol: PlanPolicy, balance: int, today: date,
                     account_age_days: int | None = None) -> None:
    """Every rule an option must obey, whatever produced it."""
    amounts = [i.amount_cents for i in option.installments]
    dues = [i.due for i in option.installments]
    assert [i.number for i in option.installments] == list(range(1, option.count + 1))
    assert all(a > 0 for a in amounts)
    assert all(earlier < later for earlier, later in zip(dues, dues[1:], strict=False)), "dates strictly increase"
    assert today <= option.first_due <= today + timedelta(days=pol.first_payment_within_days)
    assert sum(amounts) == option.total_cents, "installments sum exactly to the total"
    if option.kind == "plan":
        assert option.count >= 2
        assert option.frequency in pol.frequencies
        assert option.fee_cents == pol.fee_cents and option.fees == pol.fees
        assert option.total_cents == balance + pol.fee_cents, "PLAN-1: instalments sum to the balance (+ fees)"
        assert min(amounts) >= pol.min_installment_cents
        if pol.down_payment:
            assert amounts[0] >= pol.down_payment.required_cents(option.total_cents)
        assert option.last_due <= add_months(option.first_due, pol.max_term_months)
        assert all(d.weekday() < 5 for d in dues[1:]), "every frequency's dates move off weekends"
    elif option.kind == "pay_in_full":
        assert (option.count, option.total_cents, option.fee_cents) == (1, balance, 0)
    else:
        assert option.kind == "settlement" and option.count == 1 and option.fee_cents == 0
        offer = pol.settlement_offer(balance, account_age_days)
        assert offer is not None
        assert offer.floor_cents(balance) <= option.total_cents < balance, "never below the settlement floor"
    window = [today + timedelta(days=n) for n in range(pol.first_payment_within_days + 1)]
    if any(d.weekday() < 5 for d in window):
        assert option.first_due.weekday() < 5, "the first payment is on a business day when the window has one"


def all_text(proposal: Proposal) -> str:
    parts = [proposal.refusal or "", proposal.note or ""]
    for option in proposal.options:
        parts.append(describe_option(option))
        parts.extend(describe_schedule(option))
    return "\n".join(parts)


# --- acceptance -----------------------------------------------------------------------------------------------


def test_acceptance_150_a_month_on_2400_is_16_monthly_payments_of_150():
    proposal = plan(240_000, "$150 a month")
    first = proposal.options[0]
    assert (first.kind, first.frequency, first.count, first.total_cents) == ("plan", "monthly", 16, 240_000)
    assert set(first.amounts) == {15_000}
    assert first.matches_request and proposal.note is None and not proposal.needs_person
    assert describe_option(first).startswith("16 monthly payments of $150.00, from Friday, March 6, 2026")
    assert "Total: $2,400.00. No fees." in describe_option(first)


# --- refusals ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("status", ["disputed", "ceased", "bankrupt", "deceased", "paid", "closed", "mystery"])
def test_accounts_that_are_not_collectible_get_a_plain_refusal_and_no_options(status):
    proposal = plan(240_000, "$150 a month", account_status=status)
    assert proposal.options == ()
    assert proposal.refusal and "person" in proposal.refusal  # always a next step (VOICE.md)


def test_only_the_database_active_status_is_collectible_and_every_other_status_has_its_own_reason():
    from bot.db.models import AccountStatus
    from bot.plans.engine import _REFUSALS, COLLECTIBLE_STATUS

    assert COLLECTIBLE_STATUS == AccountStatus.ACTIVE
    assert set(_REFUSALS) == set(AccountStatus.ALL) - {AccountStatus.ACTIVE}


def test_nothing_owed_is_refused_not_planned():
    assert plan(0, "$50 a month").refusal and plan(-100).options == ()


# --- the debtor's own proposal (PLAN-4) ------------------------------------------------------------------------


def test_plan4_a_compliant_request_is_option_one_exactly():
    proposal = plan(100_000, "$50 every two weeks on fridays")
    first = proposal.options[0]
    assert first.matches_request and first.frequency == "biweekly"
    assert first.amounts == (5_000,) * 20
    assert all(i.due.weekday() == 4 for i in first.installments)
    assert all((b.due - a.due).days == 14 for a, b in zip(first.installments, first.installments[1:], strict=False))


def test_remainder_of_a_requested_amount_is_a_smaller_last_payment():
    first = plan(243_000, "$150 a month").options[0]
    assert first.amounts == (15_000,) * 16 + (3_000,)


def test_a_remainder_below_the_minimum_joins_the_payment_before_it():
    first = plan(241_000, "$150 a month").options[0]  # 16 x 150 leaves $10, below the $25 minimum
    assert first.amounts == (15_000,) * 15 + (16_000,)
    assert first.matches_request


def test_plan4_amount_below_the_minimum_gets_the_nearest_compliant_plan_and_a_note():
    proposal = plan(100_000, "$20 a month")
    first = proposal.options[0]
    assert not first.matches_request
    assert min(first.amounts) >= DEFAULT.min_installment_cents
    assert "smallest plan payment is $25.00" in proposal.note
    assert not proposal.needs_person  # $25 is close to $20


def test_plan4_amount_too_small_to_finish_within_the_term_gets_the_nearest_plan():
    proposal = plan(240_000, "$60 a month", pol=BOOK.for_creditor("Northwind Credit Union"))
    first = proposal.options[0]
    assert first.frequency == "monthly" and first.count == 12  # the longest Northwind allows
    assert "longer than 12 months" in proposal.note
    assert proposal.needs_person  # ~$196 a month is more than twice $60: a person takes over


def test_plan4_far_below_policy_hands_off_to_a_person():
    proposal = plan(240_000, "$5 a week")
    assert proposal.needs_person and "person" in proposal.note
    assert proposal.options, "still shows the nearest compliant options"


def test_a_frequency_the_creditor_doesnt_offer_gets_an_equivalent_allowed_one():
    proposal = plan(240_000, "$150 a week", pol=BOOK.for_creditor("Northwind Credit Union"))
    first = proposal.options[0]
    assert first.frequency == "monthly" and max(first.amounts) <= 150 * 52 // 12 * 100
    assert "Weekly payments aren't available" in proposal.note
    assert not proposal.needs_person


def test_amount_without_frequency_is_per_payment():
    first = plan(100_000, "$50 each paycheck").options[0]
    assert first.matches_request and set(first.amounts) == {5_000}


def test_amount_covering_the_balance_is_pay_in_full():
    first = plan(50_000, "I can pay $600").options[0]
    assert first.kind == "pay_in_full" and first.amounts == (50_000,) and first.matches_request


def test_no_request_offers_the_smallest_payments_first_then_other_choices():
    proposal = plan(240_000)
    assert [o.kind for o in proposal.options] == ["plan", "plan", "settlement"]
    assert proposal.options[0].count == 25  # monthly, 24 months after the first
    assert not any(o.matches_request for o in proposal.options)


def test_a_balance_below_the_minimum_is_one_payment_of_the_whole_balance():
    proposal = plan(2_000, "$20 a month")
    assert [o.kind for o in proposal.options] == ["pay_in_full"]
    assert proposal.options[0].amounts == (2_000,)


# --- amounts: the remainder rule ------------------------------------------------------------------------------


def test_equal_split_puts_leftover_cents_on_the_earliest_payments():
    pol = policy(frequencies=["monthly"], max_term_months=2, min_installment="0.01")
    first = plan(10_000, pol=pol).options[0]
    assert first.amounts == (3_334, 3_333, 3_333)
    assert max(first.amounts) - min(first.amounts) <= 1


def test_down_payment_is_honoured_before_the_requested_amount():
    pol = policy(down_payment={"percent": 25}, frequencies=["monthly"], max_term_months=12)
    proposal = plan(100_000, "$100 a month", pol=pol)
    first = proposal.options[0]
    assert first.amounts == (25_000,) + (10_000,) * 7 + (5_000,)
    assert not first.matches_request  # the first payment is more than they offered
    assert proposal.note == "The first payment has to be at least $250.00."


def test_down_payment_goes_first_and_the_rest_is_split_equally():
    pol = policy(down_payment={"amount": "400.00"}, frequencies=["monthly"], max_term_months=2)
    first = plan(100_000, pol=pol).options[0]
    assert first.amounts == (40_000, 30_000, 30_000)


def test_no_down_payment_note_when_the_equal_split_already_covers_it():
    pol = policy(down_payment={"percent": 25}, frequencies=["monthly"], max_term_months=3)
    proposal = plan(100_000, pol=pol)
    assert proposal.options[0].amounts[0] >= 25_000 and proposal.note is None


def test_plan1_fees_are_added_to_plans_only_and_listed():
    pol = policy(fees=[{"name": "plan setup fee", "amount": "5.00", "authorised_by": "contract"}])
    proposal = plan(100_000, "$100 a month", pol=pol)
    first = proposal.options[0]
    assert first.total_cents == 100_500 and first.fee_cents == 500 and sum(first.amounts) == 100_500
    assert "Includes $5.00 in fees: plan setup fee $5.00 (allowed by your contract)." in describe_option(first)
    single = [o for o in proposal.options if o.count == 1]
    assert single and all(o.fee_cents == 0 and "No fees." in describe_option(o) for o in single)


# --- dates ------------------------------------------------------------------------------------------------------


def test_monthly_31st_clamps_to_month_end_and_weekends_move_to_monday():
    pol = policy(frequencies=["monthly"], first_payment_within_days=31, max_term_months=12)
    first = plan(120_000, "$100 a month on the 31st", pol=pol, today=date(2026, 1, 2)).options[0]
    dues = [i.due for i in first.installments]
    assert dues[:4] == [
        date(2026, 2, 2),  # Sat Jan 31 -> Mon Feb 2
        date(2026, 3, 2),  # Feb 28 (clamped) is a Saturday -> Mon Mar 2
        date(2026, 3, 31),  # back to the 31st
        date(2026, 4, 30),  # April has 30 days
    ]


def test_monthly_clamps_to_feb_29_in_a_leap_year():
    pol = policy(frequencies=["monthly"], first_payment_within_days=30)
    dues = [i.due for i in plan(60_000, "$100 a month on the 31st", pol=pol, today=date(2028, 1, 20))
            .options[0].installments]
    assert date(2028, 2, 29) in dues  # a Tuesday


def test_weekly_is_anchored_on_the_requested_weekday():
    first = plan(100_000, "$50 every monday").options[0]
    assert first.first_due == date(2026, 3, 9)
    assert all(i.due.weekday() == 0 for i in first.installments)


SUNDAY = date(2026, 12, 6)


@pytest.mark.parametrize("said", ["every two weeks", "$50 every two weeks", "$40 a week", "every week"])
def test_weekly_and_biweekly_dates_move_off_weekends_like_monthly_ones(said):
    """The every-two-weeks option fell on Sundays throughout ("from Sunday, December 6, 2026", today) while the
    monthly one started Monday, December 7: one business-day rule for every frequency now (PLAN-1: each date is
    one the payment can be taken on). Mutation tried: _anchored yielding weekly dates unmoved -> fails."""
    proposal = plan(240_000, said, today=SUNDAY)
    for option in proposal.options:
        assert all(i.due.weekday() < 5 for i in option.installments), [i.due for i in option.installments]
        assert option.first_due == date(2026, 12, 7)  # the Monday, as monthly
        assert sum(i.amount_cents for i in option.installments) == option.total_cents


def test_a_requested_saturday_is_taken_on_the_monday_after_each_time():
    first = plan(100_000, "$50 every saturday", today=TODAY).options[0]
    assert first.first_due == date(2026, 3, 9)
    assert all(i.due.weekday() == 0 for i in first.installments)
    assert all((b.due - a.due).days == 7 for a, b in zip(first.installments, first.installments[1:], strict=False))


def test_requested_day_beyond_the_first_payment_window_starts_on_the_last_allowed_weekday():
    proposal = plan(240_000, "$150 a month on the 31st", today=TODAY)  # window ends Friday March 20
    first = proposal.options[0]
    assert first.first_due == date(2026, 3, 20)
    assert first.installments[1].due == date(2026, 4, 30)  # half a month later at least, then on the anchor
    assert "first payment has to be by Friday, March 20, 2026" in proposal.note


def test_the_last_payment_is_within_max_term_months_of_the_first():
    first = plan(10_000_000, "every week").options[0]
    assert first.last_due <= add_months(first.first_due, DEFAULT.max_term_months)
    assert first.count == 105


def test_first_payment_window_of_zero_days_means_today():
    pol = policy(first_payment_within_days=0)
    for option in plan(100_000, "$50 every tuesday on the 15th", pol=pol).options:
        assert option.first_due == TODAY


# --- settlement -------------------------------------------------------------------------------------------------


def test_settlement_is_offered_at_the_floor_for_the_balance_band():
    settlement = [o for o in plan(240_000).options if o.kind == "settlement"]
    assert settlement and settlement[0].total_cents == 204_000  # 15% off $2,400
    assert "settles this account in full" in describe_option(settlement[0])


def test_settlement_needing_account_age_is_offered_only_when_old_enough():
    young = plan(1_500_000, account_age_days=30).options[-1]
    old = plan(1_500_000, account_age_days=400).options[-1]
    unknown = plan(1_500_000).options[-1]
    assert (young.total_cents, old.total_cents, unknown.total_cents) == (1_200_000, 1_050_000, 1_200_000)


def test_without_a_settlement_offer_pay_in_full_is_the_lump_sum():
    assert plan(10_000).options[-1].kind == "pay_in_full"  # $100: below every settlement band


# --- terms text (PLAN-1, VOICE.md) -------------------------------------------------------------------------------


def test_format_date_spells_the_date_out():
    assert format_date(date(2026, 3, 6)) == "Friday, March 6, 2026"


def test_plan1_terms_show_total_count_every_amount_and_date_and_fees():
    first = plan(100_000, "$300 a month").options[0]
    text = describe_option(first)
    assert "4 monthly payments: 3 of $300.00, then 1 of $100.00" in text
    assert "Total: $1,000.00" in text and "No fees." in text
    assert describe_schedule(first) == [
        "1. Friday, March 6, 2026: $300.00",
        "2. Monday, April 6, 2026: $300.00",
        "3. Wednesday, May 6, 2026: $300.00",
        "4. Monday, June 8, 2026: $100.00",
    ]


def test_long_schedules_are_summarised_but_exact():
    first = plan(260_000, "$25 a week").options[0]
    assert first.count == 104
    lines = describe_schedule(first)
    assert len(lines) <= 6
    assert lines[0] == "1. Friday, March 6, 2026: $25.00"
    assert lines[-1] == f"Then $25.00 every week until {format_date(first.last_due)} (payments 4 to 104)."
    assert f"104 weekly payments of $25.00, from Friday, March 6, 2026 to {format_date(first.last_due)}" in (
        describe_option(first))


def test_terms_are_sms_sized():
    for option in plan(240_000, "$150 a month").options:
        assert len(describe_option(option)) <= 320  # two SMS segments


# --- properties ---------------------------------------------------------------------------------------------------

money = st.integers(1, 50_000).map(lambda c: f"{c // 100}.{c % 100:02d}")
percent = st.integers(1, 9_999).map(lambda bp: f"{bp // 100}.{bp % 100:02d}")
offers = st.fixed_dictionaries(
    {"min_balance": st.integers(0, 2_000_000).map(lambda c: f"{c // 100}.{c % 100:02d}"),
     "max_discount_percent": percent},
    optional={"max_balance": st.just("999999.99"), "min_account_age_days": st.integers(0, 1000)},
)
policies = st.fixed_dictionaries(
    {
        "frequencies": st.lists(st.sampled_from(["weekly", "biweekly", "monthly"]), min_size=1, max_size=3,
                                unique=True),
        "min_installment": money,
        "max_term_months": st.integers(1, 120),
        "first_payment_within_days": st.integers(0, 90),
    },
    optional={
        "down_payment": st.one_of(st.none(), st.fixed_dictionaries({"percent": st.integers(0, 100)}),
                                  st.fixed_dictionaries({"amount": money})),
        "settlement": st.lists(offers, max_size=3),
        "fees": st.lists(st.fixed_dictionaries({"name": st.just("plan fee"), "amount": money,
                                                "authorised_by": st.sampled_from(["contract", "state_law"])}),
                         max_size=2),
    },
).map(lambda fields: parse_policy({"default": fields}).default)
affordabilities = st.builds(
    Affordability,
    amount_cents=st.one_of(st.none(), st.integers(1, 200_000_000), st.integers(1, 10_000)),
    frequency=st.one_of(st.none(), st.sampled_from(["weekly", "biweekly", "monthly"])),
    weekday=st.one_of(st.none(), st.integers(0, 6)),
    day_of_month=st.one_of(st.none(), st.integers(1, 31)),
)
balances = st.one_of(st.integers(1, 100_000_000), st.integers(1, 10_000))
days = st.dates(min_value=date(2020, 1, 1), max_value=date(2040, 12, 31))
ages = st.one_of(st.none(), st.integers(0, 5_000))


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(balance=balances, pol=policies, wanted=affordabilities, today=days, age=ages)
def test_every_option_obeys_its_policy_for_any_valid_input(balance, pol, wanted, today, age):
    """Valid input never raises; every option is compliant and sums exactly (PLAN-1); settlement never below its
    floor; the requested amount is kept exactly when option 1 matches it (PLAN-4)."""
    proposal = propose(balance, pol, wanted, today=today, account_age_days=age)
    assert proposal.refusal is None
    assert 1 <= len(proposal.options) <= 3
    assert len({o.installments for o in proposal.options}) == len(proposal.options), "no duplicate options"
    for option in proposal.options:
        assert_compliant(option, pol, balance, today, age)
    first = proposal.options[0]
    if first.matches_request and first.kind == "plan" and wanted.amount_cents:
        assert set(first.amounts[1:-1]) <= {wanted.amount_cents}
        if wanted.frequency:
            assert first.frequency == wanted.frequency
    if proposal.needs_person:
        assert wanted.amount_cents is not None and proposal.note


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(balance=balances, pol=policies, wanted=affordabilities, today=days,
       status=st.sampled_from(["active", "disputed", "ceased", "bankrupt", "deceased", "paid", "closed"]))
def test_plan4_no_text_ever_suggests_borrowing(balance, pol, wanted, today, status):
    proposal = propose(balance, pol, wanted, today=today, account_status=status)
    text = all_text(proposal)
    assert not BORROWING.search(text), text


def test_borrowing_check_would_catch_the_words():
    assert BORROWING.search("Maybe ask family or take a cash advance")
