"""Paying in a real browser (headless Chromium) against the running system with the Stripe stand-in: the debtor
asks to pay in the chat, confirms the amount, opens the link, types a test card on the hosted checkout page (never
in the chat, never on our gateway: PCI-1), lands on our thank-you page, and the balance drops by exactly that
amount once, with a receipt in the chat.

And the checkout page as a payer first sees it (issue 21), for a one-off payment and for a plan's first payment
with the autopay choice: every field's label and value (all empty: Settle gives Stripe no email to fill in), no
choice made for them, and nothing of Settle's internals (field keys, metadata keys or ids) anywhere on it. These
run against a stand-in and a gateway in this process (tests/payments_helpers.py), without Rasa."""

from __future__ import annotations

import re
from datetime import date

import httpx
import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from bot.db import session_scope
from bot.db.models import Account, Message, Payment
from bot.payments.autopay_authorisation import active_autopay
from tests.integration.chat import Chat
from tests.payments_helpers import (
    add_plan,
    balance,
    ledger_count,
    link_for,
    pay_env_fixture,  # noqa: F401 - the pay_env fixture
    verified_debtor,
)

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


# --- the checkout page as the payer sees it -------------------------------------------------------------------


@pytest.fixture
def engine(sqlite_engine):
    """The page does not depend on the database: SQLite only here (pay_env runs on this engine)."""
    return sqlite_engine


CARD_FIELDS = [  # (label, type, value) as a payer sees them, in page order: all empty
    ("Email", "email", ""), ("Card number", "text", ""), ("Expiry (MM / YY)", "text", ""), ("CVC", "text", ""),
    ("Name on card", "text", ""), ("ZIP", "text", ""),
]
AUTOPAY_CHOICE = ("Later plan payments", "select-one", "")  # no choice made for the payer (Reg E 1005.10(e))
IDENTIFIER = re.compile(r"\b[a-z0-9]+_[a-z0-9_]+\b")  # snake_case: field keys, metadata keys, setup_future_usage


def _controls(page: Page) -> list[tuple[str | None, str, str, bool]]:
    """Every control a person can fill or tick, in page order: (its label's text, type, value, checked)."""
    return [tuple(c) for c in page.eval_on_selector_all(
        "input:not([type=hidden]), select, textarea",
        "els => els.map(e => [e.labels.length ? e.labels[0].innerText.trim() : null, e.type, e.value, !!e.checked])")]


def _shown(page: Page) -> str:
    """All a person can read or find filled in: the title, the page's text, every control's value and every
    dropdown option's text."""
    values = page.eval_on_selector_all("input, select, textarea", "els => els.map(e => e.value)")
    options = page.eval_on_selector_all("option", "els => els.map(e => e.textContent)")
    return "\n".join([page.title(), page.inner_text("body"), *values, *options])


def _assert_nothing_internal(page: Page, checkout) -> None:
    """No field key, metadata key or internal id on the page: in its text or in any value."""
    shown = _shown(page)
    metadata = checkout.metadata.to_dict()
    ids = [value for key, value in metadata.items() if key.endswith("_id") and value]
    internal = ["field_", "autopay", *metadata, *ids, *(f.key for f in checkout.custom_fields or [])]
    assert [word for word in internal if word.lower() in shown.lower()] == []
    assert IDENTIFIER.findall(shown) == []
    assert checkout.id not in shown


def test_the_checkout_page_for_a_one_off_payment_starts_empty_with_every_field_labelled(pay_env, new_page):
    conversation_id, account_id = verified_debtor(pay_env.engine, balance_cents=30000)
    url = link_for(pay_env, conversation_id, amount=12550)
    page = new_page()
    page.goto(url)  # our link, then Stripe's page (the stand-in's), as a payer's browser follows it
    assert page.url.startswith(pay_env.standin.url + "/checkout/")
    checkout = pay_env.client.v1.checkout.sessions.retrieve(page.url.rsplit("/", 1)[1])
    assert checkout.customer is None and checkout.customer_email is None  # so Stripe would fill in no email
    expect(page.get_by_test_id("amount")).to_have_text("$125.50")
    assert _controls(page) == [(label, kind, value, False) for label, kind, value in CARD_FIELDS]
    for label, _, value in CARD_FIELDS:  # found by its label, as a screen reader or a person finds it
        expect(page.get_by_label(label, exact=True)).to_have_value(value)
    _assert_nothing_internal(page, checkout)
    assert balance(pay_env.engine, account_id) == 30000


def test_a_plans_first_payment_page_fills_in_nothing_and_chooses_nothing_for_the_payer(pay_env, new_page):
    """Issue 21: "Name on card" came pre-filled with "field_autopay" here (a variable shadowed by the loop that
    draws the custom fields)."""
    conversation_id, account_id = verified_debtor(pay_env.engine, balance_cents=45000)
    plan_id = add_plan(pay_env.engine, conversation_id, account_id, [15000, 15000, 15000], date.today())
    page = new_page()
    page.goto(link_for(pay_env, conversation_id, "installment"))
    checkout = pay_env.client.v1.checkout.sessions.retrieve(page.url.rsplit("/", 1)[1])
    assert checkout.customer and [f.key for f in checkout.custom_fields] == ["autopay"]
    customer = pay_env.client.v1.customers.retrieve(checkout.customer)
    assert customer.email is None and checkout.customer_email is None  # Settle gives Stripe no email to fill in
    expect(page.get_by_test_id("amount")).to_have_text("$150.00")
    assert _controls(page) == [(label, kind, value, False) for label, kind, value in [*CARD_FIELDS, AUTOPAY_CHOICE]]
    for label, _, value in CARD_FIELDS:
        expect(page.get_by_label(label, exact=True)).to_have_value(value)
    choice = page.get_by_label("Later plan payments", exact=True)
    expect(choice).to_have_value("")
    assert choice.locator("option:checked").inner_text() == "Choose one"
    assert page.locator("input[type=checkbox]:checked").count() == 0  # nothing ticked for the payer either
    expect(page.get_by_text("I authorise", exact=False)).to_be_visible()  # the authorisation, next to the choice
    _assert_nothing_internal(page, checkout)

    # And the page works as it reads: the payer types a card, chooses autopay, pays once.
    page.get_by_label("Card number").fill("4242 4242 4242 4242")
    page.get_by_label("Expiry (MM / YY)").fill("12 / 34")
    page.get_by_label("CVC").fill("123")
    page.get_by_label("Name on card").fill("Robin Test")
    choice.select_option(label="Take them from this card on their due dates")
    page.get_by_role("button", name="Pay $150.00").click()
    expect(page.get_by_role("heading", name="Thank you")).to_be_visible()
    pay_env.idle()
    assert balance(pay_env.engine, account_id) == 30000 and ledger_count(pay_env.engine, account_id) == 1
    with session_scope(pay_env.engine) as session:
        assert active_autopay(session, plan_id) is not None
    method = pay_env.client.v1.payment_methods.retrieve(
        pay_env.client.v1.payment_intents.retrieve(
            pay_env.client.v1.checkout.sessions.retrieve(checkout.id).payment_intent).payment_method)
    assert method.billing_details.name == "Robin Test" and method.customer == checkout.customer


def test_a_spanish_speaking_debtor_gets_stripes_page_in_spanish_whatever_the_browser_says(pay_env, new_page):
    """Issue 23: Settle asks Stripe Checkout for locale "es-419" (Latin American Spanish) when the debtor speaks
    Spanish, and the page a payer sees is in Spanish on an English browser, and so are our pages before and after
    it (cancelled, thank you); a debtor whose language is not known gets "auto" (the browser's). Mutations tried:
    checkout_locale returning "auto" always (the page came in English); service.known_link_language returning None
    (the thank-you page came in English); pay_routes._language ignoring the browser (the cancelled page of an
    unknown debtor came in English to a Spanish browser)."""
    conversation_id, account_id = verified_debtor(pay_env.engine, balance_cents=30000)
    with session_scope(pay_env.engine) as session:
        session.get(Account, account_id).debtor.language = "es"
    page = new_page(locale="en-US")
    page.goto(link_for(pay_env, conversation_id, amount=12550))
    assert page.url.startswith(pay_env.standin.url + "/checkout/")
    checkout = pay_env.client.v1.checkout.sessions.retrieve(page.url.rsplit("/", 1)[1])
    assert checkout.locale == "es-419"
    expect(page.locator("html")).to_have_attribute("lang", "es")
    for label in ("Correo electrónico", "Número de tarjeta", "Vencimiento (MM / AA)", "Nombre en la tarjeta",
                  "Código postal"):
        expect(page.get_by_label(label, exact=True)).to_have_value("")
    page.get_by_label("Número de tarjeta").fill("4000 0000 0000 0002")
    page.get_by_label("Vencimiento (MM / AA)").fill("12 / 34")
    page.get_by_label("CVC").fill("123")
    page.get_by_role("button", name="Pagar $125.50").click()
    expect(page.get_by_role("alert")).to_have_text("Su tarjeta fue rechazada.")
    # Leaving the page: our page says nothing was charged, in Spanish; going back opens the same Spanish page.
    page.get_by_role("link", name="Volver").click()
    expect(page.get_by_role("heading", name="No se hizo ningún pago")).to_be_visible()
    expect(page.locator("html")).to_have_attribute("lang", "es")
    page.get_by_role("link", name="Volver a pagar").click()
    page.get_by_label("Número de tarjeta").fill("4242 4242 4242 4242")
    page.get_by_label("Vencimiento (MM / AA)").fill("12 / 34")
    page.get_by_label("CVC").fill("123")
    page.get_by_role("button", name="Pagar $125.50").click()
    expect(page.get_by_role("heading", name="Gracias")).to_be_visible()
    expect(page.get_by_text("Recibimos su pago de $125.50. Número de recibo:")).to_be_visible()
    expect(page.get_by_text("Su recibo también está en el chat.")).to_be_visible()

    unknown_id, _ = verified_debtor(pay_env.engine, balance_cents=30000)  # no language known: the browser's
    spanish_browser = new_page(locale="es-US")
    unknown_link = link_for(pay_env, unknown_id, amount=5000)
    spanish_browser.goto(unknown_link)
    checkout = pay_env.client.v1.checkout.sessions.retrieve(spanish_browser.url.rsplit("/", 1)[1])
    assert checkout.locale == "auto"
    expect(spanish_browser.get_by_role("button", name="Pagar $50.00")).to_be_visible()
    # Our own page around it follows the same browser (pay_routes._language).
    spanish_browser.goto(unknown_link + "?cancelled=1")
    expect(spanish_browser.get_by_role("heading", name="No se hizo ningún pago")).to_be_visible()


def test_a_debtor_who_switches_to_spanish_after_a_failed_try_gets_the_spanish_page(pay_env, new_page):
    """Stripe made the session but answered 500 (so our retry and the next click reuse the attempt's idempotency
    key); meanwhile the debtor switched to Spanish. The link still opens, in Spanish: the locale is part of the key,
    so the new parameters are not refused as a reuse of the key. Mutation tried: the key without the locale (the
    page said "Please try again in a few minutes", and kept saying it)."""
    conversation_id, account_id = verified_debtor(pay_env.engine, balance_cents=30000)
    url = link_for(pay_env, conversation_id, amount=12550)
    httpx.post(f"{pay_env.standin.url}/_standin/faults", json={
        "path": "/v1/checkout/sessions", "mode": "error", "status": 500, "times": 2, "when": "after"})
    page = new_page(locale="en-US")
    page.goto(url)
    expect(page.get_by_role("heading", name="Please try again in a few minutes")).to_be_visible()
    with session_scope(pay_env.engine) as session:
        session.get(Account, account_id).debtor.language = "es"
    page.goto(url)
    expect(page.get_by_role("button", name="Pagar $125.50")).to_be_visible()
    assert page.url.startswith(pay_env.standin.url + "/checkout/")
