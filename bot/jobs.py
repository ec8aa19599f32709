"""Runs of the scheduled jobs (`send-reminders`, `charge-installments`, `purge`, `run-campaign`, `answer-saved`:
CronJobs in deploy/k8s, timers elsewhere). Each run is a row (JobRun) written by the command line around the job, so
/metrics can report how often each ran and how it ended, whatever host or pod ran it (settle_job_runs_total,
bot/metrics.py)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from bot.db import session_scope
from bot.db.models import JobRun

JOBS = frozenset({"send-reminders", "charge-installments", "purge", "run-campaign", "answer-saved"})
RUNNING, OK, FAILED = "running", "ok", "failed"


class JobOutcome:
    """What the job says about its run: its exit code (0 is a success), set before the block ends."""

    def __init__(self) -> None:
        self.exit_code = 0


@contextmanager
def recorded(engine: Engine, job: str) -> Iterator[JobOutcome]:
    """Record one run of `job`: a row when it starts, its outcome when it ends (failed on a non-zero exit code or an
    exception, which goes on up)."""
    with session_scope(engine) as session:
        run = JobRun(job=job, outcome=RUNNING)
        session.add(run)
        session.flush()
        run_id = run.id
    outcome = JobOutcome()
    try:
        yield outcome
    except BaseException:
        _finish(engine, run_id, FAILED, None)
        raise
    _finish(engine, run_id, OK if outcome.exit_code == 0 else FAILED, outcome.exit_code)


def _finish(engine: Engine, run_id: int, result: str, exit_code: int | None) -> None:
    with session_scope(engine) as session:
        run = session.get(JobRun, run_id)
        run.outcome, run.exit_code, run.finished_at = result, exit_code, datetime.now(timezone.utc)


@dataclass(frozen=True)
class RunCount:
    job: str
    outcome: str
    runs: int
    last_started_at: datetime


def run_counts(session: Session) -> list[RunCount]:
    """How many runs each job had, by outcome (running, ok, failed), and when the latest of each began."""
    rows = session.execute(select(JobRun.job, JobRun.outcome, func.count(), func.max(JobRun.started_at))
                           .group_by(JobRun.job, JobRun.outcome).order_by(JobRun.job, JobRun.outcome)).all()
    return [RunCount(job, outcome, runs, last) for job, outcome, runs, last in rows]
