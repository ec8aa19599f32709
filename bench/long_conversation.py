"""Long conversations (issue 22, item 2): what one turn costs at message 1, 100 and 1,000 of one conversation.

From the project root, with the app environment:

    .venv-app/bin/python bench/long_conversation.py                    # 1,000 messages, before and after
    .venv-app/bin/python bench/long_conversation.py --messages 200 --variants after   # a quick look

Each variant starts the full embedded stack (gateway -> Rasa with the kept tracker store -> action server, SQLite
databases, as `make run` does) and plays conversations of `--messages` messages, one message at a time, through the
REST webhook. The conversation verifies the debtor in its first five messages (greeting, balance request, date of
birth, SSN last 4, account number), then repeats a five-message cycle whose answers do not depend on how long the
conversation is: "what's my balance" (an action call: the balance), "hi", "are you a bot?", "bye", "how much do i
owe" (an action call again). A turn's cost is measured over one whole cycle, at messages 6-10 (the first cycle:
"message 1" of the cycle, the shortest tracker with the debtor verified), 96-100 and 996-1000: the wall time of a
turn as the client sees it, and the CPU each process of the stack spent per turn (utime + stime from /proc, children
included), which other programs on the machine disturb less than wall time. The very first message's wall time is
printed too.

Variants, run one after the other in the same invocation so that both see the same machine:
  before   the tracker store keeps every event of the session in the tracker Rasa works on (SETTLE_TRACKER_WINDOW=0)
  after    the default: Rasa works on a window of the conversation's latest events (rasa_extensions/tracker_store.py)
Either way every event is in the tracker store's table and every message in the gateway's hash-chained transcript;
the bench checks both counts at the end of each variant.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sqlite3
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import LOOPBACK, OUT_DIR, fmt, free_ports, table, timestamp, use_rasa_environment  # noqa: E402

PRELUDE = 5
CYCLE = ("what's my balance", "hi", "are you a bot?", "bye", "how much do i owe")
BALANCE = "$2,400.00"
DEFAULT_MESSAGES = 1000
VARIANTS = {"before": {"SETTLE_TRACKER_WINDOW": "0"}, "after": {}}
HIGH_LIMIT = "1000000/minute"  # one sender sends 1,000 messages in minutes: far over the per-conversation default


def windows(messages: int) -> list[tuple[str, int, int]]:
    """(label, first, last) message numbers of each measured cycle, 1-based and inclusive."""
    found = [("1", PRELUDE + 1, PRELUDE + len(CYCLE))]
    for mark in (100, 1000, 10_000):
        if mark <= messages and mark - len(CYCLE) + 1 > PRELUDE + len(CYCLE):
            found.append((str(mark), mark - len(CYCLE) + 1, mark))
    return found


def texts(number: int, messages: int) -> list[str]:
    from bench.scripts import bench_debtor

    debtor = bench_debtor(number)
    prelude = ["hi", "what do I owe?", debtor.dob.strftime("%m/%d/%Y"), debtor.ssn_last4, debtor.account_ref]
    return (prelude + [CYCLE[i % len(CYCLE)] for i in range(messages - PRELUDE)])[:messages]


def cpu_by_process(roots: dict[str, int]) -> dict[str, float]:
    """CPU ms each process (with its workers) has used so far: bench/load.py's count, in milliseconds."""
    from bench.load import cpu_seconds

    return {name: seconds * 1000 for name, seconds in cpu_seconds(roots).items()}


@dataclass
class Window:
    label: str
    first: int
    last: int
    wall_ms: list[float] = field(default_factory=list)
    cpu_ms: dict[str, float] = field(default_factory=dict)  # per process, summed over the window's turns
    turns: int = 0

    def cpu_per_turn(self, name: str | None = None) -> float:
        total = sum(self.cpu_ms.values()) if name is None else self.cpu_ms.get(name, 0.0)
        return total / self.turns if self.turns else float("nan")

    def wall_per_turn(self) -> float:
        return sum(self.wall_ms) / len(self.wall_ms) if self.wall_ms else float("nan")


@dataclass
class VariantResult:
    name: str
    windows: list[Window]
    first_message_ms: list[float]
    errors: list[str]
    seconds: float
    tracker_events: int = 0
    transcript_entries: int = 0
    messages_stored: int = 0


async def _play(base_url: str, roots: dict[str, int], conversations: int, messages: int,
                result: VariantResult) -> None:
    from bench.http1 import Connection

    marks = {w.first: w for w in result.windows}
    ends = {w.last: w for w in result.windows}
    connection = Connection(LOOPBACK, int(base_url.rsplit(":", 1)[1]), 120.0)
    try:
        for number in range(conversations):
            sender = f"long-{number}"
            started: dict[str, float] = {}
            for index, text in enumerate(texts(number, messages), start=1):
                window = marks.get(index)
                if window is not None:
                    started = cpu_by_process(roots)
                begin = time.perf_counter()
                status, body = await connection.post_json("/webhooks/rest/webhook", {"sender": sender, "message": text})
                elapsed = (time.perf_counter() - begin) * 1000
                reply = " ".join(str(m.get("text") or "") for m in body) if status == 200 else str(body)[:200]
                if status != 200 or "having trouble" in reply:
                    result.errors.append(f"{sender} message {index} {text!r}: {status} {reply[:160]}")
                if index == PRELUDE and BALANCE not in reply:
                    result.errors.append(f"{sender}: verification gave no balance: {reply[:160]}")
                if index > PRELUDE and CYCLE[(index - PRELUDE - 1) % len(CYCLE)].endswith(("balance", "owe")) \
                        and BALANCE not in reply:
                    result.errors.append(f"{sender} message {index} {text!r}: no balance in {reply[:160]}")
                if index == 1:
                    result.first_message_ms.append(elapsed)
                for w in result.windows:
                    if w.first <= index <= w.last:
                        w.wall_ms.append(elapsed)
                        w.turns += 1
                window = ends.get(index)
                if window is not None:
                    now = cpu_by_process(roots)
                    for name, value in now.items():
                        window.cpu_ms[name] = window.cpu_ms.get(name, 0.0) + value - started.get(name, value)
    finally:
        await connection.close()


def run_variant(name: str, env: dict[str, str], conversations: int, messages: int, log_dir: Path,
                progress: object) -> VariantResult:
    from bench.scripts import write_portfolio
    from bot.db import get_engine
    from bot.db.migrate import upgrade
    from bot.portfolio_import import import_accounts
    from bot.stack import Stack, StackConfig
    from bot.training import model_path

    result = VariantResult(name, [Window(*w) for w in windows(messages)], [], [], 0.0)
    with tempfile.TemporaryDirectory(prefix="settle-long-") as tmp:
        app_db, tracker_db = Path(tmp) / "app.db", Path(tmp) / "tracker.db"
        upgrade(f"sqlite:///{app_db}")
        engine = get_engine(f"sqlite:///{app_db}")
        import_accounts(engine, write_portfolio(Path(tmp) / "portfolio.csv", conversations))
        engine.dispose()
        gateway_port, rasa_port, action_port, stripe_port = free_ports(4)
        config = StackConfig(
            database_url=f"sqlite:///{app_db}", tracker_store_url=f"sqlite:///{tracker_db}", model=model_path(),
            log_dir=log_dir / name, host=LOOPBACK, gateway_port=gateway_port, rasa_port=rasa_port,
            action_port=action_port, stripe_port=stripe_port,
            extra_env={"RATE_LIMIT_PER_IP": HIGH_LIMIT, "RATE_LIMIT_PER_CONVERSATION": HIGH_LIMIT,
                       "RATE_LIMIT_VERIFICATION": HIGH_LIMIT, **env})
        stack = Stack(config)
        try:
            progress(f"{name}: starting the stack (logs in {config.log_dir})")  # type: ignore[operator]
            stack.start(timeout=300)
            roots = {process_name: process.pid for process_name, process in stack.processes.items()}
            start = time.perf_counter()
            asyncio.run(_play(config.gateway_url, roots, conversations, messages, result))
            result.seconds = time.perf_counter() - start
        finally:
            stack.stop()
        with sqlite3.connect(tracker_db) as db:
            result.tracker_events = db.execute("SELECT count(*) FROM events WHERE type_name = 'user'").fetchone()[0]
        with sqlite3.connect(app_db) as db:
            result.messages_stored = db.execute(
                "SELECT count(*) FROM messages WHERE direction = 'in'").fetchone()[0]
            result.transcript_entries = db.execute("SELECT count(*) FROM transcript_entries").fetchone()[0]
    return result


def report(results: list[VariantResult], conversations: int, messages: int) -> str:
    lines = []
    for result in results:
        rows = []
        base = result.windows[0]
        for w in result.windows:
            names = sorted(w.cpu_ms)
            rows.append([w.label, f"{w.first}-{w.last}", fmt(w.wall_per_turn()),
                         fmt(w.wall_per_turn() / base.wall_per_turn(), 2) + "x",
                         fmt(w.cpu_per_turn()), fmt(w.cpu_per_turn() / base.cpu_per_turn(), 2) + "x",
                         *(fmt(w.cpu_per_turn(n)) for n in names)])
        names = sorted(result.windows[0].cpu_ms)
        lines.append(table(["at message", "messages", "wall ms/turn", "vs 1", "CPU ms/turn", "vs 1",
                            *(f"{n} CPU" for n in names)], rows,
                           title=f"\n{result.name}: {conversations} conversation(s) of {messages} messages, "
                                 f"{result.seconds:.0f} s; first message {fmt(min(result.first_message_ms or [0]))}"
                                 f" ms wall"))
        lines.append(f"record: {result.messages_stored} inbound messages stored, {result.transcript_entries} "
                     f"transcript entries, {result.tracker_events} user events in Rasa's tracker store "
                     f"(sent: {conversations * messages})")
        if result.errors:
            lines.append(f"{len(result.errors)} problems, e.g.: " + "; ".join(result.errors[:5]))
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=DEFAULT_MESSAGES)
    parser.add_argument("--conversations", type=int, default=1, help="conversations per variant, one after another")
    parser.add_argument("--variants", default="before,after", help="before, after or both (comma-separated)")
    args = parser.parse_args()
    use_rasa_environment()
    from bot.records.listeners import register_flush_listeners

    register_flush_listeners()  # the portfolio is written from this process (REC-1 hooks)
    stamp = timestamp()
    log_dir = OUT_DIR / "logs" / f"long-{stamp}"

    def progress(message: str) -> None:
        print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)

    results = []
    for name in args.variants.split(","):
        results.append(run_variant(name, VARIANTS[name], args.conversations, args.messages, log_dir, progress))
        progress(f"{name}: done in {results[-1].seconds:.0f} s")
    print(report(results, args.conversations, args.messages))
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    (OUT_DIR / f"long-{stamp}.json").write_text(json.dumps([
        {"variant": r.name, "seconds": r.seconds, "first_message_ms": r.first_message_ms, "errors": r.errors,
         "record": {"messages": r.messages_stored, "transcript": r.transcript_entries, "user_events": r.tracker_events},
         "windows": [{"at": w.label, "messages": [w.first, w.last], "wall_ms": w.wall_ms, "cpu_ms": w.cpu_ms,
                      "turns": w.turns} for w in r.windows]} for r in results], indent=1))
    return 1 if any(r.errors for r in results) else 0


if __name__ == "__main__":
    raise SystemExit(main())
