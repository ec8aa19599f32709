"""Answers to requests that need a verified debtor (ID-1): balance, pay now, plan, disputes."""

from __future__ import annotations

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.context import engine
from actions.verification import LOCKED_MESSAGE
from bot import accounts, disputes
from bot.db import session_scope

PAY_NOT_YET = (
    "I can't take payments in this chat yet. Please don't send card details here. "
    "Say 'talk to a person' and someone on our team can help you pay."
)
PLAN_NOT_YET = (
    "I can't set up a payment plan in this chat yet. Say 'talk to a person' and someone on our team "
    "can work out a plan with you."
)
DISPUTE_NOTED = (
    "Got it. I've noted that you dispute this debt, and we've paused collection on it while we check. "
    "We'll send you what we find in writing. Say 'talk to a person' if you'd like to talk it through."
)
NOTHING_TO_DISPUTE = "I couldn't find an open account to dispute. Say 'talk to a person' and someone can help."


class ActionAnswerRequest(Action):
    """Answers what the debtor asked, once verified; or says why not (ID-3 lockout)."""

    def name(self) -> str:
        return "action_answer_request"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        request = tracker.get_slot("pending_request") or tracker.latest_message.get("intent", {}).get("name")
        if tracker.get_slot("verification_status") == "locked":
            dispatcher.utter_message(text=LOCKED_MESSAGE)
            return [SlotSet("pending_request", None)]
        if not tracker.get_slot("verified"):
            return [SlotSet("pending_request", None)]
        try:
            with session_scope(engine()) as session:
                for text in self._answer(session, tracker.sender_id, request):
                    dispatcher.utter_message(text=text)
        except accounts.NotVerified:
            dispatcher.utter_message(response="utter_verification_stopped")
            return [SlotSet("verified", False), SlotSet("pending_request", None)]
        return [SlotSet("pending_request", None)]

    @staticmethod
    def _answer(session: object, conversation_id: str, request: str | None) -> list[str]:
        if request == "check_balance" or request is None:
            return accounts.balance_messages(session, conversation_id)
        # Every answer below is about the debt, so the disclosure comes first if not yet given (DISC-1).
        opening = accounts.opening_disclosure(session, conversation_id)
        if request == "pay_now":
            return opening + [PAY_NOT_YET]
        if request == "request_payment_plan":
            return opening + [PLAN_NOT_YET]
        if request in ("dispute_debt", "already_paid"):
            kind = "already_paid" if request == "already_paid" else "all"
            disputed = disputes.record_dispute(session, conversation_id, kind)
            return opening + [DISPUTE_NOTED if disputed else NOTHING_TO_DISPUTE]
        return accounts.balance_messages(session, conversation_id)
