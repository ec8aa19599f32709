"""Talks to the Rasa server's REST channel on loopback."""

from __future__ import annotations

from typing import Any

import httpx


class RasaUnavailable(Exception):
    """Rasa did not answer in time or answered with an error."""


class RasaClient:
    def __init__(self, base_url: str, timeout: float = 30.0) -> None:
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

    async def close(self) -> None:
        await self._client.aclose()
