"""`python -m bot answer-saved`: answer the messages saved while no Rasa answered (bot/messaging/saved.py), now that
one does; a scheduled job (the scheduler runs it every minute: bot/stack.py, deploy/images/scheduler.py).

Each conversation's saved messages are answered in the order they were written, each once, even with several
schedulers or gateway workers at it (the database claim); the answers go through the one outbox, which applies every
rule at send time, and out on the conversation's own channel (Twilio, email, the widget through Redis). A message
that must not get an automatic answer (a STOP or cease since, or older than SESSION_IDLE_MINUTES) goes to the agent
queue instead. Exit status 1 when no Rasa instance is ready: nothing was tried, the messages wait for the next run."""

from __future__ import annotations

import argparse
import asyncio
import sys

from sqlalchemy import Engine, inspect

from bot.config import Settings
from bot.db import get_engine
from bot.gateway import couriers, live, saved_answers
from bot.gateway.pipeline import Pipeline
from bot.gateway.rasa_client import RasaClient

NAME = "answer-saved"


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        NAME, help="answer the messages saved while the bot was down, now that Rasa answers",
        description="Answer each conversation's saved messages (stored while no Rasa instance answered) in order, "
        "once, through the outbound gate; hand to a person those that came before a STOP or cease, or are older "
        "than SESSION_IDLE_MINUTES.")
    parser.add_argument("--limit", type=int, default=200, help="conversations per run (default: 200)")
    parser.set_defaults(handler=handle)


def worker_name() -> str:
    return saved_answers.worker_name("job")


async def answer_waiting(engine: Engine, settings: Settings, limit: int = 200,
                         rasa: RasaClient | None = None) -> saved_answers.Report:
    """One run: every conversation with saved messages (the longest waiting first, at most `limit`)."""
    rasa = rasa or RasaClient(settings.rasa_instances, token=settings.rasa_token,
                              timeout=settings.rasa_retry_seconds, retry_seconds=settings.rasa_retry_seconds)
    hub = live.RedisHub(settings.redis_url) if settings.redis_url else None
    try:
        pipeline = Pipeline(engine, rasa, settings, hub=hub)
        out = couriers.couriers_outside_gateway(engine, settings, hub)
        return await saved_answers.answer_round(engine, pipeline, rasa, out, worker_name(), limit)
    finally:
        await rasa.close()
        if hub is not None:
            await hub.close()


def handle(args: argparse.Namespace) -> int:
    if args.limit < 1:
        print("error: --limit needs a number of at least 1", file=sys.stderr)
        return 2
    settings = Settings.from_env()
    engine = get_engine(settings.database_url)
    if not inspect(engine).has_table("saved_messages"):
        print("error: the database is not migrated; run `python -m bot migrate` first", file=sys.stderr)
        return 2
    report = asyncio.run(answer_waiting(engine, settings, args.limit))
    if not report.rasa_ready:
        print(f"no Rasa instance is ready: {report.waiting} saved message(s) wait for the next run")
        return 1
    print(f"answered {report.answered} saved message(s); {report.waiting} still waiting"
          + (f"; {report.busy} conversation(s) being answered elsewhere" if report.busy else ""))
    return 0
