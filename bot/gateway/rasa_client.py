"""Talks to the Rasa server's REST channel on loopback."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import httpx

# Our channel inside Rasa (rasa_extensions/settle_channel.py): Rasa's REST answer plus the NLU reading.
WEBHOOK = "/webhooks/settle/webhook"


class RasaUnavailable(Exception):
    """Rasa did not answer in time or answered with an error."""


@dataclass(frozen=True)
class RasaTurn:
    """Rasa's replies to one message, and what its NLU read the message as (stored with it, REC-1)."""

    replies: list[dict[str, Any]] = field(default_factory=list)
    intent: str | None = None
    confidence: float | None = None


class RasaClient:
    def __init__(self, base_url: str, timeout: float = 30.0, token: str = "") -> None:
        self._token = token
        self._client = httpx.AsyncClient(
            base_url=base_url,
            timeout=timeout,
            limits=httpx.Limits(max_connections=200, max_keepalive_connections=50),
        )

    async def send(self, conversation_id: str, text: str, metadata: dict[str, Any]) -> RasaTurn:
        try:
            response = await self._client.post(
                WEBHOOK,
                json={"sender": conversation_id, "message": text, "metadata": metadata},
            )
        except httpx.HTTPError as exc:
            raise RasaUnavailable(str(exc)) from exc
        if response.status_code != 200:
            raise RasaUnavailable(f"Rasa answered {response.status_code}")
        body = response.json()
        nlu = body.get("nlu") or {}
        return RasaTurn(list(body.get("messages") or []), nlu.get("intent"), nlu.get("confidence"))

    async def parse(self, text: str) -> dict[str, Any]:
        """NLU only, no dialogue: what the message means, for conversations a person owns."""
        try:
            response = await self._client.post("/model/parse", params={"token": self._token} if self._token else None,
                                               json={"text": text})
        except httpx.HTTPError as exc:
            raise RasaUnavailable(str(exc)) from exc
        if response.status_code != 200:
            raise RasaUnavailable(f"Rasa answered {response.status_code}")
        return dict(response.json())

    async def close(self) -> None:
        await self._client.aclose()
