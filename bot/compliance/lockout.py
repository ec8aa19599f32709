"""ID-3's arithmetic: when a run of failed identity checks locks the details, and until when. Plain functions of
failure times, shared by the identity check (bot/identity.py) and the agents' queue, which shows a conversation's
lock as a flag (bot/agents/queue.py)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta


def lock_ends(
    failures: Iterable[datetime], *, max_failures: int = 3, window: timedelta = timedelta(hours=24),
    lockout: timedelta = timedelta(hours=24),
) -> datetime | None:
    """When the latest lock these failure times started ends, or None if they started none (ID-3).

    A lock starts at the `max_failures`-th failure within `window` and lasts a fixed `lockout` from that failure:
    failures during a lock neither extend it nor count towards the next one, so a stranger who keeps trying
    cannot keep the real debtor locked out for ever."""
    ends: datetime | None = None
    recent: list[datetime] = []
    for at in sorted(failures):
        if ends is not None and at < ends:
            continue
        recent = [earlier for earlier in recent if earlier > at - window] + [at]
        if len(recent) >= max_failures:
            ends, recent = at + lockout, []
    return ends
