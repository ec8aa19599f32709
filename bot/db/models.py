"""The app database's tables. Money is integer cents; times are timezone-aware UTC; ids are opaque."""

from __future__ import annotations

import base64
import math
import secrets
from datetime import date, datetime, timezone
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    delete,
    event,
    exists,
    false,
    inspect,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def opaque_token(length: int = 20) -> str:
    """`length` random base32 characters (5 bits each: 100 bits at the default), lowercase letters and the digits
    2-7, so a token never holds a long run of decimal digits that a card-number scan could mistake for a PAN (PCI-3).
    Ids, web chat addresses and pay-link tokens are made of it."""
    return base64.b32encode(secrets.token_bytes(math.ceil(length * 5 / 8))).decode().lower()[:length]


def new_id(prefix: str) -> str:
    """Opaque, unguessable ids: nothing about a row can be inferred from its id."""
    return f"{prefix}_{opaque_token()}"


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
    # The portfolio import finds a batch's people by date of birth and SSN last 4 (migration 0016).
    __table_args__ = (Index("ix_debtors_dob_ssn_last4", "dob", "ssn_last4"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True, default=lambda: new_id("dbt"))
    first_name: Mapped[str] = mapped_column(String(100))
    last_name: Mapped[str] = mapped_column(String(100))
    dob: Mapped[date] = mapped_column(Date)
    ssn_last4: Mapped[str] = mapped_column(String(4))
    zip: Mapped[str] = mapped_column(String(10))
    phone: Mapped[str | None] = mapped_column(String(20), index=True)
    email: Mapped[str | None] = mapped_column(String(254))
    # EMAIL-2, 1006.22(f)(3): the email on file is one the employer provided (the import says so), and whether the
    # employer forbids collection email there. A work address gets email only once the debtor wrote from it or
    # agreed to it (its email contact preference: last_inbound_at, consent_at); never where the employer forbids.
    email_work: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    email_employer_forbids: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # The mailing address (lines joined by newlines) a validation notice by post goes to (DISC-5, EMAIL-1).
    postal_address: Mapped[str | None] = mapped_column(Text)
    timezone: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    # REC-3: the debtor asked for deletion; what the law lets go went then, the rest goes at the end of retention.
    erasure_requested_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # REC-1: retention ended and the personal data was anonymised (bot/records/retention.py).
    purged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The language the debtor chose or wrote in ("en", "es"; None: not known, English): reminders, notices and
    # receipts follow it (bot/language.py).
    language: Mapped[str | None] = mapped_column(String(5))

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
    # DISC-5, 1006.34(b)(3) and (c)(2): the itemization date the creditor gave (e.g. the last statement date), the
    # amount owed then, and the interest and fees charged since; what was paid or credited since is what explains
    # the rest of the balance (bot/compliance/notice_document.py). Without an itemization date no notice can be
    # written: it is held (DISC-5).
    itemization_date: Mapped[date | None] = mapped_column(Date)
    itemization_cents: Mapped[int | None] = mapped_column(BigInteger)
    interest_since_cents: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    fees_since_cents: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    collection_paused_reason: Mapped[str | None] = mapped_column(String(40))  # VUL-2 hardship pause
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    debtor: Mapped[Debtor] = relationship(back_populates="accounts")


class Conversation(Base):
    """One debtor conversation on one channel. `external_id` is the channel's address
    (the REST sender, the phone number, the widget session)."""

    __tablename__ = "conversations"
    __table_args__ = (
        UniqueConstraint("channel", "external_id", name="uq_conversation_channel_external"),
        # The compliance search and the KPIs at scale (migration 0016): by start time, address, debtor, account.
        Index("ix_conversations_started_at", "started_at"),
        Index("ix_conversations_external_id", "external_id"),
        Index("ix_conversations_debtor_id", "debtor_id"),
        Index("ix_conversations_account_id", "account_id"),
    )

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
    # The head of this conversation's hash chain (bot/records/transcript.py): how many entries it has and the last
    # entry's hash, so that deleting the newest entries is caught as surely as editing any of them (REC-1).
    transcript_seq: Mapped[int] = mapped_column(Integer, default=0)
    transcript_head: Mapped[str | None] = mapped_column(String(64))
    # REC-1: the retention purge deleted this conversation's record; the seal (an HMAC over the id, the chain's
    # final length and head and the purge time) lets the verifier tell a purge from a deletion by hand.
    purged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    purge_seal: Mapped[str | None] = mapped_column(String(64))
    # The conversation's language (bot/language.py): None until the debtor's words or choice say ("en" then).
    language: Mapped[str | None] = mapped_column(String(5))
    # Chosen by the debtor ("en español", the answer to the language question): detection no longer switches it.
    language_confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The bilingual question was asked and not yet answered.
    language_asked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # ID-2: the identity question the verify form asked last and nobody answered yet ("id_dob"...), as Rasa said
    # after the turn; the next message is stored as what it answers, never its value (bot/records/identity_answers).
    awaiting_identity: Mapped[str | None] = mapped_column(String(20))
    # Its saved messages (bot/messaging/saved.py) are being answered by the worker named here until this time: one
    # worker at a time, so they are answered in order; a worker that died lets go when the time passes.
    saved_claimed_by: Mapped[str | None] = mapped_column(String(40))
    saved_claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Message(Base):
    __tablename__ = "messages"
    # A conversation's messages in order. No index on intent: the search by intent reads conversation_intents, and
    # one would make writing the intent after the turn a non-HOT update on PostgreSQL (migration 0023).
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
    # active_history: a reading replaced on an object whose old one was expired still names the old one to
    # conversation_intents' hook below (an extra SELECT only then; a turn's message is freshly loaded).
    intent: Mapped[str | None] = mapped_column(String(60), active_history=True)
    intent_confidence: Mapped[float | None] = mapped_column(Float)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class SavedMessage(Base):
    """An inbound message stored while no Rasa answered, waiting to be answered (bot/messaging/saved.py): the queue
    is this small table, so counting and finding what waits never scans `messages`. The row goes in the transaction
    that answers the message (or hands it to a person)."""

    __tablename__ = "saved_messages"

    message_id: Mapped[int] = mapped_column(ForeignKey("messages.id"), primary_key=True)
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id"), index=True)
    saved_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # What the turn needed beyond the stored message: Rasa was to start a new session first (ID-1), and the
    # channel's metadata for Rasa.
    new_session: Mapped[bool] = mapped_column(Boolean, default=False)
    turn_metadata: Mapped[dict[str, Any] | None] = mapped_column(JSON)


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
    """Each completed identity check. ID-3 counts a failure once against the conversation it happened in (the
    row without a debtor) and once against each person it was checked against (a row per debtor), so a person
    with several accounts is not locked sooner."""

    __tablename__ = "verification_attempts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id"), index=True)
    account_id: Mapped[str | None] = mapped_column(ForeignKey("accounts.id"), index=True)
    debtor_id: Mapped[str | None] = mapped_column(ForeignKey("debtors.id"), index=True)
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
    bounced_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # EMAIL-1: a mail server refused it for good
    language: Mapped[str | None] = mapped_column(String(5))  # the language last used from this address


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
    # pending | sending | sent | delivered (the provider said so) | blocked | cancelled | bounced (refused for good,
    # by the server or later by the provider) | failed (gave up retrying)
    status: Mapped[str] = mapped_column(String(20), default="pending")
    rule_ids: Mapped[list[str] | None] = mapped_column(JSON)
    reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")  # temporary delivery failures
    provider_id: Mapped[str | None] = mapped_column(String(250), index=True)  # an email's Message-ID
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # the provider reported it delivered
    # A notice that is a document (the validation notice): its facts as sent, from which the email's HTML and the
    # printable page are rendered (bot/compliance/notice_document.py).
    document: Mapped[dict[str, Any] | None] = mapped_column(JSON)


# A queued message that left: "sent" (a server accepted it) or "delivered" (the provider reported it delivered).
HANDED_OVER = ("sent", "delivered")


class EsignConsent(Base):
    """EMAIL-1 (1006.42, E-SIGN): the debtor's answer to whether required notices may come by email to one address,
    in the conversation ("chat": the question and answer messages) or by the box on the payment-done page ("web"):
    the exact question asked and the exact words of the answer, with when."""

    __tablename__ = "esign_consents"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    debtor_id: Mapped[str] = mapped_column(ForeignKey("debtors.id"), index=True)
    address: Mapped[str] = mapped_column(String(254))
    conversation_id: Mapped[str | None] = mapped_column(ForeignKey("conversations.id"), nullable=True)
    question_message_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    question: Mapped[str] = mapped_column(Text)
    answer_message_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    answer: Mapped[str] = mapped_column(Text)
    consented: Mapped[bool] = mapped_column(Boolean)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    via: Mapped[str] = mapped_column(String(10), default="chat", server_default="chat")


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
    __table_args__ = (UniqueConstraint("plan_id", "number", name="uq_installment_plan_number"),
                      Index("ix_installments_due_date", "due_date"))  # the promise-to-pay KPI (migration 0016)

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
    # The compliance search's outcome filter counts from the first (migration 0018) and walks the second newest
    # first for its pages (bot/records/search.py; migration 0021).
    __table_args__ = (Index("ix_handoffs_outcome_conversation", "outcome", "conversation_id"),
                      Index("ix_handoffs_outcome_started", "outcome", "conversation_started_at", "conversation_id"))

    id: Mapped[str] = mapped_column(String(40), primary_key=True, default=lambda: new_id("hof"))
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id"), index=True)
    account_id: Mapped[str | None] = mapped_column(ForeignKey("accounts.id"))
    reason: Mapped[str] = mapped_column(String(40))
    rule_id: Mapped[str | None] = mapped_column(String(20))
    priority: Mapped[int] = mapped_column(Integer, default=0)
    details: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # waiting | claimed (a person owns the conversation: the bot is silent) | returned (handed back to the bot)
    # | resolved (with an outcome code). Changed only by single-statement updates in bot/agents/queue.py.
    status: Mapped[str] = mapped_column(String(20), default="waiting", index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    claimed_by: Mapped[str | None] = mapped_column(ForeignKey("users.id"), index=True)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_by: Mapped[str | None] = mapped_column(ForeignKey("users.id"))
    outcome: Mapped[str | None] = mapped_column(String(30))  # bot/agents/queue.py OUTCOMES
    callback_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # when the debtor asked to be contacted
    # A copy of the conversation's started_at (set on insert, kept in step below): the search's pages by outcome.
    conversation_started_at: Mapped[datetime] = mapped_column(UTCDateTime)


# --- payments (bot/payments/) ------------------------------------------------------------------------------------
# Money is integer cents. Only processor ids and a card's brand and last four are ever stored (PCI-3).


class PayLink(Base):
    """A short link of ours (/pay/<token>) for one payment: bound to one account and one amount, single use,
    expiring. The token itself is never stored, only its hash, so a database read cannot be turned into links."""

    __tablename__ = "pay_links"

    id: Mapped[str] = mapped_column(String(40), primary_key=True, default=lambda: new_id("pl"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"), index=True)
    conversation_id: Mapped[str | None] = mapped_column(ForeignKey("conversations.id"))
    plan_id: Mapped[str | None] = mapped_column(ForeignKey("plans.id"))
    installment_id: Mapped[str | None] = mapped_column(ForeignKey("installments.id"))
    purpose: Mapped[str] = mapped_column(String(20))  # balance | amount | settlement | installment
    amount_cents: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3), default="USD")
    # The balance when the link was made: a full-balance or settlement link is void once it has changed.
    balance_cents: Mapped[int] = mapped_column(BigInteger)
    save_card: Mapped[bool] = mapped_column(Boolean, default=False)  # a plan's first payment: card kept for autopay
    status: Mapped[str] = mapped_column(String(20), default="active")  # active | paid | cancelled
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # Checkout Session creation is retried with the same idempotency key (link id + attempt) and the same
    # parameters, so a timed-out creation that Stripe did perform is found again rather than made twice.
    checkout_attempt: Mapped[int] = mapped_column(Integer, default=0)
    checkout_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    stripe_checkout_session_id: Mapped[str | None] = mapped_column(String(255))
    checkout_url: Mapped[str | None] = mapped_column(Text)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Payment(Base):
    """One attempt to take money: a Checkout Session (a pay link) or an off-session charge (autopay)."""

    __tablename__ = "payments"

    id: Mapped[str] = mapped_column(String(40), primary_key=True, default=lambda: new_id("pay"))
    reference: Mapped[str] = mapped_column(String(20), unique=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"), index=True)
    conversation_id: Mapped[str | None] = mapped_column(ForeignKey("conversations.id"))
    pay_link_id: Mapped[str | None] = mapped_column(ForeignKey("pay_links.id"), index=True)
    plan_id: Mapped[str | None] = mapped_column(ForeignKey("plans.id"))
    installment_id: Mapped[str | None] = mapped_column(ForeignKey("installments.id"), index=True)
    method: Mapped[str] = mapped_column(String(20))  # checkout | autopay
    attempt: Mapped[int] = mapped_column(Integer, default=1)
    idempotency_key: Mapped[str | None] = mapped_column(String(120), unique=True)
    amount_cents: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3), default="USD")
    # pending | succeeded | failed | held (DSP-2: money received, not applied) | expired
    status: Mapped[str] = mapped_column(String(20), default="pending")
    stripe_checkout_session_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    stripe_payment_intent_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    stripe_charge_id: Mapped[str | None] = mapped_column(String(255), index=True)
    stripe_customer_id: Mapped[str | None] = mapped_column(String(255))
    stripe_payment_method_id: Mapped[str | None] = mapped_column(String(255))
    card_brand: Mapped[str | None] = mapped_column(String(20))
    card_last4: Mapped[str | None] = mapped_column(String(4))
    applied_cents: Mapped[int] = mapped_column(BigInteger, default=0)
    refunded_cents: Mapped[int] = mapped_column(BigInteger, default=0)
    applied_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)  # the recovery KPI (0018)
    failure_code: Mapped[str | None] = mapped_column(String(60))
    failure_message: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class LedgerEntry(Base):
    """Every change to an account's balance after import. `reference` is unique: the same PaymentIntent (or the
    same refund level) can never change the ledger twice, whatever the order or number of webhook deliveries."""

    __tablename__ = "ledger_entries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"), index=True)
    payment_id: Mapped[str | None] = mapped_column(ForeignKey("payments.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))  # payment | refund | settlement
    amount_cents: Mapped[int] = mapped_column(BigInteger)  # the change to the balance: a payment is negative
    balance_after_cents: Mapped[int] = mapped_column(BigInteger)
    reference: Mapped[str] = mapped_column(String(255), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class StripeEvent(Base):
    """Webhook events already handled, by Stripe's event id: a redelivery is answered and ignored."""

    __tablename__ = "stripe_events"

    id: Mapped[str] = mapped_column(String(255), primary_key=True)
    type: Mapped[str] = mapped_column(String(80))
    object_id: Mapped[str | None] = mapped_column(String(255))
    outcome: Mapped[str] = mapped_column(String(60))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class StripeCustomer(Base):
    """The Stripe Customer of a debtor, made when a plan's first payment saves a card."""

    __tablename__ = "stripe_customers"

    debtor_id: Mapped[str] = mapped_column(ForeignKey("debtors.id"), primary_key=True)
    stripe_customer_id: Mapped[str] = mapped_column(String(255), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class AutopayAuthorisation(Base):
    """PLAN-2: the debtor's authorisation to charge a saved card on a plan's due dates, with the exact words they
    agreed to on the payment page. Only an active one is ever charged."""

    __tablename__ = "autopay_authorisations"

    id: Mapped[str] = mapped_column(String(40), primary_key=True, default=lambda: new_id("apa"))
    plan_id: Mapped[str] = mapped_column(ForeignKey("plans.id"), index=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"), index=True)
    source_payment_id: Mapped[str] = mapped_column(ForeignKey("payments.id"), unique=True)
    stripe_customer_id: Mapped[str] = mapped_column(String(255))
    stripe_payment_method_id: Mapped[str] = mapped_column(String(255))
    card_brand: Mapped[str | None] = mapped_column(String(20))
    card_last4: Mapped[str | None] = mapped_column(String(4))
    authorisation_text: Mapped[str] = mapped_column(Text)
    authorised_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(20), default="active")  # active | revoked | stopped
    stopped_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    stopped_reason: Mapped[str | None] = mapped_column(String(60))


class DebitNotice(Base):
    """PLAN-3: the notice sent before an off-session debit (attempt 1: the advance notice; attempt 2: the decline
    message that names the retry date). The scheduler charges only when it went out 3-10 business days before."""

    __tablename__ = "debit_notices"
    __table_args__ = (UniqueConstraint("installment_id", "attempt", name="uq_debit_notice_installment_attempt"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    installment_id: Mapped[str] = mapped_column(ForeignKey("installments.id"), index=True)
    attempt: Mapped[int] = mapped_column(Integer)
    debit_on: Mapped[date] = mapped_column(Date)
    scheduled_message_id: Mapped[str] = mapped_column(ForeignKey("scheduled_messages.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The notice could not be given (notice_state "blocked"), so its debit never runs: when the scheduler queued the
    # debtor's message saying so, with a pay-now link. Set once (the tell-once guard); the installment is missed
    # AUTOPAY_RETRY_BUSINESS_DAYS business days later if still unpaid (bot/payments/autopay.py; migration 0020).
    blocked_told_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


# --- the agent console (bot/agents/) -------------------------------------------------------------------------------


class User(Base):
    """A person who signs in to the console (REC-2: role-based access). Only an Argon2 hash of the password."""

    __tablename__ = "users"

    id: Mapped[str] = mapped_column(String(40), primary_key=True, default=lambda: new_id("usr"))
    username: Mapped[str] = mapped_column(String(60), unique=True)  # stored lower-case
    display_name: Mapped[str] = mapped_column(String(100))  # what the debtor sees on an agent's reply
    role: Mapped[str] = mapped_column(String(20))  # agent | supervisor | compliance | operator
    password_hash: Mapped[str] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # REC-2: reading transcripts unredacted is a permission of its own, granted person by person, never by role.
    can_view_unredacted: Mapped[bool] = mapped_column(Boolean, default=False)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # HO-1: the available / away switch in the console header. Only an available person who is signed in counts
    # toward the wait the bot quotes a debtor; with nobody available the bot says so instead of guessing.
    available: Mapped[bool] = mapped_column(Boolean, default=True)
    available_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The languages the person answers debtors in ("en", "es"); a Spanish conversation goes to one who has "es".
    languages: Mapped[list[str] | None] = mapped_column(JSON)


class AgentSession(Base):
    """A signed-in console session, server side: the cookie holds a random token, this row only its SHA-256, so
    a database read cannot be turned into a session. Each session has its own CSRF token."""

    __tablename__ = "agent_sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # sha256 hex of the cookie's token
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class AgentNote(Base):
    """A private note on a conversation: staff only, never sent to the debtor. Redacted like any message (PCI-2)."""

    __tablename__ = "agent_notes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id"), index=True)
    handoff_id: Mapped[str | None] = mapped_column(ForeignKey("handoffs.id"))
    author_id: Mapped[str] = mapped_column(ForeignKey("users.id"))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


# --- compliance records (bot/records/) -----------------------------------------------------------------------------


class TranscriptEntry(Base):
    """One fact of a conversation's record, never updated or deleted except by the retention purge (REC-1): a message
    as first stored, a later change to it (delivery status, NLU reading, redaction, rules), or an audit event.
    Each entry's hash covers the one before it in the same conversation (bot/records/transcript.py)."""

    __tablename__ = "transcript_entries"
    __table_args__ = (UniqueConstraint("conversation_id", "seq", name="uq_transcript_conversation_seq"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id"), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(20))  # message | change | event
    message_id: Mapped[int | None] = mapped_column(Integer, index=True)
    audit_event_id: Mapped[int | None] = mapped_column(Integer)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class ConversationFlag(Base):
    """Why a reviewer should look at a conversation, raised automatically as it happens (bot/records/flags.py)."""

    __tablename__ = "conversation_flags"
    # The search by flag counts from the first and walks the second newest first for its pages (migration 0021).
    __table_args__ = (Index("ix_conversation_flags_flag_conversation", "flag", "conversation_id"),
                      Index("ix_conversation_flags_flag_started", "flag", "conversation_started_at",
                            "conversation_id"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id"), index=True)
    flag: Mapped[str] = mapped_column(String(30))
    rule_id: Mapped[str | None] = mapped_column(String(20))
    message_id: Mapped[int | None] = mapped_column(Integer)
    audit_event_id: Mapped[int | None] = mapped_column(Integer)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    # A copy of the conversation's started_at (set on insert, kept in step below): the search's pages by flag.
    conversation_started_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ConversationReview(Base):
    """Where a compliance review of one conversation stands (bot/records/review.py)."""

    __tablename__ = "conversation_reviews"
    # The compliance search's review-status filter counts from here and walks it newest first for its pages
    # (bot/records/search.py; migration 0021, which replaced 0018's (status, conversation_id)).
    __table_args__ = (Index("ix_conversation_reviews_status_started", "status", "conversation_started_at",
                            "conversation_id"),)

    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id"), primary_key=True)
    status: Mapped[str] = mapped_column(String(20), default="unreviewed")  # unreviewed | reviewed | escalated
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_by: Mapped[str | None] = mapped_column(ForeignKey("users.id"))
    # A copy of the conversation's started_at (set on insert, kept in step below): the search's pages by status.
    conversation_started_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ConversationIntent(Base):
    """That a message of the conversation was read as this intent (one row per conversation and intent, whichever
    message and however many): the compliance search by intent walks it newest first (bot/records/search.py;
    migration 0022) instead of probing every conversation's messages. Written with the message's intent below."""

    __tablename__ = "conversation_intents"
    __table_args__ = (Index("ix_conversation_intents_intent_started", "intent", "conversation_started_at",
                            "conversation_id"),)

    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id"), primary_key=True)
    intent: Mapped[str] = mapped_column(String(60), primary_key=True)
    # A copy of the conversation's started_at (set on insert, kept in step below): the search's pages by intent.
    conversation_started_at: Mapped[datetime] = mapped_column(UTCDateTime)


# Flags, handoffs, reviews and intents carry their conversation's start time so that a search by flag, outcome,
# review status or intent reads its own index newest first and stops at a page (bot/records/search.py), instead of
# probing that index for thousands of conversations. The copy is taken in the INSERT itself (no extra round trip)
# and rewritten if the conversation is re-dated; bot/records/flags.py's bulk insert of flags and the intents' insert
# below do the same with their own subquery.
STARTED_AT_COPIES = (Handoff, ConversationFlag, ConversationReview, ConversationIntent)


def conversation_start(conversation_id: Any) -> Any:
    """The conversation's started_at as a scalar subquery, for an INSERT's conversation_started_at."""
    return select(Conversation.started_at).where(Conversation.id == conversation_id).scalar_subquery()


def _copy_conversation_start(_mapper: Any, _connection: Any, target: Any) -> None:
    if target.conversation_started_at is None:
        target.conversation_started_at = conversation_start(target.conversation_id)


def _keep_copies_in_step(_mapper: Any, connection: Any, target: Conversation) -> None:
    if inspect(target).attrs.started_at.history.has_changes():
        for model in STARTED_AT_COPIES:
            connection.execute(update(model.__table__).where(model.__table__.c.conversation_id == target.id)
                               .values(conversation_started_at=target.started_at))


def _record_intent(_mapper: Any, connection: Any, target: Message) -> None:
    """A message read as an intent puts (conversation, intent) in conversation_intents, whichever code set it (a
    turn's reading, a feedback comment's): one INSERT per reading on the turn's path, no SELECT first, a pair already
    there left as it is. An intent read again differently takes its old one off the conversation when no other
    message of it still has that one, so that the record says exactly what the messages do."""
    history = inspect(target).attrs.intent.history
    if not history.has_changes():
        return
    table = ConversationIntent.__table__
    if target.intent is not None:
        insert = postgresql_insert if connection.dialect.name == "postgresql" else sqlite_insert
        connection.execute(insert(table).values(
            conversation_id=target.conversation_id, intent=target.intent,
            conversation_started_at=conversation_start(target.conversation_id)).on_conflict_do_nothing())
    for old in history.deleted:
        if old is not None and old != target.intent:
            messages = Message.__table__
            connection.execute(delete(table).where(
                table.c.conversation_id == target.conversation_id, table.c.intent == old,
                ~exists().where(messages.c.conversation_id == target.conversation_id, messages.c.intent == old)))


for _model in STARTED_AT_COPIES:
    event.listen(_model, "before_insert", _copy_conversation_start)
event.listen(Conversation, "after_update", _keep_copies_in_step)
event.listen(Message, "after_insert", _record_intent)
event.listen(Message, "after_update", _record_intent)


class ReviewAnnotation(Base):
    """A reviewer's note on a conversation (or on one message of it); staff only, redacted like a message."""

    __tablename__ = "review_annotations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id"), index=True)
    message_id: Mapped[int | None] = mapped_column(Integer)
    author_id: Mapped[str] = mapped_column(ForeignKey("users.id"))
    kind: Mapped[str] = mapped_column(String(20), default="note")  # note | escalation
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class DataSubjectRequest(Base):
    """A debtor's request to see or delete their data (REC-3), with the date the law says it must be answered by."""

    __tablename__ = "data_subject_requests"

    id: Mapped[str] = mapped_column(String(40), primary_key=True, default=lambda: new_id("dsr"))
    debtor_id: Mapped[str] = mapped_column(ForeignKey("debtors.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))  # access | deletion
    status: Mapped[str] = mapped_column(String(20), default="open")  # open | completed
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    handled_by: Mapped[str | None] = mapped_column(String(60))
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class MailboxMessage(Base):
    """A message the embedded local mail server received (bot/mail/server.py): what Settle sent, as the demo
    mailbox (/mailbox) shows it, and replies to Settle. Embedded default only; a real relay keeps none."""

    __tablename__ = "mailbox_messages"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    mail_from: Mapped[str] = mapped_column(String(254))
    rcpt_to: Mapped[list[str]] = mapped_column(JSON)
    subject: Mapped[str | None] = mapped_column(String(300))
    message_id: Mapped[str | None] = mapped_column(String(250))
    raw: Mapped[str] = mapped_column(Text)


class EmailMessage(Base):
    """An email Settle handed to a mail server, by its Message-ID: a provider's delivery events name it
    (bot/mail/webhooks.py), and a reply in a live email conversation continues its thread (In-Reply-To)."""

    __tablename__ = "email_messages"
    __table_args__ = (UniqueConstraint("message_id", name="uq_email_messages_message_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    message_id: Mapped[str] = mapped_column(String(250))  # as sent, with its angle brackets
    address: Mapped[str] = mapped_column(String(254))
    conversation_id: Mapped[str | None] = mapped_column(ForeignKey("conversations.id"), index=True)
    message_row_id: Mapped[int | None] = mapped_column(Integer)  # the first messages row it carried (of a turn)
    kind: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(20))  # sent | delivered | bounced | complained
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    status_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    reason: Mapped[str | None] = mapped_column(Text)


class JobRun(Base):
    """One run of a scheduled job (send-reminders, charge-installments, purge): jobs are short-lived processes, so
    what they did is kept here, and /metrics reads it (settle_job_runs_total, bot/jobs.py)."""

    __tablename__ = "job_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    job: Mapped[str] = mapped_column(String(40), index=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    outcome: Mapped[str] = mapped_column(String(20), default="running")  # running | ok | failed
    exit_code: Mapped[int | None] = mapped_column(Integer)


class Campaign(Base):
    """An outreach campaign (bot/campaigns.py): one segment, one channel, a message with variants, a start time.
    Its messages go through the outbox like any other bot-initiated message."""

    __tablename__ = "campaigns"

    id: Mapped[str] = mapped_column(String(40), primary_key=True, default=lambda: new_id("cmp"))
    name: Mapped[str] = mapped_column(String(100), unique=True)
    segment: Mapped[str] = mapped_column(String(60))  # a segment name from policy/segments.yml
    channel: Mapped[str] = mapped_column(String(10))  # sms | email
    variants: Mapped[list[dict[str, Any]]] = mapped_column(JSON)  # [{"name": "A", "text": "..."}, ...]
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)  # the scheduled job sends it from then on
    result_days: Mapped[int] = mapped_column(Integer, default=14)  # outcomes counted within N days of the send
    status: Mapped[str] = mapped_column(String(20), default="scheduled")  # scheduled | run
    created_by: Mapped[str] = mapped_column(String(60))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_run_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Recurring (bot/campaigns.py): a round every repeat_days days from starts_at, the last one no later than
    # ends_at; next_run_at is when the next round is due (None: one round, due at starts_at).
    repeat_days: Mapped[int | None] = mapped_column(Integer)
    ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    next_run_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    rounds: Mapped[int] = mapped_column(Integer, default=0, server_default="0")  # rounds run so far


class CampaignRecipient(Base):
    """One account's place in a campaign: the variant drawn at random for it (recorded once, never redrawn) and
    the queued message, or why it got none."""

    __tablename__ = "campaign_recipients"
    __table_args__ = (UniqueConstraint("campaign_id", "account_id", name="uq_campaign_recipients_account"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    campaign_id: Mapped[str] = mapped_column(ForeignKey("campaigns.id"), index=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"), index=True)
    variant: Mapped[str | None] = mapped_column(String(20))  # None: skipped before any draw
    scheduled_message_id: Mapped[str | None] = mapped_column(ForeignKey("scheduled_messages.id"))
    skip_reason: Mapped[str | None] = mapped_column(Text)
    assigned_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class CampaignSend(Base):
    """One message of one round of a campaign to one account (a recurring campaign sends a round every few days;
    the recipient's variant stays the one drawn the first time). At most one per account and round."""

    __tablename__ = "campaign_sends"
    __table_args__ = (UniqueConstraint("campaign_id", "account_id", "round", name="uq_campaign_sends_round"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    campaign_id: Mapped[str] = mapped_column(ForeignKey("campaigns.id"), index=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"))
    round: Mapped[int] = mapped_column(Integer)
    scheduled_message_id: Mapped[str] = mapped_column(ForeignKey("scheduled_messages.id"))


# --- policy documents shared by every process (bot/policy_store.py) -------------------------------------------------


class PolicyVersion(Base):
    """An operator's version of a policy document (plan policy, contact rules, segments), saved from /ops after the
    check-policies checks. The newest version of a document is in force in every process; with none, the shipped
    file under policy/ is. Who changed what is also in the audit trail (policy_edited, with the diff)."""

    __tablename__ = "policy_versions"
    __table_args__ = (UniqueConstraint("name", "version", name="uq_policy_versions_name_version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(40))  # plan_policy | contact_rules | segments
    version: Mapped[int] = mapped_column(Integer)  # 1, 2, ... per document (0 is the shipped file)
    text: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64))
    created_by: Mapped[str] = mapped_column(String(60))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


# --- debtor feedback and propensity to pay (bot/feedback.py, bot/propensity.py) --------------------------------------


class FeedbackRequest(Base):
    """The one question asked at the end of a conversation (bot/feedback.py): when it was asked and by whose end
    (the bot's goodbye or an agent's resolve), and the debtor's answer: a score of 1-5 and an optional comment
    (stored redacted, like every inbound message). At most one per session of a conversation (the unique
    constraint): an SMS number or an email address is one conversation for years, each visit a session of it."""

    __tablename__ = "feedback_requests"
    __table_args__ = (UniqueConstraint("conversation_id", "session_started_at",
                                       name="uq_feedback_requests_conversation_session"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True, default=lambda: new_id("fbk"))
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id"))
    channel: Mapped[str] = mapped_column(String(20))
    ended_by: Mapped[str] = mapped_column(String(10))  # bot | agent
    agent_id: Mapped[str | None] = mapped_column(ForeignKey("users.id"), index=True)
    handoff_id: Mapped[str | None] = mapped_column(ForeignKey("handoffs.id"))
    intent: Mapped[str | None] = mapped_column(String(60))  # what the conversation was about (its last request)
    question_message_id: Mapped[int] = mapped_column(Integer)
    # The session it was asked in (Conversation.session_started_at then; its start when it had none). Not given
    # (a row made outside bot/feedback.py: the demo, tests): the time it was asked, a session of its own.
    session_started_at: Mapped[datetime] = mapped_column(
        UTCDateTime, default=lambda context: context.get_current_parameters()["asked_at"])
    asked_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    score: Mapped[int | None] = mapped_column(Integer)
    score_message_id: Mapped[int | None] = mapped_column(Integer)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    comment: Mapped[str | None] = mapped_column(Text)
    comment_message_id: Mapped[int | None] = mapped_column(Integer)


class PropensityModel(Base):
    """A trained propensity-to-pay model (bot/propensity.py): the fitted, calibrated estimator (joblib bytes; written
    and read only by Settle itself), with its version, when it was trained, on how much history, and how good it was
    (cross-validated AUC, Brier score, reliability table, the features that drive it). The newest one is used."""

    __tablename__ = "propensity_models"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    version: Mapped[str] = mapped_column(String(20), unique=True)
    trained_at: Mapped[datetime] = mapped_column(UTCDateTime)
    history_as_of: Mapped[datetime] = mapped_column(UTCDateTime)  # features up to here, payments after it the label
    horizon_days: Mapped[int] = mapped_column(Integer)
    accounts: Mapped[int] = mapped_column(Integer)
    positives: Mapped[int] = mapped_column(Integer)
    cv_auc: Mapped[float] = mapped_column(Float)
    brier: Mapped[float] = mapped_column(Float)
    report: Mapped[dict[str, Any]] = mapped_column(JSON)  # features, reliability table, drivers
    estimator: Mapped[bytes] = mapped_column(LargeBinary)
