"""What the debtor reads about payments (VOICE.md: plain words, exact figures from the ledger, dates spelled out,
always a next step). Kept together so tone tests and reviewers find every payment message in one place."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from bot import wording
from bot.plans.terms import format_date  # noqa: F401  (callers use texts.format_date)
from bot.wording import formats

NO_CARDS_IN_CHAT = wording.say("no_cards_in_chat")  # the English ones, for callers that test for them
ASK_A_PERSON = wording.say("pay_ask_a_person")


def _money(cents: int, currency: str, language: str | None) -> str:
    return formats.money(cents, currency, language)


def _date(day: date, language: str | None) -> str:
    return formats.long_date(day, language)


def link_expiry(expires_at: datetime, zone: ZoneInfo, language: str | None = None) -> str:
    """In the debtor's own time: "Friday, March 6 at 3:05 PM", or "at the end of Friday, March 6" for midnight."""
    local = expires_at.astimezone(zone)
    if (local.hour, local.minute) == (0, 0):
        return wording.say("expiry_midnight", language, date=_date(local.date() - timedelta(days=1), language))
    hour = local.strftime("%I:%M").lstrip("0")
    noon = ("AM", "PM") if language != wording.SPANISH else ("a.m.", "p.m.")
    return wording.say("expiry_time", language, date=_date(local.date(), language),
                       time=f"{hour} {noon[local.hour >= 12]}")


def pay_link(amount_cents: int, currency: str, url: str, expires: str, *, autopay: bool,
             language: str | None = None) -> str:
    """PCI-1: a link to the hosted page, never a request for card details."""
    text = wording.say("pay_link", language, amount=_money(amount_cents, currency, language), url=url,
                       expires=expires)
    return f"{text} {wording.say('pay_link_autopay', language)}" if autopay else text


def receipt(*, amount_cents: int, currency: str, paid_on: date, card: str | None, reference: str,
            balance_cents: int, creditor: str, language: str | None = None) -> str:
    paid_with = wording.say("receipt_paid_with", language, card=card) if card else ""
    return wording.say("receipt", language, amount=_money(amount_cents, currency, language),
                       date=_date(paid_on, language), paid_with=paid_with, creditor=creditor,
                       balance=_money(balance_cents, currency, language), reference=reference)


def settled(creditor: str, language: str | None = None) -> str:
    return wording.say("settled", language, creditor=creditor)


def plan_progress(*, number: int, count: int, reference: str, next_amount: int | None, next_due: date | None,
                  currency: str, autopay_card: str | None, language: str | None = None) -> str:
    done = wording.say("progress_done", language, number=number, count=count, reference=reference)
    if next_amount is None or next_due is None:
        return f"{done} {wording.say('progress_complete', language)}"
    how = wording.say("progress_autopay", language, card=autopay_card) if autopay_card else \
        wording.say("progress_link", language)
    return (f"{done} " + wording.say("progress_next", language, amount=_money(next_amount, currency, language),
                                     date=_date(next_due, language)) + f" {how}")


def autopay_on(*, card: str, authorisation: str, language: str | None = None) -> str:
    """PLAN-2: the debtor's copy of the authorisation they gave on the payment page."""
    return wording.say("autopay_on", language, card=card, authorisation=authorisation)


def authorisation(*, business: str, support: str, plan_reference: str, count: int, amount_text: str,
                  first_due: date, last_due: date, language: str | None = None) -> str:
    """PLAN-2 (Reg E 1005.10(b), Nacha WEB terms): what is charged, when, and how to stop it."""
    payments = wording.say("authorisation_one", language) if count == 1 else \
        wording.say("authorisation_many", language, count=count)
    return wording.say("authorisation", language, business=business, support=support, reference=plan_reference,
                       payments=payments, amount=amount_text, first=_date(first_due, language),
                       last=_date(last_due, language))


def debit_notice(*, amount_cents: int, currency: str, debit_on: date, card: str, plan_reference: str, number: int,
                 count: int, language: str | None = None) -> str:
    """PLAN-3: the notice before a scheduled debit. It names the payment plan, which also makes the outbound gate
    hold it if the account goes on hold before it is sent (DSP-2: no payment talk on a disputed debt)."""
    return wording.say("debit_notice", language, date=_date(debit_on, language),
                       amount=_money(amount_cents, currency, language), card=card, reference=plan_reference,
                       number=number, count=count)


def autopay_declined(*, amount_cents: int, currency: str, due: date, reason: str, url: str, retry_on: date | None,
                     missed_on: date | None, language: str | None = None) -> str:
    parts = [wording.say("autopay_declined", language, amount=_money(amount_cents, currency, language),
                         due=_date(due, language), reason=reason, url=url)]
    if retry_on is not None:
        parts.append(wording.say("autopay_retry", language, date=_date(retry_on, language)))
    elif missed_on is not None:
        parts.append(wording.say("autopay_missed_on", language, date=_date(missed_on, language)))
    parts.append(wording.say("pay_ask_a_person", language))
    return " ".join(parts)


def autopay_notice_blocked(*, amount_cents: int, currency: str, due: date, url: str, expires: str, missed_on: date,
                           language: str | None = None) -> str:
    """PLAN-3: the debit did not run because its notice could not be given; the link, and when it counts as missed."""
    return " ".join([wording.say("autopay_notice_blocked", language, amount=_money(amount_cents, currency, language),
                                 due=_date(due, language), url=url, expires=expires),
                     wording.say("autopay_missed_on", language, date=_date(missed_on, language)),
                     wording.say("pay_ask_a_person", language)])


def missed(*, amount_cents: int, currency: str, due: date, url: str, language: str | None = None) -> str:
    return (wording.say("missed", language, amount=_money(amount_cents, currency, language), due=_date(due, language),
                        url=url) + " " + wording.say("pay_ask_a_person", language))


def decline_reason(code: str | None, language: str | None = None) -> str:
    known = ("authentication_required", "insufficient_funds", "expired_card")
    return wording.say(f"decline_{code if code in known else 'other'}", language)


def refund(*, amount_cents: int, currency: str, card: str | None, balance_cents: int, creditor: str,
           language: str | None = None) -> str:
    to = wording.say("refund_to", language, card=card) if card else ""
    return wording.say("refund", language, amount=_money(amount_cents, currency, language), to=to,
                       creditor=creditor, balance=_money(balance_cents, currency, language))


def held(amount_cents: int, currency: str, language: str | None = None) -> str:
    """DSP-2: money that arrived for a disputed debt is acknowledged, not applied, and never followed by an ask."""
    return wording.say("payment_held", language, amount=_money(amount_cents, currency, language))


def async_failed(amount_cents: int, currency: str, language: str | None = None) -> str:
    return wording.say("async_failed", language, amount=_money(amount_cents, currency, language)) + " " + \
        wording.say("pay_ask_a_person", language)


def card_label(brand: str | None, last4: str | None, language: str | None = None) -> str | None:
    """"Visa card ending 4242" / "tarjeta Visa que termina en 4242": only the brand and last four are ever kept
    (PCI-3)."""
    if not last4:
        return None
    names = {"visa": "Visa", "mastercard": "Mastercard", "amex": "American Express", "discover": "Discover"}
    name = names.get((brand or "").lower())
    return wording.say("card_label", language, brand=name, last4=last4) if name else \
        wording.say("card_label_plain", language, last4=last4)


def card_word(language: str | None = None) -> str:
    """What a card with no label is called ("card")."""
    return wording.say("card_word", language)


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
