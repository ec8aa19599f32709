"""Load: scripted conversations through a REST webhook at fixed concurrency levels.

Three targets, driven the same way:
  embedded    Settle's full stack as `make run` starts it (gateway -> Rasa -> action server, and the Stripe
              stand-in), on throwaway SQLite databases holding a generated portfolio (bench/scripts.py);
  production  the production topology (bot/stack.py): PostgreSQL for the app and the tracker store, Redis for
              Rasa's lock store and the live hub, two Rasa instances with conversations pinned by the gateway,
              two gateway workers; throwaway PostgreSQL databases, dropped afterwards;
  baseline    a bare `rasa run` serving the bot `rasa init` makes (the moodbot), with Rasa's defaults
              (in-memory tracker store, no action server): what Rasa alone costs on this machine.
Everything listens on, and all traffic goes to, 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import fcntl
import math
import os
import secrets
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from bench.common import LOOPBACK, free_ports, percentile
from bench.http1 import Connection
from bench.scripts import MOODBOT_SCRIPT, SETTLE_SCRIPT, Script, write_portfolio

WEBHOOK = "/webhooks/rest/webhook"
TURN_TIMEOUT_S = 120.0  # far above any healthy turn; a slower one is a failure, not a data point
MIN_TURNS_PER_LEVEL = 100
CONVERSATIONS_PER_WORKER = 3  # each concurrent sender runs several conversations back to back
STARTUP_TIMEOUT_S = 300.0
ERROR_SAMPLES = 5
PG_ADMIN_URL = os.environ.get("SETTLE_TEST_PG_URL", "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres")
PRODUCTION_RASA_INSTANCES = 2
PRODUCTION_GATEWAY_WORKERS = 2
# Every conversation of the benchmark comes from 127.0.0.1, far above the gateway's default per-IP limit (README
# "Security"), so the benchmark's own stacks raise it, here and out loud, rather than being exempt in the code.
# The per-conversation limit stays the default: a scripted conversation's turns fit in it.
BENCH_RATE_LIMIT_PER_IP = "1000000/minute"
# The identity checks per account (10/hour by default) are counted in Redis in the production topology, and every
# run verifies the same generated accounts (BCH-000000...): the eleventh production run within an hour would be
# refused verification ("I can't check those details again just yet") and fail its checks. Raised the same way.
BENCH_RATE_LIMIT_VERIFICATION = "1000000/hour"


class TargetError(RuntimeError):
    """A load target could not be started."""


def default_conversations(concurrency: int, script: Script) -> int:
    """At least MIN_TURNS_PER_LEVEL turns, and CONVERSATIONS_PER_WORKER conversations per sender so that
    every level reaches a steady state rather than measuring one burst."""
    return max(math.ceil(MIN_TURNS_PER_LEVEL / script.turns_per_conversation), CONVERSATIONS_PER_WORKER * concurrency)


@dataclass
class LevelResult:
    concurrency: int
    conversations: int
    turns: int = 0
    seconds: float = 0.0
    latencies_ms: list[float] = field(default_factory=list)  # successful turns only
    turn_errors: int = 0  # non-200, exception, timeout or degraded reply
    failed_checks: int = 0  # conversations whose check turn answered without the expected text
    error_samples: list[str] = field(default_factory=list)
    # CPU (user + system) each process spent per turn during this level, in ms, its workers counted with it:
    # on 2 cores every process competes with the others, so this, not wall time, is what a change is judged by.
    cpu_ms_per_turn: dict[str, float] = field(default_factory=dict)

    @property
    def errors(self) -> int:
        return self.turn_errors + self.failed_checks

    @property
    def turns_per_s(self) -> float:
        return self.turns / self.seconds if self.seconds else math.nan

    def latency(self, pct: float) -> float:
        return percentile(self.latencies_ms, pct)

    def note(self, message: str) -> None:
        if len(self.error_samples) < ERROR_SAMPLES:
            self.error_samples.append(message)

    def summary(self) -> dict[str, Any]:
        latencies = self.latencies_ms
        return {
            "concurrency": self.concurrency,
            "conversations": self.conversations,
            "turns": self.turns,
            "seconds": round(self.seconds, 3),
            "turns_per_s": round(self.turns_per_s, 3),
            "latency_ms": {
                **{f"p{p}": round(self.latency(p), 1) for p in (50, 95, 99)},
                "mean": round(sum(latencies) / len(latencies), 1) if latencies else None,
                "max": round(max(latencies), 1) if latencies else None,
            },
            "errors": self.errors,
            "turn_errors": self.turn_errors,
            "failed_checks": self.failed_checks,
            "error_samples": self.error_samples,
            "cpu_ms_per_turn": {role: round(ms, 2) for role, ms in self.cpu_ms_per_turn.items()},
        }


@dataclass
class ProcessMemory:
    role: str
    pid: int
    peak_rss_mib: float | None  # VmHWM: the most resident memory the process ever had
    rss_mib: float | None  # VmRSS at the end of the run


@dataclass
class TargetResult:
    name: str
    script: Script
    startup_s: float
    levels: list[LevelResult]
    memory: list[ProcessMemory]

    def summary(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "script": self.script.summary,
            "startup_s": round(self.startup_s, 1),
            "levels": [level.summary() for level in self.levels],
            "memory": [vars(m) for m in self.memory],
        }


# ---------------------------------------------------------------------------------------------
# Driving conversations


async def _conversation(connection: Connection, script: Script, number: int, sender: str,
                        result: LevelResult) -> None:
    """Conversation `number` of the script. A failed turn is counted and the script carries on with its next
    message; a failed check turn counts once, as a failed turn, not again as a failed check."""
    conversation = script.conversation(number)
    failed_check = False
    for index, text in enumerate(conversation.turns):
        result.turns += 1
        start = time.perf_counter()
        try:
            status, body = await connection.post_json(WEBHOOK, {"sender": sender, "message": text})
            elapsed_ms = (time.perf_counter() - start) * 1000
            if status != 200:
                raise RuntimeError(f"HTTP {status}: {str(body)[:200]}")
            reply = " ".join(str(message.get("text") or "") for message in body)
        except Exception as exc:  # noqa: BLE001 - any failure of a turn is a counted error, not a crash
            result.turn_errors += 1
            result.note(f"{sender} turn {index + 1} {text!r}: {type(exc).__name__}: {exc}")
            continue
        if script.degraded and script.degraded in reply:
            result.turn_errors += 1
            result.note(f"{sender} turn {index + 1} {text!r}: degraded reply: {reply[:200]}")
            continue
        result.latencies_ms.append(elapsed_ms)
        expected = conversation.checks.get(index)
        if expected is not None and expected not in reply:
            failed_check = True
            result.note(f"{sender} turn {index + 1} {text!r}: no {expected!r} in: {reply[:300]}")
    if failed_check:
        result.failed_checks += 1


async def run_level(base_url: str, script: Script, concurrency: int, conversations: int, tag: str,
                    first: int = 0, token: str = "") -> LevelResult:
    """Conversations first .. first+conversations-1, `concurrency` in flight at any time, each with its own
    sender (and, for Settle, its own debtor)."""
    result = LevelResult(concurrency=concurrency, conversations=conversations)
    numbers = iter(range(first, first + conversations))  # shared by the workers; asyncio: no lock needed
    url = httpx.URL(base_url)  # loopback only: no proxy, no TLS

    async def worker() -> None:
        # Settle in production mode: the REST channel needs its bearer token (README "Security").
        connection = Connection(url.host, url.port or 80, TURN_TIMEOUT_S,
                                {"Authorization": f"Bearer {token}"} if token else None)
        try:
            for number in numbers:
                await _conversation(connection, script, number, f"bench-{tag}-{number}", result)
        finally:
            await connection.close()

    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    result.seconds = time.perf_counter() - start
    return result


# Untimed conversations before the first level, with debtors and words of their own (never replayed later): a
# fresh process builds TensorFlow graphs, opens database connections and fills its caches in its first turns, a
# one-off cost that is not what a turn of a running server costs. Both targets get the same warm-up.
WARMUP_CONVERSATIONS = 20
WARMUP_CONCURRENCY = 5


def conversations_needed(levels: list[tuple[int, int]]) -> int:
    """How many distinct conversations (and so bench debtors) a run of these levels plays."""
    return WARMUP_CONVERSATIONS + sum(conversations for _, conversations in levels)


async def drive(base_url: str, script: Script, levels: list[tuple[int, int]], tag: str,
                progress: Callable[[str], None], token: str = "",
                roots: dict[str, int] | None = None) -> list[LevelResult]:
    """The warm-up, then each level; with `roots` (role -> pid), the CPU each process tree spent per turn."""
    warmup = await run_level(base_url, script, WARMUP_CONCURRENCY, WARMUP_CONVERSATIONS, tag, token=token)
    if warmup.errors:
        progress(f"{script.name}: warm-up conversation failed: " + "; ".join(warmup.error_samples))
    results = []
    first = WARMUP_CONVERSATIONS
    for concurrency, conversations in levels:
        before = cpu_seconds(roots or {}) | {LOAD_GENERATOR: _own_cpu_seconds()}
        result = await run_level(base_url, script, concurrency, conversations, tag, first, token=token)
        after = cpu_seconds(roots or {}) | {LOAD_GENERATOR: _own_cpu_seconds()}
        result.cpu_ms_per_turn = {role: (after[role] - before[role]) * 1000 / result.turns
                                  for role in after if role in before and result.turns}
        first += conversations
        progress(f"{script.name}: N={concurrency}: {result.turns} turns in {result.seconds:.1f}s, "
                 f"{result.errors} errors")
        results.append(result)
    return results


# ---------------------------------------------------------------------------------------------
# Memory


def _status_kib(pid: int, key: str) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return float(line.split()[1])
    except OSError:
        return None
    return None


def _children_map() -> dict[int, list[int]]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # The command name in parentheses may hold spaces; the parent pid is the 2nd field after it.
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry.name))
    return children


def peak_memory(roots: dict[str, int]) -> list[ProcessMemory]:
    """VmHWM and VmRSS of each process and of every process below it (a server may fork workers)."""
    children = _children_map()
    found = []
    for role, root in roots.items():
        stack = [(role, root)]
        while stack:
            name, pid = stack.pop()
            hwm, rss = _status_kib(pid, "VmHWM"), _status_kib(pid, "VmRSS")
            found.append(ProcessMemory(name, pid, hwm / 1024 if hwm else None, rss / 1024 if rss else None))
            stack.extend((f"{role} (child {child})", child) for child in children.get(pid, []))
    return found


LOAD_GENERATOR = "load generator"
_CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def _cpu_ticks(pid: int) -> int:
    """utime + stime of one process, in clock ticks (0 once it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0
    return int(fields[11]) + int(fields[12])  # utime and stime: fields 14 and 15 of proc(5)


def cpu_seconds(roots: dict[str, int]) -> dict[str, float]:
    """The CPU each role's process and everything below it (a server's workers) has used so far, in seconds."""
    children = _children_map()
    used = {}
    for role, root in roots.items():
        stack, ticks = [root], 0
        while stack:
            pid = stack.pop()
            ticks += _cpu_ticks(pid)
            stack.extend(children.get(pid, []))
        used[role] = ticks / _CLOCK_TICKS
    return used


def _own_cpu_seconds() -> float:
    times = os.times()
    return times.user + times.system


# ---------------------------------------------------------------------------------------------
# Targets


def _run_stack(name: str, config: Any, levels: list[tuple[int, int]], tag: str,
               progress: Callable[[str], None]) -> TargetResult:
    from bot.stack import Stack

    stack = Stack(config)
    try:
        progress(f"{name}: starting the stack (logs in {config.log_dir})")
        start = time.perf_counter()
        stack.start(timeout=STARTUP_TIMEOUT_S)
        startup = time.perf_counter() - start
        roots = {process_name: process.pid for process_name, process in stack.processes.items()}
        results = asyncio.run(drive(config.gateway_url, SETTLE_SCRIPT, levels, f"{tag}-{name}", progress,
                                    token=config.rest_api_token, roots=roots))
        memory = peak_memory(roots)
    finally:
        stack.stop()
    return TargetResult(f"Settle {name}", SETTLE_SCRIPT, startup, results, memory)


def run_embedded(levels: list[tuple[int, int]], log_dir: Path, tag: str,
                 progress: Callable[[str], None], keep_databases: bool = False) -> TargetResult:
    """The full stack on its embedded defaults, on free loopback ports with throwaway SQLite databases."""
    from bot.db import get_engine
    from bot.db.migrate import upgrade
    from bot.portfolio_import import import_accounts
    from bot.stack import StackConfig
    from bot.training import model_path

    with tempfile.TemporaryDirectory(prefix="settle-bench-") as tmp:
        app_url = f"sqlite:///{Path(tmp) / 'app.db'}"
        upgrade(app_url)
        engine = get_engine(app_url)
        import_accounts(engine, write_portfolio(Path(tmp) / "portfolio.csv", conversations_needed(levels)))
        engine.dispose()  # the gateway and the action server open their own connections
        gateway_port, rasa_port, action_port, stripe_port = free_ports(4)
        config = StackConfig(
            database_url=app_url, tracker_store_url=f"sqlite:///{Path(tmp) / 'tracker.db'}", model=model_path(),
            log_dir=log_dir / "embedded", host=LOOPBACK, gateway_port=gateway_port, rasa_port=rasa_port,
            action_port=action_port, stripe_port=stripe_port,  # never the ports a running `make run` may hold
            extra_env={"RATE_LIMIT_PER_IP": BENCH_RATE_LIMIT_PER_IP},
        )
        try:
            return _run_stack("embedded", config, levels, tag, progress)
        finally:
            if keep_databases:  # to read what a failed turn left behind, after the run
                for name in ("app.db", "tracker.db"):
                    shutil.copy2(Path(tmp) / name, log_dir / "embedded" / name)
                progress(f"embedded: databases kept in {log_dir / 'embedded'}")


@contextmanager
def _throwaway_postgres(admin_url: str, names: list[str], keep: bool = False) -> Iterator[list[str]]:
    """Databases made for this run and dropped after it, whatever happens (unless asked to keep them)."""
    import sqlalchemy as sa

    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            for name in names:
                connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    except sa.exc.OperationalError as exc:
        admin.dispose()
        raise TargetError(f"PostgreSQL is not reachable at {admin_url}: {exc}") from exc
    base = admin_url.rsplit("/", 1)[0]
    try:
        yield [f"{base}/{name}" for name in names]
    finally:
        if not keep:
            with admin.connect() as connection:
                for name in names:
                    connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def run_production(levels: list[tuple[int, int]], log_dir: Path, tag: str,
                   progress: Callable[[str], None], keep_databases: bool = False) -> TargetResult:
    """The production topology on this machine's PostgreSQL and Redis (PG_ADMIN_URL, REDIS_URL)."""
    import redis

    from bot.db import get_engine
    from bot.db.migrate import upgrade
    from bot.portfolio_import import import_accounts
    from bot.stack import StackConfig
    from bot.training import model_path

    redis_url = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
    try:
        redis.Redis.from_url(redis_url, socket_connect_timeout=2).ping()
    except redis.RedisError as exc:
        raise TargetError(f"Redis is not reachable at {redis_url}: {exc}") from exc
    suffix = secrets.token_hex(4)
    names = [f"settle_bench_{suffix}", f"settle_bench_{suffix}_tracker"]
    if keep_databases:
        progress(f"production: keeping the databases {', '.join(names)} (drop them when done)")
    with _throwaway_postgres(PG_ADMIN_URL, names, keep_databases) as (app_url, tracker_url), \
            tempfile.TemporaryDirectory(prefix="settle-bench-") as tmp:
        upgrade(app_url)
        engine = get_engine(app_url)
        import_accounts(engine, write_portfolio(Path(tmp) / "portfolio.csv", conversations_needed(levels)))
        engine.dispose()
        gateway_port, action_port, stripe_port, *rasa_ports = free_ports(3 + PRODUCTION_RASA_INSTANCES)
        config = StackConfig(
            database_url=app_url, tracker_store_url=tracker_url.replace("postgresql+psycopg2://", "postgresql://"),
            model=model_path(), log_dir=log_dir / "production", host=LOOPBACK, gateway_port=gateway_port,
            action_port=action_port, stripe_port=stripe_port, rasa_ports=tuple(rasa_ports),
            rasa_instances=PRODUCTION_RASA_INSTANCES,
            gateway_workers=PRODUCTION_GATEWAY_WORKERS, redis_url=redis_url,
            # Production mode: the REST channel is on only with a token, which the load generator sends.
            rest_api_token=secrets.token_urlsafe(24),
            extra_env={"RATE_LIMIT_PER_IP": BENCH_RATE_LIMIT_PER_IP,
                       "RATE_LIMIT_VERIFICATION": BENCH_RATE_LIMIT_VERIFICATION},
        )
        return _run_stack("production", config, levels, tag, progress)


def baseline_dir(rasa_version: str) -> Path:
    cache = Path(os.environ.get("SETTLE_CACHE", Path.home() / ".cache" / "settle"))
    return cache / "bench" / f"rasa-init-{rasa_version}"


def ensure_baseline_model(rasa_bin: Path, project: Path, log_dir: Path, env: dict[str, str],
                          progress: Callable[[str], None]) -> Path:
    """`rasa init`'s project and trained model, made once and reused by later runs."""
    project.mkdir(parents=True, exist_ok=True)
    # A lock, so that two benchmark runs started together do not both train into one directory.
    with open(project.parent / f".{project.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        models = sorted((project / "models").glob("*.tar.gz"))
        if not models:
            log = log_dir / "rasa-init.log"
            log_dir.mkdir(parents=True, exist_ok=True)
            progress(f"baseline: `rasa init` in {project} (trains the moodbot once; log in {log})")
            with log.open("wb") as out:
                subprocess.run([str(rasa_bin), "init", "--no-prompt", "--init-dir", str(project)],
                               cwd=project, env=env, stdout=out, stderr=subprocess.STDOUT,
                               stdin=subprocess.DEVNULL, check=True)
            models = sorted((project / "models").glob("*.tar.gz"))
            if not models:
                raise TargetError(f"`rasa init` trained no model; see {log}")
    return models[-1]


@contextmanager
def _process(argv: list[str], cwd: Path, env: dict[str, str], log: Path) -> Iterator[subprocess.Popen]:
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("ab") as out:
        process = subprocess.Popen(argv, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT,
                                   stdin=subprocess.DEVNULL, start_new_session=True)
        try:
            yield process
        finally:
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()


def _wait_ready(process: subprocess.Popen, url: str, log: Path) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise TargetError(f"bare Rasa exited with {process.returncode}; see {log}")
        try:
            response = httpx.get(url, timeout=2.0, trust_env=False)
            if response.status_code == 200 and response.json().get("model_id"):
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise TargetError(f"bare Rasa was not ready within {STARTUP_TIMEOUT_S:.0f}s; see {log}")


def run_baseline(rasa_bin: Path, rasa_version: str, levels: list[tuple[int, int]], log_dir: Path, tag: str,
                 progress: Callable[[str], None]) -> TargetResult:
    from bot.training import rasa_environment

    env = {**os.environ, **rasa_environment()}  # RASA_TELEMETRY_ENABLED=false among others
    project = baseline_dir(rasa_version)
    model = ensure_baseline_model(rasa_bin, project, log_dir, env, progress)

    # Only the REST channel: rasa init's credentials.yml also declares a `rasa:` channel pointing at
    # localhost:5002, which nothing here needs.
    credentials = project / "bench-credentials.yml"
    credentials.write_text("rest:\n")
    (port,) = free_ports(1)
    token = secrets.token_urlsafe(24)
    log = log_dir / "baseline-rasa.log"
    # The same flags bot.stack gives Settle's Rasa, minus its endpoints: rasa init's endpoints.yml
    # configures nothing, so Rasa uses its in-memory tracker and lock stores.
    argv = [str(rasa_bin), "run", "--model", str(model), "--credentials", str(credentials),
            "--interface", LOOPBACK, "--port", str(port), "--enable-api", f"--auth-token={token}"]
    base_url = f"http://{LOOPBACK}:{port}"
    progress(f"baseline: starting bare Rasa on {base_url} (log in {log})")
    start = time.perf_counter()
    with _process(argv, project, env, log) as process:
        _wait_ready(process, f"{base_url}/status?token={token}", log)
        startup = time.perf_counter() - start
        results = asyncio.run(drive(base_url, MOODBOT_SCRIPT, levels, tag, progress, roots={"rasa": process.pid}))
        memory = peak_memory({"rasa": process.pid})
    return TargetResult("bare Rasa (rasa init)", MOODBOT_SCRIPT, startup, results, memory)
