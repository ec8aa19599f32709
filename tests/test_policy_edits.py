"""Issue 20 item 1: an operator edits the plan policy, the contact rules or the segments; the edit is checked with
the checks of `python -m bot check-policies`, as part of the whole set, and who changed what is in the audit trail."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot import policy_edits
from bot.db import session_scope
from bot.db.models import AuditEvent, PolicyVersion
from bot.plans.policy import active_policy


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


def test_a_valid_edit_becomes_the_version_in_force_and_records_who_changed_what(engine, paths):
    before = policy_edits.read("plan_policy", paths)
    edited = before.replace("min_installment: 25.00", "min_installment: 20.00")
    with session_scope(engine) as session:
        assert active_policy(session).default.min_installment_cents == 2500  # the shipped file: the seed
        saved = policy_edits.save(session, "plan_policy", edited, actor="operator:olga", paths=paths)
    assert paths.plans.read_text() == before  # the shipped file stays the seed; the database holds the edit
    with session_scope(engine) as session:
        assert active_policy(session).default.min_installment_cents == 2000
        assert policy_edits.read("plan_policy", paths, session) == edited
        assert policy_edits.in_force(session, "plan_policy")[0] == saved.version == 1
    (event,) = _trail(engine)
    assert event.actor == "operator:olga" and event.detail["file"] == "plan_policy.yml"
    assert event.detail["version"] == 1
    assert "-  min_installment: 25.00\n+  min_installment: 20.00" in event.detail["diff"]
    assert event.detail["after_sha256"] == saved.after_sha256 != saved.before_sha256


def test_an_invalid_edit_is_refused_with_its_field_and_changes_nothing(sqlite_engine, paths):
    """Mutation tried: the check skipped (`found = []`) -> the broken text was stored."""
    before = policy_edits.read("plan_policy", paths)
    with session_scope(sqlite_engine) as session, pytest.raises(policy_edits.PolicyEditRefused) as refused:
        policy_edits.save(session, "plan_policy", before.replace("max_term_months: 24", "max_term_months: 999"),
                          actor="operator:olga", paths=paths)
    assert any(p.startswith("plan_policy.yml") and "default.max_term_months" in p for p in refused.value.problems)
    assert paths.plans.read_text() == before and _trail(sqlite_engine) == []
    with session_scope(sqlite_engine) as session:
        assert session.scalar(select(func.count(PolicyVersion.id))) == 0


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


def test_FREQ_1_the_check_uses_the_versions_in_force_not_the_shipped_files(sqlite_engine, paths):
    """A segments version saved at /ops with 3 a week in one segment, then the cap lowered to 2: refused, because the
    segments in force (the database's, not the shipped file's 2 a week) ask for 3.
    Mutation tried: the candidate set built from the shipped files (`read(other, paths)` without the session) ->
    the cap of 2 was saved under a segment that sends 3."""
    with session_scope(sqlite_engine) as session:
        segments_text = policy_edits.read("segments", paths, session).replace("per_7_days: 2", "per_7_days: 3")
        policy_edits.save(session, "segments", segments_text, actor="operator:olga", paths=paths)
    rules = policy_edits.read("contact_rules", paths)
    with session_scope(sqlite_engine) as session, pytest.raises(policy_edits.PolicyEditRefused) as refused:
        policy_edits.save(session, "contact_rules", rules.replace("sms_per_7_days: 3", "sms_per_7_days: 2"),
                          actor="operator:olga", paths=paths)
    assert any("above the rule book's cap of 2" in p for p in refused.value.problems)


def test_an_edit_made_from_an_older_version_is_refused_and_keeps_the_newer_one(sqlite_engine, paths):
    """Two operators open version 0; the first saves (version 1); the second's save names version 0 and is refused,
    so the first one's change is not silently undone. Mutation tried: the base_version comparison removed -> the
    second save became version 2."""
    before = policy_edits.read("plan_policy", paths)
    with session_scope(sqlite_engine) as session:
        policy_edits.save(session, "plan_policy", before.replace("min_installment: 25.00", "min_installment: 20.00"),
                          actor="operator:olga", paths=paths, base_version=0)
    with session_scope(sqlite_engine) as session, pytest.raises(policy_edits.PolicyEditRefused) as refused:
        policy_edits.save(session, "plan_policy", before.replace("max_term_months: 24", "max_term_months: 18"),
                          actor="operator:omar", paths=paths, base_version=0)
    assert "version 1 was saved by someone else while you edited version 0" in refused.value.problems[0]
    with session_scope(sqlite_engine) as session:
        assert active_policy(session).default.min_installment_cents == 2000
        assert policy_edits.in_force(session, "plan_policy")[0] == 1


def test_check_policies_runs_the_same_checks(paths, capsys):
    from bot.__main__ import main

    paths.segments.write_text(paths.segments.read_text().replace("per_7_days: 2", "per_7_days: 9"))
    assert main(["check-policies", "--segments", str(paths.segments)]) == 2
    assert "above the rule book's cap of 3" in capsys.readouterr().err


def test_a_contact_rules_edit_that_breaks_two_segments_lists_each_by_its_name_as_its_own_problem(sqlite_engine,
                                                                                                 paths):
    """What the operator reads on the page (the exploratory pass saw two problems in one bullet, segments by
    zero-based index, "a cap of 1 messages"). Mutation tried: each loader's message kept as one problem -> fails."""
    text = policy_edits.read("contact_rules", paths)  # two shipped segments send 2 a week
    lowered = text.replace("sms_per_7_days: 3", "sms_per_7_days: 1")
    assert lowered != text
    with session_scope(sqlite_engine) as session, pytest.raises(policy_edits.PolicyEditRefused) as refused:
        policy_edits.save(session, "contact_rules", lowered, actor="operator:olga", paths=paths)
    over = [p for p in refused.value.problems if "above the rule book's cap of 1 message per 7 days" in p]
    assert len(over) >= 2 and all(p.startswith("segments.yml: segment ") and p.count("segments.yml") == 1
                                  for p in over), refused.value.problems
    assert not any("segments[" in p for p in refused.value.problems)


def test_check_policies_in_force_checks_the_saved_versions_with_a_new_file(sqlite_engine, sqlite_url, paths,
                                                                            monkeypatch, capsys):
    """A release lowers the file's cap to 2 while a segments version saved at /ops sends 3 a week: the files alone
    pass, the set in force does not. Mutation tried: --in-force reading the shipped segments file -> exit 0."""
    from bot.__main__ import main

    monkeypatch.setenv("DATABASE_URL", sqlite_url)
    with session_scope(sqlite_engine) as session:
        text = policy_edits.read("segments", paths, session).replace("per_7_days: 2", "per_7_days: 3")
        policy_edits.save(session, "segments", text, actor="operator:olga", paths=paths)
    paths.contact_rules.write_text(paths.contact_rules.read_text().replace("sms_per_7_days: 3", "sms_per_7_days: 2"))
    assert main(["check-policies", "--contact-rules", str(paths.contact_rules)]) == 0
    capsys.readouterr()
    assert main(["check-policies", "--in-force", "--contact-rules", str(paths.contact_rules)]) == 2
    err = capsys.readouterr().err
    assert "settle: segments.yml: segment " in err and "above the rule book's cap of 2" in err


@pytest.mark.parametrize(("old", "new", "expected"), [
    ("calls_per_7_days: 7", "calls_per_7_days: 20",
     "defaults.calls_per_7_days: 20 is above 7: Reg F presumes more than 7 calls in 7 days is harassment"),
    ("sms_per_day: 1\n", "sms_per_day: 12\n", "defaults.sms_per_day: 12 is above 1"),
    ("sms_per_7_days: 3", "sms_per_7_days: 60", "defaults.sms_per_7_days: 60 is above 3"),
    ("    calls_per_7_days: 2\n", "    calls_per_7_days: 9\n", "states.MA.calls_per_7_days: 9 is above 7"),
])
def test_FREQ_1_a_cap_above_the_rule_books_ceiling_is_refused_and_nothing_is_saved(sqlite_engine, paths, old, new,
                                                                                  expected):
    """The tester's edits (calls 20, texts 12 a day and 60 a week) were saved. Mutation tried: `> ceiling` in
    frequency._above_the_law made `> ceiling * 100` -> every edit here was saved."""
    before = policy_edits.read("contact_rules", paths)
    assert old in before
    with session_scope(sqlite_engine) as session, pytest.raises(policy_edits.PolicyEditRefused) as refused:
        policy_edits.save(session, "contact_rules", before.replace(old, new), actor="operator:olga", paths=paths)
    assert any(expected in p for p in refused.value.problems), refused.value.problems
    with session_scope(sqlite_engine) as session:
        assert session.scalar(select(func.count(PolicyVersion.id))) == 0


@pytest.mark.parametrize(("old", "new"), [
    ("sms_per_7_days: 2\n", "sms_per_7_days: 3\n"),  # loosened
    ("texts_and_calls_share_cap: true", "texts_and_calls_share_cap: false"),  # texts and calls no longer together
])
def test_FREQ_1_removing_or_loosening_the_massachusetts_override_is_refused(sqlite_engine, paths, old, new):
    """209 CMR 18.16(1)(d): `states: {}` deleted the MA override and was saved. Mutations tried: the STATE_LAWS
    loop in frequency._above_the_law skipped -> `states: {}` saved; the bool comparison dropped -> share_cap false
    saved."""
    before = policy_edits.read("contact_rules", paths)
    removed = before.split("\nstates:", 1)[0] + "\nstates: {}\n"
    for edited in (removed, before.replace(old, new)):
        assert edited != before
        with session_scope(sqlite_engine) as session, pytest.raises(policy_edits.PolicyEditRefused) as refused:
            policy_edits.save(session, "contact_rules", edited, actor="operator:olga", paths=paths)
        assert any("states.MA: the legal override" in p and "209 CMR 18.16(1)(d)" in p
                   for p in refused.value.problems), refused.value.problems
    tighter = before.replace("    calls_per_7_days: 2\n", "    calls_per_7_days: 1\n")
    with session_scope(sqlite_engine) as session:  # tightening the law's numbers is the operator's choice
        assert policy_edits.save(session, "contact_rules", tighter, actor="operator:olga", paths=paths).changed


def test_a_segment_of_held_accounts_may_not_name_outreach_channels(sqlite_engine, paths):
    """DSP-2 / CEASE-1 / VUL-2: the tester gave On hold `channels: [sms]` and it was saved. Mutation tried: the
    hold check in segments._segment removed -> saved."""
    before = policy_edits.read("segments", paths)
    edited = before.replace("when: {hold: true}\n    treatment: {channels: []",
                            "when: {hold: true}\n    treatment: {channels: [sms]")
    assert edited != before
    with session_scope(sqlite_engine) as session, pytest.raises(policy_edits.PolicyEditRefused) as refused:
        policy_edits.save(session, "segments", edited, actor="operator:olga", paths=paths)
    assert any("segment 1 (on_hold).treatment.channels: a segment of held accounts" in p
               for p in refused.value.problems), refused.value.problems


def test_a_creditor_name_no_account_has_is_not_saved_until_confirmed_naming_it_and_the_known_creditors(
        engine, paths):
    """M4: "Acme Bank:" misspelt "Acme Bnk:" would leave Acme's accounts on the default terms (a 10% settlement,
    no $30 minimum) without a word. Both consequences are named; a confirmation of exactly those names saves it.

    Mutation tried: the `if warnings and not ...` check in save() skipped -> fails (saved as version 1)."""
    from bot.portfolio_import import import_accounts
    from tests.test_portfolio_import import DEMO

    import_accounts(engine, DEMO)
    misspelt = policy_edits.read("plan_policy", paths).replace("  Acme Bank:", "  Acme Bnk:")
    with session_scope(engine) as session, pytest.raises(policy_edits.PolicyEditUnconfirmed) as held:
        policy_edits.save(session, "plan_policy", misspelt, actor="operator:olga", paths=paths)
    assert held.value.creditors == ["Acme Bnk", "Acme Bank"]
    first, second = held.value.problems
    assert first.startswith("creditors.Acme Bnk: no account has this creditor, so these terms would apply to no "
                            "one (the accounts' creditors are: Acme Bank, ")
    assert "Northwind Credit Union" in first and first.endswith("; check the spelling")
    assert second == ("Acme Bank: its accounts had their own terms (creditors.Acme Bank) and would get the default "
                      "terms instead")
    with session_scope(engine) as session:
        assert session.scalar(select(func.count(PolicyVersion.id))) == 0
        # Confirming only one of the two names is not enough.
        with pytest.raises(policy_edits.PolicyEditUnconfirmed):
            policy_edits.save(session, "plan_policy", misspelt, actor="operator:olga", paths=paths,
                              confirmed_creditors=frozenset({"Acme Bnk"}))
    with session_scope(engine) as session:
        saved = policy_edits.save(session, "plan_policy", misspelt, actor="operator:olga", paths=paths,
                                  confirmed_creditors=frozenset({"Acme Bnk", "Acme Bank"}))
    assert saved.version == 1


def test_an_edit_that_keeps_every_creditors_terms_is_saved_without_a_question(engine, paths):
    """Creditor keys already in force and matching accounts raise nothing; nor does a key written in another case."""
    from bot.portfolio_import import import_accounts
    from tests.test_portfolio_import import DEMO

    import_accounts(engine, DEMO)
    edited = (policy_edits.read("plan_policy", paths).replace("  Acme Bank:", "  ACME  bank:")
              .replace("min_installment: 30.00", "min_installment: 35.00"))
    with session_scope(engine) as session:
        assert policy_edits.save(session, "plan_policy", edited, actor="operator:olga", paths=paths).version == 1
