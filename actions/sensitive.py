"""Adapter for compliance-critical intents; the rules live in bot/compliance/sensitive_requests.py."""

from __future__ import annotations

import re
from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict
from sqlalchemy.orm import Session

from actions.context import engine, identity_service, settings
from actions.forms import DeclaredForm
from actions.language import say
from actions.verification import ID_SLOTS
from bot import disputes, handoff, language, wording
from bot.agents import escalation
from bot.agents.hours import AgentHours
from bot.compliance import person_request, sensitive_requests
from bot.db import session_scope
from bot.db.models import Conversation

# VUL-2 + HO-1 in one message: the hardship reply would offer the person already being fetched, so this short
# acknowledgement comes before the handoff's own reply instead. Content-neutral (DISC-3): said before verification too.
HARDSHIP_WITH_PERSON = wording.say("hardship_with_person")  # the English ones (bot/wording/ has each language)
DETAILS_THANKS = wording.say("details_thanks")


def _hardship_and_person(session: Session, conversation_id: str, text: str, support: str,
                         hours: AgentHours) -> list[str]:
    """VUL-2: pause and record the hardship; HO-1: queue a real handoff, marked as hardship so the person knows
    why, and say what happens next (the wait, or callback times outside agent hours)."""
    sensitive_requests.handle(session, conversation_id, "hardship", text, support, hours=hours)
    accounts = sensitive_requests.accounts_in_scope(session, session.get(Conversation, conversation_id))
    handoff.request(session, conversation_id, "hardship", rule_id="VUL-2",
                    account_id=accounts[0].id if accounts else None)
    # The text has been read once (the VUL-1 military cue) by the hardship call; the request itself needs none.
    conversation = session.get(Conversation, conversation_id)
    said = wording.say("hardship_with_person",
                       language.current(session, conversation) if conversation is not None else None)
    return [said] + sensitive_requests.handle(session, conversation_id, "request_human", "", support,
                                                             hours=hours)


def _already_paid_dispute(dispatcher: CollectingDispatcher, tracker: Tracker) -> list[EventType]:
    if tracker.get_slot("verified"):
        return [SlotSet("pending_request", "already_paid"), FollowupAction("action_answer_request")]
    with session_scope(engine()) as session:
        if identity_service().is_locked(session, tracker.sender_id):
            return [SlotSet("pending_request", None)]  # ID-3: the lockout reply comes when they ask again
    dispatcher.utter_message(text=say("verify_first", tracker))
    return [SlotSet("verification_status", "pending"), SlotSet("pending_request", "already_paid"),
            *[SlotSet(slot, None) for slot in ID_SLOTS], FollowupAction("verify_form")]


class ActionHandleSensitive(Action):
    def name(self) -> str:
        return "action_handle_sensitive"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        intent = tracker.latest_message.get("intent", {}).get("name")
        if intent not in sensitive_requests.RULES:
            dispatcher.utter_message(response="utter_default")
            return []
        text = tracker.latest_message.get("text") or ""
        hours = AgentHours.parse(settings().agent_hours)
        # One intent per message from the NLU; the message's words may carry a second rule (VUL-2 with HO-1).
        intents = person_request.rule_intents(intent, text)
        with session_scope(engine()) as session:
            if intents == ("hardship", "request_human"):
                replies = _hardship_and_person(session, tracker.sender_id, text, settings().support_contact, hours)
            else:
                replies = sensitive_requests.handle(session, tracker.sender_id, intent, text,
                                                    settings().support_contact, hours=hours,
                                                    collector_address=settings().collector_address)
            # HO-1: outside agent hours the last reply offers callback times; over SMS they become numbered lines.
            buttons = escalation.offer_buttons(session, tracker.sender_id) if "request_human" in intents else []
            conversation = session.get(Conversation, tracker.sender_id)
            withdrawn = conversation is None or conversation.verified_at is None
        for number, text in enumerate(replies, start=1):
            dispatcher.utter_message(text=text, buttons=buttons if number == len(replies) and buttons else None)
        # ID-4: a verification the request withdrew (a third party, a death reported) is forgotten by Rasa too.
        unverified = [SlotSet("verified", False), SlotSet("verification_status", None)] \
            if withdrawn and tracker.get_slot("verified") else []
        said = tracker.latest_message.get("text") or ""  # `text` is the last reply by now
        if intent == "cease_contact" and not sensitive_requests.asks_to_cease(said) and \
                disputes.parse_kind(said) == disputes.ALREADY_PAID:
            # DSP-1: no cease, and the message also says it is paid: that claim is a dispute, recorded after
            # verification like any other (ID-1).
            return _already_paid_dispute(dispatcher, tracker)
        return [SlotSet("pending_request", None), *unverified]


_DONT_HAVE = ("don't have", "dont have", "don't know", "dont know", "not sure", "no idea", "idk", "none",
              "no lo tengo", "no tengo", "no sé", "no se", "ni idea", "no estoy seguro", "no estoy segura")


def _clean(value: object) -> str | None:
    text = str(value or "").strip()
    if not text or any(p in text.lower() for p in _DONT_HAVE):
        return "unknown"
    return text[:120]


class ValidateAttorneyForm(DeclaredForm, FormValidationAction):
    """CEASE-2: the attorney's name and phone, nothing else."""

    def name(self) -> str:
        return "validate_attorney_form"

    async def validate_attorney_name(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                                     domain: DomainDict) -> dict[str, Any]:
        return {"attorney_name": None if value is None else _clean(value)}

    async def validate_attorney_phone(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                                      domain: DomainDict) -> dict[str, Any]:
        if value is None:
            return {"attorney_phone": None}
        digits = re.sub(r"\D", "", str(value))
        if len(digits) in (10, 11):
            return {"attorney_phone": "+" + (digits if len(digits) == 11 else "1" + digits)}
        return {"attorney_phone": _clean(value) if _clean(value) == "unknown" else str(value)[:40]}


class ValidateBankruptcyForm(DeclaredForm, FormValidationAction):
    """CEASE-3: only the case number."""

    def name(self) -> str:
        return "validate_bankruptcy_form"

    async def validate_bankruptcy_case_number(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                                              domain: DomainDict) -> dict[str, Any]:
        if value is None:
            return {"bankruptcy_case_number": None}
        match = re.search(r"\b\d{1,2}[-:]?\d{3,6}\b", str(value))
        return {"bankruptcy_case_number": match.group(0) if match else _clean(value)}


class ActionCaptureDetails(Action):
    def name(self) -> str:
        return "action_capture_details"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        fields = ("attorney_name", "attorney_phone", "bankruptcy_case_number")
        values = {f: tracker.get_slot(f) for f in fields if tracker.get_slot(f) not in (None, "unknown")}
        intent = "bankruptcy" if tracker.get_slot("bankruptcy_case_number") else "attorney_represented"
        with session_scope(engine()) as session:
            sensitive_requests.capture(session, tracker.sender_id, intent, values)
        dispatcher.utter_message(text=say("details_thanks", tracker))
        return [SlotSet(f, None) for f in fields]
