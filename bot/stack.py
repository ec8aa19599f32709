"""Starts and stops Settle's three processes: the action server, the Rasa server and the gateway, and a fourth,
the local Stripe stand-in (stripe_standin/), when no STRIPE_SECRET_KEY is set.
Used by `python -m bot run`, the integration tests and bench/. Everything listens on loopback."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from bot.config import PROJECT_ROOT
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
    stripe_port: int = 12111  # stripe_standin.DEFAULT_PORT, where bot.payments looks for it by default
    stripe_webhook_secret: str = field(default_factory=lambda: "whsec_" + secrets.token_urlsafe(24))

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
        return f"http://{self.host}:{self.rasa_port}"

    @property
    def action_url(self) -> str:
        return f"http://{self.host}:{self.action_port}"


class StackError(RuntimeError):
    pass


class Stack:
    def __init__(self, config: StackConfig) -> None:
        self.config = config
        self.processes: dict[str, subprocess.Popen] = {}

    def _env(self) -> dict[str, str]:
        c = self.config
        return {
            **os.environ,
            **rasa_server_environment(),  # every process here serves: TensorFlow on one thread
            "DATABASE_URL": c.database_url,
            "RASA_URL": c.rasa_url,
            "RASA_TOKEN": c.rasa_token,
            "ACTION_ENDPOINT_URL": f"{c.action_url}/webhook",
            "TRACKER_STORE_URL": c.tracker_store_url,
            "SANIC_HOST": c.host,  # the action server binds loopback only
            "PYTHONPATH": str(PROJECT_ROOT),
            "GATEWAY_URL": c.gateway_url,  # pay links point here unless PUBLIC_BASE_URL says otherwise
            **({"STRIPE_API_BASE": c.stripe_url, "STRIPE_WEBHOOK_SECRET": c.stripe_webhook_secret}
               if c.with_standin else {}),
            **c.extra_env,
        }

    def _spawn(self, name: str, argv: list[str]) -> None:
        self.config.log_dir.mkdir(parents=True, exist_ok=True)
        log = open(self.config.log_dir / f"{name}.log", "ab")  # noqa: SIM115 - lives as long as the process
        self.processes[name] = subprocess.Popen(
            argv, cwd=PROJECT_ROOT, env=self._env(), stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def _commands(self) -> dict[str, tuple[list[str], str]]:
        """Each process: how it starts and the URL that answers 200 when it is ready, in start order."""
        c = self.config
        commands: dict[str, tuple[list[str], str]] = {}
        if c.with_standin:
            commands["stripe"] = ([sys.executable, "-m", "stripe_standin", "--host", c.host, "--port",
                                   str(c.stripe_port), "--webhook-url", f"{c.gateway_url}/webhooks/stripe"],
                                  f"{c.stripe_url}/healthz")
        commands["actions"] = ([sys.executable, "-m", "rasa_sdk", "--actions", "actions", "--port", str(c.action_port)],
                               f"{c.action_url}/health")
        commands["rasa"] = ([*rasa_server_command(), "run", "--model", str(c.model), "--endpoints", "endpoints.yml",
                             "--credentials", "credentials.yml", "--interface", c.host, "--port", str(c.rasa_port),
                             "--enable-api", "--auth-token", c.rasa_token],
                            f"{c.rasa_url}/status?token={c.rasa_token}")
        commands["gateway"] = ([sys.executable, "-m", "uvicorn", "--factory", "bot.gateway.app:create_app",
                                "--host", c.host, "--port", str(c.gateway_port), "--log-level", "warning"],
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
                self._wait(url, name, timeout, needs_model=name == "rasa")
        except BaseException:
            self.stop()
            raise
        return self

    def restart(self, name: str, timeout: float = 300.0) -> None:
        """Stop one process and start it again the way `start` did (crash and recovery tests)."""
        argv, url = self._commands()[name]
        self.stop(name)
        self._spawn(name, argv)
        self._wait(url, name, timeout, needs_model=name == "rasa")

    def _wait(self, url: str, name: str, timeout: float, needs_model: bool = False) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            process = self.processes[name]
            if process.poll() is not None:
                raise StackError(f"{name} exited with {process.returncode}; see {self.config.log_dir / name}.log")
            try:
                response = httpx.get(url, timeout=2.0)
                if response.status_code == 200 and (not needs_model or response.json().get("model_id")):
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        raise StackError(f"{name} did not become ready within {timeout:.0f}s; see {self.config.log_dir / name}.log")

    def stop(self, name: str | None = None) -> None:
        names = [name] if name else list(self.processes)
        for key in names:
            process = self.processes.get(key)
            if process is not None and process.poll() is None:
                process.terminate()
        for key in names:
            process = self.processes.get(key)
            if process is None:
                continue
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    def __enter__(self) -> Stack:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
