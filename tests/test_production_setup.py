"""`run --production`'s checks before anything starts (bot/production.py): databases made if missing, and what is
unreachable named with the setting that points at it."""

from __future__ import annotations

import secrets

import pytest
import sqlalchemy as sa

from bot.production import (
    DEFAULT_DATABASE_URL,
    DEFAULT_REDIS_URL,
    DEFAULT_TRACKER_STORE_URL,
    ProductionSetupError,
    check_redis,
    ensure_postgres_database,
    urls_from_env,
)
from tests.conftest import PG_ADMIN_URL, free_port


def test_defaults_are_the_local_postgresql_and_redis_and_the_environment_wins():
    assert urls_from_env({}) == urls_from_env({"DATABASE_URL": "", "REDIS_URL": ""})
    defaults = urls_from_env({})
    assert (defaults.database_url, defaults.tracker_store_url, defaults.redis_url) == (
        DEFAULT_DATABASE_URL, DEFAULT_TRACKER_STORE_URL, DEFAULT_REDIS_URL)
    assert urls_from_env({"REDIS_URL": "redis://cache:6379/2"}).redis_url == "redis://cache:6379/2"


def test_a_missing_database_is_created_once():
    name = f"settle_setup_{secrets.token_hex(4)}"
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    try:
        assert ensure_postgres_database(url, "DATABASE_URL") is True
        assert ensure_postgres_database(url.replace("+psycopg2", ""), "TRACKER_STORE_URL") is False
    finally:
        admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def test_an_unreachable_postgresql_is_named_with_its_setting():
    port = free_port()  # nothing listens there
    with pytest.raises(ProductionSetupError, match=rf"PostgreSQL at 127.0.0.1:{port} \(TRACKER_STORE_URL\) is not"):
        ensure_postgres_database(f"postgresql://postgres@127.0.0.1:{port}/settle_tracker", "TRACKER_STORE_URL")


def test_sqlite_is_refused_for_production():
    with pytest.raises(ProductionSetupError, match="DATABASE_URL must be a PostgreSQL URL"):
        ensure_postgres_database("sqlite:///var/settle.db", "DATABASE_URL")


def test_an_unreachable_redis_is_named():
    port = free_port()
    with pytest.raises(ProductionSetupError, match=rf"Redis at redis://127.0.0.1:{port}/0 \(REDIS_URL\) is not"):
        check_redis(f"redis://127.0.0.1:{port}/0")
    check_redis(DEFAULT_REDIS_URL)  # the one the tests use is up
