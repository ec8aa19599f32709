"""The action server's actions, run as Rasa runs them (rasa-sdk Tracker and dispatcher) on a real database."""

from __future__ import annotations

from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any

import pytest
import yaml
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import select

from actions import context
from actions.answers import ActionAnswerRequest
from actions.sensitive import HARDSHIP_WITH_PERSON, ActionHandleSensitive
from actions.verification import (
    ASK_REFERENCE_AGAIN,
    LOCKED_MESSAGE,
    RETRY_MESSAGE,
    ActionAskIdLocator,
    ActionRequestVerification,
    ValidateVerifyForm,
)
from bot import conversations, wording
from bot.compliance import neutral, person_request, sensitive_requests
from bot.compliance.disclosures import DEBT_COLLECTOR_DISCLOSURE
from bot.db import session_scope
from bot.db.models import Account, AuditEvent, Conversation, Handoff
from bot.identity import IdentityService, answers_to_factors
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


async def test_ID_3_each_failed_try_says_how_many_tries_are_left_and_how_to_reach_a_person(conversation_id):
    """ID-3: after the first failure two tries are left and the bot says so ("Let's try once more" was not true),
    after the second, one; and both say what to do if the details may already be locked, without saying whether
    they are (the same words for any details: a locked person answers as a made-up account). Mutation tried:
    VerificationResult.tries_left computed without this failure -> fails (3, then 2)."""
    slots = {"id_dob": "1980-01-01", "id_secret": "1234"}
    # A reference of its own: the per-locator rate limit is shared by this module's tests.
    _, first = await _validate(conversation_id, slots, {"id_locator": "SET-100077"}, "SET-100077")
    _, second = await _validate(conversation_id, slots, {"id_locator": "SET-100077"}, "SET-100077")
    assert first == [RETRY_MESSAGE] and "this chat has 2 more tries." in first[0]
    assert "this chat has 1 more try." in second[0] and "once more" not in first[0] + second[0]
    assert all("talk to a person" in text and "24 hours" in text for text in first + second)
    for word in ("account", "debt", "exist", "found"):
        assert word not in (first[0] + second[0]).lower()  # DISC-3, ID-1: nothing about a record


async def test_ID_3_the_tries_left_are_said_in_spanish_too():
    from bot import identity

    assert "este chat tiene 2 intentos más." in identity.retry_message(2, "es")
    assert "este chat tiene 1 intento más." in identity.retry_message(1, "es")
    assert "hablar con una persona" in identity.retry_message(1, "es")


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


def _conversation_id(sqlite_engine, channel: str, address: str) -> str:
    with session_scope(sqlite_engine) as session:
        return conversations.get_or_create(session, channel, address).id


async def test_id2_over_sms_an_ssn_tail_needs_no_locator(conversation_id, sqlite_engine):
    """ID-2: DOB + SSN tail + the phone the SMS came from is an accepted set."""
    sms = _conversation_id(sqlite_engine, "sms", "+15555550101")
    set_slots, _ = await _validate(sms, {"id_dob": "1979-03-14"}, {"id_secret": "1234"}, "1234")
    assert set_slots["verified"] is True


async def test_id2_over_sms_a_zip_also_needs_the_account_reference(conversation_id, sqlite_engine):
    """ID-2 (reviewer's gap): DOB + ZIP + phone no longer verifies; the form asks for the account number, and only
    for it, then verifies.

    Mutation tried: adding {DOB, ZIP, PHONE} back into ACCEPTED_FACTOR_SETS; the form verified on the ZIP and
    this test failed."""
    sms = _conversation_id(sqlite_engine, "sms", "+15555550101")
    set_slots, _ = await _validate(sms, {"id_dob": "1979-03-14"}, {"id_secret": "90210"}, "90210")
    # No requested_slot of its own: Rasa's form then asks for the next unfilled slot in domain order, id_locator.
    assert "verified" not in set_slots and "requested_slot" not in set_slots and set_slots["id_secret"] == "90210"

    dispatcher = CollectingDispatcher()
    await ActionAskIdLocator().run(dispatcher, _tracker(sms, {"id_dob": "1979-03-14", "id_secret": "90210"}), DOMAIN)
    assert [m["response"] for m in dispatcher.messages] == ["utter_ask_id_reference"]

    slots = {"id_dob": "1979-03-14", "id_secret": "90210"}
    set_slots, _ = await _validate(sms, slots, {"id_locator": "SET-100001"}, "SET-100001")
    assert set_slots["verified"] is True


async def test_id2_on_the_web_a_zip_and_a_name_are_not_enough(conversation_id):
    """ID-2 (reviewer's gap): DOB + ZIP + full name is refused: the name is asked again as the account number,
    with the SSN tail offered instead, and taking that offer keeps the form going.

    Mutation tried: adding {DOB, ZIP, FULL_NAME} into ACCEPTED_FACTOR_SETS; the name was taken and verified."""
    slots = {"id_dob": "1979-03-14", "id_secret": "90210"}
    set_slots, messages = await _validate(conversation_id, slots, {"id_locator": "Jordan Rivera"}, "Jordan Rivera")
    assert messages == [ASK_REFERENCE_AGAIN] and set_slots["id_locator"] is None and "verified" not in set_slots

    set_slots, messages = await _validate(conversation_id, slots, {"id_locator": "1234"}, "1234")
    assert set_slots["id_secret"] == "1234" and set_slots["id_locator"] is None and messages == []

    dispatcher = CollectingDispatcher()
    await ActionAskIdLocator().run(dispatcher, _tracker(conversation_id, {"id_secret": "1234"}), DOMAIN)
    assert [m["response"] for m in dispatcher.messages] == ["utter_ask_id_locator"]
    set_slots, _ = await _validate(conversation_id, {"id_dob": "1979-03-14", "id_secret": "1234"},
                                   {"id_locator": "Jordan Rivera"}, "Jordan Rivera")
    assert set_slots["verified"] is True


async def test_id3_a_locked_account_gets_the_reply_a_made_up_one_gets(conversation_id, sqlite_engine):
    """ID-3: after the person is locked from another conversation, a caller with the right answers sees, turn by
    turn, exactly what a caller naming an account that does not exist sees: the same words and the same slots.

    Mutation tried: IdentityService.verify returning LOCKED when a candidate person is locked; the first turn
    differed (the form ended 'locked' for the real account, RETRY_MESSAGE for the made-up one)."""
    service = IdentityService()
    with session_scope(sqlite_engine) as session:
        for day in (1, 2, 3):
            service.verify(session, conversation_id, answers_to_factors(
                dob=date(1970, 1, day), secret="1234", locator="SET-100001", phone=None))
    real = _conversation_id(sqlite_engine, "rest", "web-real")
    made_up = _conversation_id(sqlite_engine, "rest", "web-made-up")
    slots = {"id_dob": "1979-03-14", "id_secret": "1234"}
    for _ in range(3):
        seen_real = await _validate(real, slots, {"id_locator": "SET-100001"}, "SET-100001")
        seen_made_up = await _validate(made_up, slots, {"id_locator": "SET-424242"}, "SET-424242")
        assert seen_real == seen_made_up
    assert seen_real[0]["verification_status"] == "locked"  # each conversation's own third failure


async def test_the_prompts_ask_for_what_verifies_and_say_nothing_about_a_debt():
    """ID-2 / DISC-3: the ZIP prompt says the account number is needed too; no verification prompt mentions a
    debt, a creditor or an amount."""
    responses = DOMAIN["responses"]
    secret = responses["utter_ask_id_secret"][-1]["text"]  # the English; the Spanish variation comes first
    assert "ZIP" in secret and "account number" in secret
    spanish = responses["utter_ask_id_secret"][0]["text"]
    assert "código postal" in spanish and "número de cuenta" in spanish
    assert "name" not in responses["utter_ask_id_reference"][-1]["text"]
    assert "nombre" not in responses["utter_ask_id_reference"][0]["text"]
    texts = [responses[name][-1]["text"] for name in ("utter_ask_id_dob", "utter_ask_id_secret",
                                                       "utter_ask_id_locator", "utter_ask_id_reference")]
    texts += [RETRY_MESSAGE, LOCKED_MESSAGE, ASK_REFERENCE_AGAIN]
    for text in texts:
        assert not any(word in text.lower() for word in ("debt", "owe", "balance", "$", "acme", "collect"))
    assert "action_ask_id_locator" in DOMAIN["actions"]


async def test_after_verification_the_balance_follows_the_disclosure(conversation_id):
    """DISC-1 and the ledger's figure."""
    await _validate(conversation_id, {"id_dob": "1979-03-14", "id_secret": "1234"},
                    {"id_locator": "SET-100001"}, "SET-100001")
    dispatcher = CollectingDispatcher()
    await ActionAnswerRequest().run(dispatcher, _tracker(conversation_id, {"verified": True}), DOMAIN)
    texts = [m["text"] for m in dispatcher.messages]
    assert texts[0] == DEBT_COLLECTOR_DISCLOSURE and "$1,234.56" in texts[1]


async def test_N4_a_payment_question_after_verification_answers_and_opens_no_dispute_form(conversation_id):
    """N4 / DSP-1: "did you get my payment?" (ask_payment_status) is answered from our records; it is not an
    already_paid claim, so no dispute form opens and nothing is recorded. Mutation tried: ask_payment_status added to
    the ("dispute_debt", "already_paid") branch of ActionAnswerRequest -> a FollowupAction(dispute_form) -> fails."""
    with session_scope(context.engine()) as session:  # verified as verify_form leaves it (tested above)
        conversation = session.get(Conversation, conversation_id)
        account = session.scalars(select(Account).where(Account.account_ref == "SET-100001")).one()
        conversation.debtor_id, conversation.account_id = account.debtor_id, account.id
        conversation.verified_at = datetime.now(timezone.utc)
    dispatcher = CollectingDispatcher()
    events = await ActionAnswerRequest().run(
        dispatcher, _tracker(conversation_id, {"verified": True, "pending_request": "ask_payment_status"}), DOMAIN)
    texts = [m["text"] for m in dispatcher.messages]
    assert [e for e in events if e["event"] == "followup"] == []
    assert texts[0] == DEBT_COLLECTOR_DISCLOSURE
    assert "I don't see a payment from you in our records yet." in texts[1] and "$1,234.56" in texts[1]


@pytest.mark.parametrize("language, words", [("en", ("I'm an automated assistant, not a person",)),
                                             ("es", ("Soy un asistente automático, no una persona",))])
async def test_DISC_4_DISC_3_who_is_this_gets_the_business_name_and_that_it_is_automated(conversation_id, language,
                                                                                        words):
    """N1/N2: "are you a bot?", "are you a person?", "who is this?" and "what company is this?" (bot_challenge) get
    the neutral business name and "automated assistant, not a person", never a leading "No," that contradicts "are
    you a bot?", and nothing about a debt or creditor (DISC-3: said before verification). Mutation tried: the
    business= value left out of the action (the text says "{business}") -> fails."""
    tracker = _tracker(conversation_id, {"language": language}, intent="bot_challenge", text="who is this?")
    tracker.events[0]["metadata"] = {"language": language}
    dispatcher = CollectingDispatcher()
    from actions.answers import ActionSayWhoWeAre

    assert await ActionSayWhoWeAre().run(dispatcher, tracker, DOMAIN) == []
    (text,) = [m["text"] for m in dispatcher.messages]
    assert context.settings().business_name in text and all(w in text for w in words)
    assert not text.startswith("No")
    assert neutral.is_neutral(text, ["Acme Bank"])
    assert not any(w in text.lower() for w in ("debt", "deuda", "acme", "$", "owe", "balance", "saldo"))
    assert "action_say_who_we_are" in DOMAIN["actions"]


async def test_before_verification_nothing_about_a_debt_is_said(conversation_id):
    """DISC-3 / ID-1: the prompt that starts verification is content-neutral."""
    dispatcher = CollectingDispatcher()
    await ActionRequestVerification().run(dispatcher, _tracker(conversation_id, {}, intent="check_balance"), DOMAIN)
    text = " ".join(m["text"] for m in dispatcher.messages).lower()
    assert "debt" not in text and "$" not in text and "acme" not in text


# --- VUL-2 + HO-1 in one message ---------------------------------------------------------------------------------

HARDSHIP_AND_PERSON = "I lost my job and can't pay anything right now, can I talk to a real person?"


async def _handle_sensitive(conversation_id: str, intent: str, text: str) -> list[str]:
    dispatcher = CollectingDispatcher()
    tracker = Tracker(conversation_id, {}, {"intent": {"name": intent}, "text": text},
                      [{"event": "user", "text": text, "parse_data": {"intent": {"name": intent}}}], False, None,
                      {}, "action_listen")
    await ActionHandleSensitive().run(dispatcher, tracker, DOMAIN)
    return [m["text"] for m in dispatcher.messages]


@pytest.mark.parametrize("intent", ["hardship", "request_human"])
async def test_VUL_2_HO_1_hardship_and_a_person_in_one_message_pauses_and_queues_a_handoff(
        conversation_id, sqlite_engine, intent):
    """Whichever of the two the NLU reads, the debtor gets the hardship pause (VUL-2) and a real handoff (HO-1),
    not "say 'talk to a person'". Mutation tried: the action calling only sensitive_requests.handle for the NLU's
    intent (no person_request.rule_intents) -> no handoff for hardship, no pause for request_human."""
    with session_scope(sqlite_engine) as session:
        conversation = session.get(Conversation, conversation_id)
        account = session.scalars(select(Account)).one()
        conversation.debtor_id, conversation.account_id = account.debtor_id, account.id
        conversation.verified_at = datetime.now(timezone.utc)
    replies = await _handle_sensitive(conversation_id, intent, HARDSHIP_AND_PERSON)
    with session_scope(sqlite_engine) as session:
        handoff = session.scalars(select(Handoff).where(Handoff.conversation_id == conversation_id)).one()
        assert handoff.status == "waiting" and handoff.reason == "hardship" and handoff.rule_id == "VUL-2"
        assert "request_human" in handoff.details["reasons"]
        assert session.scalars(select(Account)).one().collection_paused_reason == "hardship"
        kinds = set(session.scalars(select(AuditEvent.kind).where(AuditEvent.conversation_id == conversation_id)))
        assert {"hardship_reported", "human_requested", "handoff_requested"} <= kinds
    assert replies[0] == HARDSHIP_WITH_PERSON
    assert not any("Say 'talk to a person' to reach" in r for r in replies)  # no "ask again" for a person asked for
    assert "a person on our team" in replies[-1]


async def test_VUL_2_the_hardship_handoff_speaks_the_debtors_spanish(conversation_id, sqlite_engine):
    """bot/language.current, not conversation.language (issue 23): a verified debtor known to read Spanish, in a
    conversation with no language of its own, hears the hardship handoff in Spanish. Mutation tried: the action
    reading conversation.language (English, failed)."""
    with session_scope(sqlite_engine) as session:
        conversation = session.get(Conversation, conversation_id)
        account = session.scalars(select(Account)).one()
        conversation.debtor_id, conversation.account_id = account.debtor_id, account.id
        conversation.verified_at = datetime.now(timezone.utc)
        account.debtor.language = "es"
    replies = await _handle_sensitive(conversation_id, "hardship", HARDSHIP_AND_PERSON)
    assert replies[0] == wording.say("hardship_with_person", "es")


async def test_HO_1_hardship_alone_still_only_offers_a_person(conversation_id, sqlite_engine):
    replies = await _handle_sensitive(conversation_id, "hardship", "i lost my job")
    with session_scope(sqlite_engine) as session:
        assert session.scalars(select(Handoff)).all() == []
    assert replies == [sensitive_requests.RULES["hardship"].reply.format(support=context.settings().support_contact)]


@pytest.mark.parametrize(("intent", "key"), [("cease_contact", "cease_reply"), ("hardship", "hardship_reply"),
                                              ("wrong_person", "wrong_person_reply"), ("deceased", "deceased_reply")])
async def test_CEASE_VUL_2_ID_4_a_spanish_conversation_gets_the_reply_to_its_request_in_spanish(
        conversation_id, sqlite_engine, intent, key):
    """The conversation's language decides the reply; the rule applied is the same (issue 23). Mutation tried:
    sensitive_requests.handle saying the reply with language None (the English reply: failed)."""
    with session_scope(sqlite_engine) as session:
        session.get(Conversation, conversation_id).language = "es"
    # CEASE-4: a deceased reading stands only on words of a death (bot/compliance/report_denials.py).
    text = "mi esposo falleció" if intent == "deceased" else "ya no me llamen"
    replies = await _handle_sensitive(conversation_id, intent, text)
    assert replies == [wording.say(key, "es", support=context.settings().support_contact)]
    assert replies[0] != wording.say(key, "en", support=context.settings().support_contact)
    assert neutral.debt_content(replies[0]) == []  # DISC-3: still nothing about a debt before verification


async def test_an_english_conversation_still_gets_the_english_reply(conversation_id, sqlite_engine):
    replies = await _handle_sensitive(conversation_id, "cease_contact", "stop calling me")
    assert replies == [sensitive_requests.RULES["cease_contact"].reply]


@pytest.mark.parametrize(("intent", "text", "expected"), [
    ("hardship", HARDSHIP_AND_PERSON, ("hardship", "request_human")),
    ("hardship", "i'm in the hospital, let me speak to someone", ("hardship", "request_human")),
    ("hardship", "got laid off. agent please", ("hardship", "request_human")),
    ("hardship", "my manager let me go last week", ("hardship",)),
    ("hardship", "i lost my job", ("hardship",)),
    ("request_human", "human please, i'm unemployed and can’t afford it", ("hardship", "request_human")),
    ("request_human", "talk to a person", ("request_human",)),
    ("check_balance", "what do i owe, real person please", ("check_balance",)),
])
def test_VUL_2_HO_1_rule_intents_reads_the_other_half_of_the_message(intent, text, expected):
    assert person_request.rule_intents(intent, text) == expected
