"""Demo history for the compliance console: a handful of past conversations, made through the real services
(disputes, opt-out, handoff, the outbound gate on an agent's reply), so their chain and flags are real. Each
conversation is dated yesterday or earlier, each message and event a minute after the one before. Idempotent: it
does nothing when the history is already there.

It uses only the demo portfolio's rows reserved for it (HISTORY_ACCOUNTS), never the accounts the README's
walkthroughs name: a dispute holds its account and a STOP suppresses its phone, so on SET-100001 (the README's
balance and pay-now account) the walkthroughs could not be done (issue 21)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot import audit, contact_preferences, conversations, disputes, handoff
from bot.agents import queue
from bot.compliance import outbound_gate
from bot.db.models import Account, Conversation, Debtor, Message

PREFIX = "demo-history-"
# data/demo_portfolio.csv's rows for the history, in the order the conversations below use them: dispute, cease,
# handoff with a blocked agent reply, balance. tests/test_demo_data.py checks the README names none of them.
HISTORY_ACCOUNTS = ("SET-100027", "SET-100028", "SET-100029", "SET-100030")


def seed(session: Session, now: datetime | None = None) -> int:
    """Create the demo history; returns how many conversations it made (0 when present or when the reserved demo
    accounts are not all there)."""
    now = now or datetime.now(timezone.utc)
    if session.scalar(select(Conversation.id).where(Conversation.external_id.like(f"{PREFIX}%")).limit(1)):
        return 0
    by_ref = {account.account_ref: account
              for account in session.scalars(select(Account).where(Account.account_ref.in_(HISTORY_ACCOUNTS)))}
    if len(by_ref) < len(HISTORY_ACCOUNTS):
        return 0
    accounts = [by_ref[ref] for ref in HISTORY_ACCOUNTS]
    made = []
    clock: dict[str, datetime] = {}

    def at(conversation: Conversation) -> datetime:
        """Each step of a demo conversation a minute after the one before, from its start."""
        clock[conversation.id] = clock[conversation.id] + timedelta(minutes=1)
        return clock[conversation.id]

    def start(account: Account, name: str, days_ago: int) -> Conversation:
        conversation = conversations.get_or_create(session, "rest", PREFIX + name)
        conversation.debtor_id, conversation.account_id = account.debtor_id, account.id
        # On the calendar day `days_ago` before today (UTC, the day the compliance console's date filter reads),
        # whatever the hour now: "24 hours ago" was the day before yesterday in the first hours of a UTC day.
        day = (now - timedelta(days=days_ago)).replace(hour=0, minute=0, second=0, microsecond=0)
        conversation.started_at = day + timedelta(hours=14)
        clock[conversation.id] = conversation.started_at
        made.append(conversation)
        return conversation

    def said(conversation: Conversation, **fields: object) -> Message:
        return conversations.record_message(session, conversation, at=at(conversation), **fields)  # type: ignore[arg-type]

    def verified(conversation: Conversation) -> None:
        conversation.verified_at = at(conversation)
        audit.record(session, "identity_verified", rule_id="ID-1", conversation_id=conversation.id,
                     account_id=conversation.account_id, at=conversation.verified_at)

    c = start(accounts[0], "dispute", 1)
    said(c, direction="in", sender_role="debtor", text="what do I owe?")
    verified(c)
    said(c, direction="in", sender_role="debtor", text="I don't think I owe this")
    receipts = disputes.record_dispute(session, c.id, "all", statement="I don't think I owe this", now=at(c))
    said(c, direction="out", sender_role="bot", text=disputes.confirmation(receipts), status="sent")

    c = start(accounts[1], "cease", 1)
    said(c, direction="in", sender_role="debtor", text="STOP")
    phone = session.scalar(select(Debtor.phone).where(Debtor.id == accounts[1].debtor_id)) or PREFIX + "cease"
    contact_preferences.opt_out(session, "sms", phone, via="keyword:STOP", conversation_id=c.id, now=at(c))
    said(c, direction="out", sender_role="bot", status="sent",
         text="You're unsubscribed and won't get more texts from us. Reply START to resubscribe.")

    c = start(accounts[2], "handoff", 2)
    said(c, direction="in", sender_role="debtor", text="let me talk to a person")
    asked = handoff.request(session, c.id, "request_human", rule_id="HO-1", now=at(c))
    asked.status, asked.claimed_at = queue.CLAIMED, at(c)
    reply = "If you don't pay we will have you arrested."
    verdict = outbound_gate.check_reply(session, c, reply, sender_role="agent")
    message = said(c, direction="out", sender_role="agent", text=reply,
                   status="sent" if verdict.allowed else "blocked")
    message.rule_ids = list(verdict.rule_ids) or None
    # Closed that day: a day-old waiting request would sit in every agent's queue and lengthen the wait the bot
    # quotes to real debtors (no person claimed it: the history has no console users).
    asked.status, asked.outcome, asked.resolved_at = queue.RESOLVED, "no_contact", at(c)

    c = start(accounts[3], "balance", 3)
    said(c, direction="in", sender_role="debtor", text="what do I owe?")
    verified(c)
    said(c, direction="out", sender_role="bot", text="Here is your balance.", status="sent")
    session.flush()
    return len(made)
