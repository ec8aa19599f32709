"""Portfolio import: a creditor's CSV of accounts -> Debtor and Account rows.

The whole file is validated before anything is written, and the write is one transaction:
a file is imported completely or not at all. Re-importing the same file changes nothing.
"""

from __future__ import annotations

import csv
import io
import os
import re
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from datetime import date, datetime
from pathlib import Path
from typing import IO, Any, NamedTuple
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import Column, Connection, Engine, MetaData, String, Table, insert, select, update
from sqlalchemy.orm import Session

from bot import audit
from bot.db import session_scope
from bot.db.models import Account, AccountStatus, Debtor, new_id, utcnow
from bot.money import parse_dollars

COLUMNS = (
    "account_ref",
    "first_name",
    "last_name",
    "dob",
    "ssn_last4",
    "zip",
    "phone",
    "email",
    "timezone",
    "creditor",
    "balance",
)
OPTIONAL = frozenset({"phone", "email"})
# EMAIL-2, 1006.22(f)(3): optional columns (a file may leave them out): the email is one the employer provided, and
# the employer forbids collection email there. yes/no (true/false, 1/0); empty is no. A file without a column leaves
# what Settle knows of it as it was.
FLAG_COLUMNS = ("email_work", "email_employer_forbids")
# DISC-5, 1006.34(c)(2): optional columns for the validation notice's itemization (its date, YYYY-MM-DD; the amount
# owed then, dollars; the interest, the fees and the payments or credits since, dollars; empty interest or fees is 0)
# and the debtor's mailing address (lines separated by ";"). payments_since is a check only: the notice works it out
# from the balance, so it must agree. A file without these columns, or a row with them empty, keeps what is stored.
ITEMIZATION_COLUMNS = ("itemization_date", "itemization_balance", "interest_since", "fees_since", "payments_since")
ADDRESS_COLUMN = "postal_address"
NOTICE_COLUMNS = (*ITEMIZATION_COLUMNS, ADDRESS_COLUMN)
MAX_ADDRESS_LINES, MAX_ADDRESS_LINE = 6, 100
_YES, _NO = frozenset({"yes", "y", "true", "1"}), frozenset({"", "no", "n", "false", "0"})
# Longest values the database columns hold; PostgreSQL enforces these and SQLite does not,
# so checking here keeps the two backends behaving the same.
MAX_LENGTH = {"account_ref": 64, "first_name": 100, "last_name": 100, "email": 254, "creditor": 200}
EARLIEST_DOB = date(1900, 1, 1)
MAX_CENTS = 2**63 - 1  # BIGINT
AUDIT_KIND = "portfolio_imported"

# ASCII only, so upper-casing means the same in Python, SQLite and PostgreSQL.
_ACCOUNT_REF = re.compile(r"[A-Za-z0-9][A-Za-z0-9._/-]*")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_SSN4 = re.compile(r"[0-9]{4}")
_ZIP = re.compile(r"([0-9]{5})(?:-[0-9]{4})?")
_E164 = re.compile(r"\+[1-9][0-9]{6,14}")
_EMAIL = re.compile(
    r"[^@\s]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+"
)
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
# Present in the zoneinfo database but not a place: they would mean "wherever the server is".
_NOT_A_PLACE = frozenset({"localtime", "Factory", "posixrules"})
_IN_CHUNK = 500  # bound parameters per IN (...) query; SQLite allows 999 on old builds


class RowError(NamedTuple):
    """One problem in the file. `line` is the physical line (the header is line 1)."""

    line: int
    field: str
    reason: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.field}: {self.reason}"


class PortfolioImportError(Exception):
    """The file has problems; nothing was written. `errors` lists every one found."""

    def __init__(self, errors: list[RowError]) -> None:
        self.errors = sorted(errors, key=lambda error: error.line)  # stable: columns stay in order
        count = len(self.errors)
        super().__init__(f"{count} problem{'s' if count != 1 else ''} in the portfolio file; nothing was imported")


@dataclass(frozen=True)
class PortfolioRow:
    """One validated line of the file, in the types the database stores."""

    line: int
    account_ref: str
    first_name: str
    last_name: str
    dob: date
    ssn_last4: str
    zip: str
    phone: str | None
    email: str | None
    timezone: str
    creditor: str
    balance_cents: int
    email_work: bool | None = None  # None: the file has no such column
    email_employer_forbids: bool | None = None
    # (itemization_date, itemization_cents, interest_since_cents, fees_since_cents); None: none given, keep stored
    itemization: tuple[date, int, int, int] | None = None
    postal_address: str | None = None  # lines joined by "\n"; None: none given, keep what is stored

    def debtor_key(self) -> tuple[str, str, date, str]:
        return _debtor_key(self.first_name, self.last_name, self.dob, self.ssn_last4)


@dataclass(frozen=True)
class ImportResult:
    rows: int
    debtors_created: int
    debtors_updated: int
    debtors_unchanged: int
    accounts_created: int
    accounts_updated: int
    accounts_unchanged: int
    dry_run: bool = False


def _debtor_key(first_name: str, last_name: str, dob: date, ssn_last4: str) -> tuple[str, str, date, str]:
    # Compared in Python, not SQL: lower() differs between SQLite (ASCII only) and PostgreSQL.
    return (first_name.strip().casefold(), last_name.strip().casefold(), dob, ssn_last4)


# ---------------------------------------------------------------------------------------------
# Reading and validating


def read_portfolio(path_or_file: str | os.PathLike[str] | IO[bytes] | IO[str]) -> list[PortfolioRow]:
    """Parse and validate the whole file. Raises PortfolioImportError listing every problem."""
    data = _read_all(path_or_file)
    text, errors = _decode(data)
    if text is None:
        raise PortfolioImportError(errors)
    rows, errors = _parse(text)
    if errors:
        raise PortfolioImportError(errors)
    return rows


def _read_all(path_or_file: str | os.PathLike[str] | IO[bytes] | IO[str]) -> bytes | str:
    if isinstance(path_or_file, (str, os.PathLike)):
        return Path(path_or_file).read_bytes()
    return path_or_file.read()


def _decode(data: bytes | str) -> tuple[str | None, list[RowError]]:
    if isinstance(data, str):
        return data.removeprefix("\ufeff"), []
    try:
        # utf-8-sig: spreadsheet programs often start "CSV UTF-8" files with a byte-order mark.
        return data.decode("utf-8-sig"), []
    except UnicodeDecodeError:
        pass
    errors = []
    # "\n" never occurs inside a multi-byte UTF-8 sequence, so each line can be checked alone.
    for number, raw in enumerate(data.split(b"\n"), start=1):
        try:
            raw.decode("utf-8-sig" if number == 1 else "utf-8")
        except UnicodeDecodeError as exc:
            errors.append(
                RowError(
                    number,
                    "file",
                    f"not UTF-8 text (byte 0x{raw[exc.start]:02X} at position {exc.start + 1}); "
                    "save the file as CSV UTF-8 and import it again",
                )
            )
    return None, errors


def _physical_rows(text: str) -> Iterator[tuple[int, list[str] | None, str | None]]:
    """(first physical line of the record, fields, csv error) for each record in the text."""
    # newline="" hands line endings to the csv module, so quoted line breaks stay in their field
    # and reader.line_num counts physical lines.
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    previous = 0
    while True:
        try:
            fields = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            yield previous + 1, None, str(exc)
            if reader.line_num == previous:  # no progress: stop rather than loop
                return
            previous = reader.line_num
            continue
        yield previous + 1, fields, None
        previous = reader.line_num


def _parse(text: str) -> tuple[list[PortfolioRow], list[RowError]]:
    records = _physical_rows(text)
    first = next(records, None)
    if first is None:
        return [], [RowError(1, "file", f"the file is empty; the first line must be the header: {','.join(COLUMNS)}")]
    header_line, header, csv_error = first
    if csv_error is not None or not header:
        reason = f"malformed header ({csv_error})" if csv_error else "the first line is blank"
        return [], [RowError(header_line, "header", f"{reason}; it must be: {','.join(COLUMNS)}")]
    errors = _check_header(header, header_line)
    if errors:
        return [], errors

    rows: list[PortfolioRow] = []
    validator = _RowValidator()
    seen_refs: dict[str, list[int]] = {}
    last_line = header_line
    for line, fields, csv_error in records:
        last_line = line
        if csv_error is not None:
            errors.append(RowError(line, "row", f"malformed CSV ({csv_error})"))
            continue
        if not fields:
            continue  # blank line, typically at the end of the file
        if len(fields) != len(header):
            errors.append(
                RowError(line, "row", f"has {len(fields)} fields; expected {len(header)} (one per header column)")
            )
            continue
        values = dict(zip(header, fields, strict=True))
        row = validator.validate(line, values, errors)
        if row is not None:
            rows.append(row)
        ref = values["account_ref"].strip().upper()
        if ref:
            seen_refs.setdefault(ref, []).append(line)

    for ref, lines in seen_refs.items():
        if len(lines) > 1:
            for line in lines:
                others = ", ".join(str(other) for other in lines if other != line)
                errors.append(RowError(line, "account_ref", f"duplicate account_ref {ref!r} (also on line {others})"))
    if not rows and not errors:
        errors.append(RowError(last_line + 1, "file", "no account rows after the header"))
    return rows, errors


def _check_header(header: list[str], line: int) -> list[RowError]:
    errors = []
    expected = ", ".join(COLUMNS)
    seen: set[str] = set()
    for name in header:
        if name in seen:
            errors.append(RowError(line, "header", f"column {name!r} appears more than once"))
        seen.add(name)
        if name == "status":
            errors.append(
                RowError(
                    line,
                    "header",
                    "column 'status' is not part of the import format: new accounts start active and "
                    "status is managed in Settle; remove the column",
                )
            )
        elif name not in COLUMNS and name not in FLAG_COLUMNS and name not in NOTICE_COLUMNS:
            optional = ", ".join((*FLAG_COLUMNS, *NOTICE_COLUMNS))
            errors.append(RowError(line, "header", f"unexpected column {name!r}; the columns are: {expected} "
                                   f"(optional: {optional})"))
    for name in COLUMNS:
        if name not in seen:
            errors.append(RowError(line, "header", f"missing column {name!r}; the columns are: {expected}"))
    return errors


class _RowValidator:
    def __init__(self) -> None:
        self.today = date.today()
        self.zones: dict[str, str | None] = {}  # timezone name -> error reason (None: valid)

    def validate(self, line: int, values: dict[str, str], errors: list[RowError]) -> PortfolioRow | None:
        """A PortfolioRow, or None after appending this row's problems to `errors`."""
        problems: list[RowError] = []
        clean: dict[str, Any] = {}

        def fail(field: str, reason: str) -> None:
            problems.append(RowError(line, field, reason))

        for field in COLUMNS:
            value = values[field].strip()
            if not value:
                if field not in OPTIONAL:
                    fail(field, "is required but empty")
                clean[field] = None
                continue
            if _CONTROL.search(value):
                fail(field, "contains a line break or other control character")
                clean[field] = None
                continue
            limit = MAX_LENGTH.get(field)
            if limit is not None and len(value) > limit:
                fail(field, f"is {len(value)} characters long; at most {limit} are allowed")
                clean[field] = None
                continue
            clean[field] = value
        for field in FLAG_COLUMNS:
            flag = values.get(field)
            if flag is None:
                clean[field] = None
            elif flag.strip().lower() in _YES | _NO:
                clean[field] = flag.strip().lower() in _YES
            else:
                fail(field, f"must be yes or no, got {flag.strip()[:20]!r}")

        ref = clean["account_ref"]
        if ref is not None:
            if _ACCOUNT_REF.fullmatch(ref):
                # References are case-insensitive (identity lookup upper-cases both sides); storing
                # them upper-cased keeps "set-1" and "SET-1" from becoming two accounts.
                clean["account_ref"] = ref.upper()
            else:
                fail("account_ref", f"may hold only letters, digits and . _ / - (got {ref!r})")
        if clean["dob"] is not None:
            clean["dob"] = self._dob(clean["dob"], fail)
        ssn = clean["ssn_last4"]
        if ssn is not None and not _SSN4.fullmatch(ssn):
            hint = " (a spreadsheet may have dropped a leading zero)" if ssn.isdigit() and len(ssn) < 4 else ""
            fail("ssn_last4", f"must be exactly 4 digits, got {ssn!r}{hint}")
        if clean["zip"] is not None:
            match = _ZIP.fullmatch(clean["zip"])
            if match is None:
                hint = " (a spreadsheet may have dropped a leading zero)" if clean["zip"].isdigit() else ""
                fail("zip", f"must be 5 digits or ZIP+4 like 12345-6789, got {clean['zip']!r}{hint}")
            else:
                clean["zip"] = match.group(1)  # ZIP+4 is stored as the 5-digit ZIP
        phone = clean["phone"]
        if phone is not None and not _E164.fullmatch(phone):
            fail("phone", f"must be E.164 like +15555550101 (plus, country code, digits only), got {phone!r}")
        email = clean["email"]
        if email is not None and not _EMAIL.fullmatch(email):
            fail("email", f"{email!r} is not an email address")
        if clean["timezone"] is not None:
            reason = self._zone_problem(clean["timezone"])
            if reason is not None:
                fail("timezone", reason)
        if clean["balance"] is not None:
            try:
                clean["balance"] = parse_dollars(clean["balance"])
            except ValueError as exc:
                fail("balance", str(exc))
            else:
                if clean["balance"] > MAX_CENTS:
                    fail("balance", "is too large")
        balance = clean["balance"] if isinstance(clean["balance"], int) else None
        itemization = self._itemization(values, balance, fail)
        address = self._address(values.get(ADDRESS_COLUMN), fail)

        if problems:
            # Report a row's problems left to right, as the columns appear in the format.
            errors.extend(sorted(problems, key=lambda problem: _ORDER.index(problem.field)))
            return None
        return PortfolioRow(
            line=line,
            account_ref=clean["account_ref"],
            first_name=clean["first_name"],
            last_name=clean["last_name"],
            dob=clean["dob"],
            ssn_last4=clean["ssn_last4"],
            zip=clean["zip"],
            phone=clean["phone"],
            email=clean["email"],
            timezone=clean["timezone"],
            creditor=clean["creditor"],
            balance_cents=clean["balance"],
            email_work=clean["email_work"],
            email_employer_forbids=clean["email_employer_forbids"],
            itemization=itemization,
            postal_address=address,
        )

    def _itemization(self, values: dict[str, str], balance: int | None,
                     fail: Callable[[str, str], None]) -> tuple[date, int, int, int] | None:
        """DISC-5: the itemization columns of one row, checked: a real date not in the future, amounts of zero or
        more, and figures that add up to the balance. None when the row gives none (keep what is stored)."""
        given = {name: (values.get(name) or "").strip() for name in ITEMIZATION_COLUMNS}
        if not any(given.values()):
            return None
        for name in ("itemization_date", "itemization_balance"):
            if not given[name]:
                fail(name, "is required when the row gives an itemization (" + ", ".join(
                    n for n in ITEMIZATION_COLUMNS if given[n]) + ")")
        when: date | None = None
        if given["itemization_date"]:
            try:
                if not _DATE.fullmatch(given["itemization_date"]):
                    raise ValueError
                when = date.fromisoformat(given["itemization_date"])
            except ValueError:
                fail("itemization_date", f"must be a date written YYYY-MM-DD, got {given['itemization_date']!r}")
            else:
                if when > self.today:
                    fail("itemization_date", f"{when.isoformat()} is in the future")
                    when = None
        cents: dict[str, int | None] = {}
        for name in ITEMIZATION_COLUMNS[1:]:
            try:
                cents[name] = parse_dollars(given[name]) if given[name] else 0
            except ValueError as exc:
                fail(name, str(exc))
                cents[name] = None
            else:
                if cents[name] > MAX_CENTS:
                    fail(name, "is too large")
                    cents[name] = None
        if when is None or None in cents.values() or not given["itemization_balance"] or balance is None:
            return None
        then, interest, fees = cents["itemization_balance"], cents["interest_since"], cents["fees_since"]
        owed = then + interest + fees
        if given["payments_since"] and owed - cents["payments_since"] != balance:
            fail("itemization_balance", f"does not add up: {_dollars(then)} + interest {_dollars(interest)} + fees "
                 f"{_dollars(fees)} - payments {_dollars(cents['payments_since'])} is "
                 f"{_dollars(owed - cents['payments_since'])}, not the balance {_dollars(balance)}")
            return None
        if owed < balance:
            fail("itemization_balance", f"does not add up: the balance {_dollars(balance)} is more than "
                 f"{_dollars(then)} + interest {_dollars(interest)} + fees {_dollars(fees)} = {_dollars(owed)}")
            return None
        return when, then, interest, fees

    @staticmethod
    def _address(text: str | None, fail: Callable[[str, str], None]) -> str | None:
        """The mailing address, lines separated by ";" in the file, stored one per line. None: not given."""
        lines = [line.strip() for line in (text or "").split(";") if line.strip()]
        if not lines:
            return None
        if _CONTROL.search(text or ""):
            fail(ADDRESS_COLUMN, "contains a line break or other control character; separate lines with ';'")
        elif len(lines) > MAX_ADDRESS_LINES:
            fail(ADDRESS_COLUMN, f"has {len(lines)} lines; at most {MAX_ADDRESS_LINES} are allowed")
        elif any(len(line) > MAX_ADDRESS_LINE for line in lines):
            fail(ADDRESS_COLUMN, f"has a line longer than {MAX_ADDRESS_LINE} characters")
        else:
            return "\n".join(lines)
        return None

    def _dob(self, text: str, fail: Callable[[str, str], None]) -> date | None:
        try:
            if not _DATE.fullmatch(text):
                raise ValueError
            dob = date.fromisoformat(text)
        except ValueError:
            fail("dob", f"must be a date written YYYY-MM-DD, got {text!r}")
            return None
        if dob > self.today:
            fail("dob", f"{text} is in the future")
            return None
        if dob < EARLIEST_DOB:
            fail("dob", f"{text} is before 1900")
            return None
        return dob

    def _zone_problem(self, name: str) -> str | None:
        if name not in self.zones:
            self.zones[name] = _zone_problem(name)
        return self.zones[name]


def _zone_problem(name: str) -> str | None:
    hint = "use an IANA time zone name like America/Chicago"
    if name in _NOT_A_PLACE:
        return f"{name!r} is not a place; {hint}"
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return f"unknown time zone {name!r}; {hint}"
    return None


_ORDER = (*COLUMNS, *FLAG_COLUMNS, *NOTICE_COLUMNS)  # a row's problems are reported in this order


def _dollars(cents: int) -> str:
    return f"${cents / 100:,.2f}" if cents < 10**15 else f"{cents} cents"


# ---------------------------------------------------------------------------------------------
# Writing

_CONTACT = ("zip", "phone", "email", "timezone", *FLAG_COLUMNS, ADDRESS_COLUMN)  # from the latest row for a person
_ITEMIZATION = ("itemization_date", "itemization_cents", "interest_since_cents", "fees_since_cents")
_ACCOUNT_FIELDS = ("debtor_id", "creditor", "balance_cents", *_ITEMIZATION)  # what an import may change
_SCAN_ALL_SSNS = 1000

DebtorKey = tuple[str, str, date, str]


def import_accounts(
    engine: Engine,
    path_or_file: str | os.PathLike[str] | IO[bytes] | IO[str],
    *,
    dry_run: bool = False,
    actor: str = "portfolio_import",
) -> ImportResult:
    """Validate the file, then upsert its debtors and accounts in one transaction.

    Raises PortfolioImportError (and writes nothing) if any row is invalid. With dry_run the
    counts say what an import would do, and nothing is written.
    """
    rows = read_portfolio(path_or_file)
    with session_scope(engine) as session:
        now = utcnow()
        plan = _plan(session, rows, now)
        result = plan.result(len(rows), dry_run)
        if dry_run:
            return result
        _apply(session, plan, now)
        audit.record(
            session,
            AUDIT_KIND,
            actor=actor,
            detail={"file": _file_name(path_or_file), **asdict(result, dict_factory=_counts)},
        )
    return result


def _counts(items: list[tuple[str, Any]]) -> dict[str, Any]:
    return {name: value for name, value in items if name != "dry_run"}


def _file_name(path_or_file: object) -> str:
    if isinstance(path_or_file, (str, os.PathLike)):
        return Path(path_or_file).name
    name = getattr(path_or_file, "name", None)
    return Path(name).name if isinstance(name, str) else "<stream>"


@dataclass
class _Plan:
    new_debtors: list[dict[str, Any]]
    changed_debtors: list[dict[str, Any]]
    unchanged_debtors: int
    new_accounts: list[dict[str, Any]]
    changed_accounts: list[dict[str, Any]]
    unchanged_accounts: int

    def result(self, rows: int, dry_run: bool) -> ImportResult:
        return ImportResult(
            rows=rows,
            debtors_created=len(self.new_debtors),
            debtors_updated=len(self.changed_debtors),
            debtors_unchanged=self.unchanged_debtors,
            accounts_created=len(self.new_accounts),
            accounts_updated=len(self.changed_accounts),
            accounts_unchanged=self.unchanged_accounts,
            dry_run=dry_run,
        )


def _chunks(values: set[str]) -> Iterator[list[str]]:
    ordered = sorted(values)
    for start in range(0, len(ordered), _IN_CHUNK):
        yield ordered[start : start + _IN_CHUNK]


def _existing_debtors(session: Session, ssns: set[str]) -> dict[DebtorKey, tuple[str, tuple[Any, ...]]]:
    """Debtors who could be people in the file: identity key -> (id, contact values)."""
    query = select(
        Debtor.id,
        Debtor.first_name,
        Debtor.last_name,
        Debtor.dob,
        Debtor.ssn_last4,
        *(Debtor.__table__.c[name] for name in _CONTACT),
    ).order_by(Debtor.created_at, Debtor.id)
    # Narrowed by SSN last-4 rather than by name, because SQL case folding differs between the
    # backends. There are only 10,000 last-4 values and no index on them: past a tenth of them
    # each chunk would scan the whole table anyway, so one scan is cheaper.
    if len(ssns) > _SCAN_ALL_SSNS:
        queries = [query]
    else:
        queries = [query.where(Debtor.ssn_last4.in_(chunk)) for chunk in _chunks(ssns)]
    found: dict[DebtorKey, tuple[str, tuple[Any, ...]]] = {}
    for statement in queries:
        for debtor_id, first_name, last_name, dob, ssn_last4, *contact in session.connection().execute(statement):
            # Should the table already hold duplicates of one person, the oldest row wins, every time.
            found.setdefault(_debtor_key(first_name, last_name, dob, ssn_last4), (debtor_id, tuple(contact)))
    return found


def _existing_accounts(session: Session, refs: set[str]) -> dict[str, tuple[str, tuple[Any, ...]]]:
    """Accounts named in the file: account_ref -> (id, (debtor_id, creditor, balance_cents))."""
    found = {}
    for chunk in _chunks(refs):
        query = select(Account.account_ref, Account.id, *(Account.__table__.c[name] for name in _ACCOUNT_FIELDS))
        for ref, account_id, *values in session.connection().execute(query.where(Account.account_ref.in_(chunk))):
            found[ref] = (account_id, tuple(values))
    return found


def _plan(session: Session, rows: list[PortfolioRow], now: datetime) -> _Plan:
    """Work out every insert and update, reading existing rows in a few queries, not one per row."""
    keys = [row.debtor_key() for row in rows]
    existing_debtors = _existing_debtors(session, {row.ssn_last4 for row in rows})
    existing_accounts = _existing_accounts(session, {row.account_ref for row in rows})

    # Debtors: the latest row for a person sets their contact details.
    debtor_ids: dict[DebtorKey, str] = {}
    new_debtors: dict[DebtorKey, dict[str, Any]] = {}
    wanted_contact: dict[str, tuple[Any, ...]] = {}
    for row, key in zip(rows, keys, strict=True):
        known = existing_debtors.get(key)
        # A flag or an address the file does not give keeps what is stored (False, None for a new debtor).
        stored_kept = known[1][4:] if known is not None else (False, False, None)
        kept = tuple(stored if given is None else given for given, stored in
                     zip((row.email_work, row.email_employer_forbids, row.postal_address), stored_kept, strict=True))
        contact = (row.zip, row.phone, row.email, row.timezone, *kept)
        if known is not None:
            debtor_ids[key] = known[0]
            wanted_contact[known[0]] = contact
        elif key in new_debtors:
            new_debtors[key].update(zip(_CONTACT, contact, strict=True))
        else:
            debtor_ids[key] = debtor_id = new_id("dbt")
            new_debtors[key] = {
                "id": debtor_id,
                "first_name": row.first_name,
                "last_name": row.last_name,
                "dob": row.dob,
                "ssn_last4": row.ssn_last4,
                **dict(zip(_CONTACT, contact, strict=True)),
                "created_at": now,
                "updated_at": now,
            }
    stored_contact = dict(existing_debtors.values())
    changed_debtors = [
        {"id": debtor_id, **dict(zip(_CONTACT, contact, strict=True))}
        for debtor_id, contact in wanted_contact.items()
        if contact != stored_contact[debtor_id]
    ]

    # Accounts, by account_ref. Status is never touched: an import neither reopens nor closes.
    new_accounts, changed_accounts = [], []
    for row, key in zip(rows, keys, strict=True):
        known = existing_accounts.get(row.account_ref)
        # DISC-5: an itemization the file does not give keeps what is stored (none for a new account).
        itemization = row.itemization or (known[1][3:] if known is not None else (None, None, 0, 0))
        values = (debtor_ids[key], row.creditor, row.balance_cents, *itemization)
        if known is None:
            new_accounts.append(
                {
                    "id": new_id("acc"),
                    "account_ref": row.account_ref,
                    **dict(zip(_ACCOUNT_FIELDS, values, strict=True)),
                    "currency": "USD",
                    "status": AccountStatus.ACTIVE,
                    "created_at": now,
                    "updated_at": now,
                }
            )
        elif values != known[1]:
            changed_accounts.append({"id": known[0], **dict(zip(_ACCOUNT_FIELDS, values, strict=True))})

    return _Plan(
        new_debtors=list(new_debtors.values()),
        changed_debtors=changed_debtors,
        unchanged_debtors=len(wanted_contact) - len(changed_debtors),
        new_accounts=new_accounts,
        changed_accounts=changed_accounts,
        unchanged_accounts=len(rows) - len(new_accounts) - len(changed_accounts),
    )


def _apply(session: Session, plan: _Plan, now: datetime) -> None:
    connection = session.connection()
    # Debtors first: new and moved accounts point at new debtors. Core inserts, because the ORM's
    # per-row bookkeeping buys nothing here and costs seconds at 100k rows.
    if plan.new_debtors:
        connection.execute(insert(Debtor.__table__), plan.new_debtors)
    _update_by_id(connection, Debtor.__table__, plan.changed_debtors, _CONTACT, now)
    if plan.new_accounts:
        connection.execute(insert(Account.__table__), plan.new_accounts)
    _update_by_id(connection, Account.__table__, plan.changed_accounts, _ACCOUNT_FIELDS, now)


def _update_by_id(
    connection: Connection,
    table: Table,
    changes: list[dict[str, Any]],
    columns: tuple[str, ...],
    now: datetime,
) -> None:
    """Give many rows different new values in a handful of statements.

    An executemany UPDATE costs one round trip per row with psycopg2 (about 20 s for 100k rows),
    so the new values go into a temporary table (a batched insert) and one UPDATE copies them
    across. Correlated subqueries rather than UPDATE ... FROM, which older SQLite lacks.
    """
    if not changes:
        return
    stage = Table(
        f"settle_import_{table.name}",
        MetaData(),
        Column("id", String(40), primary_key=True),
        *(Column(name, table.c[name].type) for name in columns),
        prefixes=["TEMPORARY"],
    )
    # A SQLite connection keeps temporary tables; one left by an import that failed midway must go.
    stage.drop(connection, checkfirst=True)
    stage.create(connection)
    connection.execute(insert(stage), [{name: change[name] for name in ("id", *columns)} for change in changes])
    new_values = {name: select(stage.c[name]).where(stage.c.id == table.c.id).scalar_subquery() for name in columns}
    connection.execute(
        update(table).where(table.c.id.in_(select(stage.c.id))).values({**new_values, "updated_at": now})
    )
    stage.drop(connection)
