"""EMAIL-1 through the running stack (gateway, real Rasa, action server): the E-SIGN question answered by the number
of its button, as SMS shows buttons and as the exploratory tester typed it."""

from __future__ import annotations

import secrets

import pytest
from sqlalchemy import select

from bot import wording
from bot.compliance import esign
from bot.db.models import Debtor, EsignConsent
from tests.conftest import add_debtor
from tests.integration.chat import Chat, letters

pytestmark = pytest.mark.integration


@pytest.mark.parametrize(("typed", "consented"), [("1", True), ("2", False)])
def test_EMAIL_1_the_number_of_a_button_answers_the_email_notice_question(running_stack, typed, consented):
    """Exploratory tester: "1" at "1. Yes, email them / 2. No, send them by post" got "OK. What would you like to
    do?" and no row in esign_consents. Now the digit's button answers it, stored with the digit and the button's
    words. Mutation tried: esign.answer called without `picked` in pipeline._receive -> "OK. What would you like to
    do?", no consent: fails."""
    chat = Chat(running_stack, "esign")
    reference = f"RT-{secrets.randbelow(10**8):08d}"
    email = f"{letters()}@example.com"
    with chat.session() as session:
        debtor, _ = add_debtor(session, account_ref=reference, first_name="Robin", last_name=f"Test{letters()}",
                               dob="1985-11-02", ssn_last4="5678", phone=None)
        debtor.email = email
    chat.say("what do i owe")
    chat.say("11/02/1985")
    chat.say("5678")
    verified = chat.say(reference)
    assert esign.QUESTION_MARK in verified[-1], verified
    said = " ".join(chat.say(typed))
    expected = wording.say("esign_consented", address=esign.masked(email)) if consented else \
        wording.say("esign_declined")
    assert expected in said and "What would you like to do" not in said, said
    with chat.session() as session:
        debtor_id = session.scalars(select(Debtor.id).where(Debtor.email == email)).one()
        consent = session.scalars(select(EsignConsent).where(EsignConsent.debtor_id == debtor_id)).one()
        assert consent.consented is consented and consent.answer.startswith(f"{typed} (")
