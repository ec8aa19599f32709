"""The outbound gate: every message to a debtor passes here last, a bot reply, an agent's reply or a reminder.

A reply in a session the consumer started may go out at any hour (TIME-2) but is still checked for banned claims
(TONE-1, TBD-1) and for payment asks on held accounts (DSP-2, CEASE-*). A bot-initiated message is also checked
for opt-out and wrong-party suppression (OPT-3, ID-4), number eligibility (ID-5), the contact window (TIME-1)
and the frequency cap (FREQ-1), and gets the debt-collector notice and the opt-out line (DISC-2, OPT-1).
A message that may not go out is recorded with the rule IDs by the caller; none is dropped silently."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta, timezone
from functools import lru_cache

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot import contact_preferences
from bot.compliance import contact_window, frequency, holds, tone
from bot.db.models import Account, ContactPreference, Conversation, Debtor, Dispute, Plan, ScheduledMessage

# DISC-3: messages sent before anyone is verified convey nothing about a debt, so they carry no DISC-2 notice and
# must not mention a debt, an amount or a creditor.
CONTENT_NEUTRAL_KINDS = frozenset({"first_contact"})
_DEBT_CONTENT = re.compile(r"\b(debts?|owe[sd]?|owing|balance|collect\w*|past due|overdue|account ending)\b|\$\s?\d",
                           re.IGNORECASE)
SAFE_REPLY = "Sorry, I can't help with that here. You can say 'balance' or 'talk to a person'."
ID5_WINDOW = timedelta(days=60)


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    text: str
    rule_ids: tuple[str, ...] = ()
    defer_until: datetime | None = None
    reasons: tuple[str, ...] = field(default_factory=tuple)


@lru_cache(maxsize=1)
def _contact_rules() -> frequency.ContactRules:
    return frequency.load_contact_rules()


def accounts_of(session: Session, conversation: Conversation | None) -> list[Account]:
    """The accounts whose rules apply to a conversation's replies (none before the debtor is known)."""
    if conversation is None or conversation.debtor_id is None:
        return []
    return list(session.scalars(select(Account).where(Account.debtor_id == conversation.debtor_id)))


def _content_rules(session: Session, text: str, accounts: Sequence[Account]) -> tuple[list[str], list[str]]:
    rule_ids: list[str] = []
    reasons: list[str] = []
    time_barred = any(a.time_barred for a in accounts)
    lawful = bool(accounts) and all(a.legal_action_permitted for a in accounts)
    for violation in tone.lint(text, time_barred=time_barred, lawful_legal_action=lawful):
        rule_ids.append(violation.rule_id)
        reasons.append(f"{violation.category}: {violation.phrase!r}")
    if holds.is_payment_ask(text):
        for account in accounts:
            rule = holds.hold_rule(session, account)
            if rule is not None:
                rule_ids.append(rule)
                reasons.append(f"payment ask on a held account ({account.status})")
    return list(dict.fromkeys(rule_ids)), reasons


def check_reply(session: Session, conversation: Conversation | None, text: str, sender_role: str = "bot",
                accounts: Sequence[Account] | None = None) -> Verdict:
    """A reply inside a session the consumer started (TIME-2: any hour), from the bot or an agent. `accounts`:
    `accounts_of(session, conversation)` when the caller checks several replies of one turn."""
    if accounts is None:
        accounts = accounts_of(session, conversation)
    rule_ids, reasons = _content_rules(session, text, accounts)
    if sender_role == "agent":
        # TONE-2: an agent's figures must be the ledger's; a typed-in amount is not sent.
        typed = [a for a in _amounts(text) if a not in _ledger_figures(session, accounts)]
        if typed:
            rule_ids.append("TONE-2")
            reasons.append("amount not in the ledger: " + ", ".join(f"{c / 100:.2f}" for c in typed))
    if rule_ids:
        return Verdict(False, text, tuple(rule_ids), reasons=tuple(reasons))
    return Verdict(True, text)


_AMOUNT = re.compile(r"\$\s?(\d{1,3}(?:,\d{3})*|\d+)(?:\.(\d{2}))?")


def _amounts(text: str) -> list[int]:
    return [int(m.group(1).replace(",", "")) * 100 + int(m.group(2) or 0) for m in _AMOUNT.finditer(text)]


def _ledger_figures(session: Session, accounts: Sequence[Account]) -> set[int]:
    """Every figure the ledger holds for these accounts: balances, disputed portions, plan amounts."""
    ids = [a.id for a in accounts]
    figures = {a.balance_cents for a in accounts}
    if ids:
        figures |= set(session.scalars(select(Dispute.disputed_cents).where(Dispute.account_id.in_(ids))))
        plans = session.scalars(select(Plan).where(Plan.account_id.in_(ids))).all()
        figures |= {p.total_cents for p in plans} | {p.fee_cents for p in plans}
        figures |= {i.amount_cents for p in plans for i in p.installments}
    return figures


def check_initiated(session: Session, message: ScheduledMessage, now: datetime | None = None) -> Verdict:
    """A message the bot starts (reminder, notice, campaign)."""
    now = now or datetime.now(timezone.utc)
    account = session.get(Account, message.account_id) if message.account_id else None
    debtor = session.get(Debtor, account.debtor_id) if account else None
    rule_ids: list[str] = []
    reasons: list[str] = []

    suppressed = contact_preferences.suppression(session, message.channel, message.address)
    if suppressed:
        rule_ids.append(suppressed)
        reasons.append("address opted out" if suppressed == "OPT-3" else "address reached the wrong person")
    if account is not None:
        held = holds.hold_rule(session, account)
        # CEASE-1..4: only a termination or remedy notice may go to a ceased, represented, bankrupt or deceased
        # account; a dispute or hardship pause holds payment asks only.
        if held and (held.startswith("CEASE") or holds.is_payment_ask(message.text)) \
                and message.kind not in ("cease_confirmation", "dispute_verification"):
            rule_ids.append(held)
            reasons.append(f"account on hold ({held})")
    if message.kind in CONTENT_NEUTRAL_KINDS and (
            _DEBT_CONTENT.search(message.text) or (account is not None and account.creditor.lower() in
                                                   message.text.lower())):
        rule_ids.append("DISC-3")
        reasons.append("a content-neutral first message mentions a debt, an amount or the creditor")
    content_rules, content_reasons = _content_rules(session, message.text, [account] if account else [])
    rule_ids += [r for r in content_rules if r not in rule_ids]
    reasons += content_reasons
    if message.channel == "sms" and not _id5_eligible(session, message.address, now):
        rule_ids.append("ID-5")
        reasons.append("no text from this number, consent or reassigned-number check within 60 days")
    if rule_ids:
        return Verdict(False, message.text, tuple(rule_ids), reasons=tuple(reasons))

    zones = contact_window.candidate_zones(debtor.timezone if debtor else None,
                                           message.address if message.channel == "sms" else None,
                                           debtor.zip if debtor else None)
    preference = session.scalar(select(ContactPreference).where(
        ContactPreference.channel == message.channel, ContactPreference.address == message.address))
    inconvenient = _inconvenient(preference)
    if not contact_window.allowed_now(now, zones, inconvenient):
        when = contact_window.next_allowed(now, zones, inconvenient)
        return Verdict(False, message.text, ("TIME-1",), defer_until=when, reasons=("outside 08:00-20:59 local",))
    if message.channel == "sms" and account is not None:
        sent = session.scalars(select(ScheduledMessage.sent_at).where(
            ScheduledMessage.account_id == account.id, ScheduledMessage.channel == "sms",
            ScheduledMessage.status == "sent")).all()
        cap = frequency.check_sms_cap([s for s in sent if s], now, zones[0], account.state, _contact_rules())
        if not cap.allowed:
            defer = contact_window.next_allowed(cap.next_allowed, zones, inconvenient) if cap.next_allowed else None
            return Verdict(False, message.text, ("FREQ-1",), defer_until=defer, reasons=(cap.reason,))

    if message.kind in CONTENT_NEUTRAL_KINDS:
        # DISC-3: whoever holds the phone may not be the debtor; a first contact says nothing about a debt.
        text = message.text
    else:
        text = tone.with_debt_collector_notice(message.text) if account is not None else message.text  # DISC-2
    if message.channel == "sms":
        text = tone.with_opt_out_line(text)  # OPT-1
    return Verdict(True, text)


def _inconvenient(preference: ContactPreference | None) -> list[contact_window.InconvenientTime]:
    """TIME-1: times the consumer marked inconvenient, stored as {"weekday", "start": "HH:MM", "end", "zone"}."""
    if preference is None or not preference.inconvenient_times:
        return []
    return [
        contact_window.InconvenientTime(
            weekday=entry.get("weekday"), start=time.fromisoformat(entry["start"]),
            end=time.fromisoformat(entry["end"]), zone=entry.get("zone"),
        )
        for entry in preference.inconvenient_times
    ]


def _id5_eligible(session: Session, phone: str, now: datetime) -> bool:
    """ID-5: texted us from it, a reassigned-number check, or consent, within 60 days (consent: on file)."""
    preference = session.scalar(select(ContactPreference).where(
        ContactPreference.channel == "sms", ContactPreference.address == phone))
    if preference is None:
        return False
    recent = [t for t in (preference.last_inbound_at, preference.reassigned_check_at) if t is not None]
    return preference.consent_at is not None or any(now - t <= ID5_WINDOW for t in recent)
