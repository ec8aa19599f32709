"""Settle's Rasa speedups (rasa_extensions/speedups.py) and kept tracker store (rasa_extensions/tracker_store.py)
change how fast Rasa answers, never what it answers. Each check runs in the Rasa environment, against Rasa's own code
on the same input."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
from pathlib import Path

import pytest
import yaml

from bot.config import PROJECT_ROOT
from bot.training import rasa_environment, rasa_executable, rasa_server_command

pytestmark = pytest.mark.integration

RASA_PYTHON = rasa_executable().parent / "python"


def _run_in_rasa(script: str, *args: str) -> None:
    result = subprocess.run([str(RASA_PYTHON), str(PROJECT_ROOT / "tests" / "rasa_env" / script), *args],
                            cwd=PROJECT_ROOT, env={**os.environ, **rasa_environment()}, capture_output=True,
                            text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]


@pytest.fixture(scope="module")
def report(trained_model, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """One run of the check script (loading the model takes a while) for the tests below."""
    out = tmp_path_factory.mktemp("speedups") / "report.json"
    _run_in_rasa("speedups_check.py", str(trained_model), str(PROJECT_ROOT / "bench" / "data" / "own_heldout_v2.csv"),
                 "200", str(out))
    return json.loads(out.read_text())


def test_the_model_reads_every_held_out_message_the_same_with_the_speedups(report: dict):
    found = report
    assert len(found["applied"]) >= 8
    assert len(found["before"]) == 200
    assert found["after"] == found["before"]  # intent, confidence (5 places) and the top 3 of the ranking
    assert found["again"] == found["before"]  # read a second time, from the readings kept by text
    assert found["kept_reading_unharmed"]  # a caller changing its copy does not change what the next one gets


def test_what_loading_the_model_leaves_is_collected_before_the_first_message(report: dict):
    """Rasa builds each TensorFlow model by fitting it on one example through a tf.data iterator. With the
    collector's first threshold raised for serving, those iterators outlived loading, and the collection that
    freed them, started by some turn, stood the event loop still for 4-41 s under bench load. The Rasa channel's
    start listener collects them before the first message (speedups.collect_loading_garbage)."""
    loading = report["loading"]
    assert loading["iterators_left"] >= 1  # what loading leaves with serving's thresholds (else this tests nothing)
    assert loading["collected"] > 0
    assert loading["iterators_after_collection"] == 0


def test_past_states_read_incrementally_equal_rasas_at_every_step_of_every_story(report: dict):
    states = report["past_states"]
    assert states["trackers"] > 100 and states["compared"] > 1000
    assert states["mismatched"] == 0


def test_an_action_calls_body_reads_back_the_same_as_rasas_json_for_every_story_tracker(report: dict):
    states = report["past_states"]
    assert states["encoded"] == states["trackers"] > 100
    assert states["encoded_differently"] == 0


def test_an_action_servers_answer_is_accepted_or_refused_exactly_as_rasa_does(report: dict):
    answers = report["answers"]
    assert {a["rasa"] for a in answers} == {True, False}  # both kinds are tried
    assert [a["settle"] for a in answers] == [a["rasa"] for a in answers]


def test_the_language_slot_read_in_rasa_gives_what_the_action_server_gives_for_every_tracker(report: dict):
    """The `language` slot's custom mapping is answered inside Rasa (rasa_extensions/language_slot.py) instead of by
    an action server call per message: the same events as actions/language.py's ActionReadLanguage, which plain
    `rasa run` still calls, for trackers of every kind (the slot's value, an earlier and the latest message's
    metadata, none, an invalid one)."""
    from rasa_sdk import Tracker
    from rasa_sdk.executor import CollectingDispatcher

    from actions.language import ActionReadLanguage

    cases = report["language_cases"]
    assert len(cases) >= 100
    changed = 0
    for case in cases:
        served = asyncio.run(ActionReadLanguage().run(CollectingDispatcher(), Tracker.from_dict(case["tracker"]), {}))
        in_rasa = [{"event": e["event"], "name": e["name"], "value": e["value"]} for e in case["events"]]
        assert in_rasa == [{"event": e["event"], "name": e["name"], "value": e["value"]} for e in served], case
        changed += bool(served)
    assert 0 < changed < len(cases)  # both kinds: the slot set, and left as it is


def test_rasas_in_process_language_reading_knows_the_languages_settle_writes_in():
    from bot import wording
    from rasa_extensions import language_slot

    domain = yaml.safe_load((PROJECT_ROOT / "domain" / "conversation.yml").read_text())
    slot = domain["slots"][language_slot.SLOT]
    assert language_slot.LANGUAGES == wording.LANGUAGES == tuple(slot["values"])
    assert language_slot.DEFAULT == wording.ENGLISH == slot["initial_value"]
    assert slot["mappings"] == [{"type": "custom", "action": language_slot.ACTION}]


def test_every_test_story_passes_under_the_rasa_launcher_with_the_speedups(trained_model, tmp_path: Path):
    """The dialogue (rules, forms, memoization) predicts the same actions through `python -m rasa_extensions`."""
    result = subprocess.run([*rasa_server_command(), "test", "core", "--model", str(trained_model), "--stories",
                             "tests/stories", "--out", str(tmp_path), "--fail-on-prediction-errors"],
                            cwd=PROJECT_ROOT, env={**os.environ, **rasa_environment()}, capture_output=True,
                            text=True, timeout=900)
    failed = (tmp_path / "failed_test_stories.yml").read_text()
    assert result.returncode == 0, failed + result.stdout[-3000:] + result.stderr[-3000:]
    assert "None of the test stories failed" in failed


def test_the_kept_tracker_store_writes_and_reads_what_rasas_sql_store_does(tmp_path: Path):
    out = tmp_path / "store.json"
    _run_in_rasa("tracker_store_check.py", str(out), str(tmp_path / "db"))
    found = json.loads(out.read_text())
    assert found == {
        "same_rows_as_rasa": True,  # the same event rows as SQLTrackerStore for the same turns
        "same_events_as_rasa_reading": True,  # and a reading of them gives the same tracker
        "kept_between_turns": True,  # the next turn gets the saved tracker without reading the database
        "unsaved_turn_is_not_kept": True,  # a turn that failed before saving leaves nothing half-done
        "write_elsewhere_is_seen": True,  # another Rasa instance wrote meanwhile: read from the database
        "new_session_read_as_rasa_does": True,  # a new session: the next reading starts at it, as Rasa's does
        "rewrite_in_place": True,  # PCI-2: a rewritten event keeps its row (id, order, columns); only data changes
        "rewrite_forgets_the_kept_tracker": True,  # and the next reading has the rewritten text, as Rasa reads it
        # Issue 22: a long conversation is handed to Rasa as a window of its latest turns, opened like a session.
        "window_same_states_as_rasa": True,  # the policies see the same last states as in Rasa's whole reading
        "window_same_slots_as_rasa": True,  # every slot and the active form as they stand
        "window_keeps_every_event": True,  # the database holds every event Rasa's own store holds
        "window_bounds_the_tracker": True,  # the tracker was cut, and stays near the window however long it gets
        "window_zero_is_rasas_reading": True,  # SETTLE_TRACKER_WINDOW=0: no cut, Rasa's behaviour
        # Many conversations at once: every turn stored, no connection closed from the wrong thread (a logged
        # traceback and a reconnect per turn), the SQLite connections kept, one per database thread.
        "concurrent_turns_all_stored": True,
        "concurrent_turns_no_connection_errors": True,
        "concurrent_turns_one_connection_per_thread": True,
    }
