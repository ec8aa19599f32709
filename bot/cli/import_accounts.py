"""`python -m bot import-accounts FILE.csv [--dry-run]`: load a creditor's portfolio of accounts."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from sqlalchemy import inspect

from bot.config import Settings
from bot.db import get_engine
from bot.portfolio_import import COLUMNS, ImportResult, PortfolioImportError, import_accounts


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "import-accounts",
        help="import a portfolio CSV of debtors and accounts into DATABASE_URL",
        description=f"Import a portfolio CSV (UTF-8, header: {','.join(COLUMNS)}). "
        "The file is checked completely first; if any line has a problem nothing is imported.",
    )
    parser.add_argument("file", type=Path, help="the CSV file")
    parser.add_argument("--dry-run", action="store_true", help="check the file and report; write nothing")
    parser.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    path: Path = args.file
    if not path.is_file():
        problem = "is a directory, not a CSV file" if path.is_dir() else "does not exist"
        print(f"error: {path} {problem}", file=sys.stderr)
        return 2
    engine = get_engine(Settings.from_env().database_url)
    # A fresh database would otherwise fail with a raw "no such table" error.
    if not inspect(engine).has_table("accounts"):
        print("error: the database has no tables yet; run `python -m bot migrate` first", file=sys.stderr)
        return 2
    try:
        result = import_accounts(engine, path, dry_run=args.dry_run)
    except OSError as exc:  # unreadable (permissions, removed meanwhile)
        print(f"error: cannot read {path}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    except PortfolioImportError as exc:
        for error in exc.errors:
            print(str(error), file=sys.stderr)
        count = len(exc.errors)
        print(
            f"{path.name}: {count} problem{'s' if count != 1 else ''} found; nothing was imported",
            file=sys.stderr,
        )
        return 1
    print(summary(path.name, result))
    return 0


def summary(file_name: str, result: ImportResult) -> str:
    """The one-paragraph report printed after an import (or a dry run)."""
    rows = f"{result.rows} row{'s' if result.rows != 1 else ''}"
    debtors = (
        f"{result.debtors_created} debtors created, {result.debtors_updated} updated, "
        f"{result.debtors_unchanged} unchanged"
    )
    accounts = (
        f"{result.accounts_created} accounts created, {result.accounts_updated} updated, "
        f"{result.accounts_unchanged} unchanged"
    )
    kept = ""
    if result.balances_kept:
        # TONE-2: a balance Settle's ledger changed is never replaced by the file's; each such row is named.
        listed = "".join(f"\n  {row}" for row in result.kept)
        more = result.balances_kept - len(result.kept)
        kept = (f"\n{result.balances_kept} balance{'s' if result.balances_kept != 1 else ''} kept (Settle took "
                f"payments since the import):{listed}" + (f"\n  ... and {more} more" if more else ""))
    if result.dry_run:
        return (
            f"Dry run: read {rows} from {file_name} and found no problems; nothing was written. "
            f"Importing it would give: {debtors}; {accounts}.{kept}"
        )
    return f"Imported {rows} from {file_name}: {debtors}; {accounts}.{kept}"
