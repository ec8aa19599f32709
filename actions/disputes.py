"""Disputes (DSP-1 to DSP-3): the dispute form and its record. The rules live in bot/disputes.py."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.context import engine, settings
from actions.forms import DeclaredForm
from actions.language import language_of, numbers_text, say
from bot import accounts, disputes
from bot.agents.hours import AgentHours
from bot.db import session_scope
from bot.db.models import Account
from bot.money import format_cents
from bot.plans.affordability import parse_affordability

DONT_KNOW = "unknown"
# The intents whose own rules take the message (domain/disputes.yml `not_intent`): never answered here instead.
RULE_INTENTS = frozenset({"request_human", "opt_out", "cease_contact", "attorney_represented", "bankruptcy",
                          "deceased", "wrong_person", "hardship", "bot_challenge", "goodbye"})
# Ends the form with nothing to record: action_record_dispute follows (the rule) and does nothing without a kind.
ENDED = [SlotSet("dispute_kind", None), SlotSet("dispute_account", None), SlotSet("dispute_correct_amount", None),
         SlotSet("requested_slot", None)]
_AFTER = {disputes.PAY: "pay_now", disputes.PLAN: "request_payment_plan"}


def _verified(sender_id: str) -> bool:
    try:
        _open_accounts(sender_id)
    except accounts.NotVerified:
        return False
    return True


def _reason(tracker: Tracker, *, in_menu: bool) -> str | None:
    """Why the dispute form should stop for this message, if it should (bot/disputes.py decides from the words)."""
    if not _verified(tracker.sender_id):
        return disputes.NOT_VERIFIED  # ID-1: nothing about the debt, not even its dispute menu, once it expired
    message = tracker.latest_message or {}
    if (message.get("intent") or {}).get("name") in RULE_INTENTS:
        return None  # CEASE-*, OPT-*, HO-1...: their rules answer, the form stays as it was
    text = message.get("text") or ""
    return disputes.not_a_dispute(text) or (disputes.menu_exit(text) if in_menu else None)


def stated_reason(tracker: Tracker) -> list[EventType]:
    """DSP-1: the reason (and the right amount) the message that asked for the dispute already gave in words ("the
    amount is wrong", "it should be $400 not $640"), before or after verification, as the form's slots, so the menu
    does not ask for it again; [] when it gave none (bot/disputes.py reads the words)."""
    for event in reversed(tracker.events):
        if event.get("event") in ("session_started", "restart"):
            return []
        if event.get("event") == "user" and \
                ((event.get("parse_data") or {}).get("intent") or {}).get("name") == "dispute_debt":
            text = event.get("text") or ""
            break
    else:
        return []
    kind = disputes.stated_kind(text)
    cents = disputes.stated_correct_cents(text) if kind == disputes.AMOUNT else None
    # The figure goes through the form's own check of the amount (validate_dispute_correct_amount), as typed.
    return ([SlotSet("dispute_kind", kind)] if kind else []) + (
        [SlotSet("dispute_correct_amount", format_cents(cents))] if cents is not None else [])


def _step_aside(reason: str, dispatcher: CollectingDispatcher, tracker: Tracker) -> list[EventType]:
    """DSP-1: answer what the message asked instead, record nothing, end the form, and give a next step."""
    if reason == disputes.NOT_VERIFIED:
        dispatcher.utter_message(text=say("verify_again_form_ended", tracker))
        return ENDED + [SlotSet("verified", False), SlotSet("verification_status", None)]
    if reason == disputes.MUST_PAY:
        # DSP-3: "do I have to pay now?" at the menu is a question, no wish to pay: the right to dispute (after the
        # DISC-1 disclosure, as it names the debt), and the form asks its question again.
        try:
            with session_scope(engine()) as session:
                texts = accounts.opening_disclosure(session, tracker.sender_id) + [
                    disputes.must_i_pay_answer(session, tracker.sender_id, at_menu=True)]
        except accounts.NotVerified:
            return _step_aside(disputes.NOT_VERIFIED, dispatcher, tracker)
        for text in texts:
            dispatcher.utter_message(text=text)
        return [SlotSet(tracker.get_slot("requested_slot") or "dispute_kind", None)]
    if reason in _AFTER:
        # The debtor wants to pay or plan: the payment and plan conversations answer (and refuse on a held account,
        # DSP-2).
        return ENDED + [SlotSet("pending_request", _AFTER[reason]), FollowupAction("action_answer_request")]
    try:
        with session_scope(engine()) as session:
            texts = disputes.answer_instead(session, tracker.sender_id, reason, language_of(tracker),
                                            AgentHours.parse(settings().agent_hours), settings().support_contact)
    except accounts.NotVerified:
        dispatcher.utter_message(text=say("verify_again_form_ended", tracker))
        return ENDED + [SlotSet("verified", False)]
    for text in texts:
        dispatcher.utter_message(text=text)
    return ENDED


def _no_choice_again(tracker: Tracker, asked: str | None) -> bool:
    """Whether this reply fits none of the choices asked, after one "Sorry, I didn't catch that" already."""
    message = tracker.latest_message or {}
    intent = (message.get("intent") or {}).get("name")
    if intent in RULE_INTENTS or intent == "already_paid" or not _missed_before(tracker):
        return False  # a rule's own intent, or already_paid, which fills the kind whatever the words
    text = message.get("text") or ""
    if asked == "dispute_kind":
        return disputes.parse_kind(text) is None
    if asked == "dispute_account":
        return disputes.parse_account_choice(text, _open_accounts(tracker.sender_id)) is None
    return False


def _missed_before(tracker: Tracker) -> bool:
    """Whether this form already said "Sorry, I didn't catch that" since it opened (each re-ask starts so); a slot
    would need a retrained model, the tracker already holds the answer."""
    again = say("dispute_kind_again", tracker).split(".")[0]
    for event in reversed(tracker.events):
        if event.get("event") == "active_loop" and event.get("name") == "dispute_form":
            return False
        if event.get("event") == "bot" and (event.get("text") or "").startswith(again):
            return True
    return False


def _disclosure_first(dispatcher: CollectingDispatcher, tracker: Tracker) -> None:
    """DISC-1: the menu is the first word about the debt since verification ("the amount is wrong", an account's
    creditor), so the debt-collector disclosure comes before it (once: opening_disclosure says it is given)."""
    try:
        with session_scope(engine()) as session:
            opening = accounts.opening_disclosure(session, tracker.sender_id)
    except accounts.NotVerified:
        return  # the form's validation ends it and says why (ID-1)
    for text in opening:
        dispatcher.utter_message(text=text)


class ActionAskDisputeKind(Action):
    """Buttons on the web; the same choices numbered in the text so a digit works over SMS."""

    def name(self) -> str:
        return "action_ask_dispute_kind"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        _disclosure_first(dispatcher, tracker)
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
        _disclosure_first(dispatcher, tracker)
        choices = disputes.account_choices(_open_accounts(tracker.sender_id), language_of(tracker))
        lines = "\n".join(f"{i}. {title}" for i, title in enumerate(choices, start=1))
        dispatcher.utter_message(text=say("dispute_ask_account", tracker, choices=lines),
                                 buttons=[{"title": title, "payload": title} for title in choices])
        return []


class ValidateDisputeForm(DeclaredForm, FormValidationAction):
    def name(self) -> str:
        return "validate_dispute_form"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        # Before any slot is read: an expired verification (ID-1), a message that is no dispute, or a way out of the
        # menu ("never mind", "pay now") ends the form with nothing recorded (DSP-1).
        asked = tracker.get_slot("requested_slot")
        # The opening message (nothing asked yet) is read only for what is no dispute: "dispute my plan" opens it.
        reason = _reason(tracker, in_menu=asked in ("dispute_kind", "dispute_account"))
        if reason is None and asked == "dispute_correct_amount" and \
                disputes.menu_exit(tracker.latest_message.get("text") or "") == disputes.LEAVE:
            reason = disputes.LEAVE
        if reason is None and _no_choice_again(tracker, asked):
            reason = disputes.GIVE_UP  # re-asked once already: a person, not the same menu again (VOICE: no dead end)
        if reason is not None:
            return _step_aside(reason, dispatcher, tracker)
        # DSP-1: a reason stated in the opening message ("the amount is wrong") is taken, not asked for again.
        stated = stated_reason(tracker) if asked is None and not tracker.get_slot("dispute_kind") else []
        tracker.add_slots(stated)
        return stated + await super().run(dispatcher, tracker, domain)

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
        # DSP-1: "it should be $400 not $640" gives the right amount with the reason: it is not asked for again.
        cents = disputes.stated_correct_cents(str(value)) if kind == disputes.AMOUNT else None
        return {"dispute_kind": kind, **({"dispute_correct_amount": str(cents)} if cents is not None else {})}

    async def validate_dispute_correct_amount(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                                              domain: DomainDict) -> dict[str, Any]:
        if value is None:
            return {"dispute_correct_amount": None}
        text = str(value).lower()
        if any(p in text for p in ("don't know", "dont know", "not sure", "no idea", "unsure", "idk", "no se",
                                   "no sé", "ni idea", "no estoy seguro", "no estoy segura")):
            return {"dispute_correct_amount": DONT_KNOW}
        # DSP-1: "it should be $400 not $640" names the right one of its two figures.
        amount = disputes.stated_correct_cents(text)
        amount = parse_affordability(text).amount_cents if amount is None else amount
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
        if statement and statement.startswith("/"):
            statement = None  # an intent the gate or a button gave ("/already_paid"): the typed words are stored
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
