"""Delivery: after the outbox's transaction commits, each sent message goes to its channel's courier (the
widget's live push, Twilio, the mail server). Couriers are adapters, handed in by the process that runs them,
so the outbox knows no transport. A channel with no courier (REST, SMS without Twilio keys) keeps the stored
message as its outbox: the conversation, the console and the demo phone show it."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Iterable, Mapping, Sequence
from typing import Protocol, runtime_checkable

from bot.messaging.outbox import Posted

log = logging.getLogger("settle.delivery")


class Courier(Protocol):
    async def deliver(self, posted: Posted) -> None:
        """Hand one stored, sent message to its transport and record what the transport said."""


@runtime_checkable
class TurnCourier(Protocol):
    """A courier whose channel carries a turn's replies as one message (email: one email per turn, so the
    disclosure the turn opens with travels with the balance it precedes, DISC-1)."""

    async def deliver_together(self, posted: Sequence[Posted]) -> None:
        """Hand the sent messages of one conversation's turn, in order, to the transport as one."""


class Couriers:
    """The couriers of one process, by channel."""

    def __init__(self, by_channel: Mapping[str, Courier | None] | None = None) -> None:
        self.by_channel = {channel: c for channel, c in (by_channel or {}).items() if c is not None}

    async def deliver(self, posted: Iterable[Posted]) -> None:
        """Deliver what was sent, in order; blocked and deferred messages go nowhere (the queue sends a deferred
        one when it is due). The sent messages of one conversation in a row go together to a courier that takes
        them so (`TurnCourier`). A failing courier is logged and does not stop the others: the message is stored."""
        for run in _runs([item for item in posted if item.sent and item.channel in self.by_channel]):
            courier = self.by_channel[run[0].channel]
            if len(run) > 1 and isinstance(courier, TurnCourier):
                await _attempt(courier.deliver_together(run), run)
            else:
                for item in run:
                    await _attempt(courier.deliver(item), [item])


async def _attempt(delivery: Awaitable[None], posted: Sequence[Posted]) -> None:
    try:
        await delivery
    except Exception:
        log.exception("delivering message %s on %s failed; it stays stored",
                      ",".join(str(item.message_id) for item in posted), posted[0].channel)


def _runs(posted: list[Posted]) -> list[list[Posted]]:
    """Consecutive messages to the same conversation on the same channel, as lists."""
    runs: list[list[Posted]] = []
    for item in posted:
        if runs and (runs[-1][-1].channel, runs[-1][-1].conversation_id) == (item.channel, item.conversation_id) \
                and item.conversation_id is not None:
            runs[-1].append(item)
        else:
            runs.append([item])
    return runs
