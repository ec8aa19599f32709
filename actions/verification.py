"""Identity verification (ID-1, ID-2, ID-3): the verify_form and what starts it."""

from __future__ import annotations

from datetime import date
from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.context import engine, identity_service, phone_of
from actions.forms import DeclaredForm
from bot import identity
from bot.db import session_scope

ID_SLOTS = ("id_dob", "id_secret", "id_locator")

LOCKED_MESSAGE = (
    "Sorry, I couldn't confirm your details. For your security, I can't share account details in chat "
    "for the next 24 hours. Say 'talk to a person' and someone on our team can help."
)
RETRY_MESSAGE = "Sorry, I couldn't confirm those details. Let's try once more."
ASK_DOB_AGAIN = "Sorry, I didn't catch that date. Please type it like this: 03/14/1979."
ASK_SECRET_AGAIN = (
    "Sorry, I didn't catch that. Please type the last 4 digits of your Social Security number, "
    "or your 5-digit ZIP code."
)
ASK_LOCATOR_AGAIN = (
    "Sorry, I didn't catch that. Please type the account number from our letter (like SET-100001), "
    "or your first and last name."
)


class ActionRequestVerification(Action):
    """Remembers what was asked and starts the check, unless this conversation is locked out (ID-3)."""

    def name(self) -> str:
        return "action_request_verification"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        intent = tracker.latest_message.get("intent", {}).get("name")
        request = intent if intent != "inform_identity" else None
        with session_scope(engine()) as session:
            locked = identity_service().is_locked(session, tracker.sender_id)
        if locked:
            dispatcher.utter_message(text=LOCKED_MESSAGE)
            return [SlotSet("verification_status", "locked"), SlotSet("pending_request", None)]
        if request:
            # Neutral wording: no "debt", creditor or amount before verification (DISC-3).
            dispatcher.utter_message(text="I can help with that. First I need to confirm who you are.")
        else:
            dispatcher.utter_message(text="Thanks. Let me confirm who you are.")
        return [SlotSet("verification_status", "pending"), SlotSet("pending_request", request),
                *[SlotSet(s, None) for s in ID_SLOTS]]


class ValidateVerifyForm(DeclaredForm, FormValidationAction):
    def name(self) -> str:
        return "validate_verify_form"

    async def required_slots(
        self, domain_slots: list[str], dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[str]:
        if tracker.get_slot("verification_status") == "locked":
            return []
        phone = phone_of(tracker.sender_id)
        # Over SMS the phone number finds the account; elsewhere the debtor names it.
        return ["id_dob", "id_secret"] if phone else list(domain_slots)

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
                   dispatcher: CollectingDispatcher) -> dict[str, Any]:
        if value is None:  # a slot cleared before the form started, not an answer
            return {slot: None}
        if parsed is None:
            dispatcher.utter_message(text=reprompt)
            return {slot: None}
        if slot == "id_locator":
            return {slot: parsed}
        return {slot: parsed, **self._opportunistic(str(value), slot)}

    async def validate_id_dob(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        dob = identity.parse_dob(str(value or ""))
        return self._validated("id_dob", value, dob.isoformat() if dob else None, ASK_DOB_AGAIN, dispatcher)

    async def validate_id_secret(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        secret = identity.parse_secret(str(value or ""))
        return self._validated("id_secret", value, secret[1] if secret else None, ASK_SECRET_AGAIN, dispatcher)

    async def validate_id_locator(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        locator = identity.parse_locator(str(value or ""))
        return self._validated("id_locator", value, locator, ASK_LOCATOR_AGAIN, dispatcher)

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
        phone = phone_of(tracker.sender_id)
        with session_scope(engine()) as session:
            result = identity_service().verify(
                session, tracker.sender_id,
                dob=date.fromisoformat(values["id_dob"]), secret=values["id_secret"],
                phone=phone, locator=None if phone else values["id_locator"],
            )
        # The factors are dropped from the tracker as soon as they have been checked.
        cleared = [SlotSet(slot, None) for slot in ID_SLOTS]
        if result.status == identity.VERIFIED:
            return cleared + [SlotSet("verified", True), SlotSet("verification_status", "verified"),
                              SlotSet("requested_slot", None)]
        if result.status == identity.LOCKED:
            # Fill nothing further: the form ends and action_answer_request says why (ID-3).
            return cleared + [SlotSet("verification_status", "locked"), SlotSet("requested_slot", None)]
        dispatcher.utter_message(text=RETRY_MESSAGE)
        first = "id_dob"
        return cleared + [SlotSet("requested_slot", first)]
