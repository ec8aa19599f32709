"""`python -m bot chat`: talk to a running gateway from the terminal, as a debtor would."""

from __future__ import annotations

import argparse
import os
import secrets

import httpx

from bot.config import Settings


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("chat", help="chat with the running bot in this terminal")
    # Read in handle, once .env is loaded (bot/__main__.py builds the parser first).
    parser.add_argument("--url", default=None, help="the gateway (default: http://127.0.0.1:GATEWAY_PORT, 8000)")
    parser.add_argument("--sender", default=f"terminal-{secrets.token_hex(4)}")
    parser.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    args.url = args.url or f"http://127.0.0.1:{os.environ.get('GATEWAY_PORT') or '8000'}"
    print("Type a message (Ctrl-D to quit). Try: what do I owe?")
    # The REST channel needs REST_API_TOKEN when one is set (always in production mode; README "Security").
    token = Settings.from_env().rest_api_token
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    with httpx.Client(base_url=args.url, timeout=60, headers=headers) as client:
        while True:
            try:
                text = input("you> ")
            except EOFError:
                print()
                return 0
            try:
                response = client.post("/webhooks/rest/webhook", json={"sender": args.sender, "message": text})
            except httpx.HTTPError as exc:
                print(f"(could not reach the gateway at {args.url}: {exc}; is `make run` running?)")
                continue
            if response.status_code != 200:
                print(f"(the gateway answered {response.status_code}: {response.text[:200]})")
                continue
            for reply in response.json():
                print(f"bot> {reply.get('text', '')}")
                for i, button in enumerate(reply.get("buttons") or [], start=1):
                    print(f"     {i}. {button.get('title')}")
