"""VUL-2 + HO-1 in one message. The NLU reads one intent per message, so "I lost my job and can't pay anything
right now, can I talk to a real person?" comes out as hardship (or as request_human) and the other half would be
lost: a hardship reply that tells the debtor to ask again for the person they just asked for, or a handoff with no
pause. This reads the message's own words for the other half. Pure: no database, no Rasa; the action applies both.

A regex, not a multi-intent model: it is deterministic and auditable like the crisis cues, needs no retraining, and
a false positive only costs a pause (never a debt disclosure) or a person's time."""

from __future__ import annotations

import re

from bot.compliance import cues

# HO-1: asking for a person. The NLU's request_human examples ("agent", "human", "real person", "talk to someone",
# "customer service", "can someone call me") in the shapes they take inside a longer message. Not "manager" or
# "supervisor": "my manager let me go" is hardship, not a request.
_PERSON = re.compile(
    r"\b(?:agent|human|representative|rep|operator|customer service)s?\b"
    r"|\b(?:real|live|actual)\s+(?:person|people|human)\b"
    r"|\b(?:talk|speak|chat)(?:ing)?\s+(?:to|with)\s+(?:a\s+|an\s+)?(?:person|people|some\s?one|somebody|any\s?one|"
    r"anybody)\b"
    r"|\b(?:can|could|would|please)\s+(?:you\s+|some\s?one\s+|somebody\s+)?call\s+me\b",
    re.IGNORECASE,
)
def asks_for_person(text: str) -> bool:
    return bool(_PERSON.search(text or ""))


def tells_of_hardship(text: str) -> bool:
    """VUL-2's words, from the one list of them (bot/compliance/cues.py)."""
    return cues.mentions_hardship(text or "")


def rule_intents(intent: str | None, text: str) -> tuple[str, ...]:
    """The compliance intents a message carries, in the order they are applied: the NLU's, plus the other half
    of a hardship-and-a-person message. Hardship comes first so that its pause is in place before the handoff."""
    if intent == "hardship" and asks_for_person(text):
        return ("hardship", "request_human")
    if intent == "request_human" and tells_of_hardship(text):
        return ("hardship", "request_human")
    return (intent,) if intent else ()
