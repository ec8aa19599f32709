"""EMAIL-1 (12 CFR 1006.42, E-SIGN 15 U.S.C. 7001(c)): a notice the law requires (the validation notice, the
PLAN-3 pre-debit notice) goes electronically only to an address the debtor said yes to, or by the safe harbour of
1006.42(b)/1006.6(d)(4)(i)(A): an email address or phone number the debtor used to write to us (its contact
preference's last_inbound_at; an opt-out since ends it). The yes is given in the conversation (the question below)
or by ticking the box offered when autopay is set up on the web (WEB_CHECKBOX, bot/payments/autopay_authorisation.py);
either way the question and the answer are stored word for word with the time (EsignConsent).

Without either: the validation notice goes by post (the "mail" channel: the print queue, never "sent" by Settle
itself); a PLAN-3 notice goes by text when the debtor's phone qualifies the same way (a text is an electronic
disclosure too: EMAIL-1 applies to it), otherwise it cannot be given and the debit it gates does not run
(notice_state "blocked"). A chat bubble is never a required notice (DISC-5: not a form the debtor can keep).

How it is asked (VOICE.md: plain words, one idea, a next step): once the debtor is verified and a required notice
is waiting for an email address, the bot's reply to that turn ends with QUESTION and two buttons (the gateway's
pipeline adds it; `question_due`). A yes or a no typed or clicked right after it is the answer (`answer`, before
NLU, like TIME-2's YES). The outbound gate (bot/compliance/outbound_gate.py) then decides: with a yes the notice
goes by email; while the question waits for its answer (ANSWER_WAIT) the notice waits; with a no, or no answer,
the queue sends it by post instead."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from bot import audit, contact_preferences, wording
from bot import language as languages
from bot.db.models import Account, Conversation, Debtor, EsignConsent, Message, ScheduledMessage

CHANNEL = "email"
ELECTRONIC = ("email", "sms")  # what 1006.42 covers here; "mail" is the post, a chat bubble is no notice at all
POST = "mail"
# The disclosures Reg F requires in writing (1006.42(a)): what needs E-SIGN consent before it goes by email.
REQUIRED_DISCLOSURES = frozenset({"validation_notice", "dispute_verification", "debit_notice"})
# PLAN-3's notice falls back to a text (no print-and-mail provider could post it in its 3-10 business days).
BY_TEXT_INSTEAD = frozenset({"debit_notice"})
# The box on the payment-done page when the plan's first payment set up autopay (bot/gateway/pay_routes.py).
# Its words are in bot/wording/ (esign_web_*), in the debtor's language; these names hold the English.
WEB_CHECKBOX = wording.say("esign_web_checkbox")
WEB_SAVE = wording.say("esign_web_save")
WEB_TICKED = wording.say("esign_web_ticked", save=WEB_SAVE)
WEB_UNTICKED = wording.say("esign_web_unticked", save=WEB_SAVE)


def web_answer(ticked: bool, language: str | None) -> str:
    """What the debtor did with the box, in the words of the page they saw (stored with the consent)."""
    save = wording.say("esign_web_save", language)
    return wording.say("esign_web_ticked" if ticked else "esign_web_unticked", language, save=save)
ANSWER_WAIT = timedelta(hours=1)  # how long a notice waits for an answer before it goes by post
# The question, its buttons and replies are in bot/wording/ (esign_*), asked in the conversation's language; these
# names hold the English. QUESTION_MARKS find the question among the bot's messages, in either language.
QUESTION_MARK = "notices the law says we must send"
QUESTION_MARKS = (QUESTION_MARK, "avisos que la ley nos pide enviar")
QUESTION = wording.say("esign_question")
YES_TITLE, NO_TITLE = wording.say("esign_yes_button"), wording.say("esign_no_button")
DECLINED_REPLY = wording.say("esign_declined")

_YES = re.compile(r"\s*(yes|yeah|yep|y|ok|okay|sure|yes,? email them|s[ií]|claro|s[ií],? por (?:e-?mail|correo "
                  r"electr[oó]nico)|por (?:e-?mail|correo electr[oó]nico))[\s.!]*", re.IGNORECASE)
_NO = re.compile(r"\s*(no|nope|n|no thanks|no,? send them by post|by post|post|mail|no gracias|"
                 r"no,? por correo(?: postal)?|por correo postal|por correo|en papel)[\s.!]*", re.IGNORECASE)


def buttons(language: str | None) -> list[dict[str, str]]:
    return [{"title": wording.say("esign_yes_button", language), "payload": "yes"},
            {"title": wording.say("esign_no_button", language), "payload": "no"}]


def _is_question(text: str) -> bool:
    return any(mark in text for mark in QUESTION_MARKS)


def masked(address: str) -> str:
    """"jordan.rivera@example.com" -> "j***@example.com": recognisable, and little to a shoulder-surfer."""
    local, _, domain = address.partition("@")
    return f"{local[:1]}***@{domain}"


def normal(address: str) -> str:
    return address.strip().lower()


@dataclass(frozen=True)
class Route:
    """EMAIL-1's word on a queued required notice: "wait" (until), "reroute" (to: channel, address) or "block"."""

    action: str
    reason: str
    until: datetime | None = None
    to: tuple[str, str] | None = None


def decision(session: Session, debtor_id: str, address: str) -> EsignConsent | None:
    """The debtor's latest answer for this address, or None if never asked or never answered."""
    return session.scalar(select(EsignConsent).where(
        EsignConsent.debtor_id == debtor_id, EsignConsent.address == normal(address))
        .order_by(EsignConsent.id.desc()).limit(1))


def open_question_until(session: Session, debtor_id: str, now: datetime) -> datetime | None:
    """When the unanswered question put to this debtor stops waiting (ANSWER_WAIT after it was asked), or None."""
    asked = session.scalar(select(Message.created_at).join(Conversation, Conversation.id == Message.conversation_id)
                           .where(Conversation.debtor_id == debtor_id, Message.direction == "out",
                                  Message.status == "sent",
                                  or_(*(Message.text.contains(mark) for mark in QUESTION_MARKS)))
                           .order_by(Message.id.desc()).limit(1))
    if asked is None or now - asked >= ANSWER_WAIT:
        return None
    answered = session.scalar(select(EsignConsent.id).where(EsignConsent.debtor_id == debtor_id,
                                                            EsignConsent.at >= asked).limit(1))
    return None if answered is not None else asked + ANSWER_WAIT


def postal_address(debtor: Debtor) -> str:
    """Where a notice by post goes: the mailing address on file, else the name and ZIP (a print-and-mail provider
    cannot post to that; the letter still waits in the print queue, README "Email")."""
    lines = [line.strip() for line in (debtor.postal_address or "").splitlines() if line.strip()]
    return "; ".join([f"{debtor.first_name} {debtor.last_name}", *lines]) if lines else \
        f"{debtor.first_name} {debtor.last_name}, {debtor.zip}"


def safe_harbour(session: Session, channel: str, address: str) -> bool:
    """1006.6(d)(4)(i)(A): the debtor used this email address (or, for a text, this number) to write to us and has
    not opted out since."""
    address = normal(address) if channel == CHANNEL else address
    preference = contact_preferences.find(session, channel, address)
    return preference is not None and preference.last_inbound_at is not None and preference.opted_out_at is None


def may_deliver(session: Session, debtor_id: str, channel: str, address: str) -> bool:
    """EMAIL-1: a required notice may go to this electronic address: E-SIGN consent for it, or the safe harbour."""
    said = decision(session, debtor_id, address)
    return (said is not None and said.consented) or safe_harbour(session, channel, address)


def gate(session: Session, message: ScheduledMessage, now: datetime) -> Route | None:
    """EMAIL-1 for a queued message: None when it may go as it is; "wait" while the debtor may still answer the
    question (ANSWER_WAIT after the notice was queued or the question asked: the question comes at the end of the
    turn that queued the notice); "reroute" to the post (a validation notice) or to a text (a PLAN-3 notice, when
    the phone qualifies); "block" when a required notice cannot be given at all."""
    if message.kind not in REQUIRED_DISCLOSURES or message.account_id is None or message.channel == POST:
        return None
    account = session.get(Account, message.account_id)
    debtor = session.get(Debtor, account.debtor_id)
    if message.channel not in ELECTRONIC:
        return Route("block", f"a {message.channel} chat message is not a notice the debtor can keep (1006.42)")
    if may_deliver(session, debtor.id, message.channel, message.address):
        return None
    if message.channel == CHANNEL and decision(session, debtor.id, message.address) is None:
        waits = [t for t in (open_question_until(session, debtor.id, now),
                             message.created_at + ANSWER_WAIT if message.created_at else None) if t and t > now]
        if waits:
            return Route("wait", "waiting for the debtor's answer: may required notices come by email (E-SIGN)",
                         until=max(waits))
    if message.kind not in BY_TEXT_INSTEAD:
        return Route("reroute", f"no E-SIGN consent or safe harbour for this {message.channel} address: it goes by "
                     "post", to=(POST, postal_address(debtor)))
    phone = debtor.phone
    if message.channel == CHANNEL and phone and may_deliver(session, debtor.id, "sms", phone):
        return Route("reroute", "no E-SIGN consent or safe harbour for email: it goes by text to the number the "
                     "debtor texted us from", to=("sms", phone))
    return Route("block", f"no E-SIGN consent or safe harbour for {message.channel} or a text: the notice cannot "
                 "be given, so the debit it gates does not run")


def _waiting_notices(session: Session, debtor_id: str, address: str) -> list[ScheduledMessage]:
    return list(session.scalars(select(ScheduledMessage).join(Account, Account.id == ScheduledMessage.account_id)
                                .where(Account.debtor_id == debtor_id, ScheduledMessage.channel == CHANNEL,
                                       ScheduledMessage.address == normal(address),
                                       ScheduledMessage.kind.in_(REQUIRED_DISCLOSURES),
                                       ScheduledMessage.status == "pending")))


def _debtor_email(session: Session, conversation: Conversation) -> tuple[Debtor, str] | None:
    if conversation.debtor_id is None or conversation.verified_at is None:
        return None
    debtor = session.get(Debtor, conversation.debtor_id)
    return (debtor, normal(debtor.email)) if debtor and debtor.email and debtor.email.strip() else None


def question_due(session: Session, conversation: Conversation) -> dict[str, object] | None:
    """The question, as a reply with buttons, when a verified debtor has a required notice waiting for their email
    address, has not answered for that address, and was not asked in this conversation yet."""
    found = _debtor_email(session, conversation)
    if found is None:
        return None
    debtor, address = found
    if decision(session, debtor.id, address) is not None or not _waiting_notices(session, debtor.id, address):
        return None
    asked = session.scalar(select(Message.id).where(
        Message.conversation_id == conversation.id, Message.direction == "out",
        or_(*(Message.text.contains(mark) for mark in QUESTION_MARKS))).limit(1))
    if asked is not None:
        return None
    speaks = languages.current(session, conversation)
    return {"text": wording.say("esign_question", speaks, address=masked(address)), "buttons": buttons(speaks)}


def answer(session: Session, conversation: Conversation, inbound: Message, now: datetime,
           picked: str | None = None) -> list[str] | None:
    """A yes or no right after the question: stored with the question's and the answer's exact words (EMAIL-1).
    A yes lets the waiting notices go by email now; a no sends them to the print queue. None: not an answer.
    `picked`: the payload of the question's button a typed digit picked ("1" over SMS is "yes", pipeline._choice)."""
    said = (inbound.payload or {}).get("title") or inbound.text  # a button's words, as the debtor saw them
    typed = picked or inbound.text
    consented = True if _YES.fullmatch(typed) else False if _NO.fullmatch(typed) else None
    found = _debtor_email(session, conversation)
    if consented is None or found is None:
        return None
    question = session.scalar(select(Message).where(
        Message.conversation_id == conversation.id, Message.direction == "out", Message.id < inbound.id,
        Message.status == "sent").order_by(Message.id.desc()).limit(1))
    if question is None or not _is_question(question.text):
        return None
    if picked is not None:  # the digit as typed and the words of the button it picked: "1 (Yes, email them)"
        titles = {b.get("payload"): b.get("title") for b in (question.payload or {}).get("buttons") or []}
        said = f"{inbound.text.strip()} ({titles.get(picked, picked)})"
    debtor, address = found
    record(session, debtor.id, address, question.text, said, consented, now, via="chat",
           conversation_id=conversation.id, account_id=conversation.account_id, question_message_id=question.id,
           answer_message_id=inbound.id)
    for notice in _waiting_notices(session, debtor.id, address):
        notice.not_before = now  # goes now: by email after a yes, to the print queue after a no (the gate decides)
    speaks = languages.current(session, conversation)
    return [wording.say("esign_consented", speaks, address=masked(address)) if consented else
            wording.say("esign_declined", speaks)]


def record(session: Session, debtor_id: str, address: str, question: str, answer_words: str, consented: bool,
           now: datetime, *, via: str, conversation_id: str | None = None, account_id: str | None = None,
           question_message_id: int | None = None, answer_message_id: int | None = None) -> EsignConsent:
    """Store an answer to whether required notices may come by email to `address`, word for word with the time
    (EMAIL-1), whether given in the chat ("chat") or by the box on the payment-done page ("web"); audited."""
    consent = EsignConsent(debtor_id=debtor_id, address=normal(address), conversation_id=conversation_id,
                           question_message_id=question_message_id, question=question,
                           answer_message_id=answer_message_id, answer=answer_words, consented=consented, at=now,
                           via=via)
    session.add(consent)
    audit.record(session, "esign_consent_given" if consented else "esign_consent_declined", rule_id="EMAIL-1",
                 conversation_id=conversation_id, account_id=account_id, actor="debtor", at=now,
                 detail={"channel": CHANNEL, "via": via})
    session.flush()
    return consent
