"""Stripe's test cards and what each one does (https://docs.stripe.com/testing). Only these numbers are
accepted, as in Stripe's test mode; a real card number is refused without being kept. The number itself is never
stored or logged: a PaymentMethod keeps the brand, the last four digits and the behaviour."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class TestCard:
    brand: str
    funding: str
    # succeed | decline | authenticate_always (every payment needs 3-D Secure, so off-session ones fail) |
    # authenticate_once (the first payment needs it; off-session payments after it was saved succeed)
    behaviour: str
    decline_code: str | None = None


CARDS: dict[str, TestCard] = {
    "4242424242424242": TestCard("visa", "credit", "succeed"),
    "4000056655665556": TestCard("visa", "debit", "succeed"),
    "5555555555554444": TestCard("mastercard", "credit", "succeed"),
    "378282246310005": TestCard("amex", "credit", "succeed"),
    "4000000000000002": TestCard("visa", "credit", "decline", "generic_decline"),
    "4000000000009995": TestCard("visa", "credit", "decline", "insufficient_funds"),
    "4000000000000069": TestCard("visa", "credit", "decline", "expired_card"),
    "4000000000000127": TestCard("visa", "credit", "decline", "incorrect_cvc"),
    "4000002760003184": TestCard("visa", "credit", "authenticate_always"),
    "4000002500003155": TestCard("visa", "credit", "authenticate_once"),
}

# What Stripe says for each decline: (error code, message).
DECLINES: dict[str, tuple[str, str]] = {
    "generic_decline": ("card_declined", "Your card was declined."),
    "insufficient_funds": ("card_declined", "Your card has insufficient funds."),
    "expired_card": ("expired_card", "Your card has expired."),
    "incorrect_cvc": ("incorrect_cvc", "Your card's security code is incorrect."),
    "test_mode_live_card": ("card_declined", "Your card was declined. Your request was in test mode, but used a "
                                             "non test (live) card. For a list of valid test cards, visit: "
                                             "https://stripe.com/docs/testing."),
}
AUTHENTICATION_REQUIRED = ("authentication_required", "Your card was declined. This transaction requires "
                                                      "authentication.")
AUTHENTICATION_FAILED = ("payment_intent_authentication_failure", "We are unable to authenticate your payment "
                                                                  "method. Please choose a different payment "
                                                                  "method and try again.")


def digits(text: str) -> str:
    return "".join(c for c in text if c.isdigit())


def luhn_valid(number: str) -> bool:
    if not number.isdigit() or not 12 <= len(number) <= 19:
        return False
    total = 0
    for index, char in enumerate(reversed(number)):
        value = int(char)
        if index % 2 == 1:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def lookup(number: str) -> TestCard | None:
    return CARDS.get(number)
