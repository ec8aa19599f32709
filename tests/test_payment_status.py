"""N4: "did you get my payment?" is answered from Settle's records, never recorded as a dispute (DSP-1 is a claim
of payment, not a question), and only to a verified debtor (ID-1, DISC-3)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from bot import accounts, conversations
from bot.db import session_scope
from bot.db.models import Account, AccountStatus, Dispute, Payment
from bot.payments import status
from tests.conftest import add_debtor

# 03:30 UTC on December 7 is still December 6 in Los Angeles, the test debtor's time zone.
PAID_AT = datetime(2026, 12, 7, 3, 30, tzinfo=timezone.utc)


def _verified(session, **debtor):
    debtor_row, account = add_debtor(session, **debtor)
    conv = conversations.get_or_create(session, "rest", f"web-{account.account_ref}")
    conv.debtor_id, conv.account_id, conv.verified_at = debtor_row.id, account.id, PAID_AT
    return conv, account


def _paid(session, account, cents: int, reference: str, when: datetime = PAID_AT, state: str = "succeeded"):
    session.add(Payment(reference=reference, account_id=account.id, method="checkout", amount_cents=cents,
                        status=state, applied_at=when if state == "succeeded" else None,
                        applied_cents=cents if state == "succeeded" else 0, created_at=when, updated_at=when))
    if state == "succeeded":
        account.balance_cents -= cents
    session.flush()


def test_N4_a_verified_debtor_hears_the_payment_received_its_day_reference_and_the_balance_now(engine):
    """The latest payment from our records: amount, the debtor's own calendar day (Los Angeles), the PAY- reference
    and the balance after it, after the DISC-1 disclosure. Mutation tried: the date in UTC (no astimezone) -> reads
    Monday, December 7 -> fails."""
    with session_scope(engine) as session:
        conv, account = _verified(session, balance_cents=123456)
        _paid(session, account, 10000, "PAY-TEST0001")
        messages = status.payment_status_messages(session, conv.id, PAID_AT)
    text = " ".join(messages)
    assert "attempt to collect a debt" in messages[0]  # DISC-1 before any figure
    assert "We received your payment of $100.00 on Sunday, December 6, 2026 (reference PAY-TEST0001)." in text
    assert "Your balance with Acme Bank (account ending 0001) is $1,134.56." in text
    assert "talk to a person" in messages[-1]  # a next step


def test_N4_DSP_1_asking_about_a_payment_records_no_dispute_and_holds_nothing(engine):
    """The defect: "did you get my payment?" recorded a dispute of the whole balance and paused collection. A question
    is not a claim: no dispute row, the account stays active. (The routing that made it a dispute is tested in
    tests/test_actions.py::test_N4_a_payment_question_after_verification_answers_and_opens_no_dispute_form.)"""
    with session_scope(engine) as session:
        conv, account = _verified(session)
        _paid(session, account, 2500, "PAY-TEST0002")
        status.payment_status_messages(session, conv.id, PAID_AT)
        assert session.scalar(select(func.count()).select_from(Dispute)) == 0
        assert session.get(Account, account.id).status == AccountStatus.ACTIVE


def test_N4_ID_1_nothing_about_payments_before_verification(engine):
    """ID-1 / DISC-3: an unverified conversation hears nothing of a payment. Mutation tried: reading the accounts by
    the conversation's debtor_id instead of verified_accounts -> still refused, by opening_disclosure's own check
    (two guards); that and no opening_disclosure -> the payment was read out -> fails."""
    with session_scope(engine) as session:
        debtor, account = add_debtor(session)
        _paid(session, account, 2500, "PAY-TEST0003")
        conv = conversations.get_or_create(session, "rest", "web-unverified")
        conv.debtor_id, conv.account_id = debtor.id, account.id  # known, but not verified
        with pytest.raises(accounts.NotVerified):
            status.payment_status_messages(session, conv.id, PAID_AT)


def test_N4_no_payment_yet_says_so_and_offers_a_person(engine):
    with session_scope(engine) as session:
        conv, _ = _verified(session)
        session.add(Payment(reference="PAY-TEST0004", account_id=conv.account_id, method="checkout",
                            amount_cents=5000, status="failed", created_at=PAID_AT, updated_at=PAID_AT))
        session.flush()
        text = " ".join(status.payment_status_messages(session, conv.id, PAID_AT))
    assert "I don't see a payment from you in our records yet." in text
    assert "$50.00" not in text and "PAY-TEST0004" not in text  # a failed payment was not received
    assert "$1,234.56" in text


def test_N4_DSP_2_a_held_payment_is_received_but_not_applied(engine):
    """A payment on a disputed account is held (DSP-2): it was received, and the answer says it is not applied."""
    with session_scope(engine) as session:
        conv, account = _verified(session)
        _paid(session, account, 7500, "PAY-TEST0005", state="held")
        text = " ".join(status.payment_status_messages(session, conv.id, PAID_AT))
    assert "We received your payment of $75.00" in text and "isn't applied yet" in text
    assert "$1,234.56" in text  # the balance is unchanged


def test_N4_LANG_1_in_spanish(engine):
    with session_scope(engine) as session:
        conv, account = _verified(session)
        conv.language = "es"
        _paid(session, account, 10000, "PAY-TEST0006")
        messages = status.payment_status_messages(session, conv.id, PAID_AT)
    text = " ".join(messages)
    assert "Recibimos su pago de $100.00 el domingo, 6 de diciembre de 2026 (referencia PAY-TEST0006)." in text
    assert "Su saldo con Acme Bank (cuenta que termina en 0001) es $1,134.56." in text
    assert "hablar con una persona" in messages[-1]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cents=st.lists(st.integers(min_value=1, max_value=50_000), min_size=1, max_size=6))
def test_N4_the_latest_three_payments_newest_first_and_the_balance_to_the_cent(engine, cents):
    """TONE-2: every figure is the ledger's; at most the three newest payments, newest first."""
    from bot.wording.formats import money

    with session_scope(engine, rehearsal=True) as session:  # rolled back: each example starts empty
        conv, account = _verified(session, balance_cents=sum(cents) + 999)
        for n, amount in enumerate(cents):
            _paid(session, account, amount, f"PAY-H{n:07d}", PAID_AT + timedelta(hours=n))
        text = "\n".join(status.payment_status_messages(session, conv.id, PAID_AT + timedelta(days=1)))
        expected = [f"reference PAY-H{n:07d}" for n in reversed(range(len(cents)))][:status.SHOWN]
        found = [line.split("(")[1].rstrip(").") for line in text.splitlines() if "(reference" in line]
        assert found == expected
        assert f"is {money(999)}." in text  # the balance after every payment


@pytest.mark.parametrize(("text", "asks"), [
    ("I just paid $10, can you confirm you got it?", True), ("did you get my payment?", True),
    ("did my payment go through", True), ("have you received my payment", True),
    ("can you check if my payment posted", True), ("¿recibieron mi pago?", True), ("¿les llegó mi pago?", True),
    ("I already paid this", False), ("i already paid", False), ("I paid it last month", False),
    ("ya pagué", False), ("I paid in full, this is wrong", False), ("this was paid off years ago", False),
])
def test_DSP_1_a_question_whether_a_payment_arrived_is_told_from_a_claim_that_the_debt_is_paid(text, asks):
    """The words that turn an already_paid reading into a payment-status answer (actions/answers.py); a claim stays a
    dispute (DSP-1). Mutation tried: the "can you confirm" alternative removed -> the tester's sentence fails."""
    from bot.payments.status import asks_whether_received

    assert asks_whether_received(text) is asks
