"""`python -m bot.gateway.serve`: the gateway under uvicorn with Settle's logging configuration (bot/logging_setup.py)
in place of uvicorn's own, so that its error log (tracebacks of failed requests included) is redacted like every
other line, in the supervisor and in each worker (uvicorn applies `log_config` in every worker it starts).

Logs are one JSON object a line by default (`--log-format text` for the old lines), at INFO: the gateway's own INFO
lines are kept; uvicorn's access log only with `--access-log`. With several workers, Prometheus' multiprocess mode
is switched on before any worker starts (PROMETHEUS_MULTIPROC_DIR, bot/metrics.py): the operator's directory, emptied
first, or a private temporary one removed at exit, so /metrics on any worker counts for all of them."""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile

import uvicorn

from bot.gateway.web_channel import MAX_FRAME_BYTES
from bot.logging_setup import FORMATTERS, PRIVATE_UMASK, install_excepthooks, logging_config
from bot.metrics import MULTIPROC_ENV, prepare_multiprocess_dir

APP = "bot.gateway.app:create_app"
WORKER_PING_SECONDS = 30


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bot.gateway.serve")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--workers", type=int, default=int(os.environ.get("GATEWAY_WORKERS", "1")))
    parser.add_argument("--log-level", default=os.environ.get("LOG_LEVEL", "info"))
    parser.add_argument("--log-format", choices=sorted(FORMATTERS), default=os.environ.get("LOG_FORMAT", "json"))
    parser.add_argument("--access-log", action="store_true", help="one line per request (uvicorn.access)")
    args = parser.parse_args(argv)
    os.umask(PRIVATE_UMASK)  # the SQLite database and anything else it creates: owner-only
    install_excepthooks()
    own_dir = None
    if os.environ.get(MULTIPROC_ENV):
        prepare_multiprocess_dir(os.environ[MULTIPROC_ENV])
    elif args.workers > 1:
        # Set before uvicorn spawns the workers: each imports prometheus_client fresh and reads it then.
        own_dir = os.environ[MULTIPROC_ENV] = tempfile.mkdtemp(prefix="settle-metrics-")
    try:
        uvicorn.run(APP, factory=True, host=args.host, port=args.port, workers=args.workers,
                    log_config=logging_config(args.log_level.upper(), fmt=args.log_format),
                    log_level=args.log_level, access_log=args.access_log,
                    # The widget's socket: a frame over this is refused with 1009 before it is buffered (16 MiB).
                    ws_max_size=MAX_FRAME_BYTES,
                    # uvicorn kills a worker that does not answer its ping within 5 s; a worker still importing on a
                    # busy node (2 shared cores here) took longer, and was killed and restarted over and over.
                    timeout_worker_healthcheck=WORKER_PING_SECONDS)
    finally:
        if own_dir is not None:
            shutil.rmtree(own_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
