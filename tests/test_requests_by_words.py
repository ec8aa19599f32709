"""Requests the words decide wherever the model's reading falls, as the exploratory tester met them (debtor gaps
G1-G3): a claim of payment beside a place restriction (DSP-1), "stop the automatic payments" before verification
(PLAN-2) and a request for proof of a payment (N4). The services here are the ones the inbound gate calls; the
end-to-end spec is tests/integration/test_requests_by_words.py."""

from __future__ import annotations

import secrets
from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from bot import conversations, disputes, wording
from bot.compliance import neutral
from bot.compliance.disclosures import debt_collector_disclosure
from bot.db import session_scope
from bot.db.models import AuditEvent, AutopayAuthorisation, Installment, Payment, Plan
from bot.identity import VERIFIED, Factors, IdentityService
from bot.payments import autopay
from tests.conftest import add_debtor


@pytest.mark.parametrize(("text", "claims"), [
    ("I already paid this, and don't call me at work", True),
    ("it's paid off, don't call me at work", True),
    ("I paid it last month", True),
    ("ya la pagué, no me llamen al trabajo", True),
    ("ya está pagada", True),
    ("I get paid on Fridays, don't call me at work", False),
    ("I haven't paid it yet", False),
    ("I have not already paid", False),
    ("don't call me at work", False),
    ("4", False),  # a menu digit answers the dispute menu (parse_kind), it is no claim on its own
])
def test_DSP_1_a_claim_of_payment_is_read_from_words_no_other_request_shares(text: str, claims: bool) -> None:
    """Mutation tried: claims_paid as `parse_kind(text) == ALREADY_PAID` (the loose reading actions/sensitive.py
    used) -> "I get paid on Fridays" and "4" read as claims: this fails."""
    assert disputes.claims_paid(text) is claims


@pytest.mark.parametrize(("text", "noted_first", "intent"), [
    ("I already paid this, and don't call me at work", True, disputes.ALREADY_PAID_INTENT),
    ("I already paid this", False, None),  # alone, the model reads it; nothing swallowed it
    ("I need proof of my payment", False, disputes.PAYMENT_STATUS_INTENT),
    ("necesito comprobante de mi pago", False, disputes.PAYMENT_STATUS_INTENT),
    ("can you send me the receipt", False, disputes.PAYMENT_STATUS_INTENT),
    ("I didn't mean to dispute, I wanted my receipt", False, None),  # a withdrawal: a person's (DSP-1)
    ("here is my receipt", False, None),  # offering proof of a claim: a dispute, the model reads it
    ("send me proof that I owe this", False, None),  # verification of the debt (1006.38), not a payment record
    ("can you check my balance", False, None),
])
def test_DSP_1_N4_the_requests_the_words_send_to_the_dialogue(text: str, noted_first: bool,
                                                              intent: str | None) -> None:
    """Mutations tried: request_by_words without its `noted_first and claims_paid` branch -> the first case None
    (the place note swallowed the claim): fails; without the `not_a_dispute(...) == PAYMENT_QUESTION` test -> the
    withdrawal sent to the payment records: fails."""
    assert disputes.request_by_words(text, noted_first=noted_first) == intent


@pytest.mark.parametrize("text", ["stop the automatic payments", "ya no me cobren de mi tarjeta",
                                  "no quiero que me cobren automaticamente", "cancelen el pago automatico",
                                  "no me carguen más a la tarjeta"])
def test_PLAN_2_the_spanish_and_english_words_that_stop_automatic_payments(text: str) -> None:
    """The tester's three Spanish phrasings fell back. Mutation tried: `STOP_CHARGES_ES` left out of asks_to_stop
    -> "ya no me cobren de mi tarjeta" None: fails; the "automáticamente" alternative removed from _AUTOPAY_ES ->
    "no quiero que me cobren automaticamente" None: fails."""
    assert autopay.asks_to_stop(text) == "autopay"


@pytest.mark.parametrize("text", ["no me cobren comisiones", "ya no me llamen", "me cobraron de más"])
def test_PLAN_2_other_spanish_words_about_charges_stop_nothing(text: str) -> None:
    assert autopay.asks_to_stop(text) is None


def _autopay_plan(session, account) -> tuple[Plan, AutopayAuthorisation]:
    first = date.today() + timedelta(days=20)
    plan = Plan(reference=f"PLN-{secrets.token_hex(3).upper()}", account_id=account.id, kind="plan",
                frequency="monthly", balance_cents=120000, total_cents=120000, installment_count=2,
                terms_text="terms", status="active", consented_at=datetime.now(timezone.utc), consent_text="YES")
    plan.installments = [Installment(number=1, due_date=first - timedelta(days=30), amount_cents=60000, status="paid"),
                         Installment(number=2, due_date=first, amount_cents=60000)]
    session.add(plan)
    session.flush()
    payment = Payment(reference=f"PAY-{secrets.token_hex(4)}", account_id=account.id, plan_id=plan.id,
                      method="checkout", amount_cents=60000, status="succeeded")
    session.add(payment)
    session.flush()
    auth = AutopayAuthorisation(plan_id=plan.id, account_id=account.id, source_payment_id=payment.id,
                                stripe_customer_id="cus_test", stripe_payment_method_id="pm_test", card_brand="visa",
                                card_last4="4242", authorisation_text="I agree",
                                authorised_at=datetime.now(timezone.utc) - timedelta(days=30))
    session.add(auth)
    session.flush()
    return plan, auth


@pytest.mark.parametrize(("language", "asked"), [("en", "stop the automatic payments"),
                                                 ("es", "ya no me cobren de mi tarjeta")])
def test_PLAN_2_a_revocation_asked_before_verification_is_kept_and_honoured_when_they_verify(engine, language, asked):
    """PLAN-2 (Reg E 1005.10(c)): the tester's request before verification was forgotten. It is kept (audited with
    PLAN-2), the debtor told plainly, in words that name no debt (DISC-3), that it will be done once they are
    identified; the check that identifies them revokes the authorisation at once and says so, once.
    Mutation tried: the `honour_earlier_request` call removed from IdentityService._verified -> the authorisation
    stays active and nothing is said: fails."""
    now = datetime.now(timezone.utc)
    with session_scope(engine) as session:
        debtor, account = add_debtor(session, account_ref=f"SET-{secrets.randbelow(10**6):06d}", phone=None)
        plan, auth = _autopay_plan(session, account)
        conversation = conversations.get_or_create(session, "rest", f"g2-{secrets.token_hex(4)}")
        conversation.language = language

        said = autopay.keep_until_verified(session, conversation, asked, now, language)
        assert said == [wording.say("autopay_stop_after_verify", language)]
        assert neutral.debt_content(said[0]) == []
        assert autopay.revoke_on_request(session, conversation, asked, now, language) is None  # ID-1: not yet
        assert auth.status == "active"

        result = IdentityService().verify(session, conversation.id, Factors(
            dob=date(1979, 3, 14), ssn_last4="1234", account_ref=account.account_ref), now=now)
        assert result.status == VERIFIED
        assert auth.status == "revoked"
        # DISC-1: the plan named only after the debt-collector disclosure (h-debtor: it came before it).
        assert result.said[:2] == (debt_collector_disclosure(language),
                                   wording.say("autopay_revoked", language, reference=plan.reference))
        events = session.scalars(select(AuditEvent.kind).where(AuditEvent.rule_id == "PLAN-2",
                                                               AuditEvent.conversation_id == conversation.id)).all()
        assert events == [autopay.STOP_ASKED, "autopay_stopped", autopay.STOP_HONOURED]
        # Honoured once: a later verification in the conversation has nothing left to do.
        assert autopay.honour_earlier_request(session, conversation, now, language) == []


def test_PLAN_2_a_verified_debtor_is_not_asked_to_wait(engine):
    """Verified, the request is done at once by revoke_on_request; keep_until_verified keeps nothing."""
    now = datetime.now(timezone.utc)
    with session_scope(engine) as session:
        debtor, account = add_debtor(session, account_ref=f"SET-{secrets.randbelow(10**6):06d}", phone=None)
        conversation = conversations.get_or_create(session, "rest", f"g2v-{secrets.token_hex(4)}")
        conversation.debtor_id, conversation.verified_at = debtor.id, now
        assert autopay.keep_until_verified(session, conversation, "stop the automatic payments", now, "en") is None
        assert autopay.keep_until_verified(session, conversation, "what do I owe", now, "en") is None
