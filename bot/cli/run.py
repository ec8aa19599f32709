"""`python -m bot run`: migrate, load the demo portfolio, train if the data changed, and start everything.

`--production` starts the production topology on this machine: PostgreSQL for the app and the tracker store,
Redis for Rasa's lock store and the gateway's live hub, `--rasa-instances` Rasa servers with each conversation
pinned to one, and a gateway with `--gateway-workers` workers (bot/production.py, bot/stack.py)."""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
import time
from pathlib import Path

from bot.cli import check_policies
from bot.config import PROJECT_ROOT, Settings
from bot.db import get_engine
from bot.db.migrate import upgrade
from bot.demo import load
from bot.logging_setup import PRIVATE_UMASK, make_private
from bot.production import ProductionSetupError, prepare, urls_from_env
from bot.stack import Stack, StackConfig, StackError
from bot.training import ensure_model


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("run", help="start Rasa, the action server and the gateway on embedded defaults")
    # No default read here: the parser is built before .env is loaded (bot/__main__.py); GATEWAY_PORT is read in handle.
    parser.add_argument("--port", type=int, default=None, help="the gateway's port (default: GATEWAY_PORT or 8000)")
    parser.add_argument("--no-demo", action="store_true", help="do not load the demo portfolio")
    parser.add_argument("--production", action="store_true",
                        help="PostgreSQL (DATABASE_URL, TRACKER_STORE_URL) and Redis (REDIS_URL), several Rasa "
                             "instances and gateway workers; the databases are created if missing")
    parser.add_argument("--rasa-instances", type=int, default=None,
                        help="Rasa servers with --production (default 2; ports RASA_PORT, RASA_PORT+1, ...)")
    parser.add_argument("--gateway-workers", type=int, default=None,
                        help="gateway worker processes with --production (default 2)")
    parser.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    # var/ holds the databases (identity answers, transcripts), secrets and logs: everything created from here on,
    # by this process or the ones it starts, is owner-only, and what an older version left 0644 is tightened.
    os.umask(PRIVATE_UMASK)
    make_private(PROJECT_ROOT / "var")
    settings = Settings.from_env()
    policy_problems = check_policies.problems()
    if policy_problems:  # a bad policy file stops the start, with the field named
        for problem in policy_problems:
            print(f"settle: {problem}", file=sys.stderr)
        return 2
    if not args.production and (args.rasa_instances or args.gateway_workers):
        print("settle: --rasa-instances and --gateway-workers need --production (Redis and PostgreSQL)",
              file=sys.stderr)
        return 2
    redis_url: str | None = None
    database_url = settings.database_url
    tracker = os.environ.get("TRACKER_STORE_URL") or f"sqlite:///{PROJECT_ROOT / 'var' / 'tracker.db'}"
    if args.production:
        urls = urls_from_env()
        try:
            for done in prepare(urls):
                print(f"settle: {done}")
        except ProductionSetupError as exc:
            print(f"settle: {exc}", file=sys.stderr)
            return 2
        database_url, tracker, redis_url = urls.database_url, urls.tracker_store_url, urls.redis_url
    upgrade(database_url)
    loaded = None if args.no_demo else load(get_engine(database_url))  # only into a database without accounts
    if loaded is not None:
        print(f"settle: demo portfolio loaded ({loaded.accounts} accounts)")
        print(f"settle: demo history: {loaded.history_conversations} conversations added")
    model = ensure_model()
    mode = "production" if args.production else (settings.mode if os.environ.get("SETTLE_MODE") else "embedded")
    config = StackConfig(
        database_url=database_url, tracker_store_url=tracker, model=model,
        log_dir=PROJECT_ROOT / "var" / "log", gateway_port=args.port or int(os.environ.get("GATEWAY_PORT") or "8000"),
        rasa_port=int(os.environ.get("RASA_PORT", "5005")),
        action_port=int(os.environ.get("ACTION_PORT", "5055")),
        rasa_token=settings.rasa_token or StackConfig.__dataclass_fields__["rasa_token"].default_factory(),
        redis_url=redis_url,
        # The embedded demo (`make run`) unless SETTLE_MODE says otherwise; the production topology always runs in
        # production mode: no demo phone, the REST channel only with REST_API_TOKEN (README "Security").
        mode=mode,
        rest_api_token=settings.rest_api_token,
        rasa_instances=(args.rasa_instances or 2) if args.production else 1,
        gateway_workers=(args.gateway_workers or 2) if args.production else 1,
        # The stand-in remembers the customers and cards this database refers to across restarts, as Stripe would.
        stripe_state=standin_state_path(),
        # No SMTP_URL in the embedded demo: a local mail server on loopback, read at /mailbox (README "Email").
        local_mail=mode == "embedded" and not settings.smtp_url,
        mail_port=int(os.environ.get("LOCAL_SMTP_PORT", "2525")),
        stripe_port=settings.stripe_standin_port,  # two stacks side by side each need their own
        scheduler=True,  # reminders, autopay, retention and due campaigns happen on their own (README "Operations")
        **({"schedule": os.environ["SCHEDULE"]} if os.environ.get("SCHEDULE", "").strip() else {}),
    )
    stack = Stack(config)
    if args.production:
        print(f"settle: production topology: {config.rasa_instances} Rasa instances "
              f"({', '.join(config.rasa_urls)}), {config.gateway_workers} gateway workers, Redis at {redis_url}")
    print("settle: starting the action server, Rasa and the gateway (Rasa takes ~30 s to load)...")
    stack.start()
    if config.settle_mode != "embedded" and not settings.rest_api_token:
        print("settle: production mode: the REST channel is off (set REST_API_TOKEN to use it) and there is no "
              "demo phone")
    print(f"""
settle is running. The gateway is at {config.gateway_url} (logs in var/log/).
  Chat in this terminal:   .venv-app/bin/python -m bot chat
  Or over HTTP:            curl -s {config.gateway_url}/webhooks/rest/webhook \\
                             -H 'content-type: application/json' -d '{{"sender":"me","message":"what do I owe?"}}'
  Emails Settle sends:     {config.gateway_url}/mailbox{"" if config.local_mail else " (off: SMTP_URL is set)"}
  Demo debtors: SET-100001, born 03/14/1979, SSN last four 1234 (balance);
                SET-100026, born 05/20/1983, SSN last four 2468 (try "I can pay $150 a month");
                SET-100014, born 11/11/1987, SSN last four 2233 (try "this isn't mine"). README: Walkthroughs.
Press Ctrl-C to stop.""")
    stopping = False

    def _stop(*_: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, _stop)
    restarting: dict[str, threading.Thread] = {}
    try:
        while not stopping:
            for name, process in list(stack.processes.items()):
                if process.poll() is None or (name in restarting and restarting[name].is_alive()):
                    continue
                print(f"settle: {name} stopped unexpectedly (exit {process.returncode}); see var/log/{name}.log")
                if len(config.rasa_names) > 1 and name in config.rasa_names:
                    # One of several Rasa instances: the others serve its conversations (the gateway fails them
                    # over) while it is started again; they move back once it answers.
                    print(f"settle: restarting {name}; the other Rasa instances serve its conversations meanwhile")
                    restarting[name] = threading.Thread(target=_restart, args=(stack, name), daemon=True)
                    restarting[name].start()
                else:
                    stopping = True
            time.sleep(1)
    except KeyboardInterrupt:
        pass
    finally:
        print("settle: stopping")
        stack.stop()
    return 0


def standin_state_path() -> Path:
    """Where the Stripe stand-in keeps its objects: STRIPE_STANDIN_STATE, else var/stripe-standin.db."""
    named = os.environ.get("STRIPE_STANDIN_STATE", "").strip()
    return Path(named).expanduser().absolute() if named else PROJECT_ROOT / "var" / "stripe-standin.db"


def _restart(stack: Stack, name: str) -> None:
    try:
        stack.start_one(name)
        print(f"settle: {name} is back")
    except StackError as exc:
        print(f"settle: {name} did not come back: {exc}", file=sys.stderr)
