"""Issue 21: the demo data keeps the README true. The database is loaded exactly as `make run` loads it
(bot.demo.load: the demo portfolio, then the compliance console's demo history), and then every account the README
names, parsed from README.md so that the two cannot drift, is open (not disputed, ceased or held), its debtor's
phone and email are not opted out, nobody is locked out, and each verifies with the details the README gives.

Mutation tried: demo_history.seed choosing `select(Account).order_by(Account.account_ref).limit(4)` again (the old
"first four accounts") fails the second test: SET-100001, the README's balance and pay-now account, is disputed."""

from __future__ import annotations

import re
from datetime import datetime

from sqlalchemy import Engine, select

from bot import contact_preferences, conversations, demo
from bot.compliance.holds import hold_rule
from bot.config import PROJECT_ROOT
from bot.db import session_scope
from bot.db.models import Account, AccountStatus, Conversation
from bot.identity import VERIFIED, Factors, IdentityService
from bot.portfolio_import import read_portfolio
from bot.records import demo_history

README = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
# The demo-debtor list under "The two commands": "- `SET-100001`, born `03/14/1979`, SSN last four `1234` (or ZIP
# `90210`): ..."
DEBTOR_LINE = re.compile(r"^- `(SET-\d{6})`, born `(\d\d)/(\d\d)/(\d{4})`, SSN last four `(\d{4})` "
                         r"\(or ZIP `(\d{5})`\)", re.MULTILINE)


def readme_accounts() -> set[str]:
    """Every demo account reference the README mentions, anywhere in it."""
    return set(re.findall(r"\bSET-\d{6}\b", README))


def readme_debtors() -> dict[str, Factors]:
    """The README's demo debtors: account reference -> the details it tells a reader to type."""
    found = {}
    for ref, month, day, year, ssn, zip_code in DEBTOR_LINE.findall(README):
        dob = datetime(int(year), int(month), int(day)).date()
        found[ref] = Factors(dob=dob, ssn_last4=ssn, zip=zip_code, account_ref=ref)
    return found


def test_the_readme_names_demo_accounts_and_gives_the_details_of_each() -> None:
    named, listed = readme_accounts(), readme_debtors()
    assert {"SET-100001", "SET-100026"} <= named  # the balance, pay-now and plan walkthroughs
    assert named == set(listed), "every account the README names has its details in the demo-debtor list"
    portfolio = {row.account_ref for row in read_portfolio(demo.DEMO_PORTFOLIO)}
    assert named <= portfolio
    assert set(demo_history.HISTORY_ACCOUNTS) <= portfolio
    assert named.isdisjoint(demo_history.HISTORY_ACCOUNTS)


def test_after_make_runs_demo_load_every_readme_account_is_open_and_verifies(sqlite_engine: Engine) -> None:
    loaded = demo.load(sqlite_engine)
    assert loaded is not None and loaded.history_conversations == 4  # the history is there, on its own accounts
    assert demo.load(sqlite_engine) is None  # a second start loads nothing over what happened since

    identity = IdentityService()
    with session_scope(sqlite_engine) as session:
        for ref, factors in sorted(readme_debtors().items()):
            account = session.scalars(select(Account).where(Account.account_ref == ref)).one()
            debtor = account.debtor
            assert account.status == AccountStatus.ACTIVE, (ref, account.status)
            assert hold_rule(session, account) is None, ref
            assert debtor.phone is None or contact_preferences.suppression(session, "sms", debtor.phone) is None
            assert debtor.email is None or contact_preferences.suppression(session, "email", debtor.email) is None
            assert not identity.person_locked(session, debtor.id)
            in_history = session.scalars(select(Conversation.external_id).where(
                Conversation.account_id == account.id,
                Conversation.external_id.like(f"{demo_history.PREFIX}%"))).all()
            assert in_history == [], (ref, in_history)
            # Verifiable with what the README says to type: date of birth with SSN last four, or with ZIP.
            for secret in (Factors(dob=factors.dob, ssn_last4=factors.ssn_last4, account_ref=ref),
                           Factors(dob=factors.dob, zip=factors.zip, account_ref=ref)):
                conversation = conversations.get_or_create(session, "rest", f"readme-{ref}-{secret.zip or 'ssn'}")
                result = identity.verify(session, conversation.id, secret)
                assert result.status == VERIFIED and result.debtor_id == debtor.id, ref
