"""Messages saved while no Rasa answered (bot/messaging/saved.py): one worker at a time answers a conversation's saved
messages, in order, and what must not be answered by the dialogue (after a STOP, too old) goes to a person.

The claim is checked on SQLite and PostgreSQL (the `engine` fixture); the gateway's side runs with Rasa at a closed
port, as in tests/test_gateway_rest.py. Answers from a real Rasa: tests/integration/test_saved_messages.py."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from datetime import datetime, timedelta, timezone

from fastapi.testclient import TestClient
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from bot import conversations
from bot.config import Settings
from bot.db import get_engine, session_scope
from bot.db.models import Conversation, Handoff, Message, SavedMessage
from bot.gateway.app import create_app
from bot.gateway.pipeline import Pipeline
from bot.gateway.rasa_client import RasaClient
from bot.messaging import saved

NOW = datetime(2026, 12, 7, 15, 0, tzinfo=timezone.utc)


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _saved_conversation(session: Session, texts: list[str], at: datetime = NOW) -> str:
    conversation = conversations.get_or_create(session, "sms", "+15555550188")
    for text in texts:
        message = conversations.record_message(session, conversation, direction="in", sender_role="debtor", text=text,
                                               status=saved.UNPROCESSED, at=at)
        saved.save(session, message.id, conversation.id, now=at)
    return conversation.id


def test_a_second_worker_cannot_claim_a_conversation_until_the_first_lets_go_or_its_lease_runs_out(engine):
    """Mutation: the claimed_until condition dropped from saved.claim's WHERE -> the second worker claims too: fails."""
    with session_scope(engine) as session:
        cid = _saved_conversation(session, ["hi"])
    with session_scope(engine) as session:
        assert saved.claim(session, cid, "worker-a", NOW)
    with session_scope(engine) as session:
        assert not saved.claim(session, cid, "worker-b", NOW + timedelta(seconds=10))
        assert saved.claim(session, cid, "worker-a", NOW + timedelta(seconds=10))  # renewed by its holder
    with session_scope(engine) as session:  # worker-a died: its lease runs out, then another worker takes over
        assert saved.claim(session, cid, "worker-b", NOW + timedelta(seconds=11 + saved.CLAIM_SECONDS))
    with session_scope(engine) as session:
        saved.release(session, cid, "worker-a")  # too late: no longer its claim, nothing changes
        assert not saved.claim(session, cid, "worker-c", NOW + timedelta(seconds=12 + saved.CLAIM_SECONDS))
        saved.release(session, cid, "worker-b")
    with session_scope(engine) as session:
        assert saved.claim(session, cid, "worker-c", NOW + timedelta(seconds=13 + saved.CLAIM_SECONDS))


def test_two_workers_racing_for_one_conversation_only_one_gets_it(db_url):
    """Two transactions at once (two gateway workers or schedulers): the second UPDATE waits for the first's lock
    (PostgreSQL's row lock, SQLite's database lock) and then finds the claim taken.
    Mutation: the claimed_until condition dropped from saved.claim's WHERE -> both claim: fails."""
    engine = get_engine(db_url)
    with session_scope(engine) as session:
        cid = _saved_conversation(session, ["hi"])
    second: list[bool] = []
    first = Session(engine)
    try:
        assert saved.claim(first, cid, "worker-a", NOW)  # not committed yet

        def race() -> None:
            with session_scope(engine) as session:
                second.append(saved.claim(session, cid, "worker-b", NOW))

        thread = threading.Thread(target=race)
        thread.start()
        time.sleep(0.5)  # the second worker is now waiting on the first's lock
        first.commit()
        thread.join(timeout=30)
    finally:
        first.close()
    assert second == [False]


def test_saved_messages_come_back_in_the_order_they_were_written_and_are_counted(engine):
    """Mutation: in_order's order_by reversed (message_id.desc()) -> fails."""
    with session_scope(engine) as session:
        cid = _saved_conversation(session, ["first", "second", "third"])
        other = conversations.get_or_create(session, "web", "widget-1")
        message = conversations.record_message(session, other, direction="in", sender_role="debtor", text="later",
                                               status=saved.UNPROCESSED)
        saved.save(session, message.id, other.id)
        saved.save(session, message.id, other.id)  # saving twice keeps one row
    with session_scope(engine) as session:
        assert [m.text for m in saved.in_order(session, cid)] == ["first", "second", "third"]
        assert saved.waiting_count(session) == 4
        assert saved.waiting_conversations(session) == [cid, other.id]  # the longest waiting first


def _gateway(url: str) -> TestClient:
    settings = Settings(database_url=url, rasa_url=f"http://127.0.0.1:{_closed_port()}", mode="embedded")
    return TestClient(create_app(settings), client=("127.0.0.1", 50000))


def _answer_saved(url: str, conversation_id: str) -> list:
    """One worker's pass over the conversation, Rasa still at a closed port."""
    settings = Settings(database_url=url, rasa_url=f"http://127.0.0.1:{_closed_port()}", mode="embedded")

    async def run() -> list:
        rasa = RasaClient(settings.rasa_instances)
        try:
            return await Pipeline(get_engine(url), rasa, settings).answer_saved(conversation_id, "worker-a")
        finally:
            await rasa.close()

    return asyncio.run(run())


def _conversation(engine, sender: str) -> tuple[str, list[Message]]:
    with session_scope(engine) as session:
        conversation = session.scalars(select(Conversation).where(Conversation.external_id == sender)).one()
        messages = session.scalars(select(Message).where(Message.conversation_id == conversation.id)
                                   .order_by(Message.id)).all()
        session.expunge_all()
        return conversation.id, messages


def test_while_rasa_is_still_down_a_saved_message_stays_saved_and_nothing_more_is_said(sqlite_engine, sqlite_url):
    """The debtor heard once that the message is kept; a retry that fails says nothing again. The operator sees it
    wait on /metrics.
    Mutation: `if saved: raise` removed from Pipeline._turn -> a second "trouble" reply is stored: fails.
    Mutation: ops_routes' gauge given value=0 instead of saved.waiting_count -> fails."""
    with _gateway(sqlite_url) as client:
        client.post("/webhooks/rest/webhook", json={"sender": "rest-1", "message": "what do I owe?"})
        assert "settle_saved_messages_waiting 1.0" in client.get("/metrics").text.splitlines()
    cid, before = _conversation(sqlite_engine, "rest-1")
    assert _answer_saved(sqlite_url, cid) == []
    _, after = _conversation(sqlite_engine, "rest-1")
    assert len(after) == len(before) == 2 and after[0].status == "unprocessed"
    with session_scope(sqlite_engine) as session:
        assert saved.waiting_count(session) == 1
        assert session.get(Conversation, cid).saved_claimed_by is None  # let go for the next run


def test_OPT_3_a_STOP_received_meanwhile_stops_the_queued_answer_and_a_person_reads_the_message(
        sqlite_engine, sqlite_url):
    """A message saved while Rasa was down, then STOP (answered at once by the gate): the saved message gets no
    answer from the dialogue; it goes to the agent queue, unanswered, with the rule.
    Mutation: the opt-out check removed from saved.why_not_answered -> it goes to Rasa (down here), stays saved and
    no handoff is made: fails. Mutation: hand_to_person's `before +` dropped -> the handoff names only the second
    message: fails."""
    with _gateway(sqlite_url) as client:
        client.post("/webhooks/rest/webhook", json={"sender": "rest-2", "message": "I can't pay this month"})
        client.post("/webhooks/rest/webhook", json={"sender": "rest-2", "message": "I want to dispute it"})
        stop = client.post("/webhooks/rest/webhook", json={"sender": "rest-2", "message": "STOP"}).json()
    assert len(stop) == 1  # OPT-3: the one confirmation
    cid, before = _conversation(sqlite_engine, "rest-2")
    results = _answer_saved(sqlite_url, cid)
    assert [r.replies for r in results] == [[], []]  # nothing said
    _, after = _conversation(sqlite_engine, "rest-2")
    assert [m.id for m in after] == [m.id for m in before]  # no new message in the conversation
    first, second = (m for m in after if m.direction == "in" and m.text != "STOP")
    assert (first.status, first.rule_ids, second.status) == (saved.UNANSWERED, ["OPT-3"], saved.UNANSWERED)
    with session_scope(sqlite_engine) as session:
        handoff = session.scalars(select(Handoff).where(Handoff.conversation_id == cid)).one()
        assert (handoff.reason, handoff.status, handoff.details["saved_messages"]) == (
            saved.HANDOFF_REASON, "waiting", [first.id, second.id])  # one handoff: the person sees both
        assert saved.waiting_count(session) == 0


def test_a_saved_message_older_than_the_session_idle_time_goes_to_a_person_not_a_stale_answer(
        sqlite_engine, sqlite_url):
    """Mutation: the age check removed from saved.why_not_answered -> it goes to Rasa (down here) and stays saved:
    fails."""
    with _gateway(sqlite_url) as client:
        client.post("/webhooks/rest/webhook", json={"sender": "rest-3", "message": "set up a payment plan"})
    cid, before = _conversation(sqlite_engine, "rest-3")
    with session_scope(sqlite_engine) as session:  # written two hours ago (the idle time is 60 minutes)
        session.execute(update(Message).where(Message.id == before[0].id)
                        .values(created_at=datetime.now(timezone.utc) - timedelta(hours=2)))
    results = _answer_saved(sqlite_url, cid)
    assert [r.replies for r in results] == [[]]
    _, after = _conversation(sqlite_engine, "rest-3")
    assert len(after) == len(before) and after[0].status == saved.UNANSWERED
    with session_scope(sqlite_engine) as session:
        handoff = session.scalars(select(Handoff).where(Handoff.conversation_id == cid)).one()
        assert handoff.details["why"] == saved.TOO_OLD
        assert session.scalars(select(SavedMessage)).all() == []


def test_the_answer_saved_job_with_no_rasa_ready_tries_nothing_and_its_run_is_recorded_failed(
        sqlite_engine, sqlite_url, monkeypatch, capsys):
    """What the scheduler runs every minute: with messages waiting and no Rasa ready it exits 1, says how many wait,
    and the run shows on /metrics as failed (settle_job_runs_total); the messages stay saved. With nothing saved it
    succeeds without asking Rasa.
    Mutation: the readiness check removed from answer_waiting -> exit 0: this test fails."""
    from bot.__main__ import main
    from bot.db.models import JobRun

    monkeypatch.setenv("DATABASE_URL", sqlite_url)
    monkeypatch.setenv("RASA_URL", f"http://127.0.0.1:{_closed_port()}")
    monkeypatch.delenv("RASA_URLS", raising=False)
    assert main(["answer-saved"]) == 0
    with session_scope(sqlite_engine) as session:
        _saved_conversation(session, ["what do I owe?"], at=datetime.now(timezone.utc))
    assert main(["answer-saved"]) == 1
    assert "1 saved message(s) wait" in capsys.readouterr().out
    with session_scope(sqlite_engine) as session:
        runs = session.scalars(select(JobRun).where(JobRun.job == "answer-saved").order_by(JobRun.id)).all()
        assert [r.outcome for r in runs] == ["ok", "failed"]
        assert saved.waiting_count(session) == 1


def test_ID_2_a_saved_answer_to_a_security_question_is_asked_again_not_sent_to_rasa_as_its_label(
        sqlite_engine, sqlite_url):
    """An answer to an identity question is stored as what it is ("[date of birth]"), never its value, so it cannot be
    answered later: Rasa would read the label as a wrong answer (ID-3 counts it). The debtor is asked to send it again.
    Mutation: the identity branch removed from Pipeline._next_saved -> it goes to Rasa (down here) and stays saved,
    with no reply: this test fails."""
    with session_scope(sqlite_engine) as session:
        conversation = conversations.get_or_create(session, "web", "widget-9")
        message = conversations.record_message(session, conversation, direction="in", sender_role="debtor",
                                               text="[date of birth]", status=saved.UNPROCESSED)
        message.rule_ids = ["ID-2"]
        saved.save(session, message.id, conversation.id)
        cid = conversation.id
    results = _answer_saved(sqlite_url, cid)
    assert [p.text for r in results for p in r.sent] == [
        "Sorry for the wait. For your safety I don't keep answers to security questions, so please send that answer "
        "again."]
    with session_scope(sqlite_engine) as session:
        assert session.get(Message, message.id).status == "processed" and saved.waiting_count(session) == 0


def test_a_saved_message_in_a_conversation_a_person_took_meanwhile_is_left_to_them_and_the_bot_says_nothing(
        sqlite_engine, sqlite_url):
    """HO-1: once an agent owns the conversation, the bot does not answer what was saved; the agent reads it in the
    transcript, and it no longer waits.
    Mutation: the owner check removed from Pipeline._next_saved -> it goes to Rasa (down here) and stays saved:
    fails."""
    from bot import handoff
    from bot.agents import queue, users

    with _gateway(sqlite_url) as client:
        client.post("/webhooks/rest/webhook", json={"sender": "rest-4", "message": "can I pay in parts?"})
    cid, before = _conversation(sqlite_engine, "rest-4")
    with session_scope(sqlite_engine) as session:
        ana = users.create_user(session, "ana", "a long enough password", "agent")
        queue.claim(session, handoff.request(session, cid, "request_human").id, ana)
    results = _answer_saved(sqlite_url, cid)
    assert [r.replies for r in results] == [[]]
    _, after = _conversation(sqlite_engine, "rest-4")
    assert len(after) == len(before) and after[0].status == "processed"
    with session_scope(sqlite_engine) as session:
        assert saved.waiting_count(session) == 0
