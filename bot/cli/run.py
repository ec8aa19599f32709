"""`python -m bot run`: migrate, load the demo portfolio, train if the data changed, and start everything."""

from __future__ import annotations

import argparse
import os
import signal
import sys
import time

from sqlalchemy import func, select

from bot.cli import check_policies
from bot.config import PROJECT_ROOT, Settings
from bot.db import get_engine, session_scope
from bot.db.migrate import upgrade
from bot.db.models import Account
from bot.portfolio_import import import_accounts
from bot.records import demo_history
from bot.stack import Stack, StackConfig
from bot.training import ensure_model

DEMO_PORTFOLIO = PROJECT_ROOT / "data" / "demo_portfolio.csv"


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("run", help="start Rasa, the action server and the gateway on embedded defaults")
    parser.add_argument("--port", type=int, default=int(os.environ.get("GATEWAY_PORT", "8000")))
    parser.add_argument("--no-demo", action="store_true", help="do not load the demo portfolio")
    parser.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    settings = Settings.from_env()
    policy_problems = check_policies.problems()
    if policy_problems:  # a bad policy file stops the start, with the field named
        for problem in policy_problems:
            print(f"settle: {problem}", file=sys.stderr)
        return 2
    upgrade(settings.database_url)
    engine = get_engine(settings.database_url)
    with session_scope(engine) as session:
        has_accounts = session.scalar(select(func.count(Account.id))) > 0
    # Only into an empty database: re-importing would put demo balances back and undo what happened since.
    if not args.no_demo and not has_accounts:
        result = import_accounts(engine, DEMO_PORTFOLIO)
        print(f"settle: demo portfolio loaded ({result.rows} accounts)")
        with session_scope(engine) as session:  # past conversations for the compliance console
            print(f"settle: demo history: {demo_history.seed(session)} conversations added")
    model = ensure_model()
    tracker = os.environ.get("TRACKER_STORE_URL") or f"sqlite:///{PROJECT_ROOT / 'var' / 'tracker.db'}"
    config = StackConfig(
        database_url=settings.database_url, tracker_store_url=tracker, model=model,
        log_dir=PROJECT_ROOT / "var" / "log", gateway_port=args.port,
        rasa_port=int(os.environ.get("RASA_PORT", "5005")),
        action_port=int(os.environ.get("ACTION_PORT", "5055")),
        rasa_token=settings.rasa_token or StackConfig.__dataclass_fields__["rasa_token"].default_factory(),
    )
    stack = Stack(config)
    print("settle: starting the action server, Rasa and the gateway (Rasa takes ~30 s to load)...")
    stack.start()
    print(f"""
settle is running. The gateway is at {config.gateway_url} (logs in var/log/).
  Chat in this terminal:   .venv-app/bin/python -m bot chat
  Or over HTTP:            curl -s {config.gateway_url}/webhooks/rest/webhook \\
                             -H 'content-type: application/json' -d '{{"sender":"me","message":"what do I owe?"}}'
  Demo debtors: SET-100001, born 03/14/1979, SSN last four 1234 (balance);
                SET-100026, born 05/20/1983, SSN last four 2468 (try "I can pay $150 a month").
Press Ctrl-C to stop.""")
    stopping = False

    def _stop(*_: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, _stop)
    try:
        while not stopping:
            for name, process in stack.processes.items():
                if process.poll() is not None:
                    print(f"settle: {name} stopped unexpectedly (exit {process.returncode}); see var/log/{name}.log")
                    stopping = True
            time.sleep(1)
    except KeyboardInterrupt:
        pass
    finally:
        print("settle: stopping")
        stack.stop()
    return 0
