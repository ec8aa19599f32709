"""Who may be contacted where. An opt-out covers one channel address for every debt (OPT-3); a wrong-party
report suppresses the address for every debt (ID-4); START re-enables only what STOP turned off."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot import audit
from bot.db.models import ContactPreference, ScheduledMessage


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
