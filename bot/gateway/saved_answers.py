"""One round of answering saved messages (bot/messaging/saved.py) with a given pipeline and couriers: every
conversation that has some, the longest waiting first, each conversation's answers delivered in order.

Two callers: the `answer-saved` job (bot/cli/answer_saved.py, its own pipeline, Twilio and, with Redis, the widget
push) and, when ANSWER_SAVED_SECONDS is set (`make run` sets it), the gateway itself, whose in-process hub reaches
the open widgets: without Redis the job's answers reach a widget only when it next connects."""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass

from sqlalchemy import Engine

from bot.db import session_scope
from bot.gateway.pipeline import Pipeline
from bot.gateway.rasa_client import RasaClient
from bot.messaging import saved
from bot.messaging.delivery import Couriers


@dataclass
class Report:
    answered: int = 0  # saved messages answered or handed to a person in this run
    busy: int = 0  # conversations another worker was answering
    waiting: int = 0  # saved messages still waiting after the run
    rasa_ready: bool = True


def worker_name(kind: str) -> str:
    """Who holds a claim: what, on which host, in which process (a claim left by a dead one runs out:
    saved.CLAIM_SECONDS)."""
    return f"{kind}:{socket.gethostname()[:24]}:{os.getpid()}"[:40]


async def answer_round(engine: Engine, pipeline: Pipeline, rasa: RasaClient, out: Couriers, worker: str,
                       limit: int = 200) -> Report:
    report = Report()
    with session_scope(engine) as session:
        waiting = saved.waiting_conversations(session, limit)
    # Asked once, first: with no Rasa ready each conversation would wait out RASA_RETRY_SECONDS for nothing.
    if waiting and not await rasa.ready_instances():
        report.rasa_ready = False
    else:
        for conversation_id in waiting:
            results = await pipeline.answer_saved(conversation_id, worker)
            if results is None:
                report.busy += 1
                continue
            report.answered += len(results)
            for result in results:  # in order: one conversation's answers go out as they were given
                await out.deliver(result.sent)
    with session_scope(engine) as session:
        report.waiting = saved.waiting_count(session)
    return report
