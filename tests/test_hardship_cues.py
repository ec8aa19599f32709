"""VUL-2: hardship is decided by the words, whatever the NLU reads (bot/compliance/cues.is_hardship), and the
gate's answer pauses collection, autopay included (sensitive_requests.hardship_cue). F37: "I just lost my job, can I
pause my payments for 2 months?" got "Sorry, I didn't catch that" and autopay kept running."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select

from bot import conversations
from bot.compliance import cues, holds, sensitive_requests
from bot.db import session_scope
from bot.db.models import AuditEvent
from tests.conftest import add_debtor

HARDSHIP = [
    "I just lost my job, can I pause my payments for 2 months?",
    "I lost my job",
    "got laid off last week",
    "I've been furloughed",
    "I can't afford this right now",
    "medical bills are eating everything",
    "my wife is in the hospital",
    "can I pause my payments?",
    "please freeze my plan",
    "can you stop my payments for a couple of months",
    "perdí mi trabajo",
    "me despidieron del trabajo, no me alcanza",
    "¿puedo pausar mis pagos?",
    "tengo muchas facturas médicas",
]
# Decided (cues.py): a hardship the message says is over is not a cue, and neither is keeping up.
NOT_HARDSHIP = [
    "I lost my job last year but I'm working now and want to pay",
    "I was laid off in 2023 but I found a new job, can I pay in full?",
    "I can't afford to miss this payment, send the link",
    "stop the automatic payments please",  # autopay, not hardship (F28's own request)
    "pay now",
    "what is my balance",
    "can I pay $50 today?",
    "perdí mi trabajo el año pasado pero ya tengo trabajo",
    "quiero pagar todo",
]


@pytest.mark.parametrize("text", HARDSHIP)
def test_VUL_2_hardship_words_are_a_cue_whatever_the_model_reads(text):
    assert cues.is_hardship(text)


@pytest.mark.parametrize("text", NOT_HARDSHIP)
def test_VUL_2_a_hardship_that_is_over_or_a_payment_is_not_a_cue(text):
    """Mutation tried: the _RECOVERED check removed from is_hardship -> "I lost my job last year but I'm working
    now and want to pay" paused collection."""
    assert not cues.is_hardship(text)


@given(
    event=st.sampled_from(["lost my job", "got laid off", "was laid off", "am unemployed", "got fired",
                           "can't afford it", "cant afford it", "can’t afford it", "have medical bills",
                           "perdí mi trabajo", "me quedé sin trabajo"]),
    before=st.sampled_from(["", "I ", "so i ", "Hi, I just ", "honestly I "]),
    after=st.sampled_from(["", ".", "!!", ", can I pause my payments?", " and I need time", " 😞"]),
    upper=st.booleans(),
)
def test_VUL_2_hardship_variants_are_read_however_they_are_typed(event, before, after, upper):
    """Property: greetings, case, apostrophes, punctuation and emoji around the words do not hide them."""
    text = before + event + after
    assert cues.is_hardship(text.upper() if upper else text)


def test_VUL_2_the_gate_pauses_an_autopay_account_on_the_words_alone(engine):
    """The service the gate calls: the account is held (so autopay skips it: holds.hold_rule), the hardship is
    audited with VUL-2, and the reply offers a person and names no amount.

    Mutation tried: the `if not cues.is_hardship(text): return []` guard inverted -> no hold, no reply."""
    with session_scope(engine) as session:
        debtor, account = add_debtor(session, account_ref="SET-100020", first_name="Dmitri")
        conversation = conversations.get_or_create(session, "rest", "e-emoji")
        conversation.debtor_id, conversation.account_id = debtor.id, account.id
        conversation.verified_at = datetime(2026, 12, 7, 18, 0, tzinfo=timezone.utc)
        replies = sensitive_requests.hardship_cue(session, conversation.id, HARDSHIP[0], "help@example.com")
        assert holds.hold_rule(session, account) == "VUL-2"
        assert session.scalars(select(AuditEvent.rule_id).where(AuditEvent.kind == "hardship_reported")).one() \
            == "VUL-2"
    assert replies and "person" in replies[-1] and "$" not in " ".join(replies)


def test_VUL_2_no_cue_no_pause(engine):
    with session_scope(engine) as session:
        _, account = add_debtor(session)
        conversation = conversations.get_or_create(session, "sms", "+15555550101")
        assert sensitive_requests.hardship_cue(session, conversation.id, NOT_HARDSHIP[0], "help@example.com") == []
        assert holds.hold_rule(session, account) is None


@pytest.mark.parametrize(("language", "person"), [("en", "a person on our team"), ("es", "una persona")])
def test_VUL_2_the_crisis_line_names_988_a_person_and_a_next_step_and_no_debt(engine, language, person):
    """F17: a self-harm cue got only the 988 line. Now 988, the person crisis_cue asks for, and what the debtor can
    do now (VOICE: always a next step); still nothing about a debt.

    Mutation tried: the English crisis_line back to the 988 sentence alone -> the [en] case failed."""
    with session_scope(engine) as session:
        conversation = conversations.get_or_create(session, "sms", "+15555550122")
        conversation.language = language
        [said] = sensitive_requests.crisis_cue(session, conversation.id, "I want to end it all")
    assert "988" in said and person in said and ("reply" in said or "responder" in said)
    assert not any(word in said.lower() for word in ("debt", "deuda", "$", "balance", "saldo", "pay", "pag"))


@pytest.mark.parametrize("text", ["im struggling, can i talk to someone", "I'm sick and I can't pay, get me a person",
                                  "going through a divorce, real person please", "no income, need an agent"])
def test_VUL_2_looser_hardship_words_count_beside_a_request_for_a_person_only(text):
    """One list of hardship words (bot/compliance/cues.py): the looser ones are read only in a message the NLU read
    as a request for a person (person_request.rule_intents), never as a cue on their own. Mutation tried:
    mentions_hardship returning is_hardship alone -> "im struggling" is missed (fails)."""
    from bot.compliance import person_request

    assert person_request.rule_intents("request_human", text) == ("hardship", "request_human")
    assert not cues.is_hardship(text)  # alone, these words pause nothing


def test_VUL_2_a_hardship_that_is_over_is_not_added_to_a_request_for_a_person():
    """The same decision as the cue's: "lost my job last year but I'm working now" asks for no pause."""
    from bot.compliance import person_request

    assert person_request.rule_intents("request_human", "I lost my job last year but I'm working now, agent please") \
        == ("request_human",)
