"""What the debtor reads about payments (VOICE.md: plain words, exact figures from the ledger, dates spelled out,
always a next step). Kept together so tone tests and reviewers find every payment message in one place."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.money import format_cents
from bot.plans.terms import format_date

NO_CARDS_IN_CHAT = "Please don't send card details in chat."
ASK_A_PERSON = "Say 'talk to a person' if you need help."


def link_expiry(expires_at: datetime, zone: ZoneInfo) -> str:
    """In the debtor's own time: "Friday, March 6 at 3:05 PM", or "at the end of Friday, March 6" for midnight."""
    local = expires_at.astimezone(zone)
    if (local.hour, local.minute) == (0, 0):
        return f"at the end of {format_date(local.date() - timedelta(days=1))}"
    hour = local.strftime("%I:%M %p").lstrip("0")
    return f"{format_date(local.date())} at {hour}"


def pay_link(amount_cents: int, currency: str, url: str, expires: str, *, autopay: bool) -> str:
    """PCI-1: a link to the hosted page, never a request for card details."""
    text = (f"Here's your secure link to pay {format_cents(amount_cents, currency)}: {url} "
            f"It works once and expires {expires}. {NO_CARDS_IN_CHAT}")
    if autopay:
        text += (" On the payment page you can also choose to have your later plan payments taken from the same "
                 "card on their due dates, or to pay each one with a link.")
    return text


def receipt(*, amount_cents: int, currency: str, paid_on: date, card: str | None, reference: str,
            balance_cents: int, creditor: str) -> str:
    paid_with = f" with your {card}" if card else ""
    return (f"Thank you. We received your payment of {format_cents(amount_cents, currency)} on "
            f"{format_date(paid_on)}{paid_with}. Your balance with {creditor} is now "
            f"{format_cents(balance_cents, currency)}. Receipt number: {reference}.")


def settled(creditor: str) -> str:
    return f"Your account with {creditor} is now settled in full. Thank you."


def plan_progress(*, number: int, count: int, reference: str, next_amount: int | None, next_due: date | None,
                  currency: str, autopay_card: str | None) -> str:
    done = f"Payment {number} of {count} on plan {reference} is done."
    if next_amount is None or next_due is None:
        return f"{done} Your plan is complete. Thank you."
    how = f" We'll take it from your {autopay_card}." if autopay_card else " We'll send you a link before then."
    return f"{done} Next payment: {format_cents(next_amount, currency)} on {format_date(next_due)}.{how}"


def autopay_on(*, card: str, authorisation: str) -> str:
    """PLAN-2: the debtor's copy of the authorisation they gave on the payment page."""
    return f"Automatic payments are on for your {card}. Your authorisation, for your records: {authorisation}"


def authorisation(*, business: str, support: str, plan_reference: str, count: int, amount_text: str,
                  first_due: date, last_due: date) -> str:
    """PLAN-2 (Reg E 1005.10(b), Nacha WEB terms): what is charged, when, and how to stop it."""
    payments = "payment" if count == 1 else f"{count} payments"
    return (f"I authorise {business} to charge this card for the rest of plan {plan_reference}: {payments} of "
            f"{amount_text}, on each due date from {format_date(first_due)} to {format_date(last_due)}, and to "
            f"keep the card on file for them. I will get a notice before each payment. I can stop this at any "
            f"time by saying 'talk to a person' in the chat or writing to {support} at least 3 business days "
            f"before a payment.")


def debit_notice(*, amount_cents: int, currency: str, debit_on: date, card: str, plan_reference: str, number: int,
                 count: int) -> str:
    """PLAN-3: the notice before a scheduled debit. It names the payment plan, which also makes the outbound gate
    hold it if the account goes on hold before it is sent (DSP-2: no payment talk on a disputed debt)."""
    return (f"A reminder: on {format_date(debit_on)} we'll take {format_cents(amount_cents, currency)} from your "
            f"{card} for your payment plan {plan_reference} (payment {number} of {count}). To stop automatic "
            f"payments, say 'talk to a person' at least 3 business days before.")


def autopay_declined(*, amount_cents: int, currency: str, due: date, reason: str, url: str, retry_on: date | None,
                     missed_on: date | None) -> str:
    text = (f"Your automatic payment of {format_cents(amount_cents, currency)} due {format_date(due)} didn't go "
            f"through: {reason} Nothing was taken. You can pay it with this secure link: {url}")
    if retry_on is not None:
        text += f" If you don't, we'll try your card again on {format_date(retry_on)}."
    elif missed_on is not None:
        text += f" If it isn't paid by {format_date(missed_on)}, we'll mark it as missed."
    return f"{text} {ASK_A_PERSON}"


def missed(*, amount_cents: int, currency: str, due: date, url: str) -> str:
    return (f"We couldn't collect your plan payment of {format_cents(amount_cents, currency)} due "
            f"{format_date(due)}, so it's marked as missed. You can still pay it with this secure link: {url} "
            f"{ASK_A_PERSON}")


def decline_reason(code: str | None) -> str:
    if code == "authentication_required":
        return "your bank wants you to confirm this payment yourself."
    if code == "insufficient_funds":
        return "your bank said there wasn't enough money available."
    if code == "expired_card":
        return "your card has expired."
    return "your bank declined it."


def refund(*, amount_cents: int, currency: str, card: str | None, balance_cents: int, creditor: str) -> str:
    to = f" to your {card}" if card else ""
    return (f"We've refunded {format_cents(amount_cents, currency)}{to}. Your balance with {creditor} is now "
            f"{format_cents(balance_cents, currency)}. It can take 5 to 10 days to show on your statement.")


def held(amount_cents: int, currency: str) -> str:
    """DSP-2: money that arrived for a disputed debt is acknowledged, not applied, and never followed by an ask."""
    return (f"We received a payment of {format_cents(amount_cents, currency)}. Because we're looking into your "
            "dispute, we haven't applied it to this account. A person on our team will review it and write to you.")


def async_failed(amount_cents: int, currency: str) -> str:
    return (f"Your payment of {format_cents(amount_cents, currency)} didn't go through, so nothing was taken. "
            f"Say 'pay now' to get a new link. {ASK_A_PERSON}")


def card_label(brand: str | None, last4: str | None) -> str | None:
    """"Visa card ending 4242": only the brand and last four are ever kept (PCI-3)."""
    if not last4:
        return None
    names = {"visa": "Visa", "mastercard": "Mastercard", "amex": "American Express", "discover": "Discover"}
    return f"{names.get((brand or '').lower(), 'card')} card ending {last4}".replace("card card", "card")


# --- business days (PLAN-3 counts them) ------------------------------------------------------------------------
# Weekdays only. Public holidays are not taken out, so a notice can be a day shorter than a bank would count
# around a holiday; the 7-business-day target leaves room for that (docs/compliance.md, PLAN-3).


def is_business_day(day: date) -> bool:
    return day.weekday() < 5


def add_business_days(day: date, count: int) -> date:
    step = 1 if count >= 0 else -1
    left = abs(count)
    while left:
        day += timedelta(days=step)
        if is_business_day(day):
            left -= 1
    return day


def business_days_between(start: date, end: date) -> int:
    """Business days after `start` up to and including `end` (Monday to Thursday is 3)."""
    if end <= start:
        return 0
    return sum(1 for n in range(1, (end - start).days + 1) if is_business_day(start + timedelta(days=n)))
