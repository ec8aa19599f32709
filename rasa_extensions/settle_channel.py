"""The channel the gateway talks to Rasa through: Rasa's REST channel, plus the NLU reading of the message.

The transcript record keeps each inbound message's intent and confidence (REC-1). Rasa's REST answer carries only
the bot's replies, and asking /model/parse as well would run the NLU twice per turn, so this channel handles the
message the way `Agent.handle_message` does (same lock, same processor steps, rasa 3.6.21) and returns the
reading it made on the way:

    POST /webhooks/settle/webhook  {"sender", "message", "metadata", "message_id"?}
    -> {"messages": [{"recipient_id", "text", ...}], "nlu": {"intent": "check_balance", "confidence": 0.97},
        "replayed": false}

Exactly once per message id. The gateway sends the id of the inbound message it stored, and Rasa keeps it on the
user event. If the tracker already holds a user event with that id, the turn ran before (on this instance or
another one sharing the tracker store) and the gateway is retrying because it never got the answer: the turn is
not run again; the replies that followed that event and its NLU reading are sent back instead ("replayed": true).
The check and the turn happen under the conversation's lock, so a retry that races the first attempt (an instance
that is slow rather than dead) waits for it and then replays. A turn that died before its tracker was saved left
nothing in the tracker store, so the retry runs it for the first time.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.core.channels.rest import RestInput
from rasa.shared.core.events import BotUttered, SessionStarted, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

logger = logging.getLogger(__name__)


def reading(parse_data: dict[str, Any] | None) -> dict[str, Any]:
    intent = (parse_data or {}).get("intent") or {}
    confidence = intent.get("confidence")
    return {"intent": intent.get("name"), "confidence": float(confidence) if confidence is not None else None}


SESSION_START = "/session_start"


def find_turn(tracker: DialogueStateTracker, message_id: str, text: str
              ) -> tuple[UserUttered | None, list[BotUttered]]:
    """The user event a message id was already handled as, and the bot utterances that followed it (up to the
    next user event), or (None, []) if the id is new. `found` is a UserUttered, or for a "/session_start" whose user
    event lies before the session it opened (the tracker store loads the latest session only) a stand-in."""
    events = list(tracker.events)
    for index, event in enumerate(events):
        if isinstance(event, UserUttered) and event.message_id == message_id:
            replies: list[BotUttered] = []
            for later in events[index + 1:]:
                if isinstance(later, UserUttered):
                    break
                if isinstance(later, BotUttered):
                    replies.append(later)
            return event, replies
    if text == SESSION_START and any(isinstance(e, SessionStarted) for e in events) and not any(
            isinstance(e, UserUttered) for e in events):
        # The session this message asked for is open and nothing has been said in it since: it ran already.
        # (Had it not, the latest session would be the old one, with the debtor's messages in it.)
        return UserUttered(SESSION_START, message_id=message_id), []
    return None, []


class SettleInput(RestInput):
    @classmethod
    def name(cls) -> str:
        return "settle"

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        webhook = Blueprint("settle_webhook", __name__)

        @webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            sender_id = await self._extract_sender(request)
            text = self._extract_message(request)
            agent = request.app.ctx.agent
            if agent is None or not agent.is_ready():
                return response.json({"error": "no model loaded"}, status=503)
            message_id = (request.json or {}).get("message_id")
            collector = CollectingOutputChannel()
            message = UserMessage(text, collector, sender_id, input_channel=self.name(),
                                  metadata=self.get_metadata(request),
                                  message_id=str(message_id) if message_id is not None else None)
            async with agent.lock_store.lock(sender_id):
                processor = agent.processor
                # MessageProcessor.log_message, split so that the tracker read once serves the replay check too.
                tracker = await processor.get_tracker(sender_id)
                if message_id is not None:
                    done, replies = find_turn(tracker, message.message_id, text)
                    if done is not None:
                        for reply in replies:
                            await collector.send_response(sender_id, reply.message())
                        logger.info("replayed message %s of %s (%d replies)", message.message_id, sender_id,
                                    len(replies))
                        return response.json({"messages": collector.messages, "nlu": reading(done.parse_data),
                                              "replayed": True})
                await processor._update_tracker_session(tracker, collector, message.metadata)
                await processor._handle_message_with_tracker(message, tracker)
                nlu = reading(tracker.latest_message.parse_data if tracker.latest_message else None)
                # The rest of Agent.handle_message -> MessageProcessor.handle_message, keeping the tracker.
                tracker = await processor.run_action_extract_slots(collector, tracker)
                await processor._run_prediction_loop(collector, tracker)
                await processor.run_anonymization_pipeline(tracker)
                await processor.save_tracker(tracker)
            return response.json({"messages": collector.messages, "nlu": nlu, "replayed": False})

        return webhook
