"""What a verified debtor hears about their account (ID-1, DISC-1, TONE-2)."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from sqlalchemy import select

from bot import accounts, conversations
from bot.compliance.disclosures import DEBT_COLLECTOR_DISCLOSURE
from bot.db import session_scope
from bot.db.models import AuditEvent
from tests.conftest import add_debtor


def _verified_conversation(session, debtor, account):
    conv = conversations.get_or_create(session, "rest", "web-1")
    conv.debtor_id, conv.account_id, conv.verified_at = debtor.id, account.id, datetime.now(timezone.utc)
    return conv


def test_no_debt_information_before_verification(engine):
    """ID-1: an unverified conversation gets nothing about the debt."""
    with session_scope(engine) as session:
        add_debtor(session)
        conv = conversations.get_or_create(session, "rest", "web-1")
        with pytest.raises(accounts.NotVerified):
            accounts.balance_messages(session, conv.id)


def test_ID_1_a_conversation_that_knows_its_debtor_but_is_not_verified_gets_nothing(engine):
    """ID-1: the guard holds where it can fire: the conversation names the debtor and account (a verification
    that expired, or a match still being checked) but `verified_at` is empty. Mutation tried: checking only
    `debtor_id` in `verified_accounts` -> the balance was read out."""
    with session_scope(engine) as session:
        debtor, account = add_debtor(session)
        conv = conversations.get_or_create(session, "rest", "web-known")
        conv.debtor_id, conv.account_id = debtor.id, account.id
        with pytest.raises(accounts.NotVerified):
            accounts.balance_messages(session, conv.id)


def test_balance_comes_after_the_disclosure_with_ledger_figures(engine):
    """DISC-1 before the balance; the figure is the ledger's to the cent (TONE-2); the reference is masked."""
    with session_scope(engine) as session:
        debtor, account = add_debtor(session, balance_cents=123456)
        conv = _verified_conversation(session, debtor, account)
        messages = accounts.balance_messages(session, conv.id)
    assert messages[0] == DEBT_COLLECTOR_DISCLOSURE
    assert "attempt to collect a debt" in messages[0] and "will be used for that purpose" in messages[0]
    assert "$1,234.56" in messages[1] and "Acme Bank" in messages[1]
    assert "ending 0001" in messages[1] and "SET-100001" not in messages[1]
    assert "talk to a person" in messages[-1]  # always a next step


def test_the_disclosure_is_given_once_per_conversation(engine):
    with session_scope(engine) as session:
        debtor, account = add_debtor(session)
        conv = _verified_conversation(session, debtor, account)
        accounts.balance_messages(session, conv.id)
        again = accounts.balance_messages(session, conv.id)
        assert DEBT_COLLECTOR_DISCLOSURE not in again
        kinds = session.scalars(select(AuditEvent.kind).where(AuditEvent.rule_id == "DISC-1")).all()
        assert kinds == ["disclosure_given"]


def test_every_account_of_the_debtor_is_listed_named_one_first(engine):
    from bot.db.models import Account

    with session_scope(engine) as session:
        debtor, first = add_debtor(session, account_ref="SET-100009", balance_cents=1)
        second = Account(debtor_id=debtor.id, account_ref="SET-100003", creditor="Northwind Credit Union",
                         balance_cents=2500000)
        session.add(second)
        session.flush()
        conv = _verified_conversation(session, debtor, first)
        text = accounts.balance_messages(session, conv.id)[1]
    assert text.index("$0.01") < text.index("$25,000.00")


def test_DISC_2_a_later_session_says_it_is_from_a_debt_collector(engine):
    from datetime import timedelta

    from bot.compliance.disclosures import FROM_DEBT_COLLECTOR
    from bot.db.models import Conversation

    with session_scope(engine) as session:
        debtor, account = add_debtor(session)
        conv = _verified_conversation(session, debtor, account)
        first = accounts.opening_disclosure(session, conv.id)
        later = datetime.now(timezone.utc) + timedelta(hours=2)
        session.get(Conversation, conv.id).session_started_at = later
        second = accounts.opening_disclosure(session, conv.id, now=later)
        third = accounts.opening_disclosure(session, conv.id, now=later)
    assert first == [DEBT_COLLECTOR_DISCLOSURE] and second == [FROM_DEBT_COLLECTOR] and third == []


def test_DISC_5_a_first_chat_queues_the_validation_notice_within_five_days(engine):
    from datetime import timedelta

    from bot.db.models import Account, ScheduledMessage

    now = datetime.now(timezone.utc)
    with session_scope(engine) as session:
        debtor, account = add_debtor(session)
        conv = _verified_conversation(session, debtor, account)
        accounts.opening_disclosure(session, conv.id, now=now)
        notice = session.scalars(select(ScheduledMessage).where(ScheduledMessage.kind == "validation_notice")).one()
        ends = session.get(Account, account.id).validation_period_ends_at
    assert notice.not_before <= now + timedelta(days=5) and notice.status == "pending"
    assert "$1,234.56" in notice.text and "dispute" in notice.text
    assert ends > now + timedelta(days=30)


def test_DISC_5_no_notice_is_queued_when_the_operator_already_sent_one(engine):
    from datetime import timedelta

    from bot.db.models import ScheduledMessage

    with session_scope(engine) as session:
        debtor, account = add_debtor(session)
        account.validation_period_ends_at = datetime.now(timezone.utc) + timedelta(days=10)
        conv = _verified_conversation(session, debtor, account)
        accounts.opening_disclosure(session, conv.id)
        assert session.scalars(select(ScheduledMessage)).all() == []


# --- VOICE.md "always a next step": what an account's status means, in words, with what happens next ---------

HELD_STATUSES = ("disputed", "ceased", "attorney", "bankrupt", "deceased", "paid", "closed")


@pytest.mark.parametrize("speaks", ["en", "es"])
@pytest.mark.parametrize("status", HELD_STATUSES)
def test_a_held_accounts_balance_says_what_it_means_and_what_happens_next_not_a_status_word(engine, status,
                                                                                              speaks):
    """The balance of an account that is not collectible says why in plain words and ends with a way to reach a
    person, never "(status: attorney)"; and it asks for no payment (DSP-2, CEASE-1 to CEASE-4: "pay now" and
    "payment plan" are not offered on it). A represented debtor's balance names no amount (CEASE-2, defect 3: after
    "I have a lawyer" and a verification the balance was shown). Mutation tried: balance_messages appending no hold
    reason to the balance line -> fails; the CEASE-2 branch removed from accounts._balance_lines -> the attorney
    cases fail ("$1,234.56" said)."""
    from bot import language, wording
    from bot.compliance import holds

    with session_scope(engine) as session:
        debtor, account = add_debtor(session)
        account.status = status
        conv = _verified_conversation(session, debtor, account)
        language.set_language(session, conv, speaks, confirmed=True)
        messages = accounts.balance_messages(session, conv.id)
        reason = holds.hold_message(holds.hold_rule(session, account), speaks)
    said = " ".join(messages[1:])
    assert "status:" not in said and "estado:" not in said
    if status == "attorney":  # CEASE-2: the attorney hears the amount, the debtor only where to turn
        assert "$" not in said and said.startswith(reason)
    else:
        assert f"$1,234.56. {reason}" in said
    assert said.rstrip().endswith(reason) and wording.say("talk_to_a_person", speaks) in reason
    assert not holds.is_payment_ask(said)


@pytest.mark.parametrize("speaks", ["en", "es"])
@pytest.mark.parametrize("rule", ["DSP-2", "CEASE-1", "CEASE-2", "CEASE-3", "CEASE-4", "VUL-2", "ACCOUNT-CLOSED"])
def test_every_hold_reason_offers_a_person_and_asks_for_no_payment(rule, speaks):
    """"pay now" on a disputed account said "We'll send you what we find in writing." and stopped: every reason
    a held account gives now ends with a way to reach a person (VOICE.md; HO-1), in both languages, and none is a
    payment ask (DSP-2). Mutation tried: hold_DSP-2 without its last sentence -> fails."""
    from bot import wording
    from bot.compliance import holds

    reason = holds.hold_message(rule, speaks)
    assert wording.say("talk_to_a_person", speaks) in reason
    assert not holds.is_payment_ask(reason)


def test_an_active_accounts_balance_still_offers_what_to_do_next(engine):
    with session_scope(engine) as session:
        debtor, account = add_debtor(session)
        conv = _verified_conversation(session, debtor, account)
        messages = accounts.balance_messages(session, conv.id)
    assert messages[-1].startswith("What would you like to do next?")
    assert messages[-2] == "Your balance with Acme Bank (account ending 0001) is $1,234.56."


def test_DSP_2_naming_another_account_switches_to_it_but_never_to_a_held_one(engine):
    """A debtor with two debts picks which to pay by naming it (creditor or last four); a disputed one is never
    offered or switched to (DSP-2). Mutation tried: the hold filter in `other_payable` removed -> "Contoso" switched
    to the disputed account."""
    from bot.db.models import Account, AccountStatus

    with session_scope(engine) as session:
        debtor, acme = add_debtor(session, account_ref="SET-900001", creditor="Acme Bank", balance_cents=84510)
        contoso = Account(debtor_id=debtor.id, account_ref="SET-900002", creditor="Contoso Card Services",
                          balance_cents=312075)
        session.add(contoso)
        session.flush()
        conv = _verified_conversation(session, debtor, acme)
        assert [a.creditor for a in accounts.other_payable(session, conv.id)] == ["Contoso Card Services"]
        assert accounts.focus(session, conv.id, "pay the card one") is None  # a word every creditor may share
        assert accounts.focus(session, conv.id, "the one ending 0002") is contoso and conv.account_id == contoso.id
        conv.account_id = acme.id
        contoso.status = AccountStatus.DISPUTED
        assert accounts.other_payable(session, conv.id) == []
        assert accounts.focus(session, conv.id, "Contoso") is None and conv.account_id == acme.id
