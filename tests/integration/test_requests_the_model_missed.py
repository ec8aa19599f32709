"""The exploratory tester's legal reports and requests that the model read as something else, replayed through the
running stack (gateway, real Rasa, action server, app database): an attorney stated plainly (CEASE-2, defect 3), a
third party asking about a relative's debt (ID-1, ID-4, defect 4) and "stop texting me" inside a longer text
(OPT-2, OPT-3, defect 5). The cue functions and the gate are in tests/test_requests_the_model_missed.py."""

from __future__ import annotations

import re
import secrets

import pytest
from sqlalchemy import select

from bot.compliance import keywords
from bot.db.models import ContactPreference, Handoff
from tests.integration.chat import Chat
from tests.integration.test_sms import Handset

pytestmark = pytest.mark.integration

AMOUNT = re.compile(r"\$\d")
NOT_UNDERSTOOD = "didn't catch that"


def _details(chat: Chat) -> dict[str, str]:
    with chat.session() as session:
        conversation = chat.conversation(session)
        rows = session.scalars(select(Handoff.details).where(Handoff.conversation_id == conversation.id,
                                                             Handoff.details.is_not(None))).all()
    return {k: v for row in rows for k, v in row.items()}


@pytest.mark.parametrize("report", [
    "I have a lawyer, her name is Susan Park, 555-201-3344",
    "I have a lawyer, Susan Park, 555-201-3344",
    "I have an attorney. Her name is Susan Park and her number is 555-201-3344",
    "I have a lawyer now, Susan Park 555-201-3344",  # the name was lost (report_details.attorney_name)
])
def test_CEASE_2_an_attorney_given_with_name_and_phone_is_taken_and_the_debt_never_told(running_stack, report):
    """Defect 3: these started the identity check or got "didn't catch that", and after verifying the debtor was
    shown the balance. Now: the attorney report (no identity question, nothing asked again), the name and phone on
    the handoff, and after verifying, no amount.

    Mutation tried (the three gate mutations of this file in one run): the attorney request not set from
    `attorney_in_words` in pipeline._receive -> "Thanks. Let me confirm who you are. What is your date of birth?" /
    "Sorry, I didn't catch that": fails."""
    chat = Chat(running_stack, "atty")
    reference = chat.new_debtor()
    said = " ".join(chat.say(report))
    assert NOT_UNDERSTOOD not in said and "date of birth" not in said, said
    assert "attorney's name" not in said.lower() and "phone number" not in said.lower(), said
    assert _details(chat) == {"attorney_name": "Susan Park", "attorney_phone": "+15552013344"}
    after = " ".join(" ".join(chat.say(answer)) for answer in ("11/02/1985", "5678", reference, "what do I owe?"))
    assert not AMOUNT.search(after), after


@pytest.mark.parametrize("report", [
    "I'm so confused by all this and it's been a hard year. I have a lawyer now, please talk to him.",
    "I got a letter last week and I don't understand it, my hours got cut and it's been a lot. Anyway, I have a "
    "lawyer now, please talk to him.",
])
def test_CEASE_2_an_attorney_stated_without_details_is_asked_only_for_them(running_stack, report):
    """Defect 3: "didn't catch that", or the identity check. Now the attorney form asks for the name, then the
    phone; both reach the handoff, and nothing about the debt is told after it (accounts._balance_lines: CEASE-2).

    Mutation tried: as above -> "Sorry, I didn't catch that": fails."""
    chat = Chat(running_stack, "atty")
    reference = chat.new_debtor()
    said = " ".join(chat.say(report))
    assert NOT_UNDERSTOOD not in said and "attorney's name" in said.lower(), said
    assert "phone" in " ".join(chat.say("Susan Park")).lower()
    chat.say("555-201-3344")
    assert _details(chat) == {"attorney_name": "Susan Park", "attorney_phone": "+15552013344"}
    after = " ".join(" ".join(chat.say(answer)) for answer in ("11/02/1985", "5678", reference, "what do I owe?"))
    assert not AMOUNT.search(after), after


@pytest.mark.parametrize("opening", ["Hi, I'm Robin Test's wife. How much does my husband owe?",
                                     "I'm calling on behalf of my son, what does he owe?"])
def test_ID_1_ID_4_a_relative_asking_gets_a_person_and_no_debt_even_with_the_debtors_answers(running_stack, opening):
    """Defect 4: "didn't catch that", then the debtor's date of birth, last 4 and reference showed the balance to the
    wife. Now the neutral handover (a person), a third-party handoff, and the answers verify no one: no amount.

    Mutation tried: the `third_party_asking` call removed from pipeline._receive -> "Sorry, I didn't catch that":
    fails."""
    chat = Chat(running_stack, "tp")
    reference = chat.new_debtor()
    said = " ".join(chat.say(opening))
    assert NOT_UNDERSTOOD not in said and "person on our team" in said and not AMOUNT.search(said), said
    after = " ".join(" ".join(chat.say(answer)) for answer in ("11/02/1985", "5678", reference, "what does he owe?"))
    assert not AMOUNT.search(after) and "Northwind" not in after, after
    with chat.session() as session:
        conversation = chat.conversation(session)
        assert conversation.verified_at is None
        reasons = session.scalars(select(Handoff.reason).where(Handoff.conversation_id == conversation.id)).all()
    assert "third_party" in reasons


@pytest.mark.parametrize("text", ["what do I owe? also stop texting me",
                                  "hi! quick q: what do I owe and can I set up a plan? also pls stop texting me"])
def test_OPT_2_OPT_3_stop_texting_me_in_a_longer_text_opts_the_number_out(sms_gateway, running_stack, text):
    """Defect 5: the verification prompt or "didn't catch that", and the number stayed subscribed. Now the one reply
    is the opt-out confirmation, the number is opted out, and the next text gets OPT-3's one answer.

    Mutation tried: the `asks_to_stop_messages` branch removed from pipeline._keyword -> "Sorry, I didn't catch
    that" instead of the confirmation: fails."""
    client, twilio = sms_gateway
    number = f"+1555{secrets.randbelow(10**7):07d}"
    phone = Handset(client, twilio, number)
    assert phone.text(text) == [keywords.stop_reply("sms")]
    after = phone.text("hi")
    assert after in ([], [keywords.opted_out_reply("sms")]), after
    chat = Chat(running_stack)
    with chat.session() as session:
        preference = session.scalars(select(ContactPreference).where(ContactPreference.channel == "sms",
                                                                     ContactPreference.address == number)).one()
        assert preference.opted_out_at is not None and preference.opted_out_via == "natural language"
