"""The tester's conversations over the gateway's REST channel, with the real Rasa server and action server: a report
before verification holds the accounts (CEASE-*), a third party after it ends it (ID-4), a death hands the
conversation to a person (CEASE-4), and a dispute is about the account the debtor names (DSP-1)."""

from __future__ import annotations

import re
import secrets

import pytest
from sqlalchemy import select

from bot.compliance import holds
from bot.db.models import Account, AccountStatus, AuditEvent, Dispute
from tests.conftest import add_debtor
from tests.integration.chat import Chat, letters
from tests.integration.test_sms import Handset

pytestmark = pytest.mark.integration

PAYMENT_OFFER = re.compile(r"pay now|full balance|settle for|\$\d", re.IGNORECASE)


def _debtor(chat: Chat, accounts: int = 1) -> list[str]:
    references = [f"RT-{secrets.randbelow(10**8):08d}" for _ in range(accounts)]
    with chat.session() as session:
        debtor, _ = add_debtor(session, account_ref=references[0], first_name="Robin", last_name=f"Test{letters()}",
                               dob="1958-05-03", ssn_last4="9900", phone=None, creditor="Fabrikam Auto Finance",
                               balance_cents=642000)
        for reference in references[1:]:
            session.add(Account(debtor_id=debtor.id, account_ref=reference, creditor="Contoso Card",
                                balance_cents=312075))
    return references


def _verify(chat: Chat, reference: str) -> list[str]:
    for answer in ("05/03/1958", "9900"):
        chat.say(answer)
    return chat.say(reference)


def test_CEASE_3_bankruptcy_before_verification_means_no_payment_offer_after_it(running_stack):
    chat = Chat(running_stack)
    [reference] = _debtor(chat)
    chat.say("I filed chapter 7 bankruptcy")
    chat.say("I don't know")  # the case number
    chat.say("pay now")
    _verify(chat, reference)
    after = " ".join(chat.say("pay now"))
    assert "bankruptcy" in after and not PAYMENT_OFFER.search(after), after
    with chat.session() as session:
        assert session.scalars(select(Account.status).where(Account.account_ref == reference)).one() == \
            AccountStatus.BANKRUPT


def test_CEASE_4_after_a_death_is_reported_the_bot_asks_for_nothing_and_names_no_debt(running_stack):
    chat = Chat(running_stack)
    _debtor(chat)
    chat.say("my husband Robert died two weeks ago")
    for question in ("what did he owe you?", "do I have to pay his debt?", "pay now"):
        reply = " ".join(chat.say(question))
        assert "person on our team" in reply and "date of birth" not in reply, reply
        assert not PAYMENT_OFFER.search(reply) and "didn't catch" not in reply, reply


def test_ID_4_a_third_party_after_verification_hears_nothing_more(running_stack):
    chat = Chat(running_stack)
    [reference] = _debtor(chat)
    chat.say("what's my balance")
    assert "$6,420.00" in " ".join(_verify(chat, reference))
    chat.say("wrong person, I'm not him")
    for question in ("how much does he owe?", "pay now"):
        reply = " ".join(chat.say(question))
        assert "$" not in reply and "Fabrikam" not in reply and "date of birth" not in reply, reply
    with chat.session() as session:
        conversation = chat.conversation(session)
        assert conversation.verified_at is None
        withdrawn = session.scalars(select(AuditEvent.rule_id).where(
            AuditEvent.kind == "verification_withdrawn", AuditEvent.conversation_id == conversation.id)).all()
    assert withdrawn == ["ID-4"]


def test_DSP_1_with_two_accounts_the_debtor_says_which_one_is_disputed(running_stack):
    chat = Chat(running_stack)
    first, second = _debtor(chat, accounts=2)
    chat.say("this isn't mine")
    # The reason is stated, so verification asks which account at once. (This test said "3" here and read the
    # menu again: the model took "All of them" for goodbye and asked once more, the h-debtor defect.)
    asked = " ".join(_verify(chat, first))
    assert f"ending {first[-4:]}" in asked and f"ending {second[-4:]}" in asked and "All of them" in asked
    recorded = " ".join(chat.say(second[-4:]))
    assert "recorded your dispute" in recorded and f"ending {first[-4:]}" not in recorded
    with chat.session() as session:
        disputed = session.scalars(select(Account.account_ref).join(Dispute, Dispute.account_id == Account.id)
                                   .where(Account.account_ref.in_([first, second]))).all()
    assert disputed == [second]


def test_ID_1_a_question_while_the_date_of_birth_is_asked_is_not_a_badly_typed_date(running_stack):
    chat = Chat(running_stack)
    [reference] = _debtor(chat)
    assert "date of birth" in " ".join(chat.say("what do I owe?"))
    reply = " ".join(chat.say("do I have to pay this?"))
    assert "didn't catch that date" not in reply and "date of birth" in reply and "$" not in reply, reply
    answer = " ".join(_verify(chat, reference))
    assert "right to dispute" in answer, answer  # the question asked last is the one answered (DSP-3)


def _sms_debtor(chat: Chat) -> tuple[str, str]:
    phone = f"+1555777{secrets.randbelow(10**4):04d}"
    reference = f"RT-{secrets.randbelow(10**8):08d}"
    with chat.session() as session:
        add_debtor(session, account_ref=reference, first_name="Robin", last_name=f"Test{letters()}",
                   dob="1958-05-03", ssn_last4="9900", phone=phone, creditor="Fabrikam Auto Finance",
                   balance_cents=642000)
    return phone, reference


def test_ID_4_over_sms_a_third_party_after_verifying_hears_nothing_more(sms_gateway, running_stack):
    client, twilio = sms_gateway
    number, reference = _sms_debtor(Chat(running_stack))
    phone = Handset(client, twilio, number)
    phone.text("what do I owe?")
    phone.text("05/03/1958")
    answer = phone.text("9900")
    if "account number" in " ".join(answer):
        answer = phone.text(reference)
    assert "$6,420.00" in " ".join(answer)
    phone.text("wrong person, I'm not him")
    later = " ".join(phone.text("how much does he owe?") + phone.text("pay now"))
    assert "$" not in later and "Fabrikam" not in later and "date of birth" not in later, later


def test_CEASE_4_over_sms_a_death_reported_in_spanish_holds_the_numbers_account(sms_gateway, running_stack):
    client, twilio = sms_gateway
    chat = Chat(running_stack)
    number, reference = _sms_debtor(chat)
    phone = Handset(client, twilio, number)
    phone.text("mi papá falleció el mes pasado")
    later = " ".join(phone.text("¿cuánto debía?"))
    assert "$" not in later and "Fabrikam" not in later, later
    with chat.session() as session:
        account = session.scalars(select(Account).where(Account.account_ref == reference)).one()
        assert holds.hold_rule(session, account) == "CEASE-4"
