"""Holds: what stops collection on an account, and what a message on a held account may not say.

One place decides whether an account may be asked for money: an open dispute (DSP-2), a cease notice
(CEASE-1), an attorney (CEASE-2), a bankruptcy (CEASE-3), a death (CEASE-4) or a hardship pause (VUL-2)."""

from __future__ import annotations

import re
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot import wording
from bot.compliance import amounts
from bot.db.models import Account, AccountStatus, Dispute

# The rule each non-collectible status stands for.
STATUS_RULES = {
    AccountStatus.DISPUTED: "DSP-2",
    AccountStatus.CEASED: "CEASE-1",
    "attorney": "CEASE-2",
    AccountStatus.BANKRUPT: "CEASE-3",
    AccountStatus.DECEASED: "CEASE-4",
}

# The pause a reported death puts on an account (bot/compliance/sensitive_requests.py) until a person confirms it.
DECEASED_REPORTED = "deceased_reported"

# DSP-2 / DSP-3: payment asks, links, plan offers and urgency, whoever writes them (bot template or agent).
_PAYMENT_ASK = re.compile(
    r"\b(pay\s*now|pay\s+(?:it|this|that|the\s+(?:balance|rest|full)|today|online|us)|make\s+a\s+payment|"
    r"payment\s+plans?|installments?|instal{1,2}ments?|settle\s+(?:it|this|today|for)|settlement\s+offer|"
    r"payment\s+link|checkout|due\s+(?:today|now|immediately)|as\s+soon\s+as\s+possible|right\s+away|"
    r"don'?t\s+wait|act\s+(?:now|fast)|before\s+it'?s\s+too\s+late|within\s+\d+\s*(?:hours?|days?))\b"
    # The same asks in Spanish (issue 23), so a Spanish text on a held account is held too.
    r"|\b(pagar\s+ahora|pague\s+(?:ahora|hoy|ya)|plan(?:es)?\s+de\s+pagos?|ha(?:cer|ga)\s+un\s+pago|"
    r"enlace\s+(?:seguro\s+)?(?:de|para)\s+pag(?:o|ar)|pagos?\s+del\s+plan|mensualidad(?:es)?|abonos?|liquidar|"
    r"vence\s+(?:hoy|ya)|lo\s+antes\s+posible|cuanto\s+antes|de\s+inmediato|no\s+espere|"
    r"antes\s+de\s+que\s+sea\s+tarde)\b"
    r"|/pay/",
    re.IGNORECASE,
)


def is_payment_ask(text: str) -> bool:
    return bool(_PAYMENT_ASK.search(text))


# DSP-2 / DSP-3 / CEASE-* / VUL-2: a person's free text on a held account may not ask for or encourage a payment in
# any words: to pay (not only the fixed asks above), to send money, to clear, close out or settle the debt, and it
# names no payment figure. Saying there is nothing to pay is not an ask, and is taken out before the search.
_PAY_TALK = re.compile(
    r"\b(?:pay|pays|paying|payable|pay-?off|(?:send|sending|sends|wire|wiring|transfer|transferring)\s+"
    r"(?:us\s+|it\s+|in\s+)?(?:the\s+|your\s+|some\s+|a\s+)?(?:money|funds|payment|amount|balance|cash|check|it)|"
    r"(?:clear|clears|clearing|close|closing|wipe|wiping|resolve|resolving|settle|settling|knock)\s+"
    r"(?:this|it|that|the\s+(?:balance|debt|account|amount))(?:\s+(?:out|off|up))?|settle\s+up|"
    r"take\s+care\s+of\s+(?:this|it|the\s+(?:balance|debt|amount))|"
    # A deadline for the money, whatever the verb: "get it to us by Friday", "have the rest in before Monday".
    r"(?:get|have|send|bring)\s+(?:it|this|that|the\s+\w+)\s+(?:to\s+us\s+|in\s+)?(?:by|before)\s+"
    r"(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday|tomorrow|tonight|the\s+end)|"
    # Spanish: pagar in any form a request takes, abonar, liquidar, saldar, enviar el dinero.
    r"pag(?:ar|arlo|arla|ue|uelo|uen|a|as|ando|ara|aria|aría|aremos|e)|abon(?:ar|e|arlo)|liquid(?:ar|e|arlo)|"
    r"sald(?:ar|e|arlo)|(?:env[ií](?:e|ar|enos)|mand(?:e|ar|enos)|transfier[ae])\s+(?:el\s+|su\s+)?"
    r"(?:dinero|pago|monto|saldo|cheque))\b",
    re.IGNORECASE,
)
_NOTHING_TO_PAY = re.compile(
    r"\b(?:nothing\s+(?:to|you\s+(?:need|have)\s+to)\s+pay|no\s+need\s+to\s+pay|"
    r"(?:don'?t|do\s+not|doesn'?t|does\s+not|won'?t|will\s+not)\s+(?:have|need)\s+to\s+pay|"
    r"(?:not|never)\s+(?:asking|ask|going\s+to\s+ask)\s+you\s+to\s+pay|(?:can'?t|cannot)\s+take\s+payments?|"
    r"(?:nada|no\s+hay\s+nada)\s+(?:que|por)\s+pagar|no\s+(?:tiene|necesita)\s+que\s+pagar|"
    r"no\s+(?:le\s+)?(?:pedimos|pediremos|vamos\s+a\s+pedir)\s+que\s+pague)\b",
    re.IGNORECASE,
)


def payment_talk(text: str) -> list[str]:
    """DSP-2, DSP-3, CEASE-*: what in a person's text asks for, encourages or prices a payment (empty when it does
    not): the fixed asks above, any other request to pay ("You can pay it today", "Pay by Friday"), a request to
    send money or clear the debt ("would close this out"), and any money figure. On a held account none may be
    sent; "there's nothing to pay right now" may."""
    text = _NOTHING_TO_PAY.sub(" ", text)
    found = [m.group(0) for m in _PAYMENT_ASK.finditer(text)] + [m.group(0) for m in _PAY_TALK.finditer(text)]
    found += [f"${cents / 100:,.2f}" for cents in amounts.amounts_in(text)]
    return found


def hold_rule(session: Session, account: Account) -> str | None:
    """The rule that holds this account, or None when it may be collected on."""
    open_dispute = session.scalar(
        select(Dispute.id).where(Dispute.account_id == account.id, Dispute.status == "open").limit(1)
    )
    return _rule(account, open_dispute is not None)


def hold_rules(session: Session, accounts: Sequence[Account]) -> dict[str, str | None]:
    """hold_rule for many accounts at once (one query for their open disputes): segments and orderings ask."""
    ids = [a.id for a in accounts]
    disputed: set[str] = set()
    for start in range(0, len(ids), _CHUNK):
        disputed |= set(session.scalars(select(Dispute.account_id).where(
            Dispute.account_id.in_(ids[start:start + _CHUNK]), Dispute.status == "open")))
    return {a.id: _rule(a, a.id in disputed) for a in accounts}


_CHUNK = 5000  # ids per IN list: well under SQLite's and PostgreSQL's parameter limits


def _rule(account: Account, open_dispute: bool) -> str | None:
    if open_dispute:
        return "DSP-2"
    if account.status in STATUS_RULES:
        return STATUS_RULES[account.status]
    if account.collection_paused_reason == DECEASED_REPORTED:
        return "CEASE-4"  # a death reported by whoever wrote in: a person takes it from here, nobody is asked
    if account.collection_paused_reason:
        return "VUL-2"
    if account.status != AccountStatus.ACTIVE:
        return "ACCOUNT-CLOSED"
    return None


# What a debtor hears when they ask to pay or plan on a held account: the reason, never a payment ask.
HOLD_MESSAGES = {rule: wording.say(f"hold_{rule}") for rule in (
    "DSP-2", "CEASE-1", "CEASE-2", "CEASE-3", "CEASE-4", "VUL-2", "ACCOUNT-CLOSED")}  # the English ones


def hold_message(rule: str | None, language: str | None = None) -> str:
    """Why nothing can be paid on a held account, in the debtor's language: never a payment ask (DSP-2, CEASE-*)."""
    return wording.say(f"hold_{rule if rule in HOLD_MESSAGES else 'ACCOUNT-CLOSED'}", language)
