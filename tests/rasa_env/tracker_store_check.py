"""Run in the Rasa environment by tests/test_rasa_speedups.py: drives rasa_extensions.tracker_store.KeptSQLTrackerStore
and Rasa's own SQLTrackerStore through the same turns and writes what the test asserts as JSON
(argv: output JSON file, working directory for the SQLite files)."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import sqlite3
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))


def turn(text: str, intent: str, reply: str) -> list:
    from rasa.shared.core.events import ActionExecuted, BotUttered, UserUttered

    return [UserUttered(text, {"name": intent, "confidence": 0.99}), ActionExecuted("utter_x"), BotUttered(reply),
            ActionExecuted("action_listen")]


def session_start() -> list:
    from rasa.shared.core.events import ActionExecuted, SessionStarted

    return [ActionExecuted("action_session_start"), SessionStarted(), ActionExecuted("action_listen")]


def rows(path: Path) -> list[tuple]:
    with sqlite3.connect(path) as db:
        return db.execute("SELECT sender_id, type_name, intent_name, action_name, data FROM events "
                          "ORDER BY id").fetchall()


def dump(tracker) -> list[dict]:
    return [event.as_dict() for event in tracker.events]


async def scenario(work: Path) -> dict:
    from rasa.core.tracker_store import SQLTrackerStore
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.trackers import DialogueStateTracker

    from rasa_extensions.tracker_store import KeptSQLTrackerStore

    domain = Domain.load(str(ROOT / "domain"))
    kept = KeptSQLTrackerStore(domain=domain, host=f"sqlite:///{work / 'kept.db'}")
    plain = SQLTrackerStore(domain=domain, host=f"sqlite:///{work / 'plain.db'}")
    other = KeptSQLTrackerStore(domain=domain, host=f"sqlite:///{work / 'kept.db'}")  # a second Rasa instance
    found: dict = {}

    async def both_turns(sender: str, steps: list[list]) -> None:
        for step in steps:
            for store in (kept, plain):
                tracker = await store.retrieve(sender) or DialogueStateTracker(sender, domain.slots)
                tracker.update_with_events(step, domain, override_timestamp=False)
                await store.save(tracker)
            time.sleep(0.002)  # distinct timestamps, as real turns have

    # Turn 1 starts the session, turns 2-3 continue it: both stores write the same rows.
    await both_turns("c1", [session_start() + turn("hi", "greet", "Hello"), turn("what do I owe?", "check_balance",
                                                                              "First, your date of birth?"),
                            turn("03/14/1979", "inform_identity", "Thanks")])
    found["same_rows_as_rasa"] = rows(work / "kept.db") == rows(work / "plain.db")

    first = await kept.retrieve("c1")
    found["same_events_as_rasa_reading"] = dump(first) == dump(await plain.retrieve("c1"))
    await kept.save(first)
    found["kept_between_turns"] = (await kept.retrieve("c1")) is first
    # A turn that fails before it is saved leaves nothing behind: the next reading comes from the database.
    first.update_with_events(turn("half", "greet", "never saved"), domain, override_timestamp=False)
    again = await kept.retrieve("c1")
    found["unsaved_turn_is_not_kept"] = again is not first and dump(again) == dump(await plain.retrieve("c1"))
    await kept.save(again)

    # Another instance writes to the conversation (a failover): the kept tracker is not used.
    elsewhere = await other.retrieve("c1")
    elsewhere.update_with_events(turn("from the other instance", "greet", "Hi again"), domain, override_timestamp=False)
    await other.save(elsewhere)
    reread = await kept.retrieve("c1")
    found["write_elsewhere_is_seen"] = reread is not again and dump(reread) == dump(elsewhere)

    # A new session in a later turn: the next reading starts at it, as Rasa's does.
    await kept.save(reread)
    reread.update_with_events(session_start() + turn("hello again", "greet", "Welcome back"), domain,
                              override_timestamp=False)
    await kept.save(reread)
    after_session = await kept.retrieve("c1")
    rasa_reading = await SQLTrackerStore(domain=domain, host=f"sqlite:///{work / 'kept.db'}").retrieve("c1")
    found["new_session_read_as_rasa_does"] = after_session is not reread and dump(after_session) == dump(rasa_reading)

    # PCI-2: a message rewritten in place after its turn (a card number split over two messages).
    from rasa.shared.core.events import SlotSet, UserUttered

    from rasa_extensions.event_redaction import redact_user_message

    await both_turns("c2", [session_start() + turn("hi", "greet", "Hello")])
    fragment = [UserUttered("my card is 4111 1111", {"name": "inform_identity", "confidence": 0.9}, message_id="7"),
                SlotSet("id_dob", "my card is 4111 1111"), *turn("x", "greet", "Hello")[1:]]
    await both_turns("c2", [fragment])
    kept_tracker = await kept.retrieve("c2")
    await kept.save(kept_tracker)
    before = rows(work / "kept.db")
    rewritten = await kept.rewrite_events("c2", lambda events: redact_user_message(events, "7",
                                                                                   "my card is [REDACTED]"))
    after = rows(work / "kept.db")
    # The whole fragment, not "4111": those digits turn up in an event's timestamp about one run in a few hundred.
    found["rewrite_in_place"] = (rewritten == 2 and len(after) == len(before)
                                 and [r[:4] for r in after] == [r[:4] for r in before]
                                 and "4111 1111" in str(before) and "4111 1111" not in str(after))
    reading = await kept.retrieve("c2")
    rasa_reading = await SQLTrackerStore(domain=domain, host=f"sqlite:///{work / 'kept.db'}").retrieve("c2")
    found["rewrite_forgets_the_kept_tracker"] = (reading is not kept_tracker and dump(reading) == dump(rasa_reading)
                                                 and reading.get_slot("id_dob") == "my card is [REDACTED]")

    found.update(await windowed_scenario(work, domain))
    found.update(await concurrent_scenario(work, domain))
    return found


async def concurrent_scenario(work: Path, domain) -> dict:
    """Many conversations' turns at once, as a loaded server has them: the store's threads each keep their own
    SQLite connection, and none is closed from another thread (which SQLite refuses, with a logged traceback)."""
    import sqlalchemy as sa
    from rasa.shared.core.trackers import DialogueStateTracker

    from rasa_extensions.tracker_store import DATABASE_THREADS, KeptSQLTrackerStore

    class Errors(logging.Handler):
        def __init__(self) -> None:
            super().__init__(logging.ERROR)
            self.records: list[str] = []

        def emit(self, record: logging.LogRecord) -> None:
            self.records.append(record.getMessage())

    errors = Errors()
    logging.getLogger().addHandler(errors)
    store = KeptSQLTrackerStore(domain=domain, host=f"sqlite:///{work / 'concurrent.db'}")
    opened: list[int] = []
    sa.event.listen(store.engine, "connect", lambda *_: opened.append(1))
    senders = [f"many{n}" for n in range(4 * DATABASE_THREADS)]

    async def conversation(sender: str) -> None:
        for step in (session_start() + turn("hi", "greet", "Hello"), turn("what do I owe?", "check_balance", "DOB?"),
                     turn("bye", "goodbye", "Bye")):
            tracker = await store.retrieve(sender) or DialogueStateTracker(sender, domain.slots)
            tracker.update_with_events(step, domain, override_timestamp=False)
            await store.save(tracker)
            store._kept.pop(sender, None)  # read from the database each turn: more work on the threads

    await asyncio.gather(*(conversation(sender) for sender in senders))
    logging.getLogger().removeHandler(errors)
    with sqlite3.connect(work / "concurrent.db") as db:
        users = db.execute("SELECT count(*) FROM events WHERE type_name = 'user'").fetchone()[0]
    return {"concurrent_turns_all_stored": users == 3 * len(senders),
            "concurrent_turns_no_connection_errors": errors.records == [],
            "concurrent_turns_one_connection_per_thread": len(opened) <= DATABASE_THREADS}


def long_conversation(turns: int) -> list[list]:
    """Turns of every shape a conversation has: a slot set once at the start and never again (verified), plain
    replies, and a form that stays open for seven turns (a cut must never fall inside it)."""
    from rasa.shared.core.events import ActionExecuted, ActiveLoop, BotUttered, SlotSet, UserUttered

    steps: list[list] = [session_start() + turn("hi", "greet", "Hello")[:2] + [
        SlotSet("verified", True), BotUttered("Hello"), ActionExecuted("action_listen")]]
    for number in range(turns):
        kind = number % 20
        if kind < 12:
            steps.append(turn(f"hello {number}", "greet", "Hello") if kind % 2 else
                         turn(f"are you a bot {number}", "bot_challenge", "I am a bot"))
        elif kind == 12:
            steps.append([UserUttered(f"what do I owe {number}", {"name": "check_balance", "confidence": 0.9}),
                          ActionExecuted("verify_form"), ActiveLoop("verify_form"), SlotSet("requested_slot", "id_dob"),
                          BotUttered("Your date of birth?"), ActionExecuted("action_listen")])
        elif kind < 19:
            steps.append([UserUttered(f"not sure {number}", {"name": "inform_identity", "confidence": 0.9}),
                          ActionExecuted("verify_form"), SlotSet("requested_slot", "id_dob"),
                          BotUttered("Your date of birth?"), ActionExecuted("action_listen")])
        else:
            steps.append([UserUttered(f"03/{number % 28 + 1:02d}/1979", {"name": "inform_identity", "confidence": 0.9}),
                          ActionExecuted("verify_form"), SlotSet("id_dob", f"1979-03-{number % 28 + 1:02d}"),
                          ActiveLoop(None), SlotSet("requested_slot", None), BotUttered("Thanks"),
                          ActionExecuted("action_listen")])
    return steps


async def windowed_scenario(work: Path, domain) -> dict:
    """A long conversation through a kept store with a small window, beside Rasa's own store: after every turn the
    windowed tracker must give the policies the same states (the last turns, with the same slots) as Rasa's whole
    reading, and the database must hold every event Rasa's store holds."""
    from rasa.core.tracker_store import SQLTrackerStore
    from rasa.shared.core.trackers import DialogueStateTracker

    from rasa_extensions.tracker_store import KeptSQLTrackerStore

    window = 40  # events: at least five turns of these, more than the 8 states compared
    kept = KeptSQLTrackerStore(domain=domain, host=f"sqlite:///{work / 'window.db'}", window=window)
    whole = KeptSQLTrackerStore(domain=domain, host=f"sqlite:///{work / 'whole.db'}", window=0)
    plain = SQLTrackerStore(domain=domain, host=f"sqlite:///{work / 'window-plain.db'}")
    same_states, same_slots, longest, cuts = True, True, 0, 0
    for step in long_conversation(80):
        trackers = []
        for store in (kept, whole, plain):
            tracker = await store.retrieve("w") or DialogueStateTracker("w", domain.slots)
            trackers.append(tracker)
        windowed, full = trackers[0], trackers[2]
        if full.events:
            # The policies read the last turns' states (MemoizationPolicy: 4 turns; rules: a few): 8 states here.
            same_states &= windowed.past_states(domain)[-8:] == full.past_states(domain)[-8:]
            if not same_states and os.environ.get("DEBUG_WINDOW"):
                print(windowed.past_states(domain)[-8:], full.past_states(domain)[-8:], sep="\n")
                raise SystemExit(1)
            same_slots &= windowed.current_slot_values() == full.current_slot_values()
            same_slots &= windowed.active_loop_name == full.active_loop_name
            cuts += len(windowed.events) < len(trackers[1].events)
        for store, tracker in zip((kept, whole, plain), trackers, strict=True):
            tracker.update_with_events(step, domain, override_timestamp=False)
            await store.save(tracker)
        longest = max(longest, len(windowed.events))
        time.sleep(0.002)
    return {"window_same_states_as_rasa": same_states, "window_same_slots_as_rasa": same_slots,
            "window_keeps_every_event": rows(work / "window.db") == rows(work / "window-plain.db"),
            "window_bounds_the_tracker": cuts > 0 and longest <= 2 * window + 20,
            "window_zero_is_rasas_reading": rows(work / "whole.db") == rows(work / "window-plain.db")}


def main() -> None:
    logging.disable(logging.WARNING)
    out, work = Path(sys.argv[1]), Path(sys.argv[2])
    work.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(asyncio.run(scenario(work))))


if __name__ == "__main__":
    main()
