"""The conversation's language as a slot, so domain/ responses pick their Spanish or English variation. The gateway
decides the language (bot/language.py) and sends it with every message as metadata; this action, the `language`
slot's custom mapping, copies it after each user message (Rasa runs it in action_extract_slots). Under Settle's
launcher (`python -m rasa_extensions run`) Rasa answers this mapping itself (rasa_extensions/language_slot.py, the
same events, checked by tests/test_rasa_speedups.py) and does not call it; plain `rasa run` does."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from bot import wording


def language_of(tracker: Tracker) -> str:
    """The language the gateway said this conversation is in (its last user message's metadata), else the slot's."""
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            metadata: dict[str, Any] = event.get("metadata") or {}
            if metadata.get("language") in wording.LANGUAGES:
                return str(metadata["language"])
            break
    return wording.language_or_default(tracker.get_slot("language"))


def say(key: str, tracker: Tracker, **values: object) -> str:
    """The text for `key` in the conversation's language (bot/wording/)."""
    return wording.say(key, language_of(tracker), **values)


class ActionReadLanguage(Action):
    def name(self) -> str:
        return "action_read_language"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        language = language_of(tracker)
        return [] if tracker.get_slot("language") == language else [SlotSet("language", language)]


def numbers_text(count: int, language: str | None) -> str:
    """"1, 2 or 3" / "1, 2 o 3": the choices a debtor can type (bot/wording)."""
    return wording.numbers(count, language)
