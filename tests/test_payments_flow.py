"""Pay now below the chat, end to end over real HTTP: our pay link, the real stripe SDK, the stand-in's checkout,
the signed webhook, the ledger and the receipt. Every test runs on SQLite and on PostgreSQL.

The ledger must change exactly once per payment whatever Stripe does: replays, any order, concurrent deliveries,
500s and timeouts on session creation (PCI-1, PCI-3, DSP-2, TONE-2)."""

from __future__ import annotations

import json
from datetime import date, timedelta

import httpx
import pytest
import stripe
from sqlalchemy import func, select

from bot import disputes
from bot.compliance import tone, visible_codes
from bot.compliance.redaction import contains_card_number
from bot.db import session_scope
from bot.db.models import (
    Account,
    AccountStatus,
    AuditEvent,
    Handoff,
    Installment,
    LedgerEntry,
    Message,
    PayLink,
    Payment,
    Plan,
    StripeEvent,
)
from bot.payments import service
from bot.payments.autopay_authorisation import active_autopay
from tests.payments_helpers import (
    CARD_3DS,
    CARD_DECLINED,
    WEBHOOK_SECRET,
    add_plan,
    balance,
    bot_messages,
    ledger_count,
    link_for,
    pay_env_fixture,  # noqa: F401 - the pay_env fixture
    payments_of,
    verified_debtor,
)


def _receipts(engine, conversation_id: str) -> list[str]:
    return [m for m in bot_messages(engine, conversation_id) if "We received your payment" in m]


def test_PCI_1_pay_now_full_balance_lowers_the_balance_once_and_sends_a_receipt(pay_env):
    conversation_id, account_id = verified_debtor(pay_env.engine, balance_cents=123456)
    url = link_for(pay_env, conversation_id, "balance")
    assert "/pay/" in url and len(url.rsplit("/", 1)[1]) == 20  # a short opaque token of ours
    session_id = pay_env.checkout(url)
    checkout = pay_env.client.v1.checkout.sessions.retrieve(session_id)
    assert checkout.amount_total == 123456 and checkout.mode == "payment"  # the amount from our ledger
    assert checkout.metadata["account_id"] == account_id and checkout.metadata["pay_link_id"]
    assert pay_env.pay(session_id)["kind"] == "succeeded"

    assert balance(pay_env.engine, account_id) == 0
    assert ledger_count(pay_env.engine, account_id) == 1
    [payment] = payments_of(pay_env.engine, account_id)
    assert payment.status == "succeeded" and payment.card_last4 == "4242" and payment.applied_cents == 123456
    [receipt] = _receipts(pay_env.engine, conversation_id)
    assert receipt.startswith("This message is from a debt collector.")  # DISC-2
    assert "$1,234.56" in receipt and "$0.00" in receipt and payment.reference in receipt
    with session_scope(pay_env.engine) as session:
        assert session.get(Account, account_id).status == AccountStatus.PAID
    assert pay_env.follow(url).status_code == 410  # single use


def test_TONE_1_a_debtor_whose_codes_were_drawn_profane_still_gets_a_clean_link_and_receipt(pay_env, monkeypatch):
    """The link's message and the receipt carry random codes, and the outbox blocks a message with a banned word in
    it (visible_codes). Mutations tried: create_pay_link or ledger.new_reference drawing their own codes again ->
    the link or the receipt carried a random code, not the clean draw."""
    tokens = iter(["aaaafuckaaaaaaaaaaaa", "b" * 20])
    bodies = iter(["A55HAT", "7KQ4XW"])
    monkeypatch.setattr(visible_codes, "_random_token", lambda: next(tokens))
    monkeypatch.setattr(visible_codes, "_random_reference_body", lambda: next(bodies))
    conversation_id, account_id = verified_debtor(pay_env.engine, balance_cents=30000)
    url = link_for(pay_env, conversation_id, amount=10000)
    assert url.endswith("/pay/" + "b" * 20)
    assert pay_env.pay(pay_env.checkout(url))["kind"] == "succeeded"
    [receipt] = _receipts(pay_env.engine, conversation_id)
    assert "PAY-7KQ4XW" in receipt and not tone.lint(receipt)
    assert [p.reference for p in payments_of(pay_env.engine, account_id)] == ["PAY-7KQ4XW"]


def test_the_success_page_shows_the_receipt_number_and_applies_nothing_twice(pay_env):
    conversation_id, account_id = verified_debtor(pay_env.engine, balance_cents=30000)
    session_id = pay_env.checkout(link_for(pay_env, conversation_id, amount=10000))
    outcome = pay_env.pay(session_id)
    page = httpx.get(outcome["redirect"], timeout=30)
    [payment] = payments_of(pay_env.engine, account_id)
    assert page.status_code == 200 and payment.reference in page.text and "$100.00" in page.text
    assert balance(pay_env.engine, account_id) == 20000 and ledger_count(pay_env.engine, account_id) == 1
    assert len(_receipts(pay_env.engine, conversation_id)) == 1


def test_a_webhook_replayed_five_times_changes_the_ledger_once(pay_env):
    conversation_id, account_id = verified_debtor(pay_env.engine, balance_cents=50000)
    pay_env.pay(pay_env.checkout(link_for(pay_env, conversation_id, amount=20000)))
    for type_ in ("checkout.session.completed", "payment_intent.succeeded"):
        [event] = pay_env.events(type_)
        # Five more deliveries each, all at once: the database settles the race, not the order of arrival.
        pay_env.knob("POST", "webhooks/redeliver", {"event_id": event["id"], "times": 5, "concurrent": True})
    pay_env.idle()
    deliveries = [d for e in pay_env.events() for d in e["deliveries"] if e["type"] == "checkout.session.completed"]
    assert len([d for d in deliveries if d["status"] == 200]) == 6  # each one answered 200 (once or on a retry)
    assert balance(pay_env.engine, account_id) == 30000
    assert ledger_count(pay_env.engine, account_id) == 1
    assert len(_receipts(pay_env.engine, conversation_id)) == 1
    with session_scope(pay_env.engine) as session:
        completed = session.scalars(select(StripeEvent).where(StripeEvent.type == "checkout.session.completed")).all()
    assert len(completed) == 1


def test_events_out_of_order_still_apply_once_and_a_refund_that_came_first_is_netted(pay_env):
    conversation_id, account_id = verified_debtor(pay_env.engine, balance_cents=50000)
    session_id = pay_env.checkout(link_for(pay_env, conversation_id, amount=20000))
    pay_env.knob("POST", "webhooks/hold")
    pay_env.knob("POST", f"checkout/{session_id}/pay", {"card": "4242424242424242"})
    intent_id = pay_env.client.v1.checkout.sessions.retrieve(session_id).payment_intent
    pay_env.client.v1.refunds.create(params={"payment_intent": intent_id, "amount": 5000})
    released = pay_env.knob("POST", "webhooks/release", {"order": "reverse"})["released"]
    assert len(released) >= 5
    pay_env.idle()
    types = [e["type"] for e in pay_env.events()]
    assert types.index("charge.refunded") > types.index("payment_intent.succeeded")  # created in that order...
    # ...and delivered the other way round: the refund first, then the success events.
    assert balance(pay_env.engine, account_id) == 50000 - 20000 + 5000
    [payment] = payments_of(pay_env.engine, account_id)
    assert payment.status == "succeeded" and payment.refunded_cents == 5000 and payment.applied_cents == 15000
    assert ledger_count(pay_env.engine, account_id) == 1


def test_a_refund_after_the_payment_raises_the_balance_once_and_says_so(pay_env):
    conversation_id, account_id = verified_debtor(pay_env.engine, balance_cents=50000)
    session_id = pay_env.checkout(link_for(pay_env, conversation_id, amount=20000))
    pay_env.pay(session_id)
    intent_id = pay_env.client.v1.checkout.sessions.retrieve(session_id).payment_intent
    pay_env.client.v1.refunds.create(params={"payment_intent": intent_id, "amount": 7500})
    pay_env.idle()
    [refunded] = pay_env.events("charge.refunded")
    pay_env.knob("POST", "webhooks/redeliver", {"event_id": refunded["id"], "times": 3})
    pay_env.idle()
    assert balance(pay_env.engine, account_id) == 50000 - 20000 + 7500
    assert ledger_count(pay_env.engine, account_id) == 2
    assert sum("We've refunded $75.00" in m for m in bot_messages(pay_env.engine, conversation_id)) == 1


@pytest.mark.parametrize("tamper", ["wrong secret", "no signature", "changed body"])
def test_a_forged_webhook_gets_400_and_changes_nothing(pay_env, tamper):
    conversation_id, account_id = verified_debtor(pay_env.engine, balance_cents=50000)
    session_id = pay_env.checkout(link_for(pay_env, conversation_id, amount=20000))
    pay_env.knob("POST", "webhooks/endpoint", {"url": None, "secret": None})  # the stand-in sends nothing now
    pay_env.pay(session_id)
    [event] = pay_env.events("checkout.session.completed")
    body = json.dumps({**event, "data": {"object": pay_env.client.v1.checkout.sessions.retrieve(
        session_id).to_dict()}, "id": "evt_forged", "object": "event", "type": "checkout.session.completed"})
    secret = "whsec_attacker" if tamper == "wrong secret" else WEBHOOK_SECRET
    headers = {"Stripe-Signature": stripe.WebhookSignature.generate_signature_header(body, secret)}
    if tamper == "no signature":
        headers = {}
    if tamper == "changed body":
        body = body.replace('"amount_total": 20000', '"amount_total": 1')
    with session_scope(pay_env.engine) as session:
        audits_before = session.scalar(select(func.count(AuditEvent.id)))
    response = httpx.post(f"{pay_env.gateway.url}/webhooks/stripe", content=body, timeout=30,
                          headers={"Content-Type": "application/json", **headers})
    assert response.status_code == 400
    assert balance(pay_env.engine, account_id) == 50000 and ledger_count(pay_env.engine, account_id) == 0
    with session_scope(pay_env.engine) as session:
        assert session.scalar(select(func.count(StripeEvent.id))) == 0
        assert session.scalar(select(func.count(AuditEvent.id))) == audits_before
    # The same body, properly signed, is accepted: the refusal was about the signature alone.
    if tamper != "changed body":
        signed = stripe.WebhookSignature.generate_signature_header(body, WEBHOOK_SECRET)
        ok = httpx.post(f"{pay_env.gateway.url}/webhooks/stripe", content=body, timeout=30,
                        headers={"Content-Type": "application/json", "Stripe-Signature": signed})
        assert ok.status_code == 200 and balance(pay_env.engine, account_id) == 30000


def test_stripe_500_on_session_creation_tells_the_debtor_and_records_nothing_twice(pay_env):
    conversation_id, account_id = verified_debtor(pay_env.engine, balance_cents=50000)
    url = link_for(pay_env, conversation_id, amount=20000)
    # Enough failures to outlast the SDK's own retry (STRIPE_MAX_NETWORK_RETRIES=1 here).
    pay_env.knob("POST", "faults", {"path": "/v1/checkout/sessions", "mode": "error", "status": 500, "times": 2})
    page = pay_env.follow(url)
    assert page.status_code == 503
    assert "couldn't open the secure payment page" in page.text and "Nothing was charged" in page.text
    assert payments_of(pay_env.engine, account_id) == []
    with session_scope(pay_env.engine) as session:
        link = session.scalars(select(PayLink).where(PayLink.account_id == account_id)).one()
        assert link.status == "active" and link.stripe_checkout_session_id is None
        assert session.scalar(select(func.count(AuditEvent.id)).where(AuditEvent.kind == "checkout_unavailable"))
    # The same link again, Stripe healthy: one session, with the same idempotency key as the failed tries.
    session_id = pay_env.checkout(url)
    created = [r for r in pay_env.requests("/v1/checkout/sessions") if r["status"] == 200]
    keys = {r["idempotency_key"] for r in pay_env.requests("/v1/checkout/sessions")}
    assert len(created) == 1 and len(keys) == 1
    assert pay_env.pay(session_id)["kind"] == "succeeded"
    assert len(payments_of(pay_env.engine, account_id)) == 1 and balance(pay_env.engine, account_id) == 30000


def test_a_session_creation_that_times_out_after_stripe_acted_is_not_made_twice(pay_env):
    conversation_id, account_id = verified_debtor(pay_env.engine, balance_cents=50000)
    url = link_for(pay_env, conversation_id, amount=20000)
    # The stand-in creates the session, then hangs past the SDK's timeout (1.5 s), twice: the debtor waited.
    pay_env.knob("POST", "faults", {"path": "/v1/checkout/sessions", "mode": "hang", "seconds": 3, "times": 2,
                                    "when": "after"})
    page = pay_env.follow(url)
    assert page.status_code == 503 and "try this same link again" in page.text
    assert payments_of(pay_env.engine, account_id) == []
    session_id = pay_env.checkout(url)
    calls = pay_env.requests("/v1/checkout/sessions")
    assert len({c["idempotency_key"] for c in calls}) == 1
    assert [c["replayed"] for c in calls] == [False, True, True]  # created once, replayed after the timeouts
    with session_scope(pay_env.engine) as session:
        assert session.scalars(select(PayLink.stripe_checkout_session_id)
                               .where(PayLink.account_id == account_id)).one() == session_id
    pay_env.pay(session_id)
    assert len(payments_of(pay_env.engine, account_id)) == 1 and balance(pay_env.engine, account_id) == 30000


def test_a_declined_card_changes_nothing_and_the_debtor_can_try_another(pay_env):
    conversation_id, account_id = verified_debtor(pay_env.engine, balance_cents=50000)
    url = link_for(pay_env, conversation_id, amount=20000)
    session_id = pay_env.checkout(url)
    declined = pay_env.pay(session_id, CARD_DECLINED)
    assert declined == {"kind": "declined", "message": "Your card was declined.", "redirect": None, "field": None}
    assert balance(pay_env.engine, account_id) == 50000 and ledger_count(pay_env.engine, account_id) == 0
    [payment] = payments_of(pay_env.engine, account_id)
    assert payment.status == "pending" and payment.failure_code == "generic_decline"
    assert _receipts(pay_env.engine, conversation_id) == []
    assert pay_env.checkout(url) == session_id  # the same open session, not a new one
    assert pay_env.pay(session_id)["kind"] == "succeeded"
    assert balance(pay_env.engine, account_id) == 30000 and ledger_count(pay_env.engine, account_id) == 1


def test_3d_secure_on_the_hosted_page_then_the_payment_applies(pay_env):
    conversation_id, account_id = verified_debtor(pay_env.engine, balance_cents=50000)
    session_id = pay_env.checkout(link_for(pay_env, conversation_id, amount=20000))
    assert pay_env.pay(session_id, CARD_3DS)["kind"] == "requires_action"
    assert pay_env.pay(session_id, CARD_3DS, authenticate="fail")["kind"] == "declined"
    assert balance(pay_env.engine, account_id) == 50000
    assert pay_env.pay(session_id, CARD_3DS, authenticate="complete")["kind"] == "succeeded"
    assert balance(pay_env.engine, account_id) == 30000


def test_links_are_single_use_expire_and_are_replaced_by_a_newer_one(pay_env):
    conversation_id, account_id = verified_debtor(pay_env.engine, balance_cents=50000)
    first = link_for(pay_env, conversation_id, amount=10000)
    second = link_for(pay_env, conversation_id, amount=12000)
    assert pay_env.follow(first).status_code == 410  # replaced: two links can't both be paid
    assert "replaced by a newer one" in pay_env.follow(first).text
    assert pay_env.follow(pay_env.gateway.url + "/pay/notatokenatall").status_code == 404
    with session_scope(pay_env.engine) as session:
        link = session.scalars(select(PayLink).where(PayLink.account_id == account_id,
                                                     PayLink.status == "active")).one()
        link.expires_at = link.created_at - timedelta(seconds=1)
    expired = pay_env.follow(second)
    assert expired.status_code == 410 and "expired" in expired.text
    assert payments_of(pay_env.engine, account_id) == []


def test_a_link_is_void_once_the_balance_it_was_made_for_has_changed(pay_env):
    conversation_id, account_id = verified_debtor(pay_env.engine, balance_cents=50000)
    url = link_for(pay_env, conversation_id, "balance")
    with session_scope(pay_env.engine) as session:
        session.get(Account, account_id).balance_cents = 40000  # e.g. a payment by post was recorded
    page = pay_env.follow(url)
    assert page.status_code == 409 and "balance has changed" in page.text


def test_DSP_2_no_link_is_offered_or_made_on_a_disputed_account(pay_env):
    conversation_id, account_id = verified_debtor(pay_env.engine, balance_cents=50000)
    with session_scope(pay_env.engine) as session:
        disputes.record_dispute(session, conversation_id, "not_mine")
    with session_scope(pay_env.engine) as session:
        options = service.pay_options(session, conversation_id)
        assert options.rule_id == "DSP-2" and options.choices == () and "/pay/" not in options.refusal
        with pytest.raises(service.PaymentRefused) as refused:
            service.create_pay_link(session, conversation_id, service.PayChoice("amount", 1000, ""),
                                    pay_env.settings)
        assert refused.value.rule_id == "DSP-2"
    with session_scope(pay_env.engine) as session:
        assert session.scalar(select(func.count(PayLink.id)).where(PayLink.account_id == account_id)) == 0
        refusals = session.scalars(select(AuditEvent.rule_id).where(AuditEvent.kind.in_(
            ["payment_refused", "pay_link_refused"]))).all()
    assert refusals and set(refusals) == {"DSP-2"}


def test_DSP_2_a_link_made_before_a_dispute_no_longer_opens_checkout(pay_env):
    conversation_id, account_id = verified_debtor(pay_env.engine, balance_cents=50000)
    url = link_for(pay_env, conversation_id, amount=10000)
    with session_scope(pay_env.engine) as session:
        disputes.record_dispute(session, conversation_id, "amount", correct_cents=20000)
    page = pay_env.follow(url)
    assert page.status_code == 403 and "can't take a payment" in page.text
    assert pay_env.requests("/v1/checkout/sessions") == []
    with session_scope(pay_env.engine) as session:
        assert session.scalars(select(AuditEvent.rule_id).where(AuditEvent.kind == "checkout_refused")).all() == \
            ["DSP-2"]


def test_DSP_2_a_payment_arriving_for_a_disputed_debt_is_held_for_a_person_not_applied(pay_env):
    conversation_id, account_id = verified_debtor(pay_env.engine, balance_cents=50000)
    session_id = pay_env.checkout(link_for(pay_env, conversation_id, amount=20000))
    with session_scope(pay_env.engine) as session:  # the debtor disputes while the payment page is open
        disputes.record_dispute(session, conversation_id, "not_mine")
    assert pay_env.pay(session_id)["kind"] == "succeeded"  # Stripe took it; we must not apply it
    assert balance(pay_env.engine, account_id) == 50000 and ledger_count(pay_env.engine, account_id) == 0
    [payment] = payments_of(pay_env.engine, account_id)
    assert payment.status == "held" and payment.applied_at is None
    with session_scope(pay_env.engine) as session:
        held = session.scalars(select(AuditEvent).where(AuditEvent.kind == "payment_held")).one()
        assert held.rule_id == "DSP-2"
        handoff = session.scalars(select(Handoff).where(Handoff.conversation_id == conversation_id)).one()
        assert handoff.reason == "payment_on_hold" and handoff.rule_id == "DSP-2"
    [note] = [m for m in bot_messages(pay_env.engine, conversation_id) if "haven't applied it" in m]
    assert "/pay/" not in note and "pay now" not in note.lower()  # acknowledged, never an ask


def test_a_chargeback_goes_to_a_person_and_is_not_a_debt_dispute(pay_env):
    conversation_id, account_id = verified_debtor(pay_env.engine, balance_cents=50000)
    session_id = pay_env.checkout(link_for(pay_env, conversation_id, amount=20000))
    pay_env.pay(session_id)
    charge_id = pay_env.client.v1.payment_intents.retrieve(
        pay_env.client.v1.checkout.sessions.retrieve(session_id).payment_intent).latest_charge
    pay_env.knob("POST", f"charges/{charge_id}/dispute", {"reason": "fraudulent"})
    pay_env.idle()
    with session_scope(pay_env.engine) as session:
        account = session.get(Account, account_id)
        assert account.status == AccountStatus.ACTIVE and account.balance_cents == 30000  # no ledger change
        handoff = session.scalars(select(Handoff).where(Handoff.conversation_id == conversation_id)).one()
        assert handoff.reason == "chargeback" and handoff.details["reason"] == "fraudulent"
        assert session.scalar(select(func.count(AuditEvent.id)).where(AuditEvent.kind == "dispute_recorded")) == 0


def test_a_settlement_pays_part_and_settles_the_rest(pay_env):
    conversation_id, account_id = verified_debtor(pay_env.engine, balance_cents=300000, creditor="Acme Bank")
    with session_scope(pay_env.engine) as session:
        settlement = service.pay_options(session, conversation_id).choice("settlement")
    assert settlement is not None and settlement.amount_cents == 240000  # Acme Bank: 20% off above $1,000
    pay_env.pay(pay_env.checkout(link_for(pay_env, conversation_id, "settlement")))
    assert balance(pay_env.engine, account_id) == 0
    with session_scope(pay_env.engine) as session:
        kinds = session.scalars(select(LedgerEntry.kind).where(LedgerEntry.account_id == account_id)
                                .order_by(LedgerEntry.id)).all()
        assert kinds == ["payment", "settlement"]
        assert session.get(Account, account_id).status == AccountStatus.PAID
    assert any("settled in full" in m for m in bot_messages(pay_env.engine, conversation_id))


def test_PLAN_2_a_plans_first_payment_turns_autopay_on_only_when_the_debtor_chooses_it(pay_env):
    conversation_id, account_id = verified_debtor(pay_env.engine, balance_cents=45000)
    plan_id = add_plan(pay_env.engine, conversation_id, account_id, [15000, 15000, 15000], date.today())
    session_id = pay_env.checkout(link_for(pay_env, conversation_id, "installment"))
    checkout = pay_env.client.v1.checkout.sessions.retrieve(session_id)
    shown = checkout.custom_text.submit.message
    [field] = checkout.custom_fields
    assert field.key == "autopay" and not field.optional and checkout.customer
    assert [o.value for o in field.dropdown.options] == ["yes", "no"]  # a choice, not a condition (Reg E)
    assert "I authorise" in shown and "2 payments of $150.00" in shown
    assert "talk to a person" in shown  # how to revoke (PLAN-2)
    assert pay_env.pay(session_id)["kind"] == "invalid"  # no answer chosen: the page asks for one
    assert pay_env.pay(session_id, fields={"autopay": "yes"})["kind"] == "succeeded"
    with session_scope(pay_env.engine) as session:
        plan = session.get(Plan, plan_id)
        assert plan.status == "active" and [i.status for i in plan.installments] == ["paid", "scheduled",
                                                                                     "scheduled"]
        auth = active_autopay(session, plan_id)
        assert auth is not None and auth.card_last4 == "4242"
        assert shown.endswith(auth.authorisation_text) and auth.authorisation_text.startswith("I authorise")
        audit = session.scalars(select(AuditEvent).where(AuditEvent.kind == "autopay_authorised")).one()
        assert audit.rule_id == "PLAN-2"
    [receipt] = _receipts(pay_env.engine, conversation_id)
    assert "Payment 1 of 3" in receipt and "Automatic payments are on" in receipt
    assert auth.authorisation_text in receipt  # the debtor's copy of the authorisation


def test_PLAN_2_saying_no_to_autopay_still_pays_and_the_card_is_not_kept(pay_env):
    conversation_id, account_id = verified_debtor(pay_env.engine, balance_cents=45000)
    plan_id = add_plan(pay_env.engine, conversation_id, account_id, [15000, 15000, 15000], date.today())
    session_id = pay_env.checkout(link_for(pay_env, conversation_id, "installment"))
    assert pay_env.pay(session_id, fields={"autopay": "no"})["kind"] == "succeeded"
    assert balance(pay_env.engine, account_id) == 30000
    with session_scope(pay_env.engine) as session:
        assert active_autopay(session, plan_id) is None
        assert session.get(Plan, plan_id).status == "active"
    intent = pay_env.client.v1.payment_intents.retrieve(
        pay_env.client.v1.checkout.sessions.retrieve(session_id).payment_intent)
    assert pay_env.client.v1.payment_methods.retrieve(intent.payment_method).customer is None
    [receipt] = _receipts(pay_env.engine, conversation_id)
    assert "Automatic payments" not in receipt and "We'll send you a link before then" in receipt


def test_PCI_3_no_card_number_is_stored_anywhere(pay_env):
    conversation_id, account_id = verified_debtor(pay_env.engine, balance_cents=50000)
    session_id = pay_env.checkout(link_for(pay_env, conversation_id, amount=20000))
    pay_env.pay(session_id, CARD_DECLINED)
    pay_env.pay(session_id)
    with session_scope(pay_env.engine) as session:
        texts = [str(v) for model in (Message, Payment, PayLink, AuditEvent, Installment)
                 for row in session.scalars(select(model)).all() for v in vars(row).values()]
    assert texts and not any(contains_card_number(t) for t in texts)
