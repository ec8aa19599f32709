"""The exploratory tester's identity and report findings, replayed through the running stack (gateway, real Rasa,
action server): a shared phone handed to someone else (ID-1, ID-4, F30), a hardship the NLU missed (VUL-2, F37), an
attorney's details given with the report (CEASE-2, F9) and a whole bankruptcy case number (CEASE-3, F10)."""

from __future__ import annotations

import re
import secrets

import pytest
from sqlalchemy import select

from bot.db.models import Account, Conversation, Handoff
from tests.conftest import add_debtor
from tests.integration.chat import Chat, letters
from tests.integration.test_sms import Handset

pytestmark = pytest.mark.integration

AMOUNT = re.compile(r"\$\d")


def test_ID_4_on_a_shared_phone_the_next_person_is_told_nothing_until_they_verify(sms_gateway, running_stack):
    """F30: verified as Luis over SMS, then "hi this is Maria now, Luis handed me the phone. how much do I owe on the
    car loan?": no amount, a request to verify; Maria's own details then show her own balance, never Luis's.

    Mutation tried: the another_person_writing call removed from pipeline._receive -> Luis's $512.40 was sent."""
    client, twilio = sms_gateway
    number = f"+1555{secrets.randbelow(10**7):07d}"
    chat = Chat(running_stack)
    with chat.session() as session:
        add_debtor(session, account_ref=f"RT-{secrets.randbelow(10**8):08d}", first_name="Luis",
                   last_name=f"Test{letters()}", dob="1980-06-01", ssn_last4="6006", phone=number,
                   creditor="Northwind Credit Union", balance_cents=51240)
        add_debtor(session, account_ref=f"RT-{secrets.randbelow(10**8):08d}", first_name="Maria",
                   last_name=f"Test{letters()}", dob="1982-09-15", ssn_last4="5005", phone=number,
                   creditor="Fabrikam Auto Finance", balance_cents=98765)
    phone = Handset(client, twilio, number)
    phone.text("what do I owe?")
    phone.text("06/01/1980")
    luis = " ".join(phone.text("6006"))
    assert "$512.40" in luis, luis
    handed = " ".join(phone.text("hi this is Maria now, Luis handed me the phone. how much do I owe on the car loan?"))
    assert not AMOUNT.search(handed) and "Northwind" not in handed, handed
    assert "date of birth" in handed, handed
    phone.text("09/15/1982")
    maria = " ".join(phone.text("5005"))
    assert "$987.65" in maria and "$512.40" not in maria, maria


def test_ID_1_a_spouse_on_the_phone_is_handed_to_a_person_and_told_nothing(running_stack):
    """ID-1: "I'm his wife" after the debtor verified: the balance request that follows gets no amount."""
    chat = Chat(running_stack)
    chat.verify_as_new_debtor()
    chat.say("I'm Robin's wife, can you tell me what he owes?")
    after = " ".join(chat.say("what's the balance?"))
    assert not AMOUNT.search(after), after


def test_VUL_2_losing_a_job_and_asking_for_a_pause_pauses_collection(running_stack):
    """F37: "I just lost my job, can I pause my payments for 2 months?" got "Sorry, I didn't catch that". Now the
    hardship reply (a pause, a person) and the account is paused, whatever the NLU made of it.

    Mutation tried: the hardship_cue call removed from pipeline._receive -> "Sorry, I didn't catch that"."""
    chat = Chat(running_stack)
    reference = chat.verify_as_new_debtor()
    said = " ".join(chat.say("I just lost my job, can I pause my payments for 2 months?"))
    assert "didn't catch" not in said and "person" in said, said
    with chat.session() as session:
        account = session.scalars(select(Account).where(Account.account_ref == reference)).one()
        assert account.collection_paused_reason == "hardship"


def test_CEASE_2_the_attorneys_details_in_the_report_are_taken_and_a_question_is_not_a_name(running_stack):
    """F9: the name and phone given with the report reach the handoff; the bot does not ask for them again, and
    the question that follows is answered, never stored as the attorney's name."""
    chat = Chat(running_stack)
    chat.verify_as_new_debtor()
    said = " ".join(chat.say("my lawyer is handling this. her name is Dana Price, 617-555-0142"))
    assert "attorney's name" not in said.lower(), said
    chat.say("can I still pay you directly?")
    with chat.session() as session:
        conversation = chat.conversation(session)
        details = session.scalars(select(Handoff.details).where(
            Handoff.conversation_id == conversation.id, Handoff.details.is_not(None))).all()
    merged = {k: v for d in details for k, v in d.items()}
    assert merged.get("attorney_name") == "Dana Price" and merged.get("attorney_phone") == "+16175550142", merged


def test_CEASE_3_the_case_number_is_stored_as_written(running_stack):
    """F10: "case 1:26-bk-12345" was stored as "12345"."""
    chat = Chat(running_stack)
    chat.verify_as_new_debtor()
    chat.say("I filed for bankruptcy")
    chat.say("case 1:26-bk-12345")
    with chat.session() as session:
        conversation: Conversation = chat.conversation(session)
        details = session.scalars(select(Handoff.details).where(
            Handoff.conversation_id == conversation.id, Handoff.details.is_not(None))).all()
    assert any(d.get("bankruptcy_case_number") == "1:26-bk-12345" for d in details), details


def test_LANG_1_ID_2_a_spanish_debtor_verifies_with_a_day_first_date_and_early_answers(running_stack):
    """F4: Tomás, in Spanish, typed "22/03/1976" (refused in a loop), then "4455" and his reference (refused as
    dates). Now the last 4 typed where the date was asked is kept, the day-first date is read, and the reference
    completes the check: his balance, never "no entendí la fecha".

    Mutation tried: the `_kept_for_later` call removed from validate_id_dob -> "4455" got "no entendí la fecha"."""
    chat = Chat(running_stack)
    reference = f"RT-{secrets.randbelow(10**8):08d}"
    with chat.session() as session:
        add_debtor(session, account_ref=reference, first_name="Tomás", last_name=f"Test{letters()}",
                   dob="1976-03-22", ssn_last4="4455", phone=None, creditor="Contoso Card", balance_cents=33300)
    chat.say("en español por favor")
    chat.say("¿cuánto debo?")
    kept = " ".join(chat.say("4455"))
    assert "no entendí" not in kept.lower() and "fecha de nacimiento" in kept, kept
    chat.say("22/03/1976")
    answer = " ".join(chat.say(reference))
    assert "$333.00" in answer and "no entendí" not in " ".join(chat.replies).lower(), chat.replies


@pytest.mark.parametrize("report, number", [
    ("I filed for bankruptcy, case number 24-12345", "24-12345"),
    ("I filed for bankruptcy. Case 1:24-bk-10234", "1:24-bk-10234"),
])
def test_CEASE_3_the_case_number_given_with_the_report_is_kept_and_not_asked_again(running_stack, report, number):
    """Exploratory tester: the number given with the report was asked for again, and typing it again got the card
    warning (PCI-2 joined the two halves) and "[REDACTED]" kept as the case number. Now it is taken from the report
    and a repeat of it is no card.

    Mutation tried: the `case_number_in_report` line removed from ActionHandleSensitive.run -> the form asks again:
    fails; the `_CASE_LABEL` test removed from redaction._carry_part -> the repeat gets the card warning: fails."""
    chat = Chat(running_stack)
    chat.verify_as_new_debtor()
    said = " ".join(chat.say(report))
    assert "case number?" not in said, said
    again = " ".join(chat.say(number))
    assert "card" not in again, again
    with chat.session() as session:
        conversation: Conversation = chat.conversation(session)
        details = session.scalars(select(Handoff.details).where(
            Handoff.conversation_id == conversation.id, Handoff.details.is_not(None))).all()
    assert any(d.get("bankruptcy_case_number") == number for d in details), details
    assert not any("[REDACTED]" in str(d) for d in details), details
