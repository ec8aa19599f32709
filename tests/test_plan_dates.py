"""PLAN-1: what the debtor agrees to is what is stored. A monthly schedule's summary states the one rule its dates
follow (bot/plans/due_dates.py, which also made them), or lists each date; never "every month" over dates that
drift between the 6th and the 8th (the tester's SET-100009: Jan 6, Feb 8, Mar 8, Jun 7)."""

from __future__ import annotations

import re
from datetime import date, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.plans.affordability import parse_affordability
from bot.plans.due_dates import monthly_date
from bot.plans.engine import propose
from bot.plans.policy import DEFAULT_POLICY_PATH, load_policy
from bot.plans.terms import describe_schedule, format_date

DEFAULT = load_policy(DEFAULT_POLICY_PATH).default
_RULE = {"en": re.compile(r"Then \$[\d,.]+ on the (\d+)(?:st|nd|rd|th) of each month(?: \(or the last day of a shorter "
                          r"month\))? until (.+?) \(payments (\d+) to (\d+)\)\. If that day is a Saturday or Sunday, "
                          r"it's the Monday after\."),
         "es": re.compile(r"Luego \$[\d,.]+ el día (\d+) de cada mes(?: \(o el último día de un mes más corto\))? "
                          r"hasta el (.+?) \(pagos (\d+) a (\d+)\)\. Si ese día es sábado o domingo, es el lunes "
                          r"siguiente\.")}


def _schedule_matches_what_is_said(balance: int, said: str, today: date, language: str) -> None:
    for option in propose(balance, DEFAULT, parse_affordability(said), today=today).options:
        if option.frequency != "monthly" or option.count < 2:
            continue
        lines = describe_schedule(option, language=language)
        told: dict[int, str] = {}  # payment number -> what the debtor read about its date
        for line in lines:
            rule = _RULE[language].fullmatch(line)
            if rule:
                day, last, first_n, last_n = int(rule[1]), rule[2], int(rule[3]), int(rule[4])
                run = option.installments[first_n - 1:last_n]
                assert [i.due for i in run] == [monthly_date(i.due.year, i.due.month, day) for i in run], line
                assert last == format_date(run[-1].due, language)
                told.update({i.number: "rule" for i in run})
            else:
                number = int(line.split(".", 1)[0])
                assert line.startswith(f"{number}. {format_date(option.installments[number - 1].due, language)}:")
                told[number] = "listed"
        assert sorted(told) == list(range(1, option.count + 1)), lines  # every payment's date is told


def test_PLAN_1_the_drifting_dates_of_set_100009_are_summarised_by_the_rule_that_made_them() -> None:
    """$24,000 at $1,000 a month from a Tuesday the 6th: the stored dates are the 6th, 7th or 8th, and the summary
    says "on the 6th of each month ... If that day is a Saturday or Sunday, it's the Monday after." Mutation tried:
    `describe_schedule` back to "every month" for monthly runs -> the line no longer states the rule (this test
    and the Hypothesis one fail)."""
    option = propose(2400000, DEFAULT, parse_affordability("1000 a month on the 6th"),
                     today=date(2026, 1, 6)).options[0]
    days = {i.due.day for i in option.installments}
    assert {6, 7, 8} <= days  # the dates really do drift
    lines = describe_schedule(option)
    assert any(line.startswith("Then $1,000.00 on the 6th of each month until") for line in lines), lines
    assert not any("every month" in line for line in lines)
    _schedule_matches_what_is_said(2400000, "1000 a month on the 6th", date(2026, 1, 6), "en")


@settings(max_examples=60, deadline=None)
@given(balance=st.integers(50000, 5000000), day=st.integers(1, 31), offset=st.integers(0, 400),
       language=st.sampled_from(["en", "es"]))
def test_PLAN_1_every_monthly_date_stored_is_the_one_the_summary_tells(balance: int, day: int, offset: int,
                                                                       language: str) -> None:
    """For any balance, requested day and start date, in both languages, each payment's date is either listed or
    given by the stated rule, exactly. Mutation tried: `monthly_day` returning the first date's day without
    checking the others -> Hypothesis found a run the rule did not give."""
    _schedule_matches_what_is_said(balance, f"$100 a month on the {day}", date(2026, 1, 1) + timedelta(days=offset),
                                   language)
