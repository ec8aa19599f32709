"""ID-1 / ID-2 / DISC-3: the portfolio's identifying words that a person may not say before the debtor is verified:
the name of any creditor in the portfolio (not only of the accounts this address may be about: before verification
nobody knows whose they are), any account reference (the portfolio's own and anything shaped like one, such as
SET-123456), and any debtor's first or last name.

The words are read from the database once and kept per process until the portfolio changes (a count and the
newest change of the accounts and debtors: one query per check). A check is a scan of the text's words against
sets, not a regex alternation of every name (docs/performance.md)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.db.models import Account, Debtor

# Anything shaped like an account reference: letters, then four or more digits joined or after "-" or "#"
# ("SET-100014", "AB123456"), or five or more after a space ("set 100014": a month and a year, "March 2026", or
# "in 2025" is no reference), or a number said to be an account's.
_REFERENCE_SHAPE = re.compile(
    r"\b[a-z]{2,6}(?:[-#]?\d{4,}|\s\d{5,})\b"
    r"|\b(?:account|acct|reference|ref|cuenta|referencia)\s*(?:number|no\.?|#|n[uú]mero|ending\s+in|que\s+termina\s+en)?"
    r"\s*:?\s*#?\d{3,}\b",
    re.IGNORECASE,
)
_WORD = re.compile(r"[^\W\d_]+(?:['’-][^\W\d_]+)*|[\w-]+")


@dataclass(frozen=True)
class PortfolioWords:
    creditors: dict[str, tuple[tuple[str, ...], ...]]  # first word (lower case) -> every creditor name's words
    names: frozenset[str]  # debtors' first and last names, lower case
    references: frozenset[str]  # account references, lower case


_cached: tuple[tuple[int, datetime | None, int, datetime | None], PortfolioWords] | None = None


def _stamp(session: Session) -> tuple[int, datetime | None, int, datetime | None]:
    columns = (func.count(Account.id), func.max(Account.updated_at), func.count(Debtor.id), func.max(Debtor.updated_at))
    row = session.execute(select(*(select(column).scalar_subquery() for column in columns))).one()
    return int(row[0]), row[1], int(row[2]), row[3]


def portfolio_words(session: Session) -> PortfolioWords:
    """The portfolio's creditors, debtor names and references, read again only when the portfolio changed."""
    global _cached
    stamp = _stamp(session)
    if _cached is not None and _cached[0] == stamp:
        return _cached[1]
    creditors: dict[str, list[tuple[str, ...]]] = {}
    for name in session.scalars(select(Account.creditor).distinct()):
        words = tuple(w.lower() for w in _WORD.findall(name or ""))
        if words:
            creditors.setdefault(words[0], []).append(words)
    names = {w.lower() for first, last in session.execute(select(Debtor.first_name, Debtor.last_name))
             for w in _WORD.findall(f"{first or ''} {last or ''}") if len(w) > 1}
    references = frozenset(r.lower() for r in session.scalars(select(Account.account_ref)) if r)
    words = PortfolioWords({k: tuple(v) for k, v in creditors.items()}, frozenset(names), references)
    _cached = (stamp, words)
    return words


def identifying_words(session: Session, text: str, allowed_names: frozenset[str] = frozenset()) -> list[str]:
    """The creditor names, account references and debtor names in `text` (empty when it has none). A debtor's
    name counts when written with a capital ("Hi Fatima"); `allowed_names` (lower case): names the writer may use,
    such as their own ("I'm Ana")."""
    portfolio = portfolio_words(session)
    found = [m.group(0) for m in _REFERENCE_SHAPE.finditer(text)]
    words = _WORD.findall(text)
    lowered = [w.lower() for w in words]
    for index, word in enumerate(lowered):
        if word in portfolio.references:
            found.append(words[index])
        for creditor in portfolio.creditors.get(word, ()):
            if tuple(lowered[index:index + len(creditor)]) == creditor:
                found.append(" ".join(words[index:index + len(creditor)]))
        if word in portfolio.names and word not in allowed_names and words[index][:1].isupper():
            found.append(words[index])
    return list(dict.fromkeys(found))
