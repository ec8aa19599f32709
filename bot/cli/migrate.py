"""`python -m bot migrate`: bring the app database to the newest schema; with --wait, wait for another process to."""

from __future__ import annotations

import argparse
import sys
import time

from sqlalchemy.exc import SQLAlchemyError

from bot.config import Settings
from bot.db.migrate import is_current, upgrade

POLL_SECONDS = 2.0


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("migrate", help="apply Alembic migrations to DATABASE_URL")
    parser.add_argument("--wait", type=float, metavar="SECONDS",
                        help="migrate nothing: wait until the schema is this code's newest (the release's migration "
                             "runs elsewhere, e.g. the Kubernetes Job `migrate`); exit 1 if it is not within SECONDS")
    parser.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    database_url = Settings.from_env().database_url
    if args.wait is None:
        upgrade(database_url)
        return 0
    deadline = time.monotonic() + args.wait
    said = ""
    while True:
        try:
            if is_current(database_url):
                print("migrate: the database schema is current", flush=True)
                return 0
            reason = "the database schema is older than this code"
        except SQLAlchemyError as exc:  # not reachable yet: the class only, a message could carry the URL
            reason = f"the database is not reachable ({type(exc).__name__})"
        if time.monotonic() >= deadline:
            print(f"migrate: gave up waiting after {args.wait:g} s: {reason}", file=sys.stderr, flush=True)
            return 1
        if reason != said:  # once per change, not every poll
            print(f"migrate: waiting: {reason}", file=sys.stderr, flush=True)
            said = reason
        time.sleep(POLL_SECONDS)
