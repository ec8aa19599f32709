"""Answers to requests that need a verified debtor (ID-1): balance, pay now, plans, disputes, dispute rights,
whether a payment arrived; and who is writing (DISC-4), which anyone may ask."""

from __future__ import annotations

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict
from sqlalchemy.orm import Session

from actions.context import engine, settings
from actions.language import say
from bot import accounts, disputes
from bot.compliance import sensitive_requests
from bot.db import session_scope
from bot.payments import status as payment_status


class ActionAnswerRequest(Action):
    """Answers what the debtor asked, once verified; or says why not (ID-3 lockout)."""

    def name(self) -> str:
        return "action_answer_request"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        request = tracker.get_slot("pending_request") or tracker.latest_message.get("intent", {}).get("name")
        done = [SlotSet("pending_request", None)]
        with session_scope(engine()) as session:
            handed_over = sensitive_requests.handed_to_a_person(session, tracker.sender_id,
                                                                settings().support_contact)
        if handed_over:
            # ID-4, CEASE-4: nothing about the debt in a conversation a third party or a death report handed over.
            dispatcher.utter_message(text=handed_over)
            return done + [SlotSet("verified", False)]
        if tracker.get_slot("verification_status") == "locked":
            dispatcher.utter_message(text=say("verify_locked", tracker))
            return done
        if not tracker.get_slot("verified"):
            return done
        latest = tracker.latest_message or {}
        if request == "already_paid" and latest.get("intent", {}).get("name") == "already_paid" and \
                payment_status.asks_whether_received(latest.get("text") or ""):
            request = "ask_payment_status"  # "I paid $10, can you confirm you got it?" asks; it claims nothing
        if request in ("dispute_debt", "already_paid"):
            # The dispute form asks what is disputed; already_paid answers that itself.
            kind = [SlotSet("dispute_kind", "already_paid")] if request == "already_paid" else []
            return done + kind + [FollowupAction("dispute_form")]
        if request == "pay_now":
            from actions import payments  # the payment conversation owns this: amount, yes, link (PCI-1, DSP-2)

            return done + await payments.start_pay_now(dispatcher, tracker, domain)
        if request in ("request_payment_plan", "ask_plan_status"):
            from actions import plans  # the plan conversation owns these

            entry = plans.start_after_verification if request == "request_payment_plan" else plans.answer_plan_status
            return done + await entry(dispatcher, tracker, domain)
        try:
            with session_scope(engine()) as session:
                for text in self._answer(session, tracker.sender_id, request):
                    dispatcher.utter_message(text=text)
        except accounts.NotVerified:
            dispatcher.utter_message(response="utter_verification_stopped")
            return done + [SlotSet("verified", False)]
        return done

    @staticmethod
    def _answer(session: Session, conversation_id: str, request: str | None) -> list[str]:
        if request == "ask_payment_status":
            # N4: a question about a payment is answered from our records; it records no dispute (DSP-1 is a claim).
            return payment_status.payment_status_messages(session, conversation_id)
        if request == "ask_must_pay":
            # DSP-3: the right to dispute and, in the validation period, its end date; never urgency.
            return accounts.opening_disclosure(session, conversation_id) + [
                disputes.must_i_pay_answer(session, conversation_id)]
        return accounts.balance_messages(session, conversation_id)


class ActionSayWhoWeAre(Action):
    """DISC-4: "are you a bot?", "are you a person?", "who is this?": the neutral business name (DISC-3: never the
    creditor or a debt, so it may be said before verification) and that this is an automated assistant."""

    def name(self) -> str:
        return "action_say_who_we_are"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        dispatcher.utter_message(text=say("who_we_are", tracker, business=settings().business_name))
        return []
