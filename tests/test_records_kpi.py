"""The KPI dashboard's figures: each KPI counts exactly what its definition says, per day and for the range."""

from __future__ import annotations

from datetime import date, datetime, timezone

import pytest
from sqlalchemy import Engine

from bot import audit, conversations, handoff
from bot.db import session_scope
from bot.db.models import Installment, Payment, Plan
from bot.records import kpi
from tests.conftest import add_debtor

DAY1, DAY2 = date(2026, 11, 30), date(2026, 12, 1)


def _at(day: date, hour: int = 12) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=timezone.utc)


def test_six_kpis_with_numerators_denominators_and_a_daily_series(engine: Engine) -> None:
    with session_scope(engine) as session:
        _, account = add_debtor(session, balance_cents=90_00)
        verified = conversations.get_or_create(session, "sms", "+15555550101")
        verified.started_at, verified.verified_at, verified.account_id = _at(DAY1), _at(DAY1, 13), account.id
        audit.record(session, "dispute_recorded", rule_id="DSP-1", conversation_id=verified.id)
        handed = conversations.get_or_create(session, "web", "w-1")
        handed.started_at = _at(DAY2)
        handoff.request(session, handed.id, "request_human", rule_id="HO-1")
        later = conversations.get_or_create(session, "web", "w-2")
        later.started_at = _at(date(2026, 12, 5))  # outside the range
        session.add(Payment(reference="P-1", account_id=account.id, method="checkout", amount_cents=10_00,
                            status="succeeded", applied_cents=10_00, applied_at=_at(DAY2)))
        plan = Plan(reference="L-1", account_id=account.id, kind="plan", balance_cents=90_00, total_cents=90_00,
                    installment_count=3, terms_text="t", consented_at=_at(DAY1), consent_text="c")
        session.add(plan)
        session.flush()
        for n, (due, status) in enumerate(((DAY1, "paid"), (DAY2, "missed"), (DAY2, "scheduled")), 1):
            session.add(Installment(plan_id=plan.id, number=n, due_date=due, amount_cents=30_00, status=status))
    with session_scope(engine) as session:
        figures = {k.key: k for k in kpi.compute(session, DAY1, date(2026, 12, 2))}
    assert list(figures) == list(kpi.DEFINITIONS)
    assert (figures["right_party_contact_rate"].numerator, figures["right_party_contact_rate"].denominator) == (1, 2)
    assert figures["dispute_rate"].rate == 0.5 and figures["handoff_rate"].rate == 0.5
    assert figures["containment_rate"].series == [(DAY1, 1.0), (DAY2, 0.0)]
    assert (figures["recovery_rate"].numerator, figures["recovery_rate"].denominator) == (10_00, 100_00)
    assert figures["recovery_rate"].series == [(DAY1, 0.0), (DAY2, 0.1)]
    assert (figures["ptp_kept_rate"].numerator, figures["ptp_kept_rate"].denominator) == (1, 2)


def test_an_empty_range_has_no_rates_and_a_backwards_range_is_refused(engine: Engine) -> None:
    with session_scope(engine) as session:
        figures = kpi.compute(session, DAY1, DAY2)
        assert all(k.rate is None and k.denominator == 0 for k in figures)
        with pytest.raises(ValueError, match="after the start"):
            kpi.compute(session, DAY2, DAY1)
