"""Rasa retries an action call whose connection was lost, applied by the launcher (rasa_extensions/__main__.py)
before Rasa starts, like the speedups.

Rasa 3.6.21 calls the action server once per action (`RemoteAction.run` -> `EndpointConfig.request`) and never
again: when the connection closes mid-call (the action server or a proxy in between closes a connection Rasa is
writing to: "Can not write request body", ServerDisconnectedError, a reset), the action fails, the turn ends
without its replies, and the debtor hears nothing. Here such a call is sent again, up to ACTION_CALL_ATTEMPTS times
in all, on a new connection (the endpoint's session never reuses one: speedups._one_session_per_endpoint).

Sending it again is safe because of the action server's journal (actions/journal.py): a call is keyed by the
conversation, the id of the user message the turn is for, the action and the turn's events so far, all the same in
the retried body, so a call that did run before its connection was lost is answered from the journal (or waited
for, if it is still running) and its side effects (a verification try, a dispute, a pay link) happen once.

Retried: a lost or refused connection (aiohttp's ServerDisconnectedError, ClientOSError, which covers a refused
connect and a failed write, and ClientPayloadError, an answer cut short). Not retried: an answer with an error
status (the action server answered: it would answer the same) and a timeout (the call may still be running; the
journal would only make the retry wait for it). Every call through `EndpointConfig.request` gets this: the action
endpoint, and an NLG or model server if one is configured, whose calls are reads.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

logger = logging.getLogger(__name__)

ACTION_CALL_ATTEMPTS = 3
BACKOFF_SECONDS = 0.05


def lost_connection_errors() -> tuple[type[BaseException], ...]:
    import aiohttp

    return (aiohttp.ServerDisconnectedError, aiohttp.ClientOSError, aiohttp.ClientPayloadError)


def apply() -> str:
    from rasa.utils.endpoints import EndpointConfig

    original = EndpointConfig.request
    if getattr(original, "_settle_retried", False):
        return "action calls retried"
    lost = lost_connection_errors()

    async def request(self: EndpointConfig, method: str = "post", subpath: str | None = None,
                      content_type: str | None = "application/json", compress: bool = False,
                      **kwargs: Any) -> Any:
        for attempt in range(1, ACTION_CALL_ATTEMPTS + 1):
            try:
                # `headers` is consumed by Rasa's request (deleted from kwargs): each attempt gets its own copy.
                return await original(self, method, subpath, content_type, compress, **dict(kwargs))
            except lost as exc:
                if attempt == ACTION_CALL_ATTEMPTS:
                    raise
                logger.warning("call to %s lost its connection (%s: %s); sending it again (attempt %d of %d)",
                               self.url, type(exc).__name__, exc, attempt + 1, ACTION_CALL_ATTEMPTS)
                await asyncio.sleep(BACKOFF_SECONDS * attempt)
        raise AssertionError("unreachable")

    request._settle_retried = True  # type: ignore[attr-defined]
    EndpointConfig.request = request
    return "action calls retried"
