"""Rasa's SQL tracker store, keeping each conversation's tracker between its turns.

Rasa's SQLTrackerStore rebuilds a conversation from the database at every message: it selects every event of the
latest session, parses each from JSON and replays them into a new tracker; to save, it counts the stored events
again and inserts the rest through the ORM. That was a quarter of the Rasa server's CPU per turn.

The gateway sends each conversation to one Rasa instance (bot/gateway/rasa_router.py), so this store keeps the
tracker it saved, in memory, for that conversation's next message. Before handing a kept tracker out it asks the
database for the conversation's newest event id: if anything else wrote to the conversation since (another instance
during a failover, Rasa's HTTP API), the tracker is rebuilt from the database as Rasa would. What is written is
exactly what SQLTrackerStore writes (the same rows, columns and JSON); the database stays the record. The one
exception is `rewrite_events`, which changes stored events in place (PCI-2: a card number split over two messages)
and forgets the kept tracker.

A kept tracker is taken out of the cache while a message is processed and put back only when it is saved, so a turn
that fails half-way leaves nothing half-done behind. A turn that starts a new session is not kept, because Rasa's
own reading of the database starts at the latest session start.

A long conversation is handed to Rasa as a window of its latest events (issue 22). Rasa's per-turn work grows with
the tracker: each action call sends every event of the session to the action server and back, and tracker copies
replay them. Once a tracker holds more than twice `window` events, the tracker handed out starts, like a new session
of Rasa's own, with `action_session_start`, `session_started`, the slots as they stand and `action_listen`, followed by
at least the latest `window` events, cut where a user message begins a turn and no form is active. The policies look
at the last few turns (MemoizationPolicy's max_history, the longest rule), which the window holds, with the same
slots, so they see the same states and predict the same. Nothing is lost: the synthetic opening is never written
(only events past those stored are), every event stays in the table, and the gateway's transcript keeps every
message. SETTLE_TRACKER_WINDOW sets the window (events; 0: never cut, Rasa's own behaviour).

endpoints.yml:  tracker_store: {type: rasa_extensions.tracker_store.KeptSQLTrackerStore, url: <SQLAlchemy URL>}
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.constants import ACTION_LISTEN_NAME, ACTION_SESSION_START_NAME
from rasa.shared.core.events import ActionExecuted, Event, SessionStarted, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import INTENT_NAME_KEY

logger = logging.getLogger(__name__)

DEFAULT_CACHE_SIZE = 1000  # conversations; a short conversation's tracker is tens of kilobytes
# Events Rasa works on at least, once a conversation is long: about 13 turns of this bot, three times what the
# policies read (MemoizationPolicy's max_history is 4 turns, the longest rule a few) and more than any action looks
# back for (a request made before verification, actions/plans.py and payments.py: up to 6 turns). 200 left a turn at
# message 1,000 at 1.76x the CPU of one at message 1 (Rasa works on 200-400 events then); 80: docs/performance.md.
DEFAULT_WINDOW = 80
# Threads the store's database work runs on, and SQLite connections kept (one per thread). They must match: with
# more threads than SingletonThreadPool's pool_size (5 by default; asyncio's default executor has up to 6 threads on
# 2 cores) the pool closed another thread's connection at nearly every turn, which SQLite refuses ("objects created
# in a thread can only be used in that same thread"): a logged traceback and a new connection per turn.
DATABASE_THREADS = 6


@dataclass
class _Kept:
    tracker: DialogueStateTracker
    stored: int  # how many of tracker.events are in the database
    newest_id: int | None  # the conversation's newest event row when it was saved


class KeptSQLTrackerStore(SQLTrackerStore):
    def __init__(self, *args: Any, cache_size: int = DEFAULT_CACHE_SIZE, window: int | None = None,
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._window = int(os.environ.get("SETTLE_TRACKER_WINDOW") or DEFAULT_WINDOW) if window is None else window
        if self.engine.dialect.name == "sqlite":
            # One connection kept per thread instead of one opened per query, in WAL mode, which survives a crash of
            # the process without an fsync at every commit (see bot/db/__init__.py).
            self.engine.dispose()
            self.engine = sa.create_engine(self.engine.url, poolclass=sa.pool.SingletonThreadPool,
                                           pool_size=DATABASE_THREADS, connect_args={"timeout": 30})
            sa.event.listen(self.engine, "connect", _sqlite_pragmas)
            self.sessionmaker = sa.orm.session.sessionmaker(bind=self.engine)
        self._database = ThreadPoolExecutor(DATABASE_THREADS, thread_name_prefix="tracker-store")
        self._cache_size = cache_size
        self._kept: OrderedDict[str, _Kept] = OrderedDict()
        self._stored: dict[str, int] = {}  # trackers handed out: how many of their events are stored
        events = self.SQLEvent.__table__
        self._newest_id = sa.select(sa.func.max(events.c.id)).where(events.c.sender_id == sa.bindparam("sender"))

    async def retrieve(self, sender_id: str) -> DialogueStateTracker | None:
        kept = self._kept.pop(sender_id, None)
        if kept is not None and await self._on_database_thread(self._newest, sender_id) == kept.newest_id:
            tracker = self._windowed(kept.tracker)
            # Every event of a cut tracker is stored (its opening never is, and never needs to be).
            self._stored[sender_id] = kept.stored if tracker is kept.tracker else len(tracker.events)
            return tracker
        tracker = await self._on_database_thread(self._read, sender_id)
        if len(self._stored) > 10 * self._cache_size:  # read but never saved (Rasa's HTTP API): forget, save counts
            self._stored.clear()
        if tracker is not None:
            tracker = self._windowed(tracker)
        self._stored[sender_id] = len(tracker.events) if tracker is not None else 0
        return tracker

    def _windowed(self, tracker: DialogueStateTracker) -> DialogueStateTracker:
        """The tracker itself, or (past twice the window) one that opens as a new session with the slots and active
        loop as they stand and goes on with the latest events from a turn's start (see the module docstring)."""
        if not self._window or self.domain is None or len(tracker.events) <= 2 * self._window:
            return tracker
        events = list(tracker.events)
        latest = len(events) - self._window  # the cut is here or before it, so the window holds `window` events
        # Where a turn could start the window: a user message after action_listen, with no form active then.
        reading = DialogueStateTracker.from_events(tracker.sender_id, [], self.domain.slots)
        cuts = []
        for index, event in enumerate(events):
            if index and isinstance(event, UserUttered) and isinstance(events[index - 1], ActionExecuted) \
                    and events[index - 1].action_name == ACTION_LISTEN_NAME and reading.active_loop_name is None:
                cuts.append(index)
            reading.update(event)
        before = [index for index in cuts if index <= latest]
        if not before:  # no turn starts outside a form early enough: cut at a later turn
            return tracker
        cut = before[-1]
        head = DialogueStateTracker.from_events(tracker.sender_id, events[:cut], self.domain.slots)
        stamp = events[cut].timestamp
        opening: list[Event] = [ActionExecuted(ACTION_SESSION_START_NAME, timestamp=stamp),
                                SessionStarted(timestamp=stamp)]
        opening += [SlotSet(name, slot.value, timestamp=stamp) for name, slot in head.slots.items()
                    if slot.value != slot.initial_value]
        opening.append(ActionExecuted(ACTION_LISTEN_NAME, timestamp=stamp))
        if cut <= len(opening):  # the cut would not make the tracker shorter
            return tracker
        return DialogueStateTracker.from_events(tracker.sender_id, opening + events[cut:], self.domain.slots)

    async def save(self, tracker: DialogueStateTracker) -> None:
        await self.stream_events(tracker)
        sender_id = tracker.sender_id
        events = list(tracker.events)
        stored, newest_id = await self._on_database_thread(self._write, tracker, events,
                                                           self._stored.pop(sender_id, None))
        if any(isinstance(event, SessionStarted) for event in events[stored:]):
            # Rasa reads a conversation from its latest session start on, so this tracker holds events a reading
            # would not (at least the action_session_start before it): the next turn reads it as Rasa does.
            return
        self._kept[sender_id] = _Kept(tracker, len(events), newest_id)
        self._kept.move_to_end(sender_id)
        while len(self._kept) > self._cache_size:
            self._kept.popitem(last=False)

    async def rewrite_events(self, sender_id: str,
                             rewrite: Callable[[list[dict[str, Any]]], dict[int, dict[str, Any]]]) -> int:
        """Replace stored events of a conversation in place, in every session (PCI-2: a message found afterwards to
        hold the start of a card number, rasa_extensions/event_redaction.py). `rewrite` gets the stored events as
        dicts, oldest first, and returns the new dict of each event it changed, by index. The rows keep their ids,
        order and other columns. Returns how many were rewritten. Call under the conversation's lock.

        Rasa's own `save` cannot do this: SQLTrackerStore (and this store) only insert the events past those already
        stored, so a changed old event never reaches the database. The conversation's kept tracker, which holds
        the old text, is forgotten, so its next turn reads the rewritten events."""
        changed = await self._on_database_thread(self._rewrite, sender_id, rewrite)
        self._kept.pop(sender_id, None)
        return changed

    async def _on_database_thread(self, work: Callable[..., Any], *args: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(self._database, work, *args)

    # The database work, on a worker thread: Rasa's server is one event loop, and a query waiting on the database
    # (a commit waiting for the disk) must not stop every other conversation, nor the renewal of their locks.

    def _newest(self, sender_id: str) -> int | None:
        with self.session_scope() as session:
            return session.execute(self._newest_id, {"sender": sender_id}).scalar()

    def _read(self, sender_id: str) -> DialogueStateTracker | None:
        """SQLTrackerStore._retrieve's reading: the events of the latest session, replayed."""
        with self.session_scope() as session:
            rows = self._event_query(session, sender_id, fetch_events_from_all_sessions=False).all()
            events = [json.loads(row.data) for row in rows]
        if self.domain and events:
            return DialogueStateTracker.from_dict(sender_id, events, self.domain.slots)
        return None

    def _write(self, tracker: DialogueStateTracker, events: list[Any], stored: int | None) -> tuple[int, int | None]:
        """Insert the events past `stored` (counted as Rasa does when not known); returns that count and the
        conversation's newest event id after the insert."""
        sender_id = tracker.sender_id
        with self.session_scope() as session:
            if stored is None or stored > len(events):  # not handed out by retrieve: count as Rasa does
                stored = len(events) - len(list(self._additional_events(session, tracker)))
            new = events[stored:]
            if new:
                session.execute(self.SQLEvent.__table__.insert(), [_row(sender_id, event) for event in new])
            newest_id = session.execute(self._newest_id, {"sender": sender_id}).scalar()
            session.commit()
        return stored, newest_id

    def _rewrite(self, sender_id: str, rewrite: Callable[[list[dict[str, Any]]], dict[int, dict[str, Any]]]) -> int:
        events = self.SQLEvent.__table__
        with self.session_scope() as session:
            rows = session.execute(sa.select(events.c.id, events.c.data).where(events.c.sender_id == sender_id)
                                   .order_by(events.c.id)).all()
            new = rewrite([json.loads(row.data) for row in rows])
            for index, event in new.items():
                session.execute(events.update().where(events.c.id == rows[index].id).values(data=json.dumps(event)))
            session.commit()
        return len(new)


def _row(sender_id: str, event: Any) -> dict[str, Any]:
    """The row SQLTrackerStore.save writes for an event."""
    data = event.as_dict()
    return {
        "sender_id": sender_id,
        "type_name": event.type_name,
        "timestamp": data.get("timestamp"),
        "intent_name": data.get("parse_data", {}).get("intent", {}).get(INTENT_NAME_KEY),
        "action_name": data.get("name"),
        "data": json.dumps(data),
    }


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()
