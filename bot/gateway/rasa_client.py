"""Talks to the Rasa server's REST channel on loopback."""

from __future__ import annotations

from typing import Any

import httpx


class RasaUnavailable(Exception):
    """Rasa did not answer in time or answered with an error."""


class RasaClient:
    def __init__(self, base_url: str, timeout: float = 30.0, token: str = "") -> None:
        self._token = token
        self._client = httpx.AsyncClient(
            base_url=base_url,
            timeout=timeout,
            limits=httpx.Limits(max_connections=200, max_keepalive_connections=50),
        )

    async def send(self, conversation_id: str, text: str, metadata: dict[str, Any]) -> list[dict[str, Any]]:
        try:
            response = await self._client.post(
                "/webhooks/rest/webhook",
                json={"sender": conversation_id, "message": text, "metadata": metadata},
            )
        except httpx.HTTPError as exc:
            raise RasaUnavailable(str(exc)) from exc
        if response.status_code != 200:
            raise RasaUnavailable(f"Rasa answered {response.status_code}")
        return list(response.json())

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
