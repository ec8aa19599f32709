"""ID-2, REC-2: identity details typed while the gateway cannot know that a question waits are stored as what they
are, never their values (bot/records/identity_answers.py `stored_form`, `unverified`).

The four paths an exploratory tester found on the demo, each through the pipeline with a stand-in Rasa:
- texts sent in quick succession, folded into one Rasa turn while the first one's turn runs;
- texts sent during start-up, saved while no Rasa answers and replayed once it does;
- a bare date typed out of turn (the form had ended), which the identity form takes when the NLU reads it as
  identity details;
- a date and a last four typed after a wrong-person mark (ID-4), when no check starts at all.
The end-to-end spec is tests/integration/test_identity_answers_masked.py."""

from __future__ import annotations

import asyncio
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import select

from bot import conversations
from bot.config import Settings
from bot.db import session_scope
from bot.db.models import Conversation, Message, TranscriptEntry
from bot.gateway.pipeline import Pipeline
from bot.gateway.rasa_client import RasaTurn, RasaUnavailable
from bot.records import verification


class StandInRasa:
    """Records each turn's text and each rewrite of its tracker store; holds the first turn until `release` is set
    when `hold`; answers nothing while `down`."""

    def __init__(self, *, hold: bool = False, down: bool = False) -> None:
        self.turns: list[str] = []
        self.rewrites: list[tuple[str, str]] = []
        self.hold, self.down = hold, down
        self.release, self.started = asyncio.Event(), asyncio.Event()

    async def send(self, conversation_id: str, text: str, metadata: dict[str, Any],
                   message_id: str | None = None) -> RasaTurn:
        if self.down:
            raise RasaUnavailable("starting")
        self.turns.append(text)
        if self.hold and len(self.turns) == 1:
            self.started.set()
            await self.release.wait()
            return RasaTurn([{"text": "What is your date of birth?"}], "ask_balance", 0.9,
                            active_loop="verify_form", requested_slot="id_dob")
        return RasaTurn([{"text": "Thanks."}], "inform_identity", 0.9)

    async def redact_message(self, conversation_id: str, message_id: str, text: str,
                             slots: dict[str, str] | None = None, keep_current: bool = True) -> int:
        self.rewrites.append((message_id, text))
        return 1

    async def parse(self, text: str, conversation_id: str | None = None) -> dict[str, Any]:
        return {"intent": {"name": "inform_identity", "confidence": 0.9}}


VALUES = ("11/11/1987", "2233", "09/30/1991", "2020", "03/14/1979", "1234")


def _inbound(engine, external_id: str) -> list[Message]:
    with session_scope(engine) as session:
        conversation = session.scalar(select(Conversation).where(Conversation.external_id == external_id))
        rows = session.scalars(select(Message).where(Message.conversation_id == conversation.id,
                                                     Message.direction == "in").order_by(Message.id)).all()
        session.expunge_all()
        return list(rows)


def _no_value_in_the_record(engine, external_id: str) -> None:
    """No value in any stored message nor in the conversation's hash-chained transcript (REC-1 keeps every text
    ever stored, so a value stored for a moment would be kept there), and the chain is intact: the labels were
    decided before the INSERT, so they are each message's first entry, not a later change."""
    with session_scope(engine) as session:
        conversation = session.scalar(select(Conversation).where(Conversation.external_id == external_id))
        assert verification.check_conversation(session, conversation).problems == []
        texts = [m.text for m in session.scalars(select(Message).where(Message.conversation_id == conversation.id))]
        entries = session.scalars(select(TranscriptEntry).where(
            TranscriptEntry.conversation_id == conversation.id)).all()
        recorded = [str(e.data) for e in entries]
    for value in VALUES:
        assert not any(value in text for text in texts), (value, texts)
        assert not any(value in entry for entry in recorded), value


async def test_ID_2_answers_texted_in_quick_succession_and_folded_are_stored_as_labels(sqlite_engine, sqlite_url):
    """The demo phone: "what do I owe", "11/11/1987", "2233" sent at once. The date and the last four arrive while
    the first message's turn runs (the question it will ask is not known yet) and are folded into one turn: Rasa's
    form gets them as typed for the check, the record and Rasa's rewritten copy only their labels.
    Mutation tried: `stored_form` ignoring `unverified` (the old code) -> both stored as typed: this fails."""
    rasa = StandInRasa(hold=True)
    pipeline = Pipeline(sqlite_engine, rasa=rasa, settings=Settings(database_url=sqlite_url))
    first = asyncio.create_task(pipeline.handle("sms", "+15555550114", "what do I owe"))
    await rasa.started.wait()
    later = [await pipeline.accept("sms", "+15555550114", text) for text in ("11/11/1987", "2233")]
    rasa.release.set()
    await first
    for pending in later:
        await pending

    assert rasa.turns == ["what do I owe", "11/11/1987\n2233"]  # the check reads what was typed
    assert [(m.text, m.status, m.rule_ids) for m in _inbound(sqlite_engine, "+15555550114")] == [
        ("what do I owe", "processed", None), ("[date of birth]", "folded", ["ID-2"]),
        ("[SSN last four]", "processed", ["ID-2"])]
    assert rasa.rewrites[-1][1] == "[date of birth]\n[SSN last four]"  # and keeps only that afterwards
    _no_value_in_the_record(sqlite_engine, "+15555550114")


async def test_ID_2_a_worded_answer_texted_while_the_turn_that_asks_runs_is_stored_as_labels(sqlite_engine,
                                                                                             sqlite_url):
    """"it's 2233" is no bare answer, but it arrives while the turn of "what do I owe" runs: the question that turn
    asks is not known yet, and the fold goes to the form, which takes the last four from it (actions/verification.py
    _opportunistic). So while the debtor's previous message has no answer yet, the message is taken as an answer to
    a question waiting. A sentence with no factor-like value stays as typed.
    Mutation tried: `earlier_unanswered` ignored in stored_form -> "it's 2233" stored as typed: this fails."""
    rasa = StandInRasa(hold=True)
    pipeline = Pipeline(sqlite_engine, rasa=rasa, settings=Settings(database_url=sqlite_url))
    first = asyncio.create_task(pipeline.handle("sms", "+15555550115", "what do I owe"))
    await rasa.started.wait()
    later = [await pipeline.accept("sms", "+15555550115", text) for text in ("it's 2233", "is this a scam?")]
    rasa.release.set()
    await first
    for pending in later:
        await pending
    assert rasa.turns == ["what do I owe", "it's 2233\nis this a scam?"]
    assert [m.text for m in _inbound(sqlite_engine, "+15555550115")] == [
        "what do I owe", "[SSN last four]", "is this a scam?"]
    _no_value_in_the_record(sqlite_engine, "+15555550115")


async def test_ID_2_answers_saved_during_start_up_are_stored_as_labels_and_asked_again(sqlite_engine, sqlite_url):
    """Start-up: the gateway answers before Rasa does. Each message is saved ("Your message is saved"); nothing
    tells whether a question waits, so the date and the figure are kept as their labels, and once Rasa is back the
    replay asks for them again (their values were never kept): what it says is then true.
    Mutation tried: `stored_form` ignoring `unverified` -> "09/30/1991" and "2020" stored as typed: this fails."""
    rasa = StandInRasa(down=True)
    pipeline = Pipeline(sqlite_engine, rasa=rasa, settings=Settings(database_url=sqlite_url))
    for text in ("what do I owe", "09/30/1991", "2020"):
        result = await pipeline.handle("sms", "+15555550119", text)
        assert "saved" in result.sent[0].text
    assert [(m.text, m.status) for m in _inbound(sqlite_engine, "+15555550119")] == [
        ("what do I owe", "unprocessed"), ("[date of birth]", "unprocessed"), ("[SSN last four]", "unprocessed")]

    rasa.down = False
    for _ in range(100):  # the turn's claim on the saved messages is let go just after its answer
        with session_scope(sqlite_engine) as session:
            cid, claimed = session.execute(select(Conversation.id, Conversation.saved_claimed_by).where(
                Conversation.external_id == "+15555550119")).one()
        if claimed is None:
            break
        await asyncio.sleep(0.05)
    results = await pipeline.answer_saved(cid, "test-worker")
    assert rasa.turns == ["what do I owe"]  # the answers are never replayed to the check
    assert [p.text for p in results[1].sent + results[2].sent] == [
        "Sorry for the wait. For your safety I don't keep answers to security questions, so please send that "
        "answer again."] * 2
    _no_value_in_the_record(sqlite_engine, "+15555550119")


async def test_ID_2_a_bare_date_typed_out_of_turn_is_stored_as_its_label(sqlite_engine, sqlite_url):
    """Web widget: "talk to a person" ended the form, then "03/14/1979". No question waits, but the NLU reads a
    bare date as identity details and the identity form starts with it (actions/verification.py _volunteered), so
    it is an answer: stored as "[date of birth]", Rasa's copy rewritten after the turn. A sentence around an adult's
    date is masked in place, its words kept.
    Mutation tried: `stored_form` ignoring `unverified` -> "03/14/1979" stored and shown as typed: this fails."""
    rasa = StandInRasa()
    pipeline = Pipeline(sqlite_engine, rasa=rasa, settings=Settings(database_url=sqlite_url))
    for text in ("talk to a person", "03/14/1979", "hi, 03/14/1979 is me"):
        await pipeline.handle("web", "widget-out-of-turn", text)
    assert [m.text for m in _inbound(sqlite_engine, "widget-out-of-turn")] == [
        "talk to a person", "[date of birth]", "hi, [date of birth] is me"]
    assert rasa.turns[1] == "03/14/1979"
    assert [text for _, text in rasa.rewrites] == ["[date of birth]", "hi, [date of birth] is me"]
    _no_value_in_the_record(sqlite_engine, "widget-out-of-turn")


async def test_ID_2_answers_typed_after_a_wrong_person_mark_are_stored_as_labels(sqlite_engine, sqlite_url):
    """ID-4: after a wrong-person mark no check starts (the verification, if any, was withdrawn), but a date and a
    last four typed then are still identity details of someone: kept as their labels, never shown in a bubble.
    Mutation tried: `stored_form` ignoring `unverified` -> both stored as typed: this fails."""
    with session_scope(sqlite_engine) as session:
        conversation = conversations.get_or_create(session, "web", "widget-wrong-person")
        conversation.verified_at = None  # as sensitive_requests._withdraw_verification leaves it
        conversation.last_activity_at = datetime.now(timezone.utc)
    rasa = StandInRasa()
    pipeline = Pipeline(sqlite_engine, rasa=rasa, settings=Settings(database_url=sqlite_url))
    for text in ("03/14/1979", "1234"):
        await pipeline.handle("web", "widget-wrong-person", text)
    assert [(m.text, m.rule_ids) for m in _inbound(sqlite_engine, "widget-wrong-person")] == [
        ("[date of birth]", ["ID-2"]), ("[SSN last four]", ["ID-2"])]
    _no_value_in_the_record(sqlite_engine, "widget-wrong-person")


async def test_ID_2_after_verification_a_bare_figure_is_no_identity_answer(sqlite_engine, sqlite_url):
    """Once verified the form never runs (a figure then is a plan's amount, TONE-2 reads it from the record): the
    rule is for a conversation not verified. Mutation tried: `unverified=True` always -> "1500" stored as
    "[SSN last four]": this fails."""
    with session_scope(sqlite_engine) as session:
        conversation = conversations.get_or_create(session, "web", "widget-verified")
        conversation.verified_at = conversation.last_activity_at = datetime.now(timezone.utc)
    pipeline = Pipeline(sqlite_engine, rasa=StandInRasa(), settings=Settings(database_url=sqlite_url))
    await pipeline.handle("web", "widget-verified", "1500")
    assert [m.text for m in _inbound(sqlite_engine, "widget-verified")] == ["1500"]

