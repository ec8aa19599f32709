"""Ordinary questions debtors ask, end to end through the gateway (real Rasa, action server and app database), as the
exploratory tester asked them (N1-N5): each gets an honest answer, and none sets off a rule meant for something else
(a wrong-number suppression, a dispute, a payment ask)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from bot import wording
from bot.compliance import tone
from bot.db.models import Account, AccountStatus, AuditEvent, ContactPreference, Dispute
from tests.integration.chat import Chat

pytestmark = pytest.mark.integration

NOT_UNDERSTOOD = ("didn't catch that", "still not getting it", "can't help with that here", "no le entendí",
                  "no puedo ayudarle con eso")


def _wrong_party_marked(chat: Chat) -> bool:
    with chat.session() as session:
        conversation = chat.conversation(session)
        events = session.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.conversation_id == conversation.id, AuditEvent.kind == "wrong_party_reported"))
        marked = session.scalar(select(func.count()).select_from(ContactPreference).where(
            ContactPreference.address == chat.sender, ContactPreference.wrong_party_at.is_not(None)))
        return bool(events or marked)


@pytest.mark.parametrize("text", ["who is this?", "who r u", "who are you?", "what company is this?"])
def test_N1_DISC_3_DISC_4_asking_who_is_writing_names_the_business_and_never_marks_a_wrong_number(running_stack,
                                                                                                  text):
    """The defect: "who is this?" was read as wrong_person, so the number was suppressed (ID-4) and the debtor was
    told "We won't contact this number about it again". A question about who is writing gets the neutral business
    name and that it is automated, and nothing about a debt (DISC-3). Seen failing: the model before this change
    read "who is this?" as wrong_person (0.74) and "what company is this?" as out_of_scope."""
    chat = Chat(running_stack, "who")
    reply = " ".join(chat.say(text))
    assert "Settle Services" in reply and "automated assistant" in reply, reply
    assert "mix-up" not in reply and "won't contact this number" not in reply
    assert "acme" not in reply.lower() and "debt" not in reply.lower() and "$" not in reply
    assert not _wrong_party_marked(chat)


def test_N1_ID_4_saying_it_is_the_wrong_number_still_suppresses_it(running_stack):
    """Only a statement that they are not the person is ID-4."""
    chat = Chat(running_stack, "who")
    reply = " ".join(chat.say("you have the wrong number"))
    assert "won't contact this number" in reply
    assert _wrong_party_marked(chat)


@pytest.mark.parametrize("text", ["are you a bot?", "is this a robot?", "am I talking to AI?", "are you a person?"])
def test_N2_DISC_4_are_you_a_bot_and_are_you_a_person_get_the_same_honest_answer(running_stack, text):
    """The old answer began "No, I'm not a person", which contradicts "are you a bot?". Now: automated, not a
    person, whichever way it is asked."""
    reply = " ".join(Chat(running_stack, "bot").say(text))
    assert "I'm an automated assistant, not a person" in reply, reply
    assert not reply.startswith("No")


def test_N2_DISC_4_in_spanish(running_stack):
    reply = " ".join(Chat(running_stack, "bot").say("¿eres una persona o una máquina?"))
    assert "Soy un asistente automático, no una persona" in reply, reply


def test_N3_LANG_1_the_readme_spanish_example_with_its_accent_asks_who_they_are(running_stack):
    """The defect: "Hola, quiero saber cuánto debo" got "Perdón, no le entendí"; without the accent it worked. The
    featuriser now strips accents (config.yml), so both are the same words. Seen failing: the model before this
    change gave nlu_fallback (check_balance 0.41 under the 0.5 threshold)."""
    reply = " ".join(Chat(running_stack, "es").say("Hola, quiero saber cuánto debo"))
    assert wording.say("verify_first", "es") in reply, reply


def test_N3_DSP_3_LANG_1_tengo_que_pagar_ahora_states_the_right_to_dispute(running_stack):
    """The defect: "¿tengo que pagar ahora?" after verification started a payment ("¿Cuánto quiere pagar?"),
    overshadowing the right to dispute (DSP-3). Seen failing: the model before this change read it as pay_now
    (0.51 against ask_must_pay 0.42): "pagar ahora" is pay_now's menu phrase and no ask_must_pay example had
    "ahora"."""
    chat = Chat(running_stack, "es")
    chat.verify_as_new_debtor("Hola, quiero saber cuánto debo")
    reply = " ".join(chat.say("¿tengo que pagar ahora?"))
    assert "derecho a disputar" in reply, reply
    assert "Cuánto quiere pagar" not in reply


def test_N4_DSP_1_did_you_get_my_payment_is_answered_and_records_no_dispute(running_stack):
    """The defect: "did you get my payment?" recorded a dispute of the whole balance and paused collection. It is a
    question: the answer comes from our records and the account stays active. Seen failing: the model before this
    change read it as already_paid (0.55), which opened the dispute form. "I just paid $10, can you confirm you got
    it?" is still read as already_paid by the model; the words decide then (bot/payments/status.asks_whether_received).
    Mutation tried: action_answer_request without that check -> a dispute of $2,500.00 was recorded (fails)."""
    chat = Chat(running_stack, "paid")
    reference = chat.verify_as_new_debtor("what do i owe", balance_cents=250000)
    for text in ("did you get my payment?", "did my payment go through?",
                 "I just paid $10, can you confirm you got it?"):
        reply = " ".join(chat.say(text))
        assert "I don't see a payment from you in our records yet." in reply, reply
        assert "$2,500.00" in reply and "What do you dispute" not in reply and "dispute" not in reply.lower()
    with chat.session() as session:
        account = session.scalars(select(Account).where(Account.account_ref == reference)).one()
        assert account.status == AccountStatus.ACTIVE
        assert session.scalar(select(func.count()).select_from(Dispute).where(Dispute.account_id == account.id)) == 0


def test_DSP_1_a_claim_that_the_debt_is_paid_is_still_recorded_as_a_dispute(running_stack):
    """The question check must not swallow the claim: "I already paid this" is an already_paid dispute (DSP-1)."""
    chat = Chat(running_stack, "claim")
    reference = chat.verify_as_new_debtor("what do i owe", balance_cents=250000)
    reply = " ".join(chat.say("I already paid this"))
    assert "dispute" in reply.lower(), reply
    with chat.session() as session:
        account = session.scalars(select(Account).where(Account.account_ref == reference)).one()
        kinds = session.scalars(select(Dispute.kind).where(Dispute.account_id == account.id)).all()
    assert kinds == ["already_paid"], kinds


def test_N4_ID_1_a_payment_question_before_verification_asks_who_they_are_first(running_stack):
    reply = " ".join(Chat(running_stack, "paid").say("did my payment go through?"))
    assert wording.say("verify_first") in reply, reply
    assert "$" not in reply and "payment of" not in reply


@pytest.mark.parametrize("text", ["will you sue me?", "are you going to take me to court?",
                                  "will this hurt my credit score?", "¿me van a demandar?"])
def test_N5_TONE_1_legal_and_credit_questions_get_an_honest_answer_and_a_person(running_stack, text):
    """The defect: these got "Sorry, I didn't catch that" or "I can't help with that here". Now an honest answer
    with no threat, no guess about credit and no word of suit or court (TONE-1; TBD-1 on any account), pointing to a
    person. Seen failing: the model before this change gave nlu_fallback or out_of_scope for the English three."""
    replies = Chat(running_stack, "law").say(text)
    reply = " ".join(replies)
    assert not any(phrase in reply for phrase in NOT_UNDERSTOOD), reply
    assert "talk to a person" in reply or "hablar con una persona" in reply
    for line in replies:
        assert tone.lint(line, time_barred=True) == [], line
