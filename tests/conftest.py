"""Shared fixtures. Database tests run on SQLite and on PostgreSQL (127.0.0.1:5432 here, or SETTLE_TEST_PG_URL)."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from sqlalchemy import Engine

from bot.db import get_engine
from bot.db.migrate import upgrade
from bot.db.models import Base

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
    account = Account(debtor_id=debtor.id, account_ref=account_ref, creditor=creditor, balance_cents=balance_cents)
    session.add(account)
    session.flush()
    return debtor, account


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
    """The three real processes (action server, Rasa, gateway) on loopback, with the demo portfolio."""
    from bot.config import PROJECT_ROOT
    from bot.portfolio_import import import_accounts
    from bot.stack import Stack, StackConfig

    workdir = tmp_path_factory.mktemp("stack")
    database_url = f"sqlite:///{workdir / 'app.db'}"
    upgrade(database_url)
    import_accounts(get_engine(database_url), PROJECT_ROOT / "data" / "demo_portfolio.csv")
    config = StackConfig(
        database_url=database_url, tracker_store_url=f"sqlite:///{workdir / 'tracker.db'}", model=trained_model,
        log_dir=workdir / "log", gateway_port=free_port(), rasa_port=free_port(), action_port=free_port(),
        stripe_standin=True, stripe_port=free_port(),  # the Stripe stand-in is the 4th process
    )
    stack = Stack(config).start()
    yield stack
    stack.stop()
