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
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from bot import contact_preferences, language, segments, wording
from bot.compliance import (
    amounts,
    contact_window,
    esign,
    frequency,
    holds,
    neutral,
    payment_channels,
    portfolio_names,
    redaction,
    residence,
    tone,
)
from bot.db.models import (
    HANDED_OVER,
    Account,
    ContactPreference,
    Conversation,
    Debtor,
    Dispute,
    Message,
    Plan,
    ScheduledMessage,
)

# DISC-3: messages sent before anyone is verified convey nothing about a debt, so they carry no DISC-2 notice and
# must not mention a debt, an amount or a creditor.
CONTENT_NEUTRAL_KINDS = frozenset({"first_contact", "campaign"})  # campaign: bot/campaigns.py
SAFE_REPLY = wording.say("safe_reply")  # DISC-3: said to anyone; the English (each language: bot/wording/)
ID5_WINDOW = timedelta(days=60)
CAPPED_CHANNELS = ("sms", "email")  # FREQ-1: each channel counted on its own
# FREQ-1 guards against unsolicited messages (comment 14(a)-1.i); what the consumer asked for in the chat (a copy of
# it by email) is neither held by the cap nor counted in it.
REQUESTED_KINDS = frozenset({"transcript_copy"})


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    text: str
    rule_ids: tuple[str, ...] = ()
    defer_until: datetime | None = None
    reasons: tuple[str, ...] = field(default_factory=tuple)
    reroute: tuple[str, str] | None = None  # (channel, address) it must go by instead (EMAIL-1: by post)


def _contact_rules(session: Session) -> frequency.ContactRules:
    return frequency.active_contact_rules(session)


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


class _Unread:
    """`check_reply`'s `preference` when the caller has not read it."""


UNREAD = _Unread()


def reply_preference(session: Session, conversation: Conversation | None) -> ContactPreference | None:
    """The address's preference that OPT-3, ID-4 and TIME-2 read for a reply (None: the address has none)."""
    return contact_preferences.find(session, conversation.channel, conversation.external_id) \
        if conversation is not None else None


def check_reply(session: Session, conversation: Conversation | None, text: str, sender_role: str = "bot",
                accounts: Sequence[Account] | None = None, *, now: datetime | None = None,
                buttons: Sequence[dict[str, Any]] = (), sender_name: str | None = None,
                kind: str = "reply", preference: ContactPreference | None | _Unread = UNREAD) -> Verdict:
    """A reply inside a session the consumer started (TIME-2: any hour), from the bot or an agent. `accounts` and
    `preference`: `accounts_of(session, conversation)` and `reply_preference(session, conversation)` when the caller
    checks several replies of one turn (nothing a turn's replies do changes either). Everything the debtor would
    read is checked: the text, an agent's name said with it, and the titles of buttons."""
    now = now or datetime.now(timezone.utc)
    if accounts is None:
        accounts = accounts_of(session, conversation)
    rule_ids, reasons = _content_rules(session, _readable(text, buttons, sender_name), accounts)
    if sender_role == "agent":
        _person_rules(session, conversation, text, accounts, rule_ids, reasons, sender_name)
    # The address's preference, read once for OPT-3, ID-4 and TIME-2 (most addresses have none: one query).
    if isinstance(preference, _Unread):
        preference = reply_preference(session, conversation)
    if preference is not None and kind != OPT_OUT_CONFIRMATION:  # OPT-3: the confirmation itself always goes
        suppressed = _reply_suppression(session, conversation, preference)
        if suppressed:
            rule_ids.append(suppressed)
            reasons.append("the address reached the wrong person and has not written since" if suppressed == "ID-4"
                           else "the address opted out and was answered once already")
    if rule_ids:
        return Verdict(False, text, tuple(dict.fromkeys(rule_ids)), reasons=tuple(reasons))
    if conversation is None:
        return Verdict(True, text)
    if sender_role == "agent" and conversation.channel in ("sms", "email") and conversation.verified_at is not None:
        # DISC-2: every text or email a person sends says it too, in the conversation's language
        text = tone.with_debt_collector_notice(text, language.current(session, conversation))
    return _inconvenient_time(session, conversation, preference, text, now)


def _readable(text: str, buttons: Sequence[dict[str, Any]] = (), sender_name: str | None = None) -> str:
    """All the words a debtor reads with a message, for the lint: "Name: text" and each button's title."""
    titles = [str(b.get("title") or "") for b in buttons or ()]
    return "\n".join([f"{sender_name}: {text}" if sender_name else text, *[t for t in titles if t]])


def _person_rules(session: Session, conversation: Conversation | None, text: str, accounts: Sequence[Account],
                  rule_ids: list[str], reasons: list[str], sender_name: str | None = None) -> None:
    """The rules a human collector's free text needs on top of the bot's (the bot's words come from reviewed
    templates and the ledger)."""
    # PCI-1 / PCI-2: card digits or an SSN typed into a reply are never sent (the outbox stores them redacted).
    found = redaction.redact(text).kinds
    if found:
        rule_ids.append("PCI-2")
        reasons.append("card or SSN digits in the reply: " + ", ".join(found))
    # PCI-1 / PCI-2: nobody is asked for card details or a full SSN in a conversation, and nobody is sent anywhere
    # but our own pay link to pay.
    asked = payment_channels.card_or_ssn_requests(text)
    if asked:
        rule_ids.append("PCI-1")
        reasons.append("asks for card details or a full SSN in the conversation (only the pay link takes a card): "
                       + ", ".join(dict.fromkeys(asked)))
    elsewhere = payment_channels.elsewhere_to_pay(text)
    if elsewhere:
        rule_ids.append("PCI-1")
        reasons.append("points somewhere other than our pay link to pay: " + ", ".join(dict.fromkeys(elsewhere)))
    # TONE-2: an agent's figures must be the ledger's; a typed-in amount is not sent.
    typed = [a for a in amounts.amounts_in(text) if a not in _ledger_figures(session, accounts)]
    if typed:
        rule_ids.append("TONE-2")
        reasons.append("amount not in the ledger: " + ", ".join(f"{c / 100:.2f}" for c in typed))
    # TONE-2 and the plan policy: no discount above what the account's creditor allows (the policy the bot's own
    # settlement offer reads: bot/segments.settlement_offer_for).
    offered = amounts.percents_off(text)
    if offered and not accounts:  # nobody known yet: there is no policy to hold a discount to (and ID-1)
        rule_ids.append("TONE-2")
        reasons.append("a discount offered before the account is known")
    for account in accounts if offered else ():
        offer = segments.settlement_offer_for(session, account)
        most = offer.max_discount_percent if offer is not None else 0
        if any(percent > most for percent in offered):
            rule_ids.append("TONE-2")
            reasons.append(f"a discount above the creditor's policy for {account.account_ref}: at most {most}% off")
    # ID-1 / DISC-3: before the debtor is verified a person says nothing about a debt either, and names no creditor,
    # account reference or debtor of the portfolio (ID-2: nor confirms one the visitor gave).
    if conversation is not None and (conversation.verified_at is None or conversation.debtor_id is None):
        if mentions_debt(session, conversation, text):
            rule_ids.append("ID-1")
            reasons.append("mentions a debt, an amount or a creditor before the debtor is verified (DISC-3)")
        own = frozenset(w.lower() for w in (sender_name or "").split())
        named = portfolio_names.identifying_words(session, text, own)
        if named:
            rule_ids += ["ID-1", "ID-2"]
            reasons.append("names a creditor, an account reference or a debtor before the debtor is verified: "
                           + ", ".join(named))
    talk: list[str] | None = None  # read once, for the first held account that needs it
    for account in accounts:
        rule = holds.hold_rule(session, account)
        if rule is None:
            continue
        # CEASE-1..4: on a ceased, represented, bankrupt or deceased account a person may close or hand over, not
        # talk about the debt (any mention, not only a payment ask).
        if rule.startswith("CEASE") and neutral.debt_content(text):
            rule_ids.append(rule)
            reasons.append(f"talks about the debt on an account on hold ({account.status})")
        # DSP-2 / DSP-3 / VUL-2: on a held account a person asks for no payment in any words, names no payment
        # figure and sets no deadline (a closed account has nothing to ask for; its receipts may name figures).
        if rule == "ACCOUNT-CLOSED":
            continue
        talk = holds.payment_talk(text) if talk is None else talk
        if talk:
            rule_ids.append(rule)
            reasons.append(f"asks for a payment or names a figure on an account on hold ({rule}): "
                           + ", ".join(dict.fromkeys(talk)))


def mentions_debt(session: Session, conversation: Conversation | None, text: str) -> bool:
    """DISC-3: debt words, an amount, or the name of a creditor of the accounts this address may be about (the one
    detector of bot/compliance/neutral.py)."""
    return bool(neutral.debt_content(text, [a.creditor for a in _accounts_reachable(session, conversation)]))


def _accounts_reachable(session: Session, conversation: Conversation | None) -> list[Account]:
    """The accounts a message on this conversation could be about: the verified debtor's, or the accounts of the
    texting number (before verification)."""
    if conversation is None:
        return []
    if conversation.debtor_id is not None:
        return accounts_of(session, conversation)
    if conversation.channel == "sms":
        return list(session.scalars(select(Account).join(Debtor).where(Debtor.phone == conversation.external_id)))
    return []


def _reply_suppression(session: Session, conversation: Conversation, preference: ContactPreference) -> str | None:
    """ID-4: an address that reached the wrong person gets its one confirmation, then nothing until the consumer
    writes again (then it is a reply in their session). OPT-3: after an opt-out, a consumer who writes in is
    answered once; nothing more goes until START (the confirmation itself is not that one reply)."""
    if preference.wrong_party_at is not None:
        last_in = session.scalar(select(func.max(Message.created_at)).where(
            Message.conversation_id == conversation.id, Message.direction == "in"))
        confirmed = session.scalar(select(func.count(Message.id)).where(
            Message.conversation_id == conversation.id, Message.direction == "out", Message.status == "sent",
            Message.created_at >= preference.wrong_party_at))
        # The turn that reported it gets its one confirmation; after that, only a reply once they write again.
        if (last_in is None or last_in <= preference.wrong_party_at) and confirmed:
            return "ID-4"
    if preference.opted_out_at is not None:
        wrote_since = session.scalar(select(func.max(Message.created_at)).where(
            Message.conversation_id == conversation.id, Message.direction == "in",
            Message.created_at > preference.opted_out_at))
        answered = session.scalars(select(Message.payload).where(
            Message.conversation_id == conversation.id, Message.direction == "out", Message.status == "sent",
            Message.created_at >= preference.opted_out_at)).all()
        if wrote_since is None or any((p or {}).get("kind") != OPT_OUT_CONFIRMATION for p in answered):
            return "OPT-3"
    return None


OPT_OUT_CONFIRMATION = "opt_out_confirmation"  # the one message STOP gets (OPT-3); not the "reply once"
OPT_OUT_ANSWER = "opted_out_answer"  # OPT-3's "reply once": the one answer to a consumer who writes in after STOP
# OPT-3: messages that carry nothing else (no link, no balance, no email footer): the kind marks them, not their words.
OPT_OUT_ONLY = frozenset({OPT_OUT_CONFIRMATION, OPT_OUT_ANSWER})
# TIME-2: said with the one reply given at a time the consumer marked inconvenient, in the conversation's language
# (bot/wording: inconvenient_time_question); this name holds the English.
INCONVENIENT_TIME_QUESTION = wording.say("inconvenient_time_question")


def _inconvenient_time(session: Session, conversation: Conversation, preference: ContactPreference | None,
                       text: str, now: datetime) -> Verdict:
    """TIME-2: at a time the consumer marked inconvenient, a session they start gets one answer (one turn), with
    the question whether the designation still holds; the rest waits until the inconvenient time is over."""
    inconvenient = _inconvenient(preference)
    if not inconvenient:
        return Verdict(True, text)
    zones = _zones(session, conversation.channel, conversation.external_id, conversation.debtor_id)
    if contact_window.allowed_now(now, zones, inconvenient, window=False):
        return Verdict(True, text)
    last_in = session.scalar(select(func.max(Message.id)).where(
        Message.conversation_id == conversation.id, Message.direction == "in"))
    since = conversation.session_started_at or now
    marked = _marked_at(preference)
    if marked is not None and marked > since:
        since = marked  # marked in this session: the one answer is counted from then (it confirms the marking)
    answered = session.scalar(select(func.count(Message.id)).where(
        Message.conversation_id == conversation.id, Message.direction == "out", Message.status == "sent",
        Message.created_at >= since, Message.id < (last_in or 0)))
    if not answered:
        question = wording.say("inconvenient_time_question", language.current(session, conversation))
        return Verdict(True, f"{text}\n\n{question}" if question not in text else text,
                       reasons=("TIME-2: one answer at an inconvenient time",))
    until = contact_window.next_allowed(now, zones, inconvenient, window=False)
    return Verdict(False, text, ("TIME-2",), defer_until=until,
                   reasons=("already answered once at a time the consumer marked inconvenient",))


_YES = re.compile(r"\s*(yes|yeah|yep|y|ok|okay|sure|it'?s fine|fine|s[ií]|claro|est[aá] bien)[\s.!]*",
                  re.IGNORECASE)


def revokes_inconvenient_time(session: Session, conversation: Conversation, inbound_id: int, text: str) -> bool:
    """TIME-2: a YES right after we asked whether the inconvenient time still holds lifts that designation (and
    audits it); anything else, or a YES to something else, changes nothing."""
    if not _YES.fullmatch(text):
        return False
    last = session.scalar(
        select(Message.text).where(Message.conversation_id == conversation.id, Message.direction == "out",
                                   Message.id < inbound_id, Message.status == "sent")
        .order_by(Message.id.desc()).limit(1))
    if last is None or not any(question in last for question in wording.every_language("inconvenient_time_question")):
        return False
    contact_preferences.revoke_inconvenient_times(session, conversation.channel, conversation.external_id,
                                                  conversation_id=conversation.id)
    return True


def _zones(session: Session, channel: str, address: str, debtor_id: str | None) -> tuple[str, ...]:
    debtor = session.get(Debtor, debtor_id) if debtor_id else None
    return contact_window.candidate_zones(debtor.timezone if debtor else None, address if channel == "sms" else None,
                                          debtor.zip if debtor else None)


def conversation_zones(session: Session, conversation: Conversation) -> tuple[str, ...]:
    """TIME-1: every zone the person in this conversation may be in (their debtor's zone and ZIP once known, the
    number's area code for a text)."""
    return _zones(session, conversation.channel, conversation.external_id, conversation.debtor_id)


def inconvenient_times(preference: ContactPreference | None) -> list[contact_window.InconvenientTime]:
    """TIME-1: the times this address's consumer marked inconvenient."""
    return _inconvenient(preference)


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


def check_initiated(session: Session, message: ScheduledMessage, now: datetime | None = None, *,
                    sender_role: str = "bot", conversation: Conversation | None = None,
                    buttons: Sequence[dict[str, Any]] = (), sender_name: str | None = None) -> Verdict:
    """A message that starts a contact (reminder, notice, campaign, receipt or agent reply outside a live session)."""
    now = now or datetime.now(timezone.utc)
    account = session.get(Account, message.account_id) if message.account_id else None
    debtor = session.get(Debtor, account.debtor_id) if account else None
    rule_ids: list[str] = []
    reasons: list[str] = []

    # One read of the address's preferences serves the suppression here and the inconvenient times below.
    preference = contact_preferences.find(session, message.channel, message.address)
    suppressed = contact_preferences.suppression_of(preference)
    if suppressed:
        rule_ids.append(suppressed)
        reasons.append({"OPT-3": "address opted out", "EMAIL-1": "the address bounced: a mail server refused it"}
                       .get(suppressed, "address reached the wrong person"))
    if account is not None:
        held = holds.hold_rule(session, account)
        # CEASE-1..4: only a termination or remedy notice may go to a ceased, represented, bankrupt or deceased
        # account; a dispute or hardship pause holds payment asks only.
        if held and (held.startswith("CEASE") or holds.is_payment_ask(message.text)) \
                and message.kind not in ("cease_confirmation", "dispute_verification"):
            rule_ids.append(held)
            reasons.append(f"account on hold ({held})")
    if message.kind in CONTENT_NEUTRAL_KINDS and neutral.debt_content(message.text,
                                                                      [account.creditor] if account else []):
        rule_ids.append("DISC-3")
        reasons.append("a content-neutral first message mentions a debt, an amount or the creditor")
    accounts = [account] if account else []
    content_rules, content_reasons = _content_rules(session, _readable(message.text, buttons, sender_name), accounts)
    rule_ids += [r for r in content_rules if r not in rule_ids]
    reasons += content_reasons
    if sender_role == "agent":
        _person_rules(session, conversation, message.text, accounts, rule_ids, reasons, sender_name)
    if message.channel == "email":
        work = _work_address_refusal(session, message.address, debtor)
        if work:
            rule_ids.append("EMAIL-2")
            reasons.append(work)
    if message.channel == "sms" and not _id5_eligible(preference, now):
        rule_ids.append("ID-5")
        reasons.append("no text from this number, consent or reassigned-number check within 60 days")
    if rule_ids:
        return Verdict(False, message.text, tuple(dict.fromkeys(rule_ids)), reasons=tuple(reasons))
    route = esign.gate(session, message, now)  # EMAIL-1: a required notice sent electronically needs consent
    if route is not None:
        return Verdict(False, message.text, ("EMAIL-1",), defer_until=route.until, reroute=route.to,
                       reasons=(route.reason,))

    zones = contact_window.candidate_zones(debtor.timezone if debtor else None,
                                           message.address if message.channel == "sms" else None,
                                           debtor.zip if debtor else None)
    inconvenient = _inconvenient(preference)
    if not contact_window.allowed_now(now, zones, inconvenient):
        when = contact_window.next_allowed(now, zones, inconvenient)
        return Verdict(False, message.text, ("TIME-1",), defer_until=when, reasons=("outside 08:00-20:59 local",))
    if message.channel in CAPPED_CHANNELS and message.kind not in REQUESTED_KINDS:  # FREQ-1 (EMAIL-3 for email)
        cap = frequency.check_sms_cap(_texts_to_person(session, message, debtor), now, zones[0],
                                      residence_state(debtor, account), _contact_rules(session))
        if not cap.allowed:
            defer = contact_window.next_allowed(cap.next_allowed, zones, inconvenient) if cap.next_allowed else None
            return Verdict(False, message.text, ("FREQ-1",), defer_until=defer, reasons=(cap.reason,))

    speaks = language.for_contact(session, message.channel, message.address, debtor.id if debtor else None)
    if message.kind in CONTENT_NEUTRAL_KINDS:
        # DISC-3: whoever holds the phone may not be the debtor; a first contact says nothing about a debt.
        text = message.text
    else:
        text = tone.with_debt_collector_notice(message.text, speaks) if account is not None else message.text  # DISC-2
    if message.channel in ("sms", "email"):
        text = tone.with_opt_out_line(text, speaks)  # OPT-1 (an email also carries its opt-out link: bot/mail, EMAIL-2)
    return Verdict(True, text)


def residence_state(debtor: Debtor | None, account: Account | None) -> str | None:
    """FREQ-1: the state whose overlay protects the person is where they live (their ZIP); the account's state
    only when the ZIP says nothing."""
    return (residence.state_for_zip(debtor.zip) if debtor else None) or (account.state if account else None)


def _texts_to_person(session: Session, message: ScheduledMessage, debtor: Debtor | None) -> list[datetime]:
    """FREQ-1: the bot-initiated texts (or emails, for an email) already sent to this person, on any of their
    accounts, or to this address (one person with three accounts is one person; a shared number is one phone)."""
    mine = ScheduledMessage.address == message.address
    if debtor is not None:
        mine = or_(mine, ScheduledMessage.account_id.in_(select(Account.id).where(Account.debtor_id == debtor.id)))
    return [t for t in session.scalars(select(ScheduledMessage.sent_at).where(
        ScheduledMessage.channel == message.channel, ScheduledMessage.status.in_(HANDED_OVER),
        ScheduledMessage.id != message.id, ScheduledMessage.kind.not_in(REQUESTED_KINDS),
        mine)).all() if t]


def _marked_at(preference: ContactPreference | None) -> datetime | None:
    """TIME-2: when the newest inconvenient time was marked (None for those stored without it, by an operator)."""
    marked = [datetime.fromisoformat(entry["marked_at"]) for entry in (preference.inconvenient_times or [])
              if entry.get("marked_at")] if preference is not None else []
    return max(marked) if marked else None


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


def _work_address_refusal(session: Session, address: str, debtor: Debtor | None) -> str | None:
    """EMAIL-2, 1006.22(f)(3): no email to an address the employer provided unless the debtor wrote to us from it or
    agreed to it (its email preference: last_inbound_at, consent_at); none where the employer forbids it
    (1006.6(b)(3)). The facts are the debtor's whose email on file this is (the import sets them)."""
    address = address.strip().lower()
    owners = [debtor] if debtor is not None and (debtor.email or "").strip().lower() == address else []
    if not owners:
        owners = list(session.scalars(select(Debtor).where(func.lower(Debtor.email) == address)))
    if any(d.email_employer_forbids for d in owners):
        return "the employer forbids email at this work address"
    if not any(d.email_work for d in owners):
        return None
    preference = contact_preferences.find(session, "email", address)
    if preference is not None and (preference.last_inbound_at is not None or preference.consent_at is not None):
        return None
    return "a work address the debtor has not written from or agreed to"


def _id5_eligible(preference: ContactPreference | None, now: datetime) -> bool:
    """ID-5: texted us from the number, a reassigned-number check, or consent, within 60 days (consent: on file);
    `preference` is the number's preferences row."""
    if preference is None:
        return False
    recent = [t for t in (preference.last_inbound_at, preference.reassigned_check_at) if t is not None]
    return preference.consent_at is not None or any(now - t <= ID5_WINDOW for t in recent)
