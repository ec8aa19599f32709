"""Human handoff and the agent console's domain services (HO-1, REC-2): users and roles, console sessions, the
queue people work, their replies and notes, canned responses, agent hours and the bot's escalation wording.
No web code here: the routes are bot/gateway/console/.

Live updates: the console listens on the live hub (bot/gateway/live.py) under its own topics, and treats each
event only as a nudge to re-read the database, so a missed or duplicated event costs nothing and the same code
works once a Redis hub fans out across gateway workers. Whoever changes a conversation a console may be showing
publishes `{"type": "changed"}` on `conversation_topic(id)` and on `QUEUE_TOPIC`."""

from __future__ import annotations

QUEUE_TOPIC = "console:queue"


def conversation_topic(conversation_id: str) -> str:
    return f"console:{conversation_id}"
