"""`python -m bot set-languages NAME en,es`: the languages a console user answers debtors in (issue 23, HO-1).

A Spanish conversation is left for someone who has "es" while one is available; this is where an agent gets it.
Audited (REC-2) with the languages before and after."""

from __future__ import annotations

import argparse
import sys

from bot import wording
from bot.agents import users
from bot.cli.create_user import languages_arg
from bot.config import Settings
from bot.db import get_engine, session_scope


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("set-languages", help="set the languages a console user answers debtors in")
    parser.add_argument("name", help="the user's username")
    parser.add_argument("languages", type=languages_arg, metavar="CODES",
                        help=f"comma-separated, of {', '.join(wording.LANGUAGES)} (e.g. en,es)")
    parser.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    engine = get_engine(Settings.from_env().database_url)
    with session_scope(engine) as session:
        user = users.by_username(session, args.name)
        if user is None:
            print(f"error: no user named {users.normalise_username(args.name)!r}", file=sys.stderr)
            return 2
        if not users.answers_debtors(user.role):
            print(f"error: {user.username!r} is a {user.role} and never answers debtors", file=sys.stderr)
            return 2
        changed = users.set_languages(session, user, args.languages, changed_by="cli")
        said = f"{user.username!r} answers in {', '.join(users.languages(user))}" + ("" if changed else " (unchanged)")
    print(said)
    return 0
