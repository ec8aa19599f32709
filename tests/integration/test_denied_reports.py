"""Words that say the opposite of a report, end to end through the gateway (real Rasa, action server and app
database): the exploratory tester's "I don't have a lawyer", "is this a law firm?", "I never filed for bankruptcy",
"I don't want to stop contacting, keep texting me" (CEASE-1/2/3), "I don't know my SSN" and "you have my address
wrong" (ID-4), and "this is his mother, he's not home" (CEASE-4) were each read by the NLU as the report they deny,
and the debtor was locked out. Each now gets a helpful answer and no hold; the real reports still take effect.
The domain's side is tests/test_denied_reports.py."""

from __future__ import annotations

import secrets

import pytest
from sqlalchemy import select

from bot.db import get_engine, session_scope
from bot.db.models import Account, AccountStatus, AuditEvent, ContactPreference
from tests.conftest import add_debtor
from tests.integration.chat import Chat, letters

pytestmark = pytest.mark.integration

REPORT_EVENTS = ("attorney_reported", "bankruptcy_reported", "cease_requested", "deceased_reported",
                 "wrong_party_reported")


def _kinds(chat: Chat) -> list[str]:
    with chat.session() as session:
        conversation = chat.conversation(session)
        return list(session.scalars(select(AuditEvent.kind).where(AuditEvent.conversation_id == conversation.id)))


def _status(chat: Chat, reference: str) -> AccountStatus:
    with chat.session() as session:
        return session.scalars(select(Account.status).where(Account.account_ref == reference)).one()


def _new_debtor(chat: Chat) -> str:
    reference = f"RT-{secrets.randbelow(10**8):08d}"
    with chat.session() as session:
        add_debtor(session, account_ref=reference, first_name="Robin", last_name=f"Test{letters()}",
                   dob="1985-11-02", ssn_last4="5678", zip_code="02139", phone=None,
                   creditor="Northwind Credit Union", balance_cents=240000)
    return reference


@pytest.mark.parametrize("denial", ["I don't have a lawyer",
                                    "no I don't have a lawyer, I was asking if YOU are lawyers",
                                    "I never filed for bankruptcy",
                                    "I don't want to stop contacting, keep texting me"])
def test_CEASE_1_2_3_a_verified_debtor_denying_a_report_keeps_their_account(running_stack, denial):
    """A verified debtor says they have no lawyer, never filed, or want us to keep texting: no attorney, bankruptcy
    or cease reply, no report recorded, the account stays active, and the next "what's my balance?" gets the
    balance, not "since a lawyer is helping you".
    Mutation tried: without the `_denied_report` call in ActionHandleSensitive.run (main before this fix) -> the
    attorney, bankruptcy and cease replies, and the account held: fails."""
    chat = Chat(running_stack, "deny")
    reference = chat.verify_as_new_debtor()
    said = " ".join(chat.say(denial)).lower()
    assert "attorney" not in said and "stop contacting you" not in said and "stopped collection" not in said
    assert not set(_kinds(chat)) & set(REPORT_EVENTS)
    assert _status(chat, reference) == AccountStatus.ACTIVE
    balance = " ".join(chat.say("what's my balance?"))
    assert "$2,400.00" in balance and "lawyer" not in balance


def test_DISC_4_is_this_a_law_firm_gets_who_we_are_not_an_attorney_hold(running_stack):
    """Unverified, "is this a law firm?": who we are (an automated assistant), never "we'll contact your attorney".
    Mutation tried: without the `_denied_report` call (main before this fix) -> the attorney reply: fails."""
    chat = Chat(running_stack, "lawfirm")
    said = " ".join(chat.say("is this a law firm?")).lower()
    assert "attorney" not in said and "automated assistant" in said
    assert "attorney_reported" not in _kinds(chat)


def test_CEASE_2_3_real_reports_still_take_effect(running_stack):
    """The other side: "I filed for bankruptcy last month" still holds the account (CEASE-3).
    Mutation tried: `denies` returning True for bankruptcy -> "Nothing has changed", the account active: fails."""
    chat = Chat(running_stack, "real")
    reference = chat.verify_as_new_debtor()
    said = " ".join(chat.say("I filed for bankruptcy last month")).lower()
    assert "stopped collection" in said
    assert _status(chat, reference) == AccountStatus.BANKRUPT


@pytest.mark.parametrize("unknown", ["I don't know my SSN", "idk"])
def test_ID_4_ID_2_i_dont_know_my_ssn_goes_on_with_the_zip_and_verifies(running_stack, unknown):
    """At the SSN question, "I don't know my SSN" or "idk" is a debtor without that answer, not a wrong party: no
    "sorry for the mix-up", nothing marked wrong-party, and the check goes on: the ZIP and the account number verify
    and the balance is said.
    Mutation tried: without the `_denied_report` call (main before this fix) -> "sorry for the mix-up": fails.
    The branch-by-branch mutations are in tests/test_denied_reports.py."""
    chat = Chat(running_stack, "nossn")
    reference = _new_debtor(chat)
    chat.say("whats my balance")
    chat.say("11/02/1985")
    said = " ".join(chat.say(unknown)).lower()
    assert "mix-up" not in said and "zip" in said
    assert "wrong_party_reported" not in _kinds(chat)
    chat.say("02139")
    balance = " ".join(chat.say(reference))
    assert "$2,400.00" in balance
    with chat.session() as session:
        preference = session.scalars(select(ContactPreference).where(
            ContactPreference.address == chat.sender)).one_or_none()
        assert preference is None or preference.wrong_party_at is None


def test_ID_4_ID_2_which_detail_was_wrong_is_not_told_and_not_a_wrong_party(running_stack):
    """After a failed try, "is that the wrong ssn or the wrong birthday?" gets that we can't say which (ID-2) and the
    check goes on; nothing is marked wrong-party (ID-4).
    Mutation tried: without the `_denied_report` call (main before this fix) -> "sorry for the mix-up": fails."""
    chat = Chat(running_stack, "which")
    reference = _new_debtor(chat)
    chat.say("whats my balance")
    for answer in ("11/03/1985", "5678", reference):
        chat.say(answer)
    said = " ".join(chat.say("is that the wrong ssn or the wrong birthday?")).lower()
    assert "mix-up" not in said and "can't say which" in said
    assert "wrong_party_reported" not in _kinds(chat)


def test_ID_4_a_wrong_address_is_noted_for_a_person_not_a_wrong_party(running_stack):
    """Verified, "you have my address wrong, I moved": noted for a person, and the next "what's my balance?" is
    answered (no third-party refusal).
    Mutation tried: without the `_denied_report` call (main before this fix) -> "sorry for the mix-up": fails."""
    chat = Chat(running_stack, "moved")
    chat.verify_as_new_debtor()
    said = " ".join(chat.say("you have my address wrong, I moved")).lower()
    assert "mix-up" not in said and "person on our team" in said
    assert "wrong_party_reported" not in _kinds(chat)
    assert "$2,400.00" in " ".join(chat.say("what's my balance?"))


def test_CEASE_4_ID_4_a_mother_answering_for_her_son_is_a_third_party_not_a_death(running_stack):
    """"this is his mother, he's not home": no condolences (nobody died), no death recorded; she is a third party
    (ID-4): nothing about a debt. "I'm the executor of his estate" still gets the death reply (CEASE-4).
    Mutation tried: without the `_denied_report` call (main before this fix) -> "sorry for your loss": fails."""
    chat = Chat(running_stack, "mother")
    said = " ".join(chat.say("this is his mother, he's not home")).lower()
    # Either third-party path: the gateway's words (third_party_asking, before the NLU) or the denied death read as
    # a wrong party (report_denials); both say nothing about a debt and hand her to a person.
    assert "loss" not in said and ("mix-up" in said or "only talk about this with the person" in said), said
    kinds = _kinds(chat)
    assert "deceased_reported" not in kinds
    assert {"wrong_party_reported", "third_party_writing"} & set(kinds), kinds
    executor = Chat(running_stack, "executor")
    assert "loss" in " ".join(executor.say("I'm the executor of his estate")).lower()


def test_CEASE_1_3_a_denial_typed_to_an_agent_holds_nothing(running_stack):
    """While a person owns the chat, the rules the NLU reads still act (pipeline._rules_while_owned); a denial
    ("I never filed for bankruptcy", "keep texting me") is not one of them: the account stays active, no report.
    Mutation tried: the `denied_by_words` check removed from Pipeline._rules_while_owned -> fails."""
    from tests.integration.test_agent_owned import _owned

    chat = _owned(running_stack)
    for denial in ("I never filed for bankruptcy", "I don't want to stop contacting, keep texting me",
                   "I don't have a lawyer"):
        chat.say(denial)
    with chat.session() as session:
        conversation = chat.conversation(session)
        assert session.get(Account, conversation.account_id).status == AccountStatus.ACTIVE
    assert not set(_kinds(chat)) & set(REPORT_EVENTS)


def test_ID_4_ID_2_over_sms_the_demo_debtor_without_her_ssn_verifies_with_the_zip(sms_gateway, running_stack):
    """The tester's demo phone (+15555550121, SET-100021, used by no other integration test): "I don't know my SSN"
    at that question was "Sorry for the mix-up" and the phone was blocked for good. Now the ZIP route goes on and
    the balance is said; the phone is not marked wrong-party. "this is his mother, he's not home" from another
    phone gets no condolences.
    Mutation tried: without the `_denied_report` call (main before this fix) -> "sorry for the mix-up": fails."""
    from tests.integration.test_sms import Handset

    client, twilio = sms_gateway
    phone = Handset(client, twilio, "+15555550121")
    phone.text("whats my balance")
    phone.text("06/06/1984")
    said = " ".join(phone.text("I don't know my SSN")).lower()
    assert "mix-up" not in said and "zip" in said
    answer = " ".join(phone.text("85281"))
    if "account number" in answer:  # a ZIP verifies only beside the account reference (ID-2)
        answer = " ".join(phone.text("SET-100021"))
    assert "$199.99" in answer
    with session_scope(get_engine(running_stack.config.database_url)) as session:
        preference = session.scalars(select(ContactPreference).where(
            ContactPreference.address == "+15555550121")).one_or_none()
        assert preference is None or preference.wrong_party_at is None
    mother = Handset(client, twilio, "+15555550987")
    assert "loss" not in " ".join(mother.text("this is his mother, he's not home")).lower()
