"""Says in Rasa's log when its event loop is blocked, and where.

Rasa serves every conversation on one event loop. A call that blocks it (a synchronous computation, a lock, a slow
import) holds up every other conversation's turn and lets their Redis leases lapse (redis_lease.py). Under load
the bench has seen the loop stand still for more than 10 s on an instance's first turns, with nothing in the log.

`watch(loop)` starts a beat on the loop (a task that notes the time every BEAT_SECONDS) and a thread that checks
it. When the beat is more than STALL_SECONDS late, the thread logs a warning with the stack of the loop's thread
at that moment (code locations only, never values), and when the loop beats again, how long it stood still.
If the thread itself woke far too late, the whole process (or the machine) was paused rather than the loop
blocked, and the log says that instead: a stack taken then would point at an innocent line.

`time_collections()` also logs every garbage collection that takes longer than GC_SLOW_SECONDS. That is what the
stalls seen so far were (docs/performance.md): a generation-0 collection taking 2-10 s, started by an allocation
in a turn's code, which is where the loop's stack then points. While such a collection runs, the watch's thread logs
where every thread is, the collecting one marked: its stack names the finalizer holding the collection. The one
found that way (tf.data iterators left by loading the model) is now collected before serving
(speedups.collect_loading_garbage)."""

from __future__ import annotations

import asyncio
import gc
import logging
import sys
import threading
import time
import traceback
import weakref

logger = logging.getLogger(__name__)

BEAT_SECONDS = 0.25
CHECK_SECONDS = 0.5
STALL_SECONDS = 2.0
_beats: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Task[None]] = weakref.WeakKeyDictionary()


def watch(loop: asyncio.AbstractEventLoop, *, stall_seconds: float = STALL_SECONDS) -> bool:
    """Watch `loop`, from its own thread (its thread's stack is the one reported), until `unwatch(loop)`. Once per
    loop: False if it was already watched."""
    if loop in _beats:
        return False
    beat = [time.monotonic()]
    loop_thread = threading.get_ident()

    async def beating() -> None:
        while True:
            beat[0] = time.monotonic()
            await asyncio.sleep(BEAT_SECONDS)

    task = _beats[loop] = loop.create_task(beating())

    def check() -> None:
        stalled_since: float | None = None
        collection_seen: tuple[float, int] | None = None
        while not task.done() and not loop.is_closed():
            before = time.monotonic()
            time.sleep(CHECK_SECONDS)
            now = time.monotonic()
            paused = now - before - CHECK_SECONDS
            late = now - beat[0]
            if task.done():
                break  # an unwatched loop's thread says nothing more, about collections either
            collection_seen = _say_where_a_slow_collection_is(now, collection_seen)
            if paused > stall_seconds:
                logger.warning("the whole process was paused for %.1f s (this thread too): not a blocked event loop",
                               paused)
                stalled_since = None
                continue
            if late > stall_seconds and stalled_since is None:
                stalled_since = beat[0]
                frame = sys._current_frames().get(loop_thread)
                where = "".join(traceback.format_stack(frame)) if frame is not None else "(no stack)\n"
                logger.warning("event loop blocked for %.1f s so far; its thread is at:\n%s", late, where.rstrip())
            elif late <= stall_seconds and stalled_since is not None:
                logger.warning("event loop ran again after standing still for %.1f s", beat[0] - stalled_since)
                stalled_since = None

    threading.Thread(target=check, name="loop-watch", daemon=True).start()
    return True


def unwatch(loop: asyncio.AbstractEventLoop) -> None:
    """Stop watching `loop` (at server stop: the beat is cancelled, and the thread ends)."""
    task = _beats.get(loop)
    if task is not None:
        task.cancel()


GC_SLOW_SECONDS = 1.0
_gc_started: list[tuple[float, int]] = []  # (when, on which thread) of the collection running now


def _time_collections(phase: str, info: dict[str, int]) -> None:
    if phase == "start":
        _gc_started[:] = [(time.monotonic(), threading.get_ident())]
    elif _gc_started:
        took = time.monotonic() - _gc_started.pop()[0]
        if took > GC_SLOW_SECONDS:
            logger.warning("a garbage collection (generation %d: %d objects collected, %d uncollectable) took %.1f s",
                           info.get("generation", -1), info.get("collected", 0), info.get("uncollectable", 0), took)


def _say_where_a_slow_collection_is(now: float, seen: tuple[float, int] | None) -> tuple[float, int] | None:
    """Once per collection that has run longer than GC_SLOW_SECONDS, log where every thread is. This thread runs
    during such a collection only because a finalizer in it released the GIL (to wait, or at a switch of Python
    code), so the collecting thread's stack names that finalizer, or, for one written in C, the allocation it
    interrupted. Only code locations are logged, never values."""
    running = _gc_started[:]
    if not running or running[0] == seen or now - running[0][0] <= GC_SLOW_SECONDS:
        return seen
    started, collector = running[0]
    names = {t.ident: t.name for t in threading.enumerate()}
    stacks = []
    for ident, frame in sys._current_frames().items():
        if ident != threading.get_ident():
            mark = " (collecting)" if ident == collector else ""
            stacks.append(f"thread {names.get(ident, ident)}{mark}:\n" + "".join(traceback.format_stack(frame)))
    logger.warning("a garbage collection has run for %.1f s so far; the threads are at:\n%s", now - started,
                   "\n".join(stacks).rstrip())
    return running[0]


def time_collections() -> None:
    """Log every garbage collection that takes longer than GC_SLOW_SECONDS: it runs on whichever thread allocated
    when it fell due, and the loop stands still while it runs (the finalizers of what it collects included)."""
    if _time_collections not in gc.callbacks:
        gc.callbacks.append(_time_collections)
