"""Demo history for the compliance console: a handful of past conversations, made through the real services
(disputes, opt-out, handoff, the outbound gate on an agent's reply), so their chain and flags are real. Then the
conversations' start is dated yesterday or earlier (a change of Conversation.started_at is not part of the
transcript). Idempotent: it does nothing when the history is already there."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot import audit, contact_preferences, conversations, disputes, handoff
from bot.compliance import outbound_gate
from bot.db.models import Account, Conversation, Debtor

PREFIX = "demo-history-"


def seed(session: Session, now: datetime | None = None) -> int:
    """Create the demo history; returns how many conversations it made (0 when present or no demo accounts)."""
    now = now or datetime.now(timezone.utc)
    if session.scalar(select(Conversation.id).where(Conversation.external_id.like(f"{PREFIX}%")).limit(1)):
        return 0
    accounts = list(session.scalars(select(Account).order_by(Account.account_ref).limit(4)))
    if len(accounts) < 4:
        return 0
    made = []

    def start(account: Account, name: str, days_ago: int) -> Conversation:
        conversation = conversations.get_or_create(session, "rest", PREFIX + name)
        conversation.debtor_id, conversation.account_id = account.debtor_id, account.id
        conversation.started_at = now - timedelta(days=days_ago, hours=2)
        made.append(conversation)
        return conversation

    def verified(conversation: Conversation) -> None:
        conversation.verified_at = conversation.started_at + timedelta(minutes=1)
        audit.record(session, "identity_verified", rule_id="ID-1", conversation_id=conversation.id,
                     account_id=conversation.account_id)

    said = conversations.record_message
    c = start(accounts[0], "dispute", 1)
    said(session, c, direction="in", sender_role="debtor", text="I don't think I owe this")
    verified(c)
    disputes.record_dispute(session, c.id, "all", statement="I don't think I owe this")
    said(session, c, direction="out", sender_role="bot", text="Thanks. I've noted your dispute.", status="sent")

    c = start(accounts[1], "cease", 1)
    said(session, c, direction="in", sender_role="debtor", text="stop contacting me")
    phone = session.scalar(select(Debtor.phone).where(Debtor.id == accounts[1].debtor_id)) or PREFIX + "cease"
    contact_preferences.opt_out(session, "sms", phone, via="chat", conversation_id=c.id)

    c = start(accounts[2], "handoff", 2)
    said(session, c, direction="in", sender_role="debtor", text="let me talk to a person")
    handoff.request(session, c.id, "request_human", rule_id="HO-1")
    reply = "If you don't pay we will have you arrested."
    verdict = outbound_gate.check_reply(session, c, reply, sender_role="agent")
    message = said(session, c, direction="out", sender_role="agent", text=reply,
                   status="sent" if verdict.allowed else "blocked")
    message.rule_ids = list(verdict.rule_ids) or None

    c = start(accounts[3], "balance", 3)
    said(session, c, direction="in", sender_role="debtor", text="what do I owe?")
    verified(c)
    said(session, c, direction="out", sender_role="bot", text="Here is your balance.", status="sent")
    session.flush()
    return len(made)
