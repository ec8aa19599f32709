"""Schema changes go through Alembic, and a database that already holds data upgrades cleanly."""

from __future__ import annotations

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from bot.db import get_engine
from bot.db.migrate import upgrade
from bot.db.models import Base


def test_the_migrations_build_exactly_the_models_schema(db_url):
    """No model change without its migration (checked on SQLite and PostgreSQL)."""
    with get_engine(db_url).connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == []


def test_a_populated_foundation_database_upgrades_to_head(tmp_path):
    url = f"sqlite:///{tmp_path / 'old.db'}"
    upgrade(url, "0001")
    engine = get_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO debtors (id, first_name, last_name, dob, ssn_last4, zip, timezone, "
                             "created_at, updated_at) VALUES ('dbt_1', 'A', 'B', '1980-01-01', '1234', '10001', "
                             "'America/New_York', '2026-01-01', '2026-01-01')"))
        conn.execute(sa.text("INSERT INTO accounts (id, debtor_id, account_ref, creditor, balance_cents, currency, "
                             "status, created_at, updated_at) VALUES ('acc_1', 'dbt_1', 'SET-1', 'C', 100, 'USD', "
                             "'active', '2026-01-01', '2026-01-01')"))
    upgrade(url)
    with engine.connect() as conn:
        row = conn.execute(sa.text("SELECT time_barred, legal_action_permitted FROM accounts")).one()
    assert tuple(row) == (0, 0)
