"""The operator's policy documents: the one list of checks `python -m bot check-policies` runs, and editing a
document from the operations console with those same checks and an audit trail of who changed what.

An edit is checked as the whole set in force would be with it in place (a contact-rules cap lowered under a
segment's weekly messages fails, as it would at the next check-policies), then stored as the document's new
version in the database (bot/policy_store.py), where every process (gateway replicas, action servers, jobs) reads
it on its next use; the shipped files under policy/ are the seed, in force until the first edit. The version the
operator started from is checked too, so two operators editing at once cannot silently undo each other."""

from __future__ import annotations

import difflib
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot import audit, policy_store
from bot.agents.canned import DEFAULT_CANNED_PATH, CannedError
from bot.agents.canned import load as load_canned
from bot.compliance.frequency import DEFAULT_CONTACT_RULES_PATH, ContactRulesError, load_contact_rules
from bot.compliance.tone import DEFAULT_BANNED_PHRASES_PATH, BannedPhrasesError, load_banned_phrases
from bot.db.models import Account
from bot.plans.policy import DEFAULT_POLICY_PATH, PolicyBook, PolicyError, load_policy, policy_from_text
from bot.policy_store import sha256 as sha
from bot.records.retention import DEFAULT_RETENTION_PATH, RetentionPolicyError, load_retention_policy
from bot.segments import DEFAULT_SEGMENTS_PATH, SegmentsError, load_segments

AUDIT_KIND = "policy_edited"
MAX_BYTES = 200_000  # a policy file is a page or two; anything near this is a mistake
MAX_DIFF_CHARS = 20_000  # what the audit row keeps of the change (its hashes name the whole of both versions)
MAX_CREDITORS_NAMED = 20  # known creditors a warning lists; the rest are counted
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


class PolicyEditUnconfirmed(PolicyEditRefused):
    """The text is valid, but it changes which creditors' accounts get their own plan terms in a way that is most
    likely a slip (a creditor name no account has, or a creditor's accounts left to the default). Not saved until
    the operator confirms exactly these creditor names (`confirm`)."""

    def __init__(self, problems: list[str], creditors: list[str]) -> None:
        super().__init__(problems)
        self.creditors = creditors


@dataclass(frozen=True)
class Saved:
    name: str
    before_sha256: str
    after_sha256: str
    diff: str
    changed: bool = True
    version: int = 0


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
            found.extend(str(exc).splitlines())  # one problem a line, each its own item on the page
        except OSError as exc:
            found.append(f"{path}: cannot read the file: {exc.strerror or exc}")
    return found


def read(name: str, paths: PolicyPaths | None = None, session: Session | None = None) -> str:
    """The document's text in force: the newest version saved at /ops (with a session), else the shipped file."""
    if name not in EDITABLE:
        raise KeyError(name)
    row = policy_store.newest(session, name) if session is not None else None
    return row.text if row is not None else (paths or PolicyPaths()).of(name).read_text(encoding="utf-8")


def save(session: Session, name: str, text: str, *, actor: str, paths: PolicyPaths | None = None,
         base_version: int | None = None, confirmed_creditors: frozenset[str] = frozenset()) -> Saved:
    """Check the new text as part of the whole set in force, then store it as the document's new version and record
    who changed what. Raises PolicyEditRefused (nothing stored, nothing recorded) when any check fails, or when
    `base_version` (the version the operator's text was edited from) is no longer the one in force; raises
    PolicyEditUnconfirmed when a plan-policy edit changes creditor terms as `creditor_warnings` says, unless every
    creditor it names is in `confirmed_creditors`."""
    if name not in EDITABLE:
        raise KeyError(name)
    paths = paths or PolicyPaths()
    target = paths.of(name)
    text = text.replace("\r\n", "\n")
    if len(text.encode("utf-8")) > MAX_BYTES:
        raise PolicyEditRefused([f"{target.name}: the text is over {MAX_BYTES // 1000} kB"])
    version, _ = policy_store.stamp(session, name)
    if base_version is not None and base_version != version:
        raise PolicyEditRefused([f"{target.name}: version {version} was saved by someone else while you edited "
                                 f"version {base_version}; your text is kept below: open the page again to see "
                                 "theirs, then make your change again"])
    before = read(name, paths, session)
    if text == before:
        return Saved(name, sha(before), sha(before), "", changed=False, version=version)
    found = problems_in_force(session, paths, edited=(name, text))
    if found:
        raise PolicyEditRefused(found)
    if name == "plan_policy":
        warnings, creditors = creditor_warnings(session, before, text)
        if warnings and not set(creditors) <= confirmed_creditors:
            raise PolicyEditUnconfirmed(warnings, creditors)
    diff = "".join(difflib.unified_diff(before.splitlines(keepends=True), text.splitlines(keepends=True),
                                        f"{target.name} (before)", f"{target.name} (after)"))
    row = policy_store.store(session, name, text, actor=actor)
    audit.record(session, AUDIT_KIND, actor=actor,
                 detail={"file": target.name, "version": row.version, "before_sha256": sha(before),
                         "after_sha256": row.sha256, "diff": diff[:MAX_DIFF_CHARS],
                         "diff_truncated": len(diff) > MAX_DIFF_CHARS})
    return Saved(name, sha(before), row.sha256, diff, version=row.version)


def problems_in_force(session: Session, paths: PolicyPaths | None = None,
                      edited: tuple[str, str] | None = None) -> list[str]:
    """`problems` of the whole set in force: the editable documents' versions in the database (or their shipped
    files), the rest from `paths`; with `edited` (name, text), as it would be with that text saved. Each problem
    names the document by its file name."""
    paths = paths or PolicyPaths()
    with tempfile.TemporaryDirectory(prefix="settle-policy-") as tmp:
        candidate = paths
        for name in EDITABLE:
            copy = Path(tmp) / paths.of(name).name
            text = edited[1] if edited is not None and edited[0] == name else read(name, paths, session)
            copy.write_text(text, encoding="utf-8")
            candidate = candidate.replaced(name, copy)
        return [p.replace(f"{tmp}/", "") for p in problems(candidate)]


def in_force(session: Session, name: str) -> tuple[int, str]:
    """(version, a sentence saying which version of the document is in force, by whom and since when)."""
    row = policy_store.newest(session, name)
    if row is None:
        return policy_store.SHIPPED, "In force: the shipped file (no edit saved yet)."
    return row.version, (f"In force: version {row.version}, saved by {row.created_by} on "
                         f"{row.created_at:%Y-%m-%d %H:%M} UTC, in every process.")


def creditor_warnings(session: Session, before: str, after: str) -> tuple[list[str], list[str]]:
    """What a plan-policy edit does to creditors' own terms that is most likely a slip: (one sentence each, the
    creditor names concerned). A creditor key the edit adds that matches no account's creditor (its terms would apply
    to no one, a misspelt "Acme Bnk"), and a creditor whose accounts had their own terms before and get the default
    after (its terms silently dropped). Keys already in force are not repeated at every edit. `after` is valid."""
    new_book = policy_from_text(after, "plan_policy.yml")
    try:
        old_book: PolicyBook | None = policy_from_text(before, "plan_policy.yml")
    except PolicyError:
        old_book = None
    known = sorted(set(session.scalars(select(Account.creditor).distinct())))
    matched = {new_book.for_creditor(c).name for c in known if new_book.for_creditor(c) is not new_book.default}
    shown = ", ".join(known[:MAX_CREDITORS_NAMED]) + (
        f" and {len(known) - MAX_CREDITORS_NAMED} more" if len(known) > MAX_CREDITORS_NAMED else "")
    listed = f"the accounts' creditors are: {shown}" if known else "no accounts are loaded yet"
    warnings, creditors = [], []
    for key in new_book.creditors:
        already = old_book is not None and old_book.for_creditor(key) is not old_book.default
        if key not in matched and not already:
            warnings.append(f"creditors.{key}: no account has this creditor, so these terms would apply to no one "
                            f"({listed}); check the spelling")
            creditors.append(key)
    if old_book is not None:
        for creditor in known:
            had = old_book.for_creditor(creditor)
            if had is not old_book.default and new_book.for_creditor(creditor) is new_book.default:
                warnings.append(f"{creditor}: its accounts had their own terms (creditors.{had.name}) and would get "
                                "the default terms instead")
                creditors.append(creditor)
    return warnings, creditors

