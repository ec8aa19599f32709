"""Subcommands of `python -m bot`. Each module exposes `register(subparsers)` and sets `handler`."""

from __future__ import annotations

from bot.cli import chat, check_policies, import_accounts, migrate, run, train

COMMANDS = [run, import_accounts, migrate, train, chat, check_policies]
