"""`python -m bot create-user NAME --role agent|supervisor|compliance|operator [--languages en,es]`: a console user
(REC-2). `python -m bot set-languages NAME en,es` changes the languages later (bot/cli/set_languages.py).

The password is asked for twice without echo, or read from standard input with --password-stdin (one line; for
scripts), never taken as an argument, where it would end up in the shell history and the process list."""

from __future__ import annotations

import argparse
import getpass
import sys

from sqlalchemy import inspect

from bot import wording
from bot.agents import users
from bot.config import Settings
from bot.db import get_engine, session_scope


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("create-user", help="create an agent console user (prompts for the password)")
    parser.add_argument("name", help="the username to log in with (letters, digits, '.', '_', '-')")
    parser.add_argument("--role", required=True, choices=users.ROLES,
                        help="agent: works the queue; supervisor: also sees every queue and reassigns; "
                             "compliance: reads every conversation, never writes to debtors; "
                             "operator: the operations console at /ops (portfolios, segments, campaigns, KPIs)")
    parser.add_argument("--display-name", help="the name debtors see on this person's replies (default: NAME)")
    parser.add_argument("--languages", type=languages_arg, metavar="CODES",
                        help="the languages this person answers debtors in, comma-separated "
                             f"({', '.join(wording.LANGUAGES)}; default: en). A Spanish conversation is left for "
                             "someone with es while one is available")
    parser.add_argument("--unredacted", action="store_true",
                        help="compliance only: may read transcripts unredacted (REC-2; each such view is logged)")
    parser.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    parser.set_defaults(handler=handle)


def languages_arg(value: str) -> tuple[str, ...]:
    """`en,es` -> ("en", "es"), refused at parse time (exit 2, with the reason) when not a language Settle writes in."""
    try:
        return users.check_languages(value.split(","))
    except users.UserError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _password(from_stdin: bool) -> str | None:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass("Password: ")
    if getpass.getpass("Again: ") != first:
        print("error: the passwords do not match", file=sys.stderr)
        return None
    return first


def handle(args: argparse.Namespace) -> int:
    engine = get_engine(Settings.from_env().database_url)
    if not inspect(engine).has_table("users"):
        print("error: the database has no users table yet; run `python -m bot migrate` first", file=sys.stderr)
        return 2
    if args.unredacted and args.role != "compliance":
        print("error: --unredacted is for compliance users only", file=sys.stderr)
        return 2
    if args.languages and not users.answers_debtors(args.role):
        print("error: --languages is for agents and supervisors (the people who answer debtors)", file=sys.stderr)
        return 2
    password = _password(args.password_stdin)
    if password is None:
        return 2
    try:
        with session_scope(engine) as session:
            user = users.create_user(session, args.name, password, args.role, display_name=args.display_name,
                                     languages=args.languages)
            user.can_view_unredacted = args.unredacted  # REC-2: granted person by person, never by role
            summary = (f"created {user.role} {user.username!r} (shown to debtors as {user.display_name!r}, "
                       f"answers in {', '.join(users.languages(user))})")
            if args.unredacted:
                summary += ", may read transcripts unredacted"
    except users.UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(summary)
    return 0
