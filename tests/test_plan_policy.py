"""Plan policy as data (policy/plan_policy.yml): the shipped file loads, and a bad file fails naming the field."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from bot.plans.policy import (
    DEFAULT_POLICY_PATH,
    DownPayment,
    PolicyError,
    SettlementOffer,
    current_policy,
    load_policy,
    parse_policy,
)

GOOD_DEFAULT = """\
default:
  frequencies: [monthly, weekly]
  min_installment: 25.00
  max_term_months: 24
  first_payment_within_days: 14
"""


def write_policy(tmp_path: Path, text: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """Write under tmp_path/policy/ and return the relative path, so messages read like the shipped file's."""
    (tmp_path / "policy").mkdir(exist_ok=True)
    (tmp_path / "policy" / "plan_policy.yml").write_text(text, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    return "policy/plan_policy.yml"


def load_error(tmp_path: Path, text: str, monkeypatch: pytest.MonkeyPatch) -> PolicyError:
    path = write_policy(tmp_path, text, monkeypatch)
    with pytest.raises(PolicyError) as info:
        load_policy(path)
    return info.value


# --- the shipped policy --------------------------------------------------------------------------------------


def test_shipped_policy_loads_with_a_sensible_default():
    book = load_policy(DEFAULT_POLICY_PATH)
    default = book.default
    assert set(default.frequencies) == {"weekly", "biweekly", "monthly"}
    assert default.min_installment_cents == 2500
    assert default.max_term_months == 24
    assert default.first_payment_within_days == 14
    assert default.fees == ()  # PLAN-1: no convenience fee by default
    assert default.settlement, "the default offers settlements by balance band"


def test_shipped_policy_overrides_demo_creditors_and_inherits_the_rest():
    book = load_policy(DEFAULT_POLICY_PATH)
    northwind = book.for_creditor("Northwind Credit Union")
    assert northwind.frequencies == ("monthly",)
    assert northwind.max_term_months == 12
    assert northwind.min_installment_cents == book.default.min_installment_cents  # not overridden: inherited
    assert northwind.down_payment == DownPayment(percent=Decimal(10))
    acme = book.for_creditor("Acme Bank")
    assert acme.name == "Acme Bank"
    assert acme.min_installment_cents == 3000
    assert acme.frequencies == book.default.frequencies


def test_creditor_lookup_ignores_case_and_spacing_and_falls_back_to_default():
    book = load_policy(DEFAULT_POLICY_PATH)
    assert book.for_creditor("  acme   BANK ") is book.for_creditor("Acme Bank")
    assert book.for_creditor("Contoso Card Services") is book.default
    assert book.for_creditor(None) is book.default


def test_the_running_policy_is_read_once_and_again_when_the_file_changes(tmp_path, monkeypatch):
    path = write_policy(tmp_path, GOOD_DEFAULT, monkeypatch)
    first = current_policy(path)
    assert current_policy(path) is first  # unchanged file: not parsed again
    (tmp_path / path).write_text(GOOD_DEFAULT.replace("25.00", "30.00"), encoding="utf-8")
    changed = current_policy(path)
    assert changed is not first and changed.default.min_installment_cents == 3000


def test_dollars_become_exact_cents_without_float_error(tmp_path, monkeypatch):
    # 0.29 and 1.15 are classic binary-float traps (0.29 * 100 = 28.999...).
    fee = "  fees:\n    - {name: setup fee, amount: 1.15, authorised_by: contract}\n"
    text = GOOD_DEFAULT.replace("25.00", "0.29") + fee
    book = load_policy(write_policy(tmp_path, text, monkeypatch))
    assert book.default.min_installment_cents == 29
    assert book.default.fees[0].amount_cents == 115


def test_an_override_may_set_any_subset_of_fields(tmp_path, monkeypatch):
    text = GOOD_DEFAULT + "creditors:\n  Acme Bank:\n    max_term_months: 6\n  Empty Co:\n"
    book = load_policy(write_policy(tmp_path, text, monkeypatch))
    acme = book.for_creditor("Acme Bank")
    assert (acme.max_term_months, acme.min_installment_cents, acme.frequencies) == (6, 2500, ("monthly", "weekly"))
    assert book.for_creditor("Empty Co").max_term_months == 24


# --- invalid files -------------------------------------------------------------------------------------------


def test_negative_minimum_names_the_field_path_and_the_value(tmp_path, monkeypatch):
    error = load_error(tmp_path, GOOD_DEFAULT + "creditors:\n  Acme Bank:\n    min_installment: -5\n", monkeypatch)
    assert str(error) == (
        'policy/plan_policy.yml: creditors.Acme Bank.min_installment: must be a positive amount in dollars, got "-5"'
    )


def test_plan1_fee_without_authorised_by_is_rejected(tmp_path, monkeypatch):
    text = GOOD_DEFAULT + "  fees:\n    - {name: convenience fee, amount: 3.00}\n"
    error = load_error(tmp_path, text, monkeypatch)
    assert "default.fees[0].authorised_by: is required" in str(error)
    assert "PLAN-1" in str(error)


def test_plan1_fee_authority_must_be_contract_or_state_law(tmp_path, monkeypatch):
    text = GOOD_DEFAULT + "  fees:\n    - {name: convenience fee, amount: 3.00, authorised_by: company_policy}\n"
    error = load_error(tmp_path, text, monkeypatch)
    assert 'default.fees[0].authorised_by: must be contract or state_law, got "company_policy"' in str(error)


def test_unknown_frequency_is_named_with_its_position(tmp_path, monkeypatch):
    error = load_error(tmp_path, GOOD_DEFAULT.replace("[monthly, weekly]", "[monthly, daily]"), monkeypatch)
    assert 'default.frequencies[1]: unknown frequency "daily"' in str(error)


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        ("creditors:\n  Acme Bank:\n    min_instalment: 30\n", "creditors.Acme Bank.min_instalment: unknown field"),
        ("version: 2\n", "version: unknown key"),
        ("  settlement:\n    - {min_balance: 100, max_discount_percent: 10, note: hi}\n",
         "default.settlement[0].note: unknown field"),
        ("  fees:\n    - {name: x, amount: 1, authorised_by: contract, waived: no}\n",
         "default.fees[0].waived: unknown"),
    ],
)
def test_unknown_keys_are_errors_not_silently_ignored(tmp_path, monkeypatch, extra, expected):
    assert expected in str(load_error(tmp_path, GOOD_DEFAULT + extra, monkeypatch))


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        ("creditors:\n  X:\n    max_term_months: 0\n", 'creditors.X.max_term_months: must be a whole number from 1'),
        ("creditors:\n  X:\n    max_term_months: 12.5\n", 'creditors.X.max_term_months: must be a whole number'),
        ("creditors:\n  X:\n    first_payment_within_days: -1\n", "creditors.X.first_payment_within_days"),
        ("creditors:\n  X:\n    frequencies: []\n", "creditors.X.frequencies: must be a non-empty list"),
        ("creditors:\n  X:\n    frequencies: [weekly, weekly]\n", "creditors.X.frequencies[1]: weekly is listed twice"),
        ("creditors:\n  X:\n    min_installment: 25.001\n",
         'creditors.X.min_installment: must be a positive amount in dollars, got "25.001"'),
        ("creditors:\n  X:\n    min_installment: 0\n", 'creditors.X.min_installment: must be a positive amount'),
        ("creditors:\n  X:\n    down_payment: {percent: 120}\n", "creditors.X.down_payment.percent: must be a percent"),
        ("creditors:\n  X:\n    down_payment: {percent: 10, amount: 50}\n", "creditors.X.down_payment: must be"),
        ("creditors:\n  X:\n    settlement:\n      - {min_balance: 100, max_discount_percent: 100}\n",
         "creditors.X.settlement[0].max_discount_percent: must be more than 0 and less than 100"),
        ("creditors:\n  X:\n    settlement:\n      - {min_balance: 500, max_balance: 100, max_discount_percent: 5}\n",
         "creditors.X.settlement[0].max_balance: must be an amount in dollars no lower than min_balance"),
        ("creditors:\n  X:\n    settlement:\n      - {max_discount_percent: 5}\n",
         "creditors.X.settlement[0].min_balance: is required"),
        ("creditors:\n  X:\n    fees:\n      - {name: late, amount: -1, authorised_by: contract}\n",
         "creditors.X.fees[0].amount: must be a positive amount"),
        ("creditors:\n  X: 12\n", "creditors.X: must be a mapping"),
    ],
)
def test_bad_values_fail_naming_the_field(tmp_path, monkeypatch, extra, expected):
    error = load_error(tmp_path, GOOD_DEFAULT + extra, monkeypatch)
    assert expected in str(error)
    assert str(error).startswith("policy/plan_policy.yml: ")


def test_all_problems_are_reported_together(tmp_path, monkeypatch):
    text = GOOD_DEFAULT + (
        "creditors:\n"
        "  Acme Bank:\n    min_installment: -5\n    frequencies: [hourly]\n"
        "  Northwind Credit Union:\n    fees:\n      - {name: convenience fee, amount: 2.50}\n"
    )
    error = load_error(tmp_path, text, monkeypatch)
    assert len(error.problems) == 3
    assert all(line.startswith("policy/plan_policy.yml: creditors.") for line in str(error).splitlines())


def test_default_must_define_every_required_field(tmp_path, monkeypatch):
    error = load_error(tmp_path, "default:\n  frequencies: [monthly]\n", monkeypatch)
    for field in ("min_installment", "max_term_months", "first_payment_within_days"):
        assert f"default.{field}: is required" in str(error)


def test_duplicate_keys_are_reported_not_silently_overwritten(tmp_path, monkeypatch):
    error = load_error(tmp_path, GOOD_DEFAULT + "  min_installment: 5.00\n", monkeypatch)
    assert "min_installment is set twice" in str(error)


def test_the_same_creditor_twice_in_different_case_is_an_error(tmp_path, monkeypatch):
    text = GOOD_DEFAULT + "creditors:\n  Acme Bank: {max_term_months: 6}\n  ACME bank: {max_term_months: 9}\n"
    assert "creditors.ACME bank: same creditor as 'Acme Bank'" in str(load_error(tmp_path, text, monkeypatch))


@pytest.mark.parametrize("text", ["default: [\n", "- just\n- a list\n", ""])
def test_unreadable_or_wrong_shape_files_fail_cleanly(tmp_path, monkeypatch, text):
    assert str(load_error(tmp_path, text, monkeypatch)).startswith("policy/plan_policy.yml: ")


def test_missing_file_is_a_policy_error(tmp_path):
    with pytest.raises(PolicyError, match="cannot read the file"):
        load_policy(tmp_path / "nope.yml")


# --- the policy's own arithmetic -----------------------------------------------------------------------------


def test_settlement_floor_rounds_up_to_the_cent():
    offer = SettlementOffer(min_balance_cents=0, max_discount_percent=Decimal(10))
    assert offer.floor_cents(33_333) == 30_000  # 29,999.7 cents -> 30,000: never below the floor
    assert offer.floor_cents(240_000) == 216_000
    assert SettlementOffer(0, Decimal("12.5")).floor_cents(1) == 1


def test_settlement_bands_are_inclusive_and_unknown_age_never_meets_a_minimum():
    offer = SettlementOffer(min_balance_cents=500, max_balance_cents=1000, max_discount_percent=Decimal(5),
                            min_account_age_days=90)
    assert offer.applies(500, 90) and offer.applies(1000, 365)
    assert not offer.applies(499, 365) and not offer.applies(1001, 365)
    assert not offer.applies(700, 89) and not offer.applies(700, None)


def test_best_settlement_offer_for_the_debtor_is_chosen():
    book = load_policy(DEFAULT_POLICY_PATH)
    young, old = book.default.settlement_offer(1_500_000, 30), book.default.settlement_offer(1_500_000, 400)
    assert young is not None and old is not None
    assert old.floor_cents(1_500_000) < young.floor_cents(1_500_000)
    assert book.default.settlement_offer(10_000, None) is None  # $100: below every band


def test_down_payment_percent_rounds_up_and_never_exceeds_the_total():
    assert DownPayment(percent=Decimal(10)).required_cents(12_345) == 1_235
    assert DownPayment(amount_cents=50_000).required_cents(20_000) == 20_000


def test_parse_policy_accepts_already_parsed_data():
    book = parse_policy({"default": {"frequencies": ["weekly"], "min_installment": 10,
                                     "max_term_months": 3, "first_payment_within_days": 0}})
    assert book.default.min_installment_cents == 1000
