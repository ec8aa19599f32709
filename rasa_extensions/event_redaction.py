"""PCI-2 across split messages, in Rasa's tracker store: rewrite a user message the gateway redacted after the fact.

A card number typed over two messages ("4111 1111" then "1111 1111") is only known to be one when the second message
arrives. By then the first fragment went to Rasa as it was, and Rasa keeps it: as the user event's text (and its
parse data), in every slot filled from the text (`from_text` mappings keep the whole message, and the extraction
stays in the tracker as a SlotSet event even when the form's validation clears it afterwards), and in any bot
reply or action event that repeated it. The gateway rewrites its own stored copy, then tells Rasa the message's id
and its redacted text (rasa_extensions/settle_channel.py, POST /webhooks/settle/redact); this module works out the
rewritten events.

Stdlib only, on plain event dicts (the JSON the tracker store keeps), so it is tested without Rasa.

``redact_user_message(events, message_id, text) -> dict[int, dict]``
    ``events``: a conversation's stored events, oldest first, every session. Returns the events to replace, by
    index, rewritten: each user event with that ``message_id`` gets ``text`` (the gateway's redacted text) as its
    text and its parse data's text, and every event from the first of them on has what the redaction removed
    replaced by ``[REDACTED]`` in its string values (slot values, bot texts, metadata...). Events before the
    message are never touched. Idempotent: a second call with the same arguments returns ``{}``.

What counts as removed: the gateway's text is the old text with some digit runs replaced by ``[REDACTED]``, so the
old text is matched against the new one with each ``[REDACTED]`` as a wildcard; each part it stood for that holds
a digit is a removed segment. Each removed segment is replaced wherever it appears, and so is the run of its digits
without separators when it has at least 4 (a slot normalised "4111 1111" to "41111111"); a string that is the whole
old text becomes the new text. If the old text does not match the new one (Rasa got a button's payload for that
message rather than its text), the whole old text counts as removed.
"""

from __future__ import annotations

import re
from typing import Any

REDACTED = "[REDACTED]"  # bot/compliance/redaction.py's marker (this code may not import bot/)
# Values that name things rather than hold what someone wrote: never rewritten.
_NAME_KEYS = frozenset({"event", "name", "message_id", "input_channel", "policy", "timestamp", "sender_id"})
MIN_NORMALISED_DIGITS = 4


def redact_user_message(events: list[dict[str, Any]], message_id: str, text: str) -> dict[int, dict[str, Any]]:
    targets = [i for i, event in enumerate(events)
               if event.get("event") == "user" and str(event.get("message_id")) == str(message_id)]
    if not targets:
        return {}
    olds = {events[i].get("text") for i in targets} - {text, None}
    segments: set[str] = set()
    for old in olds:
        if isinstance(old, str):
            segments |= removed_segments(old, text)
    replacements = _replacements(segments)
    changed: dict[int, dict[str, Any]] = {}
    for index in range(targets[0], len(events)):
        event = events[index]
        new = _scrub(event, olds, text, replacements)
        if index in targets:
            new = dict(new, text=text)
            if isinstance(new.get("parse_data"), dict):
                new["parse_data"] = dict(new["parse_data"], text=text)
        if new != event:
            changed[index] = new
    return changed


def removed_segments(old: str, new: str) -> set[str]:
    """The parts of ``old`` that the ``[REDACTED]`` markers of ``new`` stand for and that hold a digit."""
    pieces = new.split(REDACTED)
    pattern = "(.+?)".join(re.escape(piece) for piece in pieces)
    match = re.fullmatch(pattern, old, re.DOTALL)
    found = match.groups() if match is not None else (old,)
    return {s.strip() for s in found if any(ch.isdecimal() for ch in s)}


def _replacements(segments: set[str]) -> list[str]:
    """What to replace, longest first so that a segment inside another does not split it."""
    out = set(segments)
    for segment in segments:
        digits = "".join(ch for ch in segment if ch.isdecimal())
        if len(digits) >= MIN_NORMALISED_DIGITS:
            out.add(digits)
    return sorted(out, key=len, reverse=True)


def _scrub(value: Any, olds: set[str], text: str, replacements: list[str]) -> Any:
    if isinstance(value, str):
        if value in olds or value.strip() in olds:
            return text
        for segment in replacements:
            value = value.replace(segment, REDACTED)
        return value
    if isinstance(value, int) and not isinstance(value, bool):  # a slot parsed to a number
        return REDACTED if any(r.isdecimal() and r in str(value) for r in replacements) else value
    if isinstance(value, dict):
        return {k: v if k in _NAME_KEYS else _scrub(v, olds, text, replacements) for k, v in value.items()}
    if isinstance(value, list):
        return [_scrub(v, olds, text, replacements) for v in value]
    return value


# ID-2: events that clear every slot; a slot's value from before one of them is no longer current.
_RESETS = frozenset({"session_started", "restart", "reset_slots"})


def mask_identity_answer(events: list[dict[str, Any]], message_id: str, text: str,
                         slots: dict[str, str], keep_current: bool = True) -> dict[int, dict[str, Any]]:
    """ID-2: the user message ``message_id`` answered an identity question and the gateway stored ``text`` instead
    (its labels, "[date of birth]"). Returns the events to replace, by index, rewritten:

    * each user event with that id gets ``text`` as its text and its parse data's text, and any later string that is
      the whole typed answer (a slot filled from the text) gets ``text`` too;
    * every value the ``slots`` (name -> label) held, in any session, becomes the slot's label, except each slot's
      current value: the form may still need it for the check it has not run yet. The check clears the slots
      (actions/verification.py), so the rewrite after it masks every value. With ``keep_current`` false no check
      will run on them (the form ended without one, or was left unanswered; the gateway decides, from the turn:
      bot/records/identity_answers.py), and every value is masked, the current ones too.

    Idempotent. A message id the tracker never saw rewrites only the slots' past values."""
    changed: dict[int, dict[str, Any]] = {}
    targets = [i for i, event in enumerate(events)
               if event.get("event") == "user" and str(event.get("message_id")) == str(message_id)]
    olds = {events[i].get("text") for i in targets} - {text, None}
    for index in targets:
        event = events[index]
        new = dict(event, text=text)
        if isinstance(new.get("parse_data"), dict):
            new["parse_data"] = dict(new["parse_data"], text=text)
        changed[index] = new
    if targets:
        for index in range(targets[0] + 1, len(events)):
            if events[index].get("event") == "slot" and events[index].get("name") in slots:
                continue  # below: by the slot's rule, not the text's
            new = _scrub(events[index], olds, text, [])
            if new != events[index]:
                changed[index] = new
    current: dict[str, int] = {}
    for index, event in enumerate(events):
        if event.get("event") in _RESETS:
            current.clear()
        elif event.get("event") == "slot" and event.get("name") in slots:
            current[event["name"]] = index
    for index, event in enumerate(events):
        name = event.get("name")
        if event.get("event") != "slot" or name not in slots or event.get("value") in (None, slots[name]):
            continue
        if keep_current and current.get(name) == index:
            continue
        changed[index] = dict(event, value=slots[name])
    return {index: event for index, event in changed.items() if event != events[index]}
