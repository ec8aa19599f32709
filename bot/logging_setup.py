"""The one logging configuration of Settle's processes (issue 18): every handler redacts, files are owner-only.

- ``redact_text(text)``: card numbers, their expiry and CVV, and SSNs (bot/compliance/redaction.py, PCI-2), and
  dates of birth (a date whose year is at least ADULT_YEARS ago: a debtor's answer, never a timestamp or a due
  date) replaced by "[REDACTED]".
- ``RedactingFilter``: on every handler. It formats the record first (message with its arguments, the exception's
  traceback, the stack), then redacts the result, so neither a card number passed as an argument nor one inside an
  exception's text (SQLAlchemy puts a failed statement's parameters there) reaches a handler.
- ``RedactingFormatter``: redacts the finished line again (anything a format string adds).
- ``logging_config(level, log_file, fmt)``: the dictConfig for the gateway (uvicorn takes it as ``log_config``, so
  its own loggers go through the same handler) and for ``configure``; ``fmt="json"`` writes one JSON object a line
  (``JsonFormatter``: timestamp, level, logger, message, and request_id / conversation_id when known), the gateway's
  default (bot/gateway/serve.py).
- ``request_id_var``, ``conversation_id_var`` and ``action_var``: the context variables the JSON lines read those
  from; the gateway's middleware sets the first for each request (bot/gateway/ops_routes.py), the pipeline the
  second; the action server all three for each action call (its sender_id and next_action: actions/__main__.py).
- ``configure(level, log_file)``: applies it in this process, and sends uncaught exceptions (main thread and
  others) through logging too, so they are redacted like the rest.
- ``PrivateRotatingFileHandler``: a RotatingFileHandler whose files are created 0600.
- ``PRIVATE_UMASK`` and ``make_private(path)``: what `run` and the stack use so that databases and logs are
  created owner-only, and files an older version left world-readable are tightened.
"""

from __future__ import annotations

import json
import logging
import logging.config
import logging.handlers
import os
import re
import sys
import threading
from contextvars import ContextVar
from datetime import date, datetime, timezone
from pathlib import Path
from types import TracebackType
from typing import Any

from bot.compliance import redaction

REDACTED = redaction.REDACTED
PRIVATE_UMASK = 0o077  # files 0600, directories 0700
LOG_MAX_BYTES = 10 * 1024 * 1024
LOG_BACKUPS = 5
FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
ADULT_YEARS = 13  # a date at least this many years ago is taken for a date of birth

_MONTHS = (r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sept?(?:ember)?|"
           r"oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?")
_DAY = r"\d{1,2}(?:st|nd|rd|th)?"
_DOB_PATTERNS = (
    re.compile(r"(?<!\d)(?P<year>\d{4})[-/.]\d{1,2}[-/.]\d{1,2}(?!\d)"),  # 1979-03-14
    re.compile(r"(?<!\d)\d{1,2}[-/.]\d{1,2}[-/.](?P<year>\d{4}|\d{2})(?!\d)"),  # 03/14/1979, 3-14-79
    re.compile(rf"\b{_MONTHS}\s+{_DAY},?\s+(?:of\s+)?(?P<year>\d{{4}}|\d{{2}})\b", re.I),  # March 14 1979
    re.compile(rf"\b{_DAY}\s+(?:of\s+)?{_MONTHS},?\s+(?P<year>\d{{4}}|\d{{2}})\b", re.I),  # 14 March 1979
    re.compile(r"(?<!\d)(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])(?P<year>(?:19|20)\d{2})(?!\d)"),  # 03141979
)


def _birth_year(year: str) -> bool:
    if len(year) == 2:
        return True  # "3/14/79": short years are how people type their birthday; logs never use them
    return 1900 <= int(year) <= date.today().year - ADULT_YEARS


def redact_dates_of_birth(text: str) -> str:
    for pattern in _DOB_PATTERNS:
        text = pattern.sub(lambda m: REDACTED if _birth_year(m.group("year")) else m.group(0), text)
    return text


def redact_text(text: str) -> str:
    """``text`` with card numbers (and their expiry and CVV), SSNs and dates of birth replaced by [REDACTED]."""
    if not text:
        return text
    return redact_dates_of_birth(redaction.redact(text).text)


# --- a number split over two lines of a child process's output (bot/stack.py) ----------------------------------

# What a wrapped card number or SSN may end or begin a line with: digits and the separators redaction accepts.
_NUMBERISH = "0123456789 \t./_-"
MAX_JOINED_CHARS = 120  # of each side of a line break: a card number with separators, an SSN, with room to spare
MAX_HELD_LINES = 4  # "4242\n4242\n4242\n4242": a number over at most this many lines is still caught
# A line that opens a new log record (its timestamp) continues nothing: never joined to the line before.
_RECORD_START = re.compile(r"\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}")


def _tail_start(line: str) -> int:
    """Where the trailing run of digits and separators begins (len(line) if the line ends in none)."""
    start = max(len(line.rstrip(_NUMBERISH)), len(line) - MAX_JOINED_CHARS)
    digits = [i for i in range(start, len(line)) if line[i].isdigit()]
    return digits[0] if digits else len(line)  # from its first digit: "card 4242" keeps its space


def _head_end(line: str) -> int:
    """Where the leading run of digits and separators ends (0 if the line begins with none)."""
    end = min(len(line) - len(line.lstrip(_NUMBERISH)), MAX_JOINED_CHARS)
    if _RECORD_START.match(line):
        return 0
    digits = [i for i in range(end) if line[i].isdigit()]
    return digits[-1] + 1 if digits else 0


class LineRedactor:
    """Redacts a stream of lines, each on its own and across line breaks: a card number or an SSN printed over
    two or more lines ("4242 4242" then "4242 4242", "123-45-" then "6789", a wrapped repr) is caught whole.

    ``feed(line)`` returns the lines ready to write, redacted. A line that ends in digits is held back until the
    next line shows whether it continues the number (then both are checked joined); every other line goes out
    at once. ``flush()`` gives back what is held (the caller's timer: a held line waits a moment, not forever)."""

    def __init__(self) -> None:
        # Not yet written, each redacted on its own: a line ending in digits, then the lines that are nothing but
        # digits and separators after it (the number may still go on).
        self.held: list[str] = []

    def feed(self, line: str) -> list[str]:
        line = redact_text(line)
        if self.held and _head_end(line):  # it goes on from the held line's digits
            self.held.append(line)
            if _head_end(line) == len(line) and len(self.held) < MAX_HELD_LINES:
                return []
            out = self._checked()
            # Its own tail may begin another number, finished on the next line.
            return out[:-1] + self._hold_or_pass(out[-1])
        return self.flush() + self._hold_or_pass(line)

    def flush(self) -> list[str]:
        """What is held, checked across its breaks; nothing is held after."""
        return self._checked() if self.held else []

    def _hold_or_pass(self, line: str) -> list[str]:
        if _tail_start(line) < len(line):
            self.held = [line]
            return []
        return [line]

    def _checked(self) -> list[str]:
        """The held lines (emptied): the first's tail, the middle lines and the last's head joined without the
        breaks; if that holds a card number or an SSN, every part of it is redacted."""
        held, self.held = self.held, []
        if len(held) < 2:
            return held
        first, *middle, last = held
        tail, head = _tail_start(first), _head_end(last)
        parts = [first[tail:], *middle, last[:head]]
        # Joined as the break was made: inside a group ("123-45-" "6789") or in place of a space ("123" "45-6789").
        if any(redaction.redact(glue.join(parts)).kinds for glue in ("", " ")):
            return [first[:tail] + REDACTED, *[REDACTED for _ in middle], REDACTED + last[head:]]
        return held


_TRACEBACKS = logging.Formatter()


class RedactingFilter(logging.Filter):
    """Formats, then redacts, each record's message, traceback and stack before any handler sees them."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "_settle_redacted", False):
            return True
        try:
            message = record.getMessage()
        except Exception:  # a bad format string must not hide what was logged, nor stop the log
            message = f"{record.msg!r} {record.args!r}"
        if record.name == "uvicorn.access" and isinstance(record.args, tuple):
            # uvicorn's access formatter unpacks its arguments (client, method, path, version, status).
            record.args = tuple(redact_text(a) if isinstance(a, str) else a for a in record.args)
        else:
            record.msg, record.args = redact_text(message), None
        if record.exc_info and record.exc_info[0] is not None:
            record.exc_text = redact_text(_TRACEBACKS.formatException(record.exc_info))
        elif record.exc_text:
            record.exc_text = redact_text(record.exc_text)
        if record.stack_info:
            record.stack_info = redact_text(record.stack_info)
        record._settle_redacted = True
        return True


class RedactingFormatter(logging.Formatter):
    """The finished line, redacted once more (whatever a format string or a handler's own formatter added)."""

    def format(self, record: logging.LogRecord) -> str:
        return redact_text(super().format(record))


request_id_var: ContextVar[str | None] = ContextVar("settle_request_id", default=None)
conversation_id_var: ContextVar[str | None] = ContextVar("settle_conversation_id", default=None)
action_var: ContextVar[str | None] = ContextVar("settle_action", default=None)


class JsonFormatter(logging.Formatter):
    """One JSON object a line: timestamp (UTC, ISO 8601), level, logger, message, the request and conversation ids
    and the action being run where known (context variables), and the traceback as one string. Built from what
    RedactingFilter left (message and traceback redacted), and the finished line redacted once more, as
    RedactingFormatter does."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "timestamp": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id, conversation_id = request_id_var.get(), conversation_id_var.get()
        if request_id:
            line["request_id"] = request_id
        if conversation_id:
            line["conversation_id"] = conversation_id
        action = action_var.get()
        if action:
            line["action"] = action
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            line["exception"] = record.exc_text
        if record.stack_info:
            line["stack"] = record.stack_info
        return redact_text(json.dumps(line, ensure_ascii=False, default=str))


class PrivateRotatingFileHandler(logging.handlers.RotatingFileHandler):
    """Rotates at LOG_MAX_BYTES keeping LOG_BACKUPS files; every file it creates is 0600, whatever the umask."""

    def __init__(self, filename: str | os.PathLike[str], maxBytes: int = LOG_MAX_BYTES,  # noqa: N803 - stdlib names
                 backupCount: int = LOG_BACKUPS, fmt: str = FORMAT) -> None:  # noqa: N803
        Path(filename).parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        super().__init__(filename, maxBytes=maxBytes, backupCount=backupCount, encoding="utf-8", delay=False)
        self.addFilter(RedactingFilter())
        self.setFormatter(RedactingFormatter(fmt))

    def _open(self):  # type: ignore[no-untyped-def]
        fd = os.open(self.baseFilename, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        os.chmod(self.baseFilename, 0o600)  # a file an older version created 0644
        return os.fdopen(fd, "a", encoding=self.encoding, errors="backslashreplace")


FORMATTERS = {"text": {"()": "bot.logging_setup.RedactingFormatter", "format": FORMAT},
              "json": {"()": "bot.logging_setup.JsonFormatter"}}


def logging_config(level: str = "INFO", log_file: str | os.PathLike[str] | None = None,
                   fmt: str = "text") -> dict[str, Any]:
    """One handler (stderr, or a private rotating file), the redacting filter and formatter (`fmt`: "text" or
    "json") on it, and every logger, uvicorn's included, propagating to it."""
    if fmt not in FORMATTERS:
        raise ValueError(f"log format must be one of {', '.join(FORMATTERS)} (got {fmt!r})")
    if log_file is None:
        handler: dict[str, Any] = {"class": "logging.StreamHandler", "stream": "ext://sys.stderr"}
    else:
        handler = {"()": "bot.logging_setup.PrivateRotatingFileHandler", "filename": str(log_file)}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"redact": {"()": "bot.logging_setup.RedactingFilter"}},
        "formatters": {"redacted": FORMATTERS[fmt]},
        "handlers": {"main": {**handler, "filters": ["redact"], "formatter": "redacted"}},
        "root": {"level": level, "handlers": ["main"]},
        # uvicorn's loggers have handlers of their own by default; here they have none and propagate to "main".
        "loggers": {name: {"level": level, "handlers": [], "propagate": True}
                    for name in ("uvicorn", "uvicorn.error", "uvicorn.access", "settle")},
    }


def configure(level: str = "INFO", log_file: str | os.PathLike[str] | None = None) -> None:
    logging.config.dictConfig(logging_config(level, log_file))
    install_excepthooks()


def install_excepthooks() -> None:
    """Uncaught exceptions (main thread and others) are logged, so redacted, instead of printed raw to stderr."""
    def main_hook(kind: type[BaseException], value: BaseException, tb: TracebackType | None) -> None:
        if issubclass(kind, KeyboardInterrupt):
            sys.__excepthook__(kind, value, tb)
            return
        logging.getLogger("settle").critical("uncaught exception", exc_info=(kind, value, tb))

    def thread_hook(args: threading.ExceptHookArgs) -> None:
        if args.exc_type is SystemExit:
            return
        logging.getLogger("settle").error("uncaught exception in thread %s", getattr(args.thread, "name", "?"),
                                          exc_info=(args.exc_type, args.exc_value, args.exc_traceback))

    sys.excepthook = main_hook
    threading.excepthook = thread_hook


def make_private(directory: Path) -> None:
    """Owner-only: ``directory`` (0700) and every file under it (0600). For var/, whose databases, secrets and logs
    hold identity answers; files an older version created 0644 are tightened at start."""
    if not directory.exists():
        return
    os.chmod(directory, 0o700)
    for path in directory.rglob("*"):
        try:
            if path.is_symlink():
                continue
            os.chmod(path, 0o700 if path.is_dir() else 0o600)
        except OSError:
            pass  # another user's file, or gone since: nothing to tighten here
