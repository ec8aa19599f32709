"""Debt disputes (DSP-1 to DSP-3).

A dispute typed into the chat is a written dispute (comment 38-1.iii). It is recorded with the time and the
disputed portion, confirmed in writing, and holds the account: no payment ask, link, plan offer or urgency on it,
from anyone, until a person records that verification was sent (DSP-2; the outbound gate enforces the hold)."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, timezone

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot import audit, handoff, language, wording
from bot.accounts import mask_reference, opening_disclosure, verified_accounts
from bot.agents import escalation
from bot.agents.hours import AgentHours
from bot.db.models import Account, AccountStatus, Conversation, Debtor, Dispute
from bot.local_dates import debtor_date, last_day_covered
from bot.money import format_cents, parse_dollars
from bot.payments.status import asks_for_receipt, asks_whether_received, payment_status_messages
from bot.wording import formats

ALL, AMOUNT, NOT_MINE, ALREADY_PAID = "all", "amount", "not_mine", "already_paid"
DISPUTE_KINDS = (ALL, AMOUNT, NOT_MINE, ALREADY_PAID)


_KIND_WORDS = (
    (ALREADY_PAID, r"\b(4|four|already paid|paid|paid it|paid off|settled)\b"),
    (NOT_MINE, r"\b(3|three|not mine|not my|isn'?t my|never had|don'?t know (?:this|it)|identity|fraud|"
               r"someone else)\b"),
    (AMOUNT, r"\b(2|two|amount|too (?:much|high)|wrong (?:amount|number|figure)|fees?|interest|charged twice)\b"),
    (ALL, r"\b(1|one|all|everything|whole|entire|all of it)\b"),
    # "Send me proof that I owe this": a request for verification of the whole debt (1006.38(d)).
    (ALL, r"\b(proof|prove|verify|verification|validate|validation of the debt)\b"),
    # Spanish (issue 23), accents dropped before matching.
    (ALREADY_PAID, r"\b(ya (?:la |lo )?pague|pagada|pagado|liquide)\b"),
    (NOT_MINE, r"\b(no es mi[ao]|no la conozco|no lo conozco|nunca (?:la |lo )?(?:tuve|saque|abri)|fraude)\b"),
    (AMOUNT, r"\b(cantidad|monto|de mas|cobraron doble|cargos?|intereses)\b"),
    (ALL, r"\b(toda|todo|todas)\b"),
)

# DSP-1: the amount the debtor says is right ("it should be $400 not $640", "I only owe $400", "debería ser 400"):
# an amount dispute, and its figure is the right amount (accents dropped before matching).
_CORRECT_AMOUNT = re.compile(
    r"\b(?:should\s+(?:only\s+|just\s+)?(?:be|have\s+been)|should'?ve\s+been|(?:i\s+)?only\s+owe|i\s+owe\s+(?:only|just)"
    r"|(?:right|correct|real)\s+(?:amount|balance|figure)\s+is"
    r"|deberia\s+ser|solo\s+debo|debo\s+solo)\s*(?:about\s+|around\s+)?\$?\s*"
    r"(?P<figure>[0-9]{1,3}(?:,[0-9]{3})+(?:\.[0-9]{2})?|[0-9]+(?:\.[0-9]{2})?)(?![0-9]|[.,][0-9])"
    r"|\$?[0-9][0-9,.]*\s+(?:not|instead\s+of|no)\s+\$?[0-9]")
# A dispute stated in the words that open it ("the amount is wrong", "this isn't mine"): its reason, so the menu is
# not shown. Only words that name a reason: a digit, "one" or "all" picks from the menu, never opens one.
_STATED_WORDS = (
    (NOT_MINE, r"\b(not mine|(?:not|isn'?t) my (?:debt|account|loan|card|bill)|isn'?t mine|never had|"
               r"don'?t know (?:this|it)|"
               r"identity theft|fraud|someone else'?s|no es mi[ao]|no la conozco|no lo conozco|"
               r"nunca (?:la |lo )?(?:tuve|saque|abri)|fraude)\b"),
    (AMOUNT, r"\b(amount|too (?:much|high)|wrong (?:amount|number|figure|balance)|balance is wrong|fees?|interest|"
             r"charged twice|overcharged|cantidad|monto|de mas|cobraron doble|cargos?|intereses)\b"),
)

KIND_CHOICES = tuple((kind, wording.say(f"dispute_kind_{kind}")) for kind in DISPUTE_KINDS)


def kind_choices(speaks: str | None) -> tuple[tuple[str, str], ...]:
    """The four choices in the debtor's language, in the order the digits pick them."""
    return tuple((kind, wording.say(f"dispute_kind_{kind}", speaks)) for kind in DISPUTE_KINDS)


def parse_kind(text: str) -> str | None:
    """What the debtor disputes, from a typed answer, a digit (SMS numbered choice) or a button title."""
    lowered = "".join(c for c in unicodedata.normalize("NFKD", text.lower().strip())
                      if not unicodedata.combining(c))
    for speaks in wording.LANGUAGES:
        for kind, title in kind_choices(speaks):
            if text.lower().strip() == title.lower() or lowered == title.lower():
                return kind
    if _CORRECT_AMOUNT.search(lowered):  # before the digits: the "4" of "it should be $4" picks no choice
        return AMOUNT
    for kind, pattern in _KIND_WORDS:
        if re.search(pattern, lowered):
            return kind
    return None


def stated_kind(text: str) -> str | None:
    """DSP-1: the reason a message that opens a dispute states in words ("the amount is wrong", "it should be $400
    not $640", "this isn't mine", "I already paid it"), so it is taken and the menu not shown; None when the words
    name none ("I dispute this"): the menu asks."""
    plain = _plain(text)
    if claims_paid(text):
        return ALREADY_PAID
    for kind, pattern in _STATED_WORDS:
        if re.search(pattern, plain):
            return kind
    return AMOUNT if _CORRECT_AMOUNT.search(plain) else None


def stated_correct_cents(text: str) -> int | None:
    """DSP-1: the amount the debtor says is right ("it should be $400 not $640" -> 40000 cents), or None when the
    words give none. Integer cents, read exactly (bot/money.py); a figure that is no exact amount gives None."""
    match = _CORRECT_AMOUNT.search(_plain(text))
    if match is None or not match.group("figure"):
        return None
    try:
        return parse_dollars(match.group("figure"))
    except ValueError:
        return None


# What a message said instead of a dispute, decided by its words whatever the model guessed (DSP-1 records a
# claim, and recording one holds the account, DSP-2: a misread costs the debtor their plan and autopay).
NOT_VERIFIED = "not_verified"  # ID-1: the verification expired while the form was open
PAYMENT_QUESTION = "payment_question"  # did my payment arrive, send me its receipt
WITHDRAW = "withdraw"  # undo a dispute already recorded: a person decides
CREDITOR = "creditor"  # who is the (original) creditor: validation information, not a dispute
NOTICE = "notice"  # send me the validation notice again
CARD = "card"  # PCI-1: a card number was typed (and redacted before it got here)
WHAT_IS_A_COLLECTOR = "what_is_a_collector"
LEAVE = "leave"  # never mind, none of those
GIVE_UP = "give_up"  # a reply that fit no choice, after one re-ask: a person, not the same menu again
PAY = "pay"
PLAN = "plan"
MUST_PAY = "must_pay"  # DSP-3: "do I have to pay now?" asks about the right to dispute; it is no wish to pay

_WITHDRAW = re.compile(r"\b(?:undo|take (?:it|that) back|withdraw|cancel (?:the|my|that) dispute|"
                       r"(?:did ?n[o']t|didnt|never) (?:mean|want|meant) to dispute|not (?:a )?dispute|"
                       r"retirar (?:la|mi) disputa|no quise disputar|deshacer)\b")
_CREDITOR = re.compile(r"\b(?:original creditor|who (?:is|was|'s) (?:the|my) (?:original )?creditor|who do i owe|"
                       r"who is this debt (?:with|from|for)|acreedor(?: original)?|a quien le debo)\b")
_NOTICE = re.compile(r"\b(?:validation (?:notice|letter)|the notice|paper copy|copy by (?:mail|post)|"
                     r"mail me (?:the|a) (?:notice|letter|copy)|aviso de validacion|copia (?:en papel|por correo))\b")
_CARD_WORDS = re.compile(r"\b(?:card|tarjeta|visa|mastercard|amex|exp|cvv|cvc|charge)\b")
_COLLECTOR = re.compile(r"\b(?:what(?:'s| is| does)|que (?:es|significa)|no entiendo)\b.{0,40}"
                        r"\b(?:debt collector|collector|cobrador(?:a)?(?: de deudas)?)\b")
# Leaving: a whole reply, or words that cannot be a choice ("none of those"); "nothing" alone, never "I owe nothing".
_LEAVE = re.compile(r"^(?:no|nope|nothing|neither|nada|ninguno|ninguna|cancel|stop|back|go back|no thanks|"
                    r"no thank you|not now|nvm)[.!]*$|\b(?:never ?mind|none of (?:those|them|these|the above)|"
                    r"forget (?:it|about it)|i don'?t want to dispute|no importa|olvidalo|olvidelo|dejelo|"
                    r"ninguna de esas|ninguno de esos)\b")
_PAY = re.compile(r"\b(?:pay (?:it |this |my |the )?(?:now|today|balance|bill|next payment|in full)|pay now|"
                  r"make a payment|i (?:want|need|would like|'d like) to pay|pagar (?:ahora|hoy|todo)|quiero pagar)\b")
# DSP-3: asked whether one must pay ("do I have to pay now?", "¿tengo que pagar ahora?"): a question, never a wish
# to pay, so it never leaves the dispute menu for a payment ask.
_MUST_PAY = re.compile(r"\b(?:(?:do|does|must|should|will|would) (?:i|we) (?:still |really |even )?"
                       r"(?:have to |need to |got to |gotta )?pay|have i (?:got )?to pay|"
                       r"(?:tengo|tenemos|hay) que pagar|(?:debo|debemos) pagar)\b")
_PLAN = re.compile(r"\b(?:payment plan|plan|a month|per month|monthly|a week|weekly|every (?:two|2) weeks|"
                   r"plan de pagos|al mes|por mes|mensual(?:es)?)\b")


def _plain(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", (text or "").lower().strip())
                   if not unicodedata.combining(c)).replace("\u2019", "'")


def not_a_dispute(text: str) -> str | None:
    """DSP-1: what a message that opened (or was typed into) the dispute form asked instead of disputing: WITHDRAW,
    PAYMENT_QUESTION, CREDITOR, NOTICE, CARD, WHAT_IS_A_COLLECTOR; None when it may be a dispute. A withdrawal comes
    first: "I didn't mean to dispute, I wanted my receipt" asks to undo one."""
    plain = _plain(text)
    if _WITHDRAW.search(plain):
        return WITHDRAW
    if asks_whether_received(text):
        return PAYMENT_QUESTION
    if _CREDITOR.search(plain):
        return CREDITOR
    if _NOTICE.search(plain):
        return NOTICE
    if "[redacted]" in plain and _CARD_WORDS.search(plain):
        return CARD
    if _COLLECTOR.search(plain):
        return WHAT_IS_A_COLLECTOR
    return None


# DSP-1: a claim that the debt is paid, in words no other request shares ("I already paid this", "it's paid off",
# "ya la pagué"); parse_kind's bare "paid" or "4" answers the dispute menu, but in a message of its own it is too
# loose ("I get paid on Fridays"). Accents dropped before matching.
_PAID_CLAIM = re.compile(
    r"\b(?:(?<!not )(?<!n't )(?<!never )already\s+paid"
    r"|(?:i|we)\s+(?:have\s+|'ve\s+)?paid\s+(?:it|this|that|the\s+(?:debt|balance|bill|account))\b"
    r"|(?:it|this|that|the\s+(?:debt|balance|bill|account))\s*(?:'s|\s+is|\s+was|\s+has\s+been)\s+(?:already\s+)?"
    r"paid|paid\s+(?:it\s+|this\s+)?(?:off|in\s+full)"
    r"|ya\s+(?:la\s+|lo\s+)?pague|ya\s+(?:esta|estaba|fue)\s+pagad[ao]|ya\s+(?:la\s+|lo\s+)?liquide)\b")


def claims_paid(text: str) -> bool:
    """DSP-1: whether the message claims the debt is paid, a dispute to record (after verification, ID-1) wherever
    else the message goes: beside a place restriction ("I already paid this, and don't call me at work") the gate
    notes the place and the dialogue still takes the claim (request_by_words)."""
    return bool(_PAID_CLAIM.search(_plain(text)))


# The dialogue intents the words decide (domain/: already_paid and ask_payment_status start the identity check when
# needed, ID-1, then record the claim, DSP-1, or answer from the records).
ALREADY_PAID_INTENT = "already_paid"
PAYMENT_STATUS_INTENT = "ask_payment_status"


def request_by_words(text: str, *, noted_first: bool = False) -> str | None:
    """The dialogue request a message's words make plain, whatever the model reads (the merged model let "I need
    proof of my payment" fall back): a request for the record of a payment (PAYMENT_STATUS_INTENT), unless it asks
    to withdraw a dispute (a person's, not_a_dispute); or, when the gate has already answered a part of the message
    (`noted_first`: a place noted for a person, TIME-1), a claim that it is paid (ALREADY_PAID_INTENT), which that
    answer must not swallow (DSP-1). None: the model reads the message as usual."""
    if noted_first and claims_paid(text):
        return ALREADY_PAID_INTENT
    if asks_for_receipt(text) and not_a_dispute(text) == PAYMENT_QUESTION:
        return PAYMENT_STATUS_INTENT
    return None


def menu_exit(text: str) -> str | None:
    """A reply to "what do you dispute?" (or "which account?") that leaves the menu: LEAVE, PAY or PLAN; MUST_PAY for
    "do I have to pay now?", answered while the menu stays (DSP-3); None for anything else (a choice, or a reply to
    read as one). Only called where a choice is asked, never for a dispute's opening message."""
    plain = _plain(text)
    if _LEAVE.search(plain):
        return LEAVE
    if asks_must_pay(text) and stated_kind(text) is None:  # "it's not mine, do I have to pay?" picks its reason
        return MUST_PAY
    if parse_kind(text) is not None and not re.search(r"\b(?:pay|pagar)\b", plain):
        return None  # "4", "I already paid": a choice, even with "a month" in it
    if _PAY.search(plain):
        return PAY
    if _PLAN.search(plain):
        return PLAN
    return None


def asks_must_pay(text: str) -> bool:
    """DSP-3: the words ask whether the debtor has to pay ("do I have to pay now?", "¿tengo que pagar ahora?")."""
    return bool(_MUST_PAY.search(_plain(text)))


def creditor_lines(session: Session, conversation_id: str) -> list[str]:
    """DISC (1006.34(c)): who the creditor is, from each verified open account, in the debtor's language. Raises
    bot.accounts.NotVerified before verification (ID-1)."""
    conversation = session.get(Conversation, conversation_id)
    speaks = language.current(session, conversation) if conversation is not None else None
    return [wording.say("creditor_is", speaks, last4=a.account_ref[-4:], creditor=a.creditor)
            for a in verified_accounts(session, conversation_id)]


ALL_ACCOUNTS = "all"  # the answer to "which account?" that disputes every open one
_ALL_WORDS = re.compile(r"\b(all|every|everything|both|each|all of them|todas?|todos|ambas?|ambos|cada)\b")
_LAST4 = re.compile(r"(?<!\d)(\d{4})(?!\d)")


def disputable_accounts(session: Session, conversation_id: str) -> list[Account]:
    """The verified debtor's accounts a dispute can be recorded on (open: active or already disputed), the one they
    named first. Raises bot.accounts.NotVerified before verification (ID-1)."""
    return [a for a in verified_accounts(session, conversation_id)
            if a.status in (AccountStatus.ACTIVE, AccountStatus.DISPUTED)]


def account_choices(accounts: list[Account], speaks: str | None) -> list[str]:
    """DSP-1: the choices of "which account?", numbered in this order: each account by its last four (and its
    creditor, which the verified debtor has been told), then all of them."""
    return [wording.say("dispute_account_item", speaks, last4=a.account_ref[-4:], creditor=a.creditor)
            for a in accounts] + [wording.say("dispute_account_all", speaks)]


def _folded(text: str) -> str:
    plain = "".join(c for c in unicodedata.normalize("NFKD", (text or "").casefold()) if not unicodedata.combining(c))
    return " ".join(re.sub(r"[^\w ]", " ", plain).split())


_MENU_TITLES = frozenset(_folded(title) for speaks in wording.LANGUAGES for title in
                         [t for _, t in kind_choices(speaks)] + [wording.say("dispute_account_all", speaks)])
# "The account ending 0003 (Acme Bank)": the words before the last four, then the creditor (folded, so no brackets).
_ACCOUNT_TITLE = re.compile("(?:" + "|".join(
    re.escape(_folded(wording.say("dispute_account_item", speaks, last4="9999", creditor="x")).split("9999")[0])
    for speaks in wording.LANGUAGES) + r")\d{4}(?: .+)?")


def is_menu_choice(text: str) -> bool:
    """DSP-1: the words are one of the dispute menus' own choices, as its buttons send them (a tap, or a digit the
    gateway turned into the button's title) or typed: "Toda la deuda", "All of them", "The account ending 0003
    (Acme Bank)". The model read some as other requests (hardship, goodbye), and the choice was lost."""
    folded = _folded(text)
    return folded in _MENU_TITLES or bool(_ACCOUNT_TITLE.fullmatch(folded))


def parse_account_choice(text: str, accounts: list[Account]) -> str | None:
    """Which account a dispute is about: an account id, ALL_ACCOUNTS, or None when the answer names neither. The
    last four of a reference (or a button title carrying them), the number of a choice as account_choices numbers
    them, or "all of them" / "both" (in English or Spanish). Four digits that match no account are no answer."""
    lowered = "".join(c for c in unicodedata.normalize("NFKD", text.lower().strip()) if not unicodedata.combining(c))
    tails = _LAST4.findall(lowered)
    if tails:
        named = [a.id for a in accounts if a.account_ref[-4:] in tails]
        return named[0] if len(named) == 1 else (ALL_ACCOUNTS if named and len(named) == len(accounts) else None)
    if lowered.isdigit():
        number = int(lowered)
        if 1 <= number <= len(accounts):
            return accounts[number - 1].id
        return ALL_ACCOUNTS if number == len(accounts) + 1 else None
    return ALL_ACCOUNTS if _ALL_WORDS.search(lowered) else None


@dataclass(frozen=True)
class DisputeReceipt:
    dispute_id: str
    account: str  # masked reference
    disputed: str  # formatted amount
    recorded_on: date  # the debtor's calendar date when it was recorded: the date the confirmation says


def record_dispute(session: Session, conversation_id: str, kind: str, *, correct_cents: int | None = None,
                   statement: str | None = None, account_id: str | None = None,
                   now: datetime | None = None) -> list[DisputeReceipt]:
    """DSP-1: record a dispute on the account the debtor chose (`account_id`, from parse_account_choice), or on
    each of the verified debtor's open accounts when they chose ALL_ACCOUNTS or have only one. For an 'amount'
    dispute of one account the disputed portion is its balance less what the debtor says is right (all of it if
    they don't say); a corrected amount is about one account, so a dispute of several disputes each in full."""
    if kind not in DISPUTE_KINDS:
        raise ValueError(f"unknown dispute kind {kind!r}; expected one of {DISPUTE_KINDS}")
    now = now or datetime.now(timezone.utc)
    chosen = disputable_accounts(session, conversation_id)
    if account_id not in (None, ALL_ACCOUNTS):
        chosen = [a for a in chosen if a.id == account_id]
    receipts = []
    for account in chosen:
        portion = account.balance_cents
        if kind == AMOUNT and len(chosen) == 1 and correct_cents is not None \
                and 0 <= correct_cents < account.balance_cents:
            portion = account.balance_cents - correct_cents
        dispute = Dispute(account_id=account.id, conversation_id=conversation_id, kind=kind, disputed_cents=portion,
                          statement=statement, created_at=now)
        session.add(dispute)
        account.status = AccountStatus.DISPUTED  # DSP-2: on hold until verification is sent
        session.flush()
        audit.record(session, "dispute_recorded", rule_id="DSP-1", conversation_id=conversation_id,
                     account_id=account.id, actor="debtor", at=now,
                     detail={"dispute_id": dispute.id, "kind": kind, "disputed_cents": portion,
                             "at": now.isoformat()})
        receipts.append(DisputeReceipt(dispute.id, mask_reference(account.account_ref),
                                       format_cents(portion, account.currency),
                                       debtor_date(now, session.get(Debtor, account.debtor_id))))
    return receipts


def confirmation(receipts: list[DisputeReceipt], speaks: str | None = wording.ENGLISH) -> str:
    """DSP-1: the written confirmation, with what is disputed and when it was recorded."""
    when = formats.long_date(receipts[0].recorded_on, speaks, weekday=False)
    disputed = "; ".join(wording.say("dispute_item", speaks, amount=r.disputed, last4=r.account[-4:])
                         for r in receipts)
    return wording.say("dispute_recorded", speaks, when=when, disputed=disputed)


def must_i_pay_answer(session: Session, conversation_id: str, now: datetime | None = None, *,
                      at_menu: bool = False) -> str:
    """DSP-3: 'do I have to pay now?' gets the right to dispute and, in the validation period, its end date.
    `at_menu`: asked at the dispute menu, which is shown again right after (MUST_PAY), so the answer points to it."""
    now = now or datetime.now(timezone.utc)
    accounts = verified_accounts(session, conversation_id)
    conversation = session.get(Conversation, conversation_id)
    speaks = language.current(session, conversation) if conversation is not None else None
    if any(_open_dispute(session, a) for a in accounts):
        return wording.say("must_pay_disputed", speaks)
    open_periods = [a for a in accounts if a.validation_period_ends_at and a.validation_period_ends_at > now]
    if open_periods:
        # The earliest end, shown as the last day it covers on the debtor's calendar: the notice's date.
        first = min(open_periods, key=lambda a: a.validation_period_ends_at)
        last_day = last_day_covered(first.validation_period_ends_at, session.get(Debtor, first.debtor_id))
        return wording.say("must_pay_until_menu" if at_menu else "must_pay_until", speaks,
                           date=formats.long_date(last_day, speaks))
    return wording.say("must_pay_any_time_menu" if at_menu else "must_pay_any_time", speaks)


def _open_dispute(session: Session, account: Account) -> bool:
    return session.scalar(select(Dispute.id).where(Dispute.account_id == account.id, Dispute.status == "open")
                          .limit(1)) is not None


def record_verification_sent(session: Session, dispute_id: str, *, by: str, now: datetime | None = None) -> Dispute:
    """A person records that verification went out by a 1006.42 method; the hold lifts when no dispute is open."""
    dispute = session.get(Dispute, dispute_id)
    if dispute is None:
        raise LookupError(f"no dispute {dispute_id}")
    dispute.status, dispute.verification_sent_at, dispute.verified_by = "verified", now or datetime.now(
        timezone.utc), by
    session.flush()
    account = session.get(Account, dispute.account_id)
    if not _open_dispute(session, account) and account.status == AccountStatus.DISPUTED:
        account.status = AccountStatus.ACTIVE
    audit.record(session, "dispute_verification_sent", rule_id="DSP-2", account_id=account.id, actor=by,
                 detail={"dispute_id": dispute_id})
    return dispute


def answer_instead(session: Session, conversation_id: str, reason: str, speaks: str, hours: AgentHours,
                   support_contact: str) -> list[str]:
    """DSP-1: what the debtor reads when the dispute form steps aside for `reason` (not_a_dispute, menu_exit,
    GIVE_UP): the answer to what they asked instead, and that nothing was recorded. A withdrawal or a notice copy is
    a person's to do, so one is queued. Raises accounts.NotVerified once the verification is gone (ID-1)."""
    if reason == PAYMENT_QUESTION:
        # Answered from the records; the menu is left, and the debtor told nothing was recorded.
        return payment_status_messages(session, conversation_id) + [wording.say("dispute_left", speaks)]
    if reason == CREDITOR:
        return opening_disclosure(session, conversation_id) + [
            "\n".join(creditor_lines(session, conversation_id)), wording.say("creditor_next", speaks)]
    if reason in (WITHDRAW, NOTICE):
        # A person reviews a dispute the debtor wants withdrawn; a person sends the notice again by post.
        found = disputable_accounts(session, conversation_id)
        queued = handoff.request(session, conversation_id, "dispute", rule_id="DSP-1",
                                 account_id=found[0].id if found else None,
                                 details={"asked": "withdraw_dispute" if reason == WITHDRAW else "notice_copy_by_post"})
        said, _ = escalation.next_steps(session, queued, hours, support_contact)
        return [wording.say("dispute_withdraw_person" if reason == WITHDRAW else "notice_copy_person", speaks), said]
    key = {CARD: "card_use_pay_link",  # PCI-1
           WHAT_IS_A_COLLECTOR: "what_is_a_collector", GIVE_UP: "dispute_give_up"}.get(reason, "dispute_left")
    return [wording.say(key, speaks)]
