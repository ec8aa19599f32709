"""The identity form keeps what the debtor already said (ID-2), and a question asked while a form waits for an answer
is answered, never read as the answer; compliance requests end every form. End to end through the gateway's REST
channel with the real Rasa server, action server and app database: each test asserts what the debtor reads."""

from __future__ import annotations

import secrets

import pytest
from sqlalchemy import func, select

from bot import wording
from bot.db.models import AuditEvent, Message, VerificationAttempt
from tests.conftest import add_debtor
from tests.integration.chat import Chat, letters

pytestmark = pytest.mark.integration

ASK_DOB = "What is your date of birth?"
ASK_SSN = "What are the last 4 digits of your Social Security number?"
ASK_REFERENCE = "what is your account number from our letter?"
NOT_UNDERSTOOD = ("didn't catch that", "still not getting it", "can't help with that here")
CONSEQUENCES = "I don't want to guess the answer"
WHO_WE_ARE = "I'm an automated assistant, not a person"
BALANCE = "Your balance with"


def _debtor(chat: Chat) -> tuple[str, str]:
    """A debtor of this test's own (Robin Test..., born 11/02/1985, SSN ending 5678): (account reference, name)."""
    reference = f"RT-{secrets.randbelow(10**8):08d}"
    last = "Test" + letters()
    with chat.session() as session:
        add_debtor(session, account_ref=reference, first_name="Robin", last_name=last, dob="1985-11-02",
                   ssn_last4="5678", phone=None, creditor="Northwind Credit Union", balance_cents=240000)
    return reference, f"Robin {last}"


def _failures(chat: Chat) -> int:
    """This conversation's failed checks (its own tally: the rows a check adds per person it named are not counted)."""
    with chat.session() as session:
        conversation = chat.conversation(session)
        return session.scalar(select(func.count()).select_from(VerificationAttempt).where(
            VerificationAttempt.conversation_id == conversation.id, VerificationAttempt.succeeded.is_(False),
            VerificationAttempt.debtor_id.is_(None)))


# Defect 1: factors given before the form asks for them.

def test_ID_2_a_date_of_birth_in_the_first_message_is_not_asked_for_again(running_stack):
    """"hi, dob 11/02/1985, what do I owe?" used to get "What is your date of birth?". The form now starts with what
    was given and asks only for the rest; nothing says the date was right (ID-2: no single factor confirmed).
    Mutation tried: action_request_verification clearing the identity slots again (as before) -> the first reply
    asks for the date of birth (fails)."""
    chat = Chat(running_stack, "early")
    reference, _ = _debtor(chat)
    first = " ".join(chat.say("hi, dob 11/02/1985, what do I owe?"))
    assert ASK_SSN in first, first
    assert ASK_DOB not in first and "11/02/1985" not in first and "birth" not in first.lower(), first
    assert ASK_REFERENCE in " ".join(chat.say("5678"))
    assert BALANCE in " ".join(chat.say(reference))


def test_ID_2_a_name_and_date_of_birth_given_up_front_leave_only_the_ssn_to_ask(running_stack):
    """The tester's message: "hi this is <name>, dob <date>, what do I owe?". Name + date of birth + SSN's last four
    is an accepted set, so one question is left; the balance follows its answer."""
    chat = Chat(running_stack, "early")
    _, name = _debtor(chat)
    first = " ".join(chat.say(f"hi this is {name}, dob 11/02/1985, what do I owe?"))
    assert ASK_SSN in first and ASK_DOB not in first, first
    assert BALANCE in " ".join(chat.say("5678"))


def test_ID_2_the_request_beside_volunteered_details_is_what_the_record_says_was_asked(running_stack):
    """"hi, dob 11/02/1985, what do I owe?": the date outweighed the request's words, and the model read the message
    as identity details (or as nothing: "didn't catch that"). The request is read without the details
    (bot/identity.request_words, settle_channel.read_request), so the record keeps what was asked (REC-1) and the
    balance follows the check without asking again. Mutation tried: the pipeline not sending `request_text` -> the
    stored reading is inform_identity (fails)."""
    chat = Chat(running_stack, "request")
    reference, _ = _debtor(chat)
    first = " ".join(chat.say("hi, dob 11/02/1985, what do I owe?"))
    assert ASK_SSN in first and not any(p in first for p in NOT_UNDERSTOOD), first
    with chat.session() as session:
        stored = session.scalars(select(Message).where(
            Message.conversation_id == chat.conversation(session).id, Message.direction == "in")).all()
        assert [m.intent for m in stored] == ["check_balance"], [(m.text, m.intent) for m in stored]
        assert "11/02/1985" not in stored[0].text  # ID-2: the value itself is never stored
    chat.say("5678")
    assert BALANCE in " ".join(chat.say(reference))


def test_ID_2_every_factor_given_up_front_verifies_without_a_question(running_stack):
    """Date of birth, SSN's last four and the account number in one message: nothing is left to ask, so the check
    runs as the form starts and the balance follows in the same reply. Mutation tried: action_request_verification
    clearing the answers -> the date of birth is asked (fails). The rule "ID-2 details given before they were asked
    for verify at once" only spells the path out: without it RulePolicy took the same one (tried: still passes)."""
    chat = Chat(running_stack, "early")
    reference, _ = _debtor(chat)
    reply = " ".join(chat.say(f"what do I owe? dob 11/02/1985, last 4 of ssn 5678, account {reference}"))
    assert BALANCE in reply and "$2,400.00" in reply, reply
    assert ASK_DOB not in reply and ASK_SSN not in reply and not any(p in reply for p in NOT_UNDERSTOOD), reply


def test_ID_2_ID_3_a_message_that_only_mentions_a_date_and_digits_gives_no_factor(running_stack):
    """A date and four digits that no label calls a birth date or an SSN tail are not guessed at: a wrong guess
    would spend one of the three tries (ID-3). Seen failing: the NLU reads this message as identity details, and
    before volunteered_factors refused an unlabelled date beside other digits the payment date was taken for the
    birth date (the form asked for the SSN instead)."""
    chat = Chat(running_stack, "early")
    _debtor(chat)
    first = " ".join(chat.say("I paid 1500 on 03/14/2026, what do I owe?"))
    assert ASK_DOB in first, first


def test_ID_2_ID_3_factors_a_failed_check_used_are_not_tried_again(running_stack):
    """After a failed check the debtor stops and asks again later: the form asks for everything, rather than trying
    the same wrong date of birth again (a second failure towards the lockout). Mutation tried: _volunteered not
    stopping at the form's last run -> the restarted form skips the date of birth (fails)."""
    chat = Chat(running_stack, "early")
    reference, _ = _debtor(chat)
    chat.say("dob 01/01/1970, what do I owe?")
    chat.say("5678")
    failed = " ".join(chat.say(reference))
    assert "couldn't confirm" in failed, failed
    chat.say("no")
    again = " ".join(chat.say("what do I owe?"))
    assert ASK_DOB in again, again
    assert _failures(chat) == 1


# Defect 2: questions asked while a form waits for an answer.

def test_ID_1_TONE_1_DISC_4_questions_during_verification_are_answered_and_the_question_is_asked_again(
        running_stack):
    """"will you sue me?", "who is this?", "is this a scam?" while the form asks for the date of birth used to get
    "Sorry, I didn't catch that date". Each gets its own answer, which says nothing about a debt (ID-1), then the
    form asks for the date of birth again. Mutation tried: ask_consequences out of verify_form's not_intent list ->
    "Sorry, I didn't catch that date" (fails). The rule "TONE-1 will you sue me during verification" alone removed
    changes nothing (the general TONE-1 rule answers and the form resumes: tried, still passes)."""
    chat = Chat(running_stack, "midform")
    reference, _ = _debtor(chat)
    chat.say("what do I owe?")
    for question, answer in (("will you sue me?", CONSEQUENCES), ("who is this?", WHO_WE_ARE),
                             ("is this a scam?", WHO_WE_ARE)):
        reply = " ".join(chat.say(question))
        assert answer in reply and ASK_DOB in reply, (question, reply)
        assert not any(p in reply for p in NOT_UNDERSTOOD), reply
        assert "$" not in reply and "Northwind" not in reply and "debt" not in reply.lower(), reply
    chat.say("11/02/1985")
    chat.say("5678")
    assert BALANCE in " ".join(chat.say(reference))


def test_ID_1_a_payment_question_during_verification_is_answered_once_verified(running_stack):
    """"did you get my payment?" while the form asks for the SSN's last four: "I'll answer that once I've confirmed
    who you are", the question again, and after the check the answer from our records, not the balance it first
    asked for. Mutation tried: ask_payment_status out of the questions actions/verification.py defers -> "Sorry, I
    didn't catch that" (fails)."""
    chat = Chat(running_stack, "midform")
    reference, _ = _debtor(chat)
    chat.say("what do I owe?")
    chat.say("11/02/1985")
    reply = " ".join(chat.say("did you get my payment?"))
    assert wording.say("verify_question_first") in reply, reply
    assert "Social Security" in reply and not any(p in reply for p in NOT_UNDERSTOOD), reply
    # Asked once (a third exploratory pass: the deferral carried the question and the form asked it again).
    assert reply.count("Social Security") == 1, reply
    assert "payment from you" not in reply
    chat.say("5678")
    answer = " ".join(chat.say(reference))
    assert "I don't see a payment from you in our records yet." in answer, answer


def test_ID_2_ID_3_a_question_at_the_account_number_step_is_not_taken_for_a_name(running_stack):
    """The last question takes an account number or a first and last name, and "did you get my payment" (no question
    mark, as texted) is made of words like a name: it was checked as one, failing a try (ID-3). Mutation tried:
    _validated without the question check before the name reading -> "couldn't confirm" and one failure (fails)."""
    chat = Chat(running_stack, "midform")
    reference, _ = _debtor(chat)
    chat.say("what do I owe?")
    chat.say("11/02/1985")
    chat.say("5678")
    for question in ("will you sue me", "did you get my payment", "who is this"):
        reply = " ".join(chat.say(question))
        assert "couldn't confirm" not in reply and "account number" in reply, (question, reply)
        assert not any(p in reply for p in NOT_UNDERSTOOD), reply
    assert _failures(chat) == 0
    answer = " ".join(chat.say(reference))
    assert "I don't see a payment from you in our records yet." in answer, answer


def _dispute_form(chat: Chat) -> str:
    chat.verify_as_new_debtor()
    reply = " ".join(chat.say("I dispute this debt"))
    assert "What do you dispute?" in reply, reply
    return "What do you dispute?"


def _plan_form(chat: Chat) -> str:
    chat.verify_as_new_debtor()
    reply = " ".join(chat.say("can I get a payment plan?"))
    assert "How much can you pay" in reply, reply
    return "How much can you pay"


def _payment_form(chat: Chat) -> str:
    chat.verify_as_new_debtor()
    reply = " ".join(chat.say("pay now"))
    assert "How much would you like to pay?" in reply, reply
    return "How much would you like to pay?"


def _verify_form(chat: Chat) -> str:
    _debtor(chat)
    assert ASK_DOB in " ".join(chat.say("what do I owe?"))
    return ASK_DOB


FORMS = {"verify_form": _verify_form, "dispute_form": _dispute_form, "plan_form": _plan_form,
         "payment_form": _payment_form}


@pytest.mark.parametrize("form", ["dispute_form", "plan_form", "payment_form"])
def test_TONE_1_DISC_4_questions_during_a_dispute_a_plan_or_a_payment_are_answered_and_the_form_carries_on(
        running_stack, form):
    """In the dispute, plan and payment forms (a verified debtor) "will you sue me?", "did you get my payment?" and
    "who is this?" get their answers, then the form's question again. Mutation tried: ask_payment_status out of
    dispute_kind's not_intent list -> "Sorry, I didn't catch that. Please pick 1, 2, 3 or 4." (fails); the rule "N4
    did you get my payment during a dispute" alone removed changes nothing (tried, still passes)."""
    chat = Chat(running_stack, "midform")
    question_again = FORMS[form](chat)
    asked = [("will you sue me?", CONSEQUENCES), ("who is this?", WHO_WE_ARE),
             ("did you get my payment?", "I don't see a payment from you in our records yet.")]
    for question, answer in asked:
        reply = " ".join(chat.say(question))
        # The dispute menu steps aside for a payment question (bot/disputes.not_a_dispute): answered from the
        # records, nothing recorded, and the debtor told so (tests/integration/test_dispute_form.py).
        again = wording.say("dispute_left") if form == "dispute_form" and question.startswith("did you") \
            else question_again
        assert answer in reply and again in reply, (question, reply)
        assert not any(p in reply for p in NOT_UNDERSTOOD), reply


# Compliance requests end any form, verified or not: (message, audit event, rule).
COMPLIANCE = [
    ("please stop texting me", "opted_out", "OPT-2"),  # by the gateway, before the NLU (keywords.asks_to_stop_messages)
    ("stop contacting me, I refuse to pay", "cease_requested", "CEASE-1"),
    ("I have a lawyer, talk to my attorney", "attorney_reported", "CEASE-2"),
    ("I filed for bankruptcy", "bankruptcy_reported", "CEASE-3"),
    ("the person you're looking for passed away", "deceased_reported", "CEASE-4"),
    ("you have the wrong number", "wrong_party_reported", "ID-4"),
    ("I lost my job and can't afford anything", "hardship_reported", "VUL-2"),
    ("can I talk to a person?", "human_requested", "HO-1"),
]


@pytest.mark.parametrize("form", list(FORMS))
@pytest.mark.parametrize(("text", "event", "rule"), COMPLIANCE, ids=[c[2] for c in COMPLIANCE])
def test_OPT_2_CEASE_ID_4_VUL_2_HO_1_compliance_requests_end_every_form(running_stack, form, text, event, rule):
    """Stop, cease, attorney, bankruptcy, a death, a wrong number, hardship and a person, said while the identity,
    dispute or plan form asks: recorded under its rule, answered, and the form's question is not asked again (nor
    is the message taken as an answer). Mutation tried: the rule "hardship during a dispute" removed -> the hardship
    reply, then "What do you dispute?" again: the form carried on (fails)."""
    chat = Chat(running_stack, "comply")
    question = FORMS[form](chat)
    reply = " ".join(chat.say(text))
    assert question not in reply and not any(p in reply for p in NOT_UNDERSTOOD), reply
    with chat.session() as session:
        conversation = chat.conversation(session)
        kinds = set(session.scalars(select(AuditEvent.kind).where(AuditEvent.conversation_id == conversation.id)))
    assert event in kinds, (rule, kinds)


def test_ID_2_a_last_four_typed_where_the_date_was_asked_is_kept_and_the_date_asked_once(running_stack):
    """A third exploratory pass: "5678" typed first got "Thanks, I've noted that. Now, what is your date of birth?"
    and then the form's own "What is your date of birth?". Mutation tried: verify_kept's words with the question
    again -> the date asked twice: fails."""
    chat = Chat(running_stack, "kept")
    chat.new_debtor()
    chat.say("what do I owe?")
    reply = " ".join(chat.say("5678"))
    assert wording.say("verify_kept") in reply and reply.count("date of birth") == 1, reply
