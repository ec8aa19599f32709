"""The handoff queue as people work it (HO-1): who waits, who owns what, and every change of hands.

A conversation belongs to the bot unless a handoff of it is `claimed`: then the person who claimed it owns it
and the bot says nothing (bot/gateway/pipeline.py asks `owner`). Every change of status is one UPDATE whose
WHERE clause names the status it expects, so two people racing for the same conversation cannot both win: the
database serialises the two statements and the second finds nothing to change (`Conflict`), on SQLite and on
PostgreSQL alike. Nothing is read-then-written.

    waiting --claim--> claimed --hand_back--> returned (the bot answers again)
       ^                  |  \\--resolve--> resolved (with an outcome code)
       +----release-------+  (reassign: a supervisor gives it to someone else, waiting or claimed)
    waiting --the person ends the web chat--> resolved ("person_left"; a claimed one stays with its owner)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.orm import Session

from bot import audit, contact_preferences, conversations, outreach_order, propensity, wording
from bot import language as languages
from bot.agents import auth, users
from bot.compliance import contact_window, esign, holds
from bot.compliance.lockout import lock_ends
from bot.compliance.outbound_gate import conversation_zones, inconvenient_times
from bot.db.models import (
    Account,
    AutopayAuthorisation,
    ContactPreference,
    Conversation,
    Debtor,
    Dispute,
    Handoff,
    Message,
    Payment,
    Plan,
    ScheduledMessage,
    User,
    VerificationAttempt,
)
from bot.local_dates import last_day_covered
from bot.messaging import queue as outbound_queue
from bot.money import format_cents
from bot.records.reading import REDACTED, Reading
from bot.wording.formats import long_date

WAITING, CLAIMED, RETURNED, RESOLVED = "waiting", "claimed", "returned", "resolved"
OPEN = (WAITING, CLAIMED)
# How a person closes a conversation. "handed_back" is set by hand_back, not chosen.
OUTCOMES = {
    "promise_to_pay": "Promise to pay",
    "plan_set": "Plan set",
    "dispute_logged": "Dispute logged",
    "callback": "Callback arranged",
    "no_contact": "No contact",
    "wrong_party": "Wrong party",
    "other": "Other",
}
# Set by person_left, not chosen: the person ended the web chat before anyone took the conversation.
PERSON_LEFT = "person_left"
OUTCOME_LABELS = {**OUTCOMES, PERSON_LEFT: "Person left before anyone took it"}
REASON_LABELS = {
    "request_human": "Asked for a person", "repeated_fallback": "Bot did not understand twice",
    "crisis": "Crisis cue", "hardship": "Hardship", "military": "Military", "attorney": "Attorney",
    "bankruptcy": "Bankruptcy", "deceased": "Deceased", "cease": "Cease contact", "chargeback": "Card chargeback",
    "dispute": "Dispute needs a person", "verification_lockout": "Locked out of verification",
    "third_party": "Not the account holder",  # before or after a verification: the row says which
    # ID-4 is not this: "you have my address wrong" (bot/compliance/sensitive_requests.denied_report)
    "details_update": "Debtor's details to update",
    # bot/messaging/saved.py: written while the bot was down, too old to answer automatically or after a STOP/cease
    "saved_message": "Message saved while the bot was down",
    # PLAN-2: asked to stop automatic payments before verifying, and a charge fell due (bot/payments/autopay.py)
    "autopay_stop": "Asked to stop automatic payments (not verified)",
}
# The expected wait the bot quotes: recent handling times, or this when there are none yet.
DEFAULT_HANDLE_MINUTES = 8.0
HANDLE_SAMPLE = 20


class QueueError(Exception):
    """Base of what a queue action can refuse; the message is safe to show to the person."""


class NotFound(QueueError):
    pass


class Conflict(QueueError):
    """Someone else changed it first (a second claim, a stale page)."""


class Forbidden(QueueError):
    """This person's role or ownership does not allow it."""


# --- reading ------------------------------------------------------------------------------------------------------

def open_handoff(session: Session, conversation_id: str) -> Handoff | None:
    """The conversation's handoff that is still waiting or owned, if any."""
    return session.scalar(select(Handoff).where(Handoff.conversation_id == conversation_id,
                                                Handoff.status.in_(OPEN))
                          .order_by(Handoff.created_at.desc()).limit(1))


def owner(session: Session, conversation_id: str) -> Handoff | None:
    """The claimed handoff if a person owns the conversation now (the bot must then stay silent)."""
    return session.scalar(select(Handoff).where(Handoff.conversation_id == conversation_id,
                                                Handoff.status == CLAIMED).limit(1))


def get(session: Session, handoff_id: str) -> Handoff:
    handoff = session.get(Handoff, handoff_id, populate_existing=True)
    if handoff is None:
        raise NotFound("That conversation is not in the queue.")
    return handoff


def waiting(session: Session, limit: int = 200) -> list[Handoff]:
    """Highest priority first (a crisis before a legal stop before a general request), then longest wait; handoffs
    of one priority that arrived within propensity.QUEUE_BUCKET of each other are in the order in force
    (bot/outreach_order.py: propensity to pay with a model stored, else the segment's priority), highest first.
    The wait quoted to a debtor (`position`) counts by arrival, so it may be off by those few minutes."""
    rows = list(session.scalars(select(Handoff).where(Handoff.status == WAITING)
                                .order_by(Handoff.priority.desc(), Handoff.created_at, Handoff.id).limit(limit)))
    _, ranked = outreach_order.ranks(session, [h.account_id for h in rows])
    if ranked:
        rows.sort(key=lambda h: (-h.priority, propensity.queue_bucket(h.created_at),
                                 -ranked.get(h.account_id or "", -math.inf)))
    return rows


def waiting_count(session: Session) -> int:
    """How many handoffs wait for a person now (settle_handoffs_waiting on /metrics)."""
    return int(session.scalar(select(func.count()).select_from(Handoff).where(Handoff.status == WAITING)) or 0)


def claimed(session: Session, user_id: str | None = None, limit: int = 200) -> list[Handoff]:
    query = select(Handoff).where(Handoff.status == CLAIMED)
    if user_id is not None:
        query = query.where(Handoff.claimed_by == user_id)
    return list(session.scalars(query.order_by(Handoff.claimed_at, Handoff.id).limit(limit)))


def recently_closed(session: Session, user_id: str | None = None, limit: int = 20) -> list[Handoff]:
    query = select(Handoff).where(Handoff.status.in_((RETURNED, RESOLVED)))
    if user_id is not None:
        query = query.where(Handoff.resolved_by == user_id)
    return list(session.scalars(query.order_by(Handoff.resolved_at.desc()).limit(limit)))


def position(session: Session, handoff: Handoff) -> int:
    """How many waiting handoffs a person will pick up before this one."""
    return session.scalar(select(func.count(Handoff.id)).where(
        Handoff.status == WAITING, Handoff.id != handoff.id,
        or_(Handoff.priority > handoff.priority,
            and_(Handoff.priority == handoff.priority, Handoff.created_at < handoff.created_at)))) or 0


def average_handle_minutes(session: Session, now: datetime | None = None) -> float:
    """Mean time from claim to close over the latest handoffs of the past week (a simple, honest estimate)."""
    now = now or datetime.now(timezone.utc)
    rows = session.execute(select(Handoff.claimed_at, Handoff.resolved_at).where(
        Handoff.claimed_at.is_not(None), Handoff.resolved_at.is_not(None),
        Handoff.resolved_at > now - timedelta(days=7)).order_by(Handoff.resolved_at.desc()).limit(HANDLE_SAMPLE)).all()
    durations = [max(1.0, min(60.0, (done - start).total_seconds() / 60)) for start, done in rows]
    return sum(durations) / len(durations) if durations else DEFAULT_HANDLE_MINUTES


def workers_for(session: Session, handoff: Handoff, now: datetime | None = None) -> int:
    """The people available now who would take this conversation: those who speak its language (claim leaves it to
    them, _check_language), or everyone available when none of them does (a supervisor may give it to anyone then,
    take_refusals)."""
    available = auth.available_worker_ids(session, now)
    if not available:
        return 0
    people = session.scalars(select(User).where(User.id.in_(available))).all()
    language = conversation_language(session, handoff)
    return sum(users.speaks(person, language) for person in people) or len(people)


def expected_wait_minutes(session: Session, handoff: Handoff, now: datetime | None = None) -> int | None:
    """(people ahead + 1) x average handling time / people available now who speak the conversation's language
    (workers_for), rounded up to 5 minutes; None when no one is available, since any figure would then be made up
    (the bot says no one is free instead)."""
    workers = workers_for(session, handoff, now)
    if workers == 0:
        return None
    ahead = position(session, handoff)
    minutes = (ahead + 1) * average_handle_minutes(session, now) / workers
    return max(5, math.ceil(minutes / 5) * 5)


def wait_phrase(minutes: int, language: str | None = None) -> str:
    return wording.say("wait_minutes", language, minutes=minutes) if minutes <= 60 else \
        wording.say("wait_hour", language)


def waiting_fingerprint(session: Session) -> tuple[Any, ...]:
    """Changes whenever the queue does: the console compares it to know when to redraw without reloading."""
    rows = session.execute(select(Handoff.id, Handoff.status, Handoff.priority, Handoff.claimed_by)
                           .where(Handoff.status.in_(OPEN)).order_by(Handoff.id)).all()
    latest = session.scalar(select(func.max(Handoff.resolved_at)))
    return tuple(tuple(r) for r in rows) + ((str(latest),) if latest else ())


# --- changing hands -----------------------------------------------------------------------------------------------

def _change(session: Session, handoff_id: str, expect: Any, **values: Any) -> Handoff:
    """One UPDATE ... WHERE id = :id AND <expect>; exactly one row or Conflict."""
    result = session.execute(update(Handoff).where(Handoff.id == handoff_id, expect).values(**values)
                             .execution_options(synchronize_session=False))
    if result.rowcount != 1:
        get(session, handoff_id)  # NotFound if it never existed
        raise Conflict("Someone else has changed this conversation. The page shows where it stands now.")
    return get(session, handoff_id)


LANGUAGE_NAMES = {"en": "English", "es": "Spanish"}


def conversation_language(session: Session, handoff: Handoff) -> str:
    conversation = session.get(Conversation, handoff.conversation_id)
    return languages.current(session, conversation) if conversation is not None else "en"


def _check_language(session: Session, handoff_id: str, user: User, now: datetime) -> None:
    """HO-1 / LANG-1: a conversation in a language the person does not speak goes to a colleague who does, when one
    is available (signed in, switched to available): the debtor is answered in their language. With nobody
    available who speaks it, a supervisor may still take it or assign it to anyone (an answer in English beats no
    answer); an agent may not choose that for themselves (`take_refusals`)."""
    language = conversation_language(session, get(session, handoff_id))
    if users.speaks(user, language):
        return
    if any(users.speaks(colleague, language) for colleague in _available_colleagues(session, user, now)):
        raise Forbidden(_LEAVE_IT.format(language=LANGUAGE_NAMES.get(language, language)))


_LEAVE_IT = "This conversation is in {language}, and a colleague who speaks it is available. Leave it for them."
_NOT_YOURS_TO_TAKE = ("This conversation is in {language}, which you do not answer in. A supervisor can assign it "
                      "to someone who speaks it, or to you.")


def assign_choices(session: Session, now: datetime | None = None) -> list[tuple[User, str]]:
    """Who a supervisor may give a conversation to (users.assignable), each with what decides it (HO-1, LANG-1):
    "Sofia (agent) · English, Spanish · away". Away is someone not counted now (not signed in, or switched to
    Away): a conversation given to them waits on nobody."""
    now = now or datetime.now(timezone.utc)
    here = auth.available_worker_ids(session, now)
    return [(person, f"{person.display_name} ({person.role}) · "
                     f"{', '.join(LANGUAGE_NAMES.get(code, code) for code in users.languages(person))} · "
                     f"{'available' if person.id in here else 'away'}")
            for person in users.assignable(session, now)]


def _available_colleagues(session: Session, user: User, now: datetime) -> Sequence[User]:
    available = auth.available_worker_ids(session, now) - {user.id}
    return session.scalars(select(User).where(User.id.in_(available))).all() if available else []


def take_refusals(session: Session, handoffs: Sequence[Handoff], user: User,
                  now: datetime | None = None) -> dict[str, str | None]:
    """Why `user` may not take each waiting conversation (None: they may), the one rule `claim` enforces and the
    console asks before it offers "Take" (HO-1, LANG-1): an agent takes only conversations in a language they
    answer in; a supervisor, the rest too unless a colleague who speaks it is available. With no supervisor on
    shift either, anyone may take it: an answer in English (and the canned replies in the debtor's language) beats
    a debtor left waiting for someone who is not there."""
    now = now or datetime.now(timezone.utc)
    if not users.can_work(user):
        return {h.id: "Your role cannot take conversations." for h in handoffs}
    found = {c.id: c for c in session.scalars(select(Conversation).where(
        Conversation.id.in_({h.conversation_id for h in handoffs})))} if handoffs else {}
    spoken = languages.current_for(session, list(found.values()))
    colleagues = _available_colleagues(session, user, now)
    refusals: dict[str, str | None] = {}
    for h in handoffs:
        language = spoken.get(h.conversation_id, "en")
        name = LANGUAGE_NAMES.get(language, language)
        if users.speaks(user, language):
            refusals[h.id] = None
        elif any(users.speaks(colleague, language) for colleague in colleagues):
            refusals[h.id] = _LEAVE_IT.format(language=name)
        elif users.can_reassign(user) or not any(users.can_reassign(colleague) for colleague in colleagues):
            refusals[h.id] = None
        else:
            refusals[h.id] = _NOT_YOURS_TO_TAKE.format(language=name)
    return refusals


def claim(session: Session, handoff_id: str, user: User, now: datetime | None = None) -> Handoff:
    """Take a waiting conversation; exactly one of several simultaneous claims wins, the others get Conflict."""
    if not users.can_work(user):
        raise Forbidden("Your role cannot take conversations.")
    now = now or datetime.now(timezone.utc)
    refusal = take_refusals(session, [get(session, handoff_id)], user, now)[handoff_id]
    if refusal is not None:
        raise Forbidden(refusal)
    handoff = _change(session, handoff_id, Handoff.status == WAITING, status=CLAIMED, claimed_by=user.id,
                      claimed_at=now)
    audit.record(session, "handoff_claimed", rule_id="HO-1", actor=users.actor(user),
                 conversation_id=handoff.conversation_id, account_id=handoff.account_id,
                 detail={"handoff_id": handoff.id})
    return handoff


def release(session: Session, handoff_id: str, user: User) -> Handoff:
    """Put an owned conversation back in the queue (the bot still answers while it waits). Not once the person
    ended the web chat: nobody should pick up a conversation whose person has gone (person_left)."""
    handoff = get(session, handoff_id)
    if conversations.ended_at(session, handoff.conversation_id) is not None:
        raise QueueError("The person ended the chat, so there is no one to put back in the queue for. "
                         "Resolve it with an outcome or hand it back.")
    handoff = _change(session, handoff_id, _owned_by(user, handoff), status=WAITING, claimed_by=None,
                      claimed_at=None)
    audit.record(session, "handoff_released", rule_id="HO-1", actor=users.actor(user),
                 conversation_id=handoff.conversation_id, detail={"handoff_id": handoff.id})
    return handoff


def reassign(session: Session, handoff_id: str, supervisor: User, to: User, now: datetime | None = None) -> Handoff:
    """A supervisor gives a waiting or owned conversation to someone (who then owns it)."""
    if not users.can_reassign(supervisor):
        raise Forbidden("Only a supervisor can reassign conversations.")
    now = now or datetime.now(timezone.utc)
    refusal = users.why_not_assignable(to, now)
    if refusal is not None:
        raise Forbidden(refusal)
    _check_language(session, handoff_id, to, now)
    before = get(session, handoff_id)
    previous = before.claimed_by
    expect = Handoff.status == WAITING if previous is None else and_(Handoff.status == CLAIMED,
                                                                     Handoff.claimed_by == previous)
    handoff = _change(session, handoff_id, expect, status=CLAIMED, claimed_by=to.id, claimed_at=now)
    audit.record(session, "handoff_reassigned", rule_id="HO-1", actor=users.actor(supervisor),
                 conversation_id=handoff.conversation_id,
                 detail={"handoff_id": handoff.id, "from": previous, "to": to.id})
    return handoff


def _owned_by(user: User, handoff: Handoff) -> Any:
    """The owner may close their conversation; a supervisor may close anyone's."""
    if not users.can_work(user):
        raise Forbidden("Your role cannot close conversations.")
    if handoff.claimed_by != user.id and not users.can_reassign(user):
        raise Forbidden("This conversation belongs to someone else.")
    return and_(Handoff.status == CLAIMED, Handoff.claimed_by == handoff.claimed_by)


def person_left(session: Session, conversation_id: str, now: datetime | None = None) -> Handoff | None:
    """The person ended the web chat ("End chat"): nobody is there to pick the conversation up any more. A handoff
    still waiting leaves the queue, closed by no one with the outcome `person_left` (it stays a handoff in the
    KPIs: the bot did not settle the conversation on its own). A claimed one is left with its owner, who may be in
    the middle of it: their console says the person left (Summary.ended_at) and they close it themselves.
    The closed handoff, or None when nothing waited."""
    handoff = open_handoff(session, conversation_id)
    if handoff is None or handoff.status != WAITING:
        return None
    now = now or datetime.now(timezone.utc)
    try:
        handoff = _change(session, handoff.id, Handoff.status == WAITING, status=RESOLVED, resolved_at=now,
                          outcome=PERSON_LEFT)
    except Conflict:
        return None  # taken this very moment: the new owner's console says the person left
    audit.record(session, "handoff_resolved", rule_id="HO-1", conversation_id=conversation_id,
                 account_id=handoff.account_id, detail={"handoff_id": handoff.id, "outcome": PERSON_LEFT})
    return handoff


def hand_back(session: Session, handoff_id: str, user: User, now: datetime | None = None) -> Handoff:
    """The bot answers the debtor's next message again (the caller tells the debtor so)."""
    now = now or datetime.now(timezone.utc)
    handoff = get(session, handoff_id)
    handoff = _change(session, handoff_id, _owned_by(user, handoff), status=RETURNED, resolved_at=now,
                      resolved_by=user.id, outcome="handed_back")
    audit.record(session, "handoff_returned", rule_id="HO-1", actor=users.actor(user),
                 conversation_id=handoff.conversation_id, detail={"handoff_id": handoff.id})
    return handoff


def resolve(session: Session, handoff_id: str, user: User, outcome: str, *, callback_at: datetime | None = None,
            now: datetime | None = None) -> Handoff:
    """Close with an outcome code; the bot answers any later message. A wrong party is also marked on the
    address, so nothing about the debt goes there again (ID-4)."""
    if outcome not in OUTCOMES:
        raise QueueError("Pick an outcome.")
    if outcome == "callback" and callback_at is None:
        raise QueueError("A callback needs a date and time.")
    if callback_at is not None and callback_at.tzinfo is None:
        raise QueueError("A callback time needs a time zone.")
    now = now or datetime.now(timezone.utc)
    if outcome == "callback" and callback_at is not None and callback_at <= now:
        # A callback promised for a time already gone is one nobody will make: say so rather than store it.
        raise QueueError("That callback time has passed. Give a date and time from now on.")
    handoff = get(session, handoff_id)
    if outcome == "callback" and callback_at is not None:
        clock = debtor_clock(session, handoff)
        problem = clock.refusal(callback_at)
        if problem:
            raise QueueError(problem)
    values: dict[str, Any] = {"status": RESOLVED, "resolved_at": now, "resolved_by": user.id, "outcome": outcome}
    if outcome == "callback":
        values["callback_at"] = callback_at
    handoff = _change(session, handoff_id, _owned_by(user, handoff), **values)
    conversation = session.get(Conversation, handoff.conversation_id)
    if outcome == "wrong_party" and conversation is not None:
        contact_preferences.mark_wrong_party(session, conversation.channel, conversation.external_id,
                                             conversation_id=conversation.id, now=now)
    audit.record(session, "handoff_resolved", rule_id="HO-1", actor=users.actor(user),
                 conversation_id=handoff.conversation_id, account_id=handoff.account_id,
                 detail={"handoff_id": handoff.id, "outcome": outcome,
                         "callback_at": callback_at.isoformat() if callback_at else None})
    return handoff


@dataclass(frozen=True)
class DebtorClock:
    """The debtor's time as the agent needs it: every zone they may be in (TIME-1: the outbound gate's zones, all
    US zones when none is known), the times they marked inconvenient, and whether a person may contact them at a
    moment. The rule itself is contact_window's (allowed_now, allowed_periods); the bot's callback offers
    (escalation) and the console's callback field both read it through this clock."""

    zones: tuple[str, ...]
    known: bool  # False: no location signal, so the moment must suit every US zone
    inconvenient: tuple[contact_window.InconvenientTime, ...] = ()

    def local(self, moment: datetime) -> list[str]:
        """The moment on the debtor's clock, one entry a zone: "Dec 8, 02:00 America/New_York"."""
        shown = []
        for zone in self.zones:
            local = moment.astimezone(ZoneInfo(zone))
            shown.append(f"{local:%b} {local.day}, {local:%H:%M} {zone}")
        return shown

    def read(self, typed: str, zone: str | None = None) -> datetime:
        """A callback time as the agent typed it ("2026-12-08T10:00", the console's field), read on the debtor's
        clock: in `zone`, one of the debtor's zones (the first when none is picked). The page shows the debtor's
        time beside the field, so that is the clock the agent types in; a time read in the agent's own zone was
        hours off for a debtor elsewhere. QueueError when it is not a date and time or the zone is not theirs."""
        chosen = zone or self.zones[0]
        if chosen not in self.zones:
            raise QueueError("Pick the debtor's time zone from the list.")
        try:
            local = datetime.fromisoformat(typed.strip())
        except ValueError as exc:
            raise QueueError("Give the callback as a date and time.") from exc
        if local.tzinfo is not None:  # the field sends none; a typed offset is the agent's own choice of clock
            return local
        return local.replace(tzinfo=ZoneInfo(chosen))

    def allows(self, moment: datetime) -> bool:
        """TIME-1: may a person contact the debtor at `moment`?"""
        return contact_window.allowed_now(moment, self.zones, self.inconvenient)

    def refusal(self, moment: datetime) -> str | None:
        """Why a callback at `moment` breaks TIME-1 (outside 08:00-20:59 in one of the debtor's zones, or in a time
        they marked inconvenient), or None. The rule itself is contact_window's; this only says it for the agent."""
        if self.allows(moment):
            return None
        where = ("in every US zone, since the debtor's zone is unknown" if not self.known
                 else "in the debtor's time")
        earliest = contact_window.next_allowed(moment, self.zones, self.inconvenient)
        suggestion = "" if earliest is None else (
            f" The earliest time from then that suits: {earliest.astimezone(timezone.utc):%b} {earliest.day}, "
            f"{earliest.astimezone(timezone.utc):%H:%M} UTC ({'; '.join(self.local(earliest))}).")
        marked = " and not in a time the debtor marked inconvenient" if self.inconvenient else ""
        return (f"Not saved: that callback is {'; '.join(self.local(moment))}. Contact is allowed only "
                f"08:00-20:59 {where}{marked} (TIME-1).{suggestion}")


def debtor_clock(session: Session, handoff: Handoff) -> DebtorClock:
    conversation = session.get(Conversation, handoff.conversation_id)
    zones = conversation_zones(session, conversation) if conversation is not None else (
        contact_window.UNKNOWN_LOCATION_ZONES)
    return DebtorClock(zones, zones != contact_window.UNKNOWN_LOCATION_ZONES, _inconvenient(session, conversation))


def _inconvenient(session: Session, conversation: Conversation | None) -> tuple[contact_window.InconvenientTime, ...]:
    """TIME-1: the times marked inconvenient on this conversation's address and, since a callback is a call, on the
    debtor's phone (inconvenient_words stores them on both once the debtor is verified)."""
    if conversation is None:
        return ()
    addresses = {(conversation.channel, conversation.external_id)}
    debtor = session.get(Debtor, conversation.debtor_id) if conversation.debtor_id else None
    if debtor is not None and debtor.phone:
        addresses.add(("sms", debtor.phone))
    found: list[contact_window.InconvenientTime] = []
    for channel, address in sorted(addresses):
        found += inconvenient_times(contact_preferences.find(session, channel, address))
    return tuple(dict.fromkeys(found))


# --- what the console shows -------------------------------------------------------------------------------------

@dataclass
class Summary:
    """A queue row's view of the bot conversation so far."""

    channel: str
    verified: bool
    language: str  # the debtor's language ("en", "es"), shown so the person answers in it
    debtor_messages: int
    bot_messages: int
    blocked: int
    last_debtor_text: str
    reasons: list[str]
    captured: dict[str, Any]
    callback: str | None = None
    waited_minutes: int = 0
    recent: list[str] = field(default_factory=list)
    ended_at: datetime | None = None  # the person ended the web chat: replies cannot reach them (person_left)
    opted_out_at: datetime | None = None  # OPT-3: the person opted this channel out; a reply would be blocked
    verification: str = "Not verified"  # the outcome shown instead of the answers (HO-1, ID-2): VERIFICATION_LABELS


# HO-1: staff see how verification went, never what the debtor answered (bot/records/reading.py).
VERIFICATION_LABELS = {"verified": "Verified", "locked": "Verification locked", "failed": "Verification failed",
                       "none": "Not verified"}


def _pick_stands(handoff: Handoff, details: dict[str, Any]) -> bool:
    """The callback window the debtor picked (escalation.callback_pick) is still the handoff's callback: a time the
    agent set since (resolve) replaces it, and the window's label no longer applies."""
    window = details.get("callback_window") or []
    return bool(window) and handoff.callback_at is not None and \
        datetime.fromisoformat(window[0]) == handoff.callback_at


_INTERNAL_DETAILS = {"reasons", "callback_offer", "callback_offered_at", "callback", "callback_window"}


def summary(session: Session, handoff: Handoff, now: datetime | None = None) -> Summary:
    return summaries(session, [handoff], now)[handoff.id]


RECENT_SHOWN = 3  # the debtor's latest messages a queue row quotes


def _opted_out_at(session: Session, found: Sequence[Conversation]) -> dict[str, datetime]:
    """When each conversation's address opted its channel out (OPT-3), for those still opted out: one query."""
    addresses = {(c.channel, c.external_id): c.id for c in found if c.external_id}
    if not addresses:
        return {}
    rows = session.execute(select(ContactPreference.channel, ContactPreference.address, ContactPreference.opted_out_at)
                           .where(ContactPreference.address.in_({a for _, a in addresses}),
                                  ContactPreference.opted_out_at.is_not(None)))
    return {addresses[(channel, address)]: at for channel, address, at in rows if (channel, address) in addresses}


def summaries(session: Session, handoffs: Sequence[Handoff], now: datetime | None = None, *,
              reading: Reading = Reading(REDACTED)) -> dict[str, Summary]:
    """Each handoff's row (by handoff id), in a fixed number of queries however long the queue: the page is drawn
    again for every agent whenever the queue changes. The debtor's words quoted are as `reading` (the reader's:
    bot/records/reading.py) may see them; redacted unless the caller says who reads."""
    now = now or datetime.now(timezone.utc)
    ids = list({h.conversation_id for h in handoffs})
    if not ids:
        return {}
    found = {c.id: c for c in session.scalars(select(Conversation).where(Conversation.id.in_(ids)))}
    counts: dict[tuple[str, str], int] = {(cid, role): n for cid, role, n in session.execute(
        select(Message.conversation_id, Message.sender_role, func.count(Message.id))
        .where(Message.conversation_id.in_(ids)).group_by(Message.conversation_id, Message.sender_role))}
    blocked = dict(session.execute(select(Message.conversation_id, func.count(Message.id)).where(
        Message.conversation_id.in_(ids), Message.status == "blocked").group_by(Message.conversation_id)).all())
    newest_first = select(Message.conversation_id, Message.text, Message.intent, func.row_number().over(
        partition_by=Message.conversation_id, order_by=Message.id.desc()).label("n")).where(
        Message.conversation_id.in_(ids), Message.direction == "in").subquery()
    recent: dict[str, list[str]] = {}
    for cid, text, intent in session.execute(
            select(newest_first.c.conversation_id, newest_first.c.text, newest_first.c.intent)
            .where(newest_first.c.n <= RECENT_SHOWN).order_by(newest_first.c.n)):
        recent.setdefault(cid, []).append(reading.text(text, intent=intent))  # newest first
    failures: dict[str, list[datetime]] = {}
    for cid, at in session.execute(select(VerificationAttempt.conversation_id, VerificationAttempt.at).where(
            VerificationAttempt.conversation_id.in_(ids), VerificationAttempt.succeeded.is_(False),
            VerificationAttempt.debtor_id.is_(None))):
        failures.setdefault(cid, []).append(at)
    spoken = languages.current_for(session, list(found.values()))
    ended = conversations.ended_at_for(session, ids)
    opted_out = _opted_out_at(session, list(found.values()))
    rows = {}
    for handoff in handoffs:
        cid = handoff.conversation_id
        conversation = found.get(cid)
        latest = recent.get(cid, [])
        details = handoff.details or {}
        reasons = list(dict.fromkeys([handoff.reason, *details.get("reasons", [])]))
        rows[handoff.id] = Summary(
            channel=conversation.channel if conversation else "?",
            verified=bool(conversation and conversation.verified_at),
            language=LANGUAGE_NAMES.get(spoken.get(cid, "en"), "English"),
            debtor_messages=counts.get((cid, "debtor"), 0), bot_messages=counts.get((cid, "bot"), 0),
            blocked=blocked.get(cid, 0),
            last_debtor_text=(latest[0] if latest else "")[:140],
            reasons=[REASON_LABELS.get(r, r.replace("_", " ")) for r in reasons],
            captured={k: v for k, v in details.items() if k not in _INTERNAL_DETAILS},
            callback=details.get("callback") if _pick_stands(handoff, details) else None,
            waited_minutes=int((now - handoff.created_at).total_seconds() // 60),
            recent=[t[:140] for t in reversed(latest)],
            ended_at=ended.get(cid),
            opted_out_at=opted_out.get(cid),
            verification=VERIFICATION_LABELS[_verification(conversation, reasons, failures.get(cid, []), now)],
        )
    return rows


def _verification(conversation: Conversation | None, reasons: list[str], failures: list[datetime],
                  now: datetime) -> str:
    """verified, locked (ID-3: the lockout's defaults, or the handoff the lockout made), failed or none."""
    if conversation is not None and conversation.verified_at:
        return "verified"
    ends = lock_ends(failures)
    if "verification_lockout" in reasons or (ends is not None and now < ends):
        return "locked"
    return "failed" if failures else "none"


@dataclass
class AccountView:
    reference: str
    creditor: str
    balance: str
    status: str
    hold: str | None
    flags: list[str]
    # DSP-3: the last day to dispute, on the debtor's calendar, as their notice shows it (not the UTC instant the
    # period is over at: the staff tester read "Jan 11, 05:00" for a notice that says January 10).
    validation_ends: str | None
    plans: list[dict[str, Any]]
    payments: list[dict[str, Any]]
    disputes: list[dict[str, Any]]
    notices: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Panel:
    verified: bool
    debtor_name: str | None
    accounts: list[AccountView]
    contact_flags: list[str]
    note: str | None = None


def owned_plan(session: Session, handoff_id: str, user: User, plan_id: str) -> Plan:
    """A plan on the accounts of the conversation the user owns (a supervisor: anyone's), for a person acting on the
    debtor's request there (PLAN-2: stop the automatic payments); refused otherwise, saying why."""
    handoff = get(session, handoff_id)
    if handoff.status != CLAIMED:
        raise Forbidden("Take the conversation first.")
    _owned_by(user, handoff)
    plan = session.get(Plan, plan_id)
    if plan is None or plan.account_id not in {a.id for a in _panel_accounts(session, handoff)}:
        raise NotFound("That plan is not on this conversation's accounts.")
    return plan


def _panel_accounts(session: Session, handoff: Handoff) -> list[Account]:
    """The accounts the panel shows: the verified debtor's, the handoff's own, or the texting phone's."""
    conversation = session.get(Conversation, handoff.conversation_id)
    debtor_id = conversation.debtor_id if conversation else None
    accounts: list[Account] = []
    if debtor_id:
        accounts = list(session.scalars(select(Account).where(Account.debtor_id == debtor_id)
                                        .order_by(Account.account_ref)))
    elif handoff.account_id:
        account = session.get(Account, handoff.account_id)
        accounts = [account] if account else []
    elif conversation is not None and conversation.channel == "sms":
        accounts = list(session.scalars(select(Account).join(Debtor).where(Debtor.phone == conversation.external_id)
                                        .order_by(Account.account_ref)))
    return accounts


def account_panel(session: Session, handoff: Handoff) -> Panel:
    """Balance, plans, payments, disputes and flags for the person handling the conversation. Staff may see
    them; the debtor may hear them only once verified, so the panel says so when they are not (ID-1)."""
    conversation = session.get(Conversation, handoff.conversation_id)
    verified = bool(conversation and conversation.verified_at and conversation.debtor_id)
    accounts = _panel_accounts(session, handoff)
    debtor = session.get(Debtor, accounts[0].debtor_id) if accounts else None
    note = None
    if not verified:
        note = ("Not verified in this conversation: confirm who you are talking to before you say anything about "
                "a debt (ID-1)." if accounts else "Not verified, and no account is linked yet.")
    views = [_account_view(session, a) for a in accounts]
    flags: list[str] = []
    if conversation is not None:
        preference = contact_preferences.find(session, conversation.channel, conversation.external_id)
        if preference is not None and preference.opted_out_at:
            flags.append("Opted out on this channel (OPT-3)")
        if preference is not None and preference.wrong_party_at:
            flags.append("Marked wrong party (ID-4)")
    return Panel(verified, f"{debtor.first_name} {debtor.last_name}" if debtor else None, views, flags, note)


def _account_view(session: Session, account: Account) -> AccountView:
    flags = []
    if account.time_barred:
        flags.append("Time-barred: no mention of suit, court or legal action (TBD-1)")
    if account.legal_action_permitted:
        flags.append("Legal action permitted")
    if account.collection_paused_reason:
        flags.append(f"Collection paused: {account.collection_paused_reason.replace('_', ' ')} (VUL-2)")
    # PLAN-2: which plans charge a saved card on their own, so that a person can stop it when the debtor asks.
    autopay = {a.plan_id: a for a in session.scalars(select(AutopayAuthorisation).where(
        AutopayAuthorisation.account_id == account.id, AutopayAuthorisation.status == "active"))}
    plans = [{"id": p.id, "reference": p.reference, "kind": p.kind, "status": p.status.replace("_", " "),
              "total": format_cents(p.total_cents, account.currency), "count": p.installment_count,
              "next_due": next((i.due_date for i in p.installments if i.status == "scheduled"), None),
              "autopay": _autopay_label(autopay[p.id]) if p.id in autopay else None}
             for p in session.scalars(select(Plan).where(Plan.account_id == account.id).order_by(Plan.created_at))]
    disputes = [{"kind": d.kind.replace("_", " "), "amount": format_cents(d.disputed_cents, account.currency),
                 "status": d.status, "at": d.created_at}
                for d in session.scalars(select(Dispute).where(Dispute.account_id == account.id)
                                         .order_by(Dispute.created_at))]
    return AccountView(
        reference=account.account_ref, creditor=account.creditor,
        balance=format_cents(account.balance_cents, account.currency), status=account.status,
        hold=holds.hold_rule(session, account), flags=flags,
        validation_ends=long_date(last_day_covered(account.validation_period_ends_at,
                                                   session.get(Debtor, account.debtor_id)))
        if account.validation_period_ends_at else None,
        plans=plans, payments=_payments(session, account), disputes=disputes, notices=_notices(session, account))


def _autopay_label(authorisation: AutopayAuthorisation) -> str:
    card = " ".join(part for part in ((authorisation.card_brand or "").title(), "card") if part)
    return f"{card} ending {authorisation.card_last4}" if authorisation.card_last4 else card


def _notices(session: Session, account: Account) -> list[dict[str, Any]]:
    """The notices the law requires (DISC-5) and how each went: by email, or queued for post and not sent
    (EMAIL-1), so nobody tells the debtor a letter went out when it did not."""
    rows = session.scalars(select(ScheduledMessage).where(
        ScheduledMessage.account_id == account.id, ScheduledMessage.kind.in_(esign.REQUIRED_DISCLOSURES))
        .order_by(ScheduledMessage.created_at))
    return [{"kind": m.kind.replace("_", " "), "channel": "post" if m.channel == outbound_queue.MAIL else m.channel,
             "status": outbound_queue.status_phrase(m), "reason": m.reason, "at": m.sent_at or m.created_at}
            for m in rows]


def _payments(session: Session, account: Account) -> list[dict[str, Any]]:
    rows = session.scalars(select(Payment).where(Payment.account_id == account.id)
                           .order_by(Payment.created_at.desc()).limit(10))
    return [{"reference": p.reference, "amount": format_cents(p.amount_cents, p.currency), "status": p.status,
             "card": f"{p.card_brand or 'card'} ending {p.card_last4}" if p.card_last4 else None, "at": p.created_at}
            for p in rows]

