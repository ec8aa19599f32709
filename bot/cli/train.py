"""`python -m bot train`: train the Rasa model if config, domain or data changed; prints the model path."""

from __future__ import annotations

import argparse

from bot.training import ensure_model


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("train", help="train the Rasa model when its inputs changed")
    parser.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    print(ensure_model())
    return 0
