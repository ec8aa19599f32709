"""EMAIL-2, 1006.22(f)(3): no email to a work address (one the employer provided) the debtor has not written to us
from or agreed to, and none where the employer forbids it (1006.6(b)(3)). The portfolio import records both facts.
Queued notices are sent at noon in Los Angeles (pinned), through a real aiosmtpd server on loopback."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from bot import contact_preferences
from bot.db import session_scope
from bot.db.models import Account, Debtor
from bot.mail.transport import email_transport
from bot.messaging import queue as outbound_queue
from bot.portfolio_import import COLUMNS, PortfolioImportError, import_accounts
from tests.test_email import EMAIL, NOON_LA, debtor_with_email, queue_notice, queued, settings_for


def work_debtor(engine: Engine, *, work: bool = True, forbids: bool = False) -> str:
    account_id = debtor_with_email(engine)
    with session_scope(engine) as session:
        debtor = session.get(Account, account_id).debtor
        debtor.email_work, debtor.email_employer_forbids = work, forbids
    return account_id


def send_notice(engine: Engine, smtp_url: str, account_id: str) -> tuple[str, tuple[str, ...] | None]:
    notice_id = queue_notice(engine, account_id)
    outbound_queue.process_due(engine, email_transport(engine, settings_for(engine, smtp_url)), now=NOON_LA)
    notice = queued(engine, notice_id)
    return notice.status, tuple(notice.rule_ids or ())


def test_EMAIL_2_no_email_to_a_work_address_the_debtor_has_not_given(sqlite_engine, mail_server):
    """Mutation tried: check_initiated without the work-address check -> the notice is sent, fails."""
    assert send_notice(sqlite_engine, mail_server, work_debtor(sqlite_engine)) == ("blocked", ("EMAIL-2",))


def test_EMAIL_2_a_work_address_the_debtor_wrote_from_gets_email(sqlite_engine, mail_server):
    """1006.22(f)(3)(ii): an email from that address is the debtor's own use of it. Mutation tried: ignoring
    last_inbound_at -> blocked, fails."""
    account_id = work_debtor(sqlite_engine)
    with session_scope(sqlite_engine) as session:
        contact_preferences.record_inbound(session, "email", EMAIL, NOON_LA)
    assert send_notice(sqlite_engine, mail_server, account_id) == ("sent", ())


def test_EMAIL_2_where_the_employer_forbids_email_none_goes_even_to_an_address_the_debtor_used(
        sqlite_engine, mail_server):
    """Mutation tried: checking the employer's prohibition only for addresses the debtor has not used -> sent,
    fails."""
    account_id = work_debtor(sqlite_engine, forbids=True)
    with session_scope(sqlite_engine) as session:
        contact_preferences.record_inbound(session, "email", EMAIL, NOON_LA)
    assert send_notice(sqlite_engine, mail_server, account_id) == ("blocked", ("EMAIL-2",))


def test_a_personal_address_is_not_held_back(sqlite_engine, mail_server):
    assert send_notice(sqlite_engine, mail_server, work_debtor(sqlite_engine, work=False)) == ("sent", ())


GOOD = {"account_ref": "SET-900001", "first_name": "Avery", "last_name": "Quinn", "dob": "1983-05-06",
        "ssn_last4": "0042", "zip": "60614", "phone": "+15555550190", "email": "avery.quinn@acme-corp.example",
        "timezone": "America/Chicago", "creditor": "Acme Bank", "balance": "100.00"}


def portfolio(tmp_path: Path, flags: dict[str, str] | None, name: str) -> Path:
    names = [*COLUMNS, *(flags or {})]
    values = {**GOOD, **(flags or {})}
    path = tmp_path / name
    path.write_text(",".join(names) + "\n" + ",".join(values[n] for n in names) + "\n", encoding="utf-8")
    return path


def flags_of(engine: Engine) -> tuple[bool, bool]:
    with session_scope(engine) as session:
        debtor = session.scalars(select(Debtor)).one()
        return debtor.email_work, debtor.email_employer_forbids


def test_EMAIL_2_the_import_records_a_work_address_and_a_file_without_the_columns_keeps_it(sqlite_engine, tmp_path):
    import_accounts(sqlite_engine, portfolio(tmp_path, {"email_work": "yes", "email_employer_forbids": "no"}, "a"))
    assert flags_of(sqlite_engine) == (True, False)
    import_accounts(sqlite_engine, portfolio(tmp_path, None, "b"))  # the usual columns only: nothing forgotten
    assert flags_of(sqlite_engine) == (True, False)
    import_accounts(sqlite_engine, portfolio(tmp_path, {"email_employer_forbids": "true"}, "c"))
    assert flags_of(sqlite_engine) == (True, True)
    with pytest.raises(PortfolioImportError) as refused:
        import_accounts(sqlite_engine, portfolio(tmp_path, {"email_work": "maybe"}, "d"))
    [problem] = refused.value.errors
    assert problem.field == "email_work" and "yes or no" in problem.reason
