"""The after-the-suite scan (tests/sensitive_scan.py, run by tests/conftest.py when the session ends) finds a card
number or an SSN kept anywhere in the tests' databases and logs, and nothing in what is not text."""

from __future__ import annotations

import json
import sqlite3

import pytest

from tests.sensitive_scan import PLANTED, scan_tree


@pytest.fixture
def tmp_path(tmp_path):
    """Under a folder the end-of-session scan passes over: these tests plant numbers on purpose."""
    planted = tmp_path / PLANTED
    planted.mkdir()
    return planted


def _db(path, value: str) -> None:
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE events (id INTEGER PRIMARY KEY, data TEXT)")
    conn.execute("INSERT INTO events (data) VALUES (?)", (value,))
    conn.commit()
    conn.close()


def test_a_card_number_kept_in_a_tracker_event_is_found(tmp_path):
    """Mutation tried: scanning only the top-level text of a JSON value -> the slot value went unseen."""
    _db(tmp_path / "tracker.db", json.dumps({"event": "slot", "value": {"typed": "4111 1111 1111 1111"}}))
    assert scan_tree(tmp_path) == [f"{tmp_path / 'tracker.db'}:events.data"]


def test_an_ssn_in_a_log_line_is_found(tmp_path):
    (tmp_path / "log").mkdir()
    (tmp_path / "log" / "gateway.log").write_text("INFO ok\nERROR boom for 123-45-6789\n")
    assert scan_tree(tmp_path) == [f"{tmp_path / 'log' / 'gateway.log'}:2"]


def test_timestamps_confidences_and_digests_are_not_card_numbers(tmp_path):
    """A tracker event's timestamp (17 digits with a dot) can be Luhn-valid; it is a number, not typed text."""
    _db(tmp_path / "tracker.db", json.dumps({"event": "user", "timestamp": 1796530298.8923655, "text": "hi",
                                             "parse_data": {"intent": {"confidence": 0.9992916584014893}}}))
    _db(tmp_path / "app.db", "0682ac3a2a432bfbe9aba33e5cb2650829130053067cd15d03bb9fe813daaa0e")
    assert scan_tree(tmp_path) == []


def test_a_twilio_sid_is_not_a_card_number_but_a_card_beside_it_is(tmp_path):
    """Twilio's SID is kept as Twilio sent it (the replay check); this one's digit run happens to pass Luhn, as 1 SID
    in 200 does. A card number typed anywhere else in the same value is still found."""
    sid = "SM9f92cec5c8148703655016065884359a"  # its run 8148703655016065884359 holds a Luhn-valid window
    _db(tmp_path / "app.db", json.dumps({"twilio": {"message_sid": sid}}))
    assert scan_tree(tmp_path) == []
    _db(tmp_path / "other.db", json.dumps({"twilio": {"message_sid": sid, "full_text": "4111 1111 1111 1111"}}))
    assert scan_tree(tmp_path) == [f"{tmp_path / 'other.db'}:events.data"]


def test_a_chain_head_inside_a_transcript_copy_is_not_a_card_number_but_a_card_beside_it_is(tmp_path):
    """The transcript copy ends with its hash-chain head; this one's digit run 63255706205473 passes Luhn."""
    head = "c224183a18e6103f9a3e781657a4998e697a63255706205473f203da08361550"
    _db(tmp_path / "app.db", json.dumps({"transcript": f"Chain head: {head}\nYou: what do I owe?"}))
    assert scan_tree(tmp_path) == []
    _db(tmp_path / "other.db", json.dumps({"transcript": f"Chain head: {head}\nYou: 4111 1111 1111 1111"}))
    assert scan_tree(tmp_path) == [f"{tmp_path / 'other.db'}:events.data"]
