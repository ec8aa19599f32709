"""What `python -m bot run --production` needs before it starts anything: PostgreSQL for the app database and
Rasa's tracker store, Redis for the locks and the live hub. Each is checked up front, and what is unreachable is
named with the setting that points at it, rather than discovered by a process dying later with a stack trace."""

from __future__ import annotations

import os
from dataclasses import dataclass

import redis
import sqlalchemy as sa
from sqlalchemy.engine import make_url

DEFAULT_DATABASE_URL = "postgresql+psycopg2://postgres@127.0.0.1:5432/settle"
DEFAULT_TRACKER_STORE_URL = "postgresql://postgres@127.0.0.1:5432/settle_tracker"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"


class ProductionSetupError(RuntimeError):
    """A service the production topology needs is missing or misconfigured; the message says which."""


@dataclass(frozen=True)
class ProductionUrls:
    database_url: str
    tracker_store_url: str
    redis_url: str


def urls_from_env(env: dict[str, str] | None = None) -> ProductionUrls:
    env = dict(os.environ if env is None else env)
    return ProductionUrls(
        database_url=env.get("DATABASE_URL") or DEFAULT_DATABASE_URL,
        tracker_store_url=env.get("TRACKER_STORE_URL") or DEFAULT_TRACKER_STORE_URL,
        redis_url=env.get("REDIS_URL") or DEFAULT_REDIS_URL,
    )


def ensure_postgres_database(url: str, setting: str) -> bool:
    """Create the database `url` names if it does not exist yet (connecting to the server's `postgres` database).
    True if it was created. Refuses anything but PostgreSQL: several processes on one SQLite file is not the
    production topology."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "postgresql":
        raise ProductionSetupError(f"{setting} must be a PostgreSQL URL for --production (got {parsed.drivername})")
    name = parsed.database
    if not name:
        raise ProductionSetupError(f"{setting} names no database: {parsed.render_as_string(hide_password=True)}")
    # The rasa env reads "postgresql://" with psycopg2 too; this (app) env has psycopg2 as well.
    admin_url = parsed.set(drivername="postgresql+psycopg2", database="postgres")
    engine = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 5})
    try:
        with engine.connect() as conn:
            if conn.scalar(sa.text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}):
                return False
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
            return True
    except sa.exc.OperationalError as exc:
        where = f"{parsed.host or 'localhost'}:{parsed.port or 5432}"
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        raise ProductionSetupError(f"PostgreSQL at {where} ({setting}) is not reachable: {reason}") from exc
    finally:
        engine.dispose()


def check_redis(url: str) -> None:
    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=3, socket_timeout=3)
        client.ping()
        client.close()
    except (redis.RedisError, ValueError) as exc:
        raise ProductionSetupError(f"Redis at {url} (REDIS_URL) is not reachable: {exc}") from exc


def prepare(urls: ProductionUrls) -> list[str]:
    """Check every service and create what is missing; returns what was done, for the run command to print."""
    done = []
    if ensure_postgres_database(urls.database_url, "DATABASE_URL"):
        done.append(f"created the app database {make_url(urls.database_url).database}")
    if ensure_postgres_database(urls.tracker_store_url, "TRACKER_STORE_URL"):
        done.append(f"created the tracker store database {make_url(urls.tracker_store_url).database}")
    check_redis(urls.redis_url)
    return done
