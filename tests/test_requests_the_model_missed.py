"""Legal reports and requests the exploratory tester saw the model miss, now read by their words in the inbound gate
before the NLU's reading is acted on: an attorney stated plainly (CEASE-2, defect 3), a third party asking about
someone else's debt before any verification (ID-1, ID-4, defect 4), and "stop texting me" inside a longer text
(OPT-2, OPT-3, defect 5). The cue functions are tabled both ways (a denial never triggers); the pipeline is driven
with a stand-in Rasa that records what it is sent. End to end: tests/integration/test_requests_the_model_missed.py."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from rasa_sdk import Tracker
from sqlalchemy import select

from actions.sensitive import _details_from_the_gateway
from bot import wording
from bot.compliance import cues, keywords, report_details, sensitive_requests
from bot.config import Settings
from bot.db import session_scope
from bot.db.models import AuditEvent, ContactPreference, Handoff, Message
from bot.gateway.pipeline import Pipeline
from bot.gateway.rasa_client import RasaTurn
from tests.conftest import add_debtor

# ---- CEASE-2: an attorney stated in plain words ------------------------------------------------------------------

STATES_AN_ATTORNEY = [
    "I have a lawyer, her name is Susan Park, 555-201-3344",
    "I have a lawyer, Susan Park, 555-201-3344",
    "I have an attorney. Her name is Susan Park and her number is 555-201-3344",
    "I'm so confused by all this and it's been a hard year. I have a lawyer now, please talk to him.",
    "I got your letter and I don't understand any of it, it's been a long month. Anyway, I have a lawyer now, please "
    "talk to him.",
    "No, I have a lawyer",
    "you can talk to my lawyer",
    "I've hired an attorney",
    "I am represented by counsel",
    "tengo abogado",
    "sí, tengo una abogada",
]
NO_ATTORNEY = [
    "I don't have a lawyer", "I do not have an attorney", "I have no lawyer", "do I need a lawyer?",
    "should I get a lawyer", "I can't afford a lawyer", "I don't think I have a lawyer",
    "if I had a lawyer would you call them", "I have a lawyer friend who says this is wrong",
    "I had a lawyer but not anymore", "Do I have a lawyer? no", "no tengo abogado", "I will talk to my lawyer",
    "maybe I have a lawyer", "I have a lawyer appointment tomorrow", "what if I have a lawyer?", "what do I owe?",
]


@pytest.mark.parametrize("text", STATES_AN_ATTORNEY)
def test_CEASE_2_an_attorney_stated_in_plain_words_is_a_report(text):
    """Defect 3. Mutation tried: the `(i|we) have ... lawyer` alternative of report_details._REPRESENTED broken ->
    fails (and the property below)."""
    assert report_details.states_representation(text)


@pytest.mark.parametrize("text", NO_ATTORNEY)
def test_CEASE_2_a_denial_question_or_supposition_is_no_attorney_report(text):
    """Mutation tried: the `_DENIED` check dropped from states_representation -> 4 of these fail ("I don't think I
    have a lawyer", "maybe I have a lawyer"...)."""
    assert not report_details.states_representation(text)


@given(lead=st.sampled_from(["I don't have", "I do not have", "we don't have", "I dont have", "I never had"]),
       who=st.sampled_from(["a lawyer", "an attorney", "a lawyer now", "any lawyer"]),
       before=st.sampled_from(["", "no, ", "honestly ", "Hi. "]), after=st.sampled_from(["", ".", "!", " yet"]),
       upper=st.booleans())
def test_CEASE_2_a_denied_attorney_never_triggers_however_typed(lead, who, before, after, upper):
    """Property: a denial of representation, in any case and punctuation, is never a report."""
    text = f"{before}{lead} {who}{after}"
    assert not report_details.states_representation(text.upper() if upper else text)


@given(lead=st.sampled_from(["I have", "I now have", "we have", "I've got", "I hired", "I retained"]),
       who=st.sampled_from(["a lawyer", "an attorney", "my own lawyer"]),
       before=st.sampled_from(["", "Hi. ", "It's been a hard year and I'm confused. ", "ok, "]),
       after=st.sampled_from(["", ".", " now", ", please talk to him.", ". Call her."]), upper=st.booleans())
def test_CEASE_2_a_clear_attorney_statement_always_triggers(lead, who, before, after, upper):
    """Property: a plain statement of representation is a report wherever it sits in the message."""
    text = f"{before}{lead} {who}{after}"
    assert report_details.states_representation(text.upper() if upper else text)


@pytest.mark.parametrize(("text", "expected"), [
    ("I have a lawyer, her name is Susan Park, 555-201-3344",
     {"attorney_name": "Susan Park", "attorney_phone": "+15552013344"}),
    ("I have a lawyer, Susan Park, 555-201-3344", {"attorney_name": "Susan Park", "attorney_phone": "+15552013344"}),
    ("I have an attorney. Her name is Susan Park and her number is 555-201-3344",
     {"attorney_name": "Susan Park", "attorney_phone": "+15552013344"}),
    ("I have a lawyer, please call 555-201-3344", {"attorney_phone": "+15552013344"}),  # no name taken
    ("I have a lawyer now, please talk to him.", {}),
])
def test_CEASE_2_the_details_given_with_a_plain_report_are_taken(text, expected):
    """Mutation tried: representation_details returning attorney_details alone -> "I have a lawyer, Susan Park,
    555-..." lost the name: fails."""
    assert report_details.representation_details(text) == expected


def test_CEASE_2_the_action_takes_the_details_the_gateway_read():
    """The dialogue gets "/attorney_represented" and the details as metadata; the attorney form is filled from them."""
    events = [{"event": "user", "text": "/attorney_represented",
               "metadata": {sensitive_requests.ATTORNEY_DETAILS: {"attorney_name": "Susan Park", "ssn": "1"}}}]
    tracker = Tracker("d", {}, {"text": "/attorney_represented"}, events, False, None, {}, "")
    assert _details_from_the_gateway(tracker) == {"attorney_name": "Susan Park"}


# ---- ID-1, ID-4: a third party asking before any verification ----------------------------------------------------

ASKS_FOR_ANOTHER = ["Hi, I'm Jordan Rivera's wife. How much does my husband owe?",
                    "I'm calling on behalf of my son, what does he owe?", "what does my mom owe you",
                    "my husband's balance please", "I am asking for my father", "cuanto debe mi esposo",
                    "llamo en nombre de mi hijo"]
OWN_DEBT = ["my husband and I owe money", "I owe my mother money", "can my wife pay for me?", "my wife said I owe",
            "it's not my husband's debt", "my husband doesn't owe anything", "what do I owe", "on behalf of myself",
            "my son is sick and I can't pay"]


@pytest.mark.parametrize("text", ASKS_FOR_ANOTHER[1:])
def test_ID_4_asking_about_someone_elses_debt_is_read_from_the_words(text):
    """Defect 4. Mutation tried: the `on behalf of` line removed from cues.ASKING_FOR_ANOTHER_PATTERNS -> "calling
    on behalf of my son" fails."""
    assert cues.asks_about_someone_elses_debt(text)


@pytest.mark.parametrize("text", OWN_DEBT)
def test_ID_4_the_writers_own_debt_beside_a_relative_is_no_third_party(text):
    """Mutation tried: the `_NOT_SO` check dropped -> "it's not my husband's debt" fails."""
    assert not cues.asks_about_someone_elses_debt(text)


@given(relation=st.sampled_from(["husband", "wife", "son", "daughter", "mother", "father", "mom", "dad"]),
       ask=st.sampled_from(["how much does my {r} owe?", "what does my {r} owe", "I'm calling on behalf of my {r}",
                            "my {r}'s balance?", "I'm asking for my {r}"]),
       before=st.sampled_from(["", "Hi. ", "hello, "]), upper=st.booleans())
def test_ID_4_a_relatives_debt_asked_about_always_triggers(relation, ask, before, upper):
    text = before + ask.format(r=relation)
    assert cues.asks_about_someone_elses_debt(text.upper() if upper else text)


@given(relation=st.sampled_from(["husband", "wife", "son", "mother"]),
       denial=st.sampled_from(["it's not my {r}'s debt", "my {r} doesn't owe anything", "I'm not calling on behalf of "
                               "my {r}", "this isn't my {r}'s account"]))
def test_ID_4_a_denied_third_party_never_triggers(relation, denial):
    assert not cues.asks_about_someone_elses_debt(denial.format(r=relation))


# ---- OPT-2: "stop texting me" inside a longer text ---------------------------------------------------------------

STOPS = ["what do I owe? also stop texting me",
         "hi! quick q: what do I owe and can I set up a plan? also pls stop texting me",
         "please stop sending me these texts", "ok thanks. unsubscribe me", "can you stop texting me",
         "no more texts please", "ya no me manden mensajes por favor", "dont text me again"]
NO_STOP = ["don't stop texting me", "do not stop texting me reminders", "why did you stop texting me?",
           "you stopped texting me", "if I say stop texting me will I miss my payment?", "stop texting me at work",
           "stop texting me before noon", "I never said stop texting me", "what do I owe",
           "stop the automatic payments",
           # CEASE-1, the wider request, is left to the NLU and its rule:
           "stop texting me, I am not paying", "leave me alone and stop texting me",
           # VUL-2: the crisis line and a person come first, never silenced by the one confirmation:
           "I want to die, stop texting me"]


@pytest.mark.parametrize("text", STOPS)
def test_OPT_2_a_stop_in_words_inside_a_longer_text_opts_out(text):
    """Defect 5. Mutation tried: the `stop ... texting` alternative of keywords._ASKS_STOP broken -> fails."""
    assert keywords.asks_to_stop_messages(text, "sms")


@pytest.mark.parametrize("text", NO_STOP)
def test_OPT_2_a_denial_a_limit_or_a_cease_is_no_opt_out_here(text):
    """Mutation tried: `_QUALIFIED` emptied -> "stop texting me at work" (TIME-1's) fails; `_STOP_DENIED` check
    dropped -> "don't stop texting me" fails; `_CEASES_TOO` check dropped -> the two cease messages fail; the
    `is_crisis` check dropped -> the crisis message fails."""
    assert not keywords.asks_to_stop_messages(text, "sms")


def test_OPT_3_a_stop_in_words_covers_the_channel_it_names():
    """An opt-out covers one channel: "stop texting me" in an email opts nothing out; "stop emailing me" does."""
    assert not keywords.asks_to_stop_messages("thanks. also please stop texting me", "email")
    assert keywords.asks_to_stop_messages("thanks. also please stop emailing me", "email")


@given(request=st.sampled_from(["what do I owe?", "can I set up a plan?", "hi!", "I'll pay Friday."]),
       stop=st.sampled_from(["stop texting me", "pls stop texting me", "please stop sending me texts",
                             "no more texts"]),
       joiner=st.sampled_from([" also ", " and ", ". ", "\n", ", "]), upper=st.booleans())
def test_OPT_2_a_stop_beside_any_request_always_opts_out(request, stop, joiner, upper):
    text = f"{request}{joiner}{stop}"
    assert keywords.asks_to_stop_messages(text.upper() if upper else text, "sms")


@given(neg=st.sampled_from(["don't", "do not", "never", "please don't", "why did you"]),
       stop=st.sampled_from(["stop texting me", "stop sending me texts", "stop messaging me"]),
       before=st.sampled_from(["", "hi. ", "what do I owe? "]))
def test_OPT_2_a_negated_stop_never_opts_out(neg, stop, before):
    assert not keywords.asks_to_stop_messages(f"{before}{neg} {stop}", "sms")


# ---- the gate, with a stand-in Rasa ------------------------------------------------------------------------------

class RecordingRasa:
    """Answers every turn with "answer"; records the text and metadata each turn was sent."""

    def __init__(self) -> None:
        self.turns: list[tuple[str, dict]] = []

    async def send(self, conversation_id, text, metadata, message_id=None) -> RasaTurn:
        self.turns.append((text, dict(metadata or {})))
        return RasaTurn([{"text": "answer"}], "inform_identity", 0.9)

    async def parse(self, text, conversation_id=None):
        return {"intent": {"name": "nlu_fallback", "confidence": 0.3}}


def _pipeline(engine, url: str) -> tuple[Pipeline, RecordingRasa]:
    rasa = RecordingRasa()
    return Pipeline(engine, rasa=rasa, settings=Settings(database_url=url)), rasa


async def test_CEASE_2_a_plain_attorney_report_goes_to_the_dialogue_as_the_attorney_request(sqlite_engine, sqlite_url):
    """Defect 3: "I have a lawyer, Susan Park, 555-201-3344" got "didn't catch that". Now Rasa is sent the attorney
    request, with the details read from the words, so its form asks only for what is missing; a denial is sent as
    typed.

    Mutation tried: the `attorney_in_words` block removed from pipeline._receive -> Rasa got the text as typed."""
    pipeline, rasa = _pipeline(sqlite_engine, sqlite_url)
    await pipeline.handle("rest", "atty-1", "I have a lawyer, Susan Park, 555-201-3344")
    await pipeline.handle("rest", "atty-2", "I'm so confused. I have a lawyer now, please talk to him.")
    await pipeline.handle("rest", "atty-3", "I don't have a lawyer, what do I owe?")
    assert [text for text, _ in rasa.turns] == ["/attorney_represented", "/attorney_represented",
                                                "I don't have a lawyer, what do I owe?"]
    sent = [metadata.get(sensitive_requests.ATTORNEY_DETAILS) for _, metadata in rasa.turns]
    assert sent == [{"attorney_phone": "+15552013344", "attorney_name": "Susan Park"}, {}, None]


async def test_ID_1_ID_4_a_wife_asking_what_her_husband_owes_is_handed_to_a_person(sqlite_engine, sqlite_url):
    """Defect 4: "Hi, I'm Jordan Rivera's wife. How much does my husband owe?" before verification: the neutral
    handover (no debt, no identity check), a `third_party_writing` audit (ID-1) and a third-party handoff (ID-4);
    Rasa is not asked.

    Mutation tried: the `third_party_asking` call removed from pipeline._receive -> Rasa was asked (and would start
    the identity check)."""
    with session_scope(sqlite_engine) as session:
        add_debtor(session, phone="+15555550190")
    pipeline, rasa = _pipeline(sqlite_engine, sqlite_url)
    result = await pipeline.handle("sms", "+15555550190", "Hi, I'm Jordan Rivera's wife. How much does my husband owe?")
    said = [p.text for p in result.sent]
    support = Settings(database_url=sqlite_url).support_contact
    assert said == [wording.say("third_party_handed_over", support=support)]
    assert rasa.turns == []
    with session_scope(sqlite_engine) as session:
        kinds = session.scalars(select(AuditEvent.kind).where(AuditEvent.conversation_id == result.conversation_id))
        assert sensitive_requests.THIRD_PARTY_WRITING in set(kinds)
        reasons = session.scalars(select(Handoff.reason).where(Handoff.conversation_id == result.conversation_id))
        assert "third_party" in set(reasons)


async def test_OPT_2_OPT_3_stop_texting_me_inside_a_question_opts_out_with_one_confirmation(sqlite_engine,
                                                                                            sqlite_url):
    """Defect 5: "what do I owe? also stop texting me" got the verification prompt and the number stayed
    subscribed. Now the only reply is the opt-out confirmation, the number is opted out (via natural language) and
    Rasa is not asked; "don't stop texting me" is not an opt-out.

    Mutation tried: the `asks_to_stop_messages` branch removed from pipeline._keyword -> Rasa answered and the
    number stayed subscribed."""
    pipeline, rasa = _pipeline(sqlite_engine, sqlite_url)
    result = await pipeline.handle("sms", "+15555550178", "what do I owe? also stop texting me")
    assert [p.text for p in result.sent] == [keywords.stop_reply("sms")]
    assert rasa.turns == []
    kept = await pipeline.handle("sms", "+15555550179", "don't stop texting me, what do I owe?")
    assert [p.text for p in kept.sent] == ["answer"]
    with session_scope(sqlite_engine) as session:
        preferences = {p.address: p for p in session.scalars(select(ContactPreference))}
        assert preferences["+15555550178"].opted_out_at is not None
        assert preferences["+15555550178"].opted_out_via == "natural language"
        assert "+15555550179" not in preferences or preferences["+15555550179"].opted_out_at is None
        stored = session.scalars(select(Message.text).where(Message.direction == "in").order_by(Message.id)).all()
        assert stored[0] == "what do I owe? also stop texting me"
