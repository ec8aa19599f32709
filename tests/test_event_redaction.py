"""PCI-2 across split messages in Rasa's tracker store: which stored events the rewrite of one message changes, and
how (rasa_extensions/event_redaction.py, stdlib only; the end-to-end test is in tests/integration/test_red_team.py)."""

from __future__ import annotations

import json

from bot.compliance import redaction
from rasa_extensions.event_redaction import redact_user_message, removed_segments

OLD = "my card is 4111 1111"
NEW = redaction.redact_trailing_digits(OLD)  # what the gateway stores and sends: "my card is [REDACTED]"


def user(text: str, message_id: str) -> dict:
    return {"event": "user", "timestamp": 1.0, "text": text, "message_id": message_id, "input_channel": "settle",
            "parse_data": {"intent": {"name": "inform_identity", "confidence": 0.9}, "entities": [], "text": text,
                           "message_id": message_id, "metadata": {"channel": "rest"}},
            "metadata": {"channel": "rest"}}


def conversation() -> list[dict]:
    return [
        {"event": "action", "timestamp": 0.5, "name": "action_session_start"},
        user("hi", "40"),
        {"event": "bot", "timestamp": 0.7, "text": "Hello! Have you 4111 1111?", "data": {}},  # before: untouched
        user(OLD, "41"),
        {"event": "slot", "timestamp": 1.1, "name": "id_dob", "value": OLD},  # from_text: the whole message
        {"event": "slot", "timestamp": 1.2, "name": "id_locator", "value": "41111111"},  # normalised by an action
        {"event": "slot", "timestamp": 1.3, "name": "amount", "value": 41111111},
        {"event": "action", "timestamp": 1.4, "name": "utter_ask_id_dob"},
        {"event": "bot", "timestamp": 1.5, "text": "Did you mean 4111 1111?", "data": {"buttons": []}},
        {"event": "action", "timestamp": 1.6, "name": "action_listen"},
    ]


def test_the_message_and_what_followed_it_lose_the_fragment_and_nothing_before_it_changes():
    events = conversation()
    changed = redact_user_message(events, "41", NEW)
    assert NEW == "my card is [REDACTED]"
    assert sorted(changed) == [3, 4, 5, 6, 8]
    assert changed[3]["text"] == changed[3]["parse_data"]["text"] == NEW
    assert changed[3]["message_id"] == "41" and changed[3]["parse_data"]["intent"]["name"] == "inform_identity"
    assert changed[4]["value"] == NEW
    assert changed[5]["value"] == changed[6]["value"] == "[REDACTED]"
    assert changed[8]["text"] == "Did you mean [REDACTED]?"
    after = [changed.get(i, e) for i, e in enumerate(events)]
    assert "4111" not in json.dumps(after[3:]) and "4111 1111" in json.dumps(after[:3])


def test_rewriting_twice_changes_nothing_the_second_time():
    events = conversation()
    changed = redact_user_message(events, "41", NEW)
    assert redact_user_message([changed.get(i, e) for i, e in enumerate(events)], "41", NEW) == {}


def test_an_id_rasa_never_saw_changes_nothing():
    assert redact_user_message(conversation(), "99", NEW) == {}


def test_the_removed_parts_are_what_the_markers_stand_for():
    assert removed_segments("[REDACTED] and 4111 1111", "[REDACTED] and [REDACTED]") == {"4111 1111"}
    assert removed_segments("4111 1111 then 5555", "[REDACTED] then [REDACTED]") == {"4111 1111", "5555"}
    # Rasa got a button's payload for that message, not its text: all of it goes.
    assert removed_segments('/choose{"n": "4"}', "[REDACTED]") == {'/choose{"n": "4"}'}


def test_the_gateways_rewrite_of_a_real_split_is_understood():
    first = "ok my number is 4111 1111"
    found = redaction.redact("1111 1111", redaction.carry_of(first))
    assert found.redact_previous_tail
    events = [user(first, "7"), {"event": "slot", "name": "pending_request", "value": first}]
    changed = redact_user_message(events, "7", redaction.redact_trailing_digits(first))
    assert "4111" not in json.dumps(changed) and len(changed) == 2
