"""A lean HTTP/1.1 client for the load generator: JSON POSTs over kept-alive loopback connections.

The load generator shares the 2 cores with the servers it measures, so what it spends per request is taken from
them. httpx spent about 3.7 ms of CPU per turn here; this client, which does only what the benchmark needs (one
request at a time per connection, Content-Length or chunked bodies, reconnect when the server closed the
connection), spends a fraction of that. Both targets are driven by the same client."""

from __future__ import annotations

import asyncio
import json
from typing import Any


class HTTPError(Exception):
    """The server closed the connection, answered in a way this client cannot read, or took too long."""


class Connection:
    """One kept-alive connection to host:port; reopened on demand. Not for concurrent use."""

    def __init__(self, host: str, port: int, timeout: float, headers: dict[str, str] | None = None) -> None:
        self.host, self.port, self.timeout = host, port, timeout
        self.extra = "".join(f"{name}: {value}\r\n" for name, value in (headers or {}).items())
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    async def post_json(self, path: str, body: Any) -> tuple[int, Any]:
        """(status, parsed JSON body or None). A request on a connection the server had closed while idle is
        sent once more on a new connection; any other failure raises HTTPError."""
        payload = json.dumps(body).encode()
        request = (f"POST {path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\nContent-Type: application/json\r\n"
                   f"Content-Length: {len(payload)}\r\n{self.extra}\r\n").encode() + payload
        reused = self._writer is not None
        try:
            return await asyncio.wait_for(self._exchange(request), self.timeout)
        except (ConnectionError, asyncio.IncompleteReadError) as exc:
            await self.close()
            if not reused:
                raise HTTPError(f"{type(exc).__name__}: {exc}") from exc
        except asyncio.TimeoutError as exc:
            await self.close()
            raise HTTPError(f"no answer within {self.timeout:.0f}s") from exc
        try:  # the kept connection had been closed by the server: once more, on a fresh one
            return await asyncio.wait_for(self._exchange(request), self.timeout)
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.TimeoutError) as exc:
            await self.close()
            raise HTTPError(f"{type(exc).__name__}: {exc}") from exc

    async def _exchange(self, request: bytes) -> tuple[int, Any]:
        if self._writer is None:
            self._reader, self._writer = await asyncio.open_connection(self.host, self.port)
        assert self._reader is not None
        self._writer.write(request)
        await self._writer.drain()
        head = await self._reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        parts = lines[0].split(" ", 2)
        if len(parts) < 2 or not parts[1].isdigit():
            raise HTTPError(f"not an HTTP answer: {lines[0]!r}")
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        if headers.get("transfer-encoding", "").lower() == "chunked":
            data = await self._chunked()
        else:
            data = await self._reader.readexactly(int(headers.get("content-length", "0")))
        if headers.get("connection", "").lower() == "close":
            await self.close()
        return int(parts[1]), json.loads(data) if data else None

    async def _chunked(self) -> bytes:
        assert self._reader is not None
        body = bytearray()
        while True:
            size = int((await self._reader.readuntil(b"\r\n")).split(b";")[0], 16)
            if size == 0:
                await self._reader.readuntil(b"\r\n")
                return bytes(body)
            body += await self._reader.readexactly(size)
            await self._reader.readexactly(2)

    async def close(self) -> None:
        writer, self._reader, self._writer = self._writer, None, None
        if writer is not None:
            writer.close()
            try:
                await writer.wait_closed()
            except (ConnectionError, OSError):
                pass
