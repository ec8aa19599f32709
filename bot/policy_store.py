"""The policy documents an operator edits at /ops (plan policy, contact rules, segments), shared by every process.

An edit is stored as a new version in the database (policy_versions: the text, who, when; bot/policy_edits.py
checks it first with the checks of `python -m bot check-policies` and records the diff in the audit trail). The
newest version of a document is in force in every gateway replica, action server and job; with none, the shipped
file under policy/ is (the seed and the default).

Readers (bot/plans/policy.py active_policy, bot/compliance/frequency.py active_contact_rules, bot/segments.py
active_segments) ask `active` on each use. The freshness check is one indexed query for the newest version's
number and hash; the parsed document is kept per process by hash, so an unchanged version is not parsed again and
an edit made by another process is seen on the next use, without a restart. The shipped files are read through
`from_file`, again only when a file changes."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.db.models import PolicyVersion

T = TypeVar("T")
NAMES = ("plan_policy", "contact_rules", "segments")
SHIPPED = 0  # the version number of the shipped file (no row)

_parsed: dict[str, tuple[str, object]] = {}  # name -> (sha256 of the text, the parsed document)
# (loader, path) -> ((modification time, size), the loaded document)
_files: dict[tuple[Callable[..., object], str], tuple[tuple[int, int], object]] = {}


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def newest(session: Session, name: str) -> PolicyVersion | None:
    """The version in force, or None when the shipped file is."""
    return session.scalar(select(PolicyVersion).where(PolicyVersion.name == name)
                          .order_by(PolicyVersion.version.desc()).limit(1))


def stamp(session: Session, name: str) -> tuple[int, str | None]:
    """(version number, sha256) of the version in force: the cheap freshness check ((0, None): the shipped file)."""
    row = session.execute(select(PolicyVersion.version, PolicyVersion.sha256).where(PolicyVersion.name == name)
                          .order_by(PolicyVersion.version.desc()).limit(1)).first()
    return (SHIPPED, None) if row is None else (int(row[0]), str(row[1]))


def from_file(path: str | Path, load: Callable[[str | Path], T]) -> T:
    """`load(path)`, again only when the file changed (its modification time or size): the shipped documents are
    read on every plan offer and every outbound message, and an unchanged file is not parsed each time. The
    documents are frozen, so sharing one is safe."""
    stat = Path(path).stat()
    key, mark = (load, str(path)), (stat.st_mtime_ns, stat.st_size)
    found = _files.get(key)
    if found is None or found[0] != mark:
        found = _files[key] = (mark, load(path))
    return found[1]  # type: ignore[return-value]


def active(session: Session, name: str, parse: Callable[[str], T], shipped: Callable[[], T]) -> T:
    """The document in force: the newest stored version, parsed with `parse` (once per process and version), or
    `shipped()` (the file's own cached loader) when no version is stored."""
    version, digest = stamp(session, name)
    if digest is None:
        return shipped()
    found = _parsed.get(name)
    if found is None or found[0] != digest:
        text = session.scalar(select(PolicyVersion.text).where(PolicyVersion.name == name,
                                                               PolicyVersion.version == version))
        found = _parsed[name] = (digest, parse(text or ""))
    return found[1]  # type: ignore[return-value]


def store(session: Session, name: str, text: str, *, actor: str) -> PolicyVersion:
    """A new version in force from the commit of the caller's transaction. Two saves at once: the second fails on
    the (name, version) unique constraint and its transaction rolls back."""
    if name not in NAMES:
        raise KeyError(name)
    version, _ = stamp(session, name)
    row = PolicyVersion(name=name, version=version + 1, text=text, sha256=sha256(text), created_by=actor[:60])
    session.add(row)
    session.flush()
    return row
