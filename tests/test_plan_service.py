"""The plan service on a real database (SQLite and PostgreSQL): offers (PLAN-1, PLAN-4), consent and storage
(PLAN-2), refusals on held accounts (DSP-2, CEASE-*, VUL-2) and plan status from the database."""

from __future__ import annotations

import re
from datetime import date, datetime, timezone

import pytest
from sqlalchemy import select

from bot import conversations
from bot.accounts import NotVerified
from bot.compliance import outbound_gate, tone, visible_codes
from bot.db import session_scope
from bot.db.models import Account, AccountStatus, AuditEvent, Conversation, Debtor, Dispute, Installment, Plan
from bot.plans import service
from bot.plans.options import Installment as PlannedInstallment
from bot.plans.terms import describe_option, describe_schedule
from tests.conftest import add_debtor

TODAY = date(2026, 3, 6)  # a Friday
NOW = datetime(2026, 3, 6, 18, 0, tzinfo=timezone.utc)  # 10:00 in Los Angeles, the debtor's zone
REFERENCE = re.compile(r"PLN-[23456789ABCDEFGHJKMNPQRSTUVWXYZ]{6}")
BORROWING = re.compile(r"\b(loans?|borrow\w*|lend\w*|credit\s+cards?|cash\s+advances?|friends?|family|relatives?)",
                       re.IGNORECASE)


def verified_conversation(session, **debtor) -> str:
    """A debtor with one account and a conversation that has passed verification on it."""
    person, account = add_debtor(session, **debtor)
    conversation = conversations.get_or_create(session, "rest", f"web-{account.account_ref}")
    conversation.debtor_id, conversation.account_id, conversation.verified_at = person.id, account.id, NOW
    session.flush()
    return conversation.id


@pytest.fixture
def conv(engine) -> str:
    """The acceptance example: $2,400.00 owed to Acme Bank."""
    with session_scope(engine) as session:
        return verified_conversation(session, balance_cents=240000)


def test_PLAN_1_150_a_month_on_2400_is_16_monthly_payments_of_150(engine, conv):
    with session_scope(engine) as session:
        offer = service.offer(session, conv, "$150 a month", today=TODAY)
    assert offer.refusal is None and not offer.needs_amount and not offer.needs_person
    first = offer.options[0]
    assert first.kind == "plan" and first.frequency == "monthly" and first.matches_request
    assert first.count == 16 and set(first.amounts) == {15000} and first.total_cents == 240000
    assert first.first_due == TODAY
    assert 1 <= len(offer.options) <= 3
    for option in offer.options:  # PLAN-1: every option adds up exactly
        assert sum(option.amounts) == option.total_cents
    assert describe_option(first).startswith("16 monthly payments of $150.00, from Friday, March 6, 2026")
    assert "Total: $2,400.00. No fees." in describe_option(first)


def test_PLAN_2_accepted_plan_is_stored_with_its_16_installments_and_the_terms_as_shown(engine, conv):
    with session_scope(engine) as session:
        option = service.offer(session, conv, "$150 a month", today=TODAY).options[0]
        shown = service.terms_text(option)
        plan = service.accept(session, conv, option, "YES", NOW, terms_shown=shown)
        reference = plan.reference
    with session_scope(engine) as session:
        plan = session.scalars(select(Plan)).one()
        installments = session.scalars(select(Installment).where(Installment.plan_id == plan.id)
                                       .order_by(Installment.number)).all()
        assert REFERENCE.fullmatch(plan.reference) and plan.reference == reference
        assert (plan.kind, plan.frequency, plan.status) == ("plan", "monthly", "awaiting_first_payment")
        assert (plan.balance_cents, plan.total_cents, plan.fee_cents, plan.installment_count) == (240000, 240000, 0, 16)
        assert plan.terms_text == shown  # exactly as shown
        assert plan.consent_text == "YES" and plan.consented_at == NOW
        assert len(installments) == 16 and sum(i.amount_cents for i in installments) == 240000
        assert [i.number for i in installments] == list(range(1, 17))
        assert installments[0].due_date == TODAY and all(i.status == "scheduled" for i in installments)
        event = session.scalars(select(AuditEvent).where(AuditEvent.kind == "plan_created")).one()
        assert event.rule_id == "PLAN-2" and event.detail["reference"] == reference


def test_PLAN_1_the_terms_show_total_count_every_amount_and_date_and_fees(engine, conv):
    with session_scope(engine) as session:
        option = service.offer(session, conv, "$150 a month", today=TODAY).options[0]
    terms = service.terms_text(option)
    assert terms.splitlines()[0] == describe_option(option)
    assert terms.splitlines()[1:-1] == describe_schedule(option)
    assert "Total: $2,400.00" in terms and "No fees." in terms and "16 monthly payments" in terms
    # PLAN-1: the rule that made the dates (some are the 6th, some the Monday after), not "every month".
    assert ("Then $150.00 on the 6th of each month until Monday, June 7, 2027 (payments 4 to 16). If that day is "
            "a Saturday or Sunday, it's the Monday after.") in terms
    assert "link" in terms and "Nothing is taken from your account automatically unless you choose" in terms


@pytest.mark.parametrize("words", ["ok", "sure", "sounds good", "", "yes but can I pay later", "no", "maybe"])
def test_PLAN_2_nothing_is_saved_without_an_explicit_yes(engine, conv, words):
    with session_scope(engine) as session:
        option = service.offer(session, conv, "$150 a month", today=TODAY).options[0]
        with pytest.raises(service.ConsentRequired):
            service.accept(session, conv, option, words, NOW)
    with session_scope(engine) as session:
        assert session.scalars(select(Plan)).first() is None


@pytest.mark.parametrize("words, explicit", [
    ("YES", True), ("yes", True), ("Yes!", True), ("y", True), ("Yes, I agree", True), ("I agree", True),
    ("yes I agree to these terms", True), ("I accept", True), ("yep", True), ("Yes please", True),
    ("ok", False), ("sure", False), ("yes but", False), ("yes?", False), ("no", False), ("yes 2", False),
    ("I don't agree", False), ("not yes", False),
])
def test_PLAN_2_what_counts_as_an_explicit_yes(words, explicit):
    assert service.is_explicit_yes(words) is explicit


def test_DSP_2_no_plan_is_offered_or_saved_on_a_disputed_account(engine, conv):
    with session_scope(engine) as session:
        option = service.offer(session, conv, "$150 a month", today=TODAY).options[0]
        account = session.get(Conversation, conv).account_id
        session.add(Dispute(account_id=account, conversation_id=conv, kind="all", disputed_cents=240000))
        session.flush()
        refused = service.offer(session, conv, "$150 a month", today=TODAY)
        assert refused.options == () and refused.rule_id == "DSP-2"
        assert "talk to a person" in refused.refusal and "dispute" in refused.refusal
        # The refusal itself may go out on a held account: it asks for no payment (outbound gate, DSP-2).
        assert outbound_gate.check_reply(session, session.get(Conversation, conv), refused.refusal).allowed
        with pytest.raises(service.PlanRefused) as caught:
            service.accept(session, conv, option, "YES", NOW)
        assert caught.value.rule_id == "DSP-2"
    with session_scope(engine) as session:
        assert session.scalars(select(Plan)).first() is None


@pytest.mark.parametrize("status, rule", [
    (AccountStatus.DISPUTED, "DSP-2"), (AccountStatus.CEASED, "CEASE-1"), (AccountStatus.ATTORNEY, "CEASE-2"),
    (AccountStatus.BANKRUPT, "CEASE-3"), (AccountStatus.DECEASED, "CEASE-4"), ("hardship", "VUL-2"),
])
def test_CEASE_and_VUL_2_held_accounts_get_a_plain_reason_and_a_person(engine, conv, status, rule):
    with session_scope(engine) as session:
        account = session.get(Account, session.get(Conversation, conv).account_id)
        if status == "hardship":
            account.collection_paused_reason = "hardship"
        else:
            account.status = status
        session.flush()
        offer = service.offer(session, conv, "50 a month", today=TODAY)
        assert offer.options == () and offer.rule_id == rule
        assert "talk to a person" in offer.refusal or "attorney" in offer.refusal
        assert outbound_gate.check_reply(session, session.get(Conversation, conv), offer.refusal).allowed
        event = session.scalars(select(AuditEvent).where(AuditEvent.kind == "plan_refused")).one()
        assert event.rule_id == rule


def test_PLAN_2_a_second_plan_on_the_same_account_is_refused(engine, conv):
    with session_scope(engine) as session:
        option = service.offer(session, conv, "$150 a month", today=TODAY).options[0]
        first = service.accept(session, conv, option, "YES", NOW)
        again = service.offer(session, conv, "$200 a month", today=TODAY)
        assert again.options == () and again.existing_reference == first.reference
        assert first.reference in again.refusal
        with pytest.raises(service.PlanRefused):
            service.accept(session, conv, option, "YES", NOW)
        assert len(session.scalars(select(Plan)).all()) == 1


def test_PLAN_2_a_balance_change_since_the_offer_means_re_offer_not_save(engine, conv):
    with session_scope(engine) as session:
        option = service.offer(session, conv, "$150 a month", today=TODAY).options[0]
        session.get(Account, session.get(Conversation, conv).account_id).balance_cents = 230000
        session.flush()
        with pytest.raises(service.OfferChanged):
            service.accept(session, conv, option, "YES", NOW)
        assert session.scalars(select(Plan)).first() is None


def test_PLAN_2_terms_whose_first_date_has_passed_are_re_offered(engine, conv):
    with session_scope(engine) as session:
        option = service.offer(session, conv, "$150 a month", today=TODAY).options[0]
        with pytest.raises(service.OfferChanged):
            service.accept(session, conv, option, "YES", datetime(2026, 3, 8, 18, tzinfo=timezone.utc))


def test_PLAN_2_terms_that_differ_from_what_was_shown_are_not_saved(engine, conv):
    with session_scope(engine) as session:
        options = service.offer(session, conv, "$150 a month", today=TODAY).options
        with pytest.raises(service.OfferChanged):
            service.accept(session, conv, options[0], "YES", NOW, terms_shown=service.terms_text(options[1]))


def test_PLAN_1_an_option_that_breaks_the_policy_is_never_saved(engine, conv):
    """Options come back through the conversation between turns, so accept() checks them again."""
    with session_scope(engine) as session:
        good = service.offer(session, conv, "$150 a month", today=TODAY).options[0]
        data = service.option_to_dict(good)
        tampered = [
            {**data, "installments": [[1, TODAY.isoformat(), 100], [2, "2026-04-06", 239900]]},  # below minimum
            {**data, "installments": data["installments"][:-1]},  # does not add up
            {**data, "kind": "settlement", "installments": [[1, TODAY.isoformat(), 100000]], "total_cents": 100000},
            {**data, "frequency": "daily"},
        ]
        for raw in tampered:
            with pytest.raises(service.OfferChanged):
                service.accept(session, conv, service.option_from_dict(raw), "YES", NOW)
        assert session.scalars(select(Plan)).first() is None


def test_a_settlement_lump_sum_can_be_accepted_as_one_payment(engine, conv):
    with session_scope(engine) as session:
        options = service.offer(session, conv, "$150 a month", today=TODAY).options
        lump = next(o for o in options if o.kind == "settlement")
        plan = service.accept(session, conv, lump, "I agree", NOW)
        assert plan.installment_count == 1 and plan.total_cents == lump.total_cents < 240000
        assert "settles this account in full" in plan.terms_text and "this payment" in plan.terms_text


def test_ID_1_no_offer_or_status_before_verification(engine):
    with session_scope(engine) as session:
        add_debtor(session)
        conv_id = conversations.get_or_create(session, "rest", "anon").id
        with pytest.raises(NotVerified):
            service.offer(session, conv_id, "50 a month")
        with pytest.raises(NotVerified):
            service.plan_status(session, conv_id)


def test_plan_status_answers_from_the_database(engine, conv):
    with session_scope(engine) as session:
        option = service.offer(session, conv, "$150 a month", today=TODAY).options[0]
        reference = service.accept(session, conv, option, "YES", NOW).reference
    with session_scope(engine) as session:
        lines = service.plan_status(session, conv, TODAY)
        assert lines[0].startswith(f"Your plan {reference}: 16 monthly payments of $150.00")
        assert lines[1] == "Next payment: $150.00 on Friday, March 6, 2026. Say 'pay now' for a link to pay it."
        assert lines[2].startswith("Left to pay on this plan: $2,400.00 (16 payments).")
        first = session.scalars(select(Installment).where(Installment.number == 1)).one()
        first.status = "paid"
        session.get(Plan, first.plan_id).status = "active"
    with session_scope(engine) as session:
        lines = service.plan_status(session, conv, date(2026, 3, 20))
        assert lines[1] == "Next payment: $150.00 on Monday, April 6, 2026."
        assert lines[2].startswith("Left to pay on this plan: $2,250.00 (15 payments).")
        late = service.plan_status(session, conv, date(2026, 4, 10))
        assert "due Monday, April 6, 2026 hasn't been recorded yet" in late[1]


def test_plan_status_without_a_plan_gives_the_balance_and_a_next_step(engine, conv):
    with session_scope(engine) as session:
        lines = service.plan_status(session, conv, TODAY)
        assert lines == ["You don't have a plan with us right now. Your balance with Acme Bank is $2,400.00. "
                         "Say 'payment plan' if you'd like to set one up."]
        session.get(Account, session.get(Conversation, conv).account_id).status = AccountStatus.DISPUTED
        session.flush()
        held = service.plan_status(session, conv, TODAY)
        # DSP-2: not even a suggestion of a plan on a held account.
        assert "payment plan" not in held[0] and "talk to a person" in held[0]


def test_PLAN_4_northwind_monthly_only_gets_the_nearest_plan_with_the_reason(engine):
    with session_scope(engine) as session:
        conv_id = verified_conversation(session, account_ref="SET-100002", creditor="Northwind Credit Union",
                                        balance_cents=240000)
        offer = service.offer(session, conv_id, "$150 a month", today=TODAY)
    assert offer.frequencies == ("monthly",)
    assert "longer than 12 months" in offer.note and "at least $240.00" in offer.note
    first = offer.options[0]
    assert first.frequency == "monthly" and first.count == 12 and first.amounts[0] == 24000
    assert sum(first.amounts) == 240000 and all(o.frequency in (None, "monthly") for o in offer.options)


def test_PLAN_4_far_below_what_is_possible_offers_a_person(engine):
    with session_scope(engine) as session:
        conv_id = verified_conversation(session, creditor="Northwind Credit Union", balance_cents=240000)
        offer = service.offer(session, conv_id, "$50 a month", today=TODAY)
    assert offer.needs_person and offer.options and "A person on our team" in offer.note


def test_the_first_date_is_the_debtors_today_not_the_servers(engine):
    with session_scope(engine) as session:
        conv_id = verified_conversation(session)
        debtor = session.get(Conversation, conv_id).debtor_id
        person = session.get(Debtor, debtor)
        person.timezone = "Pacific/Honolulu"
        # 05:00 UTC on March 7 is still March 6 in Honolulu.
        assert service.debtor_today(person, datetime(2026, 3, 7, 5, tzinfo=timezone.utc)) == date(2026, 3, 6)
        person.timezone = "Not/AZone"
        assert service.debtor_today(person, datetime(2026, 3, 7, 5, tzinfo=timezone.utc)) == date(2026, 3, 7)


def test_options_survive_the_trip_between_turns():
    option = service.PlanOption(kind="plan", frequency="monthly", total_cents=30000, fee_cents=0,
                                balance_cents=30000, installments=(PlannedInstallment(1, TODAY, 15000),
                                                                   PlannedInstallment(2, date(2026, 4, 6), 15000)))
    assert service.option_from_dict(service.option_to_dict(option)) == option
    with pytest.raises(ValueError):
        service.option_from_dict({"kind": "plan"})


def test_TONE_1_a_plan_reference_that_spells_a_banned_word_is_never_given(engine, conv, monkeypatch):
    """The plan confirmation carries the reference, and the outbox would block it (visible_codes). Mutation tried:
    _new_reference drawing its own characters again -> the plan got a random reference, not the clean draw."""
    bodies = iter(["DAMNED", "7KQ4XW"])
    monkeypatch.setattr(visible_codes, "_random_reference_body", lambda: next(bodies))
    with session_scope(engine) as session:
        option = service.offer(session, conv, "$150 a month", today=TODAY).options[0]
        assert service.accept(session, conv, option, "YES", NOW).reference == "PLN-7KQ4XW"
        assert not tone.lint(service.plan_status(session, conv, TODAY)[0])


def test_PLAN_4_and_TONE_1_nothing_said_suggests_borrowing_or_pressure(engine, conv):
    with session_scope(engine) as session:
        texts: list[str] = []
        for said in ("$150 a month", "$10 a week", "", "every 2 weeks", "$5000"):
            offer = service.offer(session, conv, said, today=TODAY)
            texts += [offer.note or ""] + [service.terms_text(o) for o in offer.options]
        plan = service.accept(session, conv, service.offer(session, conv, "$150 a month", today=TODAY).options[0],
                              "YES", NOW)
        texts += service.confirmation(plan) + service.plan_status(session, conv, TODAY)
    for text in texts:
        assert not BORROWING.search(text), text
        assert tone.lint(text) == [], text


def test_PLAN_1_button_titles_keep_the_count_and_the_amounts():
    def plan(*amounts: int) -> service.PlanOption:
        dues = [date(2026, 3 + n, 6) for n in range(len(amounts))]
        return service.PlanOption(kind="plan", frequency="monthly", total_cents=sum(amounts), fee_cents=0,
                                  balance_cents=sum(amounts), installments=tuple(
                                      PlannedInstallment(n, due, a) for n, (due, a) in enumerate(zip(dues, amounts,
                                                                                                    strict=True), 1)))
    assert service.option_summary(plan(15000, 15000, 15000)) == "3 monthly payments of $150.00"
    assert service.option_summary(plan(24000, 18000, 18000)) == "3 monthly payments of $180.00 (first $240.00)"
    assert service.option_summary(plan(25000, 25000, 15000)) == "3 monthly payments of $250.00 (last $150.00)"
    assert service.option_summary(plan(24000, 19637, 19636, 19636)) == \
        "4 monthly payments of $196.36 to $240.00"


def test_REC_3_a_plan_the_bot_alone_set_up_is_confirmed_with_an_offer_of_a_person_to_review_it(engine, conv):
    """GDPR 22(3): the confirmation ends with a plain offer of human review, also when a pay link is the next step."""
    with session_scope(engine) as session:
        plan = service.accept(session, conv, service.offer(session, conv, "$150 a month", today=TODAY).options[0],
                              "YES", NOW)
        default = service.confirmation(plan)
        with_link = service.confirmation(plan, next_step="Pay your first $150.00 here: https://example.test/pay/x")
    assert default[-1] == with_link[-1] == (
        "Our assistant set this plan up. If you'd like a person to review it, say 'talk to a person'.")
    assert with_link[2].startswith("Pay your first $150.00 here") and len(with_link) == len(default) == 4
    assert all(tone.lint(text) == [] for text in default)
