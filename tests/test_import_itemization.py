"""Issue 17: the portfolio import's optional columns for the validation notice (DISC-5, 12 CFR 1006.34(c)(2)): the
itemization date and amount then, interest, fees and payments since, and the debtor's mailing address. Checked per
row (all-or-nothing, row-level errors), stored on the fields the notice reads, and left alone by a file without
them. Both backends."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from bot.compliance import notice_document
from bot.db import session_scope
from bot.db.models import Account, Debtor
from bot.portfolio_import import COLUMNS, import_accounts
from tests.test_portfolio_import import GOOD, problems, snapshot

SENT = datetime(2026, 12, 2, 20, 0, tzinfo=timezone.utc)
ITEMIZED = {"itemization_date": "2026-06-30", "itemization_balance": "90.00", "interest_since": "12.50",
            "fees_since": "25.00", "payments_since": "27.50", "postal_address": "1 Main St; Apt 4; Chicago, IL 60614"}


def portfolio(tmp_path: Path, name: str, *rows: dict[str, str]) -> Path:
    """A CSV with the required columns and whatever optional ones the rows carry (quoted where needed)."""
    header = list(COLUMNS) + [k for k in rows[0] if k not in COLUMNS]
    out = io.StringIO()
    writer = csv.DictWriter(out, header, lineterminator="\n")
    writer.writeheader()
    writer.writerows({**GOOD, **row} for row in rows)
    path = tmp_path / f"{name}.csv"
    path.write_text(out.getvalue(), encoding="utf-8")
    return path


def _stored(engine: Engine) -> tuple[tuple[object, ...], str | None]:
    with session_scope(engine) as session:
        account = session.scalars(select(Account).where(Account.account_ref == GOOD["account_ref"])).one()
        debtor = session.get(Debtor, account.debtor_id)
        return (account.itemization_date, account.itemization_cents, account.interest_since_cents,
                account.fees_since_cents), debtor.postal_address


def test_DISC_5_the_import_stores_the_itemization_and_mailing_address_the_validation_notice_states(engine, tmp_path):
    """$90.00 on June 30 + $12.50 interest + $25.00 fees - $27.50 paid = the $100.00 balance. Mutation tried:
    _ACCOUNT_FIELDS without _ITEMIZATION (what an import wrote before) -> fails."""
    import_accounts(engine, portfolio(tmp_path, "itemized", ITEMIZED))
    assert _stored(engine) == ((date(2026, 6, 30), 9000, 1250, 2500), "1 Main St\nApt 4\nChicago, IL 60614")
    with session_scope(engine) as session:
        account = session.scalars(select(Account).where(Account.account_ref == GOOD["account_ref"])).one()
        document = notice_document.build(session, account, SENT)
    assert (document["itemization_date"], document["itemization_cents"], document["interest_cents"],
            document["fees_cents"], document["paid_or_credited_cents"], document["current_cents"]) == \
        ("2026-06-30", 9000, 1250, 2500, 2750, 10000)
    assert document["consumer_address"] == ["1 Main St", "Apt 4", "Chicago, IL 60614"]


def test_DISC_5_the_example_file_in_the_readme_imports(engine):
    """data/portfolio_itemized_example.csv, the README's example of the optional columns."""
    from bot.config import PROJECT_ROOT

    assert import_accounts(engine, PROJECT_ROOT / "data" / "portfolio_itemized_example.csv").accounts_created == 2
    with session_scope(engine) as session:
        robin, casey = session.scalars(select(Account).order_by(Account.account_ref)).all()
        assert (robin.itemization_cents, robin.interest_since_cents, robin.fees_since_cents) == (120000, 2106, 2500)
        assert session.get(Debtor, robin.debtor_id).postal_address == "1 Main St\nApt 4\nChicago, IL 60614"
        assert (casey.itemization_date, casey.itemization_cents, casey.fees_since_cents) == (date(2026, 5, 31),
                                                                                             50000, 0)


TOMORROW = (date.today() + timedelta(days=1)).isoformat()  # the importer's own "today" (like dob's)


@pytest.mark.parametrize(("change", "field", "reason"), [
    ({"itemization_date": TOMORROW}, "itemization_date", "is in the future"),
    ({"itemization_date": "30/06/2026"}, "itemization_date", "must be a date written YYYY-MM-DD"),
    ({"fees_since": "-5.00"}, "fees_since", "is negative"),
    ({"itemization_balance": "abc"}, "itemization_balance", "is not a dollar amount"),
    ({"payments_since": "20.00"}, "itemization_balance",
     "does not add up: $90.00 + interest $12.50 + fees $25.00 - payments $20.00 is $107.50, not the balance $100.00"),
    ({"payments_since": "", "interest_since": "", "fees_since": ""}, "itemization_balance",
     "does not add up: the balance $100.00 is more than $90.00 + interest $0.00 + fees $0.00 = $90.00"),
    ({"itemization_balance": ""}, "itemization_balance", "is required when the row gives an itemization"),
    ({"postal_address": "a;b;c;d;e;f;g"}, "postal_address", "has 7 lines; at most 6"),
], ids=["future", "not_iso", "negative", "not_money", "payments_mismatch", "short_of_balance", "no_amount",
        "address_lines"])
def test_DISC_5_a_bad_itemization_row_is_reported_with_its_line_and_nothing_is_imported(
        engine, tmp_path, change, field, reason):
    """Mutation tried: dropping the "does not add up" checks in _RowValidator._itemization -> the two add-up cases
    import a notice that could never be written truthfully, fail."""
    other = {**ITEMIZED, "account_ref": "SET-900002"}
    before = snapshot(engine)
    path = portfolio(tmp_path, "bad", other, {**ITEMIZED, **change})
    [problem] = problems(path)
    assert (problem.line, problem.field) == (3, field) and reason in problem.reason, problem
    with pytest.raises(Exception, match="nothing was imported"):
        import_accounts(engine, path)
    assert snapshot(engine) == before


def test_DISC_5_a_file_without_the_columns_or_with_them_empty_keeps_what_is_stored(engine, tmp_path):
    """A later file of only the required columns (a new balance the stored itemization still explains) or with the
    itemization cells empty changes neither the itemization nor the address. Mutation tried: using the row's
    itemization even when None (no `or known`) -> the stored itemization is wiped, fails."""
    import_accounts(engine, portfolio(tmp_path, "first", ITEMIZED))
    kept = _stored(engine)
    import_accounts(engine, portfolio(tmp_path, "plain", {"balance": "95.00"}))
    assert _stored(engine) == kept
    empty = {name: "" for name in ITEMIZED}
    import_accounts(engine, portfolio(tmp_path, "empty", {**empty, "balance": "95.00"}))
    assert _stored(engine) == kept
    with session_scope(engine) as session:
        account = session.scalars(select(Account).where(Account.account_ref == GOOD["account_ref"])).one()
        assert account.balance_cents == 9500
        assert notice_document.build(session, account, SENT)["paid_or_credited_cents"] == 3250
