"""App database: engine and sessions. Schema changes go through Alembic (bot/migrations)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

_engines: dict[str, Engine] = {}
# One session factory per engine: `sessionmaker()` makes a new Session subclass, and SQLAlchemy then copies every
# session event listener (the transcript and flag hooks, the guard below) onto it, a cost paid per unit of work
# otherwise.
_factories: dict[Engine, sessionmaker[Session]] = {}


CONNECT_TIMEOUT_SECONDS = 5


def get_engine(url: str) -> Engine:
    """One engine per URL per process (engines own connection pools)."""
    engine = _engines.get(url)
    if engine is None:
        if url.startswith("sqlite:///"):
            Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
            # As many kept connections as the gateway has worker threads (anyio's 40): a connection opened past the
            # pool's size is closed again on return, and opening one (with its pragmas) costs more than a query.
            engine = create_engine(url, connect_args={"timeout": 30}, pool_size=40, max_overflow=10)
            event.listen(engine, "connect", _sqlite_pragmas)
        else:
            # A connection attempt gives up after CONNECT_TIMEOUT_SECONDS: a database that is unreachable (packets
            # dropped, not refused) must not hold a request, or a readiness check (bot/health.py), for minutes.
            connect_args = {"connect_timeout": CONNECT_TIMEOUT_SECONDS} if url.startswith("postgresql") else {}
            engine = create_engine(url, pool_pre_ping=True, connect_args=connect_args)
        _engines[url] = engine
    return engine


def _sqlite_pragmas(dbapi_connection, _record) -> None:  # noqa: ANN001
    # WAL lets the gateway and the action server read while the other writes. synchronous=NORMAL in WAL mode still
    # survives a crash of any process (only a power cut or an OS crash can lose the last commits), and spares an
    # fsync per commit, which on the embedded default is most of a message's database time.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


class FlushListenersMissing(RuntimeError):
    """A session tried to write before the process registered the records layer's flush listeners."""


# Every session seals what it stores into the transcript chain and raises review flags (REC-1). Those listeners live
# in bot/records, a domain service this core module must not import, so each process registers them at its start
# (bot.records.listeners.register_flush_listeners, which marks it here). Until it has, no session may write: a
# process that forgot fails at its first write instead of storing messages the transcript never sees.
_listeners_registered = False


def mark_flush_listeners_registered() -> None:
    """Called by bot.records.listeners once its listeners are on Session."""
    global _listeners_registered
    _listeners_registered = True


@event.listens_for(Session, "before_flush")
def _refuse_writes_without_listeners(_session: Session, _flush_context: object, _instances: object) -> None:
    if not _listeners_registered:
        raise FlushListenersMissing(
            "no transcript or flag listeners on this process's sessions (REC-1): call "
            "bot.records.listeners.register_flush_listeners() at process start (docs/architecture.md)")


@contextmanager
def session_scope(engine: Engine, *, rehearsal: bool = False) -> Iterator[Session]:
    """A unit of work: commit on success, roll back on any error. A rehearsal (a command's dry run) does all the
    work, so every count and verdict is exactly the real one, and rolls it back at the end."""
    factory = _factories.get(engine)
    if factory is None:
        factory = _factories[engine] = sessionmaker(bind=engine, expire_on_commit=False)
    session = factory()
    try:
        yield session
        if rehearsal:
            session.rollback()
        else:
            session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
