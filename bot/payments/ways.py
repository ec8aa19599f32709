"""The ways to pay, asked about in words: "can I pay by check or zelle?", "do you take money orders", "can I mail a
check", "¿puedo pagar con cheque?". The model read such questions as "do I have to pay now?" and answered with the
dispute rights (DSP-3's text, to someone who asked no such thing).

Answered by the inbound gate, before the dialogue, so whatever flow the debtor was in (a plan's options, a
consent question) is where the next message lands. What Settle takes is what bot/ knows: a card, on Stripe's hosted
page behind our pay link (PCI-1; bot/payments/service.py asks Checkout for "card" only). Anything else (a check, a
money order, Zelle, a bank transfer) a person on the team can arrange; the portfolio holds no creditor address to
mail a check to, so none is given. A payment claimed done ("I already mailed a check") is no question: it is a
DSP-1 claim for the dialogue. Before verification the answer names nothing (ID-1, DISC-3): it says the question will
be answered once they are identified, and it is, at verification (answer_kept_question)."""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot import audit, language, wording
from bot.compliance import cues, holds
from bot.db.models import Account, AuditEvent, Conversation

_METHODS = (r"checks?|cheques?|personal checks?|cashiers? checks?|money ?orders?|zelle|venmo|cash ?app|paypal|"
            r"western union|moneygram|wire(?: transfer)?|bank transfer|ach|bank account|e-?check|cash|debit cards?|"
            r"credit cards?|cards?|apple pay|google pay|giros?(?: postal(?:es)?)?|ordenes de pago|orden de pago|"
            r"transferencias?(?: bancarias?)?|efectivo|tarjetas?(?: de (?:credito|debito))?|cuenta (?:de banco|"
            r"bancaria)")
# Asked, not told: "can I pay by", "do you take", "can I mail", "¿puedo pagar con", "aceptan"; or "pay by check".
_ASKS = re.compile(
    r"\b(?:can|could|may) (?:i|we) (?:\w+ ){0,3}?(?:pay|send|mail|use|do|give)\b"
    r"|\b(?:do|will|would) (?:you|yall|y'?all) (?:guys )?(?:take|accept|allow)\b"
    r"|\b(?:is|are) (?:a |an )?(?:\w+ ){0,2}?(?:ok|okay|accepted|allowed|possible)\b"
    r"|\bpay(?:ing)? (?:you )?(?:by|with|via|through|using|in)\b|\bmail (?:you |in )?(?:a |my )?(?:check|cheque|money)"
    r"|\b(?:puedo|podemos|se puede) (?:\w+ ){0,2}?(?:pagar|mandar|enviar|usar|dar)\b|\b(?:aceptan|acepta|reciben|"
    r"recibe|toman|toma)\b|\bpag(?:ar|o) (?:con|por|en|mediante)\b")
_NAMES_A_METHOD = re.compile(rf"\b(?:{_METHODS})\b")
_CARD = re.compile(r"(?:debit |credit )?cards?|tarjetas?(?: de (?:credito|debito))?")
_WAYS = re.compile(r"\b(?:ways? to pay|payment (?:methods?|options|types)|methods? of payment|forms? of payment|"
                   r"how (?:can|do) i (?:make a )?pay(?:ment)? (?:you|it)?\s*(?:other than|besides|except)|"
                   r"formas? de pago|metodos? de pago|maneras? de pagar|formas? de pagar)\b")
# A payment said to be made already is DSP-1's claim, not a question ("I already mailed a check"); a denial asks
# nothing either ("I can't pay by card").
_DONE = re.compile(r"\b(?:paid|sent|mailed|wired|already|did pay|ya (?:pague|mande|envie|pago)|pague|mande|envie)\b")
_DENIED = re.compile(r"\b(?:cant|cannot|can not|dont|do not|wont|will not|no puedo|no tengo)\b")

# Answered before the dialogue only when the question is all the message says: a cease, an attorney, a bankruptcy,
# a death, a dispute or a hardship beside it ("stop calling me, can I just mail a check?") is the dialogue's and its
# rule's (CEASE-*, DSP-1, VUL-2), never swallowed by this answer.
MAX_WORDS = 14
_OTHER_REQUEST = re.compile(
    r"\b(?:stop|cease|quit|leave me alone|lawyer|attorney|bankrupt\w*|chapter (?:7|13)|died|dead|passed away|deceased|"
    r"dispute\w*|not mine|isnt mine|wrong|scam|fraud|sue|court|contact\w*|call\w*|text\w*|lost my job|hardship|sick|"
    r"hospital|person|agent|human|abogad\w*|quiebra|bancarrota|fallec\w*|muri\w*|disputa\w*|no es mi[ao]|dejen|paren|"
    r"llam\w*|persona|agente|enferm\w*|perdi mi trabajo)\b")




def asks_ways_to_pay(text: str) -> bool:
    """The words ask how one may pay, naming a way ("can I pay by check or zelle?", "do you take money orders",
    "¿puedo pagar con cheque?") or asking for the ways ("what payment methods do you take?"). False for a payment
    said to be made ("I already mailed a check": DSP-1's), a denial, and anything else. Never raises on text."""
    plain = cues.folded(text)
    if not plain or _DONE.search(plain) or _DENIED.search(plain):
        return False
    if len(plain.split()) > MAX_WORDS or _OTHER_REQUEST.search(plain):
        return False  # the question beside a request of its own: the dialogue (and its rules) must see that request
    if _WAYS.search(plain):
        return True
    named = {m.group(0) for m in _NAMES_A_METHOD.finditer(plain)}
    # "can I pay by card?" asks to pay the one way we take: pay now's, which the model reads well.
    return bool(_ASKS.search(plain)) and any(not _CARD.fullmatch(name) for name in named)


ASKED, ANSWERED = "ways_to_pay_asked", "ways_to_pay_answered"


def answer_kept_question(session: Session, conversation: Conversation) -> list[str]:
    """The ways to pay, asked in this conversation before the debtor was identified and not answered since: answered
    now that they are (called at verification), once. [] when no such question waits."""
    asked = session.scalar(select(AuditEvent.id).where(AuditEvent.conversation_id == conversation.id,
                                                       AuditEvent.kind == ASKED)
                           .order_by(AuditEvent.id.desc()).limit(1))
    if asked is None or conversation.verified_at is None:
        return []
    answered = session.scalars(select(AuditEvent.detail).where(AuditEvent.conversation_id == conversation.id,
                                                               AuditEvent.kind == ANSWERED)).all()
    if any((detail or {}).get("asked_event") == asked for detail in answered):
        return []
    audit.record(session, ANSWERED, conversation_id=conversation.id, detail={"asked_event": asked})
    return answer(session, conversation)


def answer(session: Session, conversation: Conversation) -> list[str]:
    """The ways to pay, in the conversation's language: verified, what Settle takes (a card, through the pay link)
    and that a person arranges any other way; on a held account, the hold's reason instead (DSP-2, CEASE-*, VUL-2:
    no payment ask); before verification, nothing about a debt (ID-1, DISC-3) and the identity question."""
    speaks = language.current(session, conversation)
    if conversation.verified_at is None or conversation.account_id is None:
        # Kept: that reply promises the answer once they are identified (answer_kept_question keeps the promise).
        audit.record(session, ASKED, conversation_id=conversation.id)
        return [wording.say("ways_to_pay_verify_first", speaks)]
    account = session.get(Account, conversation.account_id)
    rule = holds.hold_rule(session, account) if account is not None else None
    if rule is not None:
        return [holds.hold_message(rule, speaks)]
    return [wording.say("ways_to_pay", speaks)]
