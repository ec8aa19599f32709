"""The scheduled jobs of the production topology, as one long-running service (`settle-scheduler` in the gateway
image; deploy/compose.production.yml's `scheduler`): each job is `python -m bot <command>` run every so many
seconds, one at a time, each in a fresh process (so a job that leaks or crashes takes nothing else with it).

    SCHEDULE="charge-installments=900 send-reminders=900 purge=86400 run-campaign:--due=1800 answer-saved=60"
                                        (the default; seconds between starts; `:` separates a command's arguments)

Each job's output goes to this service's log with its exit status; a failed job is retried at its next time. A
second scheduler at once is harmless (autopay, the outbound queue, purge and the saved messages each take their rows
under locks or claims, README "Payments", bot/messaging/queue.py and bot/messaging/saved.py), but one is enough. Stops cleanly on SIGTERM between jobs.

`settle-scheduler --check` is its HEALTHCHECK: healthy while the loop has beaten within the last
SCHEDULER_STALE_SECONDS (default 3600): a job that hangs longer than that makes the service unhealthy."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

DEFAULT_SCHEDULE = "charge-installments=900 send-reminders=900 purge=86400 run-campaign:--due=1800 answer-saved=60"
HEARTBEAT = Path(os.environ.get("SCHEDULER_HEARTBEAT", "/tmp/settle-scheduler.heartbeat"))


def beat() -> None:
    HEARTBEAT.touch()


def check() -> int:
    stale = float(os.environ.get("SCHEDULER_STALE_SECONDS", "3600"))
    try:
        age = time.time() - HEARTBEAT.stat().st_mtime
    except FileNotFoundError:
        print("settle-scheduler: not started", file=sys.stderr)
        return 1
    if age > stale:
        print(f"settle-scheduler: no beat for {age:.0f} s", file=sys.stderr)
        return 1
    return 0


def parse(spec: str) -> dict[str, float]:
    jobs = {}
    for item in spec.split():
        name, _, seconds = item.rpartition("=")  # the interval is after the last "=": arguments may hold one
        if not name or not seconds or float(seconds) <= 0:
            raise SystemExit(f"settle-scheduler: bad SCHEDULE entry {item!r}: expected command=seconds")
        jobs[name] = float(seconds)
    return jobs


def main(argv: list[str]) -> int:
    if argv == ["--check"]:
        return check()
    jobs = parse(os.environ.get("SCHEDULE", DEFAULT_SCHEDULE))
    stopping = False

    def stop(*_: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    due = dict.fromkeys(jobs, time.monotonic())  # every job runs once at start, then on its interval
    print(f"settle-scheduler: {', '.join(f'{n} every {s:g} s' for n, s in jobs.items())}", flush=True)
    while not stopping:
        beat()
        name = min(due, key=due.get)
        wait = due[name] - time.monotonic()
        if wait > 0:
            time.sleep(min(wait, 1.0))
            continue
        started = time.monotonic()
        result = subprocess.run([sys.executable, "-m", "bot", *name.split(":")], check=False)
        print(f"settle-scheduler: {name} exited {result.returncode} after {time.monotonic() - started:.1f} s",
              flush=True)
        due[name] = started + jobs[name]
        beat()
    print("settle-scheduler: stopped", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
