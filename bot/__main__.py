"""The command line: `python -m bot <command>` (run it with the app environment, .venv-app/bin/python)."""

from __future__ import annotations

import argparse
import sys

from bot.cli import COMMANDS


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot", description="Settle command line")
    sub = parser.add_subparsers(dest="command", required=True)
    for command in COMMANDS:
        command.register(sub)
    args = parser.parse_args(argv)
    return int(args.handler(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
