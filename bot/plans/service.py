"""The plan service (COMPLIANCE.md section H): offer plans to a verified debtor, record the one they agree to,
and say where a plan stands. No Rasa here: the action server calls these, and the tests call them directly.

- offer(): the verified account's ledger balance, its creditor's policy and "today" in the debtor's time zone go
  into the engine with what the debtor said they can pay. Held accounts are refused (DSP-2, CEASE-*, VUL-2).
- accept(): PLAN-2, only after an explicit yes to the exact terms shown; the terms are stored as shown, with the
  debtor's own words and the time. Anything that changed since the offer (balance, dates, a hold, another plan)
  refuses, so the caller re-offers instead of saving terms the debtor never saw.
- plan_status(): the next payment, what the plan is and what is left, read from the database (TONE-2).

Every amount goes through bot.money.format_cents and every date through terms.format_date (VOICE.md).
"""

from __future__ import annotations

import calendar
import re
import secrets
from dataclasses import dataclass
from datetime import date, datetime, timezone
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot import audit, segments
from bot.accounts import verified_accounts
from bot.compliance.holds import HOLD_MESSAGES, hold_rule
from bot.db.models import Account, AccountStatus, Conversation, Debtor, Installment, Plan
from bot.money import format_cents
from bot.plans.affordability import Affordability, parse_affordability
from bot.plans.engine import propose
from bot.plans.options import Installment as PlannedInstallment
from bot.plans.options import PlanOption
from bot.plans.policy import Fee, PlanPolicy, active_policy
from bot.plans.terms import describe_option, describe_schedule, format_date

# A plan in one of these states is still running: a second one on the same account is refused.
OPEN_STATUSES = ("awaiting_first_payment", "active")
UNPAID_INSTALLMENT = ("scheduled", "missed")

# References are read aloud and typed from a letter: no 0/O, 1/I/L, so none can be mistaken for another.
REFERENCE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
REFERENCE_LENGTH = 6

# PLAN-2: agreeing to a plan authorises no recurring debit; automatic payments are a separate choice, with their own
# authorisation text, on the first payment's page (bot/payments).
HOW_TO_PAY = ("We'll send you a link to make each payment. Nothing is taken from your account automatically "
              "unless you choose automatic payments on the first payment page.")
HOW_TO_PAY_ONCE = "We'll send you a link to make this payment. Nothing is taken from your account automatically."
ASK_A_PERSON = "Say 'talk to a person' if you have questions."
_COUNTED = {"weekly": "weekly payments", "biweekly": "payments every 2 weeks", "monthly": "monthly payments"}

# PLAN-2: only an unmistakable yes counts as consent. "ok", "sure" or "sounds good" get asked again.
_YES = re.compile(
    r"(?:yes|y|yep|yeah|yea|yup|ya|i agree|agree|agreed|i accept|accept|accepted|i consent|confirm|confirmed|"
    r"i confirm)(?: (?:yes|i agree|agree|agreed|i accept|i confirm|confirm|please|pls|thanks|thank you|"
    r"to (?:these|the|those) terms|i do))*"
)


class PlanError(Exception):
    """Why a plan was not saved, in words fit for the debtor."""

    def __init__(self, message: str, rule_id: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.rule_id = rule_id


class ConsentRequired(PlanError):
    """PLAN-2: the debtor's words were not an explicit yes."""


class PlanRefused(PlanError):
    """No plan may be set up on this account now (a hold, a closed account, a plan already running)."""


class OfferChanged(PlanError):
    """The balance, the dates or the policy changed since these terms were shown: re-offer, don't save."""


@dataclass(frozen=True)
class Offer:
    """What to offer a verified debtor, or why nothing can be offered (refusal, with the rule that held it)."""

    conversation_id: str
    account_id: str | None
    creditor: str
    currency: str
    balance_cents: int
    today: date
    request_text: str
    affordability: Affordability
    frequencies: tuple[str, ...]
    options: tuple[PlanOption, ...] = ()
    note: str | None = None
    needs_person: bool = False
    refusal: str | None = None
    rule_id: str | None = None
    existing_reference: str | None = None

    @property
    def needs_amount(self) -> bool:
        """The debtor has not said how much they can pay yet, so the conversation asks first."""
        return self.affordability.amount_cents is None


def is_explicit_yes(text: str) -> bool:
    """PLAN-2: "YES", "yes I agree", "I accept": the whole message is a yes and nothing else."""
    if "?" in (text or ""):
        return False  # "yes?" is a question, not consent
    plain = re.sub(r"[^a-z0-9 ]", " ", (text or "").casefold().replace("'", "").replace("’", ""))
    return bool(_YES.fullmatch(" ".join(plain.split())))


def debtor_today(debtor: Debtor | None, now: datetime | None = None) -> date:
    """Today in the debtor's own time zone: due dates are their calendar days, not the server's."""
    now = now or datetime.now(timezone.utc)
    return now.astimezone(debtor_zone(debtor)).date()


def debtor_zone(debtor: Debtor | None) -> ZoneInfo:
    """The debtor's own time zone; UTC if none is known or it is not a real zone."""
    try:
        return ZoneInfo(debtor.timezone) if debtor is not None and debtor.timezone else ZoneInfo("UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def terms_text(option: PlanOption, currency: str = "USD") -> str:
    """PLAN-1: the complete terms, exactly as shown to the debtor and as stored with their consent: total,
    number of payments, each amount and date (long schedules summarised), fees ("No fees."), how to pay."""
    lines = [describe_option(option, currency), *describe_schedule(option, currency)]
    lines.append(HOW_TO_PAY if option.count > 1 else HOW_TO_PAY_ONCE)
    return "\n".join(lines)


def option_summary(option: PlanOption, currency: str = "USD") -> str:
    """A button title: short, yet with the count, how often and the amounts; the numbered line beside it has
    every detail. "13 monthly payments of $180.00 (first $240.00)"."""
    if option.kind == "settlement":
        return f"Settle for {format_cents(option.total_cents, currency)}"
    if option.count == 1:
        return f"One payment of {format_cents(option.total_cents, currency)}"
    amounts = option.amounts
    usual = max(set(amounts), key=lambda a: (amounts.count(a), a))
    head = f"{option.count} {_COUNTED.get(option.frequency or '', 'payments')} of "
    odd = [i for i, a in enumerate(amounts) if a != usual]
    if not odd:
        return head + format_cents(usual, currency)
    if odd == [0]:
        return f"{head}{format_cents(usual, currency)} (first {format_cents(amounts[0], currency)})"
    if odd == [len(amounts) - 1]:
        return f"{head}{format_cents(usual, currency)} (last {format_cents(amounts[-1], currency)})"
    return f"{head}{format_cents(min(amounts), currency)} to {format_cents(max(amounts), currency)}"


def refusal_for_hold(rule_id: str) -> str:
    """A held account gets a plain reason and a way to reach a person, and never a payment ask (DSP-2, CEASE-*)."""
    reason = HOLD_MESSAGES.get(rule_id, "I can't set up a plan on this account right now.")
    text = f"I can't set up a plan on this account. {reason}"
    return text if "talk to a person" in text else f"{text} {ASK_A_PERSON}"


def offer(session: Session, conversation_id: str, text: str, today: date | None = None) -> Offer:
    """Up to three plan options for the verified account of this conversation (PLAN-1, PLAN-4), or a refusal.

    Raises bot.accounts.NotVerified if the conversation has not passed verification (ID-1)."""
    account = _conversation_account(session, conversation_id)
    wanted = parse_affordability(text or "")
    if account is None:
        return Offer(conversation_id, None, "", "USD", 0, today or date.today(), text or "", wanted, (),
                     refusal=f"I couldn't find an open account for you. {ASK_A_PERSON}")
    debtor = session.get(Debtor, account.debtor_id)
    today = today or debtor_today(debtor)
    policy = policy_for(session, account)
    base: dict[str, Any] = {
        "conversation_id": conversation_id, "account_id": account.id, "creditor": account.creditor,
        "currency": account.currency, "balance_cents": account.balance_cents, "today": today,
        "request_text": text or "", "affordability": wanted, "frequencies": policy.frequencies,
    }
    rule = hold_rule(session, account)
    if rule is not None:
        audit.record(session, "plan_refused", rule_id=rule, conversation_id=conversation_id, account_id=account.id,
                     detail={"reason": "hold"})
        return Offer(**base, refusal=refusal_for_hold(rule), rule_id=rule)
    existing = open_plan(session, account.id)
    if existing is not None:
        return Offer(**base, existing_reference=existing.reference, refusal=(
            f"You already have a plan with us, reference {existing.reference}. Say 'my plan' to see it, or "
            "'talk to a person' if you'd like to change it."))
    # Account age for settlement bands: we only know when the account was imported, not how old the debt is,
    # and the engine treats an unknown age as not meeting a minimum (no guess in the debtor's disfavour or ours).
    proposal = propose(account.balance_cents, policy, wanted, today=today, account_status=account.status)
    if proposal.refusal:
        return Offer(**base, refusal=proposal.refusal)
    audit.record(session, "plan_offered", rule_id="PLAN-1", conversation_id=conversation_id, account_id=account.id,
                 detail={"options": [{"kind": o.kind, "frequency": o.frequency, "count": o.count,
                                      "total_cents": o.total_cents} for o in proposal.options],
                         "needs_person": proposal.needs_person, "asked": _asked(wanted)})
    return Offer(**base, options=proposal.options, note=proposal.note, needs_person=proposal.needs_person)


def accept(session: Session, conversation_id: str, option: PlanOption, consent_text: str, now: datetime,
           *, terms_shown: str | None = None) -> Plan:
    """PLAN-2: save the plan the debtor explicitly agreed to, with its installments, exactly as shown.

    Raises ConsentRequired (not an explicit yes), PlanRefused (hold, closed account, plan already running) or
    OfferChanged (balance, dates or terms differ from what was shown: re-offer). terms_shown, when given, must be
    the text the debtor saw; it is checked against the terms rebuilt from the option."""
    if now.tzinfo is None:
        raise ValueError("accept needs a timezone-aware time")
    if not is_explicit_yes(consent_text):
        raise ConsentRequired("To agree to these terms, please reply YES.", "PLAN-2")
    account = _conversation_account(session, conversation_id, lock=True)
    if account is None:
        raise PlanRefused(f"I couldn't find an open account for you. {ASK_A_PERSON}")
    rule = hold_rule(session, account)
    if rule is not None:
        raise PlanRefused(refusal_for_hold(rule), rule)
    if account.status != AccountStatus.ACTIVE:
        raise PlanRefused(f"I can't set up a plan on this account. {ASK_A_PERSON}")
    existing = open_plan(session, account.id)
    if existing is not None:
        raise PlanRefused(f"You already have a plan with us, reference {existing.reference}. Say 'talk to a "
                          "person' if you'd like to change it.", "PLAN-2")
    if option.balance_cents != account.balance_cents:
        raise OfferChanged("Your balance has changed since I showed you these options, so here are new ones.")
    today = debtor_today(session.get(Debtor, account.debtor_id), now)
    if not option.installments or option.first_due < today:
        raise OfferChanged("The dates in those options have passed, so here are new ones.")
    problem = _check_option(option, policy_for(session, account), account.balance_cents)
    if problem is not None:
        raise OfferChanged(f"Those terms no longer work ({problem}), so here are new options.")
    terms = terms_text(option, account.currency)
    if terms_shown is not None and terms_shown != terms:
        raise OfferChanged("Those terms have changed since I showed them, so here are new options.")

    plan = Plan(
        reference=_new_reference(session), account_id=account.id, conversation_id=conversation_id,
        kind=option.kind, frequency=option.frequency, balance_cents=option.balance_cents,
        total_cents=option.total_cents, fee_cents=option.fee_cents, installment_count=option.count,
        terms_text=terms, status="awaiting_first_payment", consented_at=now, consent_text=consent_text.strip(),
    )
    plan.installments = [Installment(number=i.number, due_date=i.due, amount_cents=i.amount_cents)
                         for i in option.installments]
    session.add(plan)
    session.flush()
    audit.record(session, "plan_created", rule_id="PLAN-2", conversation_id=conversation_id, account_id=account.id,
                 actor="debtor", detail={"reference": plan.reference, "kind": plan.kind, "count": option.count,
                                         "total_cents": option.total_cents, "fee_cents": option.fee_cents})
    return plan


# REC-3 (GDPR 22(3)): the bot alone decided this plan, so the debtor is offered a person to look at it again.
HUMAN_REVIEW_OFFER = "Our assistant set this plan up. If you'd like a person to review it, say 'talk to a person'."


def confirmation(plan: Plan, currency: str = "USD", next_step: str | None = None) -> list[str]:
    """The written confirmation after PLAN-2 consent: the reference, the schedule as agreed, what happens next
    (`next_step`, e.g. the first payment's link, replaces the default), and the offer of a person (REC-3)."""
    first = plan.installments[0]
    return [
        f"Thank you. Your plan is set up. Your reference is {plan.reference}.",
        plan.terms_text,
        next_step or f"What happens next: we'll send you a link to make your first payment of "
        f"{format_cents(first.amount_cents, currency)}, due {format_date(first.due_date)}. "
        "Say 'my plan' any time to check it, or 'talk to a person' with questions.",
        HUMAN_REVIEW_OFFER,
    ]


def plan_status(session: Session, conversation_id: str, today: date | None = None) -> list[str]:
    """Where the debtor's plans stand, from the database: what each plan is, the next payment, what is left.

    Raises bot.accounts.NotVerified if the conversation has not passed verification (ID-1)."""
    accounts = verified_accounts(session, conversation_id)
    if today is None:
        today = debtor_today(session.get(Debtor, accounts[0].debtor_id) if accounts else None)
    plans = list(session.scalars(
        select(Plan).where(Plan.account_id.in_([a.id for a in accounts]), Plan.status.in_(OPEN_STATUSES))
        .order_by(Plan.created_at, Plan.reference)
    )) if accounts else []
    if not plans:
        # "How much is left?" with no plan still deserves the figure: the ledger balance (TONE-2).
        balances = " ".join(f"Your balance with {a.creditor} is {format_cents(a.balance_cents, a.currency)}."
                            for a in accounts)
        collectible = any(hold_rule(session, a) is None and a.balance_cents > 0 for a in accounts)
        # On a held account even the suggestion of a plan is a payment ask (DSP-2), so only a person is offered.
        follow = "Say 'payment plan' if you'd like to set one up." if collectible else ASK_A_PERSON
        if accounts:
            audit.record(session, "balance_disclosed", rule_id="ID-1", conversation_id=conversation_id,
                         account_id=accounts[0].id, detail={"accounts": len(accounts), "via": "plan_status"})
        return [" ".join(p for p in ("You don't have a plan with us right now.", balances, follow) if p)]
    messages: list[str] = []
    currencies = {a.id: a.currency for a in accounts}
    for plan in plans:
        currency = currencies.get(plan.account_id, "USD")
        summary = plan.terms_text.split("\n", 1)[0]  # describe_option's line: the plan as agreed
        messages.append(f"Your plan {plan.reference}: {summary}")
        unpaid = [i for i in plan.installments if i.status in UNPAID_INSTALLMENT]
        if not unpaid:
            messages.append("Every payment on this plan is done. Thank you.")
            continue
        nxt = unpaid[0]
        amount, due = format_cents(nxt.amount_cents, currency), format_date(nxt.due_date)
        if nxt.due_date < today:
            messages.append(f"Your payment of {amount} due {due} hasn't been recorded yet. "
                            "If you've paid it, thank you; it can take a few days to show.")
        else:
            link = " Say 'pay now' for a link to pay it." if plan.status == "awaiting_first_payment" else ""
            messages.append(f"Next payment: {amount} on {due}.{link}")
        left = sum(i.amount_cents for i in unpaid)
        count = f"{len(unpaid)} payment{'s' if len(unpaid) != 1 else ''}"
        messages.append(f"Left to pay on this plan: {format_cents(left, currency)} ({count}). {ASK_A_PERSON}")
    return messages


def open_plan(session: Session, account_id: str) -> Plan | None:
    """The plan still running on this account (awaiting its first payment, or active), if any."""
    return session.scalar(select(Plan).where(Plan.account_id == account_id, Plan.status.in_(OPEN_STATUSES))
                          .order_by(Plan.created_at.desc()).limit(1))


# --- options across turns: the action server is stateless, so offered options travel in a slot --------------


def option_to_dict(option: PlanOption) -> dict[str, Any]:
    return {
        "kind": option.kind, "frequency": option.frequency,
        "installments": [[i.number, i.due.isoformat(), i.amount_cents] for i in option.installments],
        "total_cents": option.total_cents, "fee_cents": option.fee_cents, "balance_cents": option.balance_cents,
        "matches_request": option.matches_request,
        "fees": [[f.name, f.amount_cents, f.authorised_by] for f in option.fees],
    }


def option_from_dict(data: dict[str, Any]) -> PlanOption:
    """The inverse of option_to_dict. Raises ValueError on anything malformed (accept() re-checks the rest)."""
    try:
        return PlanOption(
            kind=str(data["kind"]), frequency=data.get("frequency"),
            installments=tuple(PlannedInstallment(int(n), date.fromisoformat(due), int(cents))
                               for n, due, cents in data["installments"]),
            total_cents=int(data["total_cents"]), fee_cents=int(data["fee_cents"]),
            balance_cents=int(data["balance_cents"]), matches_request=bool(data.get("matches_request")),
            fees=tuple(Fee(str(name), int(cents), str(by)) for name, cents, by in data.get("fees", [])),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"not a plan option: {exc}") from exc


# --- internals -------------------------------------------------------------------------------------------------


def _conversation_account(session: Session, conversation_id: str, lock: bool = False) -> Account | None:
    """The account this conversation verified against (the one the debtor named), else their first one."""
    accounts = verified_accounts(session, conversation_id)  # ID-1: raises NotVerified
    conversation = session.get(Conversation, conversation_id)
    account = next((a for a in accounts if a.id == conversation.account_id), accounts[0] if accounts else None)
    if account is not None and lock:
        # Two "yes" messages racing must not make two plans: hold the account row until commit (PostgreSQL).
        account = session.scalar(select(Account).where(Account.id == account.id).with_for_update())
    return account


def policy_for(session: Session, account: Account) -> PlanPolicy:
    """The creditor's plan policy with the plan variant of the account's segment (policy/segments.yml: e.g. more
    lenient terms for low balances) laid over what the creditor left to the default."""
    return active_policy(session).for_creditor(account.creditor, segments.plan_variant_for(session, account))


def _asked(wanted: Affordability) -> dict[str, Any]:
    return {"amount_cents": wanted.amount_cents, "frequency": wanted.frequency}


def _new_reference(session: Session) -> str:
    while True:
        reference = "PLN-" + "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(REFERENCE_LENGTH))
        if session.scalar(select(Plan.id).where(Plan.reference == reference)) is None:
            return reference


def _check_option(option: PlanOption, policy: PlanPolicy, balance_cents: int) -> str | None:
    """PLAN-1 again at the moment of saving: the option must still be one the policy allows and must add up.
    Options travel through the conversation between turns, so they are checked, not trusted."""
    amounts = option.amounts
    numbers = [i.number for i in option.installments]
    dues = [i.due for i in option.installments]
    if numbers != list(range(1, option.count + 1)) or any(a <= 0 for a in amounts):
        return "the payments are out of order"
    if any(later <= earlier for earlier, later in zip(dues, dues[1:], strict=False)):
        return "the dates are out of order"
    if sum(amounts) != option.total_cents:
        return "the payments don't add up"
    if option.kind == "plan":
        if option.count < 2 or option.frequency not in policy.frequencies:
            return "that schedule isn't offered"
        if option.fee_cents != policy.fee_cents or option.total_cents != balance_cents + policy.fee_cents:
            return "the total doesn't match the balance"
        if min(amounts) < policy.min_installment_cents:
            return "a payment is below the smallest allowed"
        if dues[-1] > _add_months(dues[0], policy.max_term_months):
            return "the plan is too long"
        return None
    if option.count != 1 or option.fee_cents:
        return "a single payment has one date and no fees"
    if option.kind == "pay_in_full":
        return None if option.total_cents == balance_cents else "the total doesn't match the balance"
    if option.kind == "settlement":
        offer_band = policy.settlement_offer(balance_cents, None)
        if offer_band is None or not offer_band.floor_cents(balance_cents) <= option.total_cents < balance_cents:
            return "that settlement isn't offered"
        return None
    return "that kind of plan isn't offered"


def _add_months(day: date, months: int) -> date:
    year, month = divmod(day.month - 1 + months, 12)
    year, month = day.year + year, month + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))
