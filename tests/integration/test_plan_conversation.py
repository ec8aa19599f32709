"""The plan conversation end to end: gateway, Rasa and the action server, ending with a plan in the database.

Demo debtors used only here (SET-100002 is locked out by the ID-3 test in test_conversations.py, which shares
this session's stack): SET-100025 Chloe Martin, Acme Bank, $5,025.00; SET-100017 Hana Kim, Northwind Credit
Union (monthly only, 12 months at most, 10% down), $415.00. Expected options come from the engine itself, with
today in the debtor's time zone, so the tests assert what the policy allows on the day they run."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from bot.compliance import esign
from bot.compliance.disclosures import DEBT_COLLECTOR_DISCLOSURE
from bot.db import get_engine, session_scope
from bot.db.models import Account, AuditEvent, Conversation, Debtor, Installment, Plan
from bot.plans import describe_option, parse_affordability, propose, service
from tests.integration.chat import letters

pytestmark = pytest.mark.integration


class Chat:
    """Like test_conversations.Chat, but keeps whole replies: buttons matter here."""

    def __init__(self, stack) -> None:
        self.url = f"{stack.config.gateway_url}/webhooks/rest/webhook"
        self.sender = f"itest-plan-{letters()}"
        self.replies: list[dict[str, Any]] = []

    def say(self, text: str) -> list[str]:
        response = httpx.post(self.url, json={"sender": self.sender, "message": text}, timeout=60)
        assert response.status_code == 200
        self.replies = response.json()
        return [r.get("text", "") for r in self.replies]

    def buttons(self) -> list[dict[str, Any]]:
        return [b for r in self.replies for b in r.get("buttons") or []]


def expected(stack, account_ref: str, said: str):
    """What the engine offers this account today (in the debtor's time zone) for these words."""
    with session_scope(get_engine(stack.config.database_url)) as session:
        account = session.scalars(select(Account).where(Account.account_ref == account_ref)).one()
        today = service.debtor_today(session.get(Debtor, account.debtor_id))
        # The policy the service uses: the creditor's, with the account's segment's plan variant (issue 20).
        return propose(account.balance_cents, service.policy_for(session, account), parse_affordability(said),
                       today=today)


def test_PLAN_2_ask_before_verification_counter_offer_questions_mid_flow_and_agree(running_stack):
    """PLAN-1, PLAN-2, PLAN-4, DISC-1, DISC-4: from "can I pay $150 a month" to a stored plan."""
    chat = Chat(running_stack)
    before = " ".join(chat.say("can i pay $150 a month"))
    assert "confirm who you are" in before and "$" not in before  # ID-1 / DISC-3: nothing about the debt yet
    chat.say("12/31/1989")
    chat.say("8080")
    offered = chat.say("SET-100025")
    assert offered[0] == DEBT_COLLECTOR_DISCLOSURE  # DISC-1 before the first debt information
    proposal = expected(running_stack, "SET-100025", "can i pay $150 a month")
    assert f"1. {describe_option(proposal.options[0])}" in offered[-1]
    assert "Reply 1, 2 or 3 to choose" in offered[-1]
    assert chat.buttons()[0]["payload"] == '/choose_option{"plan_choice":"1"}'

    # Questions mid-flow are answered, then the options come back.
    balance = chat.say("what's my balance?")
    assert any(t.startswith("Your balance with Acme Bank") and "$5,025.00" in t for t in balance)
    assert balance[-1].startswith("Here are your options again:")
    bot = chat.say("are you a bot?")
    assert "not a person" in bot[0] and bot[-1].startswith("Here are your options again:")

    # A new amount (PLAN-4: their own proposal, if the policy allows it).
    counter = chat.say("actually 200 a month")
    proposal = expected(running_stack, "SET-100025", "actually 200 a month")
    option = proposal.options[0]
    assert option.matches_request and f"1. {describe_option(option)}" in counter[-1]

    terms = chat.say("1")
    assert terms[0] == service.terms_text(option) and "Reply YES to agree to these terms" in terms[1]
    confirmed = chat.say("YES")
    reference = re.search(r"PLN-[A-Z2-9]{6}", confirmed[0]).group(0)
    # PCI-1: what happens next is the first payment's own secure link (bot/payments).
    assert confirmed[1] == terms[0] and "your first payment of" in confirmed[2] and "/pay/" in confirmed[2]

    with session_scope(get_engine(running_stack.config.database_url)) as session:
        plan = session.scalars(select(Plan).where(Plan.reference == reference)).one()
        installments = session.scalars(select(Installment).where(Installment.plan_id == plan.id)).all()
        conversation = session.scalars(select(Conversation).where(Conversation.external_id == chat.sender)).one()
        assert plan.conversation_id == conversation.id and plan.status == "awaiting_first_payment"
        assert plan.terms_text == terms[0] and plan.consent_text == "YES"
        assert plan.installment_count == option.count == len(installments)
        assert sum(i.amount_cents for i in installments) == plan.total_cents == 502500
        event = session.scalars(select(AuditEvent).where(AuditEvent.kind == "plan_created",
                                                         AuditEvent.conversation_id == conversation.id)).one()
        assert event.rule_id == "PLAN-2"

    status = chat.say("when is my next payment")
    assert status[0].startswith(f"Your plan {reference}:") and status[1].startswith("Next payment: $200.00 on ")


def test_PLAN_4_northwind_counter_offer_below_policy_then_never_mind(running_stack):
    """A plan question before verification is answered from the database once verified (ID-1). Northwind allows
    monthly payments only, with 10% down: the nearest plan and the reason, then a polite end."""
    chat = Chat(running_stack)
    assert "$" not in " ".join(chat.say("whats left on my plan"))
    chat.say("01/19/1999")
    chat.say("8899")
    status = chat.say("SET-100017")
    assert status[:2] == [DEBT_COLLECTOR_DISCLOSURE, "You don't have a plan with us right now. Your balance with "
                          "Northwind Credit Union is $415.00. Say 'payment plan' if you'd like to set one up."]
    # EMAIL-1: the first verified turn that asks nothing else ends with the E-SIGN question for the waiting notice.
    assert len(status) == 3 and esign.QUESTION_MARK in status[2]
    offered = chat.say("can i do 20 a week")
    proposal = expected(running_stack, "SET-100017", "can i do 20 a week")
    assert proposal.note and proposal.note in " ".join(offered)
    assert "Weekly payments aren't available for this account." in proposal.note
    assert all(o.frequency in (None, "monthly") for o in proposal.options)
    assert f"1. {describe_option(proposal.options[0])}" in offered[-1]
    assert "every 2 weeks" not in offered[-1] and "weekly payments" not in offered[-1]
    ended = chat.say("never mind")
    assert ended == ["No problem. I haven't set anything up. If you'd like other options, tell me what you can pay, "
                     "or say 'talk to a person'."]
    with session_scope(get_engine(running_stack.config.database_url)) as session:
        account = session.scalars(select(Account).where(Account.account_ref == "SET-100017")).one()
        assert session.scalars(select(Plan).where(Plan.account_id == account.id)).first() is None


def test_PLAN_1_the_demo_example_150_a_month_on_2400_is_16_payments_agreed_and_stored(running_stack):
    """Issue 3's example on the demo data: SET-100026 owes $2,400.00 to Woodgrove Bank (default policy)."""
    chat = Chat(running_stack)
    chat.say("i can pay $150 a month")
    chat.say("05/20/1983")
    chat.say("2468")
    offered = " ".join(chat.say("SET-100026"))
    assert "16 monthly payments" in offered and "$150.00" in offered and "$2,400.00" in offered
    assert chat.buttons(), "the options are buttons on the web too"
    terms = " ".join(chat.say("1"))
    assert "No fees" in terms and "YES" in terms
    confirmed = " ".join(chat.say("YES"))
    reference = re.search(r"PLN-[A-Z0-9]{6}", confirmed).group(0)
    with session_scope(get_engine(running_stack.config.database_url)) as session:
        plan = session.scalars(select(Plan).where(Plan.reference == reference)).one()
        amounts = [i.amount_cents for i in plan.installments]
    assert (plan.installment_count, plan.total_cents, plan.status) == (16, 240000, "awaiting_first_payment")
    assert amounts == [15000] * 16
