"""Agents and the debtor's language (issue 23): a Spanish conversation goes to someone who speaks Spanish when one is
available, the queue and the conversation show the language, and every canned reply exists in both languages.
On SQLite only: the rule is plain Python over rows, and tests/test_agents_queue.py runs the queue on both databases."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from bot import conversations, handoff, language
from bot.agents import auth, canned, queue, users
from bot.db import session_scope
from bot.db.models import Handoff

PASSWORD = "correct horse battery"
NOW = datetime(2026, 11, 23, 15, 0, tzinfo=timezone.utc)


def _spanish_handoff(session) -> Handoff:
    conversation = conversations.get_or_create(session, "web", "web-es")
    language.set_language(session, conversation, "es", confirmed=True)
    return handoff.request(session, conversation.id, "request_human", rule_id="HO-1")


def test_HO_1_an_english_only_agent_cannot_take_a_spanish_conversation_while_a_spanish_speaker_is_available(
        sqlite_engine):
    """Mutation tried: _check_language not called from claim() (the English-only agent took it)."""
    with session_scope(sqlite_engine) as session:
        ana = users.create_user(session, "ana", PASSWORD, "agent")  # English only (no languages recorded)
        lupe = users.create_user(session, "lupe", PASSWORD, "agent")
        lupe.languages = ["en", "es"]
        for person in (ana, lupe):
            auth.start(session, person, lifetime=timedelta(hours=8), now=NOW)
        waiting = _spanish_handoff(session)
        assert queue.summary(session, waiting).language == "Spanish"
        with pytest.raises(queue.Forbidden, match="in Spanish"):
            queue.claim(session, waiting.id, ana, now=NOW + timedelta(minutes=1))
        supervisor = users.create_user(session, "sue", PASSWORD, "supervisor")
        with pytest.raises(queue.Forbidden, match="in Spanish"):
            queue.reassign(session, waiting.id, supervisor, ana, now=NOW + timedelta(minutes=1))
        assert queue.claim(session, waiting.id, lupe, now=NOW + timedelta(minutes=1)).claimed_by == lupe.id


def test_HO_1_with_no_spanish_speaker_available_anyone_may_take_it(sqlite_engine):
    """An answer in English beats no answer. Mutation tried: the refusal without looking for a colleague (nobody
    could take it)."""
    with session_scope(sqlite_engine) as session:
        ana = users.create_user(session, "ana", PASSWORD, "agent")
        lupe = users.create_user(session, "lupe", PASSWORD, "agent")
        lupe.languages = ["es"]
        auth.start(session, ana, lifetime=timedelta(hours=8), now=NOW)
        users.set_available(session, lupe, False, now=NOW)  # signed out and away
        waiting = _spanish_handoff(session)
        assert queue.claim(session, waiting.id, ana, now=NOW + timedelta(minutes=1)).claimed_by == ana.id


def test_every_canned_reply_exists_in_spanish_and_the_console_offers_the_conversations_language():
    """Mutation tried: text_es removed from one entry of policy/canned_responses.yml (the load refused it)."""
    replies = canned.default()
    assert replies and all(c.text_es and c.text_es != c.text for c in replies)
    greeting = next(c for c in replies if c.id == "greeting")
    assert greeting.render("Ana", "es").startswith("Hola, soy Ana")
    assert greeting.render("Ana", "en").startswith("Hi, this is Ana")
    crisis = next(c for c in replies if c.id == "crisis")
    assert "oprima 2" in crisis.render("Ana", "es")
    with pytest.raises(canned.CannedError, match="text_es"):
        canned.parse({"responses": [{"id": "x", "title": "X", "text": "Hello."}]})
    with pytest.raises(canned.CannedError, match="TONE-1"):
        canned.parse({"responses": [{"id": "x", "title": "X", "text": "Hello.", "text_es": "Lo vamos a demandar."}]})
