"""Helpers shared by the benchmark's parts. Standard library only: nlu_score.py imports this module from
the Rasa environment, which has neither the project's dependencies nor the `bot` package's."""

from __future__ import annotations

import math
import os
import socket
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
BENCH_DIR = PROJECT_ROOT / "bench"
OUT_DIR = BENCH_DIR / "out"  # gitignored: results of past runs, kept for comparison
DATA_DIR = BENCH_DIR / "data"
LOOPBACK = "127.0.0.1"


def timestamp() -> str:
    """UTC, sortable, safe in file names."""
    return datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")


def percentile(values: Sequence[float], pct: float) -> float:
    """Nearest-rank percentile: always one of the measured values, never an interpolation between two."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(pct / 100 * len(ordered)))
    return ordered[rank - 1]


def free_ports(count: int) -> list[int]:
    """Ports the kernel says are free on loopback right now. All sockets stay open until every port is
    chosen, so the same port is never handed out twice; another program could still take one before the
    server binds it, which is unlikely enough for a benchmark."""
    sockets = []
    try:
        for _ in range(count):
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.bind((LOOPBACK, 0))
            sockets.append(sock)
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def rasa_python() -> Path:
    """The Rasa environment's python: the project's .venv-rasa (made by scripts/envs.sh) if it exists,
    otherwise $SETTLE_RASA_PYTHON."""
    venv = PROJECT_ROOT / ".venv-rasa" / "bin" / "python"
    if venv.exists():
        return venv
    configured = os.environ.get("SETTLE_RASA_PYTHON")
    if configured:
        return Path(configured)
    raise SystemExit(
        "bench: no Rasa environment: run scripts/envs.sh (it creates .venv-rasa) "
        "or set SETTLE_RASA_PYTHON to a python that has rasa 3.6.21 installed"
    )


def use_rasa_environment() -> Path:
    """Pick the Rasa python and make bot.training (and so bot.stack) use the `rasa` next to it.

    bot.training looks for rasa at $SETTLE_RASA_BIN, else .venv-rasa/bin/rasa; when the python came from
    $SETTLE_RASA_PYTHON instead, the two would disagree. The path is not resolved: a venv's python is a
    symlink to the base interpreter, whose directory has no `rasa`.
    """
    python = rasa_python()
    if python != PROJECT_ROOT / ".venv-rasa" / "bin" / "python":
        os.environ.setdefault("SETTLE_RASA_BIN", str(python.parent / "rasa"))
    return python


def fmt(value: float | int | None, digits: int = 1) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    if isinstance(value, int):
        return str(value)
    return f"{value:.{digits}f}"


def table(headers: Sequence[str], rows: Sequence[Sequence[object]], title: str | None = None) -> str:
    """A plain-text table. Columns whose cells all look like numbers are right-aligned."""
    cells = [[str(cell) for cell in row] for row in rows]
    widths = [len(h) for h in headers]
    for row in cells:
        for i, cell in enumerate(row):
            widths[i] = max(widths[i], len(cell))

    def numeric(column: int) -> bool:
        values = [row[column] for row in cells if row[column] not in ("-", "")]
        return bool(values) and all(_looks_numeric(v) for v in values)

    right = [numeric(i) for i in range(len(headers))]

    def line(values: Sequence[str]) -> str:
        padded = (v.rjust(w) if r else v.ljust(w) for v, w, r in zip(values, widths, right, strict=True))
        return "  ".join(padded).rstrip()

    out = []
    if title:
        out.append(title)
    out.append(line(list(headers)))
    out.append("  ".join("-" * w for w in widths))
    out.extend(line(row) for row in cells)
    return "\n".join(out)


def _looks_numeric(text: str) -> bool:
    stripped = text.rstrip("%x").lstrip("$").replace(",", "")
    try:
        float(stripped)
    except ValueError:
        return False
    return True
