"""Issue 18, items 1 and 8: one logging configuration, redacting on every handler (tracebacks included), files
owner-only and rotated. Each test names the mutation that was tried against it."""

from __future__ import annotations

import io
import logging
import os
import re
import stat
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from bot.config import PROJECT_ROOT
from bot.logging_setup import (
    LOG_BACKUPS,
    LineRedactor,
    PrivateRotatingFileHandler,
    RedactingFilter,
    RedactingFormatter,
    logging_config,
    make_private,
    redact_text,
)
from bot.stack import Stack, StackConfig
from tests.conftest import free_port

CARD = "4242 4242 4242 4242"
SSN = "123-45-6789"
SECRETS = re.compile(r"4242|6789|1979")  # no digit group of the card, the SSN or the birth year may survive
# A running process's output also holds random ports (42423), pids and hex ids, which may contain those digits: there,
# only a whole group counts, after the pid is dropped.
_WHOLE_GROUP = re.compile(r"(?<!\w)(?:4242|6789|1979)(?!\w)")
_PROCESS_ID = re.compile(r"process \[\d+\]")


def _leak_in_process_output(text: str) -> re.Match | None:
    return _WHOLE_GROUP.search(_PROCESS_ID.sub("process [pid]", text))


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.parametrize("text", [f"card {CARD} ok", f"ssn {SSN}", "born 03/14/1979", "dob 3-14-79",
                                  "March 14, 1979", "14th of march 1979", "1979-03-14", "03141979"])
def test_card_numbers_ssns_and_dates_of_birth_are_redacted(text):
    """Mutation: redact_text without redact_dates_of_birth -> the DOB cases keep 1979 (or 79)."""
    redacted = redact_text(text)
    assert "[REDACTED]" in redacted and not SECRETS.search(redacted) and "3-14-79" not in redacted


def test_timestamps_and_due_dates_are_kept():
    """Mutation: _birth_year always True -> the log's own timestamp and a due date are redacted."""
    this_year = time.strftime("%Y")
    line = f"{this_year}-01-02 10:00:00,123 WARNING settle: installment due {this_year}-02-01 for SET-100001"
    assert redact_text(line) == line


def _logger(stream: io.StringIO) -> logging.Logger:
    logger = logging.getLogger(f"settle.test.{id(stream)}")
    logger.propagate = False
    handler = logging.StreamHandler(stream)
    handler.addFilter(RedactingFilter())
    handler.setFormatter(logging.Formatter("%(message)s"))  # a plain formatter: the filter alone must do it
    logger.addHandler(handler)
    return logger


def test_the_filter_redacts_arguments_exception_text_and_tracebacks():
    """Mutation: RedactingFilter leaving exc_text alone (or redacting msg before applying args) -> the card number
    in the exception's message (or in an argument) reaches the stream."""
    stream = io.StringIO()
    logger = _logger(stream)
    logger.warning("message from %s: %s", "web-1", f"{CARD} and {SSN}")
    try:
        raise RuntimeError(f"[parameters: ('rest', '{CARD}', 'born 03/14/1979')]")
    except RuntimeError:
        logger.exception("request failed for %s", CARD)
    logger.warning("split %s %s", "4242 4242", "4242 4242")  # a number that only exists once formatted
    output = stream.getvalue()
    assert "RuntimeError" in output and "Traceback" in output
    assert not SECRETS.search(output), output


def test_the_dict_config_puts_the_filter_and_formatter_on_its_handler_and_uvicorns_loggers_use_it():
    """Mutation: logging_config without "filters": ["redact"] on the handler -> the check below fails."""
    config = logging_config("WARNING")
    assert config["handlers"]["main"]["filters"] == ["redact"]
    assert config["formatters"]["redacted"]["()"] == "bot.logging_setup.RedactingFormatter"
    assert all(config["loggers"][name] == {"level": "WARNING", "handlers": [], "propagate": True}
               for name in ("uvicorn", "uvicorn.error", "uvicorn.access"))


def test_log_files_are_0600_even_under_a_permissive_umask_and_rotate(tmp_path):
    """Mutation: PrivateRotatingFileHandler without its _open (the stdlib's) -> 0666 & ~umask = 0666 here."""
    old = os.umask(0)
    try:
        handler = PrivateRotatingFileHandler(tmp_path / "log" / "gateway.log", maxBytes=200, backupCount=LOG_BACKUPS)
        for i in range(20):
            handler.handle(logging.LogRecord("x", logging.WARNING, "", 0, f"line {i} {CARD} " + "x" * 40, None, None))
        handler.close()
    finally:
        os.umask(old)
    files = sorted((tmp_path / "log").iterdir())
    assert len(files) == 1 + LOG_BACKUPS  # rotated, and no more backups than configured
    assert all(_mode(f) == 0o600 for f in files), [(f.name, oct(_mode(f))) for f in files]
    assert not any("4242" in f.read_text() for f in files)


def test_make_private_tightens_what_an_older_version_left_world_readable(tmp_path):
    """Mutation: make_private skipping files -> settle.db stays 0644."""
    var = tmp_path / "var"
    (var / "log").mkdir(parents=True)
    for path in (var / "settle.db", var / "tracker.db", var / "log" / "gateway.log"):
        path.write_text("x")
        path.chmod(0o644)
    make_private(var)
    assert _mode(var) == 0o700 and _mode(var / "log") == 0o700
    assert {_mode(p) for p in var.rglob("*") if p.is_file()} == {0o600}


def test_the_stack_writes_each_process_log_redacted_and_owner_only(tmp_path):
    """Mutation: Stack._spawn writing stdout straight to the file again (stdout=open(...)) -> the card is in it,
    and the file is 0644; without umask=PRIVATE_UMASK the file the child creates is 0644."""
    config = StackConfig(database_url="sqlite://", tracker_store_url="sqlite://", model=tmp_path / "none",
                         log_dir=tmp_path / "log")
    stack = Stack(config)
    made = tmp_path / "made-by-child.db"
    script = (f"import sys; print('user said {CARD} {SSN} born 03/14/1979'); "
              f"open({str(made)!r}, 'w').write('x'); sys.stderr.write('boom {CARD}\\n')")
    stack._spawn("probe", [sys.executable, "-c", script])
    stack.processes["probe"].wait(timeout=30)
    log = config.log_dir / "probe.log"
    for _ in range(100):  # the pump thread copies the output just after the process exits
        if log.exists() and log.read_text().count("[REDACTED]") >= 4:
            break
        time.sleep(0.05)
    text = log.read_text()
    assert "user said" in text and "boom" in text and not _leak_in_process_output(text), text
    assert _mode(log) == 0o600 and _mode(made) == 0o600


def test_the_gateway_server_logs_a_fault_redacted_and_creates_its_database_0600(tmp_path):
    """A real fault with a card number in it: the app database has no tables, so the first query fails and
    SQLAlchemy's error holds its parameters (the sender, here with a date of birth). The gateway answers a short 500 and
    its log (uvicorn's traceback) has no digit of it. Mutation: serve.py without log_config (uvicorn's default)
    -> the traceback holds the card number; without os.umask -> the database is 0644."""
    port = free_port()
    database = tmp_path / "not-migrated.db"
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{database}", "WIDGET_SECRET": "x",
           "STRIPE_WEBHOOK_SECRET": "whsec_x", "RASA_URL": f"http://127.0.0.1:{free_port()}",
           "PYTHONPATH": str(PROJECT_ROOT), "SETTLE_MODE": "embedded"}
    old = os.umask(0o022)
    try:
        process = subprocess.Popen([sys.executable, "-m", "bot.gateway.serve", "--port", str(port)], env=env,
                                   cwd=PROJECT_ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    finally:
        os.umask(old)
    try:
        for _ in range(100):
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        response = httpx.post(f"http://127.0.0.1:{port}/webhooks/rest/webhook", timeout=10,
                              json={"sender": "web born 03/14/1979", "message": CARD})
        assert response.status_code == 500 and response.json() == {"error": "internal error"}
    finally:
        process.terminate()
        output = process.communicate(timeout=30)[0].decode()
    assert "OperationalError" in output and "[REDACTED]" in output
    assert not _leak_in_process_output(output), output
    assert _mode(database) == 0o600


def test_the_formatter_redacts_the_finished_line():
    """Mutation: RedactingFormatter.format returning super().format(record) -> an attribute a format string adds
    (here %(card)s, as `extra=`) keeps its digits."""
    record = logging.LogRecord("x", logging.WARNING, "", 0, "hello", None, None)
    record.card = CARD
    assert "4242" not in RedactingFormatter("%(message)s %(card)s").format(record)


# --- a number split over lines (issue 18) ------------------------------------------------------------------------


def _through(lines: list[str]) -> list[str]:
    redactor = LineRedactor()
    out = [written for line in lines for written in redactor.feed(line)]
    return out + redactor.flush()


@pytest.mark.parametrize("lines", [
    ["card 4242 4242", "4242 4242 ok"],
    ["ssn 123-45-", "6789 ok"],
    ["ssn 123", "45-6789 ok"],
    ["{'pan': '4242 4242 4242 4", "242', 'x': 'ok'}"],  # a repr that wraps mid-group
    ["n 4242", "4242", "4242", "4242 ok"],  # over four lines
])
def test_a_number_split_over_lines_is_redacted_on_both_sides(lines):
    """Mutation: LineRedactor._checked returning `held` unchanged (lines redacted one by one, as before) -> the
    halves survive, this test fails."""
    out = _through(lines)
    assert not SECRETS.search("\n".join(out)) and "[REDACTED]" in out[0] and "ok" in out[-1], out
    assert len(out) == len(lines)  # nothing lost, nothing merged


def test_lines_that_merely_end_and_begin_with_digits_are_kept():
    """A line after one ending in digits, opening with a log timestamp, starts a record and continues nothing; short
    digit runs joined are no card. Mutation: _head_end without the _RECORD_START check -> the port and the
    timestamp (5018 2026-12-06 05: 14 digits) join into a Luhn-valid window and are redacted."""
    lines = ["Starting server on http://127.0.0.1:5018", "2026-12-06 05:59:38 INFO rasa.core: ready",
             "took 12", "34 ms", "plain"]
    assert _through(lines) == lines


def _wait_for(path: Path, predicate, seconds: float = 10.0) -> str:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if path.exists() and predicate(path.read_text()):
            break
        time.sleep(0.02)
    return path.read_text() if path.exists() else ""


def test_the_stack_log_redacts_a_number_a_child_prints_over_two_lines_and_does_not_hold_plain_lines(tmp_path):
    """A real child process prints a card number over two lines and an SSN split after its second dash, then a
    plain line, and stays up: the log has neither, and the plain line is there while the child still runs (only a
    line ending in digits waits, HOLD_SECONDS at most). Mutation: _pump writing each line as it comes
    (`_write(name, handler, [redact_text(line)])` instead of the redactor) -> "4242 4242" twice and "6789" are in
    the log, this test fails."""
    config = StackConfig(database_url="sqlite://", tracker_store_url="sqlite://", model=tmp_path / "none",
                         log_dir=tmp_path / "log")
    stack = Stack(config)
    script = ("import sys, time; print('charge failed for 4242 4242\\n4242 4242 (declined)'); "
              "sys.stderr.write('Traceback ...\\nValueError: ssn 123-45-\\n6789 not found\\n'); sys.stderr.flush(); "
              "print('waiting', flush=True); print('tail 4242', flush=True); time.sleep(30)")
    stack._spawn("probe", [sys.executable, "-c", script])
    try:
        log = config.log_dir / "probe.log"
        started = time.monotonic()
        text = _wait_for(log, lambda t: "waiting" in t)
        assert "waiting" in text and time.monotonic() - started < 5
        text = _wait_for(log, lambda t: "tail" in t)  # held for HOLD_SECONDS, then written though nothing followed
        assert stack.processes["probe"].poll() is None  # still running: nothing waited for the process to end
    finally:
        stack.kill("probe")
    assert "declined" in text and "not found" in text and "tail 4242" in text
    assert "4242 4242" not in text and "6789" not in text and "123-45" not in text, text
