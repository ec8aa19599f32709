"""OPT-2 per channel: a lone CANCEL in a live chat asks what it means; in a text it opts out as carriers require.

A text keeps every keyword of the carrier list (CTIA, Twilio Advanced Opt-Out: CANCEL, END and QUIT opt out), and an
email reply too. In a live chat the person opened (the web widget, the REST/terminal chat) a lone "cancel", "end",
"quit" or "cancelar" mid-flow usually means "cancel this": opting the chat out on it would leave one answer and no
way forward. There it opts nothing out silently: the answer asks, names STOP (ALTO in Spanish), and goes nowhere
near the dialogue, so a pay or verification form is not fed the word. STOP and the other unambiguous words still opt a
chat out at once. The pipeline is real (SQLite), Rasa a recording stand-in."""

from __future__ import annotations

import asyncio

import pytest

from bot import contact_preferences, conversations, language
from bot.compliance import keywords
from bot.db import get_engine, session_scope
from tests.test_outbox import _pipeline, _Rasa


def _say(sqlite_url: str, rasa: _Rasa, channel: str, address: str, *texts: str) -> list[list[str]]:
    pipeline = _pipeline(sqlite_url, rasa)
    return [[p.text for p in asyncio.run(pipeline.handle(channel, address, text)).sent] for text in texts]


def _opted_out(sqlite_url: str, channel: str, address: str) -> bool:
    with session_scope(get_engine(sqlite_url)) as session:
        preference = contact_preferences.find(session, channel, address)
        return preference is not None and preference.opted_out_at is not None


@pytest.mark.parametrize("channel", ["web", "rest"])
@pytest.mark.parametrize("word", ["cancel", "Cancel.", "END", "quit"])
def test_OPT_2_a_lone_cancel_in_a_live_chat_asks_and_opts_nothing_out(sqlite_engine, sqlite_url, channel, word):
    """Mutation tried: CHAT_AMBIGUOUS checked after the opt-out words in classify() (the chat was opted out and
    answered "You're unsubscribed") -> fails."""
    rasa = _Rasa()
    address = f"chat-{channel}-{word}"
    replies = _say(sqlite_url, rasa, channel, address, "I want to pay now", word, "50")
    assert replies[1] == [keywords.cancel_or_stop_reply("en")]
    assert "STOP" in replies[1][0] and "talk to a person" in replies[1][0]  # the way out, and a next step
    assert not _opted_out(sqlite_url, channel, address)
    assert rasa.asked == ["I want to pay now", "50"]  # the word itself never reaches the dialogue
    assert replies[2] == ["I can set up a smaller plan for you."]  # and the chat goes on


def test_OPT_2_STOP_still_opts_a_live_chat_out_at_once(sqlite_engine, sqlite_url):
    """The unambiguous words are not asked about: STOP typed after the question (or any time) opts out."""
    rasa = _Rasa()
    replies = _say(sqlite_url, rasa, "web", "chat-stop", "cancel", "STOP")
    assert replies[1] == [keywords.stop_reply("web", "en")] and _opted_out(sqlite_url, "web", "chat-stop")


def test_OPT_2_LANG_1_cancelar_in_a_spanish_chat_asks_in_spanish_and_ALTO_opts_out(sqlite_engine, sqlite_url):
    rasa = _Rasa()
    with session_scope(get_engine(sqlite_url)) as session:
        language.suggest(session, conversations.get_or_create(session, "web", "chat-es"), "es")
    replies = _say(sqlite_url, rasa, "web", "chat-es", "cancelar", "ALTO")
    assert replies[0] == [keywords.cancel_or_stop_reply("es")] and "ALTO" in replies[0][0]
    assert replies[1] == [keywords.stop_reply("web", "es")] and _opted_out(sqlite_url, "web", "chat-es")


@pytest.mark.parametrize("word", ["cancel", "END", "quit", "CANCELAR"])
def test_OPT_2_a_lone_cancel_by_text_still_opts_out_as_carriers_require(sqlite_engine, sqlite_url, word):
    """Mutation tried: CHAT_CHANNELS including "sms" (CANCEL by text was asked about, not honoured) -> fails."""
    rasa = _Rasa()
    address = f"+1555555{len(word):04d}"
    replies = _say(sqlite_url, rasa, "sms", address, word)
    assert replies[0] == [keywords.stop_reply("sms", keywords.language_of(word, "sms"))]
    assert _opted_out(sqlite_url, "sms", address) and rasa.asked == []


@pytest.mark.parametrize("word", ["cancel", "END", "quit", "stop", "Alto"])
def test_OPT_2_an_email_reply_of_one_opt_out_word_still_stops_email(word):
    assert keywords.classify(word, "email") == keywords.STOP


def test_OPT_3_a_lone_cancel_after_STOP_gets_the_one_opted_out_answer_not_the_question(sqlite_engine, sqlite_url):
    """Mutation tried: the question asked whether or not the chat had opted out -> fails (it asked a chat that had
    already stopped whether to stop)."""
    replies = _say(sqlite_url, _Rasa(), "web", "chat-stopped", "STOP", "cancel")
    assert replies[1] == [keywords.opted_out_reply("web", "en")]
