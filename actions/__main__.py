"""`python -m actions [--port 5055]`: rasa-sdk's action server for this package, with the action journal
(actions/journal.py) in front of its webhook, so that a turn re-run after a Rasa instance died mid-turn does not
run an action's side effects twice, and /readyz and /metrics (actions/ops.py) beside rasa-sdk's /health.
Otherwise the same as `python -m rasa_sdk --actions actions`."""

from __future__ import annotations

import argparse
import json
import logging
import os
import zlib
from typing import Any

from rasa_sdk import utils
from rasa_sdk.constants import DEFAULT_SERVER_PORT
from rasa_sdk.endpoint import create_app
from sanic import Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse

from actions.journal import ActionJournal, call_key
from actions.ops import install_ops

logger = logging.getLogger(__name__)


def _action_call(request: Request) -> dict[str, Any] | None:
    try:
        if request.headers.get("Content-Encoding") == "deflate":  # Rasa may compress the call
            return json.loads(zlib.decompress(request.body))
        return request.json
    except (ValueError, zlib.error):
        return None  # the endpoint itself answers 400


def install_journal(app: Sanic, journal: ActionJournal) -> None:
    @app.middleware("request")
    async def answer_twice_asked(request: Request) -> HTTPResponse | None:
        if request.method != "POST" or request.path != "/webhook":
            return None
        call = _action_call(request)
        key = call_key(call) if isinstance(call, dict) else None
        if key is None:
            return None
        answer = await journal.begin(key)
        if answer is not None:
            logger.info("action %s for message already ran: its answer is replayed", call.get("next_action"))
            return response.json(answer)
        request.ctx.journal_key = key
        return None

    @app.middleware("response")
    async def remember(request: Request, answer: HTTPResponse) -> None:
        key = getattr(request.ctx, "journal_key", None)
        if key is None:
            return
        request.ctx.journal_key = None
        # Only a success is replayed; a failed call may be run again, it did nothing to protect.
        journal.finish(key, json.loads(answer.body) if answer.status == 200 and answer.body else None)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("-p", "--port", type=int, default=DEFAULT_SERVER_PORT)
    parser.add_argument("--loglevel", default="INFO")
    args = parser.parse_args()
    utils.configure_colored_logging(args.loglevel)
    utils.update_sanic_log_level()
    app = create_app("actions")
    install_ops(app)  # /readyz, /metrics and the action timings, beside rasa-sdk's /health
    install_journal(app, ActionJournal())
    host = os.environ.get("SANIC_HOST", "127.0.0.1")
    logger.info(f"Action endpoint is up and running on http://{host}:{args.port}")
    app.run(host, args.port, workers=1)


if __name__ == "__main__":
    main()
