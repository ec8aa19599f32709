"""ID-2, REC-2: what is stored for an answer to an identity question (bot/records/identity_answers.py), and how
Rasa's tracker store is rewritten after the turn (rasa_extensions/event_redaction.py mask_identity_answer, stdlib
only). The end-to-end spec is tests/integration/test_identity_answers_masked.py."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from bot import conversations, identity
from bot.compliance import redaction
from bot.db import session_scope
from bot.db.models import AuditEvent, Conversation
from bot.records import identity_answers
from bot.records.review_redaction import labelled
from rasa_extensions.event_redaction import mask_identity_answer

LABELS = identity_answers.SLOT_LABELS


@pytest.mark.parametrize(("typed", "asked", "stored"), [
    ("03/14/1979", "id_dob", "[date of birth]"),
    ("my birthday is March 14th, 1979", "id_dob", "[date of birth]"),
    ("1234", "id_secret", "[SSN last four]"),
    ("zip 90210", "id_secret", "[ZIP code]"),
    ("SET-100001", "id_locator", "[account number]"),
    ("3/14/79 and 90210", "id_dob", "[date of birth] [ZIP code]"),  # an answer given early is masked as well
    ("03141979", "id_dob", "[date of birth]"),  # eight digits, but a date: no card's start
])
def test_ID_2_an_answer_to_an_identity_question_is_stored_as_what_it_is(typed: str, asked: str, stored: str) -> None:
    """Mutation tried: returning None from stored_form (the value kept as typed) -> these fail."""
    assert identity_answers.stored_form(typed, asked) == stored


def test_ID_2_a_zip_plus_four_is_masked_though_it_is_as_long_as_a_cards_start() -> None:
    """Mutation tried: dropping "[SSN]" from ANSWER_SHAPES -> "90210-1234" is stored as typed and this fails."""
    stored = identity_answers.stored_form("90210-1234", "id_secret")
    assert stored is not None and not any(ch.isdigit() for ch in stored)


@pytest.mark.parametrize(("typed", "asked"), [
    ("STOP", "id_dob"),  # OPT-2's keyword stays in the record as typed
    ("wrong number, I'm not them", "id_secret"),  # ID-4's evidence too
    ("talk to a person", "id_locator"),
    ("03/14/1979", None),  # nothing was asked: not an answer
    ("my card is 4111 1111", "id_dob"),  # PCI-2 joins its digits with the next message's: kept for the join
])
def test_ID_2_a_message_that_answers_nothing_is_stored_as_typed(typed: str, asked: str | None) -> None:
    """Mutations tried: storing "[identity answer]" for every message while a question waits (stored_form returning
    `" ".join(labels) or "[identity answer]"`) -> STOP and the wrong-number report lose their words: this fails;
    dropping the `_may_begin_a_card` test -> the card's start is masked, PCI-2 cannot join it with the next
    message (tests/integration/test_red_team.py's date-of-birth case gets no card warning) and this fails."""
    assert identity_answers.stored_form(typed, asked) is None


def test_ID_2_the_gateway_awaits_an_answer_only_while_the_verify_form_asks_an_identity_question() -> None:
    assert identity_answers.awaited("verify_form", "id_secret") == "id_secret"
    assert identity_answers.awaited("plan_form", "id_secret") is None
    assert identity_answers.awaited("verify_form", None) is None
    assert identity_answers.awaited(None, None) is None


def user(text: str, message_id: str) -> dict:
    return {"event": "user", "timestamp": 1.0, "text": text, "message_id": message_id, "input_channel": "settle",
            "parse_data": {"intent": {"name": "inform_identity", "confidence": 0.9}, "entities": [], "text": text,
                           "message_id": message_id}, "metadata": {"channel": "rest"}}


def slot(name: str, value: object) -> dict:
    return {"event": "slot", "timestamp": 1.1, "name": name, "value": value}


def apply(events: list[dict], changed: dict[int, dict]) -> list[dict]:
    return [changed.get(i, e) for i, e in enumerate(events)]


def test_ID_2_rasa_keeps_the_answer_as_stored_and_only_the_values_its_pending_check_still_needs() -> None:
    """After the DOB turn the user event reads "[date of birth]", the slot filled from the text is masked and the
    parsed value (which the check at the end of the form still needs) stays; after the check cleared the slots
    every value is masked, and a second rewrite changes nothing.

    Mutations tried: skipping the current value's exemption (masking every value) -> the pending check would read
    "[date of birth]" and the first assertion on "1979-03-14" fails; not masking slot values (dropping the
    slot loop) -> the history keeps "1979-03-14" and the last assertions fail."""
    events = [
        {"event": "action", "timestamp": 0.5, "name": "action_listen"},
        user("03/14/1979", "41"),
        slot("id_dob", "03/14/1979"),  # from_text: the whole message
        {"event": "action", "timestamp": 1.2, "name": "verify_form"},
        slot("id_dob", "1979-03-14"),  # the validation's parsed value: current, the check needs it
        slot("requested_slot", "id_secret"),
        {"event": "bot", "timestamp": 1.5, "text": "Thanks. What are the last 4 digits?", "data": {}},
    ]
    events = apply(events, mask_identity_answer(events, "41", "[date of birth]", LABELS))
    assert events[1]["text"] == events[1]["parse_data"]["text"] == "[date of birth]"
    assert events[2]["value"] == "[date of birth]"
    assert events[4]["value"] == "1979-03-14"
    assert "03/14/1979" not in json.dumps(events)

    events += [user("1234", "42"), slot("id_secret", "1234"), slot("id_secret", "1234"),
               slot("id_dob", None), slot("id_secret", None), slot("verified", True)]  # the check ran and cleared
    events = apply(events, mask_identity_answer(events, "42", "[SSN last four]", LABELS))
    text = json.dumps(events)
    assert "1979-03-14" not in text and "1234" not in text
    assert events[7]["text"] == "[SSN last four]"
    assert mask_identity_answer(events, "42", "[SSN last four]", LABELS) == {}


def test_ID_2_when_no_check_will_run_even_the_current_values_are_masked() -> None:
    """A form ended before its check ("talk to a person" mid-form; the answer itself was masked after its own turn)
    or left unanswered: the gateway says no check is pending (`identity_answers.check_pending`), and the values the
    check would have needed are masked too.
    Mutation tried: ignoring `keep_current` in mask_identity_answer -> "1979-03-14" stays (fails)."""
    events = [user("[date of birth]", "41"), slot("id_dob", "1979-03-14"), slot("requested_slot", "id_secret"),
              user("can I talk to a person?", "42"), {"event": "active_loop", "timestamp": 2.0, "name": None}]
    events = apply(events, mask_identity_answer(events, "42", "can I talk to a person?", LABELS,
                                                keep_current=False))
    assert events[1]["value"] == "[date of birth]" and "1979" not in json.dumps(events)


@pytest.mark.parametrize(("active_loop", "requested_slot", "pending"), [
    ("verify_form", "id_secret", True),  # the form asks the next question: the check needs the date still
    (None, None, False),  # the form ended: by its check (slots cleared) or without one
    ("dispute_form", "dispute_reason", False),  # another form asks: the identity form is over
    ("verify_form", None, False),
])
def test_ID_2_a_check_is_pending_only_while_the_identity_form_asks(active_loop, requested_slot, pending) -> None:
    assert identity_answers.check_pending(active_loop, requested_slot) is pending


def test_ID_2_a_question_left_waiting_past_the_idle_time_is_found_once_and_a_new_message_wins(engine) -> None:
    """On SQLite and PostgreSQL: only a question that has waited past the idle time is found; marking it forgotten
    clears it and audits it under ID-2 once; a conversation the debtor wrote in again since it was found is left
    to that message's turn. Mutation tried: dropping the last-activity condition from `forgotten` -> the second
    conversation is marked although the debtor wrote meanwhile (fails)."""
    now = datetime(2026, 12, 7, 12, 0, tzinfo=timezone.utc)
    idle = timedelta(minutes=60)
    with session_scope(engine) as session:
        ids = []
        for n, (asked, waited) in enumerate([("id_secret", 61), ("id_dob", 90), ("id_secret", 30), (None, 500)]):
            conversation = conversations.get_or_create(session, "web", f"wait-{n}")
            conversations.record_message(session, conversation, direction="in", sender_role="debtor",
                                         text="[date of birth]", status="processed")
            conversation.awaiting_identity, conversation.last_activity_at = asked, now - timedelta(minutes=waited)
            ids.append(conversation.id)
    with session_scope(engine) as session:
        found = identity_answers.abandoned(session, now, idle)
    assert [f.conversation_id for f in found] == [ids[1], ids[0]]  # oldest first; not the recent, not the answered
    assert found[0].stored_text == "[date of birth]"
    with session_scope(engine) as session:
        session.get(Conversation, ids[1]).last_activity_at = now  # the debtor wrote again meanwhile
    with session_scope(engine) as session:
        assert [identity_answers.forgotten(session, f) for f in found] == [False, True]
        assert identity_answers.forgotten(session, found[1]) is False  # once
    with session_scope(engine) as session:
        assert session.get(Conversation, ids[0]).awaiting_identity is None
        assert session.get(Conversation, ids[1]).awaiting_identity == "id_dob"
        audited = list(session.scalars(select(AuditEvent.conversation_id).where(
            AuditEvent.kind == "identity_answers_forgotten", AuditEvent.rule_id == "ID-2")))
    assert audited == [ids[0]]


def test_ID_2_a_value_from_before_a_new_session_is_no_longer_current_and_is_masked() -> None:
    """A form abandoned mid-way: the slots were reset by the new session, so nothing needs the old value."""
    events = [user("03/14/1979", "41"), slot("id_dob", "1979-03-14"),
              {"event": "session_started", "timestamp": 2.0}, user("hi", "50")]
    events = apply(events, mask_identity_answer(events, "50", "hi", LABELS))
    assert events[1]["value"] == "[date of birth]"


def test_ID_2_the_records_count_identity_answers_by_the_rule_id_the_intake_gives_them() -> None:
    """export.py keeps its own copy of the rule id (an import would close a cycle): the two must agree."""
    from bot.records import export

    assert export.IDENTITY_ANSWER_RULE == identity_answers.RULE_ID


@pytest.mark.parametrize(("typed", "stored"), [
    ("hi this is Maria Lopez, dob 03/14/1985, what do I owe?",
     "hi this is Maria Lopez, dob [date of birth], what do I owe?"),
    ("last 4 of my ssn is 1234 and zip 90210", "last 4 of my ssn is [SSN last four] and zip [ZIP code]"),
    ("im writing about SET-100015", "im writing about [account number]"),
])
def test_ID_2_factors_volunteered_before_the_form_asks_are_masked_in_place(typed: str, stored: str) -> None:
    """The identity form takes labelled factors given before it asks (bot/identity.py volunteered_factors), so they
    are answers too: stored masked, the request around them kept. Mutation tried: stored_form returning None when
    nothing was asked (the old code); this failed."""
    assert identity_answers.stored_form(typed, None) == stored


@pytest.mark.parametrize("typed", ["I paid 1500 on 03/14/2026", "03/14/1979", "my card is 4111 1111"])
def test_ID_2_an_unlabelled_date_or_figure_with_no_question_waiting_is_no_answer(typed: str) -> None:
    """In a verified conversation (the default): the form no longer runs, so nothing is taken as an answer."""
    assert identity_answers.stored_form(typed, None) is None


@pytest.mark.parametrize(("typed", "stored"), [
    ("03/14/1979", "[date of birth]"),
    ("1234", "[SSN last four]"),
    ("03/14/1979 1234.", "[date of birth] [SSN last four]"),
    ("90210", "[ZIP code]"),
    ("hi, 03/14/1979 is me", "hi, [date of birth] is me"),  # the form takes an adult's lone date as a birth date
    ("I paid 1500 on 03/14/2026", None),  # not an adult's date, beside an amount: no answer, kept as evidence
    ("can I pay on 12/01/2026?", None),
    ("I paid 1200 yesterday", None),
    ("my card is 4111 1111", None),  # PCI-2 joins it with the next message's digits
    ("4111 1111", None),
    ("talk to a person", None),
])
def test_ID_2_identity_details_typed_while_not_verified_are_stored_as_labels(typed: str, stored: str | None) -> None:
    """While a conversation is not verified a question may wait that the gateway cannot see (a fold, a saved
    message, a form started by the NLU's reading of a bare date), so what the form would take is stored as labels.
    Mutations tried: `_unasked` without the adult-date branch -> "hi, 03/14/1979 is me" stored as typed: this
    fails; without its `_may_begin_a_card` test -> a bare "4111 1111" stored as labels, PCI-2 cannot join it with
    the next message: this fails."""
    assert identity_answers.stored_form(typed, None, unverified=True) == stored


def test_ID_2_while_the_previous_message_waits_for_its_answer_a_question_may_wait_too() -> None:
    """The turn of the debtor's previous message still runs (or was saved): it may be asking for verification, so
    while unverified a message is stored as if a question waited; volunteered details keep their words.
    Mutation tried: `earlier_unanswered` ignored -> "it's 2233" stored as typed: this fails."""
    assert identity_answers.stored_form("it's 2233", None, unverified=True, earlier_unanswered=True) == \
        "[SSN last four]"
    assert identity_answers.stored_form("dob 03/14/1979, what do I owe?", None, unverified=True,
                                        earlier_unanswered=True) == "dob [date of birth], what do I owe?"
    assert identity_answers.stored_form("it's 2233", None, unverified=False, earlier_unanswered=True) is None
    assert identity_answers.stored_form("I paid 1200 yesterday", None, unverified=True,
                                        earlier_unanswered=True) is None


# The words a debtor might type around a figure while an identity question waits: money words, factor words, filler.
_WORDS = ["I", "paid", "pay", "you", "$", "dollars", "yesterday", "my", "ssn", "is", "zip", "last", "four", "and",
          "it's", "pagué", "dólares", "ayer", "mi", "código", "postal", "es", ",", "."]
_ANY_MESSAGE = st.lists(st.one_of(st.sampled_from(_WORDS), st.integers(0, 99999).map(str),
                                  st.integers(1000, 9999).map(str)), min_size=1, max_size=8)


@settings(max_examples=400, deadline=None)
@given(words=_ANY_MESSAGE, asked=st.sampled_from(sorted(LABELS)))
def test_ID_2_a_value_the_check_would_take_as_an_ssn_tail_or_a_zip_is_never_stored(words: list[str],
                                                                                    asked: str) -> None:
    """Property, the safe side of the amount exception: whatever the words around them, while an identity question
    waits, digits the check would take as an SSN's last four or a ZIP (identity.parse_secret, extract_factors: what
    the verify form reads) never reach the stored text. The one documented exception is PCI-2's: trailing digits
    that may begin a card stay, to be joined with the next message. Mutation tried: `_only_amounts` without its
    no-digit-left test -> "I paid 1200 5678" stored as typed with 5678 taken as the SSN tail: this fails;
    extract_factors without `without_amounts` -> "I paid 1200" read as an SSN tail and stored as typed: this fails."""
    text = redaction.redact(" ".join(words)).text  # as the intake has it: SSNs and cards redacted first (PCI-2)
    factors = identity.extract_factors(text)
    taken = [value for value in (factors.ssn_last4, factors.zip) if value]
    stored = identity_answers.stored_form(text, asked)
    _, labels = labelled(text)
    assume(taken and not identity_answers._may_begin_a_card(text, labels))
    assert stored is not None, text
    assert not any(value in stored for value in taken), (text, stored)


@settings(max_examples=200, deadline=None)
@given(amount=st.integers(1000, 9999), asked=st.sampled_from(sorted(LABELS)), shape=st.sampled_from([
    "I paid {n} yesterday", "I paid ${n} on friday", "${n}", "{n} dollars", "I sent {n} dollars last week",
    "pagué {n} ayer", "ya pagué {n} dólares", "I owe {n}?"]))
def test_ID_2_a_figure_marked_as_money_is_stored_as_typed_and_never_taken_as_an_answer(amount: int, asked: str,
                                                                                      shape: str) -> None:
    """Property, the narrowed side: a four-digit figure whose words make it money ("I paid 1200 yesterday") while an
    identity question waits is stored as typed (the exploratory tester found it stored as "[SSN last four]") and the
    check never takes it as an SSN's last four or a ZIP. Mutation tried: `_only_amounts` returning False -> stored as
    "[SSN last four]": this fails; the `$` alternative removed from identity._AMOUNT -> "$1200" read as an SSN tail:
    this fails."""
    text = shape.format(n=amount)
    assert identity_answers.stored_form(text, asked) is None
    assert identity.parse_secret(text) is None


@pytest.mark.parametrize("typed", ["1200", "it's 1200", "my last four is $1200", "ssn 1200 dollars", "zip 12000",
                                   "I paid 1200, my zip is 90210", "1200 and I paid 300 dollars"])
def test_ID_2_a_bare_figure_or_a_named_factor_is_still_an_answer(typed: str) -> None:
    """Compliance first where the words do not make a figure money, or name the factor beside it. Mutation tried:
    the `_FACTOR_WORDS` test removed from _only_amounts -> "ssn 1200 dollars" stored as typed: this fails."""
    stored = identity_answers.stored_form(typed, "id_secret")
    assert stored is not None and not any(ch.isdigit() for ch in stored), stored
