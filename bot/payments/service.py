"""Payments: what a verified debtor may pay, our pay links and Checkout Sessions.

The flow (COMPLIANCE.md PCI-1..3, PLAN-2, PLAN-3, DSP-2):
  1. pay_options(): what this debtor can pay now, read from the ledger (TONE-2): the full balance, a plan's next
     payment, a settlement the policy allows, or an amount they name. A held account gets the hold's reason and
     nothing to pay (DSP-2, CEASE-*, VUL-2).
  2. create_pay_link(): a short link of ours, /pay/<token>: single use, expiring (PAY_LINK_TTL_HOURS), bound to the
     account and the amount; the token is random and only its hash is stored. Card data never enters a chat
     (PCI-1): the debtor pays on Stripe's hosted page.
  3. open_checkout(): following the link creates a Checkout Session (mode payment, the amount from our ledger,
     metadata naming the account, the link and the installment) and redirects there. A plan's first payment
     saves the card for later off-session charges (setup_future_usage=off_session) with the debtor's explicit
     authorisation on the page (PLAN-2). The session is created with an idempotency key per link attempt and the
     same parameters each time, so a timeout or a 500 followed by a retry never makes a second session.
  4. The payment lands in the ledger (ledger.apply_payment) exactly once per PaymentIntent, whichever reports it
     first: a webhook (webhooks.py), the success page (sync_checkout_session, through payment_intents.py) or the
     autopay scheduler (autopay.py). A payment for a held account is kept for a person and never applied (DSP-2,
     1006.30(c)). The debtor gets a receipt on their channel.

The modules, each importing only those to its right: webhooks -> autopay -> service -> payment_intents -> ledger ->
autopay_authorisation -> messages, texts.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

import stripe
from sqlalchemy import Engine, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot import audit, segments, wording
from bot import language as languages
from bot.accounts import verified_accounts
from bot.compliance import amounts, holds, visible_codes
from bot.config import Settings
from bot.db import session_scope
from bot.db.models import (
    Account,
    Conversation,
    Debtor,
    Installment,
    PayLink,
    Payment,
    Plan,
    StripeCustomer,
)
from bot.local_dates import debtor_zone
from bot.money import NEGATIVE, UnreadableAmount, format_cents, parse_dollars, parse_typed_dollars
from bot.payments import payment_intents, texts
from bot.payments.autopay_authorisation import active_autopay, authorisation_text, autopay_field
from bot.payments.ledger import for_update, lock_row, payment_for_link
from bot.payments.messages import Delivered
from bot.plans.service import OPEN_STATUSES, UNPAID_INSTALLMENT, open_plan
from bot.wording import formats

log = logging.getLogger("settle.payments")

# $1.00: the smallest part-payment (a smaller typed amount is almost always a typing slip). The full balance and a
# plan payment are never refused for it: a balance under $1.00 can still be paid off.
MIN_PAYMENT_CENTS = 100
# Stripe's minimum charge in USD (docs.stripe.com "Minimum and maximum charge amounts"; the stand-in's MIN_AMOUNT):
# below it no Checkout Session can be made, so the debtor is told so and offered a person, never a dead link.
STRIPE_MIN_CHARGE_CENTS = 50
EXAMPLE_PAYMENT_CENTS = 5000  # the "type an amount like $50" example, when the balance allows it
# Stripe needs a Checkout Session to live 30 minutes at least; a few more keep a retry inside the bound.
SESSION_MIN_LIFETIME = timedelta(minutes=35)
SESSION_MAX_LIFETIME = timedelta(hours=24)


class PaymentRefused(Exception):
    """No link may be made (a hold, nothing owed, an amount out of range), in words fit for the debtor."""

    def __init__(self, message: str, rule_id: str | None = None) -> None:
        super().__init__(message)
        self.message, self.rule_id = message, rule_id


class LinkProblem(Exception):
    """A pay link that cannot be used now; `status` is the HTTP status for the page that says why (the wording
    `key`), in `language`: the link's conversation's, or its debtor's; None when not known (the page then follows
    the browser)."""

    def __init__(self, status: int, key: str, language: str | None = None) -> None:
        super().__init__(key)
        self.status, self.key, self.language = status, key, language


def known_link_language(session: Session, link: PayLink) -> str | None:
    """The language of the pages around a pay link: its conversation's, else its debtor's (bot/language.py); None
    when neither is known (a page then follows the browser, Stripe's page gets locale "auto")."""
    conversation = session.get(Conversation, link.conversation_id) if link.conversation_id else None
    account = session.get(Account, link.account_id)
    return languages.known_about(session, conversation, account.debtor_id if account is not None else None)


def token_language(engine: Engine, token: str) -> str | None:
    """The pages' language for a pay link by its token; None when the token or its debtor's language is unknown."""
    with session_scope(engine) as session:
        link = session.scalar(select(PayLink).where(PayLink.token_hash == hash_token(token)))
        return known_link_language(session, link) if link is not None else None


class CheckoutUnavailable(Exception):
    """Stripe did not answer (5xx, timeout, network): nothing was charged, the link still works."""


# --- 1. what can be paid -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PayChoice:
    kind: str  # balance | installment | settlement | amount
    amount_cents: int
    label: str
    installment_id: str | None = None
    plan_id: str | None = None
    settles_cents: int | None = None  # settlement: the balance it settles in full


@dataclass(frozen=True)
class PayOptions:
    account_id: str | None
    creditor: str = ""
    currency: str = "USD"
    balance_cents: int = 0
    choices: tuple[PayChoice, ...] = ()
    refusal: str | None = None
    rule_id: str | None = None
    plan_reference: str | None = None
    language: str | None = None  # the conversation's: the debtor reads every text below in it

    def choice(self, kind: str) -> PayChoice | None:
        return next((c for c in self.choices if c.kind == kind), None)


def pay_options(session: Session, conversation_id: str, language: str | None = None) -> PayOptions:
    """What the verified debtor of this conversation can pay now, from the ledger (TONE-2), or why nothing.

    Raises bot.accounts.NotVerified before verification (ID-1)."""
    accounts = verified_accounts(session, conversation_id)
    conversation = session.get(Conversation, conversation_id)
    account = next((a for a in accounts if a.id == conversation.account_id), accounts[0] if accounts else None)
    if account is None:
        return PayOptions(None, refusal=wording.say("pay_no_account", language), language=language)
    rule = holds.hold_rule(session, account)
    if rule is not None:
        # DSP-2, CEASE-*, VUL-2: the reason, never a payment ask or a link.
        audit.record(session, "payment_refused", rule_id=rule, conversation_id=conversation_id,
                     account_id=account.id, detail={"reason": "hold"})
        return PayOptions(account.id, account.creditor, account.currency, account.balance_cents,
                          refusal=holds.hold_message(rule, language), rule_id=rule, language=language)
    if account.balance_cents <= 0:
        return PayOptions(account.id, account.creditor, account.currency, 0,
                          refusal=holds.hold_message("ACCOUNT-CLOSED", language), language=language)
    currency, balance = account.currency, account.balance_cents
    if balance < STRIPE_MIN_CHARGE_CENTS:
        audit.record(session, "payment_refused", conversation_id=conversation_id, account_id=account.id,
                     detail={"reason": "below_card_minimum", "balance_cents": balance})
        return PayOptions(account.id, account.creditor, currency, balance,
                          refusal=below_card_minimum(balance, currency, language), language=language)
    choices: list[PayChoice] = []
    plan = open_plan(session, account.id)
    if plan is not None:
        nxt = next((i for i in plan.installments if i.status in UNPAID_INSTALLMENT), None)
        if nxt is not None and min(nxt.amount_cents, balance) >= STRIPE_MIN_CHARGE_CENTS:
            amount = min(nxt.amount_cents, balance)
            choices.append(PayChoice("installment", amount, wording.say("pay_choice_installment", language,
                                                                        amount=format_cents(amount, currency)),
                                     installment_id=nxt.id, plan_id=plan.id))
    choices.append(PayChoice("balance", balance, wording.say("pay_choice_balance", language,
                                                             amount=format_cents(balance, currency))))
    if plan is None:
        # A settlement the creditor's policy allows (PLAN-1: no fee).
        offer = segments.settlement_offer_for(session, account)
        floor = offer.floor_cents(balance) if offer is not None else None
        if floor is not None and MIN_PAYMENT_CENTS <= floor < balance:
            choices.append(PayChoice("settlement", floor, wording.say("pay_choice_settlement", language,
                                                                      amount=format_cents(floor, currency)),
                                     settles_cents=balance))
    return PayOptions(account.id, account.creditor, currency, balance, tuple(choices),
                      plan_reference=plan.reference if plan is not None else None, language=language)


def below_card_minimum(balance_cents: int, currency: str, language: str | None = None) -> str:
    """Why no link can be made for a balance under Stripe's minimum charge, and who can help instead."""
    return wording.say("pay_below_card_minimum", language, balance=format_cents(balance_cents, currency),
                       minimum=format_cents(STRIPE_MIN_CHARGE_CENTS, currency))


def example_amount_cents(balance_cents: int) -> int | None:
    """The part-payment the "type an amount like ..." hint suggests: $50, or whole dollars about half a smaller
    balance, never under the minimum nor the whole balance. None when only the full balance can be paid."""
    if balance_cents <= MIN_PAYMENT_CENTS:
        return None
    if balance_cents > EXAMPLE_PAYMENT_CENTS:
        return EXAMPLE_PAYMENT_CENTS
    return max(MIN_PAYMENT_CENTS, balance_cents // 2 // 100 * 100)


def pick_prompt(options: PayOptions, numbers: str) -> str:
    """"Reply 1 or 2, or type an amount like $50." with an example the debtor can really pay."""
    example = example_amount_cents(options.balance_cents)
    if example is None:
        return wording.say("pay_pick_only", options.language, numbers=numbers)
    return wording.say("pay_pick", options.language, numbers=numbers,
                       example=format_cents(example, options.currency).removesuffix(".00"))


def _too_small(choice: PayChoice, balance_cents: int) -> bool:
    """The $1.00 minimum is for part-payments: the full balance or a plan payment is never too small for it."""
    return choice.amount_cents < MIN_PAYMENT_CENTS and choice.kind not in ("balance", "installment") and \
        choice.amount_cents != balance_cents


_WORDS = {
    # LANG-1: the Spanish words too; without them "quiero pagar todo" was understood as nothing (and, sent twice,
    # the second one, answering "¿Cuánto quiere pagar?", got "Perdón, no le entendí").
    "balance": re.compile(r"\b(full|whole|entire|all|everything|everythin|total|balance|in full|off|payoff|todo|"
                          r"toda|completo|saldo completo|liquidar todo)\b"),
    "settlement": re.compile(r"\b(settle|settlement|settling|discount|lump sum|acuerdo|descuento|liquidaci[oó]n)\b"),
    "installment": re.compile(r"\b(next|installment|instalment|plan payment|this month|monthly payment|due|"
                              r"pr[oó]ximo|siguiente|cuota|pago del plan|pago de este mes)\b"),
}
_AMOUNT = re.compile(r"\$?\s*([0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)(?:\.([0-9]{1,2}))?\b")
# The first figure typed, with a minus sign before it and every separator in it ("-50", "12,50", "12.345"), so it is
# read exactly or refused (bot/money.parse_typed_dollars), never cut short to "12" or stripped of its sign. Digits
# glued to a word or a dash ("SET-100022", "20-30") are left to the readers below.
_FIGURE = re.compile(r"(?<![\w.,\-\u2212])(?:[-\u2212]\s?\$?|\$\s?[-\u2212]?)?\s?[0-9][0-9.,]*")
_BALANCE_QUESTION = re.compile(r"\b(what'?s|what is|whats|how much|tell me|remind me|cu[aá]nto|cu[aá]l es|que es)\b"
                               r".*\b(balance|owe|owing|left|saldo|debo|queda)\b|^(my\s+)?balance\s*\?$|\?.*\bsaldo")
_PLAN_WORDS = re.compile(r"\b(a|per|each|every)\s+(month|week|wk|mo|two weeks|2 weeks|other week|fortnight)\b|"
                         r"\b(monthly|weekly|biweekly|bi-weekly)\b(?!\s*payment)")


@dataclass(frozen=True)
class Understood:
    """What a debtor's answer to "how much?" means: a choice, an amount out of range (with why), a plan, or
    nothing recognisable."""

    choice: PayChoice | None = None
    problem: str | None = None
    wants_plan: bool = False
    asks_balance: bool = False  # "whats my balance now": answered, then the amount is asked again


def understand(options: PayOptions, text: str, picked: str | None = None) -> Understood:
    """"the full balance", "settle", "my next payment", "$200", "200.50", a button (picked = its kind)."""
    if picked:
        choice = options.choice(picked)
        return Understood(choice) if choice else Understood()
    said = " ".join((text or "").casefold().replace("’", "'").split())
    if _PLAN_WORDS.search(said):
        return Understood(wants_plan=True)
    figure = _FIGURE.search(said)
    if figure is not None:
        typed = figure.group(0).rstrip(".,")  # "50." ends a sentence
        try:
            cents = parse_typed_dollars(typed)
        except UnreadableAmount as unread:  # "-50", "12.345": refused with the reason, and asked again
            key = "pay_amount_negative" if unread.reason == NEGATIVE else "pay_amount_inexact"
            return Understood(problem=wording.say(key, options.language))
        if re.search(r",[0-9]{2}$", typed):
            return _amount_choice(options, cents)  # "12,50": $12.50, read as the cents (money.parse_typed_dollars)
    # TONE-2's money reader first: it knows words ("fifty bucks", "cincuenta dólares"); a bare "200" is the
    # answer to "how much?" too, so the digits alone come next.
    figures = amounts.amounts_in(said)
    if figures:
        return _amount_choice(options, figures[0])
    if _BALANCE_QUESTION.search(said):
        return Understood(asks_balance=True)  # a question about the balance, not "pay the balance"
    match = _AMOUNT.search(said)
    if match is not None:
        try:
            cents = parse_dollars(f"{match.group(1)}.{match.group(2) or '0'}")
        except ValueError:
            return Understood()
        return _amount_choice(options, cents)
    for kind in ("settlement", "installment", "balance"):
        if _WORDS[kind].search(said) and options.choice(kind) is not None:
            return Understood(options.choice(kind))
    return Understood()


def _amount_choice(options: PayOptions, cents: int) -> Understood:
    money = lambda c: format_cents(c, options.currency)  # noqa: E731
    for kind in ("balance", "installment"):
        choice = options.choice(kind)
        if choice is not None and choice.amount_cents == cents:
            return Understood(choice)
    if cents > options.balance_cents:
        return Understood(problem=wording.say("pay_too_big", options.language, amount=money(options.balance_cents)))
    if cents < MIN_PAYMENT_CENTS:
        return Understood(problem=wording.say("pay_too_small", options.language, amount=money(MIN_PAYMENT_CENTS)))
    return Understood(PayChoice("amount", cents, wording.say("pay_choice_amount", options.language,
                                                             amount=money(cents))))


def confirmation_question(options: PayOptions, choice: PayChoice) -> str:
    """The amount, said back exactly, before any link is made (the debtor confirms it)."""
    money = lambda c: format_cents(c, options.currency)  # noqa: E731
    speaks = options.language
    if choice.kind in ("balance", "installment"):
        what = wording.say(f"pay_confirm_{choice.kind}", speaks, amount=money(choice.amount_cents))
    elif choice.kind == "settlement":
        what = wording.say("pay_confirm_settlement", speaks, amount=money(choice.amount_cents),
                           balance=money(choice.settles_cents or options.balance_cents))
    else:
        what = wording.say("pay_confirm_amount", speaks, amount=money(choice.amount_cents),
                           left=money(options.balance_cents - choice.amount_cents))
    return f"{what} {wording.say('pay_confirm_ask', speaks)}"


# --- 2. pay links ------------------------------------------------------------------------------------------------


def hash_token(token: str) -> str:
    """Base32, not hex: the stored hash never holds a long digit run a card-number scan would flag (PCI-3)."""
    return base64.b32encode(hashlib.sha256(token.encode()).digest()).decode().lower().rstrip("=")


@dataclass(frozen=True)
class NewLink:
    link_id: str
    url: str
    message: str


def create_pay_link(session: Session, conversation_id: str, choice: PayChoice, settings: Settings,
                    now: datetime | None = None, ttl: timedelta | None = None, language: str | None = None) -> NewLink:
    """A single-use, expiring link bound to the conversation's account and this amount (PCI-1: a hosted page).

    Re-checks everything against the ledger at this moment: the hold (DSP-2), the balance, the installment.
    Raises PaymentRefused, or bot.accounts.NotVerified (ID-1)."""
    now = now or datetime.now(timezone.utc)
    accounts = verified_accounts(session, conversation_id)
    conversation = session.get(Conversation, conversation_id)
    account = next((a for a in accounts if a.id == conversation.account_id), accounts[0] if accounts else None)
    if account is None:
        raise PaymentRefused(wording.say("pay_no_account", language))
    account = lock_row(session, Account, account.id)
    return _make_link(session, account, conversation_id, choice, settings, now, ttl, language)


def _make_link(session: Session, account: Account, conversation_id: str | None, choice: PayChoice,
               settings: Settings, now: datetime, ttl: timedelta | None, language: str | None = None) -> NewLink:
    rule = holds.hold_rule(session, account)
    if rule is not None:
        audit.record(session, "pay_link_refused", rule_id=rule, conversation_id=conversation_id,
                     account_id=account.id, detail={"reason": "hold"})
        raise PaymentRefused(holds.hold_message(rule, language), rule)
    if choice.amount_cents < STRIPE_MIN_CHARGE_CENTS:
        raise PaymentRefused(below_card_minimum(account.balance_cents, account.currency, language)
                             if choice.amount_cents == account.balance_cents else
                             wording.say("pay_refused_amount", language,
                                         balance=format_cents(account.balance_cents, account.currency)))
    if choice.amount_cents > account.balance_cents or _too_small(choice, account.balance_cents):
        raise PaymentRefused(wording.say("pay_refused_amount", language,
                                         balance=format_cents(account.balance_cents, account.currency)))
    if choice.kind == "balance" and choice.amount_cents != account.balance_cents:
        raise PaymentRefused(wording.say("pay_balance_changed", language))
    if choice.kind == "settlement" and choice.settles_cents != account.balance_cents:
        raise PaymentRefused(wording.say("pay_settlement_changed", language))
    save_card, plan = False, None
    if choice.kind == "installment":
        installment = session.get(Installment, choice.installment_id)
        plan = session.get(Plan, installment.plan_id) if installment is not None else None
        if installment is None or plan is None or plan.account_id != account.id or \
                installment.status not in UNPAID_INSTALLMENT or plan.status not in OPEN_STATUSES:
            raise PaymentRefused(wording.say("pay_installment_changed", language))
        # The card is saved for autopay only at the plan's first payment, and only with the debtor's explicit
        # authorisation on the payment page (PLAN-2).
        save_card = plan.status == "awaiting_first_payment" and active_autopay(session, plan.id) is None
    # One live link per account: an older unused one is cancelled, so two links can't both be paid.
    session.execute(update(PayLink).where(PayLink.account_id == account.id, PayLink.status == "active",
                                          PayLink.stripe_checkout_session_id.is_(None))
                    .values(status="cancelled"))
    token = visible_codes.link_token()
    expires_at = now + (ttl or timedelta(hours=settings.pay_link_ttl_hours))
    link = PayLink(token_hash=hash_token(token), account_id=account.id, conversation_id=conversation_id,
                   plan_id=plan.id if plan is not None else None, installment_id=choice.installment_id,
                   purpose=choice.kind, amount_cents=choice.amount_cents, currency=account.currency,
                   balance_cents=account.balance_cents, save_card=save_card, created_at=now, expires_at=expires_at)
    session.add(link)
    session.flush()
    audit.record(session, "pay_link_created", rule_id="PCI-1", conversation_id=conversation_id,
                 account_id=account.id, detail={"pay_link_id": link.id, "purpose": choice.kind,
                                                "amount_cents": choice.amount_cents, "save_card": save_card})
    url = f"{settings.pay_base_url}/pay/{token}"
    expires = texts.link_expiry(expires_at, debtor_zone(session.get(Debtor, account.debtor_id)), language)
    message = texts.pay_link(choice.amount_cents, account.currency, url, expires, autopay=save_card,
                             language=language)
    return NewLink(link.id, url, message)


def first_payment_message(session: Session, plan: Plan, conversation_id: str, settings: Settings,
                          now: datetime | None = None, language: str | None = None) -> str | None:
    """The plan confirmation's "what happens next": the first payment's own link (PCI-1), valid until the end of
    its due date, on which the debtor may also authorise autopay for the rest (PLAN-2). None if no link can be
    made (the caller keeps the plain wording)."""
    now = now or datetime.now(timezone.utc)
    first = next((i for i in plan.installments if i.status in UNPAID_INSTALLMENT), None)
    if first is None:
        return None
    account = session.get(Account, plan.account_id)
    zone = debtor_zone(session.get(Debtor, account.debtor_id))
    end_of_due = datetime.combine(first.due_date + timedelta(days=1), datetime.min.time(), tzinfo=zone)
    ttl = min(max(end_of_due.astimezone(timezone.utc) - now, timedelta(hours=settings.pay_link_ttl_hours)),
              timedelta(days=31))
    choice = PayChoice("installment", min(first.amount_cents, account.balance_cents), "", installment_id=first.id,
                       plan_id=plan.id)
    try:
        link = _make_link(session, lock_row(session, Account, account.id), conversation_id, choice, settings, now, ttl,
                          language)
    except PaymentRefused as refused:
        # Right after the debtor agreed, a refusal is unexpected (a hold placed meanwhile, a ledger change): the
        # confirmation then promises the link instead of giving it, and the log says why (the bench saw it once).
        log.warning("the first payment's link for plan %s was refused (%s): %s", plan.id, refused.rule_id or "no rule",
                    refused.message)
        return None
    return wording.say("first_payment_next", language, amount=format_cents(choice.amount_cents, account.currency),
                       date=formats.long_date(first.due_date, language), link=link.message)


def installment_link(session: Session, installment: Installment, settings: Settings, now: datetime,
                     ttl: timedelta) -> NewLink:
    """A link for one plan payment, made without a chat (autopay's decline and missed-payment messages)."""
    plan = session.get(Plan, installment.plan_id)
    account = lock_row(session, Account, plan.account_id)
    amount = min(installment.amount_cents, account.balance_cents)
    choice = PayChoice("installment", amount, "", installment_id=installment.id, plan_id=plan.id)
    return _make_link(session, account, plan.conversation_id, choice, settings, now, ttl,
                      languages.for_debtor(session, account.debtor_id))


# --- 3. Checkout ---------------------------------------------------------------------------------------------


def open_checkout(engine: Engine, client: stripe.StripeClient, settings: Settings, token: str,
                  now: datetime | None = None) -> str:
    """The debtor followed /pay/<token>: the hosted page's URL to redirect to (303).

    Raises LinkProblem (unknown, used, replaced, expired, changed, held) or CheckoutUnavailable (Stripe down:
    the debtor is told to try the same link again; nothing was recorded or charged)."""
    now = now or datetime.now(timezone.utc)
    with session_scope(engine) as session:
        link = session.scalar(for_update(select(PayLink).where(PayLink.token_hash == hash_token(token)), engine))
        if link is None:
            raise LinkProblem(404, "pay_page_invalid", None)
        link_id, session_id = link.id, link.stripe_checkout_session_id
        speaks = known_link_language(session, link)
    fresh = False
    if session_id:
        found = _retrieve_session(client, session_id)
        if found is not None and found.status == "open" and found.url:
            return found.url  # the same session again: one link, one payment
        if found is not None and found.status == "complete":
            sync_checkout_session(engine, client, settings, session_id)
            raise LinkProblem(410, "pay_page_done_receipt", speaks)
        fresh = True  # expired (or unknown to Stripe): a new attempt, with a new key
    with session_scope(engine) as session:
        link = session.scalar(for_update(select(PayLink).where(PayLink.id == link_id), engine))
        prepared = _checkout_params(session, link, token, settings, now, fresh)
        customer_needed = link.save_card
        debtor_id = session.get(Account, link.account_id).debtor_id
    if isinstance(prepared, LinkProblem):
        raise prepared  # after the commit, so the audit of a refusal (DSP-2) is kept
    params, attempt = prepared
    customer_id = _customer_for(engine, client, debtor_id) if customer_needed else None
    if customer_id:
        params["customer"] = customer_id
    try:
        # The locale is in the key: a debtor who switches language between a failed try (Stripe may have made that
        # session) and the next would otherwise send other parameters under the same key and be refused until the
        # attempt runs out.
        key = f"checkout-{link_id}-{attempt}-{params['locale']}"
        created = client.v1.checkout.sessions.create(params=params, options={"idempotency_key": key})
    except (stripe.APIError, stripe.APIConnectionError, stripe.RateLimitError) as exc:
        _audit_unavailable(engine, link_id, exc)
        raise CheckoutUnavailable(str(exc)) from exc
    except stripe.StripeError as exc:
        log.error("Stripe refused a Checkout Session for pay link %s: %s", link_id, exc)
        _audit_unavailable(engine, link_id, exc)
        raise CheckoutUnavailable(str(exc)) from exc
    _record_session(engine, link_id, created.id, created.url)
    return created.url


def _checkout_params(session: Session, link: PayLink, token: str, settings: Settings, now: datetime,
                     fresh: bool) -> tuple[dict[str, Any], int] | LinkProblem:
    """Checks the link against the ledger now, then the session's parameters: the same on every retry of one
    attempt (the expiry is fixed when the attempt starts), so the idempotency key can be reused safely."""
    speaks = known_link_language(session, link)
    if link.status == "paid":
        return LinkProblem(410, "pay_page_done", speaks)
    if link.status == "cancelled":
        return LinkProblem(410, "pay_page_replaced", speaks)
    if now >= link.expires_at:
        return LinkProblem(410, "pay_page_expired", speaks)
    account = lock_row(session, Account, link.account_id)
    rule = holds.hold_rule(session, account)
    if rule is not None:
        audit.record(session, "checkout_refused", rule_id=rule, conversation_id=link.conversation_id,
                     account_id=account.id, detail={"pay_link_id": link.id, "reason": "hold"})  # DSP-2
        return LinkProblem(403, "pay_page_held", speaks)
    changed = LinkProblem(409, "pay_page_changed", speaks)
    if link.purpose in ("balance", "settlement") and account.balance_cents != link.balance_cents:
        return changed
    if link.amount_cents > account.balance_cents:
        return changed
    if link.installment_id:
        installment = session.get(Installment, link.installment_id)
        if installment is None or installment.status not in UNPAID_INSTALLMENT:
            return LinkProblem(410, "pay_page_plan_done", speaks)
    if fresh or link.checkout_expires_at is None or link.checkout_expires_at < now + SESSION_MIN_LIFETIME:
        link.checkout_attempt += 1
        link.checkout_expires_at = max(min(link.expires_at, now + SESSION_MAX_LIFETIME), now + SESSION_MIN_LIFETIME)
        link.checkout_expires_at = link.checkout_expires_at.replace(microsecond=0)
    base = settings.pay_base_url
    metadata = {"account_id": link.account_id, "pay_link_id": link.id, "purpose": link.purpose}
    if link.installment_id:
        metadata.update(installment_id=link.installment_id, plan_id=link.plan_id or "")
    params: dict[str, Any] = {
        "mode": "payment",
        "line_items": [{"quantity": 1, "price_data": {
            "currency": link.currency.lower(), "unit_amount": link.amount_cents,
            "product_data": {"name": wording.say("checkout_item", speaks, business=settings.business_name)}}}],
        "success_url": f"{base}/pay/done?session_id={{CHECKOUT_SESSION_ID}}",
        "cancel_url": f"{base}/pay/{token}?cancelled=1",
        "client_reference_id": link.id,
        "expires_at": int(link.checkout_expires_at.timestamp()),
        "metadata": metadata,
        # The description is for the collector's own Stripe dashboard: in English.
        "payment_intent_data": {"metadata": metadata,
                                "description": wording.say("checkout_item", business=settings.business_name)},
        "payment_method_types": ["card"],
        # Stripe's own page in the debtor's language; not known yet: the browser's ("auto").
        "locale": checkout_locale(speaks),
    }
    if link.save_card:
        # PLAN-2: the later payments are charged to this card only if the debtor chooses "yes" on the payment page,
        # next to the exact authorisation text. It is a choice, never a condition of paying (Reg E 1005.10(e):
        # no compulsory use of preauthorised transfers). Stripe's own reuse wording is hidden: ours replaces it.
        params["payment_intent_data"]["setup_future_usage"] = "off_session"
        params["consent_collection"] = {"payment_method_reuse_agreement": {"position": "hidden"}}
        params["custom_fields"] = [autopay_field(speaks)]
        params["custom_text"] = {"submit": {"message": wording.say("autopay_prefix", speaks) +
                                            authorisation_text(session, link, settings, speaks)}}
    return params, link.checkout_attempt


def checkout_locale(language: str | None) -> str:
    """Stripe Checkout's `locale` for the language Settle speaks with the debtor: Latin American Spanish ("es-419",
    the Spanish US speakers read) or English; "auto" (the browser's) when not known."""
    return {wording.SPANISH: "es-419", wording.ENGLISH: "en"}.get(language or "", "auto")


def _customer_for(engine: Engine, client: stripe.StripeClient, debtor_id: str) -> str:
    """The debtor's Stripe Customer, made once (idempotency key per debtor) and remembered."""
    with session_scope(engine) as session:
        known = session.get(StripeCustomer, debtor_id)
        if known is not None:
            return known.stripe_customer_id
    try:
        customer = client.v1.customers.create(params={"metadata": {"debtor_id": debtor_id}},
                                              options={"idempotency_key": f"customer-{debtor_id}"})
    except (stripe.APIError, stripe.APIConnectionError, stripe.RateLimitError) as exc:
        raise CheckoutUnavailable(str(exc)) from exc
    try:
        with session_scope(engine) as session:
            session.add(StripeCustomer(debtor_id=debtor_id, stripe_customer_id=customer.id))
    except IntegrityError:
        pass  # another request stored it (the idempotency key gave both the same customer)
    return customer.id


def _record_session(engine: Engine, link_id: str, session_id: str, url: str | None) -> None:
    """The session and its pending payment, once: a concurrent click that got the same session (the same
    idempotency key) finds them already recorded."""
    try:
        with session_scope(engine) as session:
            link = session.get(PayLink, link_id)
            link.stripe_checkout_session_id, link.checkout_url = session_id, url
            if session.scalar(select(Payment.id).where(Payment.stripe_checkout_session_id == session_id)) is None:
                session.add(payment_for_link(session, link, session_id))
    except IntegrityError:
        pass


def _audit_unavailable(engine: Engine, link_id: str, exc: Exception) -> None:
    with session_scope(engine) as session:
        link = session.get(PayLink, link_id)
        audit.record(session, "checkout_unavailable", conversation_id=link.conversation_id,
                     account_id=link.account_id, detail={"pay_link_id": link_id, "error": type(exc).__name__,
                                                         "status": getattr(exc, "http_status", None)})


def _retrieve_session(client: stripe.StripeClient, session_id: str) -> Any:
    try:
        return client.v1.checkout.sessions.retrieve(session_id)
    except stripe.InvalidRequestError:
        return None
    except stripe.StripeError as exc:
        raise CheckoutUnavailable(str(exc)) from exc


def sync_checkout_session(engine: Engine, client: stripe.StripeClient, settings: Settings,
                          session_id: str) -> Delivered:
    """The success page's check: if Stripe says the session is paid, apply it now (the same idempotent path the
    webhook takes), so the ledger is right even before the webhook arrives."""
    found = _retrieve_session(client, session_id)
    if found is None or found.status != "complete" or found.payment_status != "paid" or not found.payment_intent:
        return Delivered()
    intent = client.v1.payment_intents.retrieve(found.payment_intent)
    return payment_intents.apply_intent(engine, client, settings, intent.to_dict(), found.to_dict())


def session_summary(engine: Engine, session_id: str) -> dict[str, Any] | None:
    """For the success page: the amount and whether it is applied, by session id (an unguessable id)."""
    with session_scope(engine) as session:
        payment = session.scalar(select(Payment).where(Payment.stripe_checkout_session_id == session_id))
        if payment is None:
            return None
        link = session.get(PayLink, payment.pay_link_id) if payment.pay_link_id else None
        return {"amount": format_cents(payment.amount_cents, payment.currency), "status": payment.status,
                "reference": payment.reference,
                "language": known_link_language(session, link) if link is not None else None}
