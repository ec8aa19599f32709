"""The records layer's session hooks, put on every SQLAlchemy session of the process by one explicit call at its
start: `register_flush_listeners()`. They seal each stored message and conversation event into the transcript
chain (REC-1, bot/records/transcript.py) and raise review flags (bot/records/flags.py), in the writer's transaction.

Called by every process that writes the app database: the gateway (bot/gateway/app.py create_app), the action
server (actions/__init__.py), the command line (bot/__main__.py), the benchmark (bench/run.py) and the tests
(tests/conftest.py). bot/db cannot register them itself (core does not import domain services), so it refuses any
write until this has run (bot.db.FlushListenersMissing) instead of storing a message with no transcript entry.
"""

from __future__ import annotations

from sqlalchemy import event
from sqlalchemy.orm import Session

from bot.db import mark_flush_listeners_registered
from bot.records import flags, transcript

# In this order: flags first, then the transcript seal (the order they have always run in).
_AFTER_FLUSH = (flags.raise_flags, transcript.seal)


def register_flush_listeners() -> None:
    """Put the records hooks on Session (every session, whatever its factory). Calling it again changes nothing."""
    for listener in _AFTER_FLUSH:
        if not event.contains(Session, "after_flush", listener):
            event.listen(Session, "after_flush", listener)
    mark_flush_listeners_registered()
