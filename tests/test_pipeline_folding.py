"""Messages that arrive while a conversation's Rasa turn runs are folded into one turn (bot/gateway/pipeline.py),
with a stand-in Rasa that holds its first turn until the test lets it go.

Mutations tried: `_folds` making every message a turn of its own -> test_messages_sent_during_a_turn_are_one_turn
fails (four turns, not two), and so does tests/integration/test_rapid_fire.py (20 turns, not fewer);
gate answers held in the queue (every message going through `_Queued`) -> the STOP test fails (no answer while
the turn runs)."""

from __future__ import annotations

import asyncio

from sqlalchemy import select

from bot.config import Settings
from bot.db import session_scope
from bot.db.models import AuditEvent, Message
from bot.gateway.pipeline import Pipeline, stop_reply
from bot.gateway.rasa_client import RasaTurn


class HeldRasa:
    """Answers each turn with "answer to <text>", holding the first one until `release` is set."""

    def __init__(self) -> None:
        self.turns: list[tuple[str, str | None]] = []
        self.release = asyncio.Event()
        self.started = asyncio.Event()

    async def send(self, conversation_id, text, metadata, message_id=None) -> RasaTurn:
        self.turns.append((text, message_id))
        if len(self.turns) == 1:
            self.started.set()
            await self.release.wait()
        return RasaTurn([{"text": f"answer to {text}"}], "inform", 0.9)


async def test_messages_sent_during_a_turn_are_one_turn(sqlite_engine, sqlite_url):
    rasa = HeldRasa()
    pipeline = Pipeline(sqlite_engine, rasa=rasa, settings=Settings(database_url=sqlite_url))
    first = asyncio.create_task(pipeline.handle("rest", "fold-1", "hello"))
    await rasa.started.wait()
    # Not "i lost my job": a VUL-2 hardship cue, answered by the gate without Rasa.
    later = [asyncio.create_task(pipeline.handle("rest", "fold-1", text))
             for text in ("i lost my card", "i cannot pay it all", "can we make a plan")]
    # All three stored and waiting. Polled, not a fixed 0.3 s: the first language reading of a longer message
    # (lingua) can take seconds on a loaded machine.
    for _ in range(200):
        with session_scope(sqlite_engine) as session:
            if len(session.scalars(select(Message.id).where(Message.direction == "in")).all()) == 4:
                break
        await asyncio.sleep(0.05)
    await asyncio.sleep(0.3)
    rasa.release.set()
    results = sorted([await first] + [await task for task in later], key=lambda r: r.inbound_id)

    with session_scope(sqlite_engine) as session:
        inbound = session.scalars(select(Message).where(Message.direction == "in").order_by(Message.id)).all()
        joined = "\n".join(m.text for m in inbound[1:])  # in the order stored, whatever order the tasks ran
        assert sorted(joined.split("\n")) == sorted(["i lost my card", "i cannot pay it all", "can we make a plan"])
        assert [t for t, _ in rasa.turns] == ["hello", joined]
        assert rasa.turns[1][1] == str(inbound[-1].id)  # the fold goes with its last message's id
        assert [[p.text for p in r.sent] for r in results] == [["answer to hello"], [], [], [f"answer to {joined}"]]
        assert [(m.status, m.intent) for m in inbound] == [
            ("processed", "inform"), ("folded", None), ("folded", None), ("processed", "inform")]
        fold = session.scalars(select(AuditEvent).where(AuditEvent.kind == "messages_folded")).one()
        assert fold.detail == {"into": inbound[-1].id, "messages": [inbound[1].id, inbound[2].id]}


async def test_stop_is_answered_at_once_while_a_turn_runs(sqlite_engine, sqlite_url):
    rasa = HeldRasa()
    pipeline = Pipeline(sqlite_engine, rasa=rasa, settings=Settings(database_url=sqlite_url))
    first = asyncio.create_task(pipeline.handle("rest", "fold-2", "hello"))
    await rasa.started.wait()
    stopped = await asyncio.wait_for(pipeline.handle("rest", "fold-2", "STOP"), 5)
    assert [p.text for p in stopped.sent] == [stop_reply("rest")]
    rasa.release.set()
    await first
    assert [t for t, _ in rasa.turns] == ["hello"]
