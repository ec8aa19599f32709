"""A Rasa stand-in whose first turn is slow: it holds that turn until the test lets it go, so the test can send more
messages while a turn runs (the folding in bot/gateway/pipeline.py). Released from the test's thread, it suits a
gateway run by a TestClient (whose event loop is in another thread)."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from typing import Any

from bot.gateway.rasa_client import RasaTurn


class HeldRasa:
    """Answers each turn with "You said: <text>"; the first one only once `release` is set."""

    def __init__(self) -> None:
        self.asked: list[str] = []
        self.started, self.release = threading.Event(), threading.Event()

    async def send(self, conversation_id: str, text: str, metadata: dict[str, Any],
                   message_id: str | None = None) -> RasaTurn:
        self.asked.append(text)
        if len(self.asked) == 1:
            self.started.set()
            while not self.release.is_set():
                await asyncio.sleep(0.01)
        return RasaTurn([{"text": f"You said: {text}", "recipient_id": conversation_id}], "inform", 0.9)

    async def close(self) -> None:
        pass


def eventually(condition: Callable[[], bool], seconds: float = 10.0) -> bool:
    """True once `condition` holds, False if it still does not after `seconds`."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()
