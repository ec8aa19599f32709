"""CEASE-2, CEASE-3: the details a report gives are taken as given (bot/compliance/report_details.py). F9: "her name
is Dana Price, 617-555-0142" was asked for again and "can I still pay you directly?" stored as the attorney's name;
F10: "case 1:26-bk-12345" stored as "12345"."""

from __future__ import annotations

import asyncio

import pytest
from hypothesis import given
from hypothesis import strategies as st
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.sensitive import ValidateAttorneyForm, ValidateBankruptcyForm
from bot import wording
from bot.compliance import report_details, tone


@pytest.mark.parametrize(("text", "expected"), [
    ("my lawyer is handling this. her name is Dana Price, 617-555-0142",
     {"attorney_name": "Dana Price", "attorney_phone": "+16175550142"}),
    ("my attorney is Dana Price and her number is (617) 555-0142",
     {"attorney_name": "Dana Price", "attorney_phone": "+16175550142"}),
    ("mi abogada se llama Dana Price, 617 555 0142", {"attorney_name": "Dana Price", "attorney_phone": "+16175550142"}),
    ("my lawyer is handling this", {}),
    ("I have a lawyer now, talk to him", {}),
])
def test_CEASE_2_the_name_and_phone_given_with_the_report_are_taken(text, expected):
    assert report_details.attorney_details(text) == expected


@pytest.mark.parametrize("text", ["can I still pay you directly?", "do I have to talk to you?", "what now",
                                  "¿puedo pagarles a ustedes?", "should I call her"])
def test_CEASE_2_a_question_is_never_a_detail(text):
    assert report_details.is_question(text)


@pytest.mark.parametrize("text", ["Dana Price", "dana price", "617-555-0142", "Price Law Group", "I don't know"])
def test_CEASE_2_an_answer_is_not_a_question(text):
    assert not report_details.is_question(text)


def _tracker(text: str, slot: str) -> Tracker:
    return Tracker("d-atty", {"requested_slot": slot}, {"text": text, "intent": {"name": "inform"}}, [], False,
                   None, {"name": "attorney_form"}, text)


def test_CEASE_2_a_question_where_the_name_was_asked_is_answered_not_stored():
    """F9. Mutation tried: the `_answered_question` call removed from validate_attorney_name -> the question was
    stored as attorney_name."""
    dispatcher = CollectingDispatcher()
    text = "can I still pay you directly?"
    result = asyncio.run(ValidateAttorneyForm().validate_attorney_name(text, dispatcher, _tracker(text,
                                                                                                  "attorney_name"), {}))
    assert result == {"attorney_name": None}
    assert any("lawyer" in m.get("text", "") for m in dispatcher.messages)


@pytest.mark.parametrize(("text", "expected"), [
    ("Sam Ortiz, 212-555-0100", {"attorney_name": "Sam Ortiz", "attorney_phone": "+12125550100"}),
    ("Sam Ortiz and his number is (212) 555-0100", {"attorney_name": "Sam Ortiz", "attorney_phone": "+12125550100"}),
    ("Rosa Diaz y su numero es 305 555 0177", {"attorney_name": "Rosa Diaz", "attorney_phone": "+13055550177"}),
    ("Price Law Group", {"attorney_name": "Price Law Group"}),
    ("212-555-0100", {"attorney_phone": "+12125550100"}),  # the number alone: the name is asked again
])
def test_CEASE_2_a_phone_given_with_the_name_is_kept_and_not_asked_for_again(text, expected):
    """Seen on the demo: "Sam Ortiz, 212-555-0100" at the name question, then "And their phone number?". Mutation
    tried: validate_attorney_name keeping the whole answer as the name (no name_answer) -> the phone is not set and
    the name is "Sam Ortiz, 212-555-0100" (fails)."""
    result = asyncio.run(ValidateAttorneyForm().validate_attorney_name(
        text, CollectingDispatcher(), _tracker(text, "attorney_name"), {}))
    assert result == {"attorney_name": None, **expected}


@pytest.mark.parametrize(("text", "expected"), [
    ("case 1:26-bk-12345", "1:26-bk-12345"),
    ("1:26-BK-12345-ABC", "1:26-BK-12345-ABC"),
    ("it's 26-bk-00123", "26-bk-00123"),
    ("case 1 : 26 - bk - 12345", "1:26-bk-12345"),
    ("26-12345", "26-12345"),
])
def test_CEASE_3_the_case_number_is_kept_whole(text, expected):
    assert report_details.case_number(text) == expected


@given(office=st.integers(1, 9), year=st.integers(0, 99), number=st.integers(1, 99999),
       bk=st.sampled_from(["bk", "BK", "Bk"]), lead=st.sampled_from(["", "case ", "case no. ", "it is "]),
       judge=st.sampled_from(["", "-ABC", "-jt"]))
def test_CEASE_3_any_federal_case_number_survives_whole(office, year, number, bk, lead, judge):
    """Property: district office, year, bk, number and judge's initials all stay, as written."""
    written = f"{office}:{year:02d}-{bk}-{number:05d}{judge}"
    assert report_details.case_number(lead + written) == written


def test_CEASE_3_the_bankruptcy_form_stores_the_whole_case_number():
    """F10. Mutation tried: the old pattern (r"\\b\\d{1,2}[-:]?\\d{3,6}\\b") in validate_bankruptcy_case_number ->
    "12345"."""
    dispatcher = CollectingDispatcher()
    text = "case 1:26-bk-12345"
    result = asyncio.run(ValidateBankruptcyForm().validate_bankruptcy_case_number(
        text, dispatcher, _tracker(text, "bankruptcy_case_number"), {}))
    assert result == {"bankruptcy_case_number": "1:26-bk-12345"}


@pytest.mark.parametrize(("text", "reported"), [
    ("my lawyer is handling this. her name is Dana Price, 617-555-0142", True),
    ("mi abogada se llama Rosa Diaz", True),
    ("my attorney is Priya Shah", True),
    ("my lawyer is handling this", False),  # no name or phone: left to the NLU and the attorney form
    ("her name is Dana Price, 617-555-0142", False),  # no attorney in the words
    ("do you need my lawyer's number?", False),
])
def test_CEASE_2_an_attorney_named_in_the_words_is_a_report_whatever_the_model_reads(text, reported):
    """The merged model read the tester's sentence as inform_identity (0.54): the gate now reads such a report by its
    words (sensitive_requests.attorney_cue). Mutation tried: reports_own_attorney without the own-attorney words:
    "her name is Dana Price, 617-555-0142" (no attorney) read as a report, and this failed."""
    assert report_details.reports_own_attorney(text) is reported


@pytest.mark.parametrize(("text", "asks"), [
    ("what is a case number?", True), ("do I have to tell you?", True), ("¿qué es el número de caso?", True),
    ("why do you need it", True), ("is it 26-bk-00123?", False), ("1:26-bk-12345", False), ("I don't know", False),
])
def test_CEASE_3_a_question_at_the_case_number_is_told_from_an_answer(text, asks):
    assert report_details.asks_instead_of_case_number(text) is asks


@pytest.mark.parametrize(("text", "about_it"), [
    ("what is a case number?", True), ("where do I find the case number?", True), ("do I have to tell you?", True),
    ("what's my bankruptcy #?", True), ("¿qué es el número de caso?", True), ("¿tengo que darle eso?", True),
    # A person asked for, in words, stays a request for a person (HO-1), whatever else the message asks.
    ("what is a case number? I want to talk to someone", False), ("can I speak to a real person about my case?", False),
    # About something else: "case" alone, or no question.
    ("can someone else handle my case?", False), ("can I talk to your manager?", False), ("help", False),
    ("the case number is on my papers", False), ("is it 26-bk-00123?", False),
])
def test_CEASE_3_HO_1_a_question_about_the_case_number_is_told_from_a_request_for_a_person(text, about_it):
    """The model read "what is a case number?" as request_human (0.67), which ends the bankruptcy form by its rule;
    action_handle_sensitive answers such a question instead of handing off, and only such a question. Mutations
    tried: without the `asks_for_person` test -> the first False case is True (fails); without _ABOUT_CASE_NUMBER ->
    "can someone else handle my case?" is True (fails)."""
    assert report_details.asks_about_case_number(text) is about_it


def _after_the_rule_ended(form: str, asked: str, text: str) -> Tracker:
    """The tracker action_handle_sensitive sees once "request_human while the <form> asks" has ended the form."""
    events = [{"event": "user", "text": "I filed for bankruptcy", "parse_data": {"intent": {"name": "bankruptcy"}}},
              {"event": "active_loop", "name": form}, {"event": "slot", "name": "requested_slot", "value": asked},
              {"event": "bot", "text": "What is the bankruptcy case number?"},
              {"event": "user", "text": text, "parse_data": {"intent": {"name": "request_human"}}},
              {"event": "active_loop", "name": None}, {"event": "slot", "name": "requested_slot", "value": None}]
    return Tracker("d-bk", {"requested_slot": None}, {"text": text, "intent": {"name": "request_human"}}, events,
                   False, None, {}, text)


def test_CEASE_3_a_case_number_question_read_as_a_person_request_is_answered_and_the_form_asks_again():
    """Mutation tried: `_asked_when_written` giving the state after the rule ended the form (not when the message
    was written) -> (None, None), and the question went to a person: fails."""
    from rasa_sdk.events import FollowupAction

    from actions.sensitive import ActionHandleSensitive, _asked_when_written

    dispatcher = CollectingDispatcher()
    tracker = _after_the_rule_ended("bankruptcy_form", "bankruptcy_case_number", "what is a case number?")
    events = asyncio.run(ActionHandleSensitive().run(dispatcher, tracker, {}))
    assert [m.get("text") for m in dispatcher.messages] == [wording.say("bankruptcy_question_reply")]
    assert events == [FollowupAction("bankruptcy_form")]
    assert _asked_when_written(_after_the_rule_ended("attorney_form", "attorney_name", "x")) == (
        "attorney_form", "attorney_name")  # not the case number: the request goes to a person as before
    finished = Tracker("d-bk2", {}, {"text": "what is a case number?"}, [
        {"event": "active_loop", "name": "bankruptcy_form"},
        {"event": "slot", "name": "requested_slot", "value": "bankruptcy_case_number"},
        {"event": "active_loop", "name": None}, {"event": "slot", "name": "requested_slot", "value": None},
        {"event": "user", "text": "what is a case number?"}], False, None, {}, "what is a case number?")
    assert _asked_when_written(finished) == (None, None)  # the form had ended before: nothing was being asked


@given(st.text(max_size=80))
def test_HO_1_no_message_with_a_persons_words_is_taken_for_a_case_number_question(text):
    """Fuzz: whatever surrounds it, a message that asks for a person in words is never answered as a question."""
    assert not report_details.asks_about_case_number(f"what is a case number? {text} can I talk to a person?")


@pytest.mark.parametrize("text", ["what is a case number?", "do I have to tell you?"])
def test_CEASE_3_a_question_where_the_case_number_was_asked_is_answered_not_stored(text):
    """The exploratory tester's "what is a case number?" was stored as the case number and thanked for. Now it is
    answered (where to find it, that it need not be given) and the number is asked for again. Mutation tried: the
    `asks_instead_of_case_number` test removed from validate_bankruptcy_case_number -> the question stored: fails."""
    dispatcher = CollectingDispatcher()
    result = asyncio.run(ValidateBankruptcyForm().validate_bankruptcy_case_number(
        text, dispatcher, _tracker(text, "bankruptcy_case_number"), {}))
    assert result == {"bankruptcy_case_number": None}
    assert [m.get("text") for m in dispatcher.messages] == [wording.say("bankruptcy_question_reply")]
    assert "You don't have to give it" in dispatcher.messages[0]["text"]


@pytest.mark.parametrize("language", ["en", "es"])
def test_CEASE_3_TONE_1_the_answer_to_a_case_number_question_passes_the_tone_filter(language):
    """The first wording said "the court gave your case": TONE-1 blocks "court" (legal action), and the debtor got
    only the question again. Mutation tried: that wording back -> this fails."""
    assert tone.lint(wording.say("bankruptcy_question_reply", language)) == []


@pytest.mark.parametrize(("text", "expected"), [
    ("I filed for bankruptcy, case number 24-12345", "24-12345"),
    ("I filed for bankruptcy. Case 1:24-bk-10234", "1:24-bk-10234"),
    ("chapter 7, case no. 2412345", "2412345"),
    ("me declaré en bancarrota, número de caso 24-12345", "24-12345"),
    ("I filed in 2019", None),  # a bare year is not a case number
    ("I filed for bankruptcy in 2019", None),
    ("I filed chapter 13 bankruptcy last year", None),
    ("I filed for bankruptcy on 03/04/2024", None),
])
def test_CEASE_3_the_case_number_given_with_the_report_is_read_and_a_bare_year_is_not(text, expected):
    assert report_details.case_number_in_report(text) == expected


@given(year=st.integers(1950, 2099), lead=st.sampled_from(["I filed in ", "I filed for bankruptcy in ",
                                                            "bankruptcy since ", "chapter 7 back in "]))
def test_CEASE_3_no_year_of_a_report_is_taken_for_its_case_number(year, lead):
    """Property: a year the report gives, with no case words, is never read as the case number. Mutation tried:
    case_number_in_report falling back to case_number (its bare-number pattern) -> "2019" taken: fails."""
    assert report_details.case_number_in_report(f"{lead}{year}") is None


@given(year=st.integers(0, 99), number=st.integers(100, 999999),
       label=st.sampled_from(["case number ", "case no. ", "Case #", "case ", "número de caso "]),
       lead=st.sampled_from(["", "I filed for bankruptcy, ", "chapter 7. "]))
def test_CEASE_3_a_number_the_report_calls_its_case_number_is_read_as_written(year, number, label, lead):
    written = f"{year:02d}-{number}"
    assert report_details.case_number_in_report(f"{lead}{label}{written}") == written


# --- CEASE-2: the attorney's name, given in the usual ways --------------------------------------------------------

@pytest.mark.parametrize(("text", "name"), [
    ("I have a lawyer now, Susan Park 555-201-3344", "Susan Park"),
    ("I have a lawyer, her name is Susan Park", "Susan Park"),
    ("I have a lawyer. her name is susan park", "susan park"),  # the words say a name follows: lower case is fine
    ("my lawyer is Susan Park", "Susan Park"),
    ("attorney Susan Park, 555-201-3344", "Susan Park"),
    ("I have a lawyer, Susan Park at 555-201-3344", "Susan Park"),
    ("Susan Park at 555-201-3344 is my attorney", "Susan Park"),
    ("I have a lawyer, call Susan Park at 555-201-3344", "Susan Park"),
    ("I have a lawyer, please talk to Susan Park at 555-201-3344", "Susan Park"),
    ("MY LAWYER IS SUSAN PARK 555-201-3344", "SUSAN PARK"),
    ("tengo abogada, Rosa Diaz al 305 555 0177", "Rosa Diaz"),
    ("mi abogado es Luis O'Neil", "Luis O'Neil"),
])
def test_CEASE_2_the_attorneys_name_is_read_however_the_report_gives_it(text, name):
    """"I have a lawyer now, Susan Park 555-201-3344" kept the phone and lost the name (live and while owned), so the
    form asked for it again or the agent never had it.
    Mutation: attorney_name without its two readers of a name written as one (right after the attorney, right
    before the phone) -> the first case gives no name: failed."""
    assert report_details.representation_details(text).get("attorney_name") == name
    assert report_details.attorney_details(text).get("attorney_name") == name


@pytest.mark.parametrize("text", [
    "my lawyer is really busy",  # taken as the name "really busy" before
    "I have a lawyer. Call 555-201-3344",
    "I have a lawyer, please call 555-201-3344",
    "I HAVE A LAWYER, PLEASE CALL 555-201-3344",
    "I have a lawyer in Boston, 617-555-0142",
    "Talk to my lawyer Monday",
    "My lawyer is Out Of Town, 555-201-3344",
    "I have a lawyer now, please talk to him.",
    "Tengo abogado. Llame al 305 555 0177",
])
def test_CEASE_2_everyday_words_are_never_taken_for_the_attorneys_name(text):
    """Mutation: report_details._everyday always False -> "Monday" and "Call" are names: failed."""
    assert "attorney_name" not in report_details.representation_details(text)


@given(st.text(max_size=300))
def test_CEASE_2_reading_the_attorneys_details_never_raises(text):
    report_details.representation_details(text)
    report_details.attorney_details(text)


_LEADS = ("I have a lawyer", "I have a lawyer now", "my lawyer is", "my attorney is", "attorney", "I have an attorney,",
          "Talk to my lawyer", "tengo abogado,", "mi abogada es", "")
_STARTERS = ("Please", "Call", "Thanks", "I", "My", "Just", "Yes", "No", "Ok", "Sorry", "Text", "Talk", "Contact",
             "She", "He", "It", "We", "You", "They", "Hi", "Hello", "Gracias", "Llame", "Hable")
_ORDINARY = ("please", "call", "text", "him", "her", "them", "now", "thanks", "talk", "to", "with", "busy", "really",
             "handling", "this", "it", "my", "the", "case", "today", "tomorrow", "morning", "at", "number", "is",
             "phone", "office", "will", "you", "can", "reach", "out", "of", "town", "and", "llame", "hable", "con",
             "por", "favor", "mi", "abogado", "gracias", "she", "he", "soon", "later", "week", "on", "monday")
_SENTENCE = st.tuples(st.sampled_from(_STARTERS), st.lists(st.sampled_from(_ORDINARY), max_size=6)).map(
    lambda parts: " ".join((parts[0], *parts[1])))
_PHONES = st.sampled_from(("", " 555-201-3344", ", (617) 555-0142", " at 305 555 0177"))


@given(st.sampled_from(_LEADS), st.sampled_from((" ", ", ", ". ", ": ")), _SENTENCE, _PHONES,
       st.sampled_from(("", ".", "!")))
def test_CEASE_2_a_report_without_a_name_gives_none(lead, joint, sentence, phone, end):
    """Sentences of everyday words (a capital only where a sentence starts), after the ways an attorney is named and
    before a phone: no name is ever read from them."""
    text = f"{lead}{joint}{sentence}{phone}{end}".strip()
    assert "attorney_name" not in report_details.representation_details(text), text
