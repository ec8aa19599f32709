"""`settle-init [--demo]` (in the gateway image): the one-off step before the gateways start: bring the app database
to the newest schema (Alembic, as `python -m bot migrate`) and, with --demo, load the demo portfolio and its
history into a database that has no accounts yet (as `make run` does; never over real accounts)."""

from __future__ import annotations

import sys

from bot.config import Settings
from bot.db import get_engine
from bot.db.migrate import upgrade
from bot.demo import load
from bot.records.listeners import register_flush_listeners


def main(argv: list[str]) -> int:
    register_flush_listeners()  # REC-1: the demo history is sealed in the transcript chain like any message
    database_url = Settings.from_env().database_url
    upgrade(database_url)
    print("settle-init: database migrated", flush=True)
    if "--demo" in argv:
        loaded = load(get_engine(database_url))
        print("settle-init: accounts present; demo not loaded" if loaded is None else
              f"settle-init: demo portfolio loaded ({loaded.accounts} accounts, "
              f"{loaded.history_conversations} past conversations)", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
