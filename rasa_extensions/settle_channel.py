"""The channel the gateway talks to Rasa through: Rasa's REST channel, plus the NLU reading of the message.

The transcript record keeps each inbound message's intent and confidence (REC-1). Rasa's REST answer carries only
the bot's replies, and asking /model/parse as well would run the NLU twice per turn, so this channel handles the
message the way `Agent.handle_message` does (same lock, same processor steps, rasa 3.6.21) and returns the
reading it made on the way:

    POST /webhooks/settle/webhook  {"sender", "message", "metadata", "message_id"?}
    -> {"messages": [{"recipient_id", "text", ...}], "nlu": {"intent": "check_balance", "confidence": 0.97},
        "active_loop": "plan_form" | null, "replayed": false}

Exactly once per message id. The gateway sends the id of the inbound message it stored, and Rasa keeps it on the
user event. If the tracker already holds a user event with that id, the turn ran before (on this instance or
another one sharing the tracker store) and the gateway is retrying because it never got the answer: the turn is
not run again; the replies that followed that event and its NLU reading are sent back instead ("replayed": true).
The check and the turn happen under the conversation's lock, so a retry that races the first attempt (an instance
that is slow rather than dead) waits for it and then replays. A turn that died before its tracker was saved left
nothing in the tracker store, so the retry runs it for the first time.

PCI-2, a card number split over two messages: the first fragment reached Rasa as it was, and the gateway learns it
was part of a card only from the next message. It then rewrites its own copy and asks this channel to do the same
in Rasa's tracker store, before it sends the next message:

    POST /webhooks/settle/redact  (Authorization: Bearer <Rasa's auth token>)  {"sender", "message_id", "text"}
    -> {"rewritten": <events changed>}

Every user event with that message id gets `text` (the gateway's redacted text), and what the redaction removed is
scrubbed from the events that followed it (slots filled from the text, replies; rasa_extensions/event_redaction.py),
in every session, under the conversation's lock, by the tracker store (KeptSQLTrackerStore.rewrite_events: Rasa's
own `save` only appends). It changes the record, so it takes the token Rasa's HTTP API takes (auth.py) and
refuses everyone (403) when there is none. A message id Rasa never saw (the
message was answered by the gateway, or a person owned the conversation) rewrites nothing. A tracker store that
cannot rewrite stored events answers 409, so that the gateway records the failure instead of believing it done.

ID-2, an answer to an identity question: the gateway stores it as what it is ("[date of birth]") and, after the turn
whose check needed the typed values, calls the same route with `"slots": {"id_dob": "[date of birth]", ...}`: the user
event gets the stored text and every value those slots held is masked but each one's current value, which the check
may still need (event_redaction.mask_identity_answer). The webhook's answer names the slot the form asks for next
(`"requested_slot"`), so the gateway knows when the next message answers an identity question.

Only the gateway may use it: every call needs Rasa's API token (`Authorization: Bearer <token>`, or Rasa's
`?token=`), else 401, and with no token configured nothing gets in (auth.py). credentials.yml enables no other
channel, so no local process can drive a conversation around the gateway's gates.
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

from rasa_extensions import auth, loop_watch, speedups
from rasa_extensions.event_redaction import mask_identity_answer, redact_user_message

logger = logging.getLogger(__name__)


def reading(parse_data: dict[str, Any] | None) -> dict[str, Any]:
    intent = (parse_data or {}).get("intent") or {}
    confidence = intent.get("confidence")
    return {"intent": intent.get("name"), "confidence": float(confidence) if confidence is not None else None}


SESSION_START = "/session_start"


# Readings that name no request: the words around a debtor's identity details said nothing the dialogue acts on.
NOT_A_REQUEST = frozenset({"nlu_fallback", "out_of_scope", "inform_identity", "greet", "goodbye", "affirm", "deny"})
REQUEST_TEXT = "request_text"  # metadata key: the message without its identity details (bot/identity.request_words)


async def read_request(processor: Any, message: UserMessage, tracker: DialogueStateTracker) -> dict[str, Any] | None:
    """ID-2: the reading of a message that volunteers identity details ("hi, dob 11/02/1985, what do I owe?").

    The details outweigh the request's few words, so the whole message reads as identity details or as nothing
    (nlu_fallback), and the request was lost. The gateway sends the message without them as `request_text`; when the
    whole message reads so and those words name a request, their reading is the message's (its text stays the
    message as typed: the identity form takes the details from it). Otherwise the whole message's reading stands, so
    a compliance request the model reads in the whole message is never replaced. None: no such words were sent, and
    Rasa parses the message as usual."""
    request_text = (message.metadata or {}).get(REQUEST_TEXT)
    if not request_text:
        return None
    whole = await processor.parse_message(message, tracker)
    if (whole.get("intent") or {}).get("name") not in ("inform_identity", "nlu_fallback"):
        return whole
    words = await processor.parse_message(
        UserMessage(str(request_text), sender_id=message.sender_id, input_channel=message.input_channel), tracker)
    if (words.get("intent") or {}).get("name") in NOT_A_REQUEST | {None}:
        return whole
    return {**words, "text": message.text}


PLAN_TERMS = "plan_terms"  # metadata key: the words offer plan terms ("I can pay 50"; bot/plans/affordability)
PLAN_FORM = "plan_form"
# PLAN-4: readings such words outweigh while the plan form asks its questions. Never a compliance request (those end
# the form: data/rules/plans.yml), nor a dispute: only the readings that would send the debtor elsewhere for nothing.
OFFER_OUTWEIGHS = frozenset({"pay_now", "check_balance", "ask_must_pay", "ask_plan_status", "nlu_fallback",
                             "out_of_scope", "choose_option", "affirm", "deny", "greet"})
OFFER_READING = "request_payment_plan"  # not an interruption of the form: its slot takes the words


async def read_plan_terms(processor: Any, message: UserMessage, tracker: DialogueStateTracker,
                          parsed: dict[str, Any] | None) -> dict[str, Any] | None:
    """PLAN-4: in the plan form, words the gateway read as an offer of terms ("I can pay 50", "50 a month") are
    the form's answer: the model read them as pay_now, and the debtor was sent to pay now. The reading becomes
    request_payment_plan (the text stays as typed, for the form to weigh) unless the model read a request that
    must stand (a compliance request, a dispute). Outside the form, and without the gateway's word, `parsed` stands
    (None: Rasa parses as usual)."""
    if not (message.metadata or {}).get(PLAN_TERMS) or tracker.active_loop_name != PLAN_FORM:
        return parsed
    parsed = parsed or await processor.parse_message(message, tracker)
    if (parsed.get("intent") or {}).get("name") not in OFFER_OUTWEIGHS:
        return parsed
    intent = {"name": OFFER_READING, "confidence": 1.0}
    logger.info("PLAN-4: an offer of plan terms in the plan form, read as %s (the model read %s)", OFFER_READING,
                (parsed.get("intent") or {}).get("name"))
    return {**parsed, "intent": intent, "intent_ranking": [intent]}


MENU_CHOICE = "menu_choice"  # metadata key: the words are one of the dispute menus' own choices (bot/disputes.py)
DISPUTE_FORM = "dispute_form"
MENU_SLOTS = frozenset({"dispute_kind", "dispute_account"})
CHOICE_READING = "dispute_debt"  # not an interruption of the dispute form: its slot takes the words as typed


async def read_menu_choice(processor: Any, message: UserMessage, tracker: DialogueStateTracker,
                           parsed: dict[str, Any] | None) -> dict[str, Any] | None:
    """DSP-1: while the dispute form asks "what do you dispute?" or "which account?", one of its own choices (the
    button's title, tapped or picked by its digit) is the form's answer, whatever the model reads: it read "Toda la
    deuda" as hardship (a hold set, the dispute lost) and "All of them" as goodbye (the menu again, forever).
    Elsewhere, and without the gateway's word, `parsed` stands (None: Rasa parses as usual)."""
    if not (message.metadata or {}).get(MENU_CHOICE) or tracker.active_loop_name != DISPUTE_FORM or \
            tracker.get_slot("requested_slot") not in MENU_SLOTS:
        return parsed
    parsed = parsed or await processor.parse_message(message, tracker)
    intent = {"name": CHOICE_READING, "confidence": 1.0}
    logger.info("DSP-1: a dispute menu choice, read as %s (the model read %s)", CHOICE_READING,
                (parsed.get("intent") or {}).get("name"))
    return {**parsed, "intent": intent, "intent_ranking": [intent]}


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


def innermost_store(store: Any) -> Any:
    """The tracker store the agent's wrappers (FailSafeTrackerStore, AwaitableTrackerStore) hold."""
    while hasattr(store, "_tracker_store"):
        store = store._tracker_store
    return store


class SettleInput(RestInput):
    @classmethod
    def name(cls) -> str:
        return "settle"

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        webhook = Blueprint("settle_webhook", __name__)

        token = auth.api_token()

        def refused(request: Request) -> HTTPResponse | None:
            if auth.authorised(request.headers.get("authorization"), request.args.get("token"), token):
                return None
            return response.json({"error": "unauthorized", "message": "Rasa's API token is required."}, status=401)

        @webhook.listener("after_server_start")
        async def ready_to_serve(_app: Any, loop: Any) -> None:
            """Before the first message: clear what loading the model left, then watch the loop."""
            collected, took = speedups.collect_loading_garbage()  # before the first message, not in a turn
            logger.info("collected %d objects left by loading the model in %.1f s", collected, took)
            loop_watch.watch(loop)  # a blocked event loop is said in the log, with where (loop_watch.py)
            loop_watch.time_collections()

        @webhook.listener("before_server_stop")
        async def stop_watching_the_loop(_app: Any, loop: Any) -> None:
            loop_watch.unwatch(loop)

        @webhook.route("/", methods=["GET"])
        async def health(request: Request) -> HTTPResponse:
            return refused(request) or response.json({"status": "ok"})

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            denied = refused(request)
            if denied is not None:
                return denied
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
                                              "active_loop": tracker.active_loop_name,
                                              "requested_slot": tracker.get_slot("requested_slot"),
                                              "replayed": True})
                await processor._update_tracker_session(tracker, collector, message.metadata)
                message.parse_data = await read_menu_choice(processor, message, tracker, await read_plan_terms(
                    processor, message, tracker, await read_request(processor, message, tracker)))
                await processor._handle_message_with_tracker(message, tracker)
                nlu = reading(tracker.latest_message.parse_data if tracker.latest_message else None)
                # The rest of Agent.handle_message -> MessageProcessor.handle_message, keeping the tracker.
                tracker = await processor.run_action_extract_slots(collector, tracker)
                await processor._run_prediction_loop(collector, tracker)
                await processor.run_anonymization_pipeline(tracker)
                await processor.save_tracker(tracker)
            # The form still asking its questions, if any: the gateway adds nothing of its own mid-form.
            # ID-2: with the slot it asks for next, so the gateway knows an identity question waits.
            return response.json({"messages": collector.messages, "nlu": nlu, "active_loop": tracker.active_loop_name,
                                  "requested_slot": tracker.get_slot("requested_slot"), "replayed": False})

        @webhook.route("/redact", methods=["POST"])
        async def redact(request: Request) -> HTTPResponse:
            """PCI-2: rewrite a message the gateway redacted after it was handled (see the module docstring)."""
            if refused(request) is not None:  # it changes the record: the gateway only (auth.py)
                return response.json({"error": "not authorised"}, status=403)
            body = request.json if isinstance(request.json, dict) else {}
            sender, message_id, text = body.get("sender"), body.get("message_id"), body.get("text")
            if not (isinstance(sender, str) and sender and isinstance(text, str)
                    and isinstance(message_id, (str, int)) and str(message_id)):
                return response.json({"error": "sender, message_id and text are required"}, status=400)
            slots = body.get("slots")
            if slots is not None and not (isinstance(slots, dict) and all(
                    isinstance(k, str) and isinstance(v, str) for k, v in slots.items())):
                return response.json({"error": "slots must map slot names to labels"}, status=400)
            keep_current = body.get("keep_current", True)
            if not isinstance(keep_current, bool):
                return response.json({"error": "keep_current must be true or false"}, status=400)
            agent = request.app.ctx.agent
            if agent is None or not agent.is_ready():
                return response.json({"error": "no model loaded"}, status=503)
            store = innermost_store(agent.tracker_store)
            if not hasattr(store, "rewrite_events"):
                return response.json({"error": f"{type(store).__name__} cannot rewrite stored events"}, status=409)
            async with agent.lock_store.lock(sender):
                rewritten = await store.rewrite_events(
                    sender, lambda events: mask_identity_answer(events, str(message_id), text, slots, keep_current)
                    if slots
                    else redact_user_message(events, str(message_id), text))
            # Never the text: it is what was redacted from.
            logger.info("%s: rewrote %d events of %s after message %s", "ID-2" if slots else "PCI-2", rewritten,
                        sender, message_id)
            return response.json({"rewritten": rewritten})

        return webhook
