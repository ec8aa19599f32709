"""The operator's policy files (policy/*.yml): the one list of checks `python -m bot check-policies` runs, and
editing a file from the operations console with those same checks and an audit trail of who changed what.

An edit is checked as the whole set would be with it in place (a contact-rules cap lowered under a segment's
weekly messages fails, as it would at the next check-policies), then written atomically (a temporary file in the
same directory, renamed over the old one), so a reader sees the old file or the new one, never half of either. The
plan policy and the contact rules are re-read by their users when the file changes (mtime and size)."""

from __future__ import annotations

import difflib
import hashlib
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from bot import audit
from bot.agents.canned import DEFAULT_CANNED_PATH, CannedError
from bot.agents.canned import load as load_canned
from bot.compliance.frequency import DEFAULT_CONTACT_RULES_PATH, ContactRulesError, load_contact_rules
from bot.compliance.tone import DEFAULT_BANNED_PHRASES_PATH, BannedPhrasesError, load_banned_phrases
from bot.plans.policy import DEFAULT_POLICY_PATH, PolicyError, load_policy
from bot.records.retention import DEFAULT_RETENTION_PATH, RetentionPolicyError, load_retention_policy
from bot.segments import DEFAULT_SEGMENTS_PATH, SegmentsError, load_segments

AUDIT_KIND = "policy_edited"
MAX_BYTES = 200_000  # a policy file is a page or two; anything near this is a mistake
MAX_DIFF_CHARS = 20_000  # what the audit row keeps of the change (its hashes name the whole of both versions)
# What the console may edit, and what it calls them.
EDITABLE = {"plan_policy": "Plan policy", "contact_rules": "Contact rules", "segments": "Segments"}


@dataclass
class PolicyPaths:
    plans: Path = DEFAULT_POLICY_PATH
    contact_rules: Path = DEFAULT_CONTACT_RULES_PATH
    banned_phrases: Path = DEFAULT_BANNED_PHRASES_PATH
    canned: Path = DEFAULT_CANNED_PATH
    retention: Path = DEFAULT_RETENTION_PATH
    segments: Path = DEFAULT_SEGMENTS_PATH

    def of(self, name: str) -> Path:
        return {"plan_policy": self.plans, "contact_rules": self.contact_rules, "segments": self.segments}[name]

    def replaced(self, name: str, path: Path) -> PolicyPaths:
        field_name = {"plan_policy": "plans", "contact_rules": "contact_rules", "segments": "segments"}[name]
        return PolicyPaths(**{**self.__dict__, field_name: path})


class PolicyEditRefused(ValueError):
    """The edit was not saved; `problems` lists every check that failed, each naming its file and field."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))


@dataclass(frozen=True)
class Saved:
    name: str
    before_sha256: str
    after_sha256: str
    diff: str
    changed: bool = True
    lines: list[str] = field(default_factory=list)


def problems(paths: PolicyPaths | None = None) -> list[str]:
    """Every problem in the policy files, each naming its file and field; empty when all are valid."""
    paths = paths or PolicyPaths()
    checks: tuple[tuple[Callable[[Path], Any], Path, type[Exception]], ...] = (
        (load_policy, paths.plans, PolicyError),
        (load_contact_rules, paths.contact_rules, ContactRulesError),
        (load_banned_phrases, paths.banned_phrases, BannedPhrasesError),
        (load_canned, paths.canned, CannedError),
        (load_retention_policy, paths.retention, RetentionPolicyError),
        # Segments are checked against these contact rules' cap (FREQ-1).
        (lambda path: load_segments(path, paths.contact_rules), paths.segments, SegmentsError),
    )
    found = []
    for load, path, error in checks:
        try:
            load(path)
        except error as exc:
            found.append(str(exc))
        except OSError as exc:
            found.append(f"{path}: cannot read the file: {exc.strerror or exc}")
    return found


def read(name: str, paths: PolicyPaths | None = None) -> str:
    if name not in EDITABLE:
        raise KeyError(name)
    return (paths or PolicyPaths()).of(name).read_text(encoding="utf-8")


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def save(session: Session, name: str, text: str, *, actor: str, paths: PolicyPaths | None = None) -> Saved:
    """Check the new text as part of the whole set, then replace the file and record who changed what. Raises
    PolicyEditRefused (nothing written, nothing recorded) when any check fails."""
    if name not in EDITABLE:
        raise KeyError(name)
    paths = paths or PolicyPaths()
    target = paths.of(name)
    text = text.replace("\r\n", "\n")
    if len(text.encode("utf-8")) > MAX_BYTES:
        raise PolicyEditRefused([f"{target.name}: the text is over {MAX_BYTES // 1000} kB"])
    before = target.read_text(encoding="utf-8")
    if text == before:
        return Saved(name, _sha(before), _sha(before), "", changed=False)
    handle, candidate = tempfile.mkstemp(prefix=f".{target.stem}-", suffix=".yml", dir=target.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
        found = problems(paths.replaced(name, Path(candidate)))
        if found:
            raise PolicyEditRefused([p.replace(candidate, str(target)).replace(Path(candidate).name, target.name)
                                        for p in found])
        diff = "".join(difflib.unified_diff(before.splitlines(keepends=True), text.splitlines(keepends=True),
                                            f"{target.name} (before)", f"{target.name} (after)"))
        saved = Saved(name, _sha(before), _sha(text), diff)
        # Recorded in the caller's transaction before the file moves: a failed rename rolls the record back.
        audit.record(session, AUDIT_KIND, actor=actor,
                     detail={"file": target.name, "before_sha256": saved.before_sha256,
                             "after_sha256": saved.after_sha256, "diff": diff[:MAX_DIFF_CHARS],
                             "diff_truncated": len(diff) > MAX_DIFF_CHARS})
        os.replace(candidate, target)
        return saved
    finally:
        if os.path.exists(candidate):
            os.unlink(candidate)
