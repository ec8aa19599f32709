"""The conversation's language from the debtor's own words (bot/language.py), tested without Rasa or HTTP: what
switches it, what never does, the bilingual question when the detector is unsure, an explicit choice that
detection does not undo, and the language kept on the contact and the debtor."""

from __future__ import annotations

import pytest
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


@pytest.mark.parametrize("text", ["¿Me van a demandar si no pago?", "¿eres un robot?", "¡no puedo pagar eso!",
                                  "¿Y ahora qué?"])
def test_LANG_1_a_question_or_exclamation_opened_the_spanish_way_is_spanish(sqlite_engine, text):
    """Exploratory pass: "¿Me van a demandar si no pago?" as a first text was answered in English (the detector: 0.66
    Spanish, under SURE) and "¿eres un robot?" read 0.52 English. The opening marks are Spanish's alone.
    Mutation tried: _SPANISH_MARKS not consulted in _read -> the first two stay English: fails."""
    with session_scope(sqlite_engine) as session:
        conversation = _conversation(session, address=f"+1555556{len(text):04d}")
        observed = language.observe(session, conversation, text)
        assert observed.language == "es" and observed.prefix == (), text


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


# LANG-1: the language the person writes in, in this conversation, wins over the one stored on the debtor.


def _spanish_elsewhere(session, address: str = PHONE):
    """A debtor who wrote Spanish in another conversation: their stored language is Spanish."""
    debtor, _ = add_debtor(session, phone=address)
    debtor.language = "es"
    return debtor


def _verify(session, conversation, debtor) -> None:
    conversation.debtor_id = debtor.id
    language.on_verified(session, conversation, debtor)


def test_LANG_1_pay_now_in_english_keeps_the_conversation_english_through_verification(sqlite_engine):
    """The tester's L1: "pay now" typed in English, then the verification's date, digits and account number; the
    debtor once wrote in Spanish elsewhere. The conversation showed English: it stays English (the legal notice, the
    pay menu and the rest), and English becomes the debtor's default for outreach.
    Mutation tried: observe() keeping only a language that differs from the current one (the old early return for a
    reading equal to it): the conversation had no language of its own, on_verified gave it Spanish -> fails."""
    with session_scope(sqlite_engine) as session:
        debtor = _spanish_elsewhere(session)
        conversation = _conversation(session, channel="rest", address="l1-pay-now")
        for text in ("pay now", "12/24/1965", "8642", "SET-100008"):
            assert language.observe(session, conversation, text).language == "en", text
        _verify(session, conversation, debtor)
        assert language.current(session, conversation) == "en" and conversation.language == "en"
        assert debtor.language == "en"


def test_LANG_1_a_new_english_session_gets_its_balance_in_english(sqlite_engine):
    """"what do I owe?" reads 0.88 English: under SURE, so it switches nothing, but it agrees with the English the
    conversation is spoken to in, and leans (LEANS) enough to keep it.
    Mutation tried: observe() asking SURE of the sign that keeps a language (sign.confidence >= SURE): the
    conversation kept no language and verification made it Spanish -> fails."""
    with session_scope(sqlite_engine) as session:
        debtor = _spanish_elsewhere(session)
        conversation = _conversation(session, channel="rest", address="l1-owe")
        reading = language.detect("what do I owe?")
        assert reading.language == "en" and language.LEANS <= reading.confidence < language.SURE
        language.observe(session, conversation, "what do I owe?")
        _verify(session, conversation, debtor)
        assert language.current(session, conversation) == "en"


def test_LANG_1_a_spanish_session_elsewhere_never_switches_an_english_one_midway(sqlite_engine):
    """SET-100002's all-English session, then a separate Spanish session of the same debtor: the English one stays
    English, and so does what is said about it elsewhere (a receipt, the pay pages: known_about).
    Mutation tried: observe() keeping nothing that agrees with the current language -> fails."""
    with session_scope(sqlite_engine) as session:
        debtor, _ = add_debtor(session, phone=PHONE)
        english = _conversation(session, channel="rest", address="l1-english")
        language.observe(session, english, "I want to pay my balance today")
        _verify(session, english, debtor)
        spanish = _conversation(session, channel="rest", address="l1-spanish")
        language.observe(session, spanish, "quiero pagar mi saldo hoy")
        _verify(session, spanish, debtor)
        assert debtor.language == "es" and language.current(session, spanish) == "es"
        assert language.current(session, english) == "en"
        assert language.known_about(session, english, debtor.id) == "en"
        assert language.known_about(session, None, debtor.id) == "es"  # outreach: the stored default


def test_LANG_1_a_conversation_that_showed_no_language_takes_the_debtors_at_verification(sqlite_engine):
    """The stored language is still the default for a conversation that has not shown its own: single words and
    digits only ("balance" alone reads either way)."""
    with session_scope(sqlite_engine) as session:
        debtor = _spanish_elsewhere(session)
        conversation = _conversation(session, channel="rest", address="l1-quiet")
        for text in ("balance", "12/24/1965", "8642"):
            language.observe(session, conversation, text)
        assert conversation.language is None
        _verify(session, conversation, debtor)
        assert language.current(session, conversation) == "es"


@settings(max_examples=60, deadline=None)
@given(st.one_of(
    st.dates().map(lambda d: d.strftime("%m/%d/%Y")),
    st.integers(min_value=0, max_value=10**9).map(str),
    st.decimals(min_value=0, max_value=100000, places=2).map(lambda d: f"${d}"),
    st.from_regex(r"SET-1[0-9]{5}", fullmatch=True),
    st.sampled_from(["si", "sí", "ok", "okay", "no", "yes", "gracias", "thanks", "hola", "hi", "1", "2", "balance",
                     "pay", "cancel", "plan", "10 dólares", "$10 dollars", "Sí."]),
))
def test_LANG_1_one_word_digits_dates_and_amounts_never_show_a_language(text: str) -> None:
    """The weaker sign that keeps a conversation's language still needs two words: a lone word, a date, an amount
    or an account number shows nothing, so the debtor's stored language remains the default there.
    Mutation tried: MIN_WORDS not applied in shows() ("pay", "gracias" kept a language) -> fails."""
    assert language.shows(text).language is None


def test_LANG_1_the_widgets_declared_language_outlasts_verification(sqlite_engine):
    """L2: the widget said Spanish (?lang=es, or an es-MX browser) and the person typed only digits and amounts:
    at verification the conversation keeps the Spanish the person has been reading, whatever the debtor's stored
    language, and that declaration does not become the debtor's choice.
    Mutation tried: on_verified() without the address branch (the debtor's English took the conversation over)
    -> fails."""
    with session_scope(sqlite_engine) as session:
        debtor, _ = add_debtor(session, phone=PHONE)
        debtor.language = "en"
        conversation = _conversation(session, channel="web", address="web-l2")
        language.suggest(session, conversation, "es")
        for text in ("10", "12/24/1965", "1357"):
            language.observe(session, conversation, text)
        _verify(session, conversation, debtor)
        assert language.current(session, conversation) == "es" and debtor.language == "en"


def test_LANG_1_spanish_words_in_a_spanish_widget_chat_become_the_conversations_and_the_debtors(sqlite_engine):
    """L2's chat: "quiero pagar mi cuenta" agrees with the widget's Spanish: it is now the conversation's own, so the
    debtor's language follows at verification (receipts, reminders)."""
    with session_scope(sqlite_engine) as session:
        debtor, _ = add_debtor(session, phone=PHONE)
        conversation = _conversation(session, channel="web", address="web-l2b")
        language.suggest(session, conversation, "es")
        observed = language.observe(session, conversation, "quiero pagar mi cuenta")
        assert observed.language == "es" and not observed.switched and conversation.language == "es"
        _verify(session, conversation, debtor)
        assert debtor.language == "es"


@pytest.mark.parametrize("keyword, spoken", [("es", "es"), ("en", "en")])
def test_OPT_3_LANG_1_a_keyword_is_a_sure_sign_of_its_language(sqlite_engine, keyword: str, spoken: str):
    """ALTO in an English conversation makes it Spanish, STOP in a Spanish one English (the confirmation and every
    later answer in the opt-out's language), but never over a language asked for by name.
    Mutation tried: observe() ignoring `keyword` (reading the one word instead: nothing changed) -> fails."""
    with session_scope(sqlite_engine) as session:
        conversation = _conversation(session, address=f"kw-{keyword}")
        other = "en" if keyword == "es" else "es"
        language.set_language(session, conversation, other, confirmed=False)
        observed = language.observe(session, conversation, "ALTO" if keyword == "es" else "STOP", keyword=keyword)
        assert observed.language == spoken and observed.switched and conversation.language == spoken
        language.set_language(session, conversation, other, confirmed=True)
        assert language.observe(session, conversation, "X", keyword=keyword).language == other
