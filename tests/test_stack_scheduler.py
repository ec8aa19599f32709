"""`make run` starts the scheduled jobs with the rest (bot/stack.py's "scheduler" process, deploy/images/
scheduler.py): what an operator schedules in the demo happens without anyone typing `run-campaign --due`. The
exploratory pass found a campaign "scheduled" for ever, because nothing ran the jobs."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import Engine

from bot import jobs
from bot.cli import run as run_command
from bot.db import session_scope
from bot.stack import Stack, StackConfig


def test_the_stacks_scheduler_runs_its_schedule_against_the_stacks_database(tmp_path, sqlite_url: str,
                                                                           sqlite_engine: Engine):
    """Mutation tried: SCHEDULE left out of the scheduler's environment (it then ran its production default: every
    job once, campaigns every 30 minutes) -> send-reminders ran and purge did not come round again: fails."""
    config = StackConfig(database_url=sqlite_url, tracker_store_url="sqlite://", model=tmp_path / "none",
                         log_dir=tmp_path / "log", scheduler=True, schedule="purge=1 run-campaign:--due=3600")
    stack = Stack(config)
    argv, ready = stack._commands()["scheduler"]
    stack._spawn("scheduler", argv)
    try:
        deadline = time.monotonic() + 120
        runs: dict[str, int] = {}
        while time.monotonic() < deadline and not (runs.get("purge", 0) >= 2 and runs.get("run-campaign")):
            time.sleep(0.5)
            with session_scope(sqlite_engine) as session:
                runs = {c.job: c.runs for c in jobs.run_counts(session) if c.outcome == jobs.OK}
        assert runs.get("purge", 0) >= 2 and runs.get("run-campaign") == 1, (runs, _log(config))
        assert "send-reminders" not in runs and "charge-installments" not in runs
        stack._wait(ready, "scheduler", 5)  # running is ready: nothing to ask
        assert (config.log_dir / "scheduler.heartbeat").exists()
    finally:
        stack.stop("scheduler")


def _log(config: StackConfig) -> str:
    path = config.log_dir / "scheduler.log"
    return path.read_text() if path.exists() else ""


def _stack_config_of(monkeypatch, args) -> StackConfig:
    """The StackConfig `run` would start the stack with (nothing is started, migrated or loaded)."""
    captured: dict[str, StackConfig] = {}

    class Stop(Exception):
        pass

    def capture(config: StackConfig) -> Stack:
        captured["config"] = config
        raise Stop

    for name, value in {"Stack": capture, "upgrade": lambda url: None, "load": lambda engine: None,
                        "ensure_model": lambda: None}.items():
        monkeypatch.setattr(run_command, name, value)
    with pytest.raises(Stop):
        run_command.handle(args)
    return captured["config"]


def test_make_run_starts_the_scheduler_and_a_schedule_in_the_environment_replaces_the_demos(monkeypatch):
    monkeypatch.setenv("SCHEDULE", "purge=86400")
    config = _stack_config_of(monkeypatch, _args())
    assert config.scheduler and config.schedule == "purge=86400"


def test_make_run_takes_the_gateway_port_from_env_loaded_after_the_command_line_is_read(monkeypatch):
    """Exploratory pass: GATEWAY_PORT=8100 in .env was ignored (the gateway came up on 8000, the Stripe stand-in's
    webhook with it) while the other ports were right: the --port default was read when the parser was built,
    before .env is loaded. Mutation tried: that default back -> 8000: fails."""
    import argparse

    from bot.cli import chat

    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="command")
    run_command.register(sub)
    chat.register(sub)
    monkeypatch.delenv("GATEWAY_PORT", raising=False)
    args = parser.parse_args(["run", "--no-demo"])
    monkeypatch.setenv("GATEWAY_PORT", "8100")  # as check_environment's load of .env does, after parsing
    assert _stack_config_of(monkeypatch, args).gateway_port == 8100
    assert parser.parse_args(["chat"]).url is None  # chat reads it late too


def _args():
    import argparse

    return argparse.Namespace(port=8000, no_demo=True, production=False, rasa_instances=None, gateway_workers=None)


@pytest.mark.parametrize(("scheduler", "redis_url", "every"), [
    (True, None, "5"), (False, None, None), (True, "redis://127.0.0.1:6379/9", None)])
def test_make_runs_gateway_answers_saved_messages_itself_only_without_redis(tmp_path, scheduler, redis_url, every):
    """`make run` (scheduler, no Redis): the gateway answers saved messages, so its hub pushes the answer to an open
    chat (tests/integration/test_saved_messages.py); with Redis the job's answers reach the widget, and test stacks
    (no scheduler) change nothing on their own. Mutation tried: the condition dropped (always 5) -> the test
    stack's case fails."""
    config = StackConfig(database_url="sqlite://", tracker_store_url="sqlite://", model=tmp_path / "none",
                         log_dir=tmp_path / "log", scheduler=scheduler, redis_url=redis_url)
    assert Stack(config)._env().get("ANSWER_SAVED_SECONDS") == every


def test_the_answer_saved_jobs_texts_link_a_long_answer_like_the_gateways():
    """The job's SMS courier had no TextLinks: a long answer to a saved text went in pieces."""
    from bot import sms
    from bot.config import Settings
    from bot.db import get_engine
    from bot.gateway import couriers

    settings = Settings(database_url="sqlite://", twilio_account_sid="AC" + "0" * 32, twilio_auth_token="t",
                        twilio_from_number="+15550000000", public_base_url="https://settle.example.com")
    out = couriers.couriers_outside_gateway(get_engine(settings.database_url), settings, None)
    courier = out.by_channel["sms"]
    assert isinstance(courier, sms.SmsCourier)
    assert courier.text_links == sms.text_links(settings)
