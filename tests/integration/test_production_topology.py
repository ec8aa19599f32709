"""The production topology under a crash: PostgreSQL (app database and Rasa's tracker store), Redis (Rasa's lock
store, the gateway's live hub and conversation locks), two Rasa instances with each conversation pinned to one,
a gateway with two workers, the action server and the Stripe stand-in, all real processes (bot/stack.py).

Eight debtors, each with an account of their own, verify and ask for their balance at the same time. Partway
through, the Rasa instance serving most of them is SIGKILLed in the middle of its turns, at the worst moment:
after their actions ran (the debtor verified, an audit event written) and before the tracker was saved (held back
by a table lock on Rasa's events for a moment). It is restarted while the conversations go on. Proven:
  * pinning: before the kill, every turn of a conversation was answered by one instance (the gateway names it in
    a response header), and after the restart the victim's conversations go back to it;
  * they continue: every conversation ends with its own balance, and no debtor ever hears the "having trouble"
    reply (the failover instance takes the cut turns, waiting out the dead instance's lock lease if need be);
  * nothing lost, nothing answered twice: every message is stored once, processed, and answered; no reply is
    stored or returned twice for one message; Rasa's tracker store holds each message's user event exactly once
    (the gateway retried cut turns with the stored message id, and Rasa replays an id it has seen);
  * no side effect twice: each debtor is verified once, although the cut turn ran again on the survivor (its
    action call was answered from the action server's journal, actions/journal.py).
"""

from __future__ import annotations

import json
import os
import secrets
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy import select

from bot.config import PROJECT_ROOT
from bot.db import get_engine, session_scope
from bot.db.migrate import upgrade
from bot.db.models import AuditEvent, Conversation, Message
from bot.gateway.pipeline import UNAVAILABLE_REPLY
from bot.gateway.rest_channel import RASA_INSTANCE_HEADER
from bot.money import format_cents
from bot.stack import Stack, StackConfig
from tests.conftest import PG_ADMIN_URL, add_debtor, free_port
from tests.integration.chat import letters

pytestmark = pytest.mark.integration

REDIS_URL = os.environ.get("SETTLE_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
DEBTORS = 8
DOB, SSN = "11/02/1985", "5678"
STORED = {DOB: "[date of birth]", SSN: "[SSN last four]"}
# The production topology runs in production mode: the REST channel needs this token (README "Security").
REST_TOKEN = secrets.token_urlsafe(24)
REST_AUTH = {"Authorization": f"Bearer {REST_TOKEN}"}


@dataclass
class Debtor:
    gateway_url: str
    account_ref: str
    balance_cents: int
    sender: str = field(default_factory=lambda: f"prod-{letters()}")
    said: list[str] = field(default_factory=list)
    turns: list[tuple[str, list[str], int | None]] = field(default_factory=list)  # (text, replies, instance)

    def say(self, text: str) -> list[str]:
        self.said.append(text)
        response = httpx.post(f"{self.gateway_url}/webhooks/rest/webhook", json={"sender": self.sender,
                              "message": text}, headers=REST_AUTH, timeout=90)
        assert response.status_code == 200, response.text
        replies = [r.get("text", "") for r in response.json()]
        header = response.headers.get(RASA_INSTANCE_HEADER)
        self.turns.append((text, replies, int(header) if header is not None else None))
        return replies

    def instances(self, first: int = 0, last: int | None = None) -> set[int | None]:
        return {instance for _, _, instance in self.turns[first:last]}


def _create_database(name: str) -> str:
    admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"


def _drop_database(name: str) -> None:
    admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="module")
def production_stack(trained_model, tmp_path_factory):
    """Throwaway PostgreSQL databases for this run (the app's migrated, the tracker store's made by Rasa)."""
    tag = secrets.token_hex(4)
    app_db, tracker_db = f"settle_prod_{tag}", f"settle_prod_tracker_{tag}"
    app_url = _create_database(app_db)
    tracker_url = _create_database(tracker_db).replace("postgresql+psycopg2://", "postgresql://")
    upgrade(app_url)
    config = StackConfig(
        database_url=app_url, tracker_store_url=tracker_url, model=trained_model,
        log_dir=tmp_path_factory.mktemp("production") / "log", gateway_port=free_port(),
        rasa_instances=2, rasa_ports=(free_port(), free_port()), gateway_workers=2, redis_url=REDIS_URL,
        action_port=free_port(), stripe_standin=True, stripe_port=free_port(), rest_api_token=REST_TOKEN,
    )
    stack = Stack(config)
    try:
        stack.start()
        yield stack
    finally:
        stack.stop()
        get_engine(app_url).dispose()
        _drop_database(app_db)
        _drop_database(tracker_db)


def _debtors(stack: Stack) -> list[Debtor]:
    made = []
    with session_scope(get_engine(stack.config.database_url)) as session:
        for i in range(DEBTORS):
            debtor = Debtor(stack.config.gateway_url, f"PT-{secrets.randbelow(10**8):08d}", 10_000 + 1_111 * i)
            add_debtor(session, account_ref=debtor.account_ref, first_name="Robin", last_name=f"Prod{letters()}",
                       dob="1985-11-02", ssn_last4=SSN, phone=None, creditor="Northwind Credit Union",
                       balance_cents=debtor.balance_cents)
            made.append(debtor)
    return made


def _all(pool: ThreadPoolExecutor, debtors: list[Debtor], text_for) -> list[list[str]]:  # noqa: ANN001
    return list(pool.map(lambda d: d.say(text_for(d)), debtors))


def test_conversations_survive_a_rasa_instance_killed_and_restarted(production_stack):
    stack = production_stack
    debtors = _debtors(stack)
    app_engine = get_engine(stack.config.database_url)
    tracker = sa.create_engine(stack.config.tracker_store_url)
    started = time.monotonic()
    try:
        with ThreadPoolExecutor(max_workers=DEBTORS) as pool:
            # 1. Three turns each, all at once: each conversation stays on its instance.
            _all(pool, debtors, lambda d: "what do I owe?")
            _all(pool, debtors, lambda d: DOB)
            _all(pool, debtors, lambda d: SSN)
            for debtor in debtors:
                assert len(debtor.instances()) == 1 and None not in debtor.instances(), debtor.turns
            homes = Counter(next(iter(d.instances())) for d in debtors)
            victim_index = homes.most_common(1)[0][0]  # the instance serving the most (at least 4 of 8)
            victim = stack.config.rasa_names[victim_index]
            on_victim = [d for d in debtors if d.instances() == {victim_index}]
            others = [d for d in debtors if d not in on_victim]

            # 2. The kill lands in the worst place, by construction: after a turn's actions ran (the debtor is
            # verified in the app database: a side effect) and before Rasa saved the tracker. Rasa's tracker
            # writes are held back by a table lock: an instance's first save blocks it whole (the SQL tracker
            # store is synchronous), with that turn verified and the others wherever they were. Then the victim
            # is SIGKILLed, and the lock is let go.
            with tracker.connect() as hold:
                transaction = hold.begin()
                hold.execute(sa.text("LOCK TABLE events IN EXCLUSIVE MODE"))  # reads go on, writes wait
                try:
                    account_turns = [pool.submit(lambda d: d.say(d.account_ref), d) for d in debtors]
                    _wait_until(lambda: any(_verified(app_engine, d) == 1 for d in on_victim), 60)
                    time.sleep(0.5)  # the victim is stuck at that turn's save; nothing else moves there
                    assert not any(turn.done() for turn in account_turns), "a turn finished without saving"
                    stack.kill(victim)
                    killed_at = time.monotonic()
                    time.sleep(0.5)  # the gateway sees the cut connections and sends those turns to the survivor
                finally:
                    transaction.rollback()
            for debtor, turn in zip(debtors, account_turns, strict=True):
                replies = turn.result()
                # Verified once, whatever ran twice: the survivor re-ran the cut turn, and its action call was
                # answered from the action server's journal instead of verifying (and auditing) again.
                assert format_cents(debtor.balance_cents) in " ".join(replies), debtor.turns
                assert _verified(app_engine, debtor) == 1
            for debtor in on_victim:
                assert debtor.turns[-1][2] != victim_index  # it is dead: the survivor answered

            # 3. While it restarts, the conversations go on, on the survivor.
            restart = pool.submit(stack.start_one, victim)
            during = _all(pool, debtors, lambda d: "how much is my balance")
            restart.result()
            # 4. Back up: once the gateway's probe has seen it (every ~1 s), its conversations move back to it.
            time.sleep(2.5)
            after = _all(pool, debtors, lambda d: "how much is my balance")
    finally:
        tracker.dispose()
    wall = time.monotonic() - started

    for debtor, replies in zip(debtors, during, strict=True):
        assert format_cents(debtor.balance_cents) in " ".join(replies), debtor.turns
    for debtor, replies in zip(debtors, after, strict=True):
        assert format_cents(debtor.balance_cents) in " ".join(replies), debtor.turns
        assert debtor.turns[-1][2] == next(iter(debtor.instances(0, 3))), debtor.turns  # home again
    for debtor in others:  # the survivor's own conversations never moved
        assert debtor.instances() == debtor.instances(0, 3)

    _assert_every_message_once_and_answered_once(stack, debtors)
    journal_hits = (stack.config.log_dir / "actions.log").read_text().count("its answer is replayed")
    print(f"\nproduction crash test: {len(on_victim)} conversations on the killed instance, {journal_hits} action "
          f"calls answered from the journal, {time.monotonic() - killed_at:.0f} s from the kill to the end, "
          f"{wall:.0f} s in all")


def _verified(engine: sa.Engine, debtor: Debtor) -> int:
    """How many times the app database says this debtor's conversation was verified (ID-2 audit events)."""
    with session_scope(engine) as session:
        conversation = session.scalars(select(Conversation).where(Conversation.external_id == debtor.sender)).one()
        return session.scalar(select(sa.func.count(AuditEvent.id)).where(
            AuditEvent.conversation_id == conversation.id, AuditEvent.kind == "identity_verified"))


def _wait_until(condition, seconds: float) -> None:  # noqa: ANN001
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def _assert_every_message_once_and_answered_once(stack: Stack, debtors: list[Debtor]) -> None:
    tracker = sa.create_engine(stack.config.tracker_store_url)
    try:
        with session_scope(get_engine(stack.config.database_url)) as session:
            for debtor in debtors:
                # Returned to the debtor: never the trouble reply, never one reply twice in one answer.
                for text, replies, _ in debtor.turns:
                    assert UNAVAILABLE_REPLY not in replies, (text, replies)
                    assert len(replies) == len(set(replies)), (text, replies)
                conversation = session.scalars(select(Conversation).where(
                    Conversation.external_id == debtor.sender)).one()
                messages = session.scalars(select(Message).where(Message.conversation_id == conversation.id)
                                           .order_by(Message.id)).all()
                inbound = [m for m in messages if m.direction == "in"]
                # Stored once each, in order, and processed (not "unprocessed": Rasa answered every one).
                # ID-2: the answers to the identity questions are stored as what they are, never their values.
                stored = {**STORED, debtor.account_ref: "[account number]"}
                assert [m.text for m in inbound] == [stored.get(t, t) for t in debtor.said]
                assert all(m.status == "processed" for m in inbound), [(m.text, m.status) for m in inbound]
                # Each has its replies, none stored twice, and they are what the debtor was sent.
                for index, message in enumerate(inbound):
                    following = inbound[index + 1].id if index + 1 < len(inbound) else None
                    replies = [m.text for m in messages if m.direction == "out" and m.status == "sent"
                               and m.id > message.id and (following is None or m.id < following)]
                    assert replies and len(replies) == len(set(replies)), (message.text, replies)
                    assert replies == debtor.turns[index][1]
                # Rasa's tracker store: each stored message is one user event, by its message id.
                with tracker.connect() as conn:
                    rows = conn.execute(sa.text("SELECT data FROM events WHERE sender_id = :s AND type_name = 'user'"),
                                        {"s": conversation.id}).scalars().all()
                ids = Counter(json.loads(row).get("message_id") for row in rows)
                assert ids == Counter(str(m.id) for m in inbound), ids
    finally:
        tracker.dispose()


def test_rasa_replays_a_message_id_it_has_already_handled(production_stack):
    """The retry contract itself, on one instance's own channel: the same message id twice is answered with the
    same replies and the same NLU reading, and the tracker gets one user event, not two."""
    stack = production_stack
    url = f"{stack.config.rasa_urls[0]}/webhooks/settle/webhook"
    sender = f"replay-{letters()}"
    body = {"sender": sender, "message": "hi", "metadata": {"channel": "rest"}, "message_id": "replay-1"}
    auth = {"Authorization": f"Bearer {stack.config.rasa_token}"}  # the channel answers only the gateway
    first = httpx.post(url, json=body, headers=auth, timeout=60).json()
    second = httpx.post(url, json=body, headers=auth, timeout=60).json()
    assert first["replayed"] is False and second["replayed"] is True
    assert [m["text"] for m in second["messages"]] == [m["text"] for m in first["messages"]] != []
    assert second["nlu"] == first["nlu"]
    tracker = sa.create_engine(stack.config.tracker_store_url)
    try:
        with tracker.connect() as conn:
            users = conn.execute(sa.text("SELECT count(*) FROM events WHERE sender_id = :s AND type_name = 'user'"),
                                 {"s": sender}).scalar()
    finally:
        tracker.dispose()
    assert users == 1
    # A new id is a new turn.
    third = httpx.post(url, json={**body, "message_id": "replay-2"}, headers=auth, timeout=60).json()
    assert third["replayed"] is False


def test_production_mode_rest_channel_needs_its_token_and_has_no_demo_phone(production_stack):
    """The production topology runs in production mode (README "Security"): the REST channel answers only with
    `Authorization: Bearer <REST_API_TOKEN>` (401 otherwise, on either worker), and there is no demo phone though
    no Twilio keys are set. Mutation tried: StackConfig.settle_mode always "embedded" -> the gateway answers the
    tokenless call from loopback with 200 and /phone with 200, this test fails."""
    gateway = production_stack.config.gateway_url
    sender = f"prod-noauth-{letters()}"
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": f"Basic {REST_TOKEN}"}):
        for _ in range(2):  # two calls: both workers, most likely
            response = httpx.post(f"{gateway}/webhooks/rest/webhook", json={"sender": sender, "message": "hi"},
                                  headers=headers, timeout=30)
            assert response.status_code == 401
    with session_scope(get_engine(production_stack.config.database_url)) as session:
        assert session.scalars(select(Conversation).where(Conversation.external_id == sender)).first() is None
    for path in ("/phone", "/phone/api/thread?number=%2B15555550101"):
        assert httpx.get(f"{gateway}{path}", timeout=30).status_code == 404
    assert httpx.post(f"{gateway}/phone/api/send", json={"number": "+15555550101", "text": "hi"},
                      headers={"X-Demo-Phone": "1"}, timeout=30).status_code == 404


def test_the_default_stack_is_still_one_rasa_named_rasa():
    """The embedded default is unchanged: one Rasa process called "rasa", the in-memory lock store, no Redis."""
    config = StackConfig(database_url="sqlite://", tracker_store_url="sqlite://", model=PROJECT_ROOT / "m",
                         log_dir=PROJECT_ROOT / "var" / "log")
    assert config.rasa_names == ["rasa"] and config.endpoints_file == "endpoints.yml"
    assert Stack(config)._env()["REDIS_URL"] == ""
    with pytest.raises(ValueError, match="redis_url"):
        StackConfig(database_url="sqlite://", tracker_store_url="sqlite://", model=PROJECT_ROOT / "m",
                    log_dir=PROJECT_ROOT / "var" / "log", rasa_instances=2)


def test_widget_tabs_on_any_worker_hear_the_reply_and_a_resend_is_answered_once(production_stack):
    """Six tabs of one widget conversation (their sockets spread over the two gateway workers; all on one has
    odds of 1 in 32): each hears the bot's reply, published by whichever worker processed the message (Redis
    hub); the token one worker issued is good on the other (shared widget secret). The same message sent from two
    tabs at once, as a resend after a reconnect would be, is stored and answered once (the conversation lock is
    in Redis, so the two workers' database dedupe cannot both miss)."""
    import asyncio

    import websockets

    stack = production_stack
    token = httpx.post(f"{stack.config.gateway_url}/widget/session", timeout=10).json()["token"]
    url = stack.config.gateway_url.replace("http://", "ws://") + f"/widget/ws?token={token}"

    async def frames_until(socket, predicate) -> list[dict]:  # noqa: ANN001
        seen = []
        while True:
            frame = json.loads(await asyncio.wait_for(socket.recv(), 60))
            seen.append(frame)
            if predicate(frame):
                return seen

    async def scenario() -> None:
        tabs = [await websockets.connect(url) for _ in range(6)]
        try:
            for tab in tabs:
                await frames_until(tab, lambda f: f["type"] == "history")
            await tabs[0].send(json.dumps({"type": "message", "text": "hi", "client_id": "c-hi"}))
            for tab in tabs:
                heard = await frames_until(tab, lambda f: f["type"] == "message" and f["role"] == "bot")
                assert "automated assistant" in heard[-1]["text"]
            twice = {"type": "message", "text": "what do I owe?", "client_id": "c-owe"}
            await asyncio.gather(tabs[1].send(json.dumps(twice)), tabs[2].send(json.dumps(twice)))
            for tab in tabs:
                await frames_until(tab, lambda f: f["type"] == "message" and f["role"] == "bot")
            await asyncio.sleep(1.0)  # let the second copy finish being recognised as a duplicate
        finally:
            for tab in tabs:
                await tab.close()

    asyncio.run(scenario())
    with session_scope(get_engine(stack.config.database_url)) as session:
        inbound = session.scalars(select(Message).join(Conversation).where(
            Conversation.channel == "web", Message.direction == "in").order_by(Message.id)).all()
        assert [m.text for m in inbound] == ["hi", "what do I owe?"]
        owe = inbound[1]
        replies = session.scalars(select(Message).where(Message.conversation_id == owe.conversation_id,
                                                        Message.direction == "out", Message.id > owe.id)).all()
        texts = [m.text for m in replies]
        assert texts and len(texts) == len(set(texts)), texts
