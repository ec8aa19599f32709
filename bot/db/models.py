"""The app database's tables. Money is integer cents; times are timezone-aware UTC; ids are opaque."""

from __future__ import annotations

import base64
import secrets
from datetime import date, datetime, timezone
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def new_id(prefix: str) -> str:
    """Opaque, unguessable ids (100 random bits): nothing about a row can be inferred from its id. Base32 letters,
    so an id never holds a long run of decimal digits that a card-number scan could mistake for a PAN (PCI-3)."""
    return f"{prefix}_{base64.b32encode(secrets.token_bytes(15)).decode().lower()[:20]}"


class UTCDateTime(TypeDecorator):
    """Stores UTC; always hands back aware datetimes (SQLite drops the zone otherwise)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database; use timezone-aware times")
        return value.astimezone(timezone.utc)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)


class Base(DeclarativeBase):
    pass


class Debtor(Base):
    __tablename__ = "debtors"

    id: Mapped[str] = mapped_column(String(40), primary_key=True, default=lambda: new_id("dbt"))
    first_name: Mapped[str] = mapped_column(String(100))
    last_name: Mapped[str] = mapped_column(String(100))
    dob: Mapped[date] = mapped_column(Date)
    ssn_last4: Mapped[str] = mapped_column(String(4))
    zip: Mapped[str] = mapped_column(String(10))
    phone: Mapped[str | None] = mapped_column(String(20), index=True)
    email: Mapped[str | None] = mapped_column(String(254))
    timezone: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    accounts: Mapped[list[Account]] = relationship(back_populates="debtor")


class AccountStatus:
    """Account lifecycle. Only ACTIVE accounts are collectible."""

    ACTIVE = "active"
    DISPUTED = "disputed"
    CEASED = "ceased"
    ATTORNEY = "attorney"
    BANKRUPT = "bankrupt"
    DECEASED = "deceased"
    PAID = "paid"
    CLOSED = "closed"
    ALL = (ACTIVE, DISPUTED, CEASED, ATTORNEY, BANKRUPT, DECEASED, PAID, CLOSED)


class Account(Base):
    __tablename__ = "accounts"

    id: Mapped[str] = mapped_column(String(40), primary_key=True, default=lambda: new_id("acc"))
    debtor_id: Mapped[str] = mapped_column(ForeignKey("debtors.id"), index=True)
    account_ref: Mapped[str] = mapped_column(String(64), unique=True)
    creditor: Mapped[str] = mapped_column(String(200))
    balance_cents: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3), default="USD")
    status: Mapped[str] = mapped_column(String(20), default=AccountStatus.ACTIVE)
    # Compliance facts about the debt, set by the operator (import or console), read by the gates.
    state: Mapped[str | None] = mapped_column(String(2))  # US state for state overlays (FREQ-1)
    time_barred: Mapped[bool] = mapped_column(Boolean, default=False)  # TBD-1
    legal_action_permitted: Mapped[bool] = mapped_column(Boolean, default=False)  # TONE-1 exception
    validation_period_ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # DSP-2, DSP-3
    collection_paused_reason: Mapped[str | None] = mapped_column(String(40))  # VUL-2 hardship pause
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    debtor: Mapped[Debtor] = relationship(back_populates="accounts")


class Conversation(Base):
    """One debtor conversation on one channel. `external_id` is the channel's address
    (the REST sender, the phone number, the widget session)."""

    __tablename__ = "conversations"
    __table_args__ = (UniqueConstraint("channel", "external_id", name="uq_conversation_channel_external"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True, default=lambda: new_id("cnv"))
    channel: Mapped[str] = mapped_column(String(20))
    external_id: Mapped[str] = mapped_column(String(200))
    debtor_id: Mapped[str | None] = mapped_column(ForeignKey("debtors.id"))
    account_id: Mapped[str | None] = mapped_column(ForeignKey("accounts.id"))
    verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    disclosure_given_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # A new session starts after an idle hour (as Rasa's does); DISC-2 repeats the notice in each one.
    session_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_activity_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Message(Base):
    __tablename__ = "messages"
    __table_args__ = (Index("ix_messages_conversation_id_id", "conversation_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id"))
    direction: Mapped[str] = mapped_column(String(3))  # "in" | "out"
    sender_role: Mapped[str] = mapped_column(String(10))  # debtor | bot | agent | system
    text: Mapped[str] = mapped_column(Text, default="")
    payload: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # received | processed | unprocessed (inbound); sent | blocked (outbound)
    status: Mapped[str] = mapped_column(String(20), default="received")
    rule_ids: Mapped[list[str] | None] = mapped_column(JSON)  # the compliance rules that fired on it
    intent: Mapped[str | None] = mapped_column(String(60))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class AuditEvent(Base):
    """Who did what, when, and which compliance rule (if any) fired."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    kind: Mapped[str] = mapped_column(String(60), index=True)
    actor: Mapped[str] = mapped_column(String(60), default="system")
    rule_id: Mapped[str | None] = mapped_column(String(20))
    conversation_id: Mapped[str | None] = mapped_column(ForeignKey("conversations.id"), index=True)
    account_id: Mapped[str | None] = mapped_column(ForeignKey("accounts.id"), index=True)
    detail: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class VerificationAttempt(Base):
    """Each completed identity check (ID-3 counts the failures)."""

    __tablename__ = "verification_attempts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id"), index=True)
    account_id: Mapped[str | None] = mapped_column(ForeignKey("accounts.id"), index=True)
    succeeded: Mapped[bool] = mapped_column(Boolean)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Dispute(Base):
    """A debtor's dispute (DSP-1). While open, the account is on hold (DSP-2) until a person records
    that verification was sent."""

    __tablename__ = "disputes"

    id: Mapped[str] = mapped_column(String(40), primary_key=True, default=lambda: new_id("dsp"))
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"), index=True)
    conversation_id: Mapped[str | None] = mapped_column(ForeignKey("conversations.id"))
    kind: Mapped[str] = mapped_column(String(20))  # all | amount | not_mine | already_paid
    disputed_cents: Mapped[int] = mapped_column(BigInteger)
    statement: Mapped[str | None] = mapped_column(Text)  # the debtor's own words, redacted
    status: Mapped[str] = mapped_column(String(20), default="open")  # open | verified | withdrawn
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    verification_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    verified_by: Mapped[str | None] = mapped_column(String(60))


class ContactPreference(Base):
    """What a channel address (a phone number, an email) may receive: opt-outs cover one channel (OPT-3),
    and a wrong-party report suppresses the address for every debt (ID-4)."""

    __tablename__ = "contact_preferences"
    __table_args__ = (UniqueConstraint("channel", "address", name="uq_contact_preference_channel_address"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    channel: Mapped[str] = mapped_column(String(20))
    address: Mapped[str] = mapped_column(String(200))
    opted_out_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    opted_out_via: Mapped[str | None] = mapped_column(String(60))
    opted_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    wrong_party_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_inbound_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # ID-5: consumer texted from it
    consent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # ID-5: TCPA prior express consent
    reassigned_check_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # ID-5: FCC RND says not reassigned
    inconvenient_times: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)  # TIME-1


class ScheduledMessage(Base):
    """A bot-initiated message (reminder, notice, campaign). The outbound gate sends, defers or blocks it;
    nothing is dropped silently: a blocked one keeps its rule IDs."""

    __tablename__ = "scheduled_messages"

    id: Mapped[str] = mapped_column(String(40), primary_key=True, default=lambda: new_id("out"))
    account_id: Mapped[str | None] = mapped_column(ForeignKey("accounts.id"), index=True)
    channel: Mapped[str] = mapped_column(String(20))
    address: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(40))
    text: Mapped[str] = mapped_column(Text)
    not_before: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    status: Mapped[str] = mapped_column(String(20), default="pending")  # pending | sent | blocked | cancelled
    rule_ids: Mapped[list[str] | None] = mapped_column(JSON)
    reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Plan(Base):
    """An installment plan the debtor agreed to (PLAN-1, PLAN-2). The terms are stored as shown."""

    __tablename__ = "plans"

    id: Mapped[str] = mapped_column(String(40), primary_key=True, default=lambda: new_id("pln"))
    reference: Mapped[str] = mapped_column(String(20), unique=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"), index=True)
    conversation_id: Mapped[str | None] = mapped_column(ForeignKey("conversations.id"))
    kind: Mapped[str] = mapped_column(String(20))  # plan | settlement | pay_in_full
    frequency: Mapped[str | None] = mapped_column(String(20))
    balance_cents: Mapped[int] = mapped_column(BigInteger)
    total_cents: Mapped[int] = mapped_column(BigInteger)
    fee_cents: Mapped[int] = mapped_column(BigInteger, default=0)
    installment_count: Mapped[int] = mapped_column(Integer)
    terms_text: Mapped[str] = mapped_column(Text)
    # awaiting_first_payment | active | completed | cancelled | broken
    status: Mapped[str] = mapped_column(String(30), default="awaiting_first_payment")
    consented_at: Mapped[datetime] = mapped_column(UTCDateTime)
    consent_text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    installments: Mapped[list[Installment]] = relationship(back_populates="plan", order_by="Installment.number")


class Installment(Base):
    __tablename__ = "installments"
    __table_args__ = (UniqueConstraint("plan_id", "number", name="uq_installment_plan_number"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True, default=lambda: new_id("ins"))
    plan_id: Mapped[str] = mapped_column(ForeignKey("plans.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    due_date: Mapped[date] = mapped_column(Date)
    amount_cents: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(20), default="scheduled")  # scheduled | paid | missed | cancelled
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    plan: Mapped[Plan] = relationship(back_populates="installments")


class Handoff(Base):
    """A conversation waiting for a person (HO-1), with why, which rule sent it, and only what that rule allows
    to be captured (an attorney's contact, a bankruptcy case number)."""

    __tablename__ = "handoffs"

    id: Mapped[str] = mapped_column(String(40), primary_key=True, default=lambda: new_id("hof"))
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id"), index=True)
    account_id: Mapped[str | None] = mapped_column(ForeignKey("accounts.id"))
    reason: Mapped[str] = mapped_column(String(40))
    rule_id: Mapped[str | None] = mapped_column(String(20))
    priority: Mapped[int] = mapped_column(Integer, default=0)
    details: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(20), default="waiting")  # waiting | claimed | resolved
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
