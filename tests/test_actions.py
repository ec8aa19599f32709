"""The action server's actions, run as Rasa runs them (rasa-sdk Tracker and dispatcher) on a real database."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions import context
from actions.answers import ActionAnswerRequest
from actions.verification import LOCKED_MESSAGE, RETRY_MESSAGE, ActionRequestVerification, ValidateVerifyForm
from bot import conversations
from bot.compliance.disclosures import DEBT_COLLECTOR_DISCLOSURE
from bot.db import session_scope
from tests.conftest import add_debtor


def _load_domain() -> dict[str, Any]:
    """The domain as Rasa hands it to actions: the files of domain/ merged."""
    merged: dict[str, Any] = {}
    for path in sorted((Path(__file__).resolve().parent.parent / "domain").glob("*.yml")):
        for key, value in (yaml.safe_load(path.read_text()) or {}).items():
            if isinstance(value, dict):
                merged.setdefault(key, {}).update(value)
            elif isinstance(value, list):
                merged.setdefault(key, []).extend(value)
    return merged


DOMAIN = _load_domain()


@pytest.fixture
def conversation_id(sqlite_engine, sqlite_url, monkeypatch) -> str:
    monkeypatch.setenv("DATABASE_URL", sqlite_url)
    context.settings.cache_clear()
    with session_scope(sqlite_engine) as session:
        add_debtor(session)
        conv_id = conversations.get_or_create(session, "rest", "web-1").id
    yield conv_id
    context.settings.cache_clear()


def _tracker(sender: str, slots: dict[str, Any], intent: str = "inform_identity", text: str = "",
             candidates: dict[str, Any] | None = None) -> Tracker:
    events = [{"event": "user", "text": text, "parse_data": {"intent": {"name": intent}}}]
    events += [{"event": "slot", "name": k, "value": v} for k, v in (candidates or {}).items()]
    all_slots = {"verified": False, "verification_status": "pending", "pending_request": "check_balance",
                 "id_dob": None, "id_secret": None, "id_locator": None, "requested_slot": None, **slots,
                 **(candidates or {})}
    return Tracker(sender, all_slots, {"intent": {"name": intent}, "text": text}, events, False, None,
                   {"name": "verify_form"}, "action_listen")


async def _validate(sender: str, slots: dict[str, Any], answer: dict[str, Any], text: str):
    dispatcher = CollectingDispatcher()
    events = await ValidateVerifyForm().run(dispatcher, _tracker(sender, slots, text=text, candidates=answer),
                                            DOMAIN)
    return {e["name"]: e["value"] for e in events if e["event"] == "slot"}, [m["text"] for m in dispatcher.messages]


async def test_the_form_verifies_the_right_answers(conversation_id):
    slots = {"id_dob": "1979-03-14", "id_secret": "1234"}
    set_slots, messages = await _validate(conversation_id, slots, {"id_locator": "SET-100001"}, "SET-100001")
    assert set_slots["verified"] is True and set_slots["verification_status"] == "verified"
    assert set_slots["requested_slot"] is None
    assert set_slots["id_dob"] is None and set_slots["id_secret"] is None  # factors are not kept
    assert messages == []


async def test_a_badly_typed_date_is_asked_again_politely(conversation_id):
    set_slots, messages = await _validate(conversation_id, {}, {"id_dob": "the fourteenth"}, "the fourteenth")
    assert set_slots["id_dob"] is None
    assert messages == ["Sorry, I didn't catch that date. Please type it like this: 03/14/1979."]


async def test_answers_given_early_are_not_asked_again(conversation_id):
    set_slots, _ = await _validate(conversation_id, {}, {"id_dob": "3/14/79 zip 90210"}, "3/14/79 zip 90210")
    assert set_slots["id_dob"] == "1979-03-14" and set_slots["id_secret"] == "90210"


async def test_wrong_details_start_again_without_saying_which_was_wrong(conversation_id):
    """ID-2."""
    slots = {"id_dob": "1980-01-01", "id_secret": "1234"}
    set_slots, messages = await _validate(conversation_id, slots, {"id_locator": "SET-100001"}, "SET-100001")
    assert messages == [RETRY_MESSAGE]
    assert set_slots["requested_slot"] == "id_dob" and "verified" not in set_slots


async def test_third_failure_ends_the_form_locked_and_the_answer_says_so(conversation_id):
    """ID-3: three failures lock disclosure; the debtor is offered a person."""
    slots = {"id_dob": "1980-01-01", "id_secret": "1234"}
    for _ in range(2):
        await _validate(conversation_id, slots, {"id_locator": "SET-100001"}, "SET-100001")
    set_slots, _ = await _validate(conversation_id, slots, {"id_locator": "SET-100001"}, "SET-100001")
    assert set_slots["verification_status"] == "locked" and set_slots["requested_slot"] is None

    dispatcher = CollectingDispatcher()
    await ActionAnswerRequest().run(dispatcher, _tracker(conversation_id, {"verification_status": "locked"}), DOMAIN)
    assert [m["text"] for m in dispatcher.messages] == [LOCKED_MESSAGE]
    assert "talk to a person" in LOCKED_MESSAGE

    dispatcher = CollectingDispatcher()
    events = await ActionRequestVerification().run(
        dispatcher, _tracker(conversation_id, {}, intent="check_balance"), DOMAIN)
    assert {"event": "slot", "name": "verification_status", "value": "locked"} in [
        {k: e[k] for k in ("event", "name", "value")} for e in events if e["event"] == "slot"]


async def test_after_verification_the_balance_follows_the_disclosure(conversation_id):
    """DISC-1 and the ledger's figure."""
    await _validate(conversation_id, {"id_dob": "1979-03-14", "id_secret": "1234"},
                    {"id_locator": "SET-100001"}, "SET-100001")
    dispatcher = CollectingDispatcher()
    await ActionAnswerRequest().run(dispatcher, _tracker(conversation_id, {"verified": True}), DOMAIN)
    texts = [m["text"] for m in dispatcher.messages]
    assert texts[0] == DEBT_COLLECTOR_DISCLOSURE and "$1,234.56" in texts[1]


async def test_before_verification_nothing_about_a_debt_is_said(conversation_id):
    """DISC-3 / ID-1: the prompt that starts verification is content-neutral."""
    dispatcher = CollectingDispatcher()
    await ActionRequestVerification().run(dispatcher, _tracker(conversation_id, {}, intent="check_balance"), DOMAIN)
    text = " ".join(m["text"] for m in dispatcher.messages).lower()
    assert "debt" not in text and "$" not in text and "acme" not in text
