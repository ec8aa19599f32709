"""One user turn inside a form whose offer travels between turns in a context slot (plans, payments)."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher


class FormTurn:
    context_slot = ""  # each form names the slot that carries its offer between turns

    def __init__(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> None:
        self.dispatcher, self.tracker = dispatcher, tracker
        self.context: dict[str, Any] = dict(tracker.get_slot(self.context_slot) or {})
        self.slots: dict[str, Any] = {}
        self.next_slot: str | None = None
        message = tracker.latest_message or {}
        self.intent = (message.get("intent") or {}).get("name")
        self.entities = message.get("entities") or []

    def events(self) -> list[EventType]:
        return [SlotSet(k, v) for k, v in self.slots.items()] + [SlotSet(self.context_slot, self.context),
                                                                 SlotSet("requested_slot", self.next_slot)]
