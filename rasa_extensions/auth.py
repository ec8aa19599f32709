"""Rasa's API token, read from the environment or a file, never from the command line.

`python -m rasa_extensions run ...` (bot/stack.py) takes the token from RASA_TOKEN, or from the file RASA_TOKEN_FILE
names, and hands it to Rasa's `run` as `--auth-token` inside the process (sys.argv), so it never appears in
/proc/<pid>/cmdline or `ps`. Rasa's HTTP API checks it as usual; Settle's channel (settle_channel.py) checks the
same token, so a local process without it cannot drive a conversation past the gateway's gates.
"""

from __future__ import annotations

import hmac
import os
from pathlib import Path


def api_token() -> str:
    value = os.environ.get("RASA_TOKEN", "").strip()
    path = os.environ.get("RASA_TOKEN_FILE", "").strip()
    if not value and path:
        value = Path(path).read_text().strip()
    return value


def with_token(argv: list[str], token: str) -> list[str]:
    """`rasa run ...` with `--auth-token=<token>` added (one argument: a token may start with "-"), unless the
    command line names one already or is not `run`."""
    if not token or len(argv) < 2 or argv[1] != "run" or any(
            a == "--auth-token" or a.startswith("--auth-token=") for a in argv):
        return argv
    return [*argv, f"--auth-token={token}"]


def authorised(authorization: str | None, query_token: str | None, token: str) -> bool:
    """`Authorization: Bearer <token>` or Rasa's own `?token=<token>`, compared in constant time. Without a
    configured token nothing is authorised: the channel fails closed."""
    if not token:
        return False
    scheme, _, given = (authorization or "").partition(" ")
    if scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), token.encode()):
        return True
    return query_token is not None and hmac.compare_digest(query_token.encode(), token.encode())
