"""Starts and stops Settle's three processes: the action server, the Rasa server and the gateway, and a fourth,
the local Stripe stand-in (stripe_standin/), when no STRIPE_SECRET_KEY is set (keeping its objects in
`stripe_state` when that names a file).
Used by `python -m bot run`, the integration tests and bench/. Everything listens on loopback.

The production topology is the same processes, more of them: `rasa_instances` Rasa servers (same model, same
tracker store, ports rasa_port, rasa_port + 1, ... unless `rasa_ports` names them) and a gateway with
`gateway_workers` uvicorn workers, which pins each conversation to one Rasa (bot/gateway/rasa_router.py). Both
need `redis_url`: Rasa's lock store (rasa_extensions/lock_store.py, through endpoints.production.yml) and the
gateway's live hub and conversation locks then live in Redis, so that every process sees the others' work.

Process names: "actions", "gateway", "stripe", and "rasa" for one Rasa instance (as before, so existing callers
keep working) or "rasa-0", "rasa-1", ... for several. `restart(name)` stops one cleanly and starts it again;
`kill(name)` is a crash (SIGKILL to its whole process group, nothing flushed, nothing released)."""

from __future__ import annotations

import logging
import os
import queue
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from bot.config import PROJECT_ROOT, Settings
from bot.logging_setup import PRIVATE_UMASK, LineRedactor, PrivateRotatingFileHandler
from bot.training import rasa_server_command, rasa_server_environment


@dataclass
class StackConfig:
    database_url: str
    tracker_store_url: str
    model: Path
    log_dir: Path
    gateway_port: int = 8000
    rasa_port: int = 5005
    action_port: int = 5055
    host: str = "127.0.0.1"
    rasa_token: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    extra_env: dict[str, str] = field(default_factory=dict)
    # The Stripe stand-in: started when this is True, or (None) when the environment has no STRIPE_SECRET_KEY.
    stripe_standin: bool | None = None
    # STRIPE_STANDIN_PORT's default (bot/config.py), where bot.payments looks for the stand-in by default.
    stripe_port: int = Settings.__dataclass_fields__["stripe_standin_port"].default
    # The SQLite file the stand-in keeps its objects in across restarts (`run`: var/stripe-standin.db). None: in
    # memory only, so a stack started without one (tests, bench) never touches var/.
    stripe_state: Path | None = None
    stripe_webhook_secret: str = field(default_factory=lambda: "whsec_" + secrets.token_urlsafe(24))
    # Production topology (see the module docstring). Several Rasa instances or gateway workers need redis_url.
    rasa_instances: int = 1
    gateway_workers: int = 1
    redis_url: str | None = None
    rasa_ports: tuple[int, ...] = ()  # one per instance; empty: rasa_port, rasa_port + 1, ...
    # SETTLE_MODE for the gateway (README "Security"): None picks "production" for the production topology (a
    # redis_url) and "embedded" otherwise; the REST channel then needs rest_api_token in production.
    mode: str | None = None
    rest_api_token: str = ""
    # The embedded default's local mail server (bot/mail/server.py, process "mail"): every process gets SMTP_URL
    # pointing at it, and /mailbox shows what it received. Off unless asked for (`run` asks, when no SMTP_URL is
    # set), so that tests and bench starting stacks side by side never compete for its port.
    local_mail: bool = False
    mail_port: int = 2525
    # The scheduled jobs (deploy/images/scheduler.py, process "scheduler"): autopay, reminders, retention and the
    # campaign rounds that are due, each a fresh `python -m bot <job>`. `run` starts it, so that what an operator
    # schedules happens; off by default, so that tests and bench stacks change nothing on their own.
    scheduler: bool = False
    # Its SCHEDULE (command=seconds): as deploy/compose.production.yml's, but due campaigns every minute, so a
    # campaign made in the demo goes out about when it says.
    # answer-saved: what was written while Rasa was down or still loading is answered within a minute of it being up.
    schedule: str = "charge-installments=900 send-reminders=900 purge=86400 run-campaign:--due=60 answer-saved=60"

    def __post_init__(self) -> None:
        if self.rasa_instances < 1 or self.gateway_workers < 1:
            raise ValueError("rasa_instances and gateway_workers must be at least 1")
        if self.rasa_ports and len(self.rasa_ports) != self.rasa_instances:
            raise ValueError("rasa_ports must name one port per Rasa instance")
        if (self.rasa_instances > 1 or self.gateway_workers > 1) and not self.redis_url:
            # An in-memory lock store cannot keep two Rasa instances out of one conversation, and an in-process
            # hub cannot reach a widget on another worker.
            raise ValueError("several Rasa instances or gateway workers need redis_url")

    @property
    def settle_mode(self) -> str:
        return self.mode or ("production" if self.redis_url else "embedded")

    @property
    def with_standin(self) -> bool:
        return self.stripe_standin if self.stripe_standin is not None else not os.environ.get("STRIPE_SECRET_KEY")

    @property
    def stripe_url(self) -> str:
        return f"http://{self.host}:{self.stripe_port}"

    @property
    def gateway_url(self) -> str:
        return f"http://{self.host}:{self.gateway_port}"

    @property
    def rasa_url(self) -> str:
        """The first (or only) Rasa instance."""
        return self.rasa_urls[0]

    @property
    def rasa_urls(self) -> list[str]:
        ports = self.rasa_ports or tuple(self.rasa_port + i for i in range(self.rasa_instances))
        return [f"http://{self.host}:{port}" for port in ports]

    @property
    def rasa_names(self) -> list[str]:
        """The Rasa processes' names, in the order of rasa_urls (the gateway's instance index)."""
        return ["rasa"] if self.rasa_instances == 1 else [f"rasa-{i}" for i in range(self.rasa_instances)]

    @property
    def endpoints_file(self) -> str:
        """Rasa's endpoints: the embedded default's in-memory lock store, or the Redis one."""
        return "endpoints.production.yml" if self.redis_url else "endpoints.yml"

    @property
    def local_smtp_url(self) -> str:
        return f"smtp://{self.host}:{self.mail_port}"

    @property
    def action_url(self) -> str:
        return f"http://{self.host}:{self.action_port}"


class StackError(RuntimeError):
    pass


class Stack:
    def __init__(self, config: StackConfig) -> None:
        self.config = config
        self.processes: dict[str, subprocess.Popen] = {}
        self.log_handlers: dict[str, logging.Handler] = {}

    def _env(self) -> dict[str, str]:
        c = self.config
        return {
            **os.environ,
            **rasa_server_environment(),  # every process here serves: TensorFlow on one thread
            "DATABASE_URL": c.database_url,
            "RASA_URL": c.rasa_url,
            "RASA_URLS": ",".join(c.rasa_urls),
            # Only the stack's own choice counts: a REDIS_URL in .env must not turn the embedded default into a
            # half-production one (and endpoints.production.yml reads it).
            "REDIS_URL": c.redis_url or "",
            "RASA_TOKEN": c.rasa_token,
            "SETTLE_MODE": c.settle_mode,
            **({"REST_API_TOKEN": c.rest_api_token} if c.rest_api_token else {}),
            "ACTION_ENDPOINT_URL": f"{c.action_url}/webhook",
            "TRACKER_STORE_URL": c.tracker_store_url,
            "SANIC_HOST": c.host,  # the action server binds loopback only
            "PYTHONPATH": str(PROJECT_ROOT),
            "GATEWAY_URL": c.gateway_url,  # pay links point here unless PUBLIC_BASE_URL says otherwise
            **({"STRIPE_API_BASE": c.stripe_url, "STRIPE_WEBHOOK_SECRET": c.stripe_webhook_secret}
               if c.with_standin else {}),
            **({"SMTP_URL": c.local_smtp_url} if c.local_mail else {}),
            **({"SCHEDULE": c.schedule, "SCHEDULER_HEARTBEAT": str(c.log_dir / "scheduler.heartbeat")}
               if c.scheduler else {}),
            # With the scheduler and no Redis (`make run`), the gateway answers saved messages itself: its hub is the
            # one that reaches the open widgets (bot/gateway/saved_answers.py). The job stays, as the backstop.
            **({"ANSWER_SAVED_SECONDS": "5"} if c.scheduler and not c.redis_url else {}),
            **c.extra_env,
        }

    def _spawn(self, name: str, argv: list[str]) -> None:
        # Each process's output goes through a pipe to var/log/<name>.log: every line redacted (card numbers, SSNs,
        # dates of birth, bot/logging_setup.py; one split over lines too, _pump), the file 0600 and rotated. The
        # process itself runs with umask 077, so the databases and files it creates (Rasa's tracker store, the app
        # database) are owner-only too.
        self.config.log_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        handler = self.log_handlers.get(name)
        if handler is None:
            handler = self.log_handlers[name] = PrivateRotatingFileHandler(self.config.log_dir / f"{name}.log",
                                                                           fmt="%(message)s")
        process = subprocess.Popen(
            argv, cwd=PROJECT_ROOT, env=self._env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            start_new_session=True, umask=PRIVATE_UMASK,
        )
        self.processes[name] = process
        threading.Thread(target=_pump, args=(name, process.stdout, handler), name=f"log-{name}", daemon=True).start()

    def _commands(self) -> dict[str, tuple[list[str], str]]:
        """Each process: how it starts and the URL that answers 200 when it is ready, in start order."""
        c = self.config
        commands: dict[str, tuple[list[str], str]] = {}
        if c.with_standin:
            state = ["--state", str(c.stripe_state)] if c.stripe_state is not None else []
            commands["stripe"] = ([sys.executable, "-m", "stripe_standin", "--host", c.host, "--port",
                                   str(c.stripe_port), "--webhook-url", f"{c.gateway_url}/webhooks/stripe", *state],
                                  f"{c.stripe_url}/healthz")
        # actions/__main__.py: rasa-sdk's server plus the journal that keeps a re-run turn from repeating side effects.
        commands["actions"] = ([sys.executable, "-m", "actions", "--port", str(c.action_port)],
                               f"{c.action_url}/health")
        for name, url in zip(c.rasa_names, c.rasa_urls, strict=True):
            port = url.rsplit(":", 1)[1]
            commands[name] = ([*rasa_server_command(), "run", "--model", str(c.model), "--endpoints", c.endpoints_file,
                               "--credentials", "credentials.yml", "--interface", c.host, "--port", port,
                               # The API token reaches Rasa as RASA_TOKEN in its environment (_env), never in
                               # argv, which any local user can read (rasa_extensions/auth.py adds it in-process).
                               "--enable-api"],
                              f"{url}/status?token={c.rasa_token}")
        if c.local_mail:
            commands["mail"] = ([sys.executable, "-m", "bot.mail.server", "--host", c.host, "--port", str(c.mail_port)],
                                c.local_smtp_url)
        if c.scheduler:  # nothing to ask when it is ready: running is ready
            commands["scheduler"] = ([sys.executable, str(PROJECT_ROOT / "deploy" / "images" / "scheduler.py")], "")
        workers = ["--workers", str(c.gateway_workers)] if c.gateway_workers > 1 else []
        # bot/gateway/serve.py: uvicorn with Settle's redacting logging configuration, JSON lines at INFO.
        commands["gateway"] = ([sys.executable, "-m", "bot.gateway.serve",
                                "--host", c.host, "--port", str(c.gateway_port), "--log-level", "info", *workers],
                               f"{c.gateway_url}/healthz")
        return commands

    def start(self, timeout: float = 300.0) -> Stack:
        if not self.config.model.exists():
            raise StackError(f"no trained model at {self.config.model}; run `python -m bot train`")
        commands = self._commands()
        for name, (argv, _) in commands.items():
            self._spawn(name, argv)  # all at once: Rasa's slow start overlaps the others'
        try:
            for name, (_, url) in commands.items():
                self._wait(url, name, timeout, needs_model=self._is_rasa(name))
        except BaseException:
            self.stop()
            raise
        return self

    def restart(self, name: str, timeout: float = 300.0) -> None:
        """Stop one process and start it again the way `start` did (crash and recovery tests)."""
        argv, url = self._commands()[name]
        self.stop(name)
        self.start_one(name, timeout)

    def start_one(self, name: str, timeout: float = 300.0) -> None:
        """Start one process (after `kill` or `stop`) and wait until it is ready."""
        argv, url = self._commands()[name]
        self._spawn(name, argv)
        self._wait(url, name, timeout, needs_model=self._is_rasa(name))

    def kill(self, name: str) -> None:
        """A crash: SIGKILL to the process and everything it started (its process group), then reap it. Nothing
        is flushed or released: locks it held stay until their lease runs out, requests in flight are cut."""
        process = self.processes[name]
        if process.poll() is None:
            with_group(process, signal.SIGKILL)
        process.wait()

    def _is_rasa(self, name: str) -> bool:
        return name in self.config.rasa_names

    def _wait(self, url: str, name: str, timeout: float, needs_model: bool = False) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            process = self.processes[name]
            if process.poll() is not None:
                raise StackError(f"{name} exited with {process.returncode}; see {self.config.log_dir / name}.log")
            if not url:
                return
            if url.startswith("smtp://"):  # the local mail server: ready when it takes connections
                if _accepts(url):
                    return
                time.sleep(0.5)
                continue
            try:
                response = httpx.get(url, timeout=2.0)
                if response.status_code == 200 and (not needs_model or response.json().get("model_id")):
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        raise StackError(f"{name} did not become ready within {timeout:.0f}s; see {self.config.log_dir / name}.log")

    def stop(self, name: str | None = None) -> None:
        """A clean stop: SIGTERM to each process's group (uvicorn's workers with their supervisor), SIGKILL after
        20 s. The signal goes while the leader is unreaped, so its group id cannot have been reused."""
        names = [name] if name else list(self.processes)
        for key in names:
            process = self.processes.get(key)
            if process is not None and process.poll() is None:
                with_group(process, signal.SIGTERM)
        for key in names:
            process = self.processes.get(key)
            if process is None:
                continue
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                with_group(process, signal.SIGKILL)
                process.wait()

    def __enter__(self) -> Stack:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _accepts(url: str) -> bool:
    host, port = url.removeprefix("smtp://").rsplit(":", 1)
    try:
        with socket.create_connection((host, int(port)), timeout=2.0):
            return True
    except OSError:
        return False


HOLD_SECONDS = 0.2  # how long a line ending in digits waits for the next one (LineRedactor) before it is written


def _pump(name: str, stream: Any, handler: logging.Handler) -> None:
    """Copy one process's output to its log through the redacting handler, until it exits. Lines are redacted
    together where a number may run across a break (a card number in a wrapped repr or traceback): a line ending
    in digits waits up to HOLD_SECONDS for the next; any other line is written at once."""
    lines: queue.Queue[str | None] = queue.Queue()

    def read() -> None:  # its own thread, so that a held line is written after HOLD_SECONDS even if none follows
        with stream:
            for raw in iter(stream.readline, b""):
                lines.put(raw.decode("utf-8", "replace").rstrip("\r\n"))
        lines.put(None)

    threading.Thread(target=read, name=f"log-read-{name}", daemon=True).start()
    redactor = LineRedactor()
    while True:
        try:
            line = lines.get(timeout=HOLD_SECONDS if redactor.held else None)
        except queue.Empty:
            _write(name, handler, redactor.flush())
            continue
        if line is None:
            _write(name, handler, redactor.flush())
            return
        _write(name, handler, redactor.feed(line))


def _write(name: str, handler: logging.Handler, lines: list[str]) -> None:
    for line in lines:
        try:
            handler.handle(logging.LogRecord(name, logging.INFO, "", 0, line, None, None))
        except Exception:  # a full disk must not block the process on a full pipe: keep reading
            pass


def with_group(process: subprocess.Popen, sig: int) -> None:
    """Send `sig` to the process group a stack process leads (start_new_session), if any of it is left."""
    try:
        os.killpg(process.pid, sig)
    except (ProcessLookupError, PermissionError):
        pass
