"""Agents and the debtor's language (issue 23): a Spanish conversation goes to someone who speaks Spanish when one is
available, the queue and the conversation show the language, and every canned reply exists in both languages.
On SQLite only: the rule is plain Python over rows, and tests/test_agents_queue.py runs the queue on both databases."""

from __future__ import annotations

import io
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from bot import conversations, handoff, language
from bot.agents import auth, canned, queue, users
from bot.db import session_scope
from bot.db.models import AuditEvent, Handoff

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


def test_HO_1_LANG_1_with_no_spanish_speaker_available_a_supervisor_on_shift_decides_who_takes_it(sqlite_engine):
    """An answer in English beats no answer, but while a supervisor is on shift they decide it, not the English-only
    agent: Ana's claim is refused with why, Sue may take it herself or give it to Ana.
    Mutations tried: the refusal without looking for a colleague (nobody could take it, Sue included: fails);
    the agent's refusal in take_refusals removed (Ana took it: fails)."""
    with session_scope(sqlite_engine) as session:
        ana = users.create_user(session, "ana", PASSWORD, "agent")
        sue = users.create_user(session, "sue", PASSWORD, "supervisor")
        lupe = users.create_user(session, "lupe", PASSWORD, "agent")
        lupe.languages = ["es"]
        for person in (ana, sue):
            auth.start(session, person, lifetime=timedelta(hours=8), now=NOW)
        users.set_available(session, lupe, False, now=NOW)  # signed out and away
        waiting = _spanish_handoff(session)
        later = NOW + timedelta(minutes=1)
        assert queue.take_refusals(session, [waiting], ana, later)[waiting.id] == (
            "This conversation is in Spanish, which you do not answer in. A supervisor can assign it to someone "
            "who speaks it, or to you.")
        with pytest.raises(queue.Forbidden, match="which you do not answer in"):
            queue.claim(session, waiting.id, ana, now=later)
        assert queue.take_refusals(session, [waiting], sue, later)[waiting.id] is None
        assert queue.reassign(session, waiting.id, sue, ana, now=later).claimed_by == ana.id
        other = handoff.request(session, conversations.get_or_create(session, "web", "web-es-2").id,
                                "request_human", rule_id="HO-1")
        language.set_language(session, conversations.get_or_create(session, "web", "web-es-2"), "es",
                              confirmed=True)
        assert queue.claim(session, other.id, sue, now=later).claimed_by == sue.id


def test_HO_1_LANG_1_with_no_spanish_speaker_and_no_supervisor_on_shift_anyone_may_take_it(sqlite_engine):
    """Nobody who speaks Spanish and nobody who could assign it is there: the debtor is not left waiting for them.
    The English-only agent may take it (the canned replies come in Spanish). Mutation tried: take_refusals without
    the "no supervisor on shift" case -> Ana is refused and the debtor waits for no one: fails."""
    with session_scope(sqlite_engine) as session:
        ana = users.create_user(session, "ana", PASSWORD, "agent")
        users.create_user(session, "sue", PASSWORD, "supervisor")  # not signed in
        auth.start(session, ana, lifetime=timedelta(hours=8), now=NOW)
        waiting = _spanish_handoff(session)
        later = NOW + timedelta(minutes=1)
        assert queue.take_refusals(session, [waiting], ana, later)[waiting.id] is None
        assert queue.claim(session, waiting.id, ana, now=later).claimed_by == ana.id


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


def _cli(monkeypatch, sqlite_url: str, *argv: str, password: str | None = None) -> int:
    from bot.__main__ import main

    monkeypatch.setenv("DATABASE_URL", sqlite_url)
    if password is not None:
        monkeypatch.setattr("sys.stdin", io.StringIO(password + "\n"))
    return main(list(argv))


def test_HO_1_the_languages_set_with_the_cli_are_what_routing_uses(sqlite_engine, sqlite_url, monkeypatch, capsys):
    """create-user --languages and set-languages store what queue.claim reads, audited (REC-2) with before and after;
    a language Settle does not write in is refused with the reason. Mutations tried: set_languages not storing
    user.languages (fails: Lupe still had es); check_languages accepting any code (fails: kim was created with "fr")."""
    assert _cli(monkeypatch, sqlite_url, "create-user", "ana", "--role", "agent", "--password-stdin",
                password=PASSWORD) == 0
    assert "answers in en" in capsys.readouterr().out
    assert _cli(monkeypatch, sqlite_url, "create-user", "lupe", "--role", "agent", "--languages", "es,en",
                "--password-stdin", password=PASSWORD) == 0
    assert "answers in es, en" in capsys.readouterr().out
    with pytest.raises(SystemExit) as refused:  # argparse: exit 2 with the reason, nothing created
        _cli(monkeypatch, sqlite_url, "create-user", "kim", "--role", "agent", "--languages", "en,fr",
             "--password-stdin", password=PASSWORD)
    assert refused.value.code == 2 and "not fr" in capsys.readouterr().err
    with session_scope(sqlite_engine) as session:
        assert users.by_username(session, "kim") is None
        assert users.languages(users.by_username(session, "lupe")) == ("es", "en")
        created = session.scalars(select(AuditEvent).where(AuditEvent.kind == "user_created")
                                  .order_by(AuditEvent.id)).all()
        assert [e.detail["languages"] for e in created] == [["en"], ["es", "en"]]

    # Lupe is on shift: Ana (English only) leaves the Spanish conversation to her.
    with session_scope(sqlite_engine) as session:
        for name in ("ana", "lupe"):
            auth.start(session, users.by_username(session, name), lifetime=timedelta(hours=8), now=NOW)
        waiting_id = _spanish_handoff(session).id
    with session_scope(sqlite_engine) as session, pytest.raises(queue.Forbidden, match="in Spanish"):
        queue.claim(session, waiting_id, users.by_username(session, "ana"), now=NOW + timedelta(minutes=1))

    # Lupe's Spanish is taken away with the CLI: nobody available speaks it, so the supervisor on shift may give it
    # to Ana (an agent does not choose that for themselves: the refusal no longer names a colleague).
    assert _cli(monkeypatch, sqlite_url, "set-languages", "lupe", "en") == 0
    assert "'lupe' answers in en" in capsys.readouterr().out
    with session_scope(sqlite_engine) as session:
        changed = session.scalars(select(AuditEvent).where(AuditEvent.kind == "user_languages_changed")).one()
        assert changed.rule_id == "REC-2" and changed.actor == "cli"
        assert (changed.detail["before"], changed.detail["after"]) == (["es", "en"], ["en"])
        ana = users.by_username(session, "ana")
        sue = users.create_user(session, "sue", PASSWORD, "supervisor")
        auth.start(session, sue, lifetime=timedelta(hours=8), now=NOW)
        with pytest.raises(queue.Forbidden, match="which you do not answer in"):
            queue.claim(session, waiting_id, ana, now=NOW + timedelta(minutes=2))
        assert queue.reassign(session, waiting_id, sue, ana, now=NOW + timedelta(minutes=2)).claimed_by == ana.id

    # Setting the same again changes nothing and records nothing; bad input is refused with a reason.
    assert _cli(monkeypatch, sqlite_url, "set-languages", "lupe", "en") == 0
    assert "(unchanged)" in capsys.readouterr().out
    assert _cli(monkeypatch, sqlite_url, "set-languages", "nobody", "es") == 2
    assert "no user named 'nobody'" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        _cli(monkeypatch, sqlite_url, "set-languages", "lupe", ",")
    assert "at least one language" in capsys.readouterr().err
    with session_scope(sqlite_engine) as session:
        assert session.scalar(select(func.count()).select_from(AuditEvent)
                              .where(AuditEvent.kind == "user_languages_changed")) == 1


def test_set_languages_refuses_people_who_never_answer_debtors(sqlite_engine, sqlite_url, monkeypatch, capsys):
    with session_scope(sqlite_engine) as session:
        users.create_user(session, "cora", PASSWORD, "compliance")
    assert _cli(monkeypatch, sqlite_url, "set-languages", "cora", "es") == 2
    assert "never answers debtors" in capsys.readouterr().err
    assert _cli(monkeypatch, sqlite_url, "create-user", "olga", "--role", "operator", "--languages", "es",
                "--password-stdin", password=PASSWORD) == 2
    assert "--languages is for agents and supervisors" in capsys.readouterr().err
    with session_scope(sqlite_engine) as session:
        assert users.by_username(session, "olga") is None
    with pytest.raises(users.UserError, match="writes only in en, es"):
        users.check_languages(["EN", "de"])
    assert users.check_languages([" ES", "en", "es"]) == ("es", "en")


def test_the_domain_refuses_languages_for_people_who_never_answer_debtors(sqlite_engine):
    """The rule lives in bot/agents/users.py, whatever calls it (the CLI and the Team page check early with the same
    predicate). Mutation tried: the answers_debtors check removed from set_languages -> a compliance user got
    languages."""
    with session_scope(sqlite_engine) as session:
        cora = users.create_user(session, "cora", PASSWORD, "compliance")
        with pytest.raises(users.UserError, match="never answers debtors"):
            users.set_languages(session, cora, ["es"], changed_by="test")
        with pytest.raises(users.UserError, match="agents and supervisors"):
            users.create_user(session, "olga", PASSWORD, "operator", languages=["es"])
        assert cora.languages is None
