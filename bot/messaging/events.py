"""A stored message as the debtor's widget and the agent console see it: one shape on the live path and in the
history. Plain data (JSON-ready dicts), so any live fan-out can carry it."""

from __future__ import annotations

from typing import Any

from bot.db.models import Message

Event = dict[str, Any]


def shown_to_debtor(message: Message) -> bool:
    """What the debtor's own transcript shows: everything they sent, and what was actually sent to them
    (a reply the outbound gate blocked was never said, so it is never shown)."""
    return message.direction == "in" or message.status == "sent"


def message_event(message: Message) -> Event:
    """The one shape of a stored message on the live path and in the widget's history."""
    payload = message.payload or {}
    event: Event = {
        "type": "message",
        "id": message.id,
        "role": message.sender_role,
        "text": message.text,
        "at": message.created_at.isoformat() if message.created_at else None,
    }
    if message.direction == "in":
        # A button click stores the payload (what Rasa needs) and keeps the title (what the debtor chose).
        if payload.get("title"):
            event["text"] = payload["title"]
        if payload.get("client_id"):
            event["client_id"] = payload["client_id"]
    else:
        if payload.get("buttons"):
            event["buttons"] = [{"title": str(b.get("title", "")), "payload": str(b.get("payload", ""))}
                                for b in payload["buttons"]]
        if message.sender_role == "agent" and payload.get("agent_name"):
            event["agent_name"] = str(payload["agent_name"])
    return event
