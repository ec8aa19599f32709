"""The command line: `python -m bot <command>` (run it with the app environment, .venv-app/bin/python)."""

from __future__ import annotations

import argparse
import sys

from bot import jobs
from bot.cli import COMMANDS
from bot.config import Settings, SettingsError, check_environment
from bot.db import get_engine
from bot.logging_setup import configure as configure_logging
from bot.records.listeners import register_flush_listeners


def main(argv: list[str] | None = None) -> int:
    try:
        return _dispatch(argv)
    except SettingsError as error:  # a wrong setting: its name and expected form, not a traceback
        print(error, file=sys.stderr)
        return 2


def _dispatch(argv: list[str] | None) -> int:
    parser = argparse.ArgumentParser(prog="settle", description="Settle command line (also `python -m bot`)")
    sub = parser.add_subparsers(dest="command", required=True)
    for command in COMMANDS:
        command.register(sub)
    args = parser.parse_args(argv)
    check_environment()  # every command, so a wrong setting is reported before anything starts
    register_flush_listeners()  # REC-1: every message a command stores is sealed in the transcript chain
    if args.command in jobs.JOBS and not getattr(args, "dry_run", False) and getattr(args, "loop", None) is None:
        # A scheduled job's run is recorded (bot/jobs.py), so /metrics shows it whatever pod or host ran it (not a
        # dry run, which changes nothing, nor `send-reminders --loop`, a scheduler of its own that never ends).
        with jobs.recorded(get_engine(Settings.from_env().database_url), args.command) as outcome:
            outcome.exit_code = int(args.handler(args) or 0)
        return outcome.exit_code
    return int(args.handler(args) or 0)


if __name__ == "__main__":
    configure_logging("WARNING")  # one redacting configuration (bot/logging_setup.py); not when tests call main()
    sys.exit(main())
