"""Accounts as the debtor hears about them. Every figure comes from the ledger (TONE-2)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timezone

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot import audit, language, wording
from bot.compliance import holds, validation_notice
from bot.compliance.disclosures import debt_collector_disclosure, from_debt_collector
from bot.db.models import Account, Conversation
from bot.wording.formats import money


class NotVerified(Exception):
    """Debt information was asked for on a conversation that has not passed verification (ID-1)."""


@dataclass(frozen=True)
class AccountSummary:
    account_ref_masked: str
    creditor: str
    balance: str
    status: str


def mask_reference(account_ref: str) -> str:
    """Only the last four characters of a reference are ever shown."""
    return f"ending {account_ref[-4:]}"


def verified_accounts(session: Session, conversation_id: str) -> list[Account]:
    conversation = session.get(Conversation, conversation_id)
    if conversation is None or conversation.verified_at is None or conversation.debtor_id is None:
        raise NotVerified(conversation_id)  # ID-1: no debt information before verification
    accounts = list(
        session.scalars(
            select(Account).where(Account.debtor_id == conversation.debtor_id).order_by(Account.account_ref)
        )
    )
    # The account the debtor named comes first.
    return sorted(accounts, key=lambda a: a.id != conversation.account_id)


def opening_disclosure(session: Session, conversation_id: str, now: datetime | None = None) -> list[str]:
    """The disclosure owed before the first debt information of a session, or nothing if already given.

    DISC-1: the first debt-revealing message of a conversation carries the full debt-collector disclosure.
    DISC-2: a later session (after an idle hour) says it is from a debt collector.
    DISC-5: if this chat is the first communication about the debt, the validation notice is queued."""
    now = now or datetime.now(timezone.utc)
    accounts = verified_accounts(session, conversation_id)  # ID-1: only ever for a verified debtor
    conversation = session.get(Conversation, conversation_id)
    session_start = conversation.session_started_at or conversation.started_at
    given = conversation.disclosure_given_at
    if given is not None and given >= session_start:
        return []
    conversation.disclosure_given_at = now
    for account in accounts:
        validation_notice.queue_if_first_contact(session, account, conversation_id, now)
    if given is None:
        audit.record(session, "disclosure_given", rule_id="DISC-1", conversation_id=conversation_id,
                     account_id=conversation.account_id)
        return [debt_collector_disclosure(language.current(session, conversation))]
    audit.record(session, "disclosure_given", rule_id="DISC-2", conversation_id=conversation_id,
                 account_id=conversation.account_id)
    return [from_debt_collector(language.current(session, conversation))]


def balance_lines(session: Session, accounts: list[Account], speaks: str) -> list[str]:
    """Each account's creditor, masked reference and balance from the ledger. A held account says why in plain words
    and what happens next (its hold reason ends with a way to reach a person), never a status word."""
    return _balance_lines(session, accounts, speaks)[0]


REPRESENTED = "CEASE-2"  # the hold of an account an attorney handles: its balance is the attorney's to hear


def _balance_lines(session: Session, accounts: list[Account], speaks: str) -> tuple[list[str], bool]:
    """The lines, and whether any account can be collected on (is held by no rule)."""
    lines, collectible = [], False
    for account in accounts:
        line = wording.say("balance_line", speaks, creditor=account.creditor, last4=account.account_ref[-4:],
                           amount=money(account.balance_cents, account.currency, speaks))
        rule = holds.hold_rule(session, account)
        if rule == REPRESENTED:
            # CEASE-2: once we know an attorney represents the debtor, the debt is discussed with the attorney, not
            # with the debtor (1006.6(b)(2), the stricter reading): no amount, only where to turn.
            lines.append(holds.hold_message(rule, speaks))
            continue
        lines.append(line if rule is None else f"{line} {holds.hold_message(rule, speaks)}")
        collectible = collectible or rule is None
    return lines, collectible


def balance_messages(session: Session, conversation_id: str, now: datetime | None = None) -> list[str]:
    """The balance reply: the debt-collector disclosure first if this conversation has not had it (DISC-1),
    then each account's creditor, masked reference and balance, read from the ledger; "pay now" or "payment plan"
    only when an account can be collected on (DSP-2, CEASE-*)."""
    accounts = verified_accounts(session, conversation_id)
    conversation = session.get(Conversation, conversation_id)
    messages = opening_disclosure(session, conversation_id, now)
    speaks = language.current(session, conversation)
    lines, collectible = _balance_lines(session, accounts, speaks)
    if not lines:
        lines.append(wording.say("no_balance", speaks))
    messages.append("\n".join(lines))
    if collectible or not accounts:
        messages.append(wording.say("balance_next", speaks))
    audit.record(session, "balance_disclosed", rule_id="ID-1", conversation_id=conversation_id,
                 account_id=conversation.account_id, detail={"accounts": len(accounts)})
    return messages


def _name_words(creditor: str) -> list[str]:
    """The words a debtor would call a creditor by: "Contoso Card Services" -> contoso, card, services (minus the
    ones every creditor's name shares, which name none of them)."""
    return [w for w in re.findall(r"[a-z0-9]+", creditor.casefold())
            if len(w) > 3 and w not in ("bank", "card", "cards", "services", "credit", "union", "loans", "student")]


def other_payable(session: Session, conversation_id: str) -> list[Account]:
    """The debtor's other accounts with something to pay, besides the one this conversation is about (a debtor with
    two debts chooses which one to pay, and may pay each in turn)."""
    accounts = verified_accounts(session, conversation_id)
    conversation = session.get(Conversation, conversation_id)
    current = next((a for a in accounts if a.id == conversation.account_id), accounts[0] if accounts else None)
    # DSP-2 and the other holds: a held account is never offered for payment.
    return [a for a in accounts if current is not None and a.id != current.id and a.balance_cents > 0
            and holds.hold_rule(session, a) is None]


def focus(session: Session, conversation_id: str, text: str) -> Account | None:
    """The words name another of the verified debtor's accounts (its creditor, or its last four digits): the
    conversation is about that one from now on (audited); None when they name no other account."""
    said = text.casefold()
    for account in other_payable(session, conversation_id):
        last4 = account.account_ref[-4:]
        if any(re.search(rf"\b{re.escape(w)}\b", said) for w in _name_words(account.creditor)) or \
                re.search(rf"\b{last4}\b", said):
            conversation = session.get(Conversation, conversation_id)
            conversation.account_id = account.id
            audit.record(session, "account_focused", conversation_id=conversation_id, account_id=account.id,
                         actor="debtor")
            return account
    return None
