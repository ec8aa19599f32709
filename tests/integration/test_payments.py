"""Payments through the running system (action server, Rasa, gateway and the Stripe stand-in, 4 processes): a
verified debtor asks to pay, confirms the amount, follows the link, pays on the stand-in's checkout, and the
signed webhook brings the balance down once, with a receipt in the chat. Then a plan: its first payment saves the
card with the debtor's authorisation, and the scheduler (`python -m bot charge-installments`) charges the next
installment without anyone in the chat (PCI-1, PLAN-2, PLAN-3, DSP-2)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from datetime import datetime, time, timedelta, timezone

import httpx
import pytest
from sqlalchemy import select

from bot import contact_preferences
from bot.config import PROJECT_ROOT
from bot.db.models import Account, Debtor, Installment, Payment, Plan
from bot.payments import texts
from bot.payments.autopay_authorisation import active_autopay
from tests.integration.chat import Chat

pytestmark = pytest.mark.integration

LINK = re.compile(r"https?://\S+/pay/[a-z2-7]{20}")


def _standin(stack, method: str, path: str, body: dict | None = None) -> dict:
    response = httpx.request(method, f"{stack.config.stripe_url}/_standin/{path}", json=body, timeout=60)
    assert response.status_code < 500, response.text
    return response.json()


def _pay(stack, url: str, **extra: object) -> dict:
    followed = httpx.get(url, follow_redirects=False, timeout=60)
    assert followed.status_code == 303, followed.text
    session_id = followed.headers["location"].rsplit("/", 1)[1]
    outcome = _standin(stack, "POST", f"checkout/{session_id}/pay", {"card": "4242 4242 4242 4242", **extra})
    assert _standin(stack, "GET", "webhooks/idle")["idle"]
    return outcome


def _account(chat: Chat, reference: str) -> Account:
    with chat.session() as session:
        return session.scalars(select(Account).where(Account.account_ref == reference)).one()


def test_PCI_1_chat_link_checkout_webhook_ledger_receipt(running_stack):
    chat = Chat(running_stack, "pay")
    reference = chat.verify_as_new_debtor("i want to pay", balance_cents=84510, creditor="Acme Bank")
    asked = " ".join(chat.replies[-3:])
    assert "How much would you like to pay?" in asked and "Full balance: $845.10" in asked
    confirm = " ".join(chat.say("$200"))
    assert "You'd like to pay $200.00" in confirm and "$645.10" in confirm and "/pay/" not in confirm
    sent = " ".join(chat.say("yes"))
    [url] = LINK.findall(sent)
    assert "don't send card details" in sent
    assert _pay(running_stack, url)["kind"] == "succeeded"
    assert _account(chat, reference).balance_cents == 84510 - 20000
    with chat.session() as session:
        conversation = chat.conversation(session)
        [payment] = session.scalars(select(Payment).where(Payment.conversation_id == conversation.id)).all()
        from bot.db.models import Message

        receipts = session.scalars(select(Message.text).where(Message.conversation_id == conversation.id,
                                                              Message.text.contains("We received your payment"))).all()
    assert payment.status == "succeeded" and len(receipts) == 1 and "$645.10" in receipts[0]
    # The balance the bot states now is the ledger's (TONE-2).
    assert "$645.10" in " ".join(chat.say("what's my balance"))


def test_pay_now_with_the_full_balance_button_and_a_change_of_mind(running_stack):
    chat = Chat(running_stack, "pay")
    chat.verify_as_new_debtor("can i pay this off today", balance_cents=50000, creditor="Acme Bank")
    assert "You'd like to pay your full balance of $500.00" in " ".join(chat.replies[-2:])
    assert "You'd like to pay $100.00" in " ".join(chat.say("actually just $100"))
    assert "No problem. Nothing has been charged" in " ".join(chat.say("never mind"))
    assert "/pay/" not in " ".join(chat.replies)


def test_DSP_2_no_link_in_the_chat_on_a_disputed_account(running_stack):
    chat = Chat(running_stack, "pay")
    chat.verify_as_new_debtor("i want to pay", balance_cents=50000, creditor="Acme Bank")
    # DSP-1: the reason given in words is taken as it is (no reason menu), and the dispute is recorded.
    assert "I recorded your dispute" in " ".join(chat.say("wait, this isn't my debt"))
    after = " ".join(chat.say("i want to pay now"))
    assert "on hold" in after and "/pay/" not in after


def test_PLAN_3_a_plan_starts_with_a_link_and_the_scheduler_charges_the_next_installment(running_stack):
    chat = Chat(running_stack, "plan")
    reference = chat.verify_as_new_debtor("i can pay $150 a month", balance_cents=60000, creditor="Acme Bank")
    chat.say("1")
    confirmation = " ".join(chat.say("YES"))
    [url] = LINK.findall(confirmation)
    assert "your first payment of $150.00 is due" in confirmation
    assert _pay(running_stack, url)["kind"] == "invalid"  # no answer to "later plan payments?"
    assert _pay(running_stack, url, fields={"autopay": "yes"})["kind"] == "succeeded"
    account = _account(chat, reference)
    assert account.balance_cents == 45000
    with chat.session() as session:
        plan = session.scalars(select(Plan).where(Plan.account_id == account.id)).one()
        second = session.scalars(select(Installment).where(Installment.plan_id == plan.id,
                                                           Installment.number == 2)).one()
        assert active_autopay(session, plan.id) is not None
        # EMAIL-1: the PLAN-3 notice must go where the debtor can keep it, never as a chat bubble: by text to a
        # number they texted us from (the safe harbour; they have no email address).
        debtor = session.get(Debtor, account.debtor_id)
        debtor.phone = "+15555550177"
        contact_preferences.record_inbound(session, "sms", debtor.phone, datetime.now(timezone.utc))

    env = {**os.environ, "DATABASE_URL": running_stack.config.database_url,
           "STRIPE_API_BASE": running_stack.config.stripe_url, "PYTHONPATH": str(PROJECT_ROOT)}
    env.pop("STRIPE_SECRET_KEY", None)

    def scheduler(day: datetime) -> str:
        result = subprocess.run([sys.executable, "-m", "bot", "charge-installments", "--now", day.isoformat()],
                                cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, result.stderr
        return result.stdout

    notice_day = texts.add_business_days(second.due_date, -7)
    for day in (notice_day - timedelta(days=5), notice_day):  # queue the PLAN-3 notice, then send it
        scheduler(datetime.combine(day, time(19), tzinfo=timezone.utc))
    assert "charged" not in scheduler(datetime.combine(second.due_date - timedelta(days=1), time(19),
                                                       tzinfo=timezone.utc))  # never early
    out = scheduler(datetime.combine(second.due_date, time(19), tzinfo=timezone.utc))
    assert "charged 1" in out, out
    assert _account(chat, reference).balance_cents == 30000
    out = scheduler(datetime.combine(second.due_date, time(20), tzinfo=timezone.utc))
    assert "charged" not in out and _account(chat, reference).balance_cents == 30000
