"""Disputes (DSP-1 to DSP-3): the dispute form and its record. The rules live in bot/disputes.py."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.context import engine
from actions.forms import DeclaredForm
from actions.language import language_of, numbers_text, say
from bot import accounts, disputes
from bot.db import session_scope
from bot.db.models import Account
from bot.plans.affordability import parse_affordability

DONT_KNOW = "unknown"


class ActionAskDisputeKind(Action):
    """Buttons on the web; the same choices numbered in the text so a digit works over SMS."""

    def name(self) -> str:
        return "action_ask_dispute_kind"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        choices = disputes.kind_choices(language_of(tracker))
        lines = "\n".join(f"{i}. {title}" for i, (_, title) in enumerate(choices, start=1))
        dispatcher.utter_message(text=say("dispute_ask_kind", tracker, choices=lines),
                                 buttons=[{"title": title, "payload": title} for _, title in choices])
        return []


def _open_accounts(sender_id: str) -> list[Account]:
    with session_scope(engine()) as session:
        found = disputes.disputable_accounts(session, sender_id)
        session.expunge_all()
    return found


class ActionAskDisputeAccount(Action):
    """DSP-1: with more than one open account, which one the dispute is about; buttons on the web, the same choices
    numbered in the text for SMS."""

    def name(self) -> str:
        return "action_ask_dispute_account"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        choices = disputes.account_choices(_open_accounts(tracker.sender_id), language_of(tracker))
        lines = "\n".join(f"{i}. {title}" for i, title in enumerate(choices, start=1))
        dispatcher.utter_message(text=say("dispute_ask_account", tracker, choices=lines),
                                 buttons=[{"title": title, "payload": title} for title in choices])
        return []


class ValidateDisputeForm(DeclaredForm, FormValidationAction):
    def name(self) -> str:
        return "validate_dispute_form"

    async def required_slots(self, domain_slots: list[str], dispatcher: CollectingDispatcher, tracker: Tracker,
                             domain: DomainDict) -> list[str]:
        # DSP-1: with more than one open account the debtor says which one (or all of them); only a dispute of the
        # amount of one account asks what the right amount is.
        try:
            several = len(_open_accounts(tracker.sender_id)) > 1
        except accounts.NotVerified:
            several = False  # action_record_dispute says why nothing was recorded
        required = ["dispute_kind", "dispute_account"] if several else ["dispute_kind"]
        one_account = not several or tracker.get_slot("dispute_account") not in (None, disputes.ALL_ACCOUNTS)
        if tracker.get_slot("dispute_kind") == disputes.AMOUNT and one_account:
            required.append("dispute_correct_amount")
        return required

    async def validate_dispute_account(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                                       domain: DomainDict) -> dict[str, Any]:
        if value is None:
            return {"dispute_account": None}
        open_accounts = _open_accounts(tracker.sender_id)
        chosen = disputes.parse_account_choice(str(value), open_accounts)
        if chosen is None:
            dispatcher.utter_message(text=say("dispute_account_again", tracker,
                                              numbers=numbers_text(len(open_accounts) + 1, language_of(tracker))))
        return {"dispute_account": chosen}

    async def validate_dispute_kind(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                                    domain: DomainDict) -> dict[str, Any]:
        if value is None:
            return {"dispute_kind": None}
        kind = value if value in disputes.DISPUTE_KINDS else disputes.parse_kind(str(value))
        if kind is None:
            dispatcher.utter_message(text=say("dispute_kind_again", tracker))
        return {"dispute_kind": kind}

    async def validate_dispute_correct_amount(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                                              domain: DomainDict) -> dict[str, Any]:
        if value is None:
            return {"dispute_correct_amount": None}
        text = str(value).lower()
        if any(p in text for p in ("don't know", "dont know", "not sure", "no idea", "unsure", "idk", "no se",
                                   "no sé", "ni idea", "no estoy seguro", "no estoy segura")):
            return {"dispute_correct_amount": DONT_KNOW}
        amount = parse_affordability(text).amount_cents
        if amount is None:
            dispatcher.utter_message(text=say("dispute_amount_again", tracker))
            return {"dispute_correct_amount": None}
        return {"dispute_correct_amount": str(amount)}


class ActionRecordDispute(Action):
    def name(self) -> str:
        return "action_record_dispute"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        kind = tracker.get_slot("dispute_kind")
        clear = [SlotSet("dispute_kind", None), SlotSet("dispute_account", None),
                 SlotSet("dispute_correct_amount", None)]
        if kind not in disputes.DISPUTE_KINDS:
            return clear
        correct = tracker.get_slot("dispute_correct_amount")
        correct_cents = int(correct) if correct and correct.isdigit() else None
        statement = next((e.get("text") for e in reversed(tracker.events) if e.get("event") == "user"), None)
        try:
            with session_scope(engine()) as session:
                opening = accounts.opening_disclosure(session, tracker.sender_id)
                receipts = disputes.record_dispute(session, tracker.sender_id, kind, correct_cents=correct_cents,
                                                   statement=statement,
                                                   account_id=tracker.get_slot("dispute_account"))
        except accounts.NotVerified:
            # ID-1, ID-4: the verification was withdrawn meanwhile (a third party said so while a person had the
            # conversation): nothing about the debt, and Rasa forgets the verification too.
            dispatcher.utter_message(response="utter_verification_stopped")
            return clear + [SlotSet("verified", False)]
        for text in opening:
            dispatcher.utter_message(text=text)
        if receipts:
            dispatcher.utter_message(text=disputes.confirmation(receipts, language_of(tracker)))
        else:
            dispatcher.utter_message(text=say("dispute_no_account", tracker))
        return clear
