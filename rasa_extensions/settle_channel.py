"""The channel the gateway talks to Rasa through: Rasa's REST channel, plus the NLU reading of the message.

The transcript record keeps each inbound message's intent and confidence (REC-1). Rasa's REST answer carries only
the bot's replies, and asking /model/parse as well would run the NLU twice per turn, so this channel handles the
message the way `Agent.handle_message` does (same lock, same processor steps, rasa 3.6.21) and returns the
reading it made on the way:

    POST /webhooks/settle/webhook  {"sender", "message", "metadata"}
    -> {"messages": [{"recipient_id", "text", ...}], "nlu": {"intent": "check_balance", "confidence": 0.97}}
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.core.channels.rest import RestInput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

logger = logging.getLogger(__name__)


def reading(parse_data: dict[str, Any] | None) -> dict[str, Any]:
    intent = (parse_data or {}).get("intent") or {}
    confidence = intent.get("confidence")
    return {"intent": intent.get("name"), "confidence": float(confidence) if confidence is not None else None}


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
            collector = CollectingOutputChannel()
            message = UserMessage(text, collector, sender_id, input_channel=self.name(),
                                  metadata=self.get_metadata(request))
            async with agent.lock_store.lock(sender_id):
                # Agent.handle_message -> MessageProcessor.handle_message, step by step, keeping the tracker.
                processor = agent.processor
                tracker = await processor.log_message(message, should_save_tracker=False)
                nlu = reading(tracker.latest_message.parse_data if tracker.latest_message else None)
                tracker = await processor.run_action_extract_slots(collector, tracker)
                await processor._run_prediction_loop(collector, tracker)
                await processor.run_anonymization_pipeline(tracker)
                await processor.save_tracker(tracker)
            return response.json({"messages": collector.messages, "nlu": nlu})

        return webhook
