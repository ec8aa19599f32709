"""`--now ISO` for commands that act at a given time: an ISO time with its offset ("Z" accepted); a bare time
would be ambiguous across the debtors' time zones."""

from __future__ import annotations

import argparse
from datetime import datetime, timezone


def parse_now(value: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO date and time: {value!r}") from None
    if parsed.tzinfo is None:
        raise argparse.ArgumentTypeError(f"give a time zone offset, e.g. {value}-05:00 or {value}Z")
    return parsed.astimezone(timezone.utc)
