"""Portfolio import: what an operator sees when loading a creditor's CSV, on SQLite and PostgreSQL."""

from __future__ import annotations

import argparse
import io
import re
from datetime import date, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy import Engine

from bot.cli import import_accounts as cli
from bot.config import PROJECT_ROOT
from bot.db import session_scope
from bot.db.models import Account, AccountStatus, AuditEvent, Base, Debtor, LedgerEntry
from bot.portfolio_import import (
    COLUMNS,
    PortfolioImportError,
    RowError,
    import_accounts,
    read_portfolio,
)

DEMO = PROJECT_ROOT / "data" / "demo_portfolio.csv"
HEADER = ",".join(COLUMNS)

GOOD = {
    "account_ref": "SET-900001",
    "first_name": "Avery",
    "last_name": "Quinn",
    "dob": "1983-05-06",
    "ssn_last4": "0042",
    "zip": "60614",
    "phone": "+15555550190",
    "email": "avery.quinn@example.com",
    "timezone": "America/Chicago",
    "creditor": "Acme Bank",
    "balance": "100.00",
}


def line(**changes: str) -> str:
    values = {**GOOD, **changes}
    return ",".join(values[name] for name in COLUMNS)


def write(tmp_path: Path, *lines: str, name: str = "portfolio.csv") -> Path:
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def snapshot(engine: Engine) -> dict[str, list[tuple]]:
    """Every row of every table, for 'the database is exactly as it was' checks."""
    with engine.connect() as conn:
        return {
            table.name: [tuple(row) for row in conn.execute(sa.select(table).order_by(*table.primary_key.columns))]
            for table in Base.metadata.sorted_tables
        }


def account(engine: Engine, ref: str) -> Account:
    with session_scope(engine) as session:
        found = session.scalars(sa.select(Account).where(Account.account_ref == ref)).one()
        found.debtor  # load while the session is open  # noqa: B018
        return found


def count(engine: Engine, model: type) -> int:
    with engine.connect() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(model)).scalar_one()


def problems(path_or_file: object) -> list[RowError]:
    with pytest.raises(PortfolioImportError) as caught:
        read_portfolio(path_or_file)  # type: ignore[arg-type]
    return caught.value.errors


# --- the demo portfolio -------------------------------------------------------------------------


def test_demo_portfolio_imports_every_account(engine):
    result = import_accounts(engine, DEMO)

    assert (result.rows, result.debtors_created, result.debtors_updated) == (30, 29, 0)
    assert (result.accounts_created, result.accounts_updated) == (30, 0)
    assert count(engine, Debtor) == 29
    assert count(engine, Account) == 30
    with session_scope(engine) as session:
        assert set(session.scalars(sa.select(Account.status))) == {AccountStatus.ACTIVE}
        # One person, two creditors: one debtor row with both accounts.
        priya = session.scalars(sa.select(Debtor).where(Debtor.first_name == "Priya")).one()
        assert sorted(a.creditor for a in priya.accounts) == ["Acme Bank", "Contoso Card Services"]
        # A household sharing a phone stays two people.
        household = session.scalars(sa.select(Debtor).where(Debtor.phone == "+15555550105")).all()
        assert sorted(d.first_name for d in household) == ["Luis", "Maria"]
        events = session.scalars(sa.select(AuditEvent).where(AuditEvent.kind == "portfolio_imported")).all()
        assert len(events) == 1
        assert events[0].detail == {
            "file": "demo_portfolio.csv",
            "rows": 30,
            "debtors_created": 29,
            "debtors_updated": 0,
            "debtors_unchanged": 0,
            "accounts_created": 30,
            "accounts_updated": 0,
            "accounts_unchanged": 0,
            "balances_kept": 0,
            "kept": [],
        }


def test_demo_file_has_the_required_rows_with_exact_cents(engine):
    text_lines = DEMO.read_text(encoding="utf-8").splitlines()
    assert (
        "SET-100001,Jordan,Rivera,1979-03-14,1234,90210,+15555550101,jordan.rivera@example.com,"
        "America/Los_Angeles,Acme Bank,1234.56"
    ) in text_lines
    assert (
        "SET-100002,Sam,Lee,1985-11-02,5678,10001,+15555550102,sam.lee@example.com,"
        "America/New_York,Northwind Credit Union,2400.00"
    ) in text_lines

    import_accounts(engine, DEMO)

    jordan = account(engine, "SET-100001")
    assert (jordan.creditor, jordan.balance_cents, jordan.currency) == ("Acme Bank", 123456, "USD")
    assert (jordan.debtor.first_name, jordan.debtor.last_name, jordan.debtor.dob) == (
        "Jordan",
        "Rivera",
        date(1979, 3, 14),
    )
    assert (jordan.debtor.ssn_last4, jordan.debtor.zip, jordan.debtor.phone) == (
        "1234",
        "90210",
        "+15555550101",
    )
    assert jordan.debtor.timezone == "America/Los_Angeles"
    sam = account(engine, "SET-100002")
    assert (sam.creditor, sam.balance_cents) == ("Northwind Credit Union", 240000)
    assert (sam.debtor.first_name, sam.debtor.email, sam.debtor.timezone) == (
        "Sam",
        "sam.lee@example.com",
        "America/New_York",
    )


def test_demo_portfolio_covers_what_the_demo_needs():
    rows = read_portfolio(DEMO)

    assert 20 <= len(rows) <= 30
    assert all(re.fullmatch(r"SET-1000[0-9]{2}", row.account_ref) for row in rows)
    # Only the reserved fictional range +1 555 555 01xx.
    assert all(row.phone is None or re.fullmatch(r"\+155555501[0-9]{2}", row.phone) for row in rows)
    assert {
        "America/Chicago",
        "America/Denver",
        "America/Phoenix",
        "America/Anchorage",
        "Pacific/Honolulu",
    } <= {row.timezone for row in rows}
    assert min(row.balance_cents for row in rows) == 1
    assert 2_000_000 <= max(row.balance_cents for row in rows) <= 2_600_000
    assert any(row.email is None for row in rows) and any(row.phone is None for row in rows)


# --- re-imports and updates ------------------------------------------------------------------------


def test_reimporting_the_same_file_changes_nothing(engine):
    import_accounts(engine, DEMO)
    before = snapshot(engine)

    again = import_accounts(engine, DEMO)

    assert (again.debtors_created, again.debtors_updated, again.debtors_unchanged) == (0, 0, 29)
    assert (again.accounts_created, again.accounts_updated, again.accounts_unchanged) == (0, 0, 30)
    after = snapshot(engine)
    assert after["debtors"] == before["debtors"]
    assert after["accounts"] == before["accounts"]
    assert len(after["audit_events"]) == len(before["audit_events"]) + 1  # the import itself is audited


def test_an_updated_balance_is_applied_and_status_is_kept(engine, tmp_path):
    import_accounts(engine, DEMO)
    with session_scope(engine) as session:
        session.execute(
            sa.update(Account).where(Account.account_ref == "SET-100001").values(status=AccountStatus.DISPUTED)
        )
    changed = DEMO.read_text(encoding="utf-8").replace("Acme Bank,1234.56", "Acme Bank,1000.00")
    path = tmp_path / "march.csv"
    path.write_text(changed, encoding="utf-8")

    result = import_accounts(engine, path)

    assert (result.accounts_created, result.accounts_updated, result.accounts_unchanged) == (0, 1, 29)
    jordan = account(engine, "SET-100001")
    assert jordan.balance_cents == 100000
    assert jordan.status == AccountStatus.DISPUTED  # an import never reopens or closes accounts
    assert account(engine, "SET-100002").balance_cents == 240000


def pay(engine: Engine, ref: str, cents: int) -> None:
    """What the ledger does when Settle takes a payment (bot/payments/ledger.py apply_payment): an entry, and the
    balance down by the amount."""
    with session_scope(engine) as session:
        paid = session.scalars(sa.select(Account).where(Account.account_ref == ref)).one()
        session.add(LedgerEntry(account_id=paid.id, kind="payment", amount_cents=-cents,
                                balance_after_cents=paid.balance_cents - cents, reference=f"payment:test-{ref}"))
        paid.balance_cents -= cents


def test_a_reimport_never_undoes_a_payment_settle_took_and_names_the_row(engine, database_url, capsys):
    """H1, TONE-2: the creditor's file predates the payment; its balance must not replace the ledger's.

    Mutation tried: the keep rule in _write_batch disabled (`if False and ...`: the file's balance always used)
    -> fails: SET-100001 back at $1,234.56."""
    import_accounts(engine, DEMO)
    pay(engine, "SET-100001", 10000)

    result = import_accounts(engine, DEMO)

    assert account(engine, "SET-100001").balance_cents == 113456
    assert (result.accounts_created, result.accounts_updated, result.accounts_unchanged) == (0, 0, 30)
    assert result.balances_kept == 1
    (kept,) = result.kept
    assert (kept.line, kept.account_ref, kept.file_cents, kept.kept_cents, kept.ledger_cents) == (
        2, "SET-100001", 123456, 113456, -10000)
    assert str(kept) == ("line 2: SET-100001: balance kept at $1,134.56, not $1,234.56 as in the file: "
                         "Settle's ledger changed it by -$100.00 since it was imported")
    with session_scope(engine) as session:
        detail = session.scalars(sa.select(AuditEvent.detail).where(AuditEvent.kind == "portfolio_imported")
                                 .order_by(AuditEvent.id.desc())).first()
    assert detail["balances_kept"] == 1 and detail["kept"][0]["account_ref"] == "SET-100001"
    # The CLI shares the rule and says the same.
    assert run_cli(str(DEMO)) == 0
    out = capsys.readouterr().out
    assert "1 balance kept (Settle took payments since the import):" in out
    assert "line 2: SET-100001: balance kept at $1,134.56" in out
    assert account(engine, "SET-100001").balance_cents == 113456


def test_a_paid_account_still_takes_the_files_other_changes_and_unpaid_ones_their_new_balance(engine, tmp_path):
    """Only the balance of an account the ledger changed is kept; its creditor and every other account's balance
    still come from the file. Mutation tried: the keep rule disabled (`if False and ...`) -> fails (SET-100001 at
    $1,300.00, nothing kept)."""
    import_accounts(engine, DEMO)
    pay(engine, "SET-100001", 10000)
    changed = (DEMO.read_text(encoding="utf-8").replace("Acme Bank,1234.56", "Acme Bank Plc,1300.00")
               .replace("Northwind Credit Union,2400.00", "Northwind Credit Union,2500.00"))
    path = tmp_path / "march.csv"
    path.write_text(changed, encoding="utf-8")

    result = import_accounts(engine, path)

    paid = account(engine, "SET-100001")
    assert (paid.balance_cents, paid.creditor) == (113456, "Acme Bank Plc")
    assert account(engine, "SET-100002").balance_cents == 250000
    assert (result.accounts_updated, result.balances_kept) == (2, 1)


def test_a_file_that_agrees_with_the_ledger_reports_nothing_kept(engine, tmp_path):
    import_accounts(engine, DEMO)
    pay(engine, "SET-100001", 10000)
    path = tmp_path / "after.csv"
    path.write_text(DEMO.read_text(encoding="utf-8").replace("Acme Bank,1234.56", "Acme Bank,1134.56"),
                    encoding="utf-8")

    result = import_accounts(engine, path)

    assert (result.accounts_updated, result.accounts_unchanged, result.balances_kept) == (0, 30, 0)


def test_a_partial_file_leaves_other_accounts_alone(engine, tmp_path):
    import_accounts(engine, DEMO)

    result = import_accounts(engine, write(tmp_path, HEADER, line()))

    assert (result.rows, result.accounts_created, result.debtors_created) == (1, 1, 1)
    assert count(engine, Account) == 31


def test_same_person_in_any_letter_case_is_one_debtor_with_the_latest_contact_details(engine, tmp_path):
    path = write(
        tmp_path,
        HEADER,
        line(),
        line(
            account_ref="SET-900002",
            first_name="AVERY",
            last_name="quinn",
            zip="99501-1234",
            phone="+15555550191",
            email="",
            timezone="America/Anchorage",
            creditor="Woodgrove Bank",
        ),
    )

    result = import_accounts(engine, path)

    assert (result.debtors_created, result.accounts_created) == (1, 2)
    with session_scope(engine) as session:
        debtor = session.scalars(sa.select(Debtor)).one()
        assert (debtor.first_name, debtor.last_name) == ("Avery", "Quinn")  # names as first seen
        assert (debtor.zip, debtor.phone, debtor.email, debtor.timezone) == (
            "99501",
            "+15555550191",
            None,
            "America/Anchorage",
        )
        assert len(debtor.accounts) == 2


def test_a_name_written_without_its_accents_or_with_extra_spaces_is_the_same_person(engine, tmp_path):
    """The exploratory pass re-imported SET-100015 with "Tomas" for "Tomás": a new debtor got the account and the old
    one kept its conversations. Mutation tried: the key folding case only -> a second debtor, the account moved."""
    import_accounts(engine, DEMO)
    before = account(engine, "SET-100015").debtor_id
    again = "SET-100015,TOMAS,  Herrera ,1976-03-22,4455,87102,+15555550115,,America/Denver,Contoso Card Services,10.00"

    result = import_accounts(engine, write(tmp_path, HEADER, again))

    assert result.debtors_created == 0 and count(engine, Debtor) == 29
    assert account(engine, "SET-100015").debtor_id == before
    assert account(engine, "SET-100015").debtor.first_name == "Tomás"  # as first seen


def test_contact_details_change_on_a_later_import(engine, tmp_path):
    import_accounts(engine, DEMO)
    moved = (
        "SET-100001,jordan,RIVERA,1979-03-14,1234,60614,+15555550199,jr@example.com,America/Chicago,Acme Bank,1234.56"
    )

    result = import_accounts(engine, write(tmp_path, HEADER, moved))

    assert (result.debtors_created, result.debtors_updated, result.accounts_updated) == (0, 1, 0)
    assert count(engine, Debtor) == 29
    debtor = account(engine, "SET-100001").debtor
    assert (debtor.first_name, debtor.zip, debtor.phone, debtor.timezone) == (
        "Jordan",
        "60614",
        "+15555550199",
        "America/Chicago",
    )


def test_an_account_can_move_to_another_person(engine, tmp_path):
    import_accounts(engine, DEMO)
    # SET-100002 was Sam Lee's; the creditor corrected it to a new person.
    result = import_accounts(engine, write(tmp_path, HEADER, line(account_ref="SET-100002")))

    assert (result.debtors_created, result.accounts_updated) == (1, 1)
    assert account(engine, "SET-100002").debtor.first_name == "Avery"


def test_account_refs_are_case_insensitive(engine, tmp_path):
    import_accounts(engine, DEMO)

    result = import_accounts(engine, write(tmp_path, HEADER, line(account_ref="set-100001")))

    assert (result.accounts_created, result.accounts_updated) == (0, 1)
    assert account(engine, "SET-100001").debtor.first_name == "Avery"
    errors = problems(write(tmp_path, HEADER, line(account_ref="SET-1"), line(account_ref="set-1")))
    assert [(e.line, e.field) for e in errors] == [(2, "account_ref"), (3, "account_ref")]


def test_a_failure_while_writing_leaves_nothing_behind(engine, tmp_path, monkeypatch):
    import_accounts(engine, DEMO)
    before = snapshot(engine)
    changed = tmp_path / "changed.csv"
    changed.write_text(DEMO.read_text(encoding="utf-8").replace(",1234.56", ",1.00"), encoding="utf-8")

    def broken_audit(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr("bot.portfolio_import.audit.record", broken_audit)
    with pytest.raises(RuntimeError):
        import_accounts(engine, write(tmp_path, HEADER, line(), name="new.csv"))
    with pytest.raises(RuntimeError):
        import_accounts(engine, changed)
    assert snapshot(engine) == before

    monkeypatch.undo()
    assert import_accounts(engine, changed).accounts_updated == 1


def test_zip_plus_4_is_stored_as_the_five_digit_zip(engine, tmp_path):
    import_accounts(engine, write(tmp_path, HEADER, line(zip="02139-4307")))

    assert account(engine, GOOD["account_ref"]).debtor.zip == "02139"


def test_phone_and_email_may_be_empty(engine, tmp_path):
    import_accounts(engine, write(tmp_path, HEADER, line(phone="", email="")))

    debtor = account(engine, GOOD["account_ref"]).debtor
    assert (debtor.phone, debtor.email) == (None, None)


def test_columns_may_come_in_any_order(engine, tmp_path):
    order = list(reversed(COLUMNS))
    path = write(tmp_path, ",".join(order), ",".join(GOOD[name] for name in order))

    import_accounts(engine, path)

    assert account(engine, GOOD["account_ref"]).balance_cents == 10000


def test_open_files_and_streams_can_be_imported(engine):
    text = f"{HEADER}\n{line()}\n"

    import_accounts(engine, io.BytesIO(text.encode("utf-8")))
    result = import_accounts(engine, io.StringIO(text.replace("100.00", "90.00")))

    assert result.accounts_updated == 1
    with session_scope(engine) as session:
        files = [e.detail["file"] for e in session.scalars(sa.select(AuditEvent).order_by(AuditEvent.id))]
    assert files == ["<stream>", "<stream>"]


def test_a_dry_run_counts_but_writes_nothing(engine):
    before = snapshot(engine)

    result = import_accounts(engine, DEMO, dry_run=True)

    assert (result.dry_run, result.debtors_created, result.accounts_created) == (True, 29, 30)
    assert snapshot(engine) == before


def test_reads_existing_rows_in_bulk_not_one_query_per_row(engine, tmp_path):
    lines = [
        line(account_ref=f"SET-9{n:05d}", first_name=f"P{n}", ssn_last4=f"{n % 10000:04d}", phone="")
        for n in range(2000)
    ]
    path = write(tmp_path, HEADER, *lines)
    import_accounts(engine, path)  # second run reads 2000 existing accounts and debtors
    selects: list[str] = []

    def spy(conn, cursor, statement, parameters, context, executemany):  # noqa: ANN001
        if statement.lstrip().upper().startswith("SELECT"):
            selects.append(statement)

    sa.event.listen(engine, "before_cursor_execute", spy)
    try:
        result = import_accounts(engine, path)
    finally:
        sa.event.remove(engine, "before_cursor_execute", spy)

    assert result.accounts_unchanged == 2000
    assert len(selects) <= 10


# --- bad files ------------------------------------------------------------------------------------


def test_bad_rows_are_each_reported_with_line_and_reason_and_nothing_is_written(engine, tmp_path):
    import_accounts(engine, DEMO)
    before = snapshot(engine)
    path = write(
        tmp_path,
        HEADER,  # 1
        line(),  # 2: good, new
        DEMO.read_text(encoding="utf-8").splitlines()[1].replace("1234.56", "1.00"),  # 3: good, update
        line(account_ref="SET-900003", dob="03/14/1979"),  # 4
        line(account_ref="SET-900004", ssn_last4="123", zip="9021"),  # 5
        line(account_ref="SET-900005", phone="555-555-0101", email="not-an-email"),  # 6
        line(account_ref="SET-900006", timezone="Mars/Olympus_Mons", creditor=""),  # 7
        line(account_ref="SET-900007", balance="-25.00"),  # 8
        line(account_ref="SET-900008", balance="12.345"),  # 9
        line(account_ref="SET-900009")[: -len(",100.00")],  # 10: a field short
        line(account_ref="", first_name=" "),  # 11
        line(account_ref="SET-900010"),  # 12: good
    )

    with pytest.raises(PortfolioImportError) as caught:
        import_accounts(engine, path)

    found = [(e.line, e.field) for e in caught.value.errors]
    assert found == [
        (4, "dob"),
        (5, "ssn_last4"),
        (5, "zip"),
        (6, "phone"),
        (6, "email"),
        (7, "timezone"),
        (7, "creditor"),
        (8, "balance"),
        (9, "balance"),
        (10, "row"),
        (11, "account_ref"),
        (11, "first_name"),
    ]
    reasons = {(e.line, e.field): e.reason for e in caught.value.errors}
    assert "YYYY-MM-DD" in reasons[(4, "dob")]
    assert "exactly 4 digits" in reasons[(5, "ssn_last4")] and "leading zero" in reasons[(5, "ssn_last4")]
    assert "E.164" in reasons[(6, "phone")]
    assert "not an email address" in reasons[(6, "email")]
    assert "unknown time zone 'Mars/Olympus_Mons'" in reasons[(7, "timezone")]
    assert reasons[(7, "creditor")] == "is required but empty"
    assert "negative" in reasons[(8, "balance")]
    assert "more than 2 decimal places" in reasons[(9, "balance")]
    assert reasons[(10, "row")] == "has 10 fields; expected 11 (one per header column)"
    assert str(caught.value.errors[0]).startswith("line 4: dob: ")
    assert snapshot(engine) == before


def test_duplicate_account_refs_report_both_lines(engine, tmp_path):
    path = write(tmp_path, HEADER, line(), line(account_ref="SET-900002"), line(balance="5.00"))

    with pytest.raises(PortfolioImportError) as caught:
        import_accounts(engine, path)

    assert caught.value.errors == [
        RowError(2, "account_ref", "duplicate account_ref 'SET-900001' (also on line 4)"),
        RowError(4, "account_ref", "duplicate account_ref 'SET-900001' (also on line 2)"),
    ]
    assert count(engine, Account) == 0


@pytest.mark.parametrize(
    ("dob", "reason"),
    [
        ((date.today() + timedelta(days=1)).isoformat(), "in the future"),
        ("1899-12-31", "before 1900"),
        ("1979-02-30", "YYYY-MM-DD"),
        ("1979-3-14", "YYYY-MM-DD"),
    ],
)
def test_impossible_dates_of_birth_are_rejected(tmp_path, dob, reason):
    [error] = problems(write(tmp_path, HEADER, line(dob=dob)))

    assert (error.line, error.field) == (2, "dob")
    assert reason in error.reason


def test_earliest_and_latest_dates_of_birth_are_accepted(tmp_path):
    path = write(tmp_path, HEADER, line(dob="1900-01-01"), line(account_ref="SET-900002", dob=date.today().isoformat()))

    assert [row.dob for row in read_portfolio(path)] == [date(1900, 1, 1), date.today()]


@pytest.mark.parametrize("zone", ["America", "localtime", "../etc/passwd", "/etc/localtime", "EST 5"])
def test_time_zones_must_be_iana_names(tmp_path, zone):
    [error] = problems(write(tmp_path, HEADER, line(timezone=zone)))

    assert (error.line, error.field) == (2, "timezone")
    assert "America/Chicago" in error.reason  # the hint shows the expected form


def test_line_numbers_are_physical_lines_even_with_quoted_line_breaks(tmp_path):
    path = write(
        tmp_path,
        HEADER,
        line(creditor='"Acme\nBank"'),  # lines 2-3: a quoted value spans two lines
        line(account_ref="SET-900002", ssn_last4="x"),  # line 4
    )

    errors = problems(path)

    assert [(e.line, e.field) for e in errors] == [(2, "creditor"), (4, "ssn_last4")]
    assert "line break" in errors[0].reason


def test_a_file_that_is_not_utf8_is_rejected_with_the_line(engine, tmp_path):
    path = tmp_path / "latin1.csv"
    path.write_bytes(f"{HEADER}\n{line()}\n{line(account_ref='SET-900002', first_name='Tomás')}\n".encode("latin-1"))

    with pytest.raises(PortfolioImportError) as caught:
        import_accounts(engine, path)

    [error] = caught.value.errors
    assert (error.line, error.field) == (3, "file")
    assert "not UTF-8" in error.reason and "0xE1" in error.reason
    assert count(engine, Account) == 0


def test_a_utf8_byte_order_mark_is_accepted(engine, tmp_path):
    path = tmp_path / "excel.csv"
    path.write_bytes(f"{HEADER}\n{line(first_name='Tomás')}\n".encode("utf-8-sig"))

    import_accounts(engine, path)

    assert account(engine, GOOD["account_ref"]).debtor.first_name == "Tomás"


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (HEADER.replace(",email", ""), ["missing column 'email'"]),
        (HEADER + ",status", ["column 'status' is not part of the import format"]),
        (HEADER + ",notes", ["unexpected column 'notes'"]),
        (
            HEADER.replace("first_name", "First Name"),
            ["unexpected column 'First Name'", "missing column 'first_name'"],
        ),
        (HEADER + ",zip", ["column 'zip' appears more than once"]),
    ],
)
def test_header_problems_are_explained(engine, tmp_path, header, expected):
    with pytest.raises(PortfolioImportError) as caught:
        import_accounts(engine, write(tmp_path, header, line()))

    assert [(e.line, e.field) for e in caught.value.errors] == [(1, "header")] * len(expected)
    for error, text in zip(caught.value.errors, expected, strict=True):
        assert text in error.reason
    assert count(engine, Account) == 0


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"", (1, "file", "the file is empty")),
        (f"{HEADER}\n".encode(), (2, "file", "no account rows after the header")),
        (f"\n{HEADER}\n".encode(), (1, "header", "the first line is blank")),
    ],
)
def test_a_file_without_accounts_is_rejected(tmp_path, content, expected):
    path = tmp_path / "empty.csv"
    path.write_bytes(content)

    [error] = problems(path)

    assert (error.line, error.field) == expected[:2]
    assert expected[2] in error.reason


def test_account_refs_use_plain_characters(tmp_path):
    [error] = problems(write(tmp_path, HEADER, line(account_ref="SET 1")))

    assert (error.line, error.field) == (2, "account_ref")
    assert "letters, digits" in error.reason


def test_values_longer_than_the_database_holds_are_rejected(tmp_path):
    [error] = problems(write(tmp_path, HEADER, line(creditor="A" * 201)))

    assert (error.line, error.field, error.reason) == (
        2,
        "creditor",
        "is 201 characters long; at most 200 are allowed",
    )


# --- the command line -----------------------------------------------------------------------------


def run_cli(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot")
    cli.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["import-accounts", *argv])
    return args.handler(args)


@pytest.fixture
def database_url(db_url, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", db_url)
    return db_url


def test_cli_imports_and_prints_a_summary(engine, database_url, capsys):
    assert run_cli(str(DEMO)) == 0

    out, err = capsys.readouterr()
    assert out.strip() == (
        "Imported 30 rows from demo_portfolio.csv: 29 debtors created, 0 updated, 0 unchanged; "
        "30 accounts created, 0 updated, 0 unchanged."
    )
    assert err == ""
    assert count(engine, Account) == 30


def test_cli_lists_every_problem_and_imports_nothing(engine, database_url, capsys, tmp_path):
    path = write(tmp_path, HEADER, line(), line(account_ref="SET-900002", dob="1979-02-30", balance="abc"))

    assert run_cli(str(path)) == 1

    out, err = capsys.readouterr()
    assert out == ""
    assert err.splitlines() == [
        "line 3: dob: must be a date written YYYY-MM-DD, got '1979-02-30'",
        "line 3: balance: amount 'abc' is not a dollar amount like 1234.56",
        "portfolio.csv: 2 problems found; nothing was imported",
    ]
    assert count(engine, Account) == 0


def test_cli_dry_run_reports_without_writing(engine, database_url, capsys):
    assert run_cli(str(DEMO), "--dry-run") == 0

    out, _ = capsys.readouterr()
    assert out.startswith("Dry run: read 30 rows from demo_portfolio.csv and found no problems; nothing was written.")
    assert "29 debtors created" in out and "30 accounts created" in out
    assert count(engine, Account) == 0
    assert count(engine, AuditEvent) == 0


def test_cli_missing_file_or_a_directory_exits_2(database_url, capsys, tmp_path):
    assert run_cli(str(tmp_path / "nope.csv")) == 2

    assert "nope.csv does not exist" in capsys.readouterr().err
    assert run_cli(str(tmp_path)) == 2
    assert "is a directory" in capsys.readouterr().err


def test_cli_unmigrated_database_says_to_migrate(monkeypatch, capsys, tmp_path):
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'fresh.db'}")

    assert run_cli(str(DEMO)) == 2

    assert "python -m bot migrate" in capsys.readouterr().err


# --- files larger than a batch (issue 22: streamed, written in batches, still all or nothing) -----------------------


@pytest.fixture
def small_batches(monkeypatch):
    """Batches of 3 rows, so that a file of a dozen lines crosses several, as a million-row file crosses hundreds."""
    monkeypatch.setattr("bot.portfolio_import.BATCH_ROWS", 3)


def person(n: int, **changes: str) -> str:
    return line(account_ref=f"SET-95{n:04d}", first_name=f"P{n}", ssn_last4=f"{n:04d}", phone="", **changes)


def test_a_file_of_many_batches_imports_every_row_and_counts_each_person_once(engine, tmp_path, small_batches):
    """The same person on rows 2 and 10 (batches 1 and 3) is one debtor, created once, with row 10's details;
    a dry run says exactly what the import then does. Mutation tried: `ours = False` (a debtor this import created
    in an earlier batch treated as one that existed before): debtors_updated became 1, the counts failed."""
    rows = [person(n) for n in range(1, 9)] + [line(account_ref="SET-959999", first_name="p1", ssn_last4="0001",
                                                    phone="", zip="99501", timezone="America/Anchorage")]
    path = write(tmp_path, HEADER, *rows)

    dry = import_accounts(engine, path, dry_run=True)
    result = import_accounts(engine, path)

    assert (result.rows, result.debtors_created, result.debtors_updated, result.debtors_unchanged) == (9, 8, 0, 0)
    assert (result.accounts_created, result.accounts_updated, result.accounts_unchanged) == (9, 0, 0)
    assert dry == type(result)(**{**vars(result), "dry_run": True})
    assert count(engine, Debtor) == 8 and count(engine, Account) == 9
    both = account(engine, "SET-959999").debtor
    assert both.id == account(engine, "SET-950001").debtor.id
    assert (both.zip, both.timezone) == ("99501", "America/Anchorage")  # the latest row's details


def test_a_reimport_across_batches_counts_a_changed_person_once(engine, tmp_path, small_batches):
    """A person who existed before, named on rows in two batches with new details, is one debtor updated; the others
    are unchanged. Mutation tried: noting every sighting, not the first (insert without ON CONFLICT DO NOTHING):
    the second sighting failed on the primary key."""
    import_accounts(engine, write(tmp_path, HEADER, *(person(n) for n in range(1, 8)), name="first.csv"))
    again = [person(n) for n in range(1, 8)]
    again[0] = person(1, zip="10001")
    again.append(line(account_ref="SET-958888", first_name="P1", ssn_last4="0001", phone="", zip="10001"))

    result = import_accounts(engine, write(tmp_path, HEADER, *again, name="second.csv"))

    assert (result.debtors_created, result.debtors_updated, result.debtors_unchanged) == (0, 1, 6)
    assert (result.accounts_created, result.accounts_unchanged) == (1, 7)
    assert account(engine, "SET-958888").debtor.zip == "10001"


def test_a_failure_in_a_later_batch_leaves_nothing_behind(engine, tmp_path, monkeypatch, small_batches):
    """Batches are written in one transaction: the third batch failing undoes the first two. Mutation tried: a
    commit after each batch: the first two batches' accounts stayed and the snapshot differed."""
    import bot.portfolio_import as portfolio_import

    before = snapshot(engine)
    real, calls = portfolio_import._write_batch, []

    def failing(*args, **kwargs):
        calls.append(1)
        if len(calls) == 3:
            raise RuntimeError("connection lost")
        return real(*args, **kwargs)

    monkeypatch.setattr(portfolio_import, "_write_batch", failing)
    with pytest.raises(RuntimeError):
        import_accounts(engine, write(tmp_path, HEADER, *(person(n) for n in range(1, 10))))

    assert len(calls) == 3
    assert snapshot(engine) == before


def test_every_bad_row_of_a_long_file_is_reported_with_its_line_and_nothing_is_written(engine, tmp_path,
                                                                                        small_batches):
    """Rows are checked as the file streams past, before any batch is written: a bad row at the end is found, and a
    duplicate whose two lines are batches apart names both. Mutation tried: no checking reading (rows written as
    they are read): no PortfolioImportError, the bad rows were skipped and the rest imported."""
    before = snapshot(engine)
    rows = [person(n) for n in range(1, 11)]
    rows[1] = person(2, dob="1990-02-30")
    rows.append(person(1, balance="5.00"))  # line 12: account_ref of line 2 again

    with pytest.raises(PortfolioImportError) as caught:
        import_accounts(engine, write(tmp_path, HEADER, *rows))

    assert [(e.line, e.field) for e in caught.value.errors] == [(2, "account_ref"), (3, "dob"),
                                                                (12, "account_ref")]
    assert "also on line 12" in caught.value.errors[0].reason
    assert snapshot(engine) == before


class _OneWayStream(io.BytesIO):
    """A pipe or an upload: readable once, no seeking."""

    def seekable(self) -> bool:
        return False

    def seek(self, *args, **kwargs):  # noqa: ANN002, ANN003
        raise io.UnsupportedOperation("not seekable")


def test_a_stream_that_cannot_seek_is_imported_whole(engine, small_batches):
    """The import reads a file twice; a stream that cannot go back is copied to a temporary file first."""
    text = "\n".join([HEADER, *(person(n) for n in range(1, 8))]) + "\n"

    result = import_accounts(engine, _OneWayStream(text.encode("utf-8")))

    assert (result.rows, result.accounts_created) == (7, 7)
