"""The gateway's background rounds (ID-2's sweep of identity answers left waiting, answering saved messages) keep going
after a round fails: a database blip must not end the sweep for the life of the process."""

from __future__ import annotations

import asyncio
import logging

import pytest

from bot.gateway.app import _every


def test_ID_2_a_failed_background_round_is_logged_and_the_next_round_still_runs(
        caplog: pytest.LogCaptureFixture) -> None:
    """Mutation: `_every` without its try/except -> the first failure ends the loop and only one round runs."""
    rounds: list[int] = []

    async def work() -> None:
        rounds.append(len(rounds))
        if len(rounds) == 1:
            raise RuntimeError("database went away")

    async def run_for_a_while() -> None:
        task = asyncio.create_task(_every(0.01, "the test round", work))
        while len(rounds) < 3:
            await asyncio.sleep(0.01)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    with caplog.at_level(logging.ERROR, logger="bot.gateway.app"):
        asyncio.run(asyncio.wait_for(run_for_a_while(), timeout=10))
    assert len(rounds) >= 3
    assert [r.getMessage() for r in caplog.records] == ["the test round failed"]
