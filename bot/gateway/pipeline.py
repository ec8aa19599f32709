"""Where every inbound message goes, whatever the channel: the compliance gate first, then Rasa, then the
outbound gate, with each message stored before it is processed and each reply as it is produced.

  1. redact card numbers and SSNs before anything is stored, logged or parsed (PCI-2);
  2. store the message (the redacted text), then act on STOP / START / HELP without NLU (OPT-2, OPT-3) and
     answer self-harm cues with the crisis line whatever the NLU makes of them (VUL-2);
  3. ask Rasa; 4. pass every reply through the outbound gate (TONE-1, TBD-1, DSP-2, CEASE-*); a blocked reply is
     stored as blocked with its rule IDs and the debtor gets a safe reply instead, never silence.

When no Rasa answers step 3, the message is kept as "unprocessed" and queued (bot/messaging/saved.py), and the debtor
is told it will be answered. `answer_saved` answers a conversation's saved messages once Rasa is back (the
answer-saved job, bot/cli/answer_saved.py), and a message for Rasa that finds saved ones waiting takes them into its
turn first (`_saved_first`), so the dialogue reads them in the order they were written.

At the end of a conversation (a goodbye to the bot after a request, with no form or choice pending) the outbox
posts one feedback question after the turn's replies, and a score typed next is answered before NLU
(bot/feedback.py says when, and when never).

While a person owns the conversation (a claimed handoff, bot/agents/queue.py) step 3 is skipped and the bot says
nothing: the message is stored and shown to the agent's console, and only the gate's own answers go back (STOP,
START, HELP, the crisis line, the card warning). The rules its words or its NLU reading call for still take effect
(sensitive_requests.while_owned, _rules_while_owned), and each is shown to the agent in the conversation
(bot/agents/notices.py). Two fallbacks in a row hand the conversation to a person (HO-1).

Rapid messages are folded. One conversation has one Rasa turn running at a time in this process; a message for
Rasa that arrives while one runs is stored at once (as every message) and waits, and when the running turn ends
the messages that waited go to Rasa together as one turn: their texts joined, one line each, sent with the id of
the last of them. The debtor who sends three lines quickly gets one answer to all three, in order, and no message
waits in Rasa's lock queue (where, 20 deep, some outwaited the gateway's RASA_RETRY_SECONDS and were answered
"trouble right now"). The last message of a fold carries the turn's replies and the NLU reading of the joined text
(the NLU pass that answered it, REC-1); the others are stored as "folded", with no reading of their own, and an
audit event names them. A button payload (a digit picked from the bot's buttons) is never joined: it is a turn of
its own. Everything answered before Rasa (STOP, START, HELP, the crisis line, empty messages, a callback pick) is
answered for each message at once, never held back by a running turn.

Two steps, so a channel can hold its per-conversation lock (bot/gateway/conversation_lock.py) only as long as its
replay check needs it: `accept` stores the message, with the channel's tag (a Twilio MessageSid, the widget's client
id) in the same INSERT, and puts it in line; the `Pending` it returns is awaited, outside the lock, for the result.
A channel that held its lock around the whole turn would keep the next message out of the line until the turn ended,
and nothing would ever fold. `handle` is both steps at once, for a channel with no replay check (REST)."""

from __future__ import annotations

import asyncio
import logging
import os
import re
import socket
import time
from collections.abc import Generator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from bot import (
    agents,
    audit,
    contact_preferences,
    conversations,
    disputes,
    feedback,
    help_request,
    identity,
    language,
    wording,
)
from bot import language as languages
from bot.agents import escalation, notices
from bot.agents import queue as agent_queue
from bot.agents.hours import AgentHours
from bot.compliance import esign, inconvenient_words, keywords, outbound_gate, redaction, sensitive_requests
from bot.compliance.keywords import help_reply, opted_out_reply, start_reply, stop_reply
from bot.compliance.report_denials import denies as denied_by_words
from bot.config import Settings
from bot.db import session_scope
from bot.db.models import Conversation, Message
from bot.gateway.live import LiveHub
from bot.gateway.rasa_client import RasaClient, RasaTurn, RasaUnavailable
from bot.logging_setup import conversation_id_var
from bot.messaging import outbox
from bot.messaging import saved as saved_messages
from bot.messaging.outbox import Draft, Posted
from bot.metrics import TURN_SECONDS
from bot.payments import autopay, ways
from bot.plans.affordability import offers_terms
from bot.records import identity_answers, transcript_copy

__all__ = ["Pending", "Pipeline", "TurnResult", "help_reply", "start_reply", "stop_reply"]  # wording lives in keywords

log = logging.getLogger(__name__)

# The gate's own answers, in English; each is said in the conversation's language (bot/wording/).
EMPTY_MESSAGE_REPLY = wording.say("empty_message_reply")  # DISC-3: said to anyone, so it names no debt
UNAVAILABLE_REPLY = wording.say("unavailable_reply")
# Requests whose rule must act even while a person owns the conversation. They act on the same reading the dialogue
# acts on: Rasa's parse applies config.yml's FallbackClassifier (threshold and ambiguity) and names anything below
# it nlu_fallback, so the gateway keeps no threshold of its own. It had 0.8, and a cease the bot would have acted on
# at 0.52 ("quit bugging me") did nothing when typed to an agent: a request must not be weaker there.
OWNED_RULE_INTENTS = frozenset({"opt_out", "cease_contact", "attorney_represented", "bankruptcy", "deceased",
                                "wrong_person", "hardship"})
# Requests the debtor is told, once, took effect even while a person owns the chat: an opt-out (OPT-3) and a cease
# (CEASE-1: one closing message), in the same words as in a bot-owned chat. The others are the agent's to answer.
CONFIRMED_WHILE_OWNED = frozenset({"opt_out", "cease_contact"})
MENU_CHOICE = "menu_choice"  # metadata for Rasa: one of the dispute menus' choices (bot/disputes.is_menu_choice)
PLAN_TERMS = "plan_terms"  # metadata for Rasa: the words offer plan terms (bot/plans/affordability.offers_terms)
ATTORNEY_REQUEST = "attorney_represented"  # CEASE-2: the intent an attorney stated in words goes to the dialogue as

# PCI-1: card data is never taken in chat; DISC-3: it may reach someone not yet verified, so it names no debt.
CARD_WARNING = wording.say("card_warning")
# A new message finds the answer-saved job answering this conversation's saved messages: it waits this long for the
# job to finish (a few Rasa turns) so that it is answered after them, in the order written; then it goes on alone.
SAVED_CLAIM_WAIT_SECONDS = 10.0
SAVED_CLAIM_POLL_SECONDS = 0.25
# A reply the gateway makes itself may name its kind for the record (outbox.Draft.kind); Rasa's replies never do.
_KIND = "_settle_kind"


@dataclass
class _Received:
    conversation_id: str
    message_id: int
    text: str
    replies: list[str] | None  # answered here, without NLU
    prefix: list[str]  # said before Rasa's replies
    new_session: bool = False  # idle too long: Rasa starts a fresh session (slots reset) before this message
    agent_owned: bool = False  # a person owns the conversation: no Rasa, no bot reply of its own
    opted_out: bool = False  # OPT-3: this address opted out; the consumer gets one answer, rules still apply
    # PCI-2: the previous message held the start of a card number finished here; its id and its redacted text
    redacted_previous: tuple[int, str] | None = None
    feedback_comment: bool = False  # may be the comment after a feedback score (bot/feedback.py): NLU decides
    language: str = wording.ENGLISH  # the conversation's language after this message (bot/language.py)
    switched: bool = False  # this message's words changed the conversation's language
    # ID-2: the identity question waiting when this message came (Rasa's copies are rewritten after its turn), and
    # what was stored instead of the message when it answered one ("[date of birth]"); `text` is still as typed.
    awaited: str | None = None
    identity_answer: str | None = None
    saved: bool = False  # a saved message answered now that Rasa is back (answer_saved): its queue row goes with it
    metadata: dict[str, Any] | None = None  # the channel's metadata for Rasa, kept with the message if it is saved
    saved_waiting: bool = False  # the conversation has saved messages: they go to Rasa first, with this one
    # CEASE-2: the attorney's details the words gave, for the attorney form, when the words made it the request
    attorney_details: dict[str, str] | None = None
    # While a person owns the conversation: the requests its words applied (sensitive_requests.while_owned), which
    # the NLU reading then does not apply again
    owned_applied: tuple[str, ...] = ()


@dataclass
class _Queued:
    """A message for Rasa waiting for its conversation's turn, and where its result goes."""

    received: _Received
    channel: str
    metadata: dict[str, Any] | None
    done: asyncio.Future[TurnResult]


def _folds(batch: list[_Queued]) -> list[list[_Queued]]:
    """The waiting messages as turns, in order: plain texts run together are one turn; a button payload (Rasa's
    "/intent{...}" syntax, which only works alone) is a turn of its own."""
    groups: list[list[_Queued]] = []
    for queued in batch:
        alone = queued.received.text.startswith("/")
        if alone or not groups or groups[-1][-1].received.text.startswith("/"):
            groups.append([queued])
        else:
            groups[-1].append(queued)
    return groups


def request_in_words(text: str, *, noted_first: bool = False, request: str | None = None,
                     asked: str | None = None) -> tuple[str, dict[str, str] | None]:
    """What goes to the dialogue for a typed message (not a button), and the attorney's details for its form: the one
    route for a live message and a saved one answered later (answer_saved), so both take the same way. `request`: one
    the gate already made of the message (autopay.VERIFY_WITH_INTENT), which stands.

    CEASE-2: "I have a lawyer now, please talk to him" is the attorney request whatever the model reads (it read such
    messages as an identity answer, or as nothing): the dialogue's attorney form records it, hands off and asks only
    for the details the words did not give. DSP-1, N4: a request the words make plain goes to the dialogue as its
    intent, whatever the model would read ("I need proof of my payment" fell back); the dialogue verifies first.
    LANG-1: "necesito ayuda con mi cuenta" fell back: a plain request for help gets the menu, in the conversation's
    language, unless an identity question (`asked`) waits for this message."""
    attorney = None
    if not request:
        attorney = sensitive_requests.attorney_in_words(text)
        request = ATTORNEY_REQUEST if attorney is not None else None
    request = request or disputes.request_by_words(text, noted_first=noted_first)
    if request is None and asked is None and help_request.asks_for_help(text):
        request = help_request.MENU_INTENT
    return (f"/{request}" if request else text), attorney


def _time_turn(answer: asyncio.Future[Any], channel: str, started: float) -> None:
    """settle_turn_seconds{channel}: from the message's arrival to its answer (bot/metrics.py)."""
    def observe(done: asyncio.Future[Any]) -> None:
        if not done.cancelled():
            TURN_SECONDS.labels(channel=channel).observe(time.monotonic() - started)

    answer.add_done_callback(observe)


@dataclass
class TurnResult:
    """One inbound message and what was said back: the stored message's id, every reply as the outbox posted it
    (sent, deferred or blocked), the Rasa instance that answered (None when Rasa was not asked), and the
    conversation's language after the answer, with whether this message or its turn changed it (the widget
    relabels itself only then)."""

    conversation_id: str
    inbound_id: int
    replies: list[Posted]
    instance: int | None = None
    language: str = wording.ENGLISH
    language_changed: bool = False

    @property
    def sent(self) -> list[Posted]:
        return [p for p in self.replies if p.sent]


@dataclass
class Pending:
    """A message stored and in line for its answer: the stored message's id at once, the TurnResult when awaited.
    The answer is worked out whether or not anyone awaits it (the message is stored: it is answered)."""

    conversation_id: str
    inbound_id: int
    result: asyncio.Future[TurnResult]

    def __await__(self) -> Generator[Any, None, TurnResult]:
        # Shielded: a caller that goes away (a dropped socket) cancels its wait, never the answer.
        return asyncio.shield(self.result).__await__()


class Pipeline:
    def __init__(self, engine: Engine, rasa: RasaClient, settings: Settings, hub: LiveHub | None = None) -> None:
        self.engine, self.rasa, self.settings, self.hub = engine, rasa, settings, hub
        self.hours = AgentHours.parse(settings.agent_hours)
        # Per conversation with a Rasa turn running: the messages for Rasa waiting for it (see the docstring).
        self._waiting: dict[str, list[_Queued]] = {}
        self._drainers: set[asyncio.Task[Any]] = set()  # strong references: the loop keeps weak ones
        # Who this process is when it claims a conversation's saved messages (bot/messaging/saved.py).
        self._worker = f"gw:{socket.gethostname()[:24]}:{os.getpid()}"[:40]

    async def handle(self, channel: str, external_id: str, raw_text: str,
                     metadata: dict[str, Any] | None = None) -> TurnResult:
        """Store one message and answer it: `accept`, then await the result."""
        return await (await self.accept(channel, external_id, raw_text, metadata))

    async def accept(self, channel: str, external_id: str, raw_text: str, metadata: dict[str, Any] | None = None,
                     tag: dict[str, Any] | None = None) -> Pending:
        """Store the message (redacted; `tag` merged into its payload in the same INSERT, so whoever checks for the
        tag afterwards finds it; the caller redacts what it puts there) and put it in line for its answer. Returns
        once it is stored and in line, before the answer: the caller may release its lock, then await."""
        started = time.monotonic()
        received = await run_in_threadpool(self._receive, channel, external_id, raw_text, tag)
        # Every log line of this request from here on, and of the tasks it starts, names the conversation.
        conversation_id_var.set(received.conversation_id)
        if received.redacted_previous is not None:
            await self._redact_previous_in_rasa(received)
        if received.feedback_comment and received.replies is None:
            await self._comment_or_request(received)
        loop = asyncio.get_running_loop()
        if received.agent_owned or received.opted_out or received.replies is not None:
            # Answered here, at once, whatever turn is running (a task: answered even if nobody awaits it).
            answer = loop.create_task(self._answer_here(channel, received))
            self._drainers.add(answer)
            answer.add_done_callback(self._drainers.discard)
            _time_turn(answer, channel, started)
            return Pending(received.conversation_id, received.message_id, answer)
        # For Rasa: in turn with the conversation's other messages, folded with those that arrive meanwhile.
        received.metadata = metadata
        queued = _Queued(received, channel, metadata, loop.create_future())
        _time_turn(queued.done, channel, started)
        waiting = self._waiting.get(received.conversation_id)
        if waiting is None:
            waiting = self._waiting[received.conversation_id] = []
            # A task of its own: the turns go on (and the waiting messages are answered) even if this caller goes.
            drainer = loop.create_task(self._drain(received.conversation_id))
            self._drainers.add(drainer)
            drainer.add_done_callback(self._drainers.discard)
        waiting.append(queued)
        return Pending(received.conversation_id, received.message_id, queued.done)

    async def _answer_here(self, channel: str, received: _Received) -> TurnResult:
        """A message answered without a dialogue turn: by the gate (STOP/START/HELP, crisis, empty), or with the
        rules only, while a person owns the conversation or the consumer opted out."""
        reading = RasaTurn()  # what the NLU made of the message, kept with it (REC-1); none without NLU
        if received.new_session:
            # ID-1: this message found the session expired and is answered without a turn (START, HELP...): Rasa
            # starts its new session now, or the next message would find the old one (a form mid-question, verified).
            await self._start_rasa_session(channel, received)
        if received.agent_owned or (received.opted_out and received.replies is None):
            # A person answers, or the consumer opted out (OPT-3: one answer), but a legal request typed in still
            # takes effect (CEASE-*, OPT-3, ID-4, VUL-2).
            replies = [{"text": t} for t in (received.replies or [])]
            if keywords.classify(received.text, channel) is None and not keywords.asks_to_stop_messages(
                    received.text, channel):  # STOP/START/HELP, and a stop in words, were answered already
                reading = await self._rules_while_owned(received)
                replies += reading.replies
            if received.opted_out and not received.agent_owned:
                replies = replies or [{"text": opted_out_reply(channel, received.language),
                                       _KIND: outbox.OPT_OUT_ANSWER}]
        else:
            replies = [{"text": t} for t in received.replies or []]
        return await self._deliver(received, replies, "processed", reading)

    async def _start_rasa_session(self, channel: str, received: _Received) -> None:
        try:
            await self.rasa.send(received.conversation_id, "/session_start", {"channel": channel},
                                 message_id=f"{received.message_id}-session")
        except RasaUnavailable:
            # The dispute and other debt forms also check the stored verification themselves (actions/disputes.py).
            log.warning("message %s: Rasa unavailable, its session was not restarted", received.message_id)

    async def _drain(self, conversation_id: str) -> None:
        """Run the conversation's waiting messages, a fold at a time, until none is left."""
        waiting = self._waiting[conversation_id]
        try:
            while waiting:
                # In the order they were stored (their receiving ran in threads, and may have finished out of it).
                batch = sorted(waiting, key=lambda queued: queued.received.message_id)
                waiting.clear()
                claimed = any(q.received.saved_waiting for q in batch) and await self._saved_first(conversation_id,
                                                                                                   batch)
                try:
                    await self._run_folds(batch)
                finally:
                    if claimed:
                        await run_in_threadpool(self._release_saved, conversation_id, self._worker)
        finally:
            # Nothing awaits between the last check and here: a message arriving now starts a new drainer.
            del self._waiting[conversation_id]
            for queued in waiting:  # only if this task was cancelled (shutdown)
                if not queued.done.done():
                    queued.done.cancel()

    async def _run_folds(self, batch: list[_Queued]) -> None:
        for group in _folds(batch):
            try:
                results = await self._turn(group)
            except Exception as exc:  # noqa: BLE001 - handed to each waiting caller, who raises it
                for queued in group:
                    if not queued.done.done():
                        queued.done.set_exception(exc)
                continue
            for queued, result in zip(group, results, strict=True):
                if not queued.done.done():
                    queued.done.set_result(result)

    async def _saved_first(self, conversation_id: str, batch: list[_Queued]) -> bool:
        """The debtor writes again while messages they wrote when Rasa was down still wait: those go first, folded
        with the new ones into one turn (in the order written), so the dialogue reads them in order and the answer
        goes back with the new message's, on its channel. Only when this worker claims them and the dialogue may
        answer every one (saved.why_not_answered; not an identity answer); otherwise the answer-saved job deals with
        them. While the job holds them, this message waits for it (SAVED_CLAIM_WAIT_SECONDS), so that it is not
        answered before them. True when claimed (the caller releases the claim after the turn)."""
        def load() -> list[_Received] | None:
            now = datetime.now(timezone.utc)
            with session_scope(self.engine) as session:
                if not saved_messages.claim(session, conversation_id, self._worker, now):
                    return None
                conversation = session.get(Conversation, conversation_id)
                speaks = languages.current(session, conversation)
                idle = timedelta(minutes=self.settings.session_idle_minutes)
                earlier = []
                for message in saved_messages.in_order(session, conversation_id):
                    if saved_messages.why_not_answered(session, conversation, message, now, idle) is not None \
                            or identity_answers.RULE_ID in message.rule_ids:
                        return []
                    text, attorney = self._saved_route(session, conversation, message)
                    earlier.append(_Received(conversation_id, message.message_id, text, None, [],
                                             message.new_session, language=speaks, saved=True,
                                             metadata=message.metadata, attorney_details=attorney))
                return earlier

        loop = asyncio.get_running_loop()
        deadline = loop.time() + SAVED_CLAIM_WAIT_SECONDS
        while (earlier := await run_in_threadpool(load)) is None:
            # Another worker (the job) is answering them: this message waits its turn, unless that takes too long.
            if loop.time() >= deadline:
                log.warning("saved messages still claimed after %.0f s: the new message goes first",
                            SAVED_CLAIM_WAIT_SECONDS)
                return False
            await asyncio.sleep(SAVED_CLAIM_POLL_SECONDS)
            if not await run_in_threadpool(self._saved_waiting, conversation_id):
                return False  # the job answered them all meanwhile: this one is next, on its own
        batch[:0] = [_Queued(r, batch[0].channel, r.metadata, loop.create_future()) for r in earlier]
        return True

    async def _turn(self, group: list[_Queued], saved: bool = False) -> list[TurnResult]:
        """One Rasa turn for a fold of messages (one or more, in order); returns each message's result. `saved`: the
        messages were saved while Rasa was down (answer_saved); if Rasa fails again they stay saved, and nothing is
        said (the debtor heard once that their message is kept): RasaUnavailable goes up."""
        last = group[-1]
        received, channel = last.received, last.channel
        # PCI-2: a message of the fold may have finished a card number begun in the one before it, after that one was
        # received: the earlier one goes to Rasa as it is stored now, redacted.
        redacted = {q.received.redacted_previous[0]: q.received.redacted_previous[1]
                    for q in group if q.received.redacted_previous is not None}
        text = "\n".join(redacted.get(q.received.message_id, q.received.text) for q in group)
        status = "processed"
        reading = RasaTurn()
        try:
            # The stored message's id goes with it: a turn retried on another Rasa instance is answered once.
            message_id = str(received.message_id)
            if any(q.received.new_session for q in group):
                # ID-1: Rasa forgets the verification too (carry_over_slots_to_new_session is false).
                await self.rasa.send(received.conversation_id, "/session_start", {"channel": channel},
                                     message_id=f"{group[0].received.message_id}-session")
            metadata = {"channel": channel, "language": received.language, **(last.metadata or {})}
            if received.attorney_details is not None:  # CEASE-2: the form asks only for what the words lacked
                metadata[sensitive_requests.ATTORNEY_DETAILS] = received.attorney_details
            # ID-2: identity details given before the form asks for them are no request; the words around them are
            # (rasa_extensions/settle_channel.read_request). An answer to a waiting question is the form's alone.
            request = None if any(q.received.awaited for q in group) else identity.request_words(text)
            if request and not text.startswith("/"):
                metadata["request_text"] = request
            if not text.startswith("/") and offers_terms(text):
                # PLAN-4: "I can pay 50" offers other terms; inside the plan form Rasa takes it as the form's answer
                # instead of the model's pay_now (rasa_extensions/settle_channel.read_plan_terms).
                metadata[PLAN_TERMS] = True
            if not text.startswith("/") and disputes.is_menu_choice(text):
                # DSP-1: a dispute menu's own choice ("Toda la deuda" read as hardship); while that menu asks, Rasa
                # takes it as the answer (rasa_extensions/settle_channel.read_menu_choice).
                metadata[MENU_CHOICE] = True
            reading = await self.rasa.send(received.conversation_id, text, metadata, message_id=message_id)
            replies = reading.replies
            if any(q.received.awaited or q.received.identity_answer for q in group):
                # ID-2: the check has had the typed answers; Rasa now keeps them as they are stored here.
                await self._mask_in_rasa(received, "\n".join(
                    q.received.identity_answer or redacted.get(q.received.message_id, q.received.text)
                    for q in group), identity_answers.check_pending(reading.active_loop, reading.requested_slot))
        except RasaUnavailable:
            if saved:
                raise
            # The messages are already stored; marked and queued (bot/messaging/saved.py), answered once Rasa is back.
            replies = [{"text": wording.say("unavailable_reply", received.language)}]
            status = saved_messages.UNPROCESSED
        results = []
        folded = [q.received.message_id for q in group[:-1]]
        for queued in group[:-1]:  # their own gate prefixes (a card warning), then the answer to them all
            results.append(await self._deliver(
                queued.received, [{"text": t} for t in queued.received.prefix],
                "folded" if status == "processed" else status, RasaTurn(), folded_into=received.message_id))
        replies = [{"text": t} for t in received.prefix] + replies
        results.append(await self._deliver(received, replies, status, reading, folded=folded, dialogue=True))
        return results

    async def answer_saved(self, conversation_id: str, worker: str) -> list[TurnResult] | None:
        """Answer the conversation's saved messages (stored while no Rasa answered; bot/messaging/saved.py), each in
        turn, in the order they were written, once. None when another worker holds them. Stops at the first turn Rasa
        does not answer, leaving it and the rest saved, with nothing said (the debtor was told once that their message
        is kept). Every reply goes through the outbox; the results' sent replies are the caller's to deliver."""
        conversation_id_var.set(conversation_id)
        if not await run_in_threadpool(self._claim_saved, conversation_id, worker):
            return None
        results: list[TurnResult] = []
        tried: set[int] = set()
        try:
            while True:
                step = await run_in_threadpool(self._next_saved, conversation_id, worker)
                if step is None or step[1].message_id in tried:  # still saved after its turn: the next run tries
                    break
                action, received, channel = step
                tried.add(received.message_id)
                if action == "turn":
                    queued = _Queued(received, channel, received.metadata, asyncio.get_running_loop().create_future())
                    results += await self._turn([queued], saved=True)
                elif action == "identity":  # ID-2: its value was never kept, so the debtor is asked again
                    results.append(await self._deliver(received, [{"text": wording.say(
                        "saved_identity_answer_again", received.language)}], "processed", RasaTurn()))
                else:  # a person owns the conversation now, or it was handed to one: the agent reads the message
                    results.append(await self._deliver(received, [], "processed" if action == "owned"
                                                       else saved_messages.UNANSWERED, RasaTurn()))
        except RasaUnavailable:
            log.info("saved messages of this conversation still wait: Rasa unavailable")
        finally:
            await run_in_threadpool(self._release_saved, conversation_id, worker)
        return results

    def _saved_waiting(self, conversation_id: str) -> bool:
        with session_scope(self.engine) as session:
            return saved_messages.has_waiting(session, conversation_id)

    def _claim_saved(self, conversation_id: str, worker: str) -> bool:
        with session_scope(self.engine) as session:
            return saved_messages.claim(session, conversation_id, worker, datetime.now(timezone.utc))

    def _release_saved(self, conversation_id: str, worker: str) -> None:
        with session_scope(self.engine) as session:
            saved_messages.release(session, conversation_id, worker)

    def _next_saved(self, conversation_id: str, worker: str) -> tuple[str, _Received, str] | None:
        """The conversation's first saved message and what becomes of it: "turn" (a Rasa turn), "identity" (asked
        again), "owned" (a person has the conversation) or "person" (handed to one here: saved.why_not_answered).
        None when none is left, or the claim was lost (another worker took over after this one was too slow)."""
        now = datetime.now(timezone.utc)
        with session_scope(self.engine) as session:
            if not saved_messages.claim(session, conversation_id, worker, now):  # renewed at each message
                return None
            waiting = saved_messages.in_order(session, conversation_id)
            if not waiting:
                return None
            message = waiting[0]
            conversation = session.get(Conversation, conversation_id)
            speaks = languages.current(session, conversation)
            received = _Received(conversation_id, message.message_id, message.text, None, [], message.new_session,
                                 language=speaks, saved=True, metadata=message.metadata)
            why = saved_messages.why_not_answered(session, conversation, message, now,
                                                  timedelta(minutes=self.settings.session_idle_minutes))
            if why is not None:
                saved_messages.hand_to_person(session, conversation, [message], why, now)
                received.saved, received.agent_owned = False, True  # its row is gone; no bot reply of its own
                return "person", received, conversation.channel
            if agent_queue.owner(session, conversation_id) is not None:
                received.agent_owned = True
                return "owned", received, conversation.channel
            if identity_answers.RULE_ID in message.rule_ids:
                return "identity", received, conversation.channel
            received.text, received.attorney_details = self._saved_route(session, conversation, message)
            return "turn", received, conversation.channel

    async def _deliver(self, received: _Received, replies: list[dict[str, Any]], status: str, reading: RasaTurn,
                       folded: list[int] | None = None, folded_into: int | None = None,
                       dialogue: bool = False) -> TurnResult:
        posted, speaks = await run_in_threadpool(self._send, received, replies, status, reading, folded, folded_into,
                                                 dialogue)
        # What happened, never what was said (the JSON line adds the request and conversation ids).
        log.info("message %s %s: %d replies (%s), Rasa instance %s", received.message_id, status, len(posted),
                 ", ".join(p.status for p in posted) or "none", reading.instance)
        if self.hub is not None:
            # Wake the consoles showing this conversation or the queue (they re-read the database).
            await self.hub.publish(agents.conversation_topic(received.conversation_id), {"type": "changed"})
            await self.hub.publish(agents.QUEUE_TOPIC, {"type": "changed"})
        # Changed by the message's words (received), or during its turn (verification: bot/language.on_verified).
        changed = received.switched or speaks != received.language
        return TurnResult(received.conversation_id, received.message_id, posted, reading.instance, speaks, changed)

    async def _redact_previous_in_rasa(self, received: _Received) -> None:
        """PCI-2: the previous message went to Rasa before anyone knew it began a card number, and Rasa's tracker
        store keeps it (the user event, slots filled from it). Rasa rewrites it as stored here, before this message
        reaches it, whatever happens to this one (answered here, a person owns the conversation). If Rasa cannot,
        the failure is audited: the fragment (never a whole number) then stays in the tracker store."""
        message_id, text = received.redacted_previous
        try:
            await self.rasa.redact_message(received.conversation_id, str(message_id), text)
        except RasaUnavailable as exc:
            detail = {"message_id": message_id, "error": str(exc)[:200]}
        else:
            return

        def record() -> None:
            with session_scope(self.engine) as session:
                audit.record(session, "tracker_redaction_failed", rule_id="PCI-2",
                             conversation_id=received.conversation_id, detail=detail)

        await run_in_threadpool(record)

    async def _mask_in_rasa(self, received: _Received, text: str, check_pending: bool = True) -> None:
        """ID-2: Rasa's tracker store keeps the turn's user event as stored here (`text`, the answers masked) and no
        earlier value of the verify form's slots, only the ones its check still needs (bot/records/identity_answers).
        A failure is audited, like PCI-2's: the values then stay in the tracker store until the next rewrite."""
        try:
            await self.rasa.redact_message(received.conversation_id, str(received.message_id), text,
                                           slots=identity_answers.SLOT_LABELS, keep_current=check_pending)
        except RasaUnavailable as exc:
            detail = {"message_id": received.message_id, "error": str(exc)[:200]}
        else:
            return

        def record() -> None:
            with session_scope(self.engine) as session:
                audit.record(session, "tracker_redaction_failed", rule_id=identity_answers.RULE_ID,
                             conversation_id=received.conversation_id, detail=detail)

        await run_in_threadpool(record)

    async def forget_abandoned_answers(self, now: datetime | None = None) -> int:
        """ID-2: identity answers left waiting past the idle time are masked in Rasa's tracker store, the current
        slot values too (no check will run on them: bot/records/identity_answers.py "answers left waiting").
        Returns how many conversations were done; one Rasa cannot reach is tried again on the next sweep."""
        now = now or datetime.now(timezone.utc)
        idle = timedelta(minutes=self.settings.session_idle_minutes)

        def find() -> list[identity_answers.Abandoned]:
            with session_scope(self.engine) as session:
                return identity_answers.abandoned(session, now, idle)

        done = 0
        for left in await run_in_threadpool(find):
            try:
                await self.rasa.redact_message(left.conversation_id, str(left.message_id), left.stored_text,
                                               slots=identity_answers.SLOT_LABELS, keep_current=False)
            except RasaUnavailable:
                log.warning("ID-2: Rasa unreachable; answers of %s are masked on the next sweep", left.conversation_id)
                continue

            def mark(left: identity_answers.Abandoned = left) -> bool:
                with session_scope(self.engine) as session:
                    return identity_answers.forgotten(session, left)

            done += await run_in_threadpool(mark)
        return done

    async def _comment_or_request(self, received: _Received) -> None:
        """The message after the invitation to comment on a feedback score: a comment (stored, thanked, answered here)
        unless the NLU reads it as a request of its own, which then goes to the dialogue as any message does."""
        try:
            parsed = await self.rasa.parse(received.text, received.conversation_id)
        except RasaUnavailable:
            parsed = {}
        intent = parsed.get("intent") or {}
        if not feedback.is_comment(intent.get("name"), intent.get("confidence")):
            return

        def store() -> list[str]:
            with session_scope(self.engine) as session:
                message = session.get(Message, received.message_id)
                message.intent, message.intent_confidence = intent.get("name"), intent.get("confidence")
                return feedback.take_comment(session, received.conversation_id, received.message_id, received.text)

        received.replies = await run_in_threadpool(store)

    async def _rules_while_owned(self, received: _Received) -> RasaTurn:
        """Classify the message (NLU only, no dialogue) and apply a compliance-critical request's rule without a bot
        reply of its own; only an opt-out (OPT-3) and a cease (CEASE-1) are confirmed, once, and the confirmation is in
        the transcript the agent reads, with the audit trail.
        The reading is returned with the replies, to be stored with the message (REC-1)."""
        try:
            parsed = await self.rasa.parse(received.text, received.conversation_id)
        except RasaUnavailable:
            return RasaTurn()
        intent = parsed.get("intent") or {}
        reading = RasaTurn([], intent.get("name"), intent.get("confidence"))
        if intent.get("name") not in OWNED_RULE_INTENTS:  # nlu_fallback: under the dialogue's threshold too
            return reading
        if "third_party" in received.owned_applied or intent["name"] in received.owned_applied:
            return reading  # the words applied it already (while_owned); a third party's words hold nothing more
        if denied_by_words(intent["name"], received.text):
            return reading  # CEASE-1..4, ID-4: the words say the opposite ("I never filed"); the agent reads them

        def apply() -> list[str]:
            with session_scope(self.engine) as session:
                replies = sensitive_requests.handle(session, received.conversation_id, intent["name"], received.text,
                                                    self.settings.support_contact)
                notices.record(session, received.conversation_id, intent["name"],
                               sensitive_requests.RULES[intent["name"]].rule_id,
                               {"confidence": intent.get("confidence")})
                return replies if intent["name"] in CONFIRMED_WHILE_OWNED else []

        replies = await run_in_threadpool(apply)
        return RasaTurn([{"text": t} for t in replies], reading.intent, reading.confidence)

    def _receive(self, channel: str, external_id: str, raw_text: str,
                 tag: dict[str, Any] | None = None) -> _Received:
        now = datetime.now(timezone.utc)
        with session_scope(self.engine) as session:
            conversation = conversations.get_or_create(session, channel, external_id)
            idle = now - conversation.last_activity_at > timedelta(minutes=self.settings.session_idle_minutes)
            new_session = conversation.session_started_at is not None and idle
            if conversation.session_started_at is None or idle:
                conversation.session_started_at = now
            if new_session and conversation.verified_at is not None:
                # A phone or a browser left alone may be in other hands now: verify again (ID-1).
                conversation.verified_at = None
                audit.record(session, "verification_expired", rule_id="ID-1", conversation_id=conversation.id)
            # ID-1, ID-4: "this is Maria now, Luis handed me the phone": withdrawn before the NLU reads the rest, and
            # Rasa starts afresh (its verified slot with it) before this message, which then asks for verification.
            withdrawn = sensitive_requests.another_person_writing(session, conversation, raw_text, now)
            new_session = withdrawn or new_session
            owned = agent_queue.owner(session, conversation.id) is not None
            # ID-2: the identity question waiting for this message, unless Rasa starts over (a new session) or a
            # person answers now (the form is not running for them).
            asked = None if new_session or owned else conversation.awaiting_identity
            if new_session:
                conversation.awaiting_identity = None
            # PCI-2: a card split over two messages. The previous message's trailing digits come from its stored
            # (redacted) text, not from memory: any gateway worker may take the next message, and a restart
            # forgets nothing.
            previous = self._previous_inbound(session, conversation)
            found = redaction.redact(raw_text, redaction.carry_of(previous.text) if previous is not None else "")
            # ID-2: an answer to that question is stored as what it is, never its value; so are identity details
            # typed while not verified, when a question may wait unseen (folded, saved, out of turn). The text as
            # typed is only in memory, for the checks below and for Rasa (bot/records/identity_answers.py).
            identity_answer = identity_answers.stored_form(
                found.text, asked, unverified=conversation.verified_at is None,
                earlier_unanswered=previous is not None and previous.status in ("received", saved_messages.UNPROCESSED))
            rule_ids = (["PCI-2"] if found.kinds else []) + ([identity_answers.RULE_ID] if identity_answer else [])
            redacted_previous = None
            if found.redact_previous_tail and previous is not None:
                self._redact_previous(session, conversation, previous)
                redacted_previous = (previous.id, previous.text)
            message = conversations.record_message(
                session, conversation, direction="in", sender_role="debtor", text=identity_answer or found.text,
                status="received", payload=dict(tag) if tag else None, flush=False)
            message.rule_ids = rule_ids or None  # before the INSERT: stored with the message, not as a later change
            session.flush()
            if found.kinds:
                audit.record(session, "inbound_redacted", rule_id="PCI-2", conversation_id=conversation.id,
                             detail={"kinds": list(found.kinds)})
            if channel in ("sms", "email"):  # ID-5 for a phone; for an email, the debtor wrote from it (EMAIL-2)
                contact_preferences.record_inbound(session, channel, external_id, now)

            # The debtor's language, from their own words; a keyword is a sure sign of its own (LANG-1, OPT-3).
            observed = language.observe(session, conversation, found.text, now,
                                        keyword=keywords.language_of(found.text, channel))
            speaks = observed.language
            replies = self._keyword(session, conversation, found.text, speaks, owned)
            if replies is None and not found.text.strip() and not owned:
                replies = [wording.say("empty_message_reply", speaks)]
            nlu_text = self._choice(session, conversation, message.id, found.text) or found.text
            if replies is None and not owned and observed.replies:
                replies = list(observed.replies)  # "en español" alone: confirmed, nothing for the dialogue
            if replies is None and not owned:  # HO-1: a callback time picked from the bot's offer
                replies = escalation.callback_pick(session, conversation, nlu_text, self.settings.support_contact)
            if replies is None and outbound_gate.revokes_inconvenient_time(session, conversation, message.id,
                                                                                  found.text):
                # TIME-2: the consumer says now is fine after all
                replies = [wording.say("inconvenient_time_revoked", speaks)]
            if replies is None:  # PLAN-2: "stop the automatic payments" is honoured at once, never left to a person
                replies = autopay.revoke_on_request(session, conversation, found.text, now, speaks)
            noted: list[str] = []
            request: str | None = None
            if replies is None and not owned:
                # PLAN-2 before verification: kept and said so; the identity check starts, and it is done at
                # verification (bot/identity.py).
                noted = autopay.keep_until_verified(session, conversation, found.text, now, speaks) or []
                request = autopay.VERIFY_WITH_INTENT if noted else None
            if replies is None:  # TIME-1: "don't text me before noon" is recorded, whoever owns the conversation
                marked = inconvenient_words.answer(session, conversation, found.text, now, speaks,
                                                   self.settings.collector_address)
                if marked and (noted or not owned and disputes.request_by_words(found.text, noted_first=True)):
                    # DSP-1: "I already paid this, and don't call me at work": the note is said first, and the
                    # claim beside it still goes to the dialogue, which records it (after verification, ID-1).
                    noted += marked
                else:
                    replies = marked
            if replies is None and not owned and not noted:  # EMAIL-1: the answer to the E-SIGN question, word for word
                replies = esign.answer(session, conversation, message, now,  # "1": the question's button it picked
                                       picked=nlu_text if nlu_text != found.text else None)
            if replies is None and not owned and not noted and transcript_copy.asks_for_copy(nlu_text):
                replies = transcript_copy.request_copy(session, conversation, now)  # "email me a copy"
            crisis = sensitive_requests.crisis_cue(session, conversation.id, found.text)  # VUL-2, before NLU
            # VUL-1: a military cue in any message, whatever the NLU makes of it: flagged and handed to a person.
            prefix = sensitive_requests.military_cue(session, conversation.id, found.text,
                                                     self.settings.support_contact)
            prefix += [wording.say("card_warning", speaks)] if "card" in found.kinds else []
            prefix += list(observed.prefix) if replies is None and not owned else []
            prefix += noted
            comment = False
            if replies is None and not owned and not crisis:  # the answer to the feedback question, before NLU
                replies = feedback.take_score(session, conversation, message, now)
                comment = replies is None and feedback.comment_due(session, conversation, message, now)
            if replies is None and not crisis and not owned:
                # ID-1, ID-4: "I'm calling on behalf of my son, what does he owe?" before any verification: a third
                # party, handed to a person; no identity check follows, so nothing about the debt is told to them.
                replies = sensitive_requests.third_party_asking(session, conversation, found.text,
                                                                self.settings.support_contact, now) or None
            owned_applied: tuple[str, ...] = ()
            if replies is None and not crisis and not owned:  # VUL-2, CEASE-2: requests the words decide
                replies = sensitive_requests.by_words(session, conversation.id, found.text,
                                                      self.settings.support_contact, self.hours) or None
            elif replies is None and not crisis:
                # The same word checks while a person owns the chat (ID-1, ID-4, VUL-2, CEASE-2): applied, and shown
                # to that person; the bot says nothing.
                owned_applied = sensitive_requests.while_owned(session, conversation, found.text,
                                                               self.settings.support_contact, self.hours,
                                                               withdrawn=withdrawn, now=now)
            if replies is None and not crisis and not owned and not noted and ways.asks_ways_to_pay(nlu_text):
                # "can I pay by check or zelle?": answered here, so the flow the debtor was in waits for the next
                # message (the model read it as "do I have to pay now?" and gave the dispute rights).
                replies = ways.answer(session, conversation)
            if crisis and not owned and replies is None:
                # VUL-2: crisis first. The 988 line and a person, and nothing from the dialogue (no plan offer).
                replies, prefix = crisis + prefix, []
            else:
                prefix = crisis + prefix
            if owned:
                # A person answers now: nothing goes to Rasa, and only the gate's own answers go back.
                replies, prefix = (replies or []) + prefix, []
            attorney = None
            if replies is None and not owned and nlu_text == found.text:  # not a button picked
                nlu_text, attorney = request_in_words(found.text, noted_first=bool(noted), request=request,
                                                      asked=asked)
            opted_out = self._opted_out(session, conversation)
            # Messages saved while Rasa was down come before this one (answer_saved, _saved_first): one indexed
            # look-up in the small saved_messages table, only for a message bound for Rasa.
            earlier = replies is None and not owned and not opted_out and saved_messages.has_waiting(session,
                                                                                                      conversation.id)
            return _Received(conversation.id, message.id, nlu_text, replies, prefix, new_session, owned, opted_out,
                             redacted_previous, comment, speaks, observed.switched, asked, identity_answer,
                             saved_waiting=earlier, attorney_details=attorney, owned_applied=owned_applied)

    @staticmethod
    def _opted_out(session: Session, conversation: Conversation) -> bool:
        preference = contact_preferences.find(session, conversation.channel, conversation.external_id)
        return preference is not None and preference.opted_out_at is not None

    def _keyword(self, session: Session, conversation: Conversation, text: str, speaks: str,
                 owned: bool = False) -> list[str] | None:
        """OPT-2: STOP/START/HELP and their Spanish twins, answered in `speaks`, the conversation's language after
        the keyword (bot/language.observe: the keyword's own, START being no sign). A live chat's lone CANCEL asks
        what it means and opts nothing out (bot/compliance/keywords.py, ASK). `owned`: a person owns the
        conversation, and is shown an opt-out (bot/agents/notices.py)."""
        word = keywords.classify(text, conversation.channel)
        if word is None and keywords.asks_to_stop_messages(text, conversation.channel):
            # OPT-2: "what do I owe? also stop texting me" opts out as STOP does, whatever else the message asks;
            # OPT-3: the confirmation is the only reply.
            contact_preferences.opt_out(session, conversation.channel, conversation.external_id,
                                        via="natural language", conversation_id=conversation.id)
            if owned:
                notices.record(session, conversation.id, "opt_out", "OPT-2", {"by": "words"})
            return [stop_reply(conversation.channel, speaks)]
        if word is None:
            return None
        if word == keywords.ASK:  # already opted out: nothing to ask, OPT-3's one answer follows
            return None if self._opted_out(session, conversation) else [keywords.cancel_or_stop_reply(speaks)]
        if word == keywords.STOP:
            contact_preferences.opt_out(session, conversation.channel, conversation.external_id,
                                        via=f"keyword:{text.strip()[:20]}", conversation_id=conversation.id)
            if owned:
                notices.record(session, conversation.id, "opt_out", "OPT-2", {"by": "keyword"})
            return [stop_reply(conversation.channel, speaks)]
        if word == keywords.START and conversation.channel != "email":  # a From line is easy to forge (OPT-3)
            contact_preferences.opt_in(session, conversation.channel, conversation.external_id,
                                       conversation_id=conversation.id)
            return [start_reply(conversation.channel, speaks)]
        if word == keywords.HELP:
            return [help_reply(self.settings, speaks)]
        return None

    @classmethod
    def _saved_route(cls, session: Session, conversation: Conversation,
                     message: saved_messages.Saved) -> tuple[str, dict[str, str] | None]:
        """What a saved message goes to the dialogue as, answered later: a digit picks the button of the bot's
        message before it, as when it arrived (_choice); typed words take a live message's route (request_in_words:
        CEASE-2, DSP-1)."""
        picked = cls._choice(session, conversation, message.message_id, message.text)
        return (picked, None) if picked else request_in_words(message.text)

    @staticmethod
    def _choice(session: Session, conversation: Conversation, inbound_id: int, text: str) -> str | None:
        """A bare digit picks that numbered button of the bot's last message (how SMS shows buttons); the
        debtor's digit is what is stored, the button's payload is what Rasa gets."""
        match = re.fullmatch(r"\s*#?\s*(\d{1,2})\s*[.)]?\s*", text)
        if not match:
            return None
        last = session.scalar(
            select(Message).where(Message.conversation_id == conversation.id, Message.direction == "out",
                                  Message.id < inbound_id, Message.status == "sent")
            .order_by(Message.id.desc()).limit(1)
        )
        buttons = (last.payload or {}).get("buttons") if last is not None else None
        index = int(match.group(1)) - 1
        if not buttons or not 0 <= index < len(buttons):
            return None
        return str(buttons[index].get("payload") or buttons[index].get("title") or "")

    @staticmethod
    def _previous_inbound(session: Session, conversation: Conversation) -> Message | None:
        return session.scalar(
            select(Message).where(Message.conversation_id == conversation.id, Message.direction == "in")
            .order_by(Message.id.desc()).limit(1)
        )

    @staticmethod
    def _redact_previous(session: Session, conversation: Conversation, previous: Message) -> None:
        """PCI-2: this message completed a card number begun in the previous one; scrub that one too."""
        previous.text = redaction.redact_trailing_digits(previous.text)
        previous.rule_ids = sorted(set(previous.rule_ids or []) | {"PCI-2"})
        audit.record(session, "inbound_redacted", rule_id="PCI-2", conversation_id=conversation.id,
                     detail={"kinds": ["card"], "split_message": True})

    def _send(self, received: _Received, replies: list[dict[str, Any]], status: str,
              reading: RasaTurn, folded: list[int] | None = None,
              folded_into: int | None = None, dialogue: bool = False) -> tuple[list[Posted], str]:
        """Every reply goes through the outbox (bot/messaging): what may not go out is stored as blocked, with its
        rules; what must wait is queued. `folded`: the earlier messages this one's turn answered too;
        `folded_into`: this message is one of those, answered with the message of that id. Returns the posted
        replies and the conversation's language after them."""
        with session_scope(self.engine) as session:
            conversation = session.get(Conversation, received.conversation_id)
            inbound = session.get(Message, received.message_id)
            inbound.status = status
            if status == saved_messages.UNPROCESSED:  # nothing lost: answered when Rasa is back
                saved_messages.save(session, received.message_id, conversation.id, new_session=received.new_session,
                                    metadata=received.metadata)
            elif received.saved:  # answered now, in this transaction: it waits no more
                saved_messages.answered(session, received.message_id)
            if reading.intent is not None:
                inbound.intent, inbound.intent_confidence = reading.intent, reading.confidence
            if dialogue and status == "processed":  # ID-2: what the next message may be answering
                identity_answers.after_turn(conversation, reading.active_loop, reading.requested_slot)
            if folded:
                audit.record(session, "messages_folded", conversation_id=conversation.id,
                             detail={"into": received.message_id, "messages": folded})
            if folded_into is not None:  # answered by the turn of a later message: nothing of its own to add
                posted = outbox.post_replies(session, conversation, [
                    Draft(r.get("text", "")) for r in replies], window=timedelta(
                        minutes=self.settings.session_idle_minutes)) if replies else []
                return posted, languages.current(session, conversation)
            replies = sensitive_requests.handed_over_not_misunderstood(session, conversation.id, replies,
                                                                       self.settings.support_contact)
            if not received.agent_owned:  # HO-1: a second fallback in a row goes to a person
                replies = escalation.after_fallbacks(session, conversation, received.message_id, replies,
                                                     self.hours, self.settings.support_contact)
                # EMAIL-1: the E-SIGN question before a notice goes by email, but never mid-form or after a choice
                # offered with buttons: the debtor's "1" or "YES" there answers the form, not this question.
                if reading.active_loop is None and not any(r.get("buttons") for r in replies):
                    question = esign.question_due(session, conversation)
                    replies = replies + [question] if question else replies
            window = timedelta(minutes=self.settings.session_idle_minutes)
            stops = keywords.stop_replies(conversation.channel)  # OPT-3's confirmation, in either language
            drafts = [Draft(r.get("text", ""),
                            r.get(_KIND) or (outbox.OPT_OUT_CONFIRMATION if r.get("text") in stops else "reply"),
                            payload={k: v for k, v in r.items() if k not in ("recipient_id", "text", _KIND)} or None)
                      for r in replies]
            posted = outbox.post_replies(session, conversation, drafts, window=window)
            if not any(p.sent for p in posted) and not received.agent_owned and not received.opted_out:
                # Never a dead end: something safe always goes back (an agent answers an owned conversation).
                safe = wording.say("safe_reply", languages.current(session, conversation))
                posted += outbox.post_replies(session, conversation, [Draft(safe)], window=window)
            if not received.agent_owned and status == "processed" and any(p.sent for p in posted):
                # The bot's end of a conversation: one feedback question, never over a pending form or choice.
                pending = reading.active_loop is not None or any(r.get("buttons") for r in replies)
                asked = feedback.after_bot_turn(session, conversation, reading.intent, choice_pending=pending,
                                                window=window)
                posted += [asked] if asked is not None else []
            return posted, languages.current(session, conversation)
