"""Who may be contacted where. An opt-out covers one channel address for every debt (OPT-3); a wrong-party
report suppresses the address for every debt (ID-4); START re-enables only what STOP turned off."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot import audit
from bot.compliance import redaction
from bot.db.models import ContactPreference, Conversation, Debtor, Message, ScheduledMessage


def find(session: Session, channel: str, address: str) -> ContactPreference | None:
    """The address's preferences row, or None when it has none (nothing is made)."""
    return session.scalar(select(ContactPreference).where(ContactPreference.channel == channel,
                                                          ContactPreference.address == address))


def preference_for(session: Session, channel: str, address: str) -> ContactPreference:
    """The address's preferences row, made (empty) when it has none yet."""
    preference = find(session, channel, address)
    if preference is None:
        preference = ContactPreference(channel=channel, address=address)
        session.add(preference)
        session.flush()
    return preference


def _cancel_pending(session: Session, channel: str, address: str, rule_id: str, reason: str) -> int:
    pending = session.scalars(select(ScheduledMessage).where(
        ScheduledMessage.channel == channel, ScheduledMessage.address == address,
        ScheduledMessage.status == "pending")).all()
    for message in pending:
        message.status, message.rule_ids, message.reason = "cancelled", [rule_id], reason
    return len(pending)


def opt_out(session: Session, channel: str, address: str, *, via: str, conversation_id: str | None = None,
            now: datetime | None = None) -> None:
    """OPT-3: suppress this channel address across all debts; pending bot-initiated messages are cancelled."""
    now = now or datetime.now(timezone.utc)
    preference = preference_for(session, channel, address)
    preference.opted_out_at, preference.opted_out_via, preference.opted_in_at = now, via, None
    cancelled = _cancel_pending(session, channel, address, "OPT-3", "opted out")
    audit.record(session, "opted_out", rule_id="OPT-3", conversation_id=conversation_id, actor="debtor", at=now,
                 detail={"channel": channel, "via": via, "cancelled_messages": cancelled})


def opt_in(session: Session, channel: str, address: str, *, conversation_id: str | None = None,
           now: datetime | None = None) -> None:
    """OPT-3: only a consumer-sent START re-enables the channel."""
    preference = preference_for(session, channel, address)
    preference.opted_out_at, preference.opted_in_at = None, now or datetime.now(timezone.utc)
    audit.record(session, "opted_in", rule_id="OPT-3", conversation_id=conversation_id, actor="debtor",
                 detail={"channel": channel})


class OptInRefused(ValueError):
    """Why an email opt-out may not be lifted on this evidence (the console says it, a 400)."""


@dataclass(frozen=True)
class EmailOptOut:
    """A verified conversation's debtor whose email is opted out, and the debtor's messages in it that can be the
    evidence of their request to be emailed again (see `reenable_email_on_request`)."""

    opted_out_at: datetime
    opted_out_via: str | None
    requests: list[Message]


def _opted_out_email(session: Session, conversation: Conversation) -> tuple[str, ContactPreference] | None:
    debtor = session.get(Debtor, conversation.debtor_id) if conversation.debtor_id else None
    address = (debtor.email or "").strip().lower() if debtor is not None else ""
    preference = find(session, "email", address) if address else None
    if preference is None or preference.opted_out_at is None:
        return None
    return address, preference


def email_opt_out(session: Session, conversation_id: str) -> EmailOptOut | None:
    """The conversation's debtor's email opt-out, if there is one, with the messages that may evidence a request."""
    conversation = session.get(Conversation, conversation_id)
    found = _opted_out_email(session, conversation) if conversation is not None else None
    if found is None:
        return None
    _, preference = found
    return EmailOptOut(preference.opted_out_at, preference.opted_out_via,
                       [m for m in session.scalars(select(Message).where(
                           Message.conversation_id == conversation_id, Message.direction == "in",
                           Message.sender_role == "debtor").order_by(Message.id))
                        if _evidence_problem(conversation, m, preference) is None])


def _evidence_problem(conversation: Conversation, message: Message, preference: ContactPreference) -> str | None:
    """OPT-3 re-enables a channel only on the consumer's own request. By email it is refused (a From line is easy
    to forge), so the request must be the debtor's message in a conversation where they proved who they are (two
    factors, ID-2) on another channel, written after they verified and after the opt-out."""
    if conversation.channel == "email":
        return "A request by email cannot lift an email opt-out: anyone can forge a From line (OPT-3)."
    if conversation.verified_at is None or conversation.debtor_id is None:
        return "The debtor did not verify who they are in this conversation, so it cannot show their request."
    if message.direction != "in" or message.sender_role != "debtor" or message.conversation_id != conversation.id:
        return "Pick a message the debtor wrote in this conversation."
    if message.created_at < conversation.verified_at or message.created_at < preference.opted_out_at:
        return "Pick a message the debtor wrote after verifying and after opting out."
    return None


def reenable_email_on_request(session: Session, conversation_id: str, message_id: int, *, actor: str, note: str,
                              now: datetime | None = None) -> None:
    """OPT-3, EMAIL-2: lift an email opt-out because the debtor asked for email again, by a verified channel. The
    staff member records who they are, the debtor's message that is the request and a note; the audit event is
    chained into the conversation's transcript (REC-1). OptInRefused when the evidence does not hold."""
    now = now or datetime.now(timezone.utc)
    conversation = session.get(Conversation, conversation_id)
    found = _opted_out_email(session, conversation) if conversation is not None else None
    if found is None:
        raise OptInRefused("This debtor's email is not opted out.")
    address, preference = found
    message = session.get(Message, message_id)
    problem = "Pick the debtor's message that asks for email again." if message is None else \
        _evidence_problem(conversation, message, preference)
    if problem:
        raise OptInRefused(problem)
    said = note.strip()
    if not said:
        raise OptInRefused("Write what the debtor asked for, in a few words.")
    if len(said) > 1000:
        raise OptInRefused("The note is at most 1000 characters.")
    opted_out = preference.opted_out_at
    preference.opted_out_at, preference.opted_in_at = None, now
    audit.record(session, "opted_in", rule_id="OPT-3", conversation_id=conversation_id, actor=actor, at=now,
                 account_id=conversation.account_id,
                 detail={"channel": "email", "via": "staff_on_verified_request", "evidence_message_id": message_id,
                         "evidence_at": message.created_at.isoformat(), "verified_at":
                             conversation.verified_at.isoformat(), "opted_out_at": opted_out.isoformat(),
                         "note": redaction.redact(said).text, "address_hash": _address_hash(address)})


def _address_hash(address: str) -> str:
    """Which address, without the address itself in the audit detail (the preference row holds it)."""
    return hashlib.sha256(address.encode()).hexdigest()[:16]


def mark_wrong_party(session: Session, channel: str, address: str, *, conversation_id: str | None = None,
                     now: datetime | None = None) -> None:
    """ID-4: the address reached someone else; nothing about any debt goes there again."""
    preference = preference_for(session, channel, address)
    preference.wrong_party_at = now or datetime.now(timezone.utc)
    cancelled = _cancel_pending(session, channel, address, "ID-4", "wrong party")
    audit.record(session, "wrong_party_marked", rule_id="ID-4", conversation_id=conversation_id,
                 detail={"channel": channel, "cancelled_messages": cancelled})


def mark_bounced(session: Session, channel: str, address: str, *, reason: str, now: datetime | None = None) -> None:
    """EMAIL-1: a mail server refused the address for good (5xx): nothing more is sent to it on that channel;
    what was queued for it is cancelled. Another channel (the phone) is not touched."""
    preference = preference_for(session, channel, address)
    preference.bounced_at = now or datetime.now(timezone.utc)
    cancelled = _cancel_pending(session, channel, address, "EMAIL-1", "address bounced")
    audit.record(session, "address_bounced", rule_id="EMAIL-1", at=now,
                 detail={"channel": channel, "reason": reason[:300], "cancelled_messages": cancelled})


def record_inbound(session: Session, channel: str, address: str, now: datetime | None = None) -> None:
    """ID-5: a consumer texting from a number is one of the grounds for texting it back within 60 days."""
    preference_for(session, channel, address).last_inbound_at = now or datetime.now(timezone.utc)


def suppression(session: Session, channel: str, address: str) -> str | None:
    """The rule that stops bot-initiated messages to this address, if any."""
    return suppression_of(find(session, channel, address))


def suppressions(session: Session, channel: str, addresses: Iterable[str]) -> dict[str, str | None]:
    """suppression for many addresses of one channel at once (one query per few thousand): segments ask."""
    wanted = sorted(set(addresses))
    found: dict[str, str | None] = dict.fromkeys(wanted)
    for start in range(0, len(wanted), 5000):
        for preference in session.scalars(select(ContactPreference).where(
                ContactPreference.channel == channel, ContactPreference.address.in_(wanted[start:start + 5000]))):
            found[preference.address] = suppression_of(preference)
    return found


def suppression_of(preference: ContactPreference | None) -> str | None:
    """suppression for a preferences row already read (None: no row, nothing suppressed)."""
    if preference is None:
        return None
    if preference.wrong_party_at is not None:
        return "ID-4"
    if preference.opted_out_at is not None:
        return "OPT-3"
    if preference.bounced_at is not None:
        return "EMAIL-1"
    return None


def revoke_inconvenient_times(session: Session, channel: str, address: str, *, conversation_id: str | None = None,
                              now: datetime | None = None) -> None:
    """TIME-2: the consumer said a time they had marked inconvenient is fine after all."""
    preference = preference_for(session, channel, address)
    revoked, preference.inconvenient_times = preference.inconvenient_times, None
    audit.record(session, "inconvenient_time_revoked", rule_id="TIME-2", conversation_id=conversation_id,
                 actor="debtor", at=now, detail={"channel": channel, "revoked": revoked})


def mark_inconvenient_times(session: Session, channel: str, address: str, entries: list[dict[str, Any]], *,
                            conversation_id: str | None = None, now: datetime | None = None) -> None:
    """TIME-1: the consumer marked these times inconvenient (the outbound gate's form: weekday, start, end, zone);
    added to those already marked, each once."""
    preference = preference_for(session, channel, address)
    kept = list(preference.inconvenient_times or [])
    def same(a: dict[str, Any], b: dict[str, Any]) -> bool:
        return all(a.get(k) == b.get(k) for k in ("weekday", "start", "end", "zone"))
    kept = [old for old in kept if not any(same(old, new) for new in entries)] + list(entries)
    preference.inconvenient_times = kept  # a new list: the JSON column sees the change
    audit.record(session, "inconvenient_time_marked", rule_id="TIME-1", conversation_id=conversation_id,
                 actor="debtor", at=now, detail={"channel": channel, "times": entries})
