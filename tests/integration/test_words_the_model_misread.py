"""Debtor messages the model misread, replayed through the running stack (gateway, real Rasa, action server, app
database) as the exploratory tester sent them: an offer of plan terms at the plan's options (PLAN-4), a question
about the ways to pay, a plain request for help and a short Spanish request (LANG-1, PLAN-2), and a plan asked for
after a hardship (VUL-2). The word readers are in tests/test_words_the_model_misread.py."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot import wording
from bot.db.models import Account, AuditEvent
from tests.integration.chat import Chat

pytestmark = pytest.mark.integration

PAY_NOW_REPLY = "Let's finish setting up your plan first"
NOT_UNDERSTOOD = "didn't catch that"


def _to_the_options(chat: Chat) -> list[str]:
    """A new debtor of the test's own ($2,400.00), verified, at the plan's options for "150 a month"."""
    reference = chat.new_debtor()
    for answer in ("I want a payment plan", "11/02/1985", "5678", reference):
        chat.say(answer)
    return chat.say("150 a month")


@pytest.mark.parametrize("offer", ["I can pay 50", "I can only do $50 a month", "50 a month",
                                   "can I do 75 every two weeks"])
def test_PLAN_4_an_amount_offered_at_the_options_is_weighed_not_sent_to_pay_now(running_stack, offer):
    """The tester: "I can pay 50" at the options was read as pay_now ("Let's finish setting up your plan first...
    I'll send you a secure link"). Now the plan flow takes the amount (and the frequency): the lowest plan the policy
    allows, said plainly, with a person offered when it is more than they can pay (PLAN-4), and the options again.

    Mutation tried: the PLAN_TERMS metadata not set in pipeline._turn -> "I can pay 50" gets the pay-now reply
    (fails, as before the fix)."""
    chat = Chat(running_stack, "offer")
    assert "Here are your options" in " ".join(_to_the_options(chat))
    said = chat.say(offer)
    joined = " ".join(said)
    assert PAY_NOW_REPLY not in joined and "/pay/" not in joined, joined
    assert "The closest plan I can offer is $180.00 a month" in joined, joined
    assert "Here are your options:" in said[-1] and "Reply 1 or 2 to choose" in said[-1], said
    if "every two weeks" not in offer:  # below what the policy allows: a person is offered (PLAN-4)
        assert "A person on our team can look at other options with you" in joined, joined


def test_PLAN_4_an_offer_at_the_consent_question_is_weighed_and_a_payment_today_stays_a_payment(running_stack):
    """At the terms' YES question too; and "I can pay 50 today" is a payment, in the plan and outside it.

    Mutation tried: "pay_now" left out of settle_channel.OFFER_OUTWEIGHS -> "I can pay 50" at the YES question gets
    the pay-now reply (fails)."""
    chat = Chat(running_stack, "offer")
    _to_the_options(chat)
    assert "Reply YES" in " ".join(chat.say("1"))
    again = " ".join(chat.say("I can pay 50"))
    assert PAY_NOW_REPLY not in again and "The closest plan I can offer" in again, again
    assert PAY_NOW_REPLY in " ".join(chat.say("I can pay 50 today"))  # in the plan: its first payment's link

    outside = Chat(running_stack, "offer")
    outside.verify_as_new_debtor()
    paid = " ".join(outside.say("I can pay 50 today"))
    assert "You'd like to pay $50.00" in paid, paid


@pytest.mark.parametrize("question", ["can I pay by check or zelle?", "do you take money orders",
                                      "can I mail a check"])
def test_a_question_about_the_ways_to_pay_is_answered_and_the_plan_waits(running_stack, question):
    """The tester got the dispute rights ("You have the right to dispute this debt...") for "can I pay by check or
    zelle?", the pay-now reply or "didn't catch that" for the others. Now the ways to pay (a card on our page; a
    person for a check, a money order, Zelle), and the plan's options are still there to pick from.

    Mutation tried: the ways check removed from pipeline._receive -> the dispute-rights text (fails)."""
    chat = Chat(running_stack, "ways")
    _to_the_options(chat)
    said = " ".join(chat.say(question))
    assert said == wording.say("ways_to_pay"), said
    assert "right to dispute" not in said
    assert "Reply YES" in " ".join(chat.say("1"))  # the flow it was in: option 1's terms


def test_a_question_about_the_ways_to_pay_in_spanish_is_answered_in_spanish_and_nothing_before_verification(
        running_stack):
    """"¿puedo pagar con cheque?" got "Perdón, no le entendí". Before verification the answer names nothing (ID-1,
    DISC-3) and the identity check starts."""
    chat = Chat(running_stack, "ways")
    chat.new_debtor()
    before = " ".join(chat.say("¿puedo pagar con cheque?"))
    assert before == wording.say("ways_to_pay_verify_first", "es"), before
    spanish = Chat(running_stack, "ways")
    _to_the_options(spanish)
    assert " ".join(spanish.say("¿puedo pagar con cheque?")) == wording.say("ways_to_pay", "es")


@pytest.mark.parametrize(("text", "speaks"), [("necesito ayuda con mi cuenta", "es"),
                                              ("I need help with my account", "en")])
def test_LANG_1_a_plain_request_for_help_gets_the_menu_in_its_language(running_stack, text, speaks):
    """The tester: "necesito ayuda con mi cuenta" fell back ("Perdón, no le entendí"), and so did the English. Now
    both get the menu (the greeting's answer), each in its own language.

    Mutation tried: the help request not set in pipeline._receive -> "Perdón, no le entendí..." (fails)."""
    chat = Chat(running_stack, "help")
    chat.new_debtor()
    said = " ".join(chat.say(text))
    menu = {"es": "¿En qué le puedo ayudar hoy?", "en": "What can I help you with today?"}[speaks]
    assert menu in said and NOT_UNDERSTOOD not in said and "no le entendí" not in said, said


def test_LANG_1_PLAN_2_a_short_spanish_autopay_stop_is_kept_and_answered_in_spanish(running_stack):
    """The tester: "cancelen el pago automatico" got the language question and English replies. Now it is answered
    as "cancel the autopay" is (PLAN-2: kept, honoured at verification), in Spanish, with no question.

    Mutation tried: SPANISH_WORDS_FOR_SURE = 5 -> "¿Prefiere español?" and English replies (fails)."""
    chat = Chat(running_stack, "autopay")
    chat.new_debtor()
    said = chat.say("cancelen el pago automatico")
    assert said[0] == wording.say("autopay_stop_after_verify", "es"), said
    assert "Prefiere" not in " ".join(said) and "fecha de nacimiento" in " ".join(said), said
    with chat.session() as session:
        conversation = chat.conversation(session)
        assert conversation.language == "es"
        assert session.scalars(select(AuditEvent.kind).where(AuditEvent.conversation_id == conversation.id,
                                                             AuditEvent.rule_id == "PLAN-2")).all()


def test_VUL_2_a_plan_after_a_hardship_says_why_and_that_a_person_goes_over_the_options(running_stack):
    """The tester: after "I lost my job", "show me a plan" and the like got "I can't set up a plan on this
    account" and similar. VUL-2 keeps a person on it; the replies now say why and what a person will go over,
    never a bare refusal, and never the gate's "Sorry, I can't help with that here" either.

    Mutation tried: the VUL-2 branch of service.refusal_for_hold removed -> "I can't set up a plan on this
    account..." (fails); and hold_VUL-2 saying "nothing to pay today" -> blocked by the gate as a payment ask on
    a held account, "Sorry, I can't help with that here" (fails)."""
    chat = Chat(running_stack, "hardship")
    reference = chat.verify_as_new_debtor()
    chat.say("I lost my job")
    with chat.session() as session:
        account = session.scalars(select(Account).where(Account.account_ref == reference)).one()
        assert account.collection_paused_reason == "hardship"
    plan = " ".join(chat.say("I want a payment plan"))
    assert plan == wording.say("plan_refusal_VUL-2"), plan
    for request in ("show me a plan", "pay now"):
        said = " ".join(chat.say(request))
        assert wording.say("hold_VUL-2") in said, (request, said)
        assert "can't help with that" not in said and "can't set up a plan" not in said
    chat.say("talk to a person")
    assert " ".join(chat.say("I want a payment plan")) == wording.say("plan_refusal_VUL-2_queued")
