"""Adapter for compliance-critical intents; the rules live in bot/compliance/sensitive_requests.py."""

from __future__ import annotations

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.context import engine, settings
from bot.compliance import sensitive_requests
from bot.db import session_scope


class ActionHandleSensitive(Action):
    def name(self) -> str:
        return "action_handle_sensitive"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        intent = tracker.latest_message.get("intent", {}).get("name")
        if intent not in sensitive_requests.RULES:
            dispatcher.utter_message(response="utter_default")
            return []
        with session_scope(engine()) as session:
            replies = sensitive_requests.handle(
                session, tracker.sender_id, intent, tracker.latest_message.get("text") or "",
                settings().support_contact,
            )
        for text in replies:
            dispatcher.utter_message(text=text)
        return [SlotSet("pending_request", None)]
