"""The `language` slot's custom mapping (domain/conversation.yml), read inside Rasa instead of by a call to the
action server.

The gateway decides a conversation's language (bot/language.py) and sends it with every message as metadata; the
slot copies it after each user message so that responses pick their Spanish or English variation. Rasa fills a
custom mapping by calling its action (`action_read_language`, actions/language.py) from action_extract_slots, after
every user message and at every form's activation: more than one action server call per turn (4,175 of them for
3,240 turns in a bench run), each sending the whole tracker over HTTP to copy one field. Rasa's speedups
(rasa_extensions/speedups.py) answer that call here, with the same events; tests/test_rasa_speedups.py checks both
give the same events for the same trackers. Plain `rasa run` still calls the action server, which answers the same.
"""

from __future__ import annotations

from typing import Any

ACTION = "action_read_language"
SLOT = "language"
# bot/wording's LANGUAGES and ENGLISH, which this code may not import (tests/test_rasa_speedups.py checks they agree,
# and with the slot's values in domain/conversation.yml).
LANGUAGES = ("en", "es")
DEFAULT = "en"


def language_events(tracker: Any) -> list[Any]:
    """What actions/language.py's ActionReadLanguage answers for this tracker: the language of the last user
    message's metadata if it is one we write in, else the slot's (English if it holds none of ours); a SlotSet only
    when that changes the slot."""
    from rasa.shared.core.events import SlotSet, UserUttered

    language = None
    for event in reversed(tracker.events):
        if isinstance(event, UserUttered):
            metadata = event.metadata or {}
            if metadata.get(SLOT) in LANGUAGES:
                language = str(metadata[SLOT])
            break
    current = tracker.get_slot(SLOT)
    if language is None:
        language = current if current in LANGUAGES else DEFAULT
    return [] if current == language else [SlotSet(SLOT, language)]
