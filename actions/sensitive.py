"""Adapter for compliance-critical intents; the rules live in bot/compliance/sensitive_requests.py."""

from __future__ import annotations

import re
from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.context import engine, identity_service, settings
from actions.forms import DeclaredForm
from actions.language import say
from actions.verification import ID_SLOTS
from bot import disputes, wording
from bot.agents import escalation
from bot.agents.hours import AgentHours
from bot.compliance import person_request, report_denials, report_details, sensitive_requests
from bot.db import session_scope
from bot.db.models import Conversation

# VUL-2 + HO-1 in one message: the hardship reply would offer the person already being fetched, so this short
# acknowledgement comes before the handoff's own reply instead. Content-neutral (DISC-3): said before verification too.
HARDSHIP_WITH_PERSON = wording.say("hardship_with_person")  # the English ones (bot/wording/ has each language)
DETAILS_THANKS = wording.say("details_thanks")


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
        denied = _denied_report(dispatcher, tracker, intent, text)
        if denied is not None:
            return denied
        if intent == "request_human" and _asked_when_written(tracker) == ("bankruptcy_form", "bankruptcy_case_number") \
                and report_details.asks_about_case_number(text):
            # CEASE-3: "what is a case number?" read as a request for a person (no person's words in it) ended the
            # form by its rule; it is answered as the form answers it, and the form asks for the number again.
            dispatcher.utter_message(text=say("bankruptcy_question_reply", tracker))
            return [FollowupAction("bankruptcy_form")]
        hours = AgentHours.parse(settings().agent_hours)
        # One intent per message from the NLU; the message's words may carry a second rule (VUL-2 with HO-1).
        intents = person_request.rule_intents(intent, text)
        with session_scope(engine()) as session:
            if intents == ("hardship", "request_human"):
                replies = sensitive_requests.hardship_and_person(session, tracker.sender_id, text,
                                                                 settings().support_contact, hours)
            else:
                replies = sensitive_requests.handle(session, tracker.sender_id, intent, text,
                                                    settings().support_contact, hours=hours,
                                                    collector_address=settings().collector_address)
            # HO-1: outside agent hours the last reply offers callback times; over SMS they become numbered lines.
            buttons = escalation.offer_buttons(session, tracker.sender_id) if "request_human" in intents else []
            conversation = session.get(Conversation, tracker.sender_id)
            withdrawn = conversation is None or conversation.verified_at is None
        for number, reply in enumerate(replies, start=1):
            dispatcher.utter_message(text=reply, buttons=buttons if number == len(replies) and buttons else None)
        # ID-4: a verification the request withdrew (a third party, a death reported) is forgotten by Rasa too.
        unverified = [SlotSet("verified", False), SlotSet("verification_status", None)] \
            if withdrawn and tracker.get_slot("verified") else []
        said = tracker.latest_message.get("text") or ""
        if intent == "cease_contact" and not sensitive_requests.asks_to_cease(said) and \
                disputes.claims_paid(said):
            # DSP-1: no cease, and the message also says it is paid: that claim is a dispute, recorded after
            # verification like any other (ID-1).
            return _already_paid_dispute(dispatcher, tracker)
        # CEASE-2, CEASE-3: the details given with the report (a name and phone, a case number) are taken, so the
        # form asks only for what is missing.
        given = (_details_from_the_gateway(tracker) or report_details.attorney_details(said)) \
            if intent == "attorney_represented" else {}
        number = report_details.case_number_in_report(said) if intent == "bankruptcy" else None
        given |= {"bankruptcy_case_number": number} if number else {}
        return [SlotSet("pending_request", None), *unverified, *(SlotSet(k, v) for k, v in given.items())]


def _denied_report(dispatcher: CollectingDispatcher, tracker: Tracker, intent: str,
                   text: str) -> list[EventType] | None:
    """CEASE-1..4, ID-4: words that say the opposite of the report the NLU read take no effect
    (sensitive_requests.denied_report). The helpful answer is said; then the identity check goes on where it was
    asking, or the turn ends, so the report's own form (attorney_form, bankruptcy_form) never starts. None when the
    words do not deny the report."""
    if not report_denials.denies(intent, text):
        return None  # the usual case, with no query
    loop, slot = _asked_when_written(tracker)
    asked = slot if loop == "verify_form" and slot else None
    with session_scope(engine()) as session:
        denial = sensitive_requests.denied_report(session, tracker.sender_id, intent, text,
                                                  settings().support_contact, asked_slot=asked,
                                                  business=settings().business_name)
        if denial is None:
            return None
        conversation = session.get(Conversation, tracker.sender_id)
        withdrawn = conversation is None or conversation.verified_at is None
    for reply in denial.replies:
        dispatcher.utter_message(text=reply)
    if denial.fallback:
        dispatcher.utter_message(response="utter_default")
    if denial.resume_check:
        return [FollowupAction("verify_form")]
    # ID-4: a third party answering for the debtor (a "death" that was none) withdraws a verification here too.
    unverified = [SlotSet("verified", False), SlotSet("verification_status", None)] \
        if withdrawn and tracker.get_slot("verified") else []
    return [*unverified, FollowupAction("action_listen")]


def _details_from_the_gateway(tracker: Tracker) -> dict[str, str]:
    """CEASE-2: the attorney's name and phone the gateway read in the words of a report it sent as the attorney
    request (the text Rasa gets is then the request alone: sensitive_requests.attorney_in_words)."""
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            sent = (event.get("metadata") or {}).get(sensitive_requests.ATTORNEY_DETAILS) or {}
            return {k: str(v) for k, v in sent.items() if k in ("attorney_name", "attorney_phone") and v}
    return {}


def _asked_when_written(tracker: Tracker) -> tuple[str | None, str | None]:
    """The form that was active, and the slot it was asking for, when the latest message came in (a rule may have
    ended the form since)."""
    loop: str | None = None
    slot: str | None = None
    asked: tuple[str | None, str | None] = (None, None)
    for event in tracker.events:
        kind = event.get("event")
        if kind == "user":
            asked = (loop, slot)
        elif kind == "active_loop":
            loop = event.get("name")
        elif kind == "slot" and event.get("name") == "requested_slot":
            slot = event.get("value")
        elif kind in ("restart", "session_started"):
            loop = slot = None
    return asked


_DONT_HAVE = ("don't have", "dont have", "don't know", "dont know", "not sure", "no idea", "idk", "none",
              "no lo tengo", "no tengo", "no sé", "no se", "ni idea", "no estoy seguro", "no estoy segura")


def _clean(value: object) -> str | None:
    text = str(value or "").strip()
    if not text or any(p in text.lower() for p in _DONT_HAVE):
        return "unknown"
    return text[:120]


def _answered_question(value: object, dispatcher: CollectingDispatcher, tracker: Tracker) -> bool:
    """CEASE-2: "can I still pay you directly?" where the attorney's details were asked is a question, never a
    detail: it is answered (once represented, we deal with the attorney) and the form asks again."""
    if not report_details.is_question(str(value)):
        return False
    dispatcher.utter_message(text=say("attorney_question_reply", tracker))
    return True


class ValidateAttorneyForm(DeclaredForm, FormValidationAction):
    """CEASE-2: the attorney's name and phone, nothing else."""

    def name(self) -> str:
        return "validate_attorney_form"

    async def validate_attorney_name(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                                     domain: DomainDict) -> dict[str, Any]:
        if value is not None and _answered_question(value, dispatcher, tracker):
            return {"attorney_name": None}
        if value is None:
            return {"attorney_name": None}
        given = report_details.name_answer(str(value))  # "Sam Ortiz, 212-555-0100": the phone is not asked again
        return {**given, "attorney_name": _clean(given["attorney_name"]) if "attorney_name" in given else None}

    async def validate_attorney_phone(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                                      domain: DomainDict) -> dict[str, Any]:
        if value is None or _answered_question(value, dispatcher, tracker):
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
        if report_details.asks_instead_of_case_number(str(value)):
            # CEASE-3: a question is answered and the number asked for once more, never stored as the number.
            dispatcher.utter_message(text=say("bankruptcy_question_reply", tracker))
            return {"bankruptcy_case_number": None}
        number = report_details.case_number(str(value))  # CEASE-3: whole, as written ("1:26-bk-12345")
        return {"bankruptcy_case_number": number or _clean(value)}


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
