"""Delivery: after the outbox's transaction commits, each sent message goes to its channel's courier (the
widget's live push, Twilio, the mail server). Couriers are adapters, handed in by the process that runs them,
so the outbox knows no transport. A channel with no courier (REST, SMS without Twilio keys) keeps the stored
message as its outbox: the conversation, the console and the demo phone show it."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from typing import Protocol

from bot.messaging.outbox import Posted

log = logging.getLogger("settle.delivery")


class Courier(Protocol):
    async def deliver(self, posted: Posted) -> None:
        """Hand one stored, sent message to its transport and record what the transport said."""


class Couriers:
    """The couriers of one process, by channel."""

    def __init__(self, by_channel: Mapping[str, Courier | None] | None = None) -> None:
        self.by_channel = {channel: c for channel, c in (by_channel or {}).items() if c is not None}

    async def deliver(self, posted: Iterable[Posted]) -> None:
        """Deliver what was sent, in order; blocked and deferred messages go nowhere (the queue sends a deferred
        one when it is due). A failing courier is logged and does not stop the others: the message is stored."""
        for item in posted:
            courier = self.by_channel.get(item.channel)
            if not item.sent or courier is None:
                continue
            try:
                await courier.deliver(item)
            except Exception:
                log.exception("delivering message %s on %s failed; it stays stored", item.message_id, item.channel)
