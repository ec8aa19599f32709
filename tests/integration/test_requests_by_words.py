"""What the exploratory tester's debtors typed and lost, end to end through the gateway (real Rasa, action server
and app database): a claim of payment beside a place restriction (DSP-1, TIME-1), "stop the automatic payments"
before verification (PLAN-2), a request for proof of a payment (N4), a question at the bankruptcy case number
(CEASE-3), and a payment amount typed while an identity question waits (ID-2). The domain's side is
tests/test_requests_by_words.py, tests/test_report_details.py and tests/test_identity_answers.py."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot import wording
from bot.db.models import Account, AuditEvent, AutopayAuthorisation, Dispute, Handoff, Message
from tests.integration.chat import Chat
from tests.integration.test_plan_requests import _autopay_plan

pytestmark = pytest.mark.integration

NOT_UNDERSTOOD = ("didn't catch that", "no le entendí")


def _disputes(chat: Chat, reference: str) -> list[str]:
    with chat.session() as session:
        return list(session.scalars(select(Dispute.kind).join(Account, Account.id == Dispute.account_id)
                                    .where(Account.account_ref == reference)))


def _kinds(chat: Chat) -> list[str]:
    with chat.session() as session:
        conversation = chat.conversation(session)
        return list(session.scalars(select(AuditEvent.kind).where(AuditEvent.conversation_id == conversation.id)
                                    .order_by(AuditEvent.id)))


def _verify(chat: Chat, reference: str, dob: str = "11/02/1985") -> str:
    return " ".join(" ".join(chat.say(answer)) for answer in (dob, "5678", reference))


@pytest.mark.parametrize("verified_first", [True, False])
def test_DSP_1_TIME_1_i_already_paid_this_and_dont_call_me_at_work_keeps_both(running_stack, verified_first):
    """G1: the place was noted for a person but the claim of payment was lost (no dispute). Now the place is noted
    (audited, a person told) and the claim recorded as an already_paid dispute with its written confirmation (DSP-1),
    after verification when the debtor was not verified yet (ID-1).
    Mutation tried: the pipeline's `noted, replies = replies, None` branch removed -> the place reply only, no
    dispute: fails."""
    chat = Chat(running_stack, "g1")
    reference = chat.verify_as_new_debtor() if verified_first else chat.new_debtor()
    said = " ".join(chat.say("I already paid this, and don't call me at work"))
    assert wording.say("work_calls_noted") in said
    if not verified_first:
        assert _disputes(chat, reference) == []  # ID-1: nothing recorded, or said, before verification
        assert "$" not in said and "confirm who you are" in said
        said = _verify(chat, reference)
    assert "recorded your dispute of $2,400.00" in said, said
    assert _disputes(chat, reference) == ["already_paid"]
    kinds = _kinds(chat)
    assert "contact_restriction_noted" in kinds and "dispute_recorded" in kinds


@pytest.mark.parametrize(("opening", "asked", "dob", "revoked"), [
    ("hi", "stop the automatic payments", "11/02/1985", "Automatic payments for plan {plan} are off now"),
    ("hola", "ya no me cobren de mi tarjeta", "02/11/1985", "Los pagos automáticos del plan {plan} ya están apagados"),
])
def test_PLAN_2_stop_the_automatic_payments_before_verification_is_done_once_verified(running_stack, opening, asked,
                                                                                     dob, revoked):
    """G2: asked before verification, the request was forgotten (the authorisation stayed active after the debtor
    verified). Now the debtor reads that it is noted and will be done once they are identified (no debt named,
    DISC-3), verifies, and reads that automatic payments are off; the authorisation is revoked, audited PLAN-2.
    Mutation tried: the pipeline's `autopay.keep_until_verified` line removed -> "stop the automatic payments" goes
    to the model, the authorisation stays active after verification: fails."""
    chat = Chat(running_stack, "g2")
    reference = chat.new_debtor()
    plan, auth_id = _autopay_plan(chat, reference)
    chat.say(opening)
    said = " ".join(chat.say(asked))
    assert any(wording.say("autopay_stop_after_verify", lang) in said for lang in wording.LANGUAGES), said
    assert plan not in said and "$" not in said
    said = _verify(chat, reference, dob)
    assert revoked.format(plan=plan) in said, said
    with chat.session() as session:
        assert session.get(AutopayAuthorisation, auth_id).status == "revoked"
    assert [k for k in _kinds(chat) if k.startswith("autopay")] == ["autopay_stop_asked", "autopay_stopped",
                                                                     "autopay_stop_honoured"]


@pytest.mark.parametrize(("opening", "asked", "none_yet"), [
    ("what do i owe", "I need proof of my payment", "I don't see a payment from you in our records yet."),
    ("hola, cuánto debo", "necesito comprobante de mi pago", "Todavía no veo un pago suyo en nuestros registros."),
])
def test_N4_a_request_for_proof_of_a_payment_gets_the_payments_from_the_records(running_stack, opening, asked,
                                                                                none_yet):
    """G3: "I need proof of my payment" got "Sorry, I didn't catch that". It now gets the latest payments from the
    records, as "can you send me the receipt" does, and records no dispute (DSP-1).
    Mutation tried: the pipeline's `disputes.request_by_words` line removed -> the fallback: fails."""
    chat = Chat(running_stack, "g3")
    reference = chat.verify_as_new_debtor(opening)
    said = " ".join(chat.say(asked))
    assert none_yet in said and "$2,400.00" in said, said
    assert not any(miss in said for miss in NOT_UNDERSTOOD)
    assert _disputes(chat, reference) == []


def test_N4_ID_1_proof_of_a_payment_before_verification_asks_who_they_are_first(running_stack):
    """ID-1 still applies: before verification the request starts the identity check, and the payments come after.
    Mutation tried: the pipeline's `disputes.request_by_words` line removed -> the fallback, no check: fails."""
    chat = Chat(running_stack, "g3u")
    reference = chat.new_debtor()
    said = " ".join(chat.say("I need proof of my payment"))
    assert "confirm who you are" in said and "$" not in said, said
    assert "I don't see a payment from you in our records yet." in _verify(chat, reference)


# The model of 2026-12-07 (settle-589d4acc3379e304) reads "what is a case number?" as request_human (0.67): its rule
# ends the form before validation can answer, so action_handle_sensitive answers it (report_details.
# asks_about_case_number) and the form asks again. "do I have to tell you?" reaches the form's validation.
@pytest.mark.parametrize("question", ["what is a case number?", "do I have to tell you?"])
def test_CEASE_3_a_question_at_the_case_number_is_answered_and_never_stored(running_stack, question):
    """G4: the question was stored as the case number and thanked for. Now it is answered (where the number is,
    that it need not be given), the number asked for once more, and nothing is stored for it.
    Mutation tried: the `asks_instead_of_case_number` test removed from validate_bankruptcy_case_number -> "Thank
    you. A person on our team will take it from here." and details_captured: fails."""
    chat = Chat(running_stack, "g4")
    chat.verify_as_new_debtor()
    chat.say("I filed for bankruptcy")
    said = " ".join(chat.say(question))
    assert wording.say("bankruptcy_question_reply") in said, said
    assert "what is the bankruptcy case number?" in said
    assert "details_captured" not in _kinds(chat)
    assert wording.say("details_thanks") in " ".join(chat.say("I don't know"))
    with chat.session() as session:
        conversation = chat.conversation(session)
        details = session.scalars(select(Handoff.details).where(Handoff.conversation_id == conversation.id)).all()
    assert not any((d or {}).get("bankruptcy_case_number") for d in details)


def test_ID_2_i_paid_1200_while_a_question_waits_is_stored_as_typed_and_a_bare_answer_is_not(running_stack):
    """G5: "I paid 1200 yesterday" typed while the date of birth was asked was stored as "[SSN last four]" and kept
    as the SSN's last four. Now it is stored as typed and not taken as an answer, and a bare "5678" answer is still
    stored masked. Mutation tried: `_only_amounts` returning False -> stored "[SSN last four]": fails."""
    chat = Chat(running_stack, "g5")
    reference = chat.new_debtor()
    chat.say("what do i owe")
    chat.say("I paid 1200 yesterday")
    said = _verify(chat, reference)
    assert "$2,400.00" in said, said
    with chat.session() as session:
        conversation = chat.conversation(session)
        stored = list(session.scalars(select(Message.text).where(Message.conversation_id == conversation.id,
                                                                 Message.direction == "in").order_by(Message.id)))
    assert stored[1] == "I paid 1200 yesterday"
    assert stored[2:4] == ["[date of birth]", "[SSN last four]"]


def test_PLAN_2_TIME_1_an_autopay_stop_and_a_time_in_one_message_before_verification_keep_both(running_stack):
    """Both requests in one message: the time is marked at once (TIME-1, whoever is writing) and the autopay stop
    kept for verification (PLAN-2). Mutation tried: the TIME-1 step skipped when an autopay stop was kept (`if
    replies is None and not noted`) -> no time marked: fails."""
    chat = Chat(running_stack, "g2t")
    chat.new_debtor()
    said = " ".join(chat.say("stop the automatic payments and don't text me before 9am"))
    assert wording.say("autopay_stop_after_verify") in said and "We won't text or call you before 9 AM" in said, said
    kinds = _kinds(chat)
    assert "autopay_stop_asked" in kinds and "inconvenient_time_marked" in kinds, kinds


def test_OPT_3_please_start_sending_me_texts_again_opts_nothing_out(running_stack):
    """Exploratory pass: "please start sending me texts" was read as opt_out: "You're unsubscribed from messages on
    this channel", and the next message got the one answer after an opt-out. Mutation tried: the asks_to_resume
    branch removed from sensitive_requests.handle -> "unsubscribed": fails."""
    chat = Chat(running_stack, "resume")
    said = " ".join(chat.say("please start sending me texts"))
    assert "unsubscribed" not in said.lower(), said
    assert wording.say("resume_request_noted") in said, said  # today's model reads it as opt_out
    assert "unsubscribed" not in " ".join(chat.say("hello")).lower()
