"""Settle's Prometheus metrics (README "Operations"): what each process counts, and how /metrics shows it.

Every metric is defined here, once, and the code that observes it imports it:

- ``settle_turn_seconds{channel}``: a histogram of one inbound message's turn, from its arrival in the pipeline to
  its answer (stored, gated, ready to deliver), per channel (web, sms, rest, email).
- ``settle_rasa_request_seconds{instance}`` and ``settle_rasa_failures_total{instance,reason}``: each call the
  gateway makes to a Rasa instance (bot/gateway/rasa_client.py), and each that failed: refused, lost (the
  connection dropped), timeout, no_model (503), server_error (5xx), client_error (4xx).
- ``settle_messages_blocked_total{rule_id}``: outbound messages the gate stopped, once per rule that stopped one,
  counted when the transaction that stored them commits (``count_blocked``; bot/audit.py calls it for every
  ``outbound_blocked`` event, the one record every blocked message leaves).
- ``settle_webhook_failures_total{webhook,reason}``: inbound webhooks (Stripe, Twilio) refused or failed.
- ``settle_action_seconds{action}`` and ``settle_action_failures_total{action}``: the action server's calls.
- From the database at scrape time, so every worker and replica reports the same figure (bot/gateway/ops_routes.py):
  ``settle_handoffs_waiting``, ``settle_saved_messages_waiting`` (messages stored while no Rasa answered, waiting for
  the answer-saved job: bot/messaging/saved.py) and ``settle_job_runs_total{job,outcome}`` with
  ``settle_job_last_run_timestamp_seconds{job,outcome}`` (jobs are short-lived processes: their runs are rows).

Several uvicorn workers: with PROMETHEUS_MULTIPROC_DIR set before prometheus_client is imported (bot/gateway/serve.py
sets it for its workers), every process writes its samples to files there and ``exposition`` sums them, so a
scrape that reaches any worker sees the counts of all of them.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    disable_created_metrics,
    generate_latest,
    multiprocess,
)
from prometheus_client.registry import Collector
from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction

disable_created_metrics()  # no *_created series beside every counter and histogram: half the lines, nothing lost

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
CONTENT_TYPE = CONTENT_TYPE_LATEST

# A turn is a database write, a Rasa call (NLU, policies, actions) and the gate: tens of ms to a few seconds.
TURN_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0, 10.0, 20.0, 45.0)

TURN_SECONDS = Histogram("settle_turn_seconds", "Time from an inbound message to its answer, by channel",
                         ["channel"], buckets=TURN_BUCKETS)
RASA_REQUEST_SECONDS = Histogram("settle_rasa_request_seconds", "Calls from the gateway to a Rasa instance",
                                 ["instance"], buckets=TURN_BUCKETS)
RASA_FAILURES = Counter("settle_rasa_failures_total", "Calls to a Rasa instance that failed, by reason",
                        ["instance", "reason"])
MESSAGES_BLOCKED = Counter("settle_messages_blocked_total",
                           "Outbound messages the compliance gate blocked, by the rule that blocked them", ["rule_id"])
WEBHOOK_FAILURES = Counter("settle_webhook_failures_total", "Inbound webhooks refused or failed",
                           ["webhook", "reason"])
ACTION_SECONDS = Histogram("settle_action_seconds", "Custom action calls on the action server", ["action"],
                           buckets=TURN_BUCKETS)
ACTION_FAILURES = Counter("settle_action_failures_total", "Custom action calls that failed", ["action"])

_ON_COMMIT = "settle_metrics_on_commit"


def on_commit(session: Session, increment: Callable[[], None]) -> None:
    """Run ``increment`` when the session's transaction commits, never if it rolls back: a count of what was stored
    must not include what was not."""
    session.info.setdefault(_ON_COMMIT, []).append(increment)


@event.listens_for(Session, "after_commit")
def _run_on_commit(session: Session) -> None:
    for increment in session.info.pop(_ON_COMMIT, []):
        increment()


@event.listens_for(Session, "after_transaction_end")
def _forget_on_end(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:  # the outermost transaction: committed (counted above) or rolled back
        session.info.pop(_ON_COMMIT, None)


def count_blocked(session: Session, rule_ids: Iterable[str]) -> None:
    """One blocked message, counted under each rule that blocked it, once its transaction commits."""
    for rule_id in dict.fromkeys(rule_ids):
        on_commit(session, MESSAGES_BLOCKED.labels(rule_id=rule_id).inc)


def multiprocess_dir() -> str | None:
    return os.environ.get(MULTIPROC_ENV) or None


def prepare_multiprocess_dir(path: str) -> None:
    """Empty the directory the workers write their samples to (prometheus_client's rule: the files of a previous
    run would otherwise be summed in), creating it if needed."""
    os.makedirs(path, mode=0o700, exist_ok=True)
    for name in os.listdir(path):
        if name.endswith(".db"):
            os.remove(os.path.join(path, name))


def exposition(extra: Iterable[Collector] = ()) -> bytes:
    """The text /metrics answers: this process's metrics, or every worker's summed in multiprocess mode, then the
    ``extra`` collectors (read at scrape time, e.g. from the database)."""
    if multiprocess_dir():
        registry: CollectorRegistry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    else:
        registry = REGISTRY
    body = generate_latest(registry)
    extra = list(extra)
    if extra:
        scraped = CollectorRegistry(auto_describe=False)
        for collector in extra:
            scraped.register(collector)
        body += generate_latest(scraped)
    return body

