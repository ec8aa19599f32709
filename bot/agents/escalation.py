"""What the bot says and records when a conversation goes to a person (HO-1).

* The reply says what happens next and how long it should take, from the live queue: the people ahead, the
  recent handling time and who is available now (`queue.expected_wait_minutes`). Within agent hours (always, when
  AGENT_HOURS is unset, as in the demo) but with nobody available, it says so plainly and offers callback times: no
  made-up wait, and the debtor may still wait, since the handoff stays in the queue.
* Available is what the console knows, not a guess (bot/agents/auth.available_worker_ids): a person who takes
  conversations (agent or supervisor, active), whose switch says "available", with a console session that is not
  logged out or expired and was seen in the last auth.ONLINE_WINDOW (an open console's live stream keeps it fresh,
  so a closed tab or a script that only logged in stops counting within minutes); and who speaks the conversation's
  language when any available person does (queue.workers_for).
* Outside agent hours (AGENT_HOURS) it offers a few callback times instead; the debtor picks one by tapping it or
  typing its number (over SMS the buttons are numbered lines), and the time is stored on the handoff. With
  AGENT_HOURS unset there are no hours to take the times from: they are in the debtor's daytime. Either way every
  time offered is one a person may call at (TIME-1: 08:00-20:59 in every zone the debtor may be in, and not in a
  time they marked inconvenient), judged by the same clock as the console's callback field (queue.DebtorClock).
* Two fallbacks in a row ("Sorry, I didn't catch that" twice) queue a handoff: the debtor is not left going round
  in circles (VOICE.md: never a dead end).
* Why they asked, for the person who picks it up: locked out of verification (ID-3) or in a dispute (DSP-1).

Everything here is worded before verification too, so it never mentions a debt (ID-1, DISC-3)."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot import audit, wording
from bot import handoff as handoff_queue
from bot import language as languages
from bot.agents import queue
from bot.agents.hours import AgentHours
from bot.db.models import Account, AuditEvent, Conversation, Dispute, Handoff, Message

CALLBACK_PAYLOAD = "callback"
_CALLBACK_PICK = re.compile(rf"{CALLBACK_PAYLOAD} ([1-9])")
DOMAIN_FILE = Path(__file__).resolve().parents[2] / "domain" / "conversation.yml"
FALLBACK_RESPONSES = ("utter_default", "utter_out_of_scope")


@lru_cache(maxsize=1)
def fallback_texts() -> frozenset[str]:
    """The bot's "I didn't get that" replies, read from the Rasa domain so a rewording there is followed here.
    (Rasa's REST output carries no intent, so the gateway recognises a fallback by its words.)"""
    data = yaml.safe_load(DOMAIN_FILE.read_text(encoding="utf-8")) or {}
    responses = data.get("responses") or {}
    return frozenset(variant["text"] for name in FALLBACK_RESPONSES for variant in responses.get(name, [])
                     if isinstance(variant, dict) and variant.get("text"))


def reason_for_request(session: Session, conversation: Conversation | None, accounts: list[Account],
                       now: datetime | None = None) -> tuple[str, str]:
    """Why a debtor who asks for a person needs one: (handoff reason, rule ID)."""
    now = now or datetime.now(timezone.utc)
    if conversation is not None and conversation.verified_at is None:
        locked = session.scalar(select(AuditEvent.id).where(
            AuditEvent.conversation_id == conversation.id,
            AuditEvent.kind.in_(("identity_locked", "identity_locked_attempt")),
            AuditEvent.at > now - timedelta(hours=24)).limit(1))
        if locked is not None:
            return "verification_lockout", "ID-3"  # they cannot get past the lock alone; a person can help
    if accounts and session.scalar(select(Dispute.id).where(
            Dispute.account_id.in_([a.id for a in accounts]), Dispute.status == "open").limit(1)) is not None:
        return "dispute", "DSP-1"
    return "request_human", "HO-1"


def next_steps(session: Session, handoff: Handoff, hours: AgentHours, support_contact: str,
               now: datetime | None = None) -> tuple[str, list[dict[str, str]]]:
    """The reply after queueing a handoff, and its buttons (callback times outside agent hours)."""
    now = now or datetime.now(timezone.utc)
    conversation = session.get(Conversation, handoff.conversation_id)
    speaks = languages.current(session, conversation) if conversation is not None else None

    def say(key: str, **values: object) -> str:
        return wording.say(key, speaks, **values)

    where = say("handoff_where_sms" if conversation is not None and conversation.channel == "sms"
                else "handoff_where_chat")
    if hours.is_open(now):
        minutes = queue.expected_wait_minutes(session, handoff, now)
        if minutes is None:
            # Opening hours, but nobody has switched to "available": no wait we could quote would be true.
            buttons = _offer_callbacks(handoff, hours, now, queue.debtor_clock(session, handoff), speaks)
            text = say("handoff_none_free", where=where, support=support_contact)
            return (f"{text} {say('handoff_choose_time')}" if buttons else text), buttons
        if (handoff.details or {}).get("callback_offer"):
            # Someone is here now: an earlier offer of callback times no longer stands.
            handoff.details = {k: v for k, v in handoff.details.items() if k != "callback_offer"}
        ahead = queue.position(session, handoff)
        line = say("handoff_next") if ahead == 0 else say("handoff_one_ahead") if ahead == 1 else \
            say("handoff_many_ahead", count=ahead)
        return say("handoff_queued", line=line, wait=queue.wait_phrase(minutes, speaks), where=where,
                   support=support_contact), []
    buttons = _offer_callbacks(handoff, hours, now, queue.debtor_clock(session, handoff), speaks)
    return say("handoff_away", hours=hours.describe(speaks), support=support_contact), buttons


def _offer_callbacks(handoff: Handoff, hours: AgentHours, now: datetime, clock: queue.DebtorClock,
                     language: str | None = None) -> list[dict[str, str]]:
    """Store the next few callback windows on the handoff (the debtor's pick is checked against them) and return
    them as buttons: in agent hours (or the next days when AGENT_HOURS is unset), and only when a person may call
    the debtor (TIME-1, the same clock the console's callback field keeps: their zones and inconvenient times)."""
    windows = hours.callback_windows(now, language=language, zones=clock.zones, inconvenient=clock.inconvenient)
    if not windows:
        return []
    handoff.details = {**(handoff.details or {}), "callback_offered_at": now.isoformat(), "callback_offer": [
        {"start": w.start.isoformat(), "end": w.end.isoformat(), "label": w.label} for w in windows]}
    return [{"title": w.label, "payload": f"{CALLBACK_PAYLOAD} {n}"} for n, w in enumerate(windows, start=1)]


def offer_buttons(session: Session, conversation_id: str) -> list[dict[str, str]]:
    """The callback times still on offer in this conversation, as buttons (none once one is picked)."""
    handoff = queue.open_handoff(session, conversation_id)
    details = (handoff.details or {}) if handoff is not None else {}
    if details.get("callback"):
        return []
    return [{"title": o["label"], "payload": f"{CALLBACK_PAYLOAD} {n}"}
            for n, o in enumerate(details.get("callback_offer") or [], start=1)]


def callback_pick(session: Session, conversation: Conversation, text: str, support_contact: str,
                  now: datetime | None = None) -> list[str] | None:
    """The debtor picked one of the offered callback times (tapped, or typed its number, which the pipeline
    maps to the button): store it on the handoff. None if the message is not a pick."""
    match = _CALLBACK_PICK.fullmatch((text or "").strip().lower())
    if not match:
        return None
    now = now or datetime.now(timezone.utc)
    handoff = queue.open_handoff(session, conversation.id)
    offer = (handoff.details or {}).get("callback_offer") if handoff is not None else None
    index = int(match.group(1)) - 1
    if not offer or index >= len(offer):
        return [wording.say("callback_unavailable", languages.current(session, conversation), support=support_contact)]
    choice = offer[index]
    handoff.callback_at = datetime.fromisoformat(choice["start"])
    handoff.details = {**(handoff.details or {}), "callback": choice["label"],
                       "callback_window": [choice["start"], choice["end"]]}
    audit.record(session, "callback_requested", rule_id="HO-1", actor="debtor", conversation_id=conversation.id,
                 account_id=handoff.account_id,
                 detail={"handoff_id": handoff.id, "start": choice["start"], "end": choice["end"]})
    return [wording.say("callback_booked", languages.current(session, conversation), label=choice["label"])]


def after_fallbacks(session: Session, conversation: Conversation, inbound_id: int, replies: list[dict[str, Any]],
                    hours: AgentHours, support_contact: str,
                    now: datetime | None = None) -> list[dict[str, Any]]:
    """If this turn's reply is a fallback and so was the bot's last one, hand the conversation to a person and
    say so instead of a second "I didn't catch that". Otherwise the replies, unchanged."""
    texts = fallback_texts()
    hits = [i for i, reply in enumerate(replies) if reply.get("text") in texts]
    if not hits:
        return replies
    previous = session.scalar(select(Message.text).where(
        Message.conversation_id == conversation.id, Message.direction == "out", Message.sender_role == "bot",
        Message.status == "sent", Message.id < inbound_id).order_by(Message.id.desc()).limit(1))
    if previous not in texts or queue.open_handoff(session, conversation.id) is not None:
        return replies
    account_id = conversation.account_id if conversation.verified_at is not None else None
    queued = handoff_queue.request(session, conversation.id, "repeated_fallback", rule_id="HO-1",
                                   account_id=account_id)
    text, buttons = next_steps(session, queued, hours, support_contact, now)
    speaks = languages.current(session, conversation)
    escalated: dict[str, Any] = {"text": wording.say("still_not_getting_it", speaks, text=text)}
    if buttons:
        escalated["buttons"] = buttons
    return [r for i, r in enumerate(replies) if i not in hits] + [escalated]
