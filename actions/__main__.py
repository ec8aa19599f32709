"""`python -m actions [--port 5055]`: rasa-sdk's action server for this package, with the action journal
(actions/journal.py) in front of its webhook, so that a turn re-run after a Rasa instance died mid-turn does not
run an action's side effects twice, and /readyz and /metrics (actions/ops.py) beside rasa-sdk's /health.
Otherwise the same as `python -m rasa_sdk --actions actions`, less two things: rasa-sdk's answer to a failed
action echoes the whole call (the tracker, with whatever the debtor typed) in its error body, and its server starts
a worker process per call of `run`; here a failure answers with the action's name only and the server is one
process (the journal and the metrics live in it).

Logs go through Settle's one logging configuration (bot/logging_setup.py), as the gateway's do: one JSON object a
line on stderr by default (`--log-format text`, or LOG_FORMAT, for plain lines; `--loglevel` or LOG_LEVEL), every
line redacted (card numbers, SSNs, dates of birth), and each line logged during an action call carrying the call's
conversation id (its tracker's sender_id), action name and a request id (install_log_context)."""

from __future__ import annotations

import argparse
import json
import logging
import logging.config
import os
import uuid
from typing import Any

from rasa_sdk.constants import DEFAULT_SERVER_PORT
from rasa_sdk.endpoint import create_app
from rasa_sdk.executor import ActionExecutor
from sanic import Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse

from actions.journal import ActionJournal, call_key
from actions.ops import action_call, action_label, install_ops
from bot.logging_setup import (
    FORMATTERS,
    action_var,
    conversation_id_var,
    install_excepthooks,
    logging_config,
    redact_text,
    request_id_var,
)

logger = logging.getLogger(__name__)


def install_log_context(app: Sanic) -> None:
    """Every line logged while an action call is handled (rasa-sdk's, the actions', the journal's, the error
    answer's) names its conversation and action in the JSON log (bot/logging_setup.JsonFormatter). Installed first:
    its request middleware runs before the others and its response middleware after them. Set for every request,
    and cleared after it, since Sanic handles a connection's successive requests in one task (one context)."""

    @app.middleware("request")
    async def set_log_context(request: Request) -> None:
        call = action_call(request) if request.method == "POST" and request.path == "/webhook" else None
        tracker = call.get("tracker") if isinstance(call, dict) else None
        sender = tracker.get("sender_id") if isinstance(tracker, dict) else None
        request_id_var.set(uuid.uuid4().hex[:16] if call is not None else None)
        conversation_id_var.set(str(sender)[:100] if sender else None)
        action_var.set(action_label(call) if call is not None else None)

    @app.middleware("response")
    async def clear_log_context(request: Request, answer: HTTPResponse) -> None:
        request_id_var.set(None)
        conversation_id_var.set(None)
        action_var.set(None)


def install_journal(app: Sanic, journal: ActionJournal) -> None:
    @app.middleware("request")
    async def answer_twice_asked(request: Request) -> HTTPResponse | None:
        if request.method != "POST" or request.path != "/webhook":
            return None
        call = action_call(request)
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
        action = action_label(action_call(request))
        logger.error("action %s failed: %s", action, type(exception).__name__)  # no message: it may hold input
        return response.json({"error": "action failed", "action_name": action}, status=500)

    handlers = app.error_handler.cached_handlers
    if (Exception, None) not in handlers:
        raise RuntimeError("rasa-sdk registers no catch-all error handler any more: review install_error_answer")
    handlers[(Exception, None)] = failed

    @app.middleware("response")
    async def redact_refusal(request: Request, answer: HTTPResponse) -> None:
        """rasa-sdk's own refusals (400 rejected, 404 no such action, 449 no domain) repeat the action name the call
        gave, which may be anything, and Rasa logs the body: redacted like a log line. Changed in place: a response
        middleware that returns one stops the others (the metrics, the log context)."""
        if request.path != "/webhook" or answer.status not in (400, 404, 449) or not answer.body:
            return
        try:
            body = json.loads(answer.body)
        except ValueError:
            return
        if isinstance(body, dict):
            answer.body = json.dumps({key: redact_text(value) if isinstance(value, str) else value
                                      for key, value in body.items()}).encode()


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
    install_log_context(app)
    install_error_answer(app)
    install_ops(app, executor.actions)  # /readyz, /metrics and the action timings, beside rasa-sdk's /health
    install_journal(app, ActionJournal())
    return app


def configure_logging(level: str, fmt: str) -> None:
    """Settle's handler on the root logger; Sanic's loggers (which rasa-sdk would cut off from the root) send their
    warnings and errors to it too."""
    config = logging_config(level, fmt=fmt)
    config["loggers"].update({name: {"level": "WARNING", "handlers": [], "propagate": True}
                              for name in ("sanic.root", "sanic.error", "sanic.access", "sanic.server",
                                           "sanic.websockets")})
    logging.config.dictConfig(config)
    logging.captureWarnings(True)  # rasa-sdk's version warning, and any other, as a JSON line too
    install_excepthooks()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("-p", "--port", type=int, default=DEFAULT_SERVER_PORT)
    parser.add_argument("--loglevel", default=os.environ.get("LOG_LEVEL", "INFO"))
    parser.add_argument("--log-format", choices=sorted(FORMATTERS), default=os.environ.get("LOG_FORMAT", "json"))
    args = parser.parse_args()
    configure_logging(args.loglevel.upper(), args.log_format)
    app = build_app()
    host = os.environ.get("SANIC_HOST", "127.0.0.1")
    logger.info(f"Action endpoint is up and running on http://{host}:{args.port}")
    app.run(host=host, port=args.port, single_process=True, access_log=False, motd=False)


if __name__ == "__main__":
    main()
