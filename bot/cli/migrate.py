"""`python -m bot migrate`: bring the app database to the newest schema."""

from __future__ import annotations

import argparse

from bot.config import Settings
from bot.db.migrate import upgrade


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("migrate", help="apply Alembic migrations to DATABASE_URL")
    parser.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    upgrade(Settings.from_env().database_url)
    return 0
