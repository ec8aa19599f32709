"""Run with the Rasa environment's Python (tests/test_action_retry.py does): Rasa's own RemoteAction calls an
action server on loopback that drops connections, with rasa_extensions/action_retry.py applied or not (argv[1]:
"retry" or "plain"). Prints one JSON line with what it saw.

The stand-in action server reads each request whole and then, for the first `drops` connections, closes the
socket without answering: the action ran there, its answer was lost on the way, as when a connection closes
mid-call ("reset_once": reset while Rasa writes the body, "Can not write request body"). Later connections get
a valid answer with one bot message."""

from __future__ import annotations

import asyncio
import json
import sys


async def serve(drops: int, status: int = 200, early: bool = False) -> tuple[asyncio.AbstractServer, dict]:
    seen = {"requests": 0}

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if early and seen["requests"] < drops:
            seen["requests"] += 1
            await asyncio.sleep(0.05)
            # Reset while the body is being written: "Can not write request body" (aiohttp's ClientOSError).
            writer.transport.abort()
            return
        head = await reader.readuntil(b"\r\n\r\n")
        seen["requests"] += 1
        length = next((int(line.split(b":")[1]) for line in head.split(b"\r\n")
                       if line.lower().startswith(b"content-length:")), 0)
        await reader.readexactly(length)
        if seen["requests"] <= drops:
            writer.transport.abort()  # closed without an answer (ServerDisconnectedError)
            return
        body = json.dumps({"events": [], "responses": [{"text": "answered"}]}).encode()
        reason = b"OK" if status == 200 else b"Error"
        writer.write(b"HTTP/1.1 %d %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n"
                     b"Connection: close\r\n\r\n" % (status, reason, len(body)) + body)
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    return server, seen


async def run_action(drops: int, status: int = 200, early: bool = False) -> dict:
    from rasa.core.actions.action import RemoteAction
    from rasa.core.channels.channel import CollectingOutputChannel
    from rasa.core.nlg import TemplatedNaturalLanguageGenerator
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.events import BotUttered, UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker
    from rasa.utils.endpoints import EndpointConfig

    server, seen = await serve(drops, status, early)
    port = server.sockets[0].getsockname()[1]
    domain = Domain.from_dict({"actions": ["action_check"]})
    # A large message when the connection is reset early: Rasa is still writing the body when the reset comes.
    text = "hi " * (2_000_000 if early else 1)
    tracker = DialogueStateTracker.from_events("c1", [UserUttered(text, message_id="7")])
    action = RemoteAction("action_check", EndpointConfig(f"http://127.0.0.1:{port}/webhook"))
    try:
        events = await action.run(CollectingOutputChannel(), TemplatedNaturalLanguageGenerator({}), tracker, domain)
        outcome = {"replies": [e.text for e in events if isinstance(e, BotUttered)]}
    except Exception as exc:  # noqa: BLE001 - reported to the test
        outcome = {"error": type(exc).__name__}
    server.close()
    await server.wait_closed()
    return {**outcome, "requests": seen["requests"]}


async def main(mode: str) -> dict:
    if mode == "retry":
        from rasa_extensions import action_retry, speedups

        speedups.apply()  # the kept session without keep-alive, as in the server
        action_retry.apply()
    return {"dropped_once": await run_action(1), "reset_once": await run_action(1, early=True),
            "always_dropped": await run_action(100),
            "error_status": await run_action(0, status=500)}


if __name__ == "__main__":
    print(json.dumps(asyncio.run(main(sys.argv[1]))))
