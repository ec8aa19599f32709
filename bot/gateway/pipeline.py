"""Where every inbound message goes, whatever the channel: the compliance gate first, then Rasa, then the
outbound gate, with each message stored before it is processed and each reply as it is produced.

  1. redact card numbers and SSNs before anything is stored, logged or parsed (PCI-2);
  2. store the message (the redacted text), then act on STOP / START / HELP without NLU (OPT-2, OPT-3) and
     answer self-harm cues with the crisis line whatever the NLU makes of them (VUL-2);
  3. ask Rasa; 4. pass every reply through the outbound gate (TONE-1, TBD-1, DSP-2, CEASE-*); a blocked reply is
     stored as blocked with its rule IDs and the debtor gets a safe reply instead, never silence.

While a person owns the conversation (a claimed handoff, bot/agents/queue.py) step 3 is skipped and the bot says
nothing: the message is stored and shown to the agent's console, and only the gate's own answers go back (STOP,
START, HELP, the crisis line, the card warning). Two fallbacks in a row hand the conversation to a person (HO-1)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from bot import agents, audit, contact_preferences, conversations
from bot.agents import escalation
from bot.agents import queue as agent_queue
from bot.agents.hours import AgentHours
from bot.compliance import keywords, outbound_gate, redaction, sensitive_requests
from bot.config import Settings
from bot.db import session_scope
from bot.db.models import Conversation, Message
from bot.gateway.live import LiveHub
from bot.gateway.rasa_client import RasaClient, RasaTurn, RasaUnavailable

EMPTY_MESSAGE_REPLY = (
    "Sorry, I didn't catch that. You can say 'balance', 'payment plan', 'pay now' or 'talk to a person'."
)
UNAVAILABLE_REPLY = (
    "Sorry, I'm having trouble right now. Your message is saved. "
    "Please try again in a few minutes, or say 'talk to a person'."
)
# PCI-1: card data is never taken in chat; the debtor is pointed at the hosted payment page instead.
# Requests whose rule must act even while a person owns the conversation; a confident reading is required
# because no one confirms it in the dialogue.
OWNED_RULE_INTENTS = frozenset({"opt_out", "cease_contact", "attorney_represented", "bankruptcy", "deceased",
                                "wrong_person", "hardship"})
OWNED_RULE_CONFIDENCE = 0.8

CARD_WARNING = (
    "For your safety, please don't send card details in chat. I've removed them. "
    "To pay, say 'pay now' and I'll send you a secure link."
)


def stop_reply(channel: str) -> str:
    # OPT-3: one confirmation with nothing else in it: no balance, no link, no other ask.
    if channel == "sms":
        return "You're unsubscribed and won't get more texts from us. Reply START to resubscribe."
    return "You're unsubscribed from messages on this channel. Type START to resubscribe."


def start_reply(channel: str) -> str:
    return "You're subscribed again. Reply STOP at any time to opt out." if channel == "sms" else \
        "You're subscribed again. Type STOP at any time to opt out."


def help_reply(settings: Settings) -> str:
    # OPT-2: HELP gives the company name, a support contact and how to stop.
    return (f"{settings.business_name}: for help, contact {settings.support_contact}. "
            "Reply STOP to opt out.")


@dataclass
class _Received:
    conversation_id: str
    message_id: int
    text: str
    replies: list[str] | None  # answered here, without NLU
    prefix: list[str]  # said before Rasa's replies
    new_session: bool = False  # idle too long: Rasa starts a fresh session (slots reset) before this message
    agent_owned: bool = False  # a person owns the conversation: no Rasa, no bot reply of its own


class Pipeline:
    def __init__(self, engine: Engine, rasa: RasaClient, settings: Settings, hub: LiveHub | None = None) -> None:
        self.engine, self.rasa, self.settings, self.hub = engine, rasa, settings, hub
        self.hours = AgentHours.parse(settings.agent_hours)

    async def handle(self, channel: str, external_id: str, raw_text: str,
                     metadata: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        received = await run_in_threadpool(self._receive, channel, external_id, raw_text)
        status = "processed"
        reading = RasaTurn()  # what the NLU made of the message, kept with it (REC-1); none without NLU
        if received.agent_owned:
            # A person answers, but a legal request typed to them still takes effect (CEASE-*, OPT-3, ID-4, VUL-2).
            replies = [{"text": t} for t in (received.replies or [])]
            if keywords.classify(received.text) is None:  # STOP/START/HELP were answered already
                reading = await self._rules_while_owned(received)
                replies += reading.replies
        elif received.replies is not None:
            replies: list[dict[str, Any]] = [{"text": t} for t in received.replies]
        else:
            try:
                # The stored message's id goes with it: a turn retried on another Rasa instance is answered once.
                message_id = str(received.message_id)
                if received.new_session:
                    # ID-1: Rasa forgets the verification too (carry_over_slots_to_new_session is false).
                    await self.rasa.send(received.conversation_id, "/session_start", {"channel": channel},
                                         message_id=f"{message_id}-session")
                reading = await self.rasa.send(received.conversation_id, received.text,
                                               {"channel": channel, **(metadata or {})}, message_id=message_id)
                replies = reading.replies
            except RasaUnavailable:
                # The message is already stored; marked so that nothing is silently lost.
                replies, status = [{"text": UNAVAILABLE_REPLY}], "unprocessed"
            replies = [{"text": t} for t in received.prefix] + replies
        sent = await run_in_threadpool(self._send, received, replies, status, reading)
        if self.hub is not None:
            # Wake the consoles showing this conversation or the queue (they re-read the database).
            await self.hub.publish(agents.conversation_topic(received.conversation_id), {"type": "changed"})
            await self.hub.publish(agents.QUEUE_TOPIC, {"type": "changed"})
        return sent

    async def _rules_while_owned(self, received: _Received) -> RasaTurn:
        """Classify the message (NLU only, no dialogue) and apply a compliance-critical request's rule without a bot
        reply of its own; only an opt-out is confirmed, once (OPT-3). The agent sees the audit trail in the console.
        The reading is returned with the replies, to be stored with the message (REC-1)."""
        try:
            parsed = await self.rasa.parse(received.text, received.conversation_id)
        except RasaUnavailable:
            return RasaTurn()
        intent = parsed.get("intent") or {}
        reading = RasaTurn([], intent.get("name"), intent.get("confidence"))
        if intent.get("name") not in OWNED_RULE_INTENTS or intent.get("confidence", 0) < OWNED_RULE_CONFIDENCE:
            return reading

        def apply() -> list[str]:
            with session_scope(self.engine) as session:
                replies = sensitive_requests.handle(session, received.conversation_id, intent["name"], received.text,
                                                    self.settings.support_contact)
                audit.record(session, "rule_applied_while_agent_owned", rule_id=sensitive_requests.RULES[
                    intent["name"]].rule_id, conversation_id=received.conversation_id,
                    detail={"intent": intent["name"], "confidence": intent.get("confidence")})
                return replies if intent["name"] == "opt_out" else []

        replies = await run_in_threadpool(apply)
        return RasaTurn([{"text": t} for t in replies], reading.intent, reading.confidence)

    def _receive(self, channel: str, external_id: str, raw_text: str) -> _Received:
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
            # PCI-2: a card split over two messages. The previous message's trailing digits come from its stored
            # (redacted) text, not from memory: any gateway worker may take the next message, and a restart
            # forgets nothing.
            previous = self._previous_inbound(session, conversation)
            found = redaction.redact(raw_text, redaction.carry_of(previous.text) if previous is not None else "")
            rule_ids = ["PCI-2"] if found.kinds else None
            if found.redact_previous_tail and previous is not None:
                self._redact_previous(session, conversation, previous)
            message = conversations.record_message(
                session, conversation, direction="in", sender_role="debtor", text=found.text, status="received",
                flush=False)
            message.rule_ids = rule_ids  # before the INSERT: stored with the message, not as a later change
            session.flush()
            if found.kinds:
                audit.record(session, "inbound_redacted", rule_id="PCI-2", conversation_id=conversation.id,
                             detail={"kinds": list(found.kinds)})
            if channel == "sms":
                contact_preferences.record_inbound(session, channel, external_id, now)

            replies = self._keyword(session, conversation, found.text)
            owned = agent_queue.owner(session, conversation.id) is not None
            if replies is None and not found.text.strip() and not owned:
                replies = [EMPTY_MESSAGE_REPLY]
            nlu_text = self._choice(session, conversation, message.id, found.text) or found.text
            if replies is None and not owned:  # HO-1: a callback time picked from the bot's offer
                replies = escalation.callback_pick(session, conversation, nlu_text, self.settings.support_contact)
            prefix = sensitive_requests.crisis_cue(session, conversation.id, found.text)  # VUL-2, before NLU
            prefix += [CARD_WARNING] if "card" in found.kinds else []
            if owned:
                # A person answers now: nothing goes to Rasa, and only the gate's own answers go back.
                replies, prefix = (replies or []) + prefix, []
            return _Received(conversation.id, message.id, nlu_text, replies, prefix, new_session, owned)

    def _keyword(self, session: Session, conversation: Conversation, text: str) -> list[str] | None:
        word = keywords.classify(text)
        if word == keywords.STOP:
            contact_preferences.opt_out(session, conversation.channel, conversation.external_id,
                                        via=f"keyword:{text.strip()[:20]}", conversation_id=conversation.id)
            return [stop_reply(conversation.channel)]
        if word == keywords.START:
            contact_preferences.opt_in(session, conversation.channel, conversation.external_id,
                                       conversation_id=conversation.id)
            return [start_reply(conversation.channel)]
        if word == keywords.HELP:
            return [help_reply(self.settings)]
        return None

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
              reading: RasaTurn) -> list[dict[str, Any]]:
        """Every reply passes the outbound gate; what may not go out is stored as blocked, with its rules."""
        with session_scope(self.engine) as session:
            conversation = session.get(Conversation, received.conversation_id)
            inbound = session.get(Message, received.message_id)
            inbound.status = status
            if reading.intent is not None:
                inbound.intent, inbound.intent_confidence = reading.intent, reading.confidence
            if not received.agent_owned:  # HO-1: a second fallback in a row goes to a person
                replies = escalation.after_fallbacks(session, conversation, received.message_id, replies,
                                                     self.hours, self.settings.support_contact)
            sent: list[dict[str, Any]] = []
            accounts = outbound_gate.accounts_of(session, conversation) if replies else []
            for reply in replies:
                text = reply.get("text", "")
                verdict = outbound_gate.check_reply(session, conversation, text, accounts=accounts)
                extra = {k: v for k, v in reply.items() if k not in ("recipient_id", "text")} or None
                stored = conversations.record_message(
                    session, conversation, direction="out", sender_role="bot", text=text, payload=extra,
                    status="sent" if verdict.allowed else "blocked", flush=False)  # one flush for the turn's replies
                if not verdict.allowed:
                    stored.rule_ids = list(verdict.rule_ids)
                    audit.record(session, "outbound_blocked", rule_id=verdict.rule_ids[0],
                                 conversation_id=conversation.id,
                                 detail={"rules": list(verdict.rule_ids), "reasons": list(verdict.reasons)})
                    continue
                sent.append(reply)
            if not sent and not received.agent_owned:
                # Never a dead end: something safe always goes back (an agent answers an owned conversation).
                conversations.record_message(session, conversation, direction="out", sender_role="bot",
                                             text=outbound_gate.SAFE_REPLY, status="sent")
                sent.append({"text": outbound_gate.SAFE_REPLY})
            return sent
