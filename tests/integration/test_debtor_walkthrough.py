"""What the exploratory debtors of 2026-12-07 (h-debtor) met on the demo, end to end through the gateway (real Rasa,
action server and app database): a "do I have to pay now?" at the dispute menu answered with a payment ask and the
dispute dropped (DSP-1, DSP-2, DSP-3), "this isn't my debt" shown the reason menu (DSP-1), a stop of automatic
payments asked before verification that named the plan and its next payment before the debt-collector disclosure
(DISC-1), and "can I pay by check or zelle?" asked before verification, promised an answer, and never answered."""

from __future__ import annotations

import secrets

import pytest
from sqlalchemy import select

from bot import wording
from bot.compliance.disclosures import DEBT_COLLECTOR_DISCLOSURE, debt_collector_disclosure
from bot.db.models import Account, AccountStatus, Dispute
from tests.integration.chat import Chat
from tests.integration.test_plan_requests import _autopay_plan

pytestmark = pytest.mark.integration

MENU = "What do you dispute?"
SPANISH_MENU = "¿Qué parte no reconoce?"
PAYMENT_ASK = "How much would you like to pay?"


def _disputes(chat: Chat, reference: str) -> list[str]:
    with chat.session() as session:
        return list(session.scalars(select(Dispute.kind).join(Account, Account.id == Dispute.account_id)
                                    .where(Account.account_ref == reference)))


def _status(chat: Chat, reference: str) -> AccountStatus:
    with chat.session() as session:
        return session.scalars(select(Account.status).where(Account.account_ref == reference)).one()


def _verify(chat: Chat, reference: str) -> list[str]:
    said: list[str] = []
    for answer in ("11/02/1985", "5678", reference):
        said += chat.say(answer)
    return said


def test_DSP_3_do_i_have_to_pay_now_at_the_dispute_menu_gets_the_right_to_dispute_not_a_payment_ask(running_stack):
    """The debtor: "I want to dispute this debt", verified, was asked "What do you dispute?", typed "do I have to
    pay now?" and read "Your balance ... is $2,400.00. How much would you like to pay?": the menu took the question
    for a wish to pay, left the form and recorded no dispute (DSP-1), and asked for money instead of the dispute
    right (DSP-3). Now the question is answered (after the DISC-1 disclosure) with the right to dispute and no
    payment ask, the menu stays, and the reason picked next is recorded and holds the account (DSP-2).

    Mutation tried: menu_exit's `asks_must_pay` check removed (bot/disputes.py) -> "How much would you like to
    pay?" and no menu (fails)."""
    chat = Chat(running_stack, "mustpaymenu")
    reference = chat.new_debtor()
    chat.say("I want to dispute this debt")
    assert MENU in " ".join(_verify(chat, reference))
    said = chat.say("do I have to pay now?")
    text = " ".join(said)
    assert PAYMENT_ASK not in text and "/pay/" not in text, text
    assert chat.replies.count(DEBT_COLLECTOR_DISCLOSURE) == 1, chat.replies  # DISC-1, once, before "this debt"
    assert "You have the right to dispute this debt" in text, text
    assert MENU in said[-1], said
    reply = " ".join(chat.say("3"))
    assert "recorded your dispute" in reply, reply
    assert _disputes(chat, reference) == ["not_mine"]
    assert _status(chat, reference) == AccountStatus.DISPUTED


def test_DSP_3_tengo_que_pagar_ahora_at_the_dispute_menu_is_answered_in_spanish(running_stack):
    """LANG-1: the same question in Spanish at the menu gets the Spanish answer and the menu again, never a payment
    ask. Mutation tried: as above (menu_exit's `asks_must_pay` check removed) -> "¿Cuánto quiere pagar?" (fails)."""
    chat = Chat(running_stack, "mustpayes")
    reference = chat.new_debtor()
    chat.say("hola, quiero disputar esta deuda")
    said = []
    for answer in ("02/11/1985", "5678", reference):
        said += chat.say(answer)
    assert SPANISH_MENU in " ".join(said), said
    text = " ".join(chat.say("¿tengo que pagar ahora?"))
    assert "Usted tiene derecho a disputar esta deuda" in text and SPANISH_MENU in text, text
    assert "¿Cuánto quiere pagar?" not in text and "/pay/" not in text, text
    assert _disputes(chat, reference) == []


@pytest.mark.parametrize("opening", ["this isn't my debt", "that is not my bill"])
def test_DSP_1_this_isnt_my_debt_is_recorded_as_not_mine_without_the_menu(running_stack, opening):
    """The debtor typed "this isn't my debt", verified, and was shown the reason menu, as if no reason was given
    (the README: a reason said in words is taken as it is). Now it is a not-mine dispute, recorded at verification
    with its written confirmation (DSP-1) and holding the account (DSP-2).

    Mutation tried: the `isn't my (debt|...)` words removed from _STATED_WORDS (bot/disputes.py) -> the menu
    (fails)."""
    chat = Chat(running_stack, "notmydebt")
    reference = chat.new_debtor()
    chat.say(opening)
    said = " ".join(_verify(chat, reference))
    assert MENU not in said and "recorded your dispute" in said, said
    assert _disputes(chat, reference) == ["not_mine"]
    assert _status(chat, reference) == AccountStatus.DISPUTED


@pytest.mark.parametrize("asked", ["cancel my autopay please", "stop the automatic payments"])
def test_DISC_1_an_autopay_stop_asked_before_verifying_is_confirmed_after_the_disclosure(running_stack, asked):
    """The debtor asked "cancel my autopay please" before verifying; at verification the first thing they read was
    "Done. Automatic payments for plan PLN-... are off now" and "Next payment: $800.00 on ...", and only then "This
    is a debt collector...". The first message with debt information must carry the disclosure (DISC-1): it now
    comes first, once.

    Mutation tried: the `opening_disclosure` call removed from IdentityService._verified (`said = kept`) -> the
    plan's confirmation before the disclosure (fails)."""
    chat = Chat(running_stack, "autopaydisc")
    reference = chat.new_debtor()
    plan, _ = _autopay_plan(chat, reference)
    chat.say(asked)
    said = _verify(chat, reference)
    revoked = next(i for i, text in enumerate(said) if plan in text)
    assert said.count(DEBT_COLLECTOR_DISCLOSURE) == 1, said
    assert said.index(DEBT_COLLECTOR_DISCLOSURE) < revoked, said


def test_DISC_1_no_autopay_to_stop_is_said_after_the_disclosure(running_stack):
    """The same with no automatic payments on: "Automatic payments are not on for you ... Say 'my plan' to see your
    plan" came before the disclosure. Mutation tried: as above -> the answer before the disclosure (fails)."""
    chat = Chat(running_stack, "autopaynone")
    reference = chat.new_debtor()
    chat.say("stop my automatic payments")
    said = _verify(chat, reference)
    none = next(i for i, text in enumerate(said) if "Automatic payments are not on" in text)
    assert said.count(DEBT_COLLECTOR_DISCLOSURE) == 1 and said.index(DEBT_COLLECTOR_DISCLOSURE) < none, said


@pytest.mark.parametrize(("asked", "dob", "speaks"), [("can I pay by check or zelle?", "11/02/1985", "en"),
                                                     ("¿puedo pagar con cheque?", "02/11/1985", "es")])
def test_a_question_about_the_ways_to_pay_before_verifying_is_answered_once_verified(running_stack, asked, dob,
                                                                                     speaks):
    """The debtor asked "can I pay by check or zelle?" first and read "I can answer that once we've confirmed who
    you are. What's your date of birth?"; after verifying they got their balance, and the question was never
    answered. It is answered at verification now (after the DISC-1 disclosure, in the debtor's language), once.

    Mutation tried: the `ways.answer_kept_question` call removed from IdentityService._verified -> the balance
    only (fails)."""
    chat = Chat(running_stack, "waysfirst")
    reference = chat.new_debtor()
    first = " ".join(chat.say(asked))
    assert wording.say("ways_to_pay_verify_first", speaks) in first and "$" not in first, first
    said = []
    for answer in (dob, "5678", reference):
        said += chat.say(answer)
    answer = wording.say("ways_to_pay", speaks)
    assert said.count(answer) == 1, said
    assert said.count(debt_collector_disclosure(speaks)) == 1, said
    assert said.index(debt_collector_disclosure(speaks)) < said.index(answer), said
    assert answer not in chat.say("what's my balance?" if speaks == "en" else "¿cuál es mi saldo?")


def test_DISC_1_the_dispute_menu_after_verifying_comes_after_the_disclosure(running_stack):
    """"I want to dispute this debt", then the identity answers: the first words after verification were "I'm
    sorry about the trouble. What do you dispute? ... The amount is wrong ... I already paid", about the debt, with
    no debt-collector disclosure before them (DISC-1, built to the stricter reading). It now comes first, once.

    Mutation tried: the `_disclosure_first` call removed from ActionAskDisputeKind.run -> the menu with no
    disclosure before it (fails)."""
    chat = Chat(running_stack, "menudisc")
    reference = chat.new_debtor()
    chat.say("I want to dispute this debt")
    said = _verify(chat, reference)
    menu = next(i for i, text in enumerate(said) if MENU in text)
    assert said.count(DEBT_COLLECTOR_DISCLOSURE) == 1 and said.index(DEBT_COLLECTOR_DISCLOSURE) < menu, said
    chat.say("3")
    assert chat.replies.count(DEBT_COLLECTOR_DISCLOSURE) == 1, chat.replies


@pytest.mark.parametrize("corrected_at", ["secret", "locator"])
def test_ID_2_a_corrected_date_of_birth_replaces_the_wrong_one_before_the_check(running_stack, corrected_at):
    """The debtor typed "03/15/1979", saw it was wrong and typed "03/14/1979" at the next question: they read
    "Sorry, I didn't catch that" and the question twice, and the check then ran with the wrong date (a failure
    counted toward the lockout, ID-3). A date typed where a later question is asked now replaces the one given,
    and the check passes with the right one.

    Mutation tried: the `_corrected_dob` branch removed from validate_id_secret and validate_id_locator -> "Sorry,
    I couldn't confirm those details" (fails)."""
    chat = Chat(running_stack, "dobfix")
    reference = chat.new_debtor()
    chat.say("what do i owe")
    chat.say("11/03/1985")
    if corrected_at == "locator":
        chat.say("5678")
    said = " ".join(chat.say("11/02/1985"))
    assert "didn't catch" not in said, said
    if corrected_at == "secret":
        chat.say("5678")
    said = " ".join(chat.say(reference))
    assert "$2,400.00" in said and "couldn't confirm" not in said, said


def _two_accounts(chat: Chat) -> list[str]:
    """A debtor of the test's own with two accounts (born 11/02/1985, SSN last four 5678)."""
    first = chat.new_debtor()
    second = f"RT-{secrets.randbelow(10**8):08d}"
    with chat.session() as session:
        account = session.scalars(select(Account).where(Account.account_ref == first)).one()
        session.add(Account(debtor_id=account.debtor_id, account_ref=second, creditor="Contoso Card",
                            balance_cents=312075))
    return [first, second]


@pytest.mark.parametrize("pick", ["3", "All of them", "all of them"])
def test_DSP_1_all_of_them_at_the_account_menu_disputes_every_account(running_stack, pick):
    """A debtor with two accounts disputed ("it's not mine") and was asked which account: "3", the "All of them"
    button and the words all got "Thanks for getting in touch. You can message again any time." and the same
    question again, forever (the model read the button's title as goodbye). A menu's own choice is now its answer
    (bot/disputes.is_menu_choice, rasa_extensions/settle_channel.read_menu_choice): both accounts disputed.

    Mutation tried: the pipeline's `metadata[MENU_CHOICE] = True` line removed -> "Thanks for getting in touch"
    and the menu again (fails)."""
    chat = Chat(running_stack, "allofthem")
    first, second = _two_accounts(chat)
    chat.say("I want to dispute this debt")
    _verify(chat, first)
    assert "Which account is this about?" in " ".join(chat.say("it's not mine"))
    said = " ".join(chat.say(pick))
    assert "Thanks for getting in touch" not in said and "recorded your dispute" in said, said
    assert sorted(_disputes(chat, first) + _disputes(chat, second)) == ["not_mine", "not_mine"]


def test_DSP_1_toda_la_deuda_picked_at_the_menu_is_a_dispute_not_a_hardship(running_stack):
    """A Spanish debtor at "¿Qué parte no reconoce? 1. Toda la deuda ..." typed "1": the model read the button's
    title as hardship, so the account was held for hardship ("Siento mucho que las cosas estén difíciles"), the
    dispute form ended and no dispute was recorded (DSP-1). The choice is now the form's answer: a dispute of all
    of it, confirmed in Spanish.

    Mutation tried: read_menu_choice returning `parsed` unchanged (rasa_extensions/settle_channel.py) -> the
    hardship reply and no dispute (fails)."""
    chat = Chat(running_stack, "todaladeuda")
    reference = chat.new_debtor()
    chat.say("quiero disputar esta deuda")
    said = []
    for answer in ("02/11/1985", "5678", reference):
        said += chat.say(answer)
    assert SPANISH_MENU in " ".join(said), said
    said = " ".join(chat.say("1"))
    assert "anoté su disputa" in said and "difíciles" not in said, said
    assert _disputes(chat, reference) == ["all"]
