"""ID-2, REC-2: an answer to an identity question is kept as what it is ("[date of birth]"), never its value.

The check needs the values for one moment: the action server compares them with the ledger during the turn
(bot/identity.py). Nothing else does, so no copy of them is kept: not the stored message (and so not the
hash-chained transcript, the consoles, the exports), not Rasa's tracker store, not a log.

- **Knowing a message is an answer, before it is stored.** After each Rasa turn the gateway keeps what the verify
  form asks next (`after_turn`: `conversations.awaiting_identity`, from Rasa's `requested_slot`). A message that
  arrives while a question waits and holds anything that looks like a factor (a date, four or five digits, an
  account reference: review_redaction.labelled, the one list of what looks like a factor) is an answer, and
  `stored_form` gives what is stored instead: its labels only ("[date of birth]"), since the words around a value
  may be part of it. Masking before storing, not after the turn, because the transcript (REC-1) seals every stored
  text in an append-only chain: a value stored for a moment would be kept there for years.
  A message with nothing factor-like while a question waits (STOP, "talk to a person", "is this a scam?") is a
  message like any other and stored as typed: it may be the evidence a rule needs (OPT-2, ID-4, CEASE-*). A
  bare four-digit figure typed then ("1200", "it's 1200") is taken for an answer: compliance first. A figure its
  words mark as money ("I paid 1200", "$1200", "1200 dollars": identity.without_amounts) is no answer, since no
  check takes it as a factor either; a message holding only such figures, no other factor-like value and no
  factor's name ("ssn", "zip", "last four") is stored as typed. Nor is a message
  ending in six or more digits with no date or ZIP shape ("my card is 4111 1111"): PCI-2 joins those with the
  next message's digits, from the stored text, to find a card split over two messages.
- **Rasa's copies.** Rasa gets the typed text (its form fills the slots from it, the action checks them). After
  the turn the gateway has Rasa rewrite the user event as stored here (`SLOT_LABELS` names the form's slots):
  rasa_extensions/event_redaction.py `mask_identity_answer` replaces the text and parse data and every earlier
  value of the form's slots, keeping only each slot's current value while the form still needs it; once the
  check has run the form clears them, and the next rewrite masks those too. A form that ends without its check
  ("talk to a person" mid-form) will never read them: that turn's rewrite masks the current values too
  (`check_pending`), and so does the sweep of questions left waiting past the idle time (below).
- **Who sees the labels.** Every reader of the stored text: the agent and compliance consoles (the unredacted view
  says why, bot/gateway/templates/console/compliance_conversation.html), the exports, and the debtor's own chat
  history after a reload (the widget replays the stored messages).
- **Logs** never carry a message's text (bot/gateway/pipeline.py logs what happened, not what was said), and the
  redacting log filter masks dates of birth in any line (bot/logging_setup.py).

- **Factors given before the form asks.** The identity form takes factors a debtor volunteered ("dob 03/14/1985,
  what do I owe?": bot/identity.py `volunteered_factors`, labelled ones only) as answers, so such a message is an
  answer too: its factors are masked in place ("dob [date of birth], what do I owe?") so that the request around
  them stays on the record, and Rasa's copy is rewritten the same way after the turn. An unlabelled date or figure
  in an ordinary message ("I paid 1500 on 03/14/2026") is no answer and is stored as typed; agents never read it
  (review_redaction.for_agent masks what looks like a factor).

- **While not verified, no question known to wait.** The gateway knows a question waits only once the turn that
  asks it has ended, and then only if Rasa answered. Texts sent in quick succession arrive while that turn runs
  (and are folded into the next), texts sent while Rasa starts are saved before any question, a bare date typed
  after the form ended starts the form again (the NLU reads it as identity details), and after a wrong-person mark
  (ID-4) no check runs at all yet the details are someone's. So in a conversation not verified, a message of
  nothing but identity details ("11/11/1987", "2233") is stored as its labels, and an adult's lone date in a
  sentence is masked in place (`_unasked`); and while the debtor's previous message has no answer yet (its turn
  runs, or it was saved), the question that turn asks is unknown, so the message is stored as if one waited
  (`earlier_unanswered`: "it's 2233" folded after "what do I owe"). Decided at intake, whatever the timing, so no
  value is ever sealed in the transcript. The safe side: a saved one is answered "please send that answer again"
  (its value was never kept), and a wrongly masked one costs nothing, since the check asks for what it needs. Once
  verified the form no longer runs, and a bare figure (a plan's amount) is stored as typed."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from bot import audit, identity
from bot.compliance import redaction
from bot.db.models import Conversation, Message
from bot.records.review_redaction import for_agent, labelled

RULE_ID = "ID-2"
VERIFY_FORM = "verify_form"  # domain/verification.yml
# The verify form's slots, and what each is shown as once masked in Rasa's tracker store.
SLOT_LABELS = {
    "id_dob": "[date of birth]",
    "id_secret": "[SSN last four or ZIP code]",
    "id_locator": "[account number or name]",
}
# review_redaction's labels of the answers that hold six digits or more: a date, a ZIP+4 (read as "[SSN]" there)
ANSWER_SHAPES = frozenset({"[date of birth]", "[ZIP code]", "[SSN]"})
MIN_CARD_START_DIGITS = 6  # more digits than a last four or a ZIP: PCI-2 may need them to join a split card


def awaited(active_loop: str | None, requested_slot: str | None) -> str | None:
    """The identity question waiting for an answer after a turn that ended so, else None."""
    return requested_slot if active_loop == VERIFY_FORM and requested_slot in SLOT_LABELS else None


def check_pending(active_loop: str | None, requested_slot: str | None) -> bool:
    """Whether the identity check may still need the answers Rasa holds after a turn that ended so: only while the
    verify form still asks a question. A form ended without a check ("stop", "talk to a person" mid-form) will never
    use them, so Rasa masks them all then, the current values too (rasa_extensions/event_redaction.py
    `keep_current`)."""
    return awaited(active_loop, requested_slot) is not None


def after_turn(conversation: Conversation, active_loop: str | None, requested_slot: str | None) -> None:
    """Keep what the verify form asks next (None once it asks nothing) for the next message's intake."""
    conversation.awaiting_identity = awaited(active_loop, requested_slot)


def stored_form(text: str, asked: str | None, *, unverified: bool = False,
                earlier_unanswered: bool = False) -> str | None:
    """What to store for `text`, sent while the identity question `asked` waits: the labels of the factors it holds
    ("[date of birth] [ZIP code]"), or None when it holds none or nothing was asked (stored as typed).
    `unverified`: the conversation has no verification, so identity details may be an answer the gateway cannot
    see waiting (`_unasked`). `earlier_unanswered`: the debtor's message before this one has no answer yet (its
    turn runs, or it was saved while Rasa was down), so the question that turn asks is unknown: while unverified,
    this message is taken as if a question waited."""
    if asked not in SLOT_LABELS:
        volunteered = _volunteered(text)
        if volunteered is not None or not unverified:
            return volunteered
        if not earlier_unanswered:
            return _unasked(text)
    _, labels = labelled(text)
    if not labels and _FACTOR_WORDS.search(text):
        _, labels = labelled(text.replace("$", " "))  # "my last four is $1200" names what it gives: an answer
    if not labels or _may_begin_a_card(text, labels) or _only_amounts(text):
        return None
    return " ".join(labels)


# The names of the factors: a message that names one ("my last four is $1200") is an answer, whatever its figures.
_FACTOR_WORDS = re.compile(r"\b(?:ssn|social|last\s*(?:4|four)|zip|postal|birth|dob|born|seguro|c[oó]digo|"
                           r"[uú]ltimos|nac\w*|cumple\w*)\b", re.IGNORECASE)


def _only_amounts(text: str) -> bool:
    """ID-2: whether every figure in `text` is one its words mark as money ("I paid 1200 yesterday"), and it names no
    factor: an amount, which no check takes as an answer (identity.without_amounts). Any other digit left keeps the
    whole message an answer."""
    rest = identity.without_amounts(text)
    return rest != text and not re.search(r"\d", rest) and not _FACTOR_WORDS.search(rest)


def _may_begin_a_card(text: str, labels: tuple[str, ...]) -> bool:
    """PCI-2 finds a card number split over two messages by joining the stored text's trailing digits with the next
    message's (bot/gateway/pipeline.py, from the stored text so that any worker can). Trailing digits longer than a
    last four or a ZIP (six or more) that are no date and no ZIP+4 are no identity answer's shape ("my card is 4111
    1111"): such a message is stored as typed, so the card's warning and redaction still work."""
    return len(redaction.carry_of(text)) >= MIN_CARD_START_DIGITS and not ANSWER_SHAPES & set(labels)


def _volunteered(text: str) -> str | None:
    """`text` with the factors it volunteers masked in place, when it volunteers any the identity form would take
    (bot/identity.py volunteered_factors: a labelled date of birth, SSN last four or ZIP, an account reference);
    None otherwise. A name is not masked: it is no secret, and the record needs to say who wrote."""
    found = identity.volunteered_factors(text)
    if not (found.dob or found.ssn_last4 or found.zip or found.account_ref):
        return None
    _, labels = labelled(text)
    if _may_begin_a_card(text, labels):
        return None
    masked = for_agent(text)
    return masked if masked != text else None


def _unasked(text: str) -> str | None:
    """ID-2: identity details typed in a conversation not verified while no question is known to wait. The gateway
    cannot tell then: a question may be on its way (texts sent in quick succession, folded while the turn that asks
    runs), lost (saved while Rasa starts), or the form may start with them (the NLU reads a bare date as identity
    details, actions/verification.py). So a message of nothing but identity details is stored as their labels, and
    an adult's date alone among the digits (what the form would take as a birth date, identity.volunteered_factors)
    is masked in place. Wrongly masking costs little: the check asks for what it needs, and a saved one is asked
    for again (saved_identity_answer_again)."""
    masked, labels = labelled(text)
    if not labels or _may_begin_a_card(text, labels):  # an amount has words or "$" beside it: never bare
        return None
    if not re.search(r"[^\W_]", _LABEL.sub(" ", masked)):
        return " ".join(labels)
    if identity.volunteered_factors(text, identity_details=True).dob is not None:
        return masked
    return None


_LABEL = re.compile(r"\[[a-zA-Z ]+\]")


# --- answers left waiting ------------------------------------------------------------------------------------------
# A debtor who answers the date of birth and never the next question leaves the date in Rasa's tracker store as the
# form's current slot value, for a check that will never run: the next message after the idle time starts a new
# session, unverified (ID-1), and asks again. So once a question has waited that long the gateway has Rasa mask
# those values too (Pipeline.forget_abandoned_answers, every few minutes in each gateway process).


@dataclass(frozen=True)
class Abandoned:
    """A conversation whose identity question waited past the idle time, and its last message from the debtor (the
    rewrite is addressed by a message id, and keeps that message's text as stored)."""

    conversation_id: str
    message_id: int
    stored_text: str
    last_activity_at: datetime


def abandoned(session: Session, now: datetime, idle: timedelta, limit: int = 100) -> list[Abandoned]:
    """Conversations whose identity question has waited longer than `idle`, oldest first."""
    rows = session.execute(
        select(Conversation.id, Conversation.last_activity_at)
        .where(Conversation.awaiting_identity.is_not(None), Conversation.last_activity_at < now - idle)
        .order_by(Conversation.last_activity_at).limit(limit)).all()
    found = []
    for conversation_id, last_activity_at in rows:
        last = session.execute(
            select(Message.id, Message.text).where(Message.conversation_id == conversation_id,
                                                   Message.direction == "in")
            .order_by(Message.id.desc()).limit(1)).first()
        if last is not None:
            found.append(Abandoned(conversation_id, last.id, last.text, last_activity_at))
    return found


def forgotten(session: Session, left: Abandoned) -> bool:
    """Rasa has masked `left`'s answers: the question no longer waits, and the record says why. False (nothing done)
    when the debtor wrote again meanwhile: that message's own turn decides."""
    done = session.execute(
        update(Conversation).where(Conversation.id == left.conversation_id,
                                   Conversation.awaiting_identity.is_not(None),
                                   Conversation.last_activity_at == left.last_activity_at)
        .values(awaiting_identity=None)).rowcount == 1
    if done:
        audit.record(session, "identity_answers_forgotten", rule_id=RULE_ID, conversation_id=left.conversation_id,
                     detail={"message_id": left.message_id})
    return done
