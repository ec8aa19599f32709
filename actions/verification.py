"""Identity verification (ID-1, ID-2, ID-3): the verify_form and what starts it."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.context import engine, identity_service, phone_of, settings
from actions.forms import DeclaredForm
from actions.language import language_of, say
from bot import identity, wording
from bot.compliance import sensitive_requests
from bot.db import session_scope

ID_SLOTS = ("id_dob", "id_secret", "id_locator")

# The English texts, by their old names (the wording itself is in bot/wording/, one catalogue per language).
LOCKED_MESSAGE = wording.say("verify_locked")
RETRY_MESSAGE = identity.retry_message(2)  # after a first failure
THROTTLED_MESSAGE = wording.say("verify_throttled")
VERIFY_FIRST = wording.say("verify_first")
VERIFY_START = wording.say("verify_start")
ASK_DOB_AGAIN = wording.say("ask_dob_again")
ASK_SECRET_AGAIN = wording.say("ask_secret_again")
ASK_LOCATOR_AGAIN = wording.say("ask_locator_again")
ASK_REFERENCE_AGAIN = wording.say("ask_reference_again")

# Requests the NLU may read in a message sent while the check waits for an answer; each needs a verified debtor
# (ID-1), so it is answered afterwards. Questions anyone may have answered (who is writing, "will you sue me?") and
# compliance requests are the forms' rules instead (data/rules/), never read as an answer (domain/ not_intent).
_QUESTIONS = frozenset({"check_balance", "pay_now", "request_payment_plan", "dispute_debt", "already_paid",
                        "ask_must_pay", "ask_plan_status", "ask_payment_status"})


def _asked(tracker: Tracker) -> str | None:
    """The request the NLU read in the latest message, if it is one of _QUESTIONS."""
    intent = (tracker.latest_message.get("intent") or {}).get("name")
    return intent if intent in _QUESTIONS else None


class ActionRequestVerification(Action):
    """Remembers what was asked and starts the check, unless this conversation is locked out (ID-3)."""

    def name(self) -> str:
        return "action_request_verification"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        intent = tracker.latest_message.get("intent", {}).get("name")
        request = intent if intent != "inform_identity" else None
        with session_scope(engine()) as session:
            handed_over = sensitive_requests.handed_to_a_person(session, tracker.sender_id,
                                                                settings().support_contact)
            locked = identity_service().is_locked(session, tracker.sender_id)
        if handed_over:
            # ID-4, CEASE-4: no identity check after a third party or a death was reported here; a person
            # takes it. "locked" ends the turn like the lockout does (data/rules/verification.yml).
            dispatcher.utter_message(text=handed_over)
            return [SlotSet("verification_status", "locked"), SlotSet("pending_request", None)]
        if locked:
            dispatcher.utter_message(text=say("verify_locked", tracker))
            return [SlotSet("verification_status", "locked"), SlotSet("pending_request", None)]
        dispatcher.utter_message(text=say("verify_first" if request else "verify_start", tracker))
        # ID-2: what the debtor already gave is kept, and the form asks only for the rest (it validates these
        # when it starts, as it does an answer); nothing is said about them, so no single factor is confirmed.
        given = _volunteered(tracker)
        answers = {"id_dob": given.dob.isoformat() if given.dob else None,
                   "id_secret": given.ssn_last4 or given.zip,
                   "id_locator": given.account_ref or given.full_name}
        return [SlotSet("verification_status", "pending"), SlotSet("pending_request", request),
                *[SlotSet(slot, answers[slot]) for slot in ID_SLOTS]]


# Where the messages the identity check may still use begin: a session start, or the form's last run (its answers
# were asked for, and a failed check must not be tried again with the same factors, ID-3).
_BOUNDARIES = frozenset({"verify_form", "action_session_start"})


def _volunteered(tracker: Tracker) -> identity.Factors:
    """The factors the debtor gave in this conversation's messages since the identity form last ran, read from the
    tracker of this turn (the parse Rasa made of each message) rather than from stored text, which is masked."""
    messages: list[identity.Factors] = []
    for event in reversed(tracker.events):
        if event.get("event") == "session_started" or (
                event.get("event") == "action" and event.get("name") in _BOUNDARIES):
            break
        text = event.get("text") or ""
        if event.get("event") != "user" or text.startswith("/"):  # the debtor's own words, not a button's payload
            continue
        intent = ((event.get("parse_data") or {}).get("intent") or {}).get("name")
        # LANG-1: "02/11/1985" from a Spanish speaker is the 2nd of November, as the form reads its own answer.
        messages.append(identity.volunteered_factors(text, identity_details=intent == "inform_identity",
                                                     language=language_of(tracker)))
    return identity.combine(reversed(messages))


class ValidateVerifyForm(DeclaredForm, FormValidationAction):
    def name(self) -> str:
        return "validate_verify_form"

    async def required_slots(
        self, domain_slots: list[str], dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[str]:
        if tracker.get_slot("verification_status") == "locked":
            return []
        # The locator is asked for only when the answers so far make no accepted factor set (ID-2): over SMS the
        # phone finds the record beside an SSN tail, but a ZIP still needs the account reference.
        if phone_of(tracker.sender_id) and _completing_locators(tracker) == frozenset():
            return ["id_dob", "id_secret"]
        return list(domain_slots)

    @staticmethod
    def _opportunistic(text: str, skip: str) -> dict[str, Any]:
        """Answers to later questions given early ("3/14/79, zip 90210") are kept, not asked again."""
        found = identity.extract_factors(text)
        extra: dict[str, Any] = {}
        if skip != "id_dob" and found.dob:
            extra["id_dob"] = found.dob.isoformat()
        secret = identity.parse_secret(text)
        if skip != "id_secret" and secret:
            extra["id_secret"] = secret[1]
        if skip != "id_locator" and found.account_ref:
            extra["id_locator"] = found.account_ref
        return extra

    def _validated(self, slot: str, value: Any, parsed: str | None, reprompt: str,
                   dispatcher: CollectingDispatcher, tracker: Tracker | None = None) -> dict[str, Any]:
        if value is None:  # a slot cleared before the form started, not an answer
            return {slot: None}
        # Only a reply to the form's question may be a question: a value given before the form started came from
        # the debtor's words read as factors (action_request_verification), whatever the message asked.
        question = _asked(tracker) if tracker is not None and tracker.get_slot("requested_slot") else None
        if slot == "id_locator" and parsed is not None and not identity.is_account_ref(parsed) and question:
            # Any few words read as a name, so a question here ("did you get my payment") would be checked as
            # one and spend a try (ID-3); the NLU's reading decides. An account reference is an answer whatever.
            parsed = None
        if parsed is None:
            if question:
                # "do I have to pay his debt?" mid-check: a question, not a badly typed answer; it is the one
                # answered when the check is done (action_answer_request reads pending_request).
                # The form asks its question again right after (its utter_ask_*): said once, not twice.
                dispatcher.utter_message(text=say("verify_question_first", tracker))
                return {slot: None, "pending_request": question}
            dispatcher.utter_message(text=reprompt)
            return {slot: None}
        if slot == "id_locator":
            return {slot: parsed}
        return {slot: parsed, **self._opportunistic(str(value), slot)}

    async def validate_id_dob(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        dob = identity.parse_dob(str(value or ""), language=language_of(tracker))
        if dob is None and value is not None:
            kept = _kept_for_later(str(value), dispatcher, tracker)
            if kept:
                return kept
        return self._validated("id_dob", value, dob.isoformat() if dob else None, say("ask_dob_again", tracker),
                              dispatcher, tracker)

    async def validate_id_secret(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        secret = identity.parse_secret(str(value or ""))
        corrected = None if secret else _corrected_dob(value, tracker)
        if corrected:
            return {"id_secret": None, "id_dob": corrected}
        return self._validated("id_secret", value, secret[1] if secret else None, say("ask_secret_again", tracker),
                              dispatcher, tracker)

    async def validate_id_locator(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        text = str(value or "")
        locator = identity.parse_locator(text)
        corrected = None if locator or identity.parse_secret(text) else _corrected_dob(value, tracker)
        if corrected:
            return {"id_locator": None, "id_dob": corrected}
        if value is not None and _completing_locators(tracker) == {identity.Factor.ACCOUNT_REF}:
            # A ZIP was given, so only the account reference completes the check (ID-2).
            if locator and identity.answers_to_factors(dob=None, secret=None, locator=locator, phone=None).account_ref:
                return {"id_locator": locator}
            secret = identity.parse_secret(text)
            if secret and secret[0] == "ssn_last4":
                # The debtor took the offer of the SSN's last four instead; the locator is asked again.
                return {"id_locator": None, "id_secret": secret[1]}
            return self._validated("id_locator", value, None, say("ask_reference_again", tracker), dispatcher,
                                   tracker)
        return self._validated("id_locator", value, locator, say("ask_locator_again", tracker), dispatcher, tracker)

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        events = await super().run(dispatcher, tracker, domain)
        values = {slot: tracker.get_slot(slot) for slot in ID_SLOTS}
        for event in events:
            if event.get("event") == "slot" and event.get("name") in values:
                values[event["name"]] = event.get("value")
        required = await self.required_slots(self.domain_slots(domain), dispatcher, tracker, domain)
        if not required or any(values[slot] is None for slot in required):
            return events
        return events + self._check(dispatcher, tracker, values)

    def _check(self, dispatcher: CollectingDispatcher, tracker: Tracker, values: dict[str, Any]) -> list[EventType]:
        factors = identity.answers_to_factors(
            dob=date.fromisoformat(values["id_dob"]), secret=values["id_secret"], locator=values["id_locator"],
            phone=phone_of(tracker.sender_id),
        )
        if not identity.is_sufficient(factors.kinds()):
            # required_slots asks for what an accepted set needs, so this is only a stale slot: ask again.
            return [SlotSet("id_locator", None), SlotSet("requested_slot", "id_locator")]
        with session_scope(engine()) as session:
            result = identity_service().verify(session, tracker.sender_id, factors)
        # The factors are dropped from the tracker as soon as they have been checked.
        cleared = [SlotSet(slot, None) for slot in ID_SLOTS]
        if result.status == identity.VERIFIED:
            for text in result.said:  # PLAN-2: a request made before verification, done now
                dispatcher.utter_message(text=text)
            return cleared + [SlotSet("verified", True), SlotSet("verification_status", "verified"),
                              SlotSet("requested_slot", None)]
        if result.status == identity.LOCKED:
            # Only this conversation's own third failure gets here; a locked person answers as FAILED below,
            # word for word what a record that does not exist gets (ID-3).
            # Fill nothing further: the form ends and action_answer_request says why (ID-3).
            return cleared + [SlotSet("verification_status", "locked"), SlotSet("requested_slot", None)]
        if result.status == identity.THROTTLED:
            minutes = max(1, -(-result.retry_after // 60))
            wait = say("minute_one", tracker) if minutes == 1 else say("minutes_many", tracker, count=minutes)
            dispatcher.utter_message(text=say("verify_throttled", tracker, minutes=wait))
        else:
            dispatcher.utter_message(text=identity.retry_message(result.tries_left, language_of(tracker)))
        first = "id_dob"
        return cleared + [SlotSet("requested_slot", first)]


def _corrected_dob(value: Any, tracker: Tracker) -> str | None:
    """ID-2: a date of birth typed where a later question was asked ("03/14/1979" after "03/15/1979") corrects the
    one given: it replaces it before anything is checked (no try spent, no factor confirmed), instead of "I didn't
    catch that" and a check of the wrong date. The date as the form reads it (day first in Spanish)."""
    if value is None:
        return None
    dob = identity.parse_dob(str(value), language=language_of(tracker))
    return dob.isoformat() if dob else None


def _kept_for_later(text: str, dispatcher: CollectingDispatcher, tracker: Tracker) -> dict[str, Any]:
    """ID-2, LANG-1: the last 4 of the SSN, a ZIP or an account reference typed where the date was asked ("4455",
    "SET-100015") is an answer to a later question, not a badly typed date: kept for its own slot (checked with the
    rest, never confirmed alone) and the date asked for again, instead of "I didn't catch that date" in a loop."""
    # Only digits that are the whole answer: "my card is 4111 1111" is no last four (PCI-2 may yet join it with the
    # next message into a card number, and a slot would keep "4111" in Rasa's tracker store).
    digits = len(re.sub(r"\D", "", text))
    secret = identity.parse_secret(text) if digits in (4, 5, 9) else None
    reference = identity.extract_factors(text).account_ref
    kept = {"id_secret": secret[1]} if secret else {}
    kept |= {"id_locator": reference} if reference else {}
    if not kept:
        return {}
    dispatcher.utter_message(text=say("verify_kept", tracker))  # the form asks for the date next
    return {"id_dob": None, **kept}


class ActionAskIdLocator(Action):
    """Asks for what finds the record, naming only what would verify with the answers so far (ID-2)."""

    def name(self) -> str:
        return "action_ask_id_locator"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        only_reference = _completing_locators(tracker) == {identity.Factor.ACCOUNT_REF}
        dispatcher.utter_message(response="utter_ask_id_reference" if only_reference else "utter_ask_id_locator")
        return []


def _completing_locators(tracker: Tracker) -> frozenset[identity.Factor]:
    """Which locators would complete an accepted factor set with the date of birth and secret given so far."""
    secret = tracker.get_slot("id_secret")
    # The date of birth is always asked for, so it counts as given here.
    given = identity.answers_to_factors(
        dob=None, secret=str(secret) if secret else None, locator=None, phone=phone_of(tracker.sender_id)
    ).kinds() | {identity.Factor.DOB}
    if not secret:
        # The secret is not known yet: ask for a locator unless the phone may do (it does beside an SSN tail).
        if identity.Factor.PHONE in given:
            return frozenset()
        return frozenset({identity.Factor.ACCOUNT_REF, identity.Factor.FULL_NAME})
    return identity.completing_locators(given)
