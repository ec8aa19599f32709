"""The demo data `make run` loads into an empty database: the fictional portfolio (data/demo_portfolio.csv), then
the compliance console's past conversations on the portfolio rows reserved for them (bot/records/demo_history.py).
One function, used by `python -m bot run` and by the tests' running stack, so that the tests start from exactly
what a new user sees."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import Engine, func, select

from bot.config import PROJECT_ROOT
from bot.db import session_scope
from bot.db.models import Account
from bot.portfolio_import import import_accounts
from bot.records import demo_history

DEMO_PORTFOLIO = PROJECT_ROOT / "data" / "demo_portfolio.csv"
# DISC-5: the validation notice itemizes from a date the creditor gave (1006.34(b)(3)); the demo file leaves out the
# import's optional itemization columns, so the demo's accounts say: the balance is what the last statement (June 30,
# 2026) said, with no interest, fees or payments since.
DEMO_ITEMIZATION_DATE = date(2026, 6, 30)


@dataclass(frozen=True)
class DemoLoaded:
    accounts: int
    history_conversations: int


def load(engine: Engine) -> DemoLoaded | None:
    """Load the demo portfolio and its history into a database without accounts; None (nothing done) otherwise:
    re-importing would put the demo balances back and undo what happened since."""
    with session_scope(engine) as session:
        if session.scalar(select(func.count(Account.id))) > 0:
            return None
    result = import_accounts(engine, DEMO_PORTFOLIO)
    with session_scope(engine) as session:
        for account in session.scalars(select(Account).where(Account.itemization_date.is_(None))):
            account.itemization_date, account.itemization_cents = DEMO_ITEMIZATION_DATE, account.balance_cents
        made = demo_history.seed(session)
    return DemoLoaded(accounts=result.rows, history_conversations=made)
