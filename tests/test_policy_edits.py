"""Issue 20 item 1: an operator edits the plan policy, the contact rules or the segments; the edit is checked with
the checks of `python -m bot check-policies`, as part of the whole set, and who changed what is in the audit trail."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from sqlalchemy import select

from bot import policy_edits
from bot.db import session_scope
from bot.db.models import AuditEvent
from bot.plans.policy import current_policy


@pytest.fixture
def paths(tmp_path: Path) -> policy_edits.PolicyPaths:
    shipped = policy_edits.PolicyPaths()
    copies = {}
    for field, path in shipped.__dict__.items():
        copies[field] = tmp_path / path.name
        shutil.copy(path, copies[field])
    return policy_edits.PolicyPaths(**copies)


def _trail(engine) -> list[AuditEvent]:
    with session_scope(engine) as session:
        rows = list(session.scalars(select(AuditEvent).where(AuditEvent.kind == policy_edits.AUDIT_KIND)))
        session.expunge_all()
    return rows


def test_a_valid_edit_replaces_the_file_and_records_who_changed_what(sqlite_engine, paths):
    before = policy_edits.read("plan_policy", paths)
    edited = before.replace("min_installment: 25.00", "min_installment: 20.00")
    with session_scope(sqlite_engine) as session:
        saved = policy_edits.save(session, "plan_policy", edited, actor="operator:olga", paths=paths)
    assert paths.plans.read_text() == edited
    assert current_policy(paths.plans).default.min_installment_cents == 2000  # read again: the file changed
    (event,) = _trail(sqlite_engine)
    assert event.actor == "operator:olga" and event.detail["file"] == "plan_policy.yml"
    assert "-  min_installment: 25.00\n+  min_installment: 20.00" in event.detail["diff"]
    assert event.detail["after_sha256"] == saved.after_sha256 != saved.before_sha256


def test_an_invalid_edit_is_refused_with_its_field_and_changes_nothing(sqlite_engine, paths):
    """Mutation tried: the check skipped (`found = []`) -> the broken file was saved."""
    before = policy_edits.read("plan_policy", paths)
    with session_scope(sqlite_engine) as session, pytest.raises(policy_edits.PolicyEditRefused) as refused:
        policy_edits.save(session, "plan_policy", before.replace("max_term_months: 24", "max_term_months: 999"),
                          actor="operator:olga", paths=paths)
    assert any("plan_policy.yml" in p and "default.max_term_months" in p for p in refused.value.problems)
    assert paths.plans.read_text() == before and _trail(sqlite_engine) == []
    assert not list(paths.plans.parent.glob(".plan_policy-*"))  # no temporary file left behind


def test_FREQ_1_lowering_the_cap_under_a_segments_weekly_messages_is_refused(sqlite_engine, paths):
    """The edit is checked with the other files: segments.yml asks for 2 a week in some segments, so a cap of 1 is
    refused, naming the segment. Mutation tried: segments checked against the shipped contact rules instead of
    the edited ones -> the cap of 1 was saved."""
    before = policy_edits.read("contact_rules", paths)
    with session_scope(sqlite_engine) as session, pytest.raises(policy_edits.PolicyEditRefused) as refused:
        policy_edits.save(session, "contact_rules", before.replace("sms_per_7_days: 3", "sms_per_7_days: 1"),
                          actor="operator:olga", paths=paths)
    assert any("segments.yml" in p and "above the rule book's cap of 1" in p for p in refused.value.problems)
    assert paths.contact_rules.read_text() == before


def test_check_policies_runs_the_same_checks(paths, capsys):
    from bot.__main__ import main

    paths.segments.write_text(paths.segments.read_text().replace("per_7_days: 2", "per_7_days: 9"))
    assert main(["check-policies", "--segments", str(paths.segments)]) == 2
    assert "above the rule book's cap of 3" in capsys.readouterr().err
