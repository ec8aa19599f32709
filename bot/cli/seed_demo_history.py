"""`python -m bot seed-demo-history`: past conversations for the compliance console demo (idempotent)."""

from __future__ import annotations

import argparse

from bot.config import Settings
from bot.db import get_engine, session_scope
from bot.records import demo_history


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("seed-demo-history",
                            help="add a few past conversations (dispute, cease, blocked agent reply, handoff)")
    parser.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    with session_scope(get_engine(Settings.from_env().database_url)) as session:
        made = demo_history.seed(session)
    print(f"settle: demo history: {made} conversations added" if made else "settle: demo history already there")
    return 0
