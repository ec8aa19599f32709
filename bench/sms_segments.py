"""How many SMS segments each wording key takes, rendered with realistic values as a text (bot/sms.py).

    .venv-app/bin/python -m bench.sms_segments            # the longest keys first, both languages
    .venv-app/bin/python -m bench.sms_segments --all      # every key

The values are long-side realistic: a two-word creditor, a four-figure amount, a spelled-out date, the pay link's
own length. A placeholder that takes another key's words ("{authorisation}", "{fees}") gets those words rendered
in the same language, so a key is measured as the debtor reads it. tests/test_sms_budget.py holds every key to
bot/sms.REPLY_SEGMENTS with these values."""

from __future__ import annotations

import string
import sys
from datetime import date

from bot import sms, wording
from bot.compliance import tone
from bot.payments import texts as payment_texts
from bot.plans import service as plans
from bot.plans.due_dates import monthly_date
from bot.plans.options import Installment, PlanOption
from bot.wording import formats

DAY, LAST_DAY = date(2026, 9, 30), date(2027, 8, 30)
PAY_URL = "https://pay.settle.example.com/pay/Qx7Lm2Vb9Tz4Wk8Rn3Yp"
MONEY, BALANCE = 123456, 98765  # cents


def values(language: str) -> dict[str, object]:
    """Every placeholder's realistic value in `language`."""

    def say(key: str, **more: object) -> str:
        return wording.say(key, language, **more)

    def money(cents: int) -> str:
        return formats.money(cents, "USD", language)

    when = formats.long_date(DAY, language)
    card = say("card_label", brand="Visa", last4="4242")
    fees = say("fees", amount=money(2500), items=say("fee_item", name="Setup", amount=money(2500),
                                                   authority=say("authority_contract")))
    head = say("terms_head_equal", count=12, counted=say("counted_monthly"), amount=money(10288))
    return {
        "account": "ending 4821", "address": "j***@example.com", "amount": money(MONEY), "authority":
        say("authority_contract"), "balance": money(BALANCE), "begin": "BEGIN SETTLE COPY", "brand": "Visa",
        "business": "Settle Services", "card": card, "choices": "\n".join(
            f"{n}. {say(k)}" for n, k in enumerate(("dispute_kind_all", "dispute_kind_amount",
                                                    "dispute_kind_not_mine", "dispute_kind_already_paid"), 1)),
        "count": 12, "counted": say("counted_monthly"), "creditor": "Northwind Bank", "date": when,
        "day": "30th", "days": "Monday to Friday", "discount": money(12345), "disputed": say(
            "dispute_item", amount=money(MONEY), last4="4821"), "due": when, "end": "END SETTLE COPY",
        "ends": when, "entries": 42, "every": say("every_monthly"), "example": "$50", "examples":
        f"{say('plan_example_monthly')} {say('or')} {say('plan_example_biweekly')}", "expires":
        say("expiry_time", date=formats.long_date(DAY, language, year=False), time="11:45 PM"), "fees": fees,
        "first": when, "head": head, "high": money(15000), "hours": say(
            "hours_zone", spans=say("hours_span", days=say("hours_day_range", first=say("day_0"),
                                                           last=say("day_4")), start="8:00 AM", end="8:00 PM"),
            zone=say("zone_new_york")), "items": say("fee_item", name="Setup", amount=money(2500),
                                                      authority=say("authority_contract")),
        "keyword": "STOP", "label": say("callback_label", date=when, start="2:00 PM", end="3:00 PM",
                                        zone=say("zone_new_york")), "last": formats.long_date(LAST_DAY, language),
        "last4": "4821", "left": money(BALANCE), "line": 12, "link": " ".join((say(  # a first payment's link
            "pay_link", amount=money(10288), url=PAY_URL, expires=say("expiry_time", date=formats.long_date(
                DAY, language, year=False), time="11:45 PM")), say("pay_link_autopay"))),
        "low": money(5000), "minimum": money(2500),
        "minutes": say("minutes_many", count=15), "months": 24, "name": "Setup", "named": say("named_weekly"),
        "number": 3, "numbers": wording.numbers(3, language), "others": f"{money(45000)} to Contoso Retail",
        "paid_with": say("receipt_paid_with", card=card), "payments": say("authorisation_many", count=11),
        "per": say("per_monthly"), "question": say("plan_ask_how_often", examples=say("plan_example_monthly")),
        "reason": say("decline_insufficient_funds"), "reference": "PLN-7Q4K9M", "rest": say("day_of_month", day="30th"),
        "runs": say("terms_then").join((say("terms_run", count=1, amount=money(24000)),
                                        say("terms_run", count=11, amount=money(10288)))),
        "save": say("esign_web_save"), "short": say("or_last_day"), "spans": say(
            "hours_span", days=say("hours_day_range", first=say("day_0"), last=say("day_4")), start="8:00 AM",
            end="8:00 PM"), "start": "8:00 AM", "summary": say("summary_first", head=say(
                "summary_head", count=12, counted=say("counted_monthly"), amount=money(10288)), amount=money(24000)),
        "support": "support@example.com", "text": say("balance_next"), "time": "11:45 PM", "times":
        say("inconvenient_after", time="9:00 PM"), "to": say("refund_to", card=card), "total": money(MONEY),
        "tries": say("verify_tries_many", count=2), "url": PAY_URL, "wait": say("wait_minutes", minutes=15),
        "when": when, "where": say("handoff_where_sms"), "zone": say("zone_new_york"),
        "authorisation": say("authorisation", business="Settle Services", reference="PLN-7Q4K9M",
                             payments=say("authorisation_many", count=11), amount=money(10288),
                             first=when, last=formats.long_date(LAST_DAY, language), support="support@example.com"),
    }


def placeholders(text: str) -> set[str]:
    return {field for _, field, _, _ in string.Formatter().parse(text) if field}


def rendered(key: str, language: str) -> str:
    """The key's words as a text: realistic values in, smart punctuation and accents as bot/sms.py sends them."""
    text = wording.CATALOGUES[language][key]
    if placeholders(text):
        text = wording.say(key, language, **values(language))
    return sms.sms_text(text)


def as_contact(text: str, language: str) -> str:
    """A text as a bot-initiated SMS carries it: the DISC-2 notice first, the OPT-1 line last (the gate's lines)."""
    return sms.sms_text(tone.with_opt_out_line(tone.with_debt_collector_notice(text, language), language))


def measure() -> list[tuple[str, str, int, str, int, int]]:
    """(key, language, characters, encoding, segments, segments as a bot-initiated text) for every key in both
    languages; the last with the DISC-2 notice and the OPT-1 line the gate adds to a text Settle starts."""
    rows = []
    for language in wording.LANGUAGES:
        for key in wording.CATALOGUES[language]:
            text = rendered(key, language)
            rows.append((key, language, len(text), sms.encoding(text), sms.segment_count(text),
                         sms.segment_count(as_contact(text, language))))
    return rows


def twelve_monthly() -> PlanOption:
    """A realistic long plan: $1,234.56 over 12 months, the first payment larger."""
    dates = [monthly_date(DAY.year + (DAY.month - 1 + i) // 12, (DAY.month - 1 + i) % 12 + 1, DAY.day)
             for i in range(12)]
    amounts = [24000] + [9041] * 10 + [9045]
    payments = tuple(Installment(n, d, a) for n, (d, a) in enumerate(zip(dates, amounts, strict=True), 1))
    return PlanOption("plan", "monthly", payments, sum(amounts), 0, sum(amounts))


def composed(language: str) -> dict[str, str]:
    """The longest replies Settle composes from several keys, as the debtor's channel gets them (each is one
    message): the plan options, the terms to agree to, the plan confirmation, a receipt with its authorisation."""
    option = twelve_monthly()
    weekly = PlanOption("plan", "weekly", tuple(Installment(n, d, 2900) for n, d in enumerate(
        (DAY.fromordinal(DAY.toordinal() + 7 * i) for i in range(43)), 1)), 2900 * 43, 0, 2900 * 43)
    settlement = PlanOption("settlement", None, (Installment(1, DAY, 98765),), 98765, 0, MONEY)
    lines = "\n".join(f"{n}. {plans.describe_option(o, 'USD', language)}"
                      for n, o in enumerate((option, weekly, settlement), 1))
    pick = wording.say("plan_pick", language, numbers=wording.numbers(3, language))
    card = wording.say("card_label", language, brand="Visa", last4="4242")
    receipt = " ".join((
        payment_texts.receipt(amount_cents=24000, currency="USD", paid_on=DAY, card=card, reference="PAY-8H2K4Q",
                              balance_cents=MONEY - 24000, creditor="Northwind Bank", language=language),
        payment_texts.plan_progress(number=1, count=12, reference="PLN-7Q4K9M", next_amount=9041,
                                    next_due=option.installments[1].due, currency="USD", autopay_card=card,
                                    language=language),
        payment_texts.autopay_on(card=card, authorisation=str(values(language)["authorisation"]), language=language)))
    return {
        "plan options": f"{wording.say('plan_heading_many', language)}\n{lines}\n{pick}",
        "plan terms": plans.terms_text(option, "USD", language),
        "plan terms (weekly)": plans.terms_text(weekly, "USD", language),
        "receipt with autopay": receipt,
    }


def measure_composed() -> list[tuple[str, str, int, str, int, int]]:
    """(text, language, characters, encoding, segments whole, segments as sent over SMS with its link)."""
    link = sms.TextLinks("https://settle.example.com", "x" * 32).url(123456)
    rows = []
    for language in wording.LANGUAGES:
        for name, text in composed(language).items():
            whole, sent = sms.sms_text(text), sms.as_sent(text, link=link, language=language)
            rows.append((name, language, len(whole), sms.encoding(whole), sms.segment_count(whole),
                         sms.segment_count(sent)))
    return rows


def table(rows: list[tuple[str, str, int, str, int, int]]) -> str:
    lines = [f"{'key':<36} {'lang':<4} {'chars':>5} {'enc':<5} {'segs':>4} {'+lines':>6}"]
    lines += [f"{k:<36} {lang:<4} {n:>5} {enc:<5} {s:>4} {c:>6}" for k, lang, n, enc, s, c in rows]
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    rows = sorted(measure(), key=lambda r: (-r[4], -r[2]))
    print(table(rows if "--all" in argv else rows[:30]))
    over = [r for r in rows if r[4] > sms.REPLY_SEGMENTS]
    print(f"\n{len(rows)} texts; budget {sms.REPLY_SEGMENTS} segments; over it: {len(over)}\n")
    print(f"{'composed reply':<24} {'lang':<4} {'chars':>5} {'enc':<5} {'whole':>5} {'as sent':>7}")
    for name, lang, n, enc, whole, sent in measure_composed():
        print(f"{name:<24} {lang:<4} {n:>5} {enc:<5} {whole:>5} {sent:>7}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
