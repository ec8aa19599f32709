"""Where the stand-in keeps its objects between runs, so that a restart forgets nothing, as Stripe's own test
account would not: one SQLite file (`var/stripe-standin.db` under `make run`), owner-only (0600, its folder 0700).

Each object is a row (collection, id, JSON). After every request the stand-in hands over everything it has and
the rows that changed are written in one transaction: a request's changes are all kept or none are, whatever
moment the process is stopped or killed. Writes happen on the server's one event loop, like everything else.

Not kept: webhook events and their deliveries (pending deliveries are dropped), the request log and the test
faults. Delete the file, with the stand-in stopped, to start again from an empty test account."""

from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path
from typing import Any

FORMAT = "1"
_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS objects (collection TEXT NOT NULL, id TEXT NOT NULL, body TEXT NOT NULL,
                                    PRIMARY KEY (collection, id));
"""

Collections = dict[str, dict[str, Any]]


class StoreError(RuntimeError):
    """The state file is not one this stand-in can read (another program's, a newer format, damaged)."""


def _text(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), sort_keys=True)


class Store:
    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        # Created owner-only before SQLite opens it; SQLite gives its journal files the database file's mode.
        os.close(os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600))
        os.chmod(self.path, 0o600)
        try:
            self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")  # with WAL: atomic, and durable across a process crash
            self._db.executescript(_SCHEMA)
            found = self._db.execute("SELECT value FROM meta WHERE key = 'format'").fetchone()
            if found is None:
                self._db.execute("INSERT INTO meta (key, value) VALUES ('format', ?)", (FORMAT,))
            elif found[0] != FORMAT:
                raise StoreError(f"{self.path} is in stand-in state format {found[0]}, not {FORMAT}")
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"{self.path} is not a Stripe stand-in state file ({exc}); delete it to start from "
                             f"an empty test account") from exc
        self._written: dict[str, dict[str, str]] = {}

    def load(self) -> Collections:
        """Everything kept, by collection and id."""
        loaded: Collections = {}
        for collection, object_id, body in self._db.execute("SELECT collection, id, body FROM objects"):
            loaded.setdefault(collection, {})[object_id] = json.loads(body)
            self._written.setdefault(collection, {})[object_id] = body
        return loaded

    def save(self, collections: Collections) -> int:
        """Write what changed since the last save (new, changed and removed rows) in one transaction; the number of
        rows written. Nothing is written when nothing changed."""
        upserts: list[tuple[str, str, str]] = []
        deletes: list[tuple[str, str]] = []
        for collection, items in collections.items():
            written = self._written.get(collection, {})
            upserts += [(collection, object_id, text) for object_id, value in items.items()
                        if written.get(object_id) != (text := _text(value))]
            deletes += [(collection, object_id) for object_id in written if object_id not in items]
        if not upserts and not deletes:
            return 0
        self._db.execute("BEGIN IMMEDIATE")
        try:
            self._db.executemany("INSERT INTO objects (collection, id, body) VALUES (?, ?, ?) "
                                 "ON CONFLICT (collection, id) DO UPDATE SET body = excluded.body", upserts)
            self._db.executemany("DELETE FROM objects WHERE collection = ? AND id = ?", deletes)
            self._db.execute("COMMIT")
        except BaseException:
            if self._db.in_transaction:
                self._db.execute("ROLLBACK")
            raise
        for collection, object_id, text in upserts:
            self._written.setdefault(collection, {})[object_id] = text
        for collection, object_id in deletes:
            del self._written[collection][object_id]
        return len(upserts) + len(deletes)

    def close(self) -> None:
        self._db.close()
