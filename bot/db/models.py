"""The app database's tables. Money is integer cents; times are timezone-aware UTC; ids are opaque."""

from __future__ import annotations

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
    """Opaque, unguessable ids: nothing about a row can be inferred from its id."""
    return f"{prefix}_{secrets.token_hex(12)}"


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
    BANKRUPT = "bankrupt"
    DECEASED = "deceased"
    PAID = "paid"
    CLOSED = "closed"
    ALL = (ACTIVE, DISPUTED, CEASED, BANKRUPT, DECEASED, PAID, CLOSED)


class Account(Base):
    __tablename__ = "accounts"

    id: Mapped[str] = mapped_column(String(40), primary_key=True, default=lambda: new_id("acc"))
    debtor_id: Mapped[str] = mapped_column(ForeignKey("debtors.id"), index=True)
    account_ref: Mapped[str] = mapped_column(String(64), unique=True)
    creditor: Mapped[str] = mapped_column(String(200))
    balance_cents: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3), default="USD")
    status: Mapped[str] = mapped_column(String(20), default=AccountStatus.ACTIVE)
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
    status: Mapped[str] = mapped_column(String(20), default="received")
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
