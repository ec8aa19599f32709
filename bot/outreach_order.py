"""The one order in which Settle reaches out (the reminders job, campaigns) and serves the agents' queue.

With a propensity model stored (bot/propensity.py, `python -m bot propensity train`), the likeliest to pay come
first. Without one (none trained yet, or too little history to train one, which `train` says), the segment rules
decide: each segment's `priority` in the segments in force (policy/segments.yml or its version saved at /ops),
highest first. Either way the sort is stable, so equals keep the order they came in (account reference for
outreach; priority and wait in the queue, which bot/agents/queue.py keeps around this order). `basis` says which
order is in force and why, for /ops and the logs."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot import propensity, segments
from bot.db.models import Account, Debtor

T = TypeVar("T")
PROPENSITY, SEGMENTS, USUAL = "propensity", "segments", "usual"


@dataclass(frozen=True)
class Basis:
    kind: str  # propensity | segments | usual (segments unusable: nothing reorders)
    statement: str


def basis(session: Session) -> Basis:
    """Which order is in force, and why, in a sentence for the operator."""
    model = propensity.current(session)
    if model is not None:
        return Basis(PROPENSITY, f"Ordered by propensity to pay: model {model.version}, trained "
                                 f"{model.trained_at:%Y-%m-%d} on {model.accounts} accounts (cross-validated AUC "
                                 f"{model.cv_auc:.2f}); the likeliest to pay first.")
    try:
        segments.active_segments(session)
    except (segments.SegmentsError, OSError):
        return Basis(USUAL, "No propensity model trained, and the segments have problems (see Policies): the usual "
                            "order (account reference; in the agents' queue, urgency and wait).")
    refused = propensity.last_refusal(session)
    why = (f"the last training, on {refused.at:%Y-%m-%d}, found too little history" if refused is not None
           else "`python -m bot propensity train` stores one once there is enough history")
    return Basis(SEGMENTS, f"No propensity model trained ({why}): ordered by segment priority, highest first (the "
                           "priority column above, from segments.yml), then the usual order (account reference; in "
                           "the agents' queue, urgency and wait).")


def ranks(session: Session, account_ids: Iterable[str | None], now: datetime | None = None
          ) -> tuple[Basis, dict[str, float]]:
    """The order in force and each account's rank in it (higher first): its probability of paying, or its
    segment's priority. Accounts it cannot rank are left out (callers put them after those it ranks)."""
    now = now or datetime.now(timezone.utc)
    ids = sorted({a for a in account_ids if a})
    found = basis(session)
    if not ids or found.kind == USUAL:
        return found, {}
    if found.kind == PROPENSITY:
        return found, propensity.scores(session, ids, now)
    book = segments.active_segments(session)
    rows = session.execute(select(Account, Debtor).join(Debtor, Debtor.id == Account.debtor_id)
                           .where(Account.id.in_(ids))).all()
    facts = segments.facts_for(session, [(a, d) for a, d in rows], now)
    return found, {f.account_id: float(segments.assign(book, f).segment.priority) for f in facts}


def order(session: Session, items: Sequence[T], account_of: Callable[[T], str | None],
          now: datetime | None = None) -> list[T]:
    """The items in the order in force (stable: equals, and items it cannot rank, keep their order; the latter go
    after the ranked ones)."""
    _, found = ranks(session, (account_of(i) for i in items), now)
    if not found:
        return list(items)
    return sorted(items, key=lambda item: -found.get(account_of(item) or "", -math.inf))
