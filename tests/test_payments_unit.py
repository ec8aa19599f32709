"""The pure parts of payments: reading "how much?", the calendar PLAN-3 counts in, pay link tokens, and the
wording the debtor gets (TONE-1 clean, figures exact, no card ask: PCI-1)."""

from __future__ import annotations

from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot import wording
from bot.compliance import tone
from bot.compliance.redaction import contains_card_number
from bot.payments import service, texts

OPTIONS = service.PayOptions(
    "acc_1", "Acme Bank", "USD", 240000,
    (service.PayChoice("installment", 15000, "", installment_id="ins_1", plan_id="pln_1"),
     service.PayChoice("balance", 240000, ""),
     service.PayChoice("settlement", 192000, "", settles_cents=240000)))


@pytest.mark.parametrize("said, kind, cents", [
    ("the full balance", "balance", 240000),
    ("pay it all off", "balance", 240000),
    ("$2,400.00", "balance", 240000),
    ("settle", "settlement", 192000),
    ("i'd like the settlement", "settlement", 192000),
    ("my next payment", "installment", 15000),
    ("150", "installment", 15000),
    ("$200", "amount", 20000),
    ("200.5", "amount", 20050),
    ("i can pay 75 today", "amount", 7500),
    ("can i pay fifty bucks today", "amount", 5000),
    ("quiero pagar cincuenta dolares", "amount", 5000),
    ("a hundred and fifty dollars", "installment", 15000),
    ("pay my next payment", "installment", 15000),
    ("quiero pagar todo", "balance", 240000),
    ("mi próximo pago", "installment", 15000),
])
def test_what_the_debtor_says_they_will_pay(said, kind, cents):
    """Mutation tried: `amounts.amounts_in` left out of `understand` -> "fifty bucks" and "cincuenta dolares"
    understood as nothing (the tester's "can i pay fifty bucks today" lost its $50)."""
    understood = service.understand(OPTIONS, said)
    assert understood.choice is not None and (understood.choice.kind, understood.choice.amount_cents) == (kind, cents)


@pytest.mark.parametrize("said, problem", [("$5000", "more than your balance of $2,400.00"),
                                           ("$0.50", "smallest payment I can take is $1.00")])
def test_TONE_2_an_amount_out_of_range_is_refused_with_the_ledgers_figure(said, problem):
    assert problem in service.understand(OPTIONS, said).problem


@pytest.mark.parametrize("said", ["$150 a month", "50 every week", "can i do 40 per month"])
def test_a_monthly_amount_is_a_plan_not_a_payment(said):
    assert service.understand(OPTIONS, said).wants_plan


@pytest.mark.parametrize("said", ["whats my balance now", "what's my balance?", "how much do I owe", "cuánto debo",
                                  "cual es mi saldo"])
def test_TONE_2_a_question_about_the_balance_is_a_question_not_an_answer(said):
    """At "how much would you like to pay?", "whats my balance now" is answered (then the amount asked again), never
    taken for "pay the full balance". Mutation tried: the `_BALANCE_QUESTION` check removed -> "You'd like to pay
    your full balance of $1,184.56. Is that right?" (the tester's finding)."""
    understood = service.understand(OPTIONS, said)
    assert understood.asks_balance and understood.choice is None
    assert service.understand(OPTIONS, "pay my whole balance").choice.kind == "balance"


def test_a_button_picks_its_choice_and_nonsense_picks_nothing():
    assert service.understand(OPTIONS, "", picked="settlement").choice.amount_cents == 192000
    assert service.understand(OPTIONS, "", picked="bogus").choice is None
    assert service.understand(OPTIONS, "purple monkey").choice is None


@given(st.integers(min_value=service.MIN_PAYMENT_CENTS, max_value=240000))
def test_any_typed_amount_within_the_balance_is_taken_to_the_cent(cents):
    said = f"${cents // 100:,}.{cents % 100:02d}"
    assert service.understand(OPTIONS, said).choice.amount_cents == cents


def test_only_a_pay_link_tokens_hash_is_kept():
    hashed = service.hash_token("abc")
    assert hashed != "abc" and len(hashed) <= 64 and not contains_card_number(hashed)  # PCI-3


@pytest.mark.parametrize("start, end, days", [
    (date(2026, 3, 2), date(2026, 3, 5), 3),  # Monday to Thursday
    (date(2026, 3, 6), date(2026, 3, 9), 1),  # Friday to Monday
    (date(2026, 3, 6), date(2026, 3, 6), 0),
    (date(2026, 3, 2), date(2026, 3, 16), 10),
])
def test_PLAN_3_business_days_are_counted_after_the_start_up_to_the_end(start, end, days):
    assert texts.business_days_between(start, end) == days


def test_PLAN_3_adding_business_days_skips_weekends_both_ways():
    assert texts.add_business_days(date(2026, 3, 6), 3) == date(2026, 3, 11)
    assert texts.add_business_days(date(2026, 3, 16), -7) == date(2026, 3, 5)


def test_link_expiry_is_said_in_the_debtors_own_time():
    zone = ZoneInfo("America/Los_Angeles")
    assert texts.link_expiry(datetime(2026, 3, 6, 23, 5, tzinfo=timezone.utc), zone) == \
        "Friday, March 6, 2026 at 3:05 PM"
    assert texts.link_expiry(datetime(2026, 3, 7, 8, 0, tzinfo=timezone.utc), zone) == \
        "at the end of Friday, March 6, 2026"


def _every_message(language: str = "en") -> list[str]:
    card = texts.card_label("visa", "4242", language)
    lang = {"language": language}
    return [
        texts.pay_link(15000, "USD", "https://x.example/pay/abc", "Friday, March 6", autopay=True, **lang),
        texts.receipt(amount_cents=15000, currency="USD", paid_on=date(2026, 3, 6), card=card, reference="PAY-7K",
                      balance_cents=225000, creditor="Acme Bank", **lang),
        texts.plan_progress(number=1, count=16, reference="PLN-1", next_amount=15000, next_due=date(2026, 4, 6),
                            currency="USD", autopay_card=card, **lang),
        texts.authorisation(business="Settle Services", support="help@example.com", plan_reference="PLN-1",
                            count=15, amount_text="$150.00", first_due=date(2026, 4, 6), last_due=date(2027, 6, 6),
                            **lang),
        texts.debit_notice(amount_cents=15000, currency="USD", debit_on=date(2026, 4, 6), card=card,
                           plan_reference="PLN-1", number=2, count=16, **lang),
        texts.autopay_declined(amount_cents=15000, currency="USD", due=date(2026, 4, 6),
                               reason=texts.decline_reason("insufficient_funds", language),
                               url="https://x.example/pay/abc", retry_on=date(2026, 4, 9), missed_on=None, **lang),
        texts.missed(amount_cents=15000, currency="USD", due=date(2026, 4, 6), url="https://x.example/pay/abc",
                     **lang),
        texts.refund(amount_cents=5000, currency="USD", card=card, balance_cents=10000, creditor="Acme Bank", **lang),
        texts.held(15000, "USD", language),
        texts.async_failed(15000, "USD", language),
        service.confirmation_question(service.PayOptions("a", "Acme", "USD", 240000, language=language),
                                      service.PayChoice("settlement", 192000, "", settles_cents=240000)),
    ]


@pytest.mark.parametrize("text", _every_message() + _every_message("es"))
def test_TONE_1_payment_messages_make_no_banned_claim_and_never_ask_for_a_card(text):
    assert tone.lint(text) == []
    assert "card number" not in text.lower() and "cvc" not in text.lower()  # PCI-1
    assert "número de tarjeta" not in text.lower()
    assert not contains_card_number(text)  # PCI-3: only the last four


def test_receipts_and_notices_are_in_spanish_with_spanish_dates_and_us_money():
    """Issue 23: the same facts in the debtor's language; the money keeps the US format a Spanish-speaking debtor
    in the US sees on their own statements ("$2,250.00")."""
    receipt, progress = _every_message("es")[1:3]
    assert receipt == ("Gracias. Recibimos su pago de $150.00 el viernes, 6 de marzo de 2026 con su tarjeta Visa que "
                       "termina en 4242. Su saldo con Acme Bank ahora es $2,250.00. Número de recibo: PAY-7K.")
    assert "Próximo pago: $150.00 el lunes, 6 de abril de 2026." in progress
    zone = ZoneInfo("America/Los_Angeles")
    assert texts.link_expiry(datetime(2026, 3, 6, 23, 5, tzinfo=timezone.utc), zone, "es") == \
        "el viernes, 6 de marzo de 2026 a las 3:05 p.m."
    assert all(not any(word in text for word in ("Thank", "payment", " the ")) for text in _every_message("es"))


def test_DSP_2_the_held_payment_note_is_not_a_payment_ask():
    from bot.compliance.holds import is_payment_ask

    assert not is_payment_ask(texts.held(15000, "USD"))
    # The autopay notice names the plan, so the gate holds it if the account goes on hold before it is sent.
    assert is_payment_ask(_every_message()[4])
    assert not is_payment_ask(texts.held(15000, "USD", "es"))


@pytest.mark.parametrize("text", ["Su pago vence hoy, pague ahora.", "Le ofrecemos un plan de pagos.",
                                  "Responda 'pagar ahora' para recibir un enlace seguro.",
                                  "Puede hacer un pago con su tarjeta.", "Pague lo antes posible."])
def test_DSP_2_a_spanish_payment_ask_is_one(text):
    """The gate holds payment asks on a disputed account (DSP-2): a Spanish ask must count as one too.
    Mutation tried: the Spanish half of holds._PAYMENT_ASK removed (all five failed)."""
    from bot.compliance.holds import is_payment_ask

    assert is_payment_ask(text)
    assert is_payment_ask(_every_message("es")[4])  # the Spanish PLAN-3 notice names the plan too


def test_a_first_payment_link_refused_after_the_plan_is_agreed_is_logged_with_its_rule(
        sqlite_engine, caplog: pytest.LogCaptureFixture):
    """The plan confirmation then gives the plain "what happens next" instead of the link (PCI-1): unexpected right
    after the yes, so the log says which rule refused it (one bench conversation in 300 got no link, and nothing
    said why). Mutation tried: the warning removed -> nothing logged."""
    import logging
    from datetime import timedelta

    from bot.config import Settings
    from bot.db import session_scope
    from bot.db.models import Account, Plan
    from tests.payments_helpers import add_plan, verified_debtor

    conversation_id, account_id = verified_debtor(sqlite_engine)
    plan_id = add_plan(sqlite_engine, conversation_id, account_id, [25000, 25000],
                       date.today() + timedelta(days=3))
    with session_scope(sqlite_engine) as session:
        session.get(Account, account_id).collection_paused_reason = "hardship"  # VUL-2: paused meanwhile
    with caplog.at_level(logging.WARNING, logger="settle.payments"), session_scope(sqlite_engine) as session:
        message = service.first_payment_message(session, session.get(Plan, plan_id), conversation_id,
                                                Settings(database_url=str(sqlite_engine.url)))
    assert message is None
    [record] = [r for r in caplog.records if "first payment's link" in r.getMessage()]
    assert f"plan {plan_id} was refused (VUL-2)" in record.getMessage()


@pytest.mark.parametrize("said, cents", [("12,50", 1250), ("$12,50", 1250), ("pay 12,50 today", 1250),
                                         ("1,250", 125000), ("12.5", 1250)])
def test_TONE_2_a_typed_amount_is_read_exactly_and_a_comma_before_two_digits_is_the_cents(said, cents):
    """Exploratory tester: "12,50" became "You'd like to pay $12.00". A comma then exactly two digits is the cents
    (how Spanish and most of the world write them): $12.50, said back for the yes. Mutation tried: the `_FIGURE`
    read removed from `understand` -> $12.00: fails."""
    assert service.understand(OPTIONS, said).choice.amount_cents == cents


@pytest.mark.parametrize("said, key", [
    ("12.345", "pay_amount_inexact"), ("$12.345", "pay_amount_inexact"), ("12,5", "pay_amount_inexact"),
    ("1.234,56", "pay_amount_inexact"),
    ("-50", "pay_amount_negative"), ("$-50", "pay_amount_negative"), ("-$50", "pay_amount_negative"),
    ("i want to pay -50", "pay_amount_negative"),
])
def test_TONE_2_an_amount_that_cannot_be_read_exactly_or_is_negative_is_refused_and_asked_again(said, key):
    """Exploratory tester: "12.345" became $12.00 and "-50" became $50.00. Now the person is told why and asked
    again (the action asks after a problem), nothing is chosen. Mutation tried: the UnreadableAmount branch
    returning nothing (the old readers go on) -> $12.00 and $50.00 chosen: fails."""
    understood = service.understand(OPTIONS, said)
    assert understood.choice is None and understood.problem == wording.say(key)


@given(cents=st.integers(min_value=service.MIN_PAYMENT_CENTS, max_value=240000), comma=st.booleans(),
       dollar=st.booleans())
def test_TONE_2_property_any_amount_typed_with_a_dot_or_a_comma_for_the_cents_is_taken_to_the_cent(cents, comma,
                                                                                                   dollar):
    said = f"{'$' if dollar else ''}{cents // 100}{',' if comma else '.'}{cents % 100:02d}"
    assert service.understand(OPTIONS, said).choice.amount_cents == cents


@given(dollars=st.integers(1, 10**6), extra=st.text(alphabet="0123456789", min_size=3, max_size=5))
def test_TONE_2_property_more_than_two_decimals_is_never_rounded_or_cut(dollars, extra):
    assert service.understand(OPTIONS, f"{dollars}.{extra}").problem == wording.say("pay_amount_inexact")


@given(cents=st.integers(1, 10**8), form=st.sampled_from(["-{}", "-${}", "$-{}", "\u2212{}", "- {}"]))
def test_TONE_2_property_a_negative_amount_is_always_refused(cents, form):
    said = form.format(f"{cents // 100}.{cents % 100:02d}")
    understood = service.understand(OPTIONS, said)
    assert understood.choice is None and understood.problem == wording.say("pay_amount_negative")
