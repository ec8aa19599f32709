"""Readiness: may this process take traffic? Each check is named, runs with a time limit, and a failure says why
in a few words (never an exception's text, which may hold a URL or a query's parameters).

The gateway's /readyz (bot/gateway/ops_routes.py) runs `database_check`, `redis_check` when REDIS_URL is set, and a
Rasa check of its own (at least one instance answering /status with a model loaded), all at once; /healthz runs
none: a live process answers it, whatever its dependencies do (a liveness probe that checked the database would
restart every pod when the database blinked)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

import redis.asyncio as aioredis
import sqlalchemy as sa
from sqlalchemy import Engine

CHECK_TIMEOUT = 3.0  # seconds; Kubernetes' readiness probe waits 5 by default (deploy/k8s)

# A check returns a short note when it passes, raises CheckFailed (or anything) when it does not.
Check = Callable[[], Awaitable[str]]


class CheckFailed(Exception):
    """A check's own verdict, its message safe to show."""


@dataclass(frozen=True)
class CheckResult:
    name: str
    ok: bool
    detail: str


@dataclass(frozen=True)
class Readiness:
    checks: tuple[CheckResult, ...]

    @property
    def ok(self) -> bool:
        return all(check.ok for check in self.checks)

    @property
    def failing(self) -> list[str]:
        return [check.name for check in self.checks if not check.ok]

    def as_json(self) -> dict[str, Any]:
        return {"status": "ready" if self.ok else "not ready",
                "checks": {c.name: {"ok": c.ok, "detail": c.detail} for c in self.checks}}


async def _run(name: str, check: Check, timeout: float) -> CheckResult:
    try:
        return CheckResult(name, True, await asyncio.wait_for(check(), timeout))
    except asyncio.TimeoutError:
        return CheckResult(name, False, f"no answer within {timeout:g}s")
    except CheckFailed as exc:
        return CheckResult(name, False, str(exc))
    except Exception as exc:  # noqa: BLE001 - any failure is a failed check; its class says enough
        return CheckResult(name, False, f"unreachable ({exc.__class__.__name__})")


async def run_checks(checks: Mapping[str, Check], timeout: float = CHECK_TIMEOUT) -> Readiness:
    """Every check at once, each within `timeout`; the result lists them in the order given."""
    results = await asyncio.gather(*(_run(name, check, timeout) for name, check in checks.items()))
    return Readiness(tuple(results))


def database_check(engine: Engine) -> Check:
    """The app database answers a query (on a pooled connection, which the engine's pre-ping replaces if the
    server went away and came back)."""

    def query() -> None:
        with engine.connect() as connection:
            connection.execute(sa.text("SELECT 1"))

    async def check() -> str:
        await asyncio.to_thread(query)
        return engine.dialect.name

    return check


def redis_check(url: str) -> Check:
    """Redis answers PING."""

    async def check() -> str:
        client = aioredis.from_url(url, socket_connect_timeout=CHECK_TIMEOUT, socket_timeout=CHECK_TIMEOUT)
        try:
            await client.ping()
        finally:
            await client.aclose()
        return "ping"

    return check
