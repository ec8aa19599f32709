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
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot import audit, segments, wording
from bot.accounts import verified_accounts
from bot.agents.queue import OPEN as OPEN_HANDOFFS
from bot.compliance import visible_codes
from bot.compliance.holds import HOLD_MESSAGES, hold_message, hold_rule
from bot.db.models import Account, AccountStatus, Conversation, Debtor, Handoff, Installment, Plan
from bot.local_dates import debtor_today
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

# PLAN-2: agreeing to a plan authorises no recurring debit; automatic payments are a separate choice, with their own
# authorisation text, on the first payment's page (bot/payments).
# The words are in bot/wording/ (plan_how_to_pay, plan_how_to_pay_once, plan_ask_a_person); these are the English.
HOW_TO_PAY = wording.say("plan_how_to_pay")
HOW_TO_PAY_ONCE = wording.say("plan_how_to_pay_once")
ASK_A_PERSON = wording.say("plan_ask_a_person")
_FREQUENCIES = ("weekly", "biweekly", "monthly")

# PLAN-2: only an unmistakable yes counts as consent. "ok", "sure" or "sounds good" get asked again; so do
# "ok", "bueno" or "esta bien" in Spanish. Accents are dropped before matching ("sí" is "si").
_YES = re.compile(
    r"(?:yes|y|yep|yeah|yea|yup|ya|i agree|agree|agreed|i accept|accept|accepted|i consent|confirm|confirmed|"
    r"i confirm|si|acepto|estoy de acuerdo|de acuerdo|confirmo|si acepto|si estoy de acuerdo)"
    r"(?: (?:yes|i agree|agree|agreed|i accept|i confirm|confirm|please|pls|thanks|thank you|"
    r"to (?:these|the|those) terms|i do|si|acepto|estoy de acuerdo|de acuerdo|confirmo|por favor|gracias|"
    r"(?:acepto )?(?:estos|los|esos) terminos))*"
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
    if "?" in (text or "") or "¿" in (text or ""):
        return False  # "yes?" is a question, not consent
    folded = "".join(c for c in unicodedata.normalize("NFKD", (text or "").casefold()) if not unicodedata.combining(c))
    plain = re.sub(r"[^a-z0-9 ]", " ", folded.replace("'", "").replace("’", ""))
    return bool(_YES.fullmatch(" ".join(plain.split())))


def terms_text(option: PlanOption, currency: str = "USD", language: str | None = None) -> str:
    """PLAN-1: the complete terms, exactly as shown to the debtor and as stored with their consent: total,
    number of payments, each amount and date (long schedules summarised), fees ("No fees."), how to pay. In the
    debtor's language: what they agree to is what they read."""
    lines = [describe_option(option, currency, language), *describe_schedule(option, currency, language)]
    lines.append(wording.say("plan_how_to_pay" if option.count > 1 else "plan_how_to_pay_once", language))
    return "\n".join(lines)


def option_summary(option: PlanOption, currency: str = "USD", language: str | None = None) -> str:
    """A button title: short, yet with the count, how often and the amounts; the numbered line beside it has
    every detail. "13 monthly payments of $180.00 (first $240.00)"."""

    def money(cents: int) -> str:
        return format_cents(cents, currency)

    def say(key: str, **values: object) -> str:
        return wording.say(key, language, **values)

    if option.kind == "settlement":
        return say("summary_settlement", amount=money(option.total_cents))
    if option.count == 1:
        return say("summary_single", amount=money(option.total_cents))
    amounts = option.amounts
    usual = max(set(amounts), key=lambda a: (amounts.count(a), a))
    counted = say(f"counted_{option.frequency}" if option.frequency in _FREQUENCIES else "counted_other")
    odd = [i for i, a in enumerate(amounts) if a != usual]
    head = say("summary_head", count=option.count, counted=counted,
               amount=money(usual) if len(odd) <= 1 and odd in ([], [0], [len(amounts) - 1]) else
               say("amount_range", low=money(min(amounts)), high=money(max(amounts))))
    if odd == [0]:
        return say("summary_first", head=head, amount=money(amounts[0]))
    if odd == [len(amounts) - 1]:
        return say("summary_last", head=head, amount=money(amounts[-1]))
    return head


def refusal_for_hold(rule_id: str, language: str | None = None, person_on_the_way: bool = False) -> str:
    """A held account gets a plain reason and a way to reach a person, and never a payment ask (DSP-2, CEASE-*).
    VUL-2: after a hardship a person sets up what comes next, so the debtor hears why and what a person will go over
    with them (a hardship plan, a pause), not a bare "I can't"; `person_on_the_way`: one is already asked for."""
    if rule_id == "VUL-2":
        return wording.say("plan_refusal_VUL-2_queued" if person_on_the_way else "plan_refusal_VUL-2", language)
    reason = wording.say(f"hold_{rule_id}", language) if rule_id in HOLD_MESSAGES else \
        wording.say("plan_refusal_other", language)
    text = f"{wording.say('plan_refusal_hold', language)} {reason}"
    person = wording.say("talk_to_a_person", language)
    return text if person in text else f"{text} {wording.say('plan_ask_a_person', language)}"


def _person_on_the_way(session: Session, conversation_id: str) -> bool:
    """A handoff of this conversation still waits for a person or is with one (HO-1)."""
    return session.scalar(select(Handoff.id).where(Handoff.conversation_id == conversation_id,
                                                   Handoff.status.in_(OPEN_HANDOFFS)).limit(1)) is not None


def offer(session: Session, conversation_id: str, text: str, today: date | None = None,
          language: str | None = None) -> Offer:
    """Up to three plan options for the verified account of this conversation (PLAN-1, PLAN-4), or a refusal.

    Raises bot.accounts.NotVerified if the conversation has not passed verification (ID-1)."""
    account = _conversation_account(session, conversation_id)
    wanted = parse_affordability(text or "")
    if account is None:
        return Offer(conversation_id, None, "", "USD", 0, today or date.today(), text or "", wanted, (),
                     refusal=wording.say("plan_no_account", language))
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
        return Offer(**base, refusal=refusal_for_hold(rule, language, _person_on_the_way(session, conversation_id)),
                     rule_id=rule)
    existing = open_plan(session, account.id)
    if existing is not None:
        return Offer(**base, existing_reference=existing.reference,
                     refusal=wording.say("plan_existing", language, reference=existing.reference))
    # Account age for settlement bands: we only know when the account was imported, not how old the debt is,
    # and the engine treats an unknown age as not meeting a minimum (no guess in the debtor's disfavour or ours).
    proposal = propose(account.balance_cents, policy, wanted, today=today, account_status=account.status,
                       language=language)
    if proposal.refusal:
        return Offer(**base, refusal=proposal.refusal)
    audit.record(session, "plan_offered", rule_id="PLAN-1", conversation_id=conversation_id, account_id=account.id,
                 detail={"options": [{"kind": o.kind, "frequency": o.frequency, "count": o.count,
                                      "total_cents": o.total_cents} for o in proposal.options],
                         "needs_person": proposal.needs_person, "asked": _asked(wanted)})
    return Offer(**base, options=proposal.options, note=proposal.note, needs_person=proposal.needs_person)


def accept(session: Session, conversation_id: str, option: PlanOption, consent_text: str, now: datetime,
           *, terms_shown: str | None = None, language: str | None = None) -> Plan:
    """PLAN-2: save the plan the debtor explicitly agreed to, with its installments, exactly as shown.

    Raises ConsentRequired (not an explicit yes), PlanRefused (hold, closed account, plan already running) or
    OfferChanged (balance, dates or terms differ from what was shown: re-offer). terms_shown, when given, must be
    the text the debtor saw; it is checked against the terms rebuilt from the option."""
    if now.tzinfo is None:
        raise ValueError("accept needs a timezone-aware time")
    if not is_explicit_yes(consent_text):
        raise ConsentRequired(wording.say("plan_consent_required", language), "PLAN-2")
    account = _conversation_account(session, conversation_id, lock=True)
    if account is None:
        raise PlanRefused(wording.say("plan_no_account", language))
    rule = hold_rule(session, account)
    if rule is not None:
        raise PlanRefused(refusal_for_hold(rule, language, _person_on_the_way(session, conversation_id)), rule)
    if account.status != AccountStatus.ACTIVE:
        raise PlanRefused(f"{wording.say('plan_refusal_hold', language)} {wording.say('plan_ask_a_person', language)}")
    existing = open_plan(session, account.id)
    if existing is not None:
        raise PlanRefused(wording.say("plan_existing_change", language, reference=existing.reference), "PLAN-2")
    if option.balance_cents != account.balance_cents:
        raise OfferChanged(wording.say("plan_changed_balance", language))
    today = debtor_today(session.get(Debtor, account.debtor_id), now)
    if not option.installments or option.first_due < today:
        raise OfferChanged(wording.say("plan_changed_dates", language))
    problem = _check_option(option, policy_for(session, account), account.balance_cents)
    if problem is not None:
        # The policy's reason is in the operator's words; the debtor gets new options either way.
        raise OfferChanged(wording.say("plan_changed_terms", language))
    # PLAN-2: the terms stored are the ones shown, in the language they were shown in.
    terms = terms_text(option, account.currency, language)
    if terms_shown is not None and terms_shown != terms:
        raise OfferChanged(wording.say("plan_changed_terms", language))

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
HUMAN_REVIEW_OFFER = wording.say("plan_human_review")


def confirmation(plan: Plan, currency: str = "USD", next_step: str | None = None,
                 language: str | None = None) -> list[str]:
    """The written confirmation after PLAN-2 consent: the reference, the schedule as agreed, what happens next
    (`next_step`, e.g. the first payment's link, replaces the default), and the offer of a person (REC-3)."""
    first = plan.installments[0]
    return [
        wording.say("plan_set_up", language, reference=plan.reference),
        plan.terms_text,
        next_step or wording.say("plan_next_default", language, amount=format_cents(first.amount_cents, currency),
                                 date=format_date(first.due_date, language)),
        wording.say("plan_human_review", language),
    ]


def plan_status(session: Session, conversation_id: str, today: date | None = None,
                language: str | None = None) -> list[str]:
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
        balances = " ".join(wording.say("status_balance", language, creditor=a.creditor,
                                        amount=format_cents(a.balance_cents, a.currency)) for a in accounts)
        collectible = any(hold_rule(session, a) is None and a.balance_cents > 0 for a in accounts)
        # On a held account even the suggestion of a plan is a payment ask (DSP-2), so only a person is offered.
        follow = wording.say("status_suggest_plan" if collectible else "plan_ask_a_person", language)
        if not collectible and any(hold_rule(session, a) == "VUL-2" for a in accounts):
            follow = hold_message("VUL-2", language)  # VUL-2: why there is no plan, and what a person will do
        if accounts:
            audit.record(session, "balance_disclosed", rule_id="ID-1", conversation_id=conversation_id,
                         account_id=accounts[0].id, detail={"accounts": len(accounts), "via": "plan_status"})
        return [" ".join(p for p in (wording.say("status_no_plan", language), balances, follow) if p)]
    messages: list[str] = []
    currencies = {a.id: a.currency for a in accounts}
    for plan in plans:
        currency = currencies.get(plan.account_id, "USD")
        summary = plan.terms_text.split("\n", 1)[0]  # describe_option's line: the plan as agreed
        messages.append(wording.say("status_plan", language, reference=plan.reference, summary=summary))
        unpaid = [i for i in plan.installments if i.status in UNPAID_INSTALLMENT]
        if not unpaid:
            messages.append(wording.say("status_all_done", language))
            continue
        nxt = unpaid[0]
        amount, due = format_cents(nxt.amount_cents, currency), format_date(nxt.due_date, language)
        if nxt.due_date < today:
            messages.append(wording.say("status_not_recorded", language, amount=amount, date=due))
        else:
            link = wording.say("status_pay_now", language) if plan.status == "awaiting_first_payment" else ""
            messages.append(" ".join(p for p in (wording.say("status_next", language, amount=amount, date=due),
                                                 link) if p))
        left = sum(i.amount_cents for i in unpaid)
        count = wording.say("count_one" if len(unpaid) == 1 else "count_many", language, count=len(unpaid))
        messages.append(wording.say("status_left", language, amount=format_cents(left, currency), count=count) +
                        " " + wording.say("plan_ask_a_person", language))
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
    return visible_codes.reference(
        "PLN-", taken=lambda r: session.scalar(select(Plan.id).where(Plan.reference == r)) is not None)


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
