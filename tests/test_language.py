"""The conversation's language from the debtor's own words (bot/language.py), tested without Rasa or HTTP: what
switches it, what never does, the bilingual question when the detector is unsure, an explicit choice that
detection does not undo, and the language kept on the contact and the debtor."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from bot import conversations, language, wording
from bot.db import session_scope
from bot.db.models import ContactPreference
from tests.conftest import add_debtor

PHONE = "+15555550123"


def _conversation(session, channel: str = "sms", address: str = PHONE):
    return conversations.get_or_create(session, channel, address)


def test_a_sentence_in_spanish_switches_the_conversation_and_is_kept_on_the_contact(sqlite_engine):
    """Mutation tried: set_language() not writing the contact preference (the assertion on it failed)."""
    with session_scope(sqlite_engine) as session:
        conversation = _conversation(session)
        observed = language.observe(session, conversation, "hola, quiero hacer un plan de pagos")
        assert observed.language == "es" and observed.switched and observed.replies == ()
        assert conversation.language == "es" and conversation.language_confirmed_at is None
        assert language.contact_language(session, "sms", PHONE) == "es"


def test_spanglish_as_people_text_it_reads_as_spanish(sqlite_engine):
    with session_scope(sqlite_engine) as session:
        conversation = _conversation(session)
        assert language.observe(session, conversation, "ahorita no puedo pagar las mensualidades").language == "es"


SHORT = ["si", "sí", "Si!", "ok", "no", "OK gracias", "1", "2", "12/05/1985", "$50", "500 dolares", "90210",
         "hola", "yes", "Jordan Rivera"]


def test_short_replies_digits_and_dates_never_switch_the_language(sqlite_engine):
    """Mutation tried: MIN_WORDS = 1 ("hola", "yes" and "no" then switched the conversation)."""
    for text in SHORT:
        with session_scope(sqlite_engine) as session:
            conversation = _conversation(session, address=f"+1555555{SHORT.index(text):04d}")
            language.set_language(session, conversation, "es", confirmed=False)
            assert language.observe(session, conversation, text).language == "es", text
            language.set_language(session, conversation, "en", confirmed=False)
            assert language.observe(session, conversation, text).language == "en", text


@settings(max_examples=60, deadline=None)
@given(st.one_of(
    st.dates().map(lambda d: d.strftime("%m/%d/%Y")),
    st.integers(min_value=0, max_value=10**9).map(str),
    st.decimals(min_value=0, max_value=100000, places=2).map(lambda d: f"${d}"),
    st.sampled_from(["si", "sí", "ok", "okay", "no", "yes", "gracias", "thanks", "hola", "hi", "1", "2", "ok si",
                     "si si", "no se", "ok ty", "yes sir"]),
))
def test_no_short_or_numeric_text_is_judgeable(text: str) -> None:
    """Whatever the detector would say, these are never read for a language (the domain's edge).
    Mutation tried: MIN_LETTERS = 1 ("ok si" was read, as English)."""
    assert not language.judgeable(text)
    assert language.detect(text).language is None


def test_asking_by_name_switches_at_once_and_detection_does_not_undo_it(sqlite_engine):
    """Mutation tried: observe() letting detection override a confirmed choice (the English sentence switched
    the conversation back)."""
    with session_scope(sqlite_engine) as session:
        conversation = _conversation(session)
        observed = language.observe(session, conversation, "En español, por favor")
        assert observed.language == "es" and observed.replies == (wording.say("language_now", "es"),)
        assert conversation.language_confirmed_at is not None
        assert language.observe(session, conversation, "my lawyer said I should pay the balance").language == "es"
        back = language.observe(session, conversation, "English please")
        assert back.language == "en" and back.replies == (wording.say("language_now", "en"),)
        # Asked for inside a longer message: switched, and the message still goes to the dialogue.
        mixed = language.observe(session, conversation, "can we talk in spanish, quiero pagar")
        assert mixed.language == "es" and mixed.replies == ()


def test_a_question_about_both_languages_chooses_neither(sqlite_engine):
    assert language.asked_for("do you speak english or spanish?") is None
    assert language.asked_for("hablo espanol") == "es" and language.asked_for("Inglés por favor") == "en"


def test_when_the_detector_is_unsure_the_bilingual_question_is_asked_once_and_its_answer_decides(sqlite_engine):
    """Mutation tried: LEANS = SURE (the unsure reading was ignored and nothing was asked)."""
    with session_scope(sqlite_engine) as session:
        conversation = _conversation(session)
        language.set_language(session, conversation, "en", confirmed=False)
        text = "quiero hacer un payment plan"
        reading = language.detect(text)
        assert reading.language == "es" and language.LEANS <= reading.confidence < language.SURE
        first = language.observe(session, conversation, text)
        assert first.language == "en" and first.prefix == (wording.say("language_question", "en"),)
        assert "¿Prefiere español?" in first.prefix[0] and "Prefer English?" in first.prefix[0]
        assert language.observe(session, conversation, text).prefix == ()  # asked once
        answer = language.observe(session, conversation, "Español")
        assert answer.language == "es" and answer.replies == (wording.say("language_now", "es"),)
        assert conversation.language_asked_at is None and conversation.language_confirmed_at is not None


def test_the_debtors_language_follows_verification_both_ways(sqlite_engine):
    """Mutation tried: on_verified() not copying the conversation's language to the debtor."""
    with session_scope(sqlite_engine) as session:
        debtor, _ = add_debtor(session, phone=PHONE)
        spoke_spanish = _conversation(session)
        language.observe(session, spoke_spanish, "necesito ayuda con mi cuenta por favor")
        language.on_verified(session, spoke_spanish, debtor)
        assert debtor.language == "es" and language.for_debtor(session, debtor.id) == "es"
        # The same debtor on the web, having said only "hi": the conversation takes their language.
        web = _conversation(session, channel="web", address="web-abc")
        language.on_verified(session, web, debtor)
        assert web.language == "es"


def test_a_new_conversation_from_a_known_address_starts_in_its_language(sqlite_engine):
    with session_scope(sqlite_engine) as session:
        session.add(ContactPreference(channel="sms", address=PHONE, language="es"))
        session.flush()
        assert language.current(session, _conversation(session)) == "es"
        assert session.scalars(select(ContactPreference.language)).all() == ["es"]
        assert language.for_debtor(session, None) == "en"
