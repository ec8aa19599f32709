"""The scan issue 18 asks for after the whole suite: no Luhn-valid card number and no SSN in any log or database
the tests' processes wrote (the running stacks' app and tracker databases, their logs, every SQLite file under
pytest's base temporary directory). The test suite types card numbers and SSNs at the system all the time (the
red team, the fuzz suite, the redaction tests); what must never happen is that one is kept."""

from __future__ import annotations

import json
import re
import sqlite3
from pathlib import Path

from bot.compliance.redaction import contains_card_number

SSN = re.compile(r"(?<!\d)\d{3}-\d{2}-\d{4}(?!\d)")
HEX_DIGEST = re.compile(r"[0-9a-f]{40,128}")  # hashes and HMAC seals: their digit runs are chance
# Twilio's message SID ("SM" + 32 hex digits), kept as Twilio sent it for the replay check: its digit runs look like
# a Luhn-valid card number 1 time in 200, by chance. Nobody types one.
TWILIO_SID = re.compile(r"(?:SM|MM)[0-9a-f]{32}")


def _opaque(value: str) -> bool:
    return bool(HEX_DIGEST.fullmatch(value) or TWILIO_SID.fullmatch(value))
LOG_SUFFIXES = (".log",)


# The same digests inside a text (a transcript copy ends with its chain head, an email carries it).
HEX_DIGEST_IN_TEXT = re.compile(r"(?<![0-9a-fA-F])[0-9a-f]{40,128}(?![0-9a-fA-F])")


def _hits(text: str) -> bool:
    text = HEX_DIGEST_IN_TEXT.sub(" ", text)
    return contains_card_number(text) or bool(SSN.search(text))


def _strings(value: object) -> list[str]:
    """The strings inside a JSON value: what a person could have typed. Numbers (a tracker event's timestamp
    1796530298.8923655, an NLU confidence) are not text and can look like a Luhn-valid run by chance."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in (*_strings(k), *_strings(v))]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


def _value_hits(value: str) -> bool:
    stripped = value.strip()
    if stripped[:1] in ("{", "["):
        try:
            return any(_hits(s) for s in _strings(json.loads(stripped)) if not _opaque(s))
        except ValueError:
            pass
    return _hits(value)


def scan_sqlite(path: Path) -> list[str]:
    """Every text value of every table that holds a card number or an SSN, as "file:table.column"."""
    found: list[str] = []
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    except sqlite3.Error:
        return found
    try:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        for table in tables:
            cursor = conn.execute(f'SELECT * FROM "{table}"')
            columns = [d[0] for d in cursor.description]
            for row in cursor:
                for column, value in zip(columns, row, strict=True):
                    if isinstance(value, bytes):
                        value = value.decode("utf-8", "replace")
                    if not isinstance(value, str) or _opaque(value):
                        continue
                    if _value_hits(value):
                        found.append(f"{path}:{table}.{column}")
    except sqlite3.Error:
        pass  # not a database of ours (or still being written): nothing to say about it
    finally:
        conn.close()
    return sorted(set(found))


def scan_log(path: Path) -> list[str]:
    text = path.read_text(encoding="utf-8", errors="replace")
    return [f"{path}:{n}" for n, line in enumerate(text.splitlines(), 1) if _hits(line)]


PLANTED = "planted"  # a folder the scan's own tests fill with numbers on purpose


def scan_tree(root: Path, skip: str | None = None) -> list[str]:
    """Every hit under `root`: SQLite files and log files; folders named `skip` are passed over."""
    found: list[str] = []
    for path in sorted(p for p in root.rglob("*") if p.is_file() and (skip is None or skip not in p.parts)):
        if path.suffix in LOG_SUFFIXES:
            found += scan_log(path)
        elif path.suffix in (".db", ".sqlite"):
            found += scan_sqlite(path)
    return found


def describe(found: list[str]) -> str:
    return json.dumps(found[:20], indent=1) + (f"\n... and {len(found) - 20} more" if len(found) > 20 else "")
