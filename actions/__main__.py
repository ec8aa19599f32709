"""`python -m actions [--port 5055]`: rasa-sdk's action server for this package, with the action journal
(actions/journal.py) in front of its webhook, so that a turn re-run after a Rasa instance died mid-turn does not
run an action's side effects twice, and /readyz and /metrics (actions/ops.py) beside rasa-sdk's /health.
Otherwise the same as `python -m rasa_sdk --actions actions`, less two things: rasa-sdk's answer to a failed
action echoes the whole call (the tracker, with whatever the debtor typed) in its error body, and its server starts
a worker process per call of `run`; here a failure answers with the action's name only and the server is one
process (the journal and the metrics live in it)."""

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
from rasa_sdk.executor import ActionExecutor
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


def install_error_answer(app: Sanic) -> None:
    """Replace rasa-sdk's catch-all, whose 500 body holds the request (the whole tracker). Rasa logs an action
    server's error body, so that would put a debtor's words, card number included, in Rasa's log. Sanic refuses a
    second handler for the same exception, so rasa-sdk's is swapped in place; if a new rasa-sdk stops registering
    one, this fails at start rather than leaving its answer in place unnoticed."""

    async def failed(request: Request, exception: Exception) -> HTTPResponse:
        call = _action_call(request)
        action = str(call.get("next_action") or "unknown")[:80] if isinstance(call, dict) else "unknown"
        logger.error("action %s failed: %s", action, type(exception).__name__)  # no message: it may hold input
        return response.json({"error": "action failed", "action_name": action}, status=500)

    handlers = app.error_handler.cached_handlers
    if (Exception, None) not in handlers:
        raise RuntimeError("rasa-sdk registers no catch-all error handler any more: review install_error_answer")
    handlers[(Exception, None)] = failed


class Rasa36ActionExecutor(ActionExecutor):
    """rasa-sdk's executor for Rasa 3.6's calls. With `enable_selective_domain` (endpoints.yml) Rasa 3.6 sends the
    domain only to the actions that declare they need it (the form validators); newer rasa-sdk expects every call to
    carry the domain or a digest of one it has (Rasa Pro's protocol) and answers 449 otherwise, which Rasa 3.6 takes
    as a failed action. A call without either gets an empty domain, as rasa-sdk 3.6 gave it."""

    def update_and_return_domain(self, payload: dict[str, Any], action_name: str) -> dict[str, Any]:
        if payload.get("domain") is None and not self.is_domain_digest_valid(payload.get("domain_digest")):
            return {}
        return super().update_and_return_domain(payload, action_name)


def build_app() -> Sanic:
    """rasa-sdk's app with this package's actions, the error answer, ops endpoints and the journal."""
    executor = Rasa36ActionExecutor()
    executor.register_package("actions")
    app = create_app(executor)
    install_error_answer(app)
    install_ops(app)  # /readyz, /metrics and the action timings, beside rasa-sdk's /health
    install_journal(app, ActionJournal())
    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("-p", "--port", type=int, default=DEFAULT_SERVER_PORT)
    parser.add_argument("--loglevel", default="INFO")
    args = parser.parse_args()
    utils.configure_colored_logging(args.loglevel)
    utils.update_sanic_log_level()
    app = build_app()
    host = os.environ.get("SANIC_HOST", "127.0.0.1")
    logger.info(f"Action endpoint is up and running on http://{host}:{args.port}")
    app.run(host=host, port=args.port, single_process=True, access_log=False, motd=False)


if __name__ == "__main__":
    main()
