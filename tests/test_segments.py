"""Issue 20 item 2: segments as policy (policy/segments.yml). Every account gets the first segment it fits and the
reason in words; the file is checked like the other policy files (field paths named, the rule book's FREQ-1 cap
respected); the export cannot carry a spreadsheet formula."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot import segments
from bot.db import session_scope
from bot.db.models import AccountStatus, ContactPreference, Installment, Payment, Plan
from tests.conftest import add_debtor

NOW = datetime(2026, 12, 1, 20, 0, tzinfo=timezone.utc)


def _plan(session, account, status: str) -> None:
    plan = Plan(reference=f"P{account.account_ref[-4:]}", account_id=account.id, kind="plan", frequency="monthly",
                balance_cents=account.balance_cents, total_cents=account.balance_cents, installment_count=1,
                terms_text="t", consented_at=NOW, consent_text="c")
    session.add(plan)
    session.flush()
    session.add(Installment(plan_id=plan.id, number=1, due_date=date(2026, 11, 1), amount_cents=100, status=status))


def test_each_account_lands_in_the_first_segment_it_fits_with_the_reason(sqlite_engine):
    """Mutations tried: `hold` compared the wrong way round (the ceased account fell to "low balance"); the
    payment history checking `paid` before `missed` (the broken promise read as paying)."""
    book = segments.load_segments()
    with session_scope(sqlite_engine) as session:
        _, ceased = add_debtor(session, account_ref="SEG-1", ssn_last4="0001", balance_cents=10_000)
        ceased.status = AccountStatus.CEASED
        add_debtor(session, account_ref="SEG-2", ssn_last4="0002", phone=None)
        _, broken = add_debtor(session, account_ref="SEG-3", ssn_last4="0003", phone="+15555550103")
        _plan(session, broken, "missed")
        session.add(Payment(reference="PAYSEG3", account_id=broken.id, method="checkout", amount_cents=100,
                            status="succeeded", applied_cents=100, applied_at=NOW))
        _, paying = add_debtor(session, account_ref="SEG-4", ssn_last4="0004", phone="+15555550104")
        session.add(Payment(reference="PAYSEG4", account_id=paying.id, method="checkout", amount_cents=100,
                            status="succeeded", applied_cents=100, applied_at=NOW))
        add_debtor(session, account_ref="SEG-5", ssn_last4="0005", phone="+15555550105", balance_cents=49_999)
        _, recent = add_debtor(session, account_ref="SEG-6", ssn_last4="0006", phone="+15555550106",
                               balance_cents=250_000)
        recent.itemization_date = (NOW - timedelta(days=30)).date()
        _, opted_out = add_debtor(session, account_ref="SEG-7", ssn_last4="0007", phone="+15555550107",
                                  balance_cents=100_000)
        session.add(ContactPreference(channel="sms", address="+15555550107", opted_out_at=NOW))
        add_debtor(session, account_ref="SEG-8", ssn_last4="0008", phone="+15555550108", balance_cents=100_000)
        session.flush()
        found = {a.facts.account_ref: (a.segment.name, a.reason) for a in segments.assign_all(session, book, NOW)}
    assert found["SEG-1"] == ("on_hold", "on hold (CEASE-1)")
    assert found["SEG-2"] == ("unreachable", "no channel to reach them")
    assert found["SEG-3"][0] == "broken_promise" and "missed a plan payment" in found["SEG-3"][1]
    assert found["SEG-4"][0] == "paying"
    assert found["SEG-5"][0] == "low_balance" and "balance $499.99 (at most $499.99)" in found["SEG-5"][1]
    assert found["SEG-6"] == ("high_balance_recent", "balance $2,500.00 (at least $2,000.00); "
                                                     "30 days old (at most 365)")
    assert found["SEG-7"][0] == "unreachable"  # OPT-3: an opted-out number reaches no one
    assert found["SEG-8"] == ("everyone_else", "matched no earlier segment")


def _file(**changes) -> dict:
    data = {"version": 1, "plan_variants": {"standard": {}},
            "segments": [{"name": "all", "label": "All", "priority": 1, "when": {},
                          "treatment": {"channels": ["sms"], "per_7_days": 1, "plan_variant": "standard"}}]}
    data["segments"][0]["treatment"].update(changes)
    return data


def test_FREQ_1_a_segment_may_not_ask_for_more_messages_than_the_rule_book_allows():
    """Mutation tried: the cap comparison removed -> 5 a week accepted against a cap of 3."""
    with pytest.raises(segments.SegmentsError) as refused:
        segments.parse_segments(_file(per_7_days=5), "segments.yml", cap_per_7_days=3)
    assert "segment 1 (all).treatment.per_7_days: 5 is above the rule book's cap of 3" in str(refused.value)
    assert segments.parse_segments(_file(per_7_days=3), "segments.yml", cap_per_7_days=3).segments


@pytest.mark.parametrize(("data", "expected"), [
    (_file(plan_variant="generous"), "segment 1 (all).treatment.plan_variant: one of the plan_variants (standard)"),
    (_file(channels=["fax"]), "segment 1 (all).treatment.channels: a list of sms, email"),
    ({**_file(), "segments": [{k: v for k, v in _file()["segments"][0].items() if k != "priority"}]},
     "segment 1 (all).priority: a whole number from 0 to 100"),
    ({**_file(), "segments": [{**_file()["segments"][0], "priority": 101}]}, "segment 1 (all).priority"),
    ({**_file(), "plan_variants": {"standard": {"max_term_months": 999}}}, "plan_variants.standard.max_term_months"),
    ({**_file(), "segments": [{"name": "big", "label": "Big", "when": {"balance": {"min": 10}},
                               "treatment": {"channels": [], "per_7_days": 0, "plan_variant": "standard"}}]},
     "the last segment must have an empty `when`"),
])
def test_a_bad_segments_file_names_the_field(data, expected):
    with pytest.raises(segments.SegmentsError) as refused:
        segments.parse_segments(data, "segments.yml", 3)
    assert expected in str(refused.value)


def test_the_shipped_segments_file_is_valid_against_the_shipped_contact_rules():
    book = segments.load_segments()
    assert book.segments[-1].name == "everyone_else" and "lenient" in book.plan_variants


def test_the_export_never_hands_a_spreadsheet_a_formula(sqlite_engine):
    """Mutation tried: as_csv without csv_cell -> the creditor cell starts with '=' and a spreadsheet runs it."""
    with session_scope(sqlite_engine) as session:
        add_debtor(session, account_ref="SEG-9", creditor='=HYPERLINK("http://x.test","click")')
        body = segments.as_csv(segments.assign_all(session, segments.load_segments(), NOW))
    assert "'=HYPERLINK" in body and ",=HYPERLINK" not in body


@given(balance=st.integers(0, 10**10), low=st.none() | st.integers(0, 10**10), high=st.none() | st.integers(0, 10**10))
def test_a_balance_band_includes_both_of_its_ends(balance, low, high):
    segment = segments.Segment("band", "Band", segments.Treatment((), 0, "standard"), balance=(low, high))
    facts = segments.AccountFacts("acc", "REF", "C", balance, 10, "never_paid", None, ("sms",))
    expected = (low is None or balance >= low) and (high is None or balance <= high)
    assert segment.check(facts)[0] is expected


def test_a_segments_plan_variant_changes_only_what_the_creditor_left_to_the_default(sqlite_engine):
    """"More lenient terms for low-value debtors": the low-balance segment's `lenient` variant ($15 installments,
    36 months) applies to a creditor without its own terms; Northwind's own 12 months and Acme's own $30 and 36
    months stay. Mutations tried: the creditor's fields laid under the variant instead of over it (Northwind got
    36 months); plan_variant_for returning {} (the Woodgrove account kept $25)."""
    from bot.plans.service import policy_for

    with session_scope(sqlite_engine) as session:
        _, woodgrove = add_debtor(session, account_ref="VAR-1", ssn_last4="0011", creditor="Woodgrove Bank",
                                  balance_cents=19_999, phone="+15555550111")
        _, northwind = add_debtor(session, account_ref="VAR-2", ssn_last4="0012", creditor="Northwind Credit Union",
                                  balance_cents=41_500, phone="+15555550112")
        _, acme = add_debtor(session, account_ref="VAR-3", ssn_last4="0013", creditor="Acme Bank",
                             balance_cents=30_000, phone="+15555550113")
        _, large = add_debtor(session, account_ref="VAR-4", ssn_last4="0014", creditor="Woodgrove Bank",
                              balance_cents=150_000, phone="+15555550114")
        terms = {a.account_ref: (p.min_installment_cents, p.max_term_months)
                 for a in (woodgrove, northwind, acme, large) for p in [policy_for(session, a)]}
    assert terms == {"VAR-1": (1500, 36), "VAR-2": (1500, 12), "VAR-3": (3000, 36), "VAR-4": (2500, 24)}
