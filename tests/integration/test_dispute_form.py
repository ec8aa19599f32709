"""The dispute form as the exploratory tester met it (scratch-d2 F1, F16, F21, F26, F31, F32, F38), end to end through
the gateway (real Rasa, action server and app database): a message that is no dispute never records one (DSP-1;
recording one holds the account, DSP-2), the menu has ways out, and an expired verification ends it (ID-1)."""

from __future__ import annotations

import secrets
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from bot import wording
from bot.db.models import Account, AccountStatus, AuditEvent, Dispute, Handoff
from tests.conftest import add_debtor
from tests.integration.chat import Chat, letters

pytestmark = pytest.mark.integration

MENU = "What do you dispute?"
NOT_UNDERSTOOD = "didn't catch that"


def _disputes(chat: Chat, reference: str) -> list[str]:
    with chat.session() as session:
        account = session.scalars(select(Account).where(Account.account_ref == reference)).one()
        return list(session.scalars(select(Dispute.kind).where(Dispute.account_id == account.id)))


def _status(chat: Chat, reference: str) -> AccountStatus:
    with chat.session() as session:
        return session.scalars(select(Account.status).where(Account.account_ref == reference)).one()


def test_DSP_1_DSP_2_a_receipt_request_gets_the_payments_and_records_no_dispute(running_stack):
    """F1: "can you send me the receipt" recorded an already_paid dispute of the whole balance and held the account
    (and its autopay). A request for the receipt or proof of a payment is answered from the records
    (bot/payments/status.asks_whether_received), asked plainly or in the middle of paying.
    Mutation tried: asks_whether_received without the receipt request (_RECEIPT_REQUEST) -> "I recorded your
    dispute of $2,325.00" and the account DISPUTED (fails)."""
    chat = Chat(running_stack, "receipt")
    reference = chat.verify_as_new_debtor("what do i owe", balance_cents=232500)
    for text in ("can you send me the receipt", "I paid 75 dollars tonight, can I get a receipt for it?"):
        reply = " ".join(chat.say(text))
        assert "I don't see a payment from you in our records yet." in reply, reply
        assert "recorded your dispute" not in reply and MENU not in reply
    chat.say("pay now")
    reply = " ".join(chat.say("can you send me the receipt"))
    assert "recorded your dispute" not in reply and MENU not in reply, reply
    assert _disputes(chat, reference) == []
    assert _status(chat, reference) == AccountStatus.ACTIVE


@pytest.mark.parametrize("way_out", ["never mind", "none of those"])
def test_DSP_1_never_mind_leaves_the_dispute_menu_with_nothing_recorded(running_stack, way_out):
    """F21: "never mind" and "none of those" got "Please pick 1, 2, 3 or 4" forever. They leave the form, say that
    nothing was recorded and what the debtor can do next.
    Mutation tried: menu_exit's _LEAVE check removed -> "Sorry, I didn't catch that. Please pick 1, 2, 3 or 4"
    (fails)."""
    chat = Chat(running_stack, "leave")
    reference = chat.verify_as_new_debtor("what do i owe")
    assert MENU in " ".join(chat.say("I want to dispute this debt"))
    reply = " ".join(chat.say(way_out))
    assert wording.say("dispute_left") in reply, reply
    assert NOT_UNDERSTOOD not in reply and MENU not in reply
    assert _disputes(chat, reference) == [] and _status(chat, reference) == AccountStatus.ACTIVE
    # The form is over: the next request is answered as itself.
    assert "$2,400.00" in " ".join(chat.say("what's my balance"))


def test_DSP_1_pay_now_from_the_dispute_menu_starts_the_payment(running_stack):
    """F21: "pay now" at the dispute menu got "Please pick 1, 2, 3 or 4". On an account not held it leaves the form
    and the payment conversation answers (PCI-1: its link, never card details).
    Mutation tried: _AFTER without "pay" (step aside with dispute_left only) -> no payment question (fails)."""
    chat = Chat(running_stack, "leavepay")
    reference = chat.verify_as_new_debtor("what do i owe")
    chat.say("I want to dispute this debt")
    reply = " ".join(chat.say("pay now"))
    assert MENU not in reply and NOT_UNDERSTOOD not in reply, reply
    assert "$2,400.00" in reply and "pay" in reply.lower(), reply
    assert _disputes(chat, reference) == []


def test_DSP_1_PLAN_4_a_plan_offer_from_the_dispute_menu_gets_plan_options(running_stack):
    """F21: "I can do fifty bucks a month" at the dispute menu got "Please pick 1, 2, 3 or 4". It leaves the form
    and the plan conversation answers the offer.
    Mutation tried: menu_exit's _PLAN check removed -> "Sorry, I didn't catch that" (fails)."""
    chat = Chat(running_stack, "leaveplan")
    reference = chat.verify_as_new_debtor("what do i owe")
    chat.say("I want to dispute this debt")
    reply = " ".join(chat.say("I can do fifty bucks a month"))
    assert MENU not in reply and NOT_UNDERSTOOD not in reply, reply
    assert "$50.00" in reply or "options" in reply.lower(), reply
    assert _disputes(chat, reference) == []


def test_DSP_1_HO_1_a_reply_that_fits_no_choice_is_reasked_once_then_a_person_is_offered(running_stack):
    """F21: the menu repeated itself on every reply. One re-ask, then an offer of a person and nothing recorded.
    Mutation tried: _no_choice_again always False -> the menu a second time (fails)."""
    chat = Chat(running_stack, "reask")
    reference = chat.verify_as_new_debtor("what do i owe")
    chat.say("I want to dispute this debt")
    assert "Please pick 1, 2, 3 or 4" in " ".join(chat.say("purple elephants"))
    reply = " ".join(chat.say("purple elephants again"))
    assert wording.say("dispute_give_up") in reply, reply
    assert MENU not in reply
    assert _disputes(chat, reference) == []


@pytest.mark.parametrize(("text", "expected"), [
    # A request to withdraw a dispute goes to a person who can review it.
    ("I did not mean to dispute anything, I just wanted my receipt. please undo that", "dispute_withdraw_person"),
    # DISC (validation information): from the account's data.
    ("who is the original creditor?", "The creditor for the account ending"),
    # The notice again, by post: a person sends it.
    ("I never got the validation notice, can you mail me a paper copy?", "notice_copy_person"),
    # PCI-1: never card numbers here. The inbound gate warns whatever the model reads (the merged model falls back
    # on "my card is [REDACTED]"; the dispute form's own answer, card_use_pay_link, is for when it opens the form).
    ("my card is 4111 1111 1111 1111", "card_warning"),
])
def test_DSP_1_messages_that_are_no_dispute_never_open_the_dispute_menu(running_stack, text, expected):
    """F21, F26, F31, F16: each of these opened "What do you dispute? 1-4". Each gets its own answer and records no
    dispute (bot/disputes.not_a_dispute decides from the words, whatever the model guessed).
    Mutation tried: ValidateDisputeForm.run without its _reason check -> the dispute menu for each (fails). (The same
    check in the menu's ask action instead changed nothing: the form validates its opening message, so it went.)"""
    chat = Chat(running_stack, "notdsp")
    reference = chat.verify_as_new_debtor("what do i owe", creditor="Northwind Credit Union")
    reply = " ".join(chat.say(text))
    expected_text = wording.say(expected) if "_" in expected else expected
    assert expected_text in reply, reply
    assert MENU not in reply
    if expected.startswith("The creditor"):
        assert f"{expected} {reference[-4:]} is Northwind Credit Union." in reply
    if "4111" in text:
        assert "4111" not in reply
    if expected in ("dispute_withdraw_person", "notice_copy_person"):
        with chat.session() as session:
            conversation = chat.conversation(session)
            assert session.scalar(select(func.count()).select_from(Handoff).where(
                Handoff.conversation_id == conversation.id)) == 1
    assert _disputes(chat, reference) == [] and _status(chat, reference) == AccountStatus.ACTIVE


def test_LANG_1_what_a_debt_collector_is_is_explained_in_spanish_not_disputed(running_stack):
    """F38: "no entiendo, qué significa cobrador de deudas?" opened "¿Qué parte no reconoce? 1-4". It gets a plain
    Spanish explanation and no dispute.
    Mutation tried: not_a_dispute without the _COLLECTOR check -> the Spanish dispute menu (fails)."""
    chat = Chat(running_stack, "cobrador")
    reference = chat.verify_as_new_debtor("Hola, quiero saber cuánto debo")
    reply = " ".join(chat.say("no entiendo, qué significa cobrador de deudas?"))
    assert wording.say("what_is_a_collector", "es") in reply, reply
    assert _disputes(chat, reference) == []


def test_DSP_1_send_me_proof_that_i_owe_this_is_a_dispute_and_says_what_happens(running_stack):
    """F26: "send me proof that I owe this" is a request for verification (1006.38(d)): a dispute of the whole debt,
    confirmed in writing with what happens next. In the menu it got "Please pick 1, 2, 3 or 4".
    Mutation tried: the "proof|verify" words removed from parse_kind -> "Please pick 1, 2, 3 or 4" (fails)."""
    chat = Chat(running_stack, "proof")
    reference = chat.verify_as_new_debtor("what do i owe")
    replies = chat.say("send me proof that I owe this")
    if MENU in " ".join(replies):
        replies = chat.say("send me proof that I owe this")
    reply = " ".join(replies)
    assert "recorded your dispute of $2,400.00" in reply and "we'll send you what we find in writing" in reply, reply
    assert _disputes(chat, reference) == ["all"]


def _expire(chat: Chat) -> None:
    with chat.session() as session:
        conversation = chat.conversation(session)
        conversation.last_activity_at -= timedelta(hours=3)


def test_ID_1_an_expired_session_ends_the_dispute_form_even_when_a_keyword_found_it(running_stack):
    """F32: after 3 idle hours (verification_expired audited) the first message was answered before Rasa (START),
    so Rasa never began a new session and "hi" got the dispute menu, "2" "What amount do you think is right?".
    The gateway now starts Rasa's new session for a message answered before it (ID-1, DISC-3).
    Mutation tried: pipeline._answer_here without _start_rasa_session -> "hi" got verify_again_form_ended from the
    form instead of a fresh session's greeting (fails)."""
    chat = Chat(running_stack, "expire")
    chat.verify_as_new_debtor("what do i owe")
    assert MENU in " ".join(chat.say("I want to dispute this debt"))
    _expire(chat)
    chat.say("HELP")
    for text in ("hi", "2"):
        reply = " ".join(chat.say(text))
        assert MENU not in reply and "What amount" not in reply and "$" not in reply, reply
        assert wording.say("verify_again_form_ended") not in reply, reply


def test_ID_1_a_dispute_form_open_when_verification_is_gone_asks_who_they_are(running_stack):
    """F32, the form's own check: whatever Rasa remembers, the form reads the stored verification first. With it gone
    (as when Rasa could not be told of the new session), the next reply gets no dispute question and no account
    detail, only the ask to verify again.
    Mutation tried: ValidateDisputeForm.run without the _reason check -> "What amount do you think is right?"
    (fails)."""
    chat = Chat(running_stack, "gone")
    reference = chat.verify_as_new_debtor("what do i owe")
    chat.say("I want to dispute this debt")
    with chat.session() as session:
        chat.conversation(session).verified_at = None
    reply = " ".join(chat.say("2"))
    assert wording.say("verify_again_form_ended") in reply, reply
    assert "What amount" not in reply and "$" not in reply
    assert _disputes(chat, reference) == []


LONG = ("Look, I've been getting letters about this and I honestly don't even know what this is for. " * 6
        + "I think I already paid this off in 2019 and I have the bank statement. Also what is your mailing address so "
          "I can send it? And please don't call me at work.")


def test_CEASE_1_TIME_1_dont_call_me_at_work_is_no_cease_and_goes_to_a_person(running_stack):
    """F22: this message got "Understood. We'll stop contacting you." (cease_requested). "Don't call me at work" says
    where not to call (1006.6(b)(3)); a cease needs a request to stop communicating (CEASE-1). The inbound gate reads
    the place by its words, whatever the model makes of this long message (the merged model fell back on it): it is
    noted for a person, who gets the whole message, and the mailing address asked for is given. The already-paid claim
    in the same message is left to that person: the gate answers the message, so no dispute is recorded by the bot
    (a gap, in the closing note). Mutation tried: asks_to_cease always True -> "We'll stop contacting you" (fails)."""
    chat = Chat(running_stack, "atwork")
    reference = f"RT-{secrets.randbelow(10**8):08d}"
    with chat.session() as session:
        add_debtor(session, account_ref=reference, first_name="Robin", last_name=f"Test{letters()}",
                   dob="1985-11-02", ssn_last4="5678", phone=None, creditor="Northwind Credit Union",
                   balance_cents=240000)
    reply = " ".join(chat.say(LONG))
    assert wording.say("work_calls_noted") in reply and "PO Box 1000, Springfield, IL 62701" in reply, reply
    assert "stop contacting you" not in reply and "debt" not in reply.lower() and "$" not in reply  # DISC-3
    with chat.session() as session:
        conversation = chat.conversation(session)
        kinds = set(session.scalars(select(AuditEvent.kind).where(AuditEvent.conversation_id == conversation.id)))
        reasons = set(session.scalars(select(Handoff.reason).where(Handoff.conversation_id == conversation.id)))
    assert "cease_requested" not in kinds and "contact_restriction_noted" in kinds
    assert "contact_restriction" in reasons
    assert _status(chat, reference) != AccountStatus.CEASED


def test_CEASE_1_stop_contacting_me_is_still_a_cease(running_stack):
    """The words overrule the model only for a place: "stop contacting me, and don't call me at work" is a cease."""
    chat = Chat(running_stack, "stillcease")
    reply = " ".join(chat.say("stop contacting me, and don't call me at work"))
    assert "stop contacting you" in reply, reply


def _disputed(chat: Chat, reference: str) -> list[tuple[str, int]]:
    with chat.session() as session:
        account = session.scalars(select(Account).where(Account.account_ref == reference)).one()
        return list(session.execute(select(Dispute.kind, Dispute.disputed_cents)
                                    .where(Dispute.account_id == account.id)).tuples())


def test_DSP_1_the_reason_stated_before_verification_is_taken_and_the_dispute_recorded(running_stack):
    """Exploratory tester (REST): "the amount is wrong", then the identity answers, showed the reason menu although
    the reason was given; "it should be $400 not $640" got "Please pick 1, 2, 3 or 4", and "ok can i pay the $400
    part now?" dropped the dispute. Now the stated reason is taken at verification, the form asks only for the right
    amount, and the dispute is recorded (DSP-1) and holds the account (DSP-2).

    Mutation tried: the `stated_reason` line removed from ValidateDisputeForm.run -> the menu is shown: fails."""
    chat = Chat(running_stack, "stated")
    reference = f"RT-{secrets.randbelow(10**8):08d}"
    with chat.session() as session:
        add_debtor(session, account_ref=reference, first_name="Robin", last_name=f"Test{letters()}",
                   dob="1975-10-27", ssn_last4="5050", phone=None, balance_cents=64000)
    chat.say("the amount is wrong")
    for answer in ("10/27/1975", "5050"):
        chat.say(answer)
    reply = " ".join(chat.say(reference))
    assert MENU not in reply and "What amount do you think is right?" in reply, reply
    reply = " ".join(chat.say("it should be $400 not $640"))
    assert NOT_UNDERSTOOD not in reply and "recorded your dispute" in reply, reply
    assert _disputed(chat, reference) == [("amount", 24000)]
    assert _status(chat, reference) == AccountStatus.DISPUTED


def test_DSP_1_a_right_amount_typed_at_the_menu_is_an_amount_dispute(running_stack):
    """"it should be $400 not $640" at the reason menu got "Sorry, I didn't catch that". It is an amount dispute
    whose right amount is $400: recorded at once, the disputed portion $240.00.

    Mutation tried: parse_kind without the `_CORRECT_AMOUNT` reading -> "Sorry, I didn't catch that": fails."""
    chat = Chat(running_stack, "rightamount")
    reference = chat.verify_as_new_debtor("what do i owe", balance_cents=64000)
    assert MENU in " ".join(chat.say("I want to dispute this debt"))
    reply = " ".join(chat.say("it should be $400 not $640"))
    assert NOT_UNDERSTOOD not in reply and "recorded your dispute" in reply, reply
    assert _disputed(chat, reference) == [("amount", 24000)]


def test_DSP_1_a_verified_debtor_stating_the_reason_is_not_shown_the_menu(running_stack):
    """"the amount is wrong, it should be $400" after verification: the reason and the right amount are taken."""
    chat = Chat(running_stack, "statedverified")
    reference = chat.verify_as_new_debtor("what do i owe", balance_cents=64000)
    reply = " ".join(chat.say("the amount is wrong, it should be $400"))
    assert MENU not in reply and "recorded your dispute" in reply, reply
    assert _disputed(chat, reference) == [("amount", 24000)]
