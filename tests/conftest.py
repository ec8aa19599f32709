"""Shared fixtures. Database tests run on SQLite and on PostgreSQL (127.0.0.1:5432 here, or SETTLE_TEST_PG_URL)."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import sqlalchemy as sa
from sqlalchemy import Engine

from bot.db import get_engine
from bot.db.migrate import upgrade
from bot.db.models import Base
from bot.records.listeners import register_flush_listeners

if TYPE_CHECKING:
    from bot.stack import Stack

# The test process is a process like any other: the records layer's flush listeners (REC-1 transcript, review flags)
# go on before any test writes (tests/test_flush_listeners.py checks every real entry point does the same).
register_flush_listeners()

PG_ADMIN_URL = os.environ.get("SETTLE_TEST_PG_URL", "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres")


@pytest.fixture(scope="session")
def sqlite_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'settle-test.db'}"
    upgrade(url)
    return url


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A throwaway PostgreSQL database for this test run, migrated with Alembic."""
    name = f"settle_test_{secrets.token_hex(4)}"
    admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    except sa.exc.OperationalError as exc:  # pragma: no cover - environment problem, say so plainly
        pytest.fail(f"PostgreSQL is not reachable at {PG_ADMIN_URL}: {exc}")
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    upgrade(url)
    yield url
    get_engine(url).dispose()
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _empty(engine: Engine) -> None:
    with engine.begin() as conn:
        for table in reversed(Base.metadata.sorted_tables):
            conn.execute(table.delete())


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest) -> str:
    """An empty, migrated app database; the test runs once on each backend."""
    url = request.getfixturevalue("sqlite_url" if request.param == "sqlite" else "postgres_url")
    _empty(get_engine(url))
    return url


@pytest.fixture
def engine(db_url: str) -> Engine:
    return get_engine(db_url)


@pytest.fixture
def sqlite_engine(sqlite_url: str) -> Engine:
    """For tests whose logic does not depend on the backend."""
    engine = get_engine(sqlite_url)
    _empty(engine)
    return engine


def add_debtor(
    session,
    *,
    account_ref: str = "SET-100001",
    first_name: str = "Jordan",
    last_name: str = "Rivera",
    dob: str = "1979-03-14",
    ssn_last4: str = "1234",
    zip_code: str = "90210",
    phone: str | None = "+15555550101",
    creditor: str = "Acme Bank",
    balance_cents: int = 123456,
):
    """A debtor with one account, written straight to the database (tests of the importer live elsewhere)."""
    from datetime import date

    from bot.db.models import Account, Debtor

    debtor = Debtor(first_name=first_name, last_name=last_name, dob=date.fromisoformat(dob), ssn_last4=ssn_last4,
                    zip=zip_code, phone=phone, email=None, timezone="America/Los_Angeles")
    session.add(debtor)
    session.flush()
    # DISC-5: an itemization the validation notice can state (the last statement, before a $25 late fee).
    account = Account(debtor_id=debtor.id, account_ref=account_ref, creditor=creditor, balance_cents=balance_cents,
                      itemization_date=date(2026, 6, 30), itemization_cents=max(balance_cents - 2500, 0),
                      fees_since_cents=min(2500, balance_cents))
    session.add(account)
    session.flush()
    return debtor, account


MAIL_FROM = "notices@settle.test"


@pytest.fixture
def mail_server(sqlite_engine: Engine) -> Iterator[str]:
    """Settle's local mail server (bot/mail/server.py) on a free loopback port, keeping what it receives in the test
    database (replies to MAIL_FROM go to Settle's inbound side); yields its SMTP_URL."""
    from bot.mail.server import MailboxHandler, start

    port = free_port()
    controller = start(MailboxHandler(sqlite_engine, MAIL_FROM), port=port)
    yield f"smtp://127.0.0.1:{port}"
    controller.stop()


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def trained_model():
    """The one model of this run: trained once (by `make test` before pytest, or here) and shared."""
    from bot.training import ensure_model

    return ensure_model(quiet=True)


@pytest.fixture(scope="session")
def running_stack(trained_model, tmp_path_factory):
    """The real processes (action server, Rasa, gateway, Stripe stand-in) on loopback, with the demo portfolio and
    its history loaded as `make run` loads them (bot.demo.load): the tests see what a new user sees."""
    stack = start_demo_stack(trained_model, tmp_path_factory.mktemp("stack"))
    yield stack
    stack.stop()


def start_demo_stack(trained_model: Path, workdir: Path, **config: Any) -> Stack:
    """A new stack on a new database holding `make run`'s demo data, as after `rm var/settle.db; make run`.
    `config`: more StackConfig fields (e.g. the local mail server)."""
    from bot import demo
    from bot.stack import StackConfig

    database_url = f"sqlite:///{workdir / 'app.db'}"
    upgrade(database_url)
    assert demo.load(get_engine(database_url)) is not None
    config = StackConfig(
        database_url=database_url, tracker_store_url=f"sqlite:///{workdir / 'tracker.db'}", model=trained_model,
        log_dir=workdir / "log", gateway_port=free_port(), rasa_port=free_port(), action_port=free_port(),
        stripe_standin=True, stripe_port=free_port(),  # the Stripe stand-in is the 4th process
        stripe_state=workdir / "stripe-standin.db",  # kept like `make run` keeps it, but in this run's folder
        **config,
    )
    from bot.stack import Stack

    return Stack(config).start()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """A test that needs the trained model is an integration test whatever its file says, so `make test-fast`
    (-m "not integration and not browser") never trains or starts Rasa."""
    for item in items:
        if {"trained_model", "running_stack"} & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.integration)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Issue 18: after the suite, no card number and no SSN in any database or log the tests' processes wrote (the
    running stacks' app and tracker databases and process logs, every SQLite file under pytest's temporary
    directory). The tests type both at the system all the time; keeping one anywhere fails the run."""
    from tests.sensitive_scan import PLANTED, describe, scan_tree

    if hasattr(session.config, "workerinput"):
        return  # a pytest-xdist worker: the controller scans every worker's folder (under its own) once all are done
    factory = getattr(session.config, "_tmp_path_factory", None)
    controller = bool(getattr(session.config.option, "numprocesses", None))
    if factory is None or (session.testscollected == 0 and not controller):
        return
    found = scan_tree(factory.getbasetemp(), skip=PLANTED)
    if found:
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        message = f"PCI-3/issue 18: a card number or SSN was kept in {len(found)} place(s):\n{describe(found)}"
        if reporter is not None:
            reporter.write_line(message, red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
