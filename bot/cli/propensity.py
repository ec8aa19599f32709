"""`python -m bot propensity train|show`: learn propensity to pay from Settle's own history (bot/propensity.py) and
print how good the model is: cross-validated AUC, calibration (Brier score and a reliability table) and the
features that drive it. `train` exits 2, storing nothing, when there is too little history; `show` prints the
stored model (exit 1 when there is none)."""

from __future__ import annotations

import argparse
import sys
from datetime import datetime, timedelta, timezone

from bot import propensity
from bot.config import Settings
from bot.db import get_engine, session_scope
from bot.db.models import PropensityModel


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("propensity", help="train or show the propensity-to-pay model")
    actions = parser.add_subparsers(dest="action", required=True)
    train = actions.add_parser("train", help="learn from the payment history and store the model")
    train.add_argument("--horizon-days", type=int, default=propensity.HORIZON.days,
                       help="a payment within this many days after the snapshot counts as paying (default 30)")
    train.add_argument("--min-accounts", type=int, default=propensity.MIN_ACCOUNTS,
                       help=f"refuse with fewer accounts than this (default {propensity.MIN_ACCOUNTS})")
    train.add_argument("--now", type=datetime.fromisoformat, default=None,
                       help="train as of this time (ISO, with a zone; default now)")
    actions.add_parser("show", help="print the stored model's version, date and evaluation")
    parser.set_defaults(handler=handle)


def render(model: PropensityModel) -> str:
    report = model.report
    lines = [
        f"Propensity model {model.version}, trained {model.trained_at:%Y-%m-%d %H:%M} UTC on {model.accounts} "
        f"accounts ({model.positives} paid within {model.horizon_days} days of {model.history_as_of:%Y-%m-%d}; "
        f"base rate {report['base_rate']:.1%})",
        f"Cross-validated AUC: {model.cv_auc:.3f} ({propensity.CV_FOLDS} folds; 0.5 is a coin toss, 1.0 perfect)",
        f"Brier score: {model.brier:.4f} (lower is better; predicting the base rate for everyone scores "
        f"{report['base_rate'] * (1 - report['base_rate']):.4f})",
        "Reliability (out-of-fold: accounts grouped by predicted probability):",
        f"  {'predicted':>9} {'paid':>7} {'accounts':>9}",
    ]
    lines += [f"  {row['predicted']:>9.1%} {row['observed']:>7.1%} {row['accounts']:>9}"
              for row in report["reliability"]]
    lines += ["What drives it (AUC lost when the feature is shuffled):"]
    lines += [f"  {d['feature']:<26} {d['importance']:>7.4f}  {d['direction']}" for d in report["drivers"]]
    lines += ["Not used, on purpose: " + ", ".join(report["excluded"]) + " (README \"Propensity to pay\")"]
    return "\n".join(lines)


def handle(args: argparse.Namespace) -> int:
    engine = get_engine(Settings.from_env().database_url)
    if args.action == "show":
        with session_scope(engine) as session:
            model = propensity.current(session)
            if model is None:
                print("No propensity model yet: run `python -m bot propensity train`. Until then outreach and the "
                      "agents' queue are ordered by segment priority (segments.yml).", file=sys.stderr)
                return 1
            print(render(model))
        return 0
    now = args.now or datetime.now(timezone.utc)
    if now.tzinfo is None or args.horizon_days < 1 or args.min_accounts < 1:
        print("error: --now needs a time zone; --horizon-days and --min-accounts must be 1 or more", file=sys.stderr)
        return 2
    try:
        with session_scope(engine) as session:
            model = propensity.train(session, now, horizon=timedelta(days=args.horizon_days),
                                     min_accounts=args.min_accounts)
            print(render(model))
    except propensity.NotEnoughHistory as exc:
        print(str(exc), file=sys.stderr)
        with session_scope(engine) as session:
            propensity.record_refusal(session, exc, now)
        return 2
    return 0
