"""Starts and stops Settle's three processes: the action server, the Rasa server and the gateway.
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
from bot.training import rasa_environment, rasa_executable


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
            **rasa_environment(),
            "DATABASE_URL": c.database_url,
            "RASA_URL": c.rasa_url,
            "RASA_TOKEN": c.rasa_token,
            "ACTION_ENDPOINT_URL": f"{c.action_url}/webhook",
            "TRACKER_STORE_URL": c.tracker_store_url,
            "SANIC_HOST": c.host,  # the action server binds loopback only
            "PYTHONPATH": str(PROJECT_ROOT),
            **c.extra_env,
        }

    def _spawn(self, name: str, argv: list[str]) -> None:
        self.config.log_dir.mkdir(parents=True, exist_ok=True)
        log = open(self.config.log_dir / f"{name}.log", "ab")  # noqa: SIM115 - lives as long as the process
        self.processes[name] = subprocess.Popen(
            argv, cwd=PROJECT_ROOT, env=self._env(), stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def start(self, timeout: float = 300.0) -> Stack:
        c = self.config
        if not c.model.exists():
            raise StackError(f"no trained model at {c.model}; run `python -m bot train`")
        self._spawn("actions", [sys.executable, "-m", "rasa_sdk", "--actions", "actions",
                                "--port", str(c.action_port)])
        self._spawn("rasa", [str(rasa_executable()), "run", "--model", str(c.model),
                             "--endpoints", "endpoints.yml", "--credentials", "credentials.yml",
                             "--interface", c.host, "--port", str(c.rasa_port),
                             "--enable-api", "--auth-token", c.rasa_token])
        self._spawn("gateway", [sys.executable, "-m", "uvicorn", "--factory", "bot.gateway.app:create_app",
                                "--host", c.host, "--port", str(c.gateway_port), "--log-level", "warning"])
        try:
            self._wait(f"{c.action_url}/health", "actions", timeout)
            self._wait(f"{c.rasa_url}/status?token={c.rasa_token}", "rasa", timeout, needs_model=True)
            self._wait(f"{c.gateway_url}/healthz", "gateway", timeout)
        except BaseException:
            self.stop()
            raise
        return self

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
