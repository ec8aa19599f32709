"""Debtor feedback: one short question at the end of a conversation, on the same channel, and what the answers say.

When it is asked. At the end of a conversation that did something: the debtor says goodbye to the bot after a
request of substance in this session (`after_bot_turn`), or an agent resolves the handoff (`after_resolve`). The
widget's "End chat" is not an end we ask at: it revokes the session's token at once, so no answer could come back
(nor after it, when an agent closes the conversation the person ended).
The question goes through the outbox like every message (bot/messaging), as a reply in the debtor's live session,
and never:
  - when the address opted out (OPT-3) or reached the wrong person (ID-4), now or earlier in the conversation;
  - on a conversation or account with a cease (CEASE-1), an attorney (CEASE-2), a bankruptcy (CEASE-3) or a death
    (CEASE-4), or a crisis cue (VUL-2): a survey there would be tone-deaf at best, a contact the law forbids at worst;
  - outside the debtor's live session (a survey never starts a contact of its own: TIME-2 covers a reply only) or
    outside 08:00-20:59 in the debtor's time zones or in a time they marked inconvenient (TIME-1: the question is
    the bot's own initiative, not an answer to what they asked);
  - more than once per session of a conversation (the table's unique constraint holds it even under a race), or
    within REST of the last question to this conversation: an SMS number or an email address is one conversation
    for years, and a person who writes every week is not surveyed every week;
  - while a form or a choice is pending (the caller says so: a form active after the turn, buttons in its replies,
    or the last message a choice), so a digit typed next answers the menu or the plan pick, never this question.

How the answer is recognised (before NLU, called by the gateway's pipeline as for the E-SIGN answer): a bare 1-5
(optionally with words after it: "4, quick and clear") typed while the question is the bot's last message and
within SCORE_WAIT of it. Then the bot thanks them and invites a comment; the next message, within COMMENT_WAIT
and while that invitation is the bot's last message, is the comment, unless the NLU reads it as a request of its
own (`is_comment`): "I want to pay now" still goes to the dialogue. STOP, HELP and crisis cues are handled before
any of this, as for every message.

What the answers say: `overall_feedback_score` (the one figure the operations dashboard shows) and
`feedback_report` (per channel, per agent and per intent: mean score, count, response rate)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot import audit, contact_preferences, conversations, wording
from bot import language as languages
from bot.compliance import contact_window, outbound_gate, sensitive_requests
from bot.db.models import (
    AccountStatus,
    AuditEvent,
    Conversation,
    FeedbackRequest,
    Handoff,
    Message,
    ScheduledMessage,
    User,
)
from bot.messaging import outbox
from bot.messaging.outbox import Draft, Posted

KIND = "feedback_ask"
# VOICE.md: plain, one idea, a next step. DISC-3: it says nothing about a debt, so it may go to anyone.
# The words are in bot/wording/ (feedback_*), said in the conversation's language; these names hold the English.
QUESTION = wording.say("feedback_question")
THANKS_FOR_SCORE = wording.say("feedback_thanks_score")
THANKS_FOR_COMMENT = wording.say("feedback_thanks_comment")
SCORE_WAIT = timedelta(minutes=30)  # after the question, a bare digit is its answer for this long
COMMENT_WAIT = timedelta(minutes=15)  # after the thanks, the next message is the comment for this long
REST = timedelta(days=30)  # between two questions to one conversation: a survey, not a habit
COMMENT_LIMIT = 1000

# What a conversation is about: the debtor's last request in this session, by its NLU reading. These readings are
# not requests (small talk, answers to the bot's questions), so they name no topic and a comment may read as them.
NOT_A_REQUEST = frozenset({"greet", "goodbye", "affirm", "deny", "bot_challenge", "out_of_scope", "inform_identity",
                           "nlu_fallback"})
ENDING_INTENTS = frozenset({"goodbye"})
REQUEST_CONFIDENCE = 0.8  # a comment read as a request this confidently goes to the dialogue instead

# The events that rule a question out for the whole conversation, with the rule each stands for.
EXCLUDING_EVENTS = {
    "opted_out": "OPT-3", "opt_out_requested": "OPT-3",
    "wrong_party_reported": "ID-4", "wrong_party_marked": "ID-4",
    "cease_requested": "CEASE-1", "attorney_reported": "CEASE-2", "bankruptcy_reported": "CEASE-3",
    "deceased_reported": "CEASE-4", "crisis_cue": "VUL-2",
}
EXCLUDING_STATUSES = {AccountStatus.CEASED: "CEASE-1", AccountStatus.ATTORNEY: "CEASE-2",
                      AccountStatus.BANKRUPT: "CEASE-3", AccountStatus.DECEASED: "CEASE-4"}

_SCORE = re.compile(r"\s*([1-5])(?:\s*(?:/\s*5|out of 5|stars?))?(?:\s*[.,:;!)\-]+\s*|\s+|$)(.*)",
                    re.IGNORECASE | re.DOTALL)


@dataclass(frozen=True)
class Refusal:
    """Why no question goes: the rule (None for the product's own limits) and a reason a reviewer can read."""

    rule_id: str | None
    reason: str


# --- asking -------------------------------------------------------------------------------------------------------

def refusal(session: Session, conversation: Conversation, now: datetime,
            window: timedelta = outbox.REPLY_WINDOW) -> Refusal | None:
    """The reason this conversation may not be asked now, or None when it may (see the module docstring)."""
    # One read of the address's preferences serves both the suppression and the inconvenient times below.
    preference = contact_preferences.find(session, conversation.channel, conversation.external_id)
    suppressed = contact_preferences.suppression_of(preference)
    if suppressed in ("OPT-3", "ID-4"):
        return Refusal(suppressed, "the address opted out" if suppressed == "OPT-3" else "wrong party")
    kinds = set(session.scalars(select(AuditEvent.kind).where(
        AuditEvent.conversation_id == conversation.id,
        AuditEvent.kind.in_([*EXCLUDING_EVENTS, conversations.ENDED_EVENT]))))
    for kind, rule_id in EXCLUDING_EVENTS.items():
        if kind in kinds:
            return Refusal(rule_id, f"the conversation has {kind.replace('_', ' ')}")
    if conversations.ENDED_EVENT in kinds:  # an agent closing a web chat the person ended: nobody would read it
        return Refusal(None, "the person ended the chat: no answer could come back")
    for account in sensitive_requests.accounts_in_scope(session, conversation):
        if account.status in EXCLUDING_STATUSES:
            return Refusal(EXCLUDING_STATUSES[account.status], f"the account is {account.status}")
    if not outbox.consumer_started(session, conversation, now, window):
        return Refusal("TIME-2", "the debtor's session is over: a survey never starts a contact")
    zones = outbound_gate.conversation_zones(session, conversation)
    if not contact_window.allowed_now(now, zones, outbound_gate.inconvenient_times(preference)):
        return Refusal("TIME-1", "outside 08:00-20:59 local or in a time the debtor marked inconvenient")
    asked = session.execute(select(FeedbackRequest.session_started_at, FeedbackRequest.asked_at)
                            .where(FeedbackRequest.conversation_id == conversation.id)
                            .order_by(FeedbackRequest.asked_at.desc()).limit(1)).first()
    if asked is not None and _same_instant(asked.session_started_at, session_of(conversation)):
        return Refusal(None, "asked once already in this session")
    if asked is not None and now - _aware(asked.asked_at) < REST:
        return Refusal(None, f"asked less than {REST.days} days ago")
    return None


def session_of(conversation: Conversation) -> datetime:
    """The session the conversation is in now: when it started (the gateway starts one after an idle gap)."""
    return _aware(conversation.session_started_at or conversation.started_at)


def _aware(at: datetime) -> datetime:
    return at if at.tzinfo is not None else at.replace(tzinfo=timezone.utc)


def _same_instant(a: datetime, b: datetime) -> bool:
    return _aware(a) == _aware(b)


def topic(session: Session, conversation: Conversation) -> str | None:
    """What the conversation was about: the debtor's last request in this session (its NLU intent), or None."""
    query = select(Message.intent).where(Message.conversation_id == conversation.id, Message.direction == "in",
                                         Message.intent.is_not(None), Message.intent.not_in(NOT_A_REQUEST))
    if conversation.session_started_at is not None:
        query = query.where(Message.created_at >= conversation.session_started_at)
    return session.scalar(query.order_by(Message.id.desc()).limit(1))


def after_bot_turn(session: Session, conversation: Conversation, intent: str | None, *, choice_pending: bool,
                   now: datetime | None = None, window: timedelta = outbox.REPLY_WINDOW) -> Posted | None:
    """The bot's end of a conversation: a goodbye after a request of substance in this session, with nothing pending
    (`choice_pending`: a form still active or buttons offered this turn). Posts the question, or None."""
    if intent not in ENDING_INTENTS or choice_pending:
        return None
    about = topic(session, conversation)
    if about is None:  # small talk only: nothing was resolved to ask about
        return None
    return ask(session, conversation, ended_by="bot", intent=about, now=now, window=window)


def after_resolve(session: Session, handoff: Handoff, now: datetime | None = None,
                  window: timedelta = outbox.REPLY_WINDOW) -> Posted | None:
    """An agent resolved the handoff: the question goes to the debtor if they are still there (their live session),
    unless the last thing said to them was a choice they may still be answering."""
    conversation = session.get(Conversation, handoff.conversation_id)
    if conversation is None or handoff.outcome == "wrong_party":  # ID-4 (also marked on the address by resolve)
        return None
    last = _last_sent(session, conversation.id)
    if last is not None and (last.payload or {}).get("buttons"):
        return None
    return ask(session, conversation, ended_by="agent", intent=topic(session, conversation) or handoff.reason,
               agent_id=handoff.resolved_by or handoff.claimed_by, handoff_id=handoff.id, now=now, window=window)


def ask(session: Session, conversation: Conversation, *, ended_by: str, intent: str | None = None,
        agent_id: str | None = None, handoff_id: str | None = None, now: datetime | None = None,
        window: timedelta = outbox.REPLY_WINDOW) -> Posted | None:
    """Post the question through the outbox when the rules allow it, and record that it was asked; None (and an
    audit event saying why) when they do not."""
    now = now or datetime.now(timezone.utc)
    refused = refusal(session, conversation, now, window)
    if refused is not None:
        audit.record(session, "feedback_not_asked", rule_id=refused.rule_id, conversation_id=conversation.id,
                     detail={"reason": refused.reason, "ended_by": ended_by}, at=now)
        return None
    question = wording.say("feedback_question", languages.current(session, conversation))
    posted = outbox.post_reply(session, conversation, Draft(question, KIND), now=now, window=window)
    if posted.status == outbox.DEFERRED and posted.queued_id:
        # A survey is worth asking only now: what the gate would send later is cancelled, not kept.
        queued = session.get(ScheduledMessage, posted.queued_id)
        queued.status, queued.reason = "cancelled", "feedback is asked at the end of a conversation or not at all"
    if not posted.sent:
        return posted
    try:
        with session.begin_nested():  # at most one per session, even when two ends race
            session.add(FeedbackRequest(conversation_id=conversation.id, channel=conversation.channel,
                                        ended_by=ended_by, agent_id=agent_id, handoff_id=handoff_id, intent=intent,
                                        question_message_id=posted.message_id,
                                        session_started_at=session_of(conversation), asked_at=now))
    except IntegrityError:
        return None
    audit.record(session, "feedback_asked", conversation_id=conversation.id,
                 detail={"ended_by": ended_by, "intent": intent}, at=now)
    return posted


# --- answers ------------------------------------------------------------------------------------------------------

def _last_sent(session: Session, conversation_id: str, before: int | None = None) -> Message | None:
    query = select(Message).where(Message.conversation_id == conversation_id, Message.direction == "out",
                                  Message.status == "sent")
    if before is not None:
        query = query.where(Message.id < before)
    return session.scalar(query.order_by(Message.id.desc()).limit(1))


def _request(session: Session, conversation_id: str) -> FeedbackRequest | None:
    return session.scalar(select(FeedbackRequest).where(FeedbackRequest.conversation_id == conversation_id))


def parse_score(text: str) -> tuple[int, str] | None:
    """"4" -> (4, ""); "5/5 quick" -> (5, "quick"); "1 - too slow" -> (1, "too slow"); anything that does not open
    with a lone 1-5 ("45", "0", "four", "$5") -> None."""
    match = _SCORE.fullmatch(text)
    return (int(match.group(1)), match.group(2).strip()) if match else None


def take_score(session: Session, conversation: Conversation, inbound: Message,
               now: datetime | None = None) -> list[str] | None:
    """A score (1-5, maybe with words after it) typed right after the question, within SCORE_WAIT: stored, and the
    replies to send. None when the message is not that answer (it then goes on as any message does)."""
    now = now or datetime.now(timezone.utc)
    parsed = parse_score(inbound.text)
    request = _request(session, conversation.id) if parsed else None
    if request is None or request.score is not None or now - request.asked_at > SCORE_WAIT:
        return None
    last = _last_sent(session, conversation.id, before=inbound.id)
    if last is None or last.id != request.question_message_id:
        return None  # something was said since: the digit answers that, not this question
    (request.score, words), request.score_message_id, request.answered_at = parsed, inbound.id, now
    if words:
        request.comment, request.comment_message_id = words[:COMMENT_LIMIT], inbound.id
    audit.record(session, "feedback_answered", conversation_id=conversation.id, actor="debtor",
                 detail={"score": request.score, "comment": bool(words)}, at=now)
    return [wording.say("feedback_thanks_comment" if words else "feedback_thanks_score",
                        languages.current(session, conversation))]


def comment_due(session: Session, conversation: Conversation, inbound: Message,
                now: datetime | None = None) -> bool:
    """This message may be the comment: a score was given without one, within COMMENT_WAIT, and the invitation to
    comment is the bot's last message. Whether it is a comment or a request is for `is_comment` to say."""
    now = now or datetime.now(timezone.utc)
    request = _request(session, conversation.id)
    if request is None or request.score is None or request.comment is not None or not inbound.text.strip():
        return False
    if request.answered_at is None or now - request.answered_at > COMMENT_WAIT:
        return False
    last = _last_sent(session, conversation.id, before=inbound.id)
    return last is not None and last.text in wording.every_language("feedback_thanks_score")


def is_comment(intent: str | None, confidence: float | None) -> bool:
    """A message after the invitation is a comment unless the NLU reads it confidently as a request of its own."""
    return intent is None or intent in NOT_A_REQUEST or (confidence or 0.0) < REQUEST_CONFIDENCE


def take_comment(session: Session, conversation_id: str, inbound_id: int, text: str,
                 now: datetime | None = None) -> list[str]:
    """Store the comment (the message's stored text: already redacted, PCI-2) and thank them."""
    now = now or datetime.now(timezone.utc)
    request = _request(session, conversation_id)
    if request is None:
        return []
    request.comment, request.comment_message_id = text.strip()[:COMMENT_LIMIT], inbound_id
    audit.record(session, "feedback_commented", conversation_id=conversation_id, actor="debtor", at=now)
    conversation = session.get(Conversation, conversation_id)
    return [wording.say("feedback_thanks_comment",
                        languages.current(session, conversation) if conversation is not None else None)]


# --- what the answers say -----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class FeedbackFigures:
    """Asked, answered (a score given), the mean score of the answers and the share of questions answered."""

    asked: int
    answered: int
    mean_score: float | None
    response_rate: float | None
    comments: int = 0


@dataclass
class FeedbackReport:
    since: datetime | None
    until: datetime | None
    overall: FeedbackFigures
    by_channel: dict[str, FeedbackFigures] = field(default_factory=dict)
    by_agent: dict[str, FeedbackFigures] = field(default_factory=dict)
    by_intent: dict[str, FeedbackFigures] = field(default_factory=dict)


BOT = "bot"  # the by_agent key of conversations the bot ended
NO_TOPIC = "unknown"


def _figures(rows: Iterable[FeedbackRequest]) -> FeedbackFigures:
    rows = list(rows)
    scores = [r.score for r in rows if r.score is not None]
    return FeedbackFigures(asked=len(rows), answered=len(scores),
                           mean_score=round(sum(scores) / len(scores), 2) if scores else None,
                           response_rate=round(len(scores) / len(rows), 3) if rows else None,
                           comments=sum(1 for r in rows if r.comment))


def _asked(session: Session, since: datetime | None, until: datetime | None) -> list[FeedbackRequest]:
    query = select(FeedbackRequest)
    if since is not None:
        query = query.where(FeedbackRequest.asked_at >= since)
    if until is not None:
        query = query.where(FeedbackRequest.asked_at < until)
    return list(session.scalars(query.order_by(FeedbackRequest.asked_at)))


def overall_feedback_score(session: Session, since: datetime | None = None,
                           until: datetime | None = None) -> FeedbackFigures:
    """The feedback score for the operations dashboard: questions asked from `since` to `until` (either open),
    their mean score and response rate."""
    return _figures(_asked(session, since, until))


def feedback_report(session: Session, since: datetime | None = None, until: datetime | None = None) -> FeedbackReport:
    """The answers overall and per channel, per agent (by display name; "bot" when the bot ended the conversation)
    and per intent (what the conversation was about)."""
    rows = _asked(session, since, until)
    names = dict(session.execute(select(User.id, User.display_name)).all())

    def grouped(key: object) -> dict[str, FeedbackFigures]:
        groups: dict[str, list[FeedbackRequest]] = {}
        for row in rows:
            groups.setdefault(key(row), []).append(row)  # type: ignore[operator]
        return {name: _figures(group) for name, group in sorted(groups.items())}

    return FeedbackReport(
        since, until, _figures(rows),
        by_channel=grouped(lambda r: r.channel),
        by_agent=grouped(lambda r: BOT if r.ended_by == BOT else names.get(r.agent_id, r.agent_id or "unknown")),
        by_intent=grouped(lambda r: r.intent or NO_TOPIC))
