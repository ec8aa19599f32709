"""Paying in a real browser (headless Chromium) against the running system with the Stripe stand-in: the debtor
asks to pay in the chat, confirms the amount, opens the link, types a test card on the hosted checkout page (never
in the chat, never on our gateway: PCI-1), lands on our thank-you page, and the balance drops by exactly that
amount once, with a receipt in the chat."""

from __future__ import annotations

import re

import httpx
import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from bot.db.models import Account, Message, Payment
from tests.integration.chat import Chat

pytestmark = [pytest.mark.browser, pytest.mark.integration]

LINK = re.compile(r"https?://\S+/pay/[a-z2-7]{20}")


def _link_from_chat(stack, amount: str, balance_cents: int) -> tuple[Chat, str, str]:
    chat = Chat(stack, "browser")
    reference = chat.verify_as_new_debtor("i want to make a payment", balance_cents=balance_cents,
                                          creditor="Acme Bank")
    chat.say(amount)
    [url] = LINK.findall(" ".join(chat.say("YES")))
    return chat, reference, url


def _fill_card(page: Page, number: str) -> None:
    page.get_by_label("Email").fill("robin@example.com")
    page.get_by_label("Card number").fill(number)
    page.get_by_label("Expiry (MM / YY)").fill("12 / 34")
    page.get_by_label("CVC").fill("123")
    page.get_by_label("Name on card").fill("Robin Test")
    page.get_by_label("ZIP").fill("90210")


def _balance(chat: Chat, reference: str) -> int:
    with chat.session() as session:
        return session.scalars(select(Account.balance_cents).where(Account.account_ref == reference)).one()


def test_PCI_1_pay_with_4242_in_the_browser_and_see_the_balance_drop_once_with_a_receipt(running_stack, new_page):
    chat, reference, url = _link_from_chat(running_stack, "$125.50", 84510)
    page = new_page()
    requests_to_gateway: list[str] = []
    page.on("request", lambda r: requests_to_gateway.append(r.post_data or "")
            if r.url.startswith(running_stack.config.gateway_url) else None)
    page.goto(url)
    assert page.url.startswith(running_stack.config.stripe_url + "/checkout/")  # Stripe's page, not ours
    expect(page.get_by_test_id("amount")).to_have_text("$125.50")
    _fill_card(page, "4242 4242 4242 4242")
    page.get_by_role("button", name="Pay $125.50").click()
    expect(page.get_by_role("heading", name="Thank you")).to_be_visible()
    assert page.url.startswith(running_stack.config.gateway_url + "/pay/done")
    expect(page.get_by_text("We received your payment of $125.50")).to_be_visible()
    assert not any("4242" in body for body in requests_to_gateway)  # the card never reached our gateway

    assert httpx.get(f"{running_stack.config.stripe_url}/_standin/webhooks/idle", timeout=60).json()["idle"]
    assert _balance(chat, reference) == 84510 - 12550
    with chat.session() as session:
        conversation = chat.conversation(session)
        [payment] = session.scalars(select(Payment).where(Payment.conversation_id == conversation.id)).all()
        receipts = session.scalars(select(Message.text).where(Message.conversation_id == conversation.id,
                                                              Message.text.contains("We received your payment"))).all()
    assert payment.status == "succeeded" and payment.card_last4 == "4242"
    assert len(receipts) == 1 and "$125.50" in receipts[0] and "$719.60" in receipts[0]
    expect(page.get_by_text(payment.reference)).to_be_visible()

    page.goto(url)  # the same link again: single use
    expect(page.get_by_text("This payment is already done")).to_be_visible()
    assert _balance(chat, reference) == 84510 - 12550


def test_a_declined_card_shows_on_the_page_and_another_card_then_pays(running_stack, new_page):
    chat, reference, url = _link_from_chat(running_stack, "$40", 30000)
    page = new_page()
    page.goto(url)
    _fill_card(page, "4000 0000 0000 0002")
    page.get_by_role("button", name="Pay $40.00").click()
    expect(page.get_by_role("alert")).to_have_text("Your card was declined.")
    expect(page.get_by_label("Card number")).to_have_value("")  # never echoed back
    assert _balance(chat, reference) == 30000
    _fill_card(page, "4000 0027 6000 3184")
    page.get_by_role("button", name="Pay $40.00").click()
    page.get_by_role("button", name="Complete authentication").click()  # the 3-D Secure test step
    expect(page.get_by_role("heading", name="Thank you")).to_be_visible()
    assert httpx.get(f"{running_stack.config.stripe_url}/_standin/webhooks/idle", timeout=60).json()["idle"]
    assert _balance(chat, reference) == 26000


def test_leaving_the_checkout_page_charges_nothing_and_the_link_still_works(running_stack, new_page):
    chat, reference, url = _link_from_chat(running_stack, "$30", 30000)
    page = new_page()
    page.goto(url)
    page.get_by_role("link", name="Back").click()
    expect(page.get_by_role("heading", name="No payment was made")).to_be_visible()
    page.get_by_role("link", name="Go back to pay").click()
    expect(page.get_by_test_id("amount")).to_have_text("$30.00")
    assert _balance(chat, reference) == 30000
