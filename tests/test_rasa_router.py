"""The gateway's consistent-hash ring over Rasa instances (bot/gateway/rasa_router.py) and the client's failover
(bot/gateway/rasa_client.py), without a Rasa: instances are stood in for by small HTTP servers on loopback that
answer, refuse connections (nothing listening), drop the connection without an answer (a process killed
mid-turn), or answer 500."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator

import pytest
from aiohttp import web

from bot.gateway.rasa_client import RasaClient, RasaUnavailable, answered_by
from bot.gateway.rasa_router import HashRing, RasaRouter

KEYS = [f"conversation-{i}" for i in range(20_000)]
A, B, C, D = (f"http://127.0.0.1:{5005 + i}" for i in range(4))


def test_a_key_maps_to_the_same_node_every_time_and_in_every_process():
    """Stable: md5, not Python's salted hash(), so two gateway workers agree on every conversation."""
    first, second = HashRing([A, B, C]), HashRing([C, A, B])  # the order nodes were added in does not matter
    assert all(first.node_for(k) == second.node_for(k) for k in KEYS[:2000])
    assert HashRing([A, B, C]).node_for("conversation-42") == first.node_for("conversation-42")


def test_keys_spread_evenly_across_nodes():
    """160 virtual nodes each: every node's share of 20,000 conversations is within 15% of an even split."""
    ring = HashRing([A, B, C])
    counts = Counter(ring.node_for(k) for k in KEYS)
    even = len(KEYS) / 3
    assert set(counts) == {A, B, C}
    assert all(abs(n - even) / even < 0.15 for n in counts.values()), counts


def test_adding_a_node_moves_only_the_keys_it_takes():
    """Consistent hashing: a key either stays where it was or moves to the new node, and the new node gets
    about its fair share (1/4), not a reshuffle."""
    before = HashRing([A, B, C])
    after = HashRing([A, B, C, D])
    moved = [k for k in KEYS if before.node_for(k) != after.node_for(k)]
    assert all(after.node_for(k) == D for k in moved)
    assert 0.18 < len(moved) / len(KEYS) < 0.32


def test_removing_a_node_moves_only_that_nodes_keys_and_spreads_them():
    """The removed node's keys go to the survivors (both of them, by its many points); nobody else moves."""
    full = HashRing([A, B, C])
    without_b = HashRing([A, B, C])
    without_b.remove(B)
    for key in KEYS:
        if full.node_for(key) != B:
            assert without_b.node_for(key) == full.node_for(key)
    orphans = Counter(without_b.node_for(k) for k in KEYS if full.node_for(k) == B)
    assert set(orphans) == {A, C} and min(orphans.values()) > 0.3 * sum(orphans.values())


def test_preference_is_every_node_once_starting_with_the_keys_node():
    ring = HashRing([A, B, C])
    for key in KEYS[:500]:
        order = ring.preference(key)
        assert sorted(order) == sorted([A, B, C]) and order[0] == ring.node_for(key)


def test_a_down_node_is_skipped_and_its_conversations_move_back_when_it_is_up():
    """Marking down does not change the ring: the same conversations come back to the instance after recovery,
    and the failover target is the next node on the ring (what removing it would have given)."""
    router = RasaRouter([A, B, C])
    pinned = {k: router.primary(k) for k in KEYS[:3000]}
    router.mark_down(A)
    for key, node in pinned.items():
        if node == A:
            assert router.primary(key) == router.ring.preference(key)[1]
        else:
            assert router.primary(key) == node
    assert router.candidates(KEYS[0])[-1] == A or pinned[KEYS[0]] != A  # a down node is still tried, last
    router.mark_up(A)
    assert {k: router.primary(k) for k in pinned} == pinned


# --- the client ----------------------------------------------------------------------------------------------------


class Instances:
    """Stand-ins for Rasa instances, one HTTP server each on a free loopback port: each is up, refusing, dying or
    answering 500 (`await set(url, state)`). `calls` are the turns and parses that reached an instance."""

    def __init__(self, count: int) -> None:
        self.count = count
        self.urls: list[str] = []
        self.state: dict[str, str] = {}
        self.calls: list[tuple[str, dict]] = []
        self._runner: web.AppRunner | None = None
        self._sites: dict[str, web.TCPSite | None] = {}

    async def start(self) -> Instances:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, handle_signals=False)
        await self._runner.setup()
        for _ in range(self.count):
            site = web.TCPSite(self._runner, "127.0.0.1", 0)
            await site.start()
            url = f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}"
            self.urls.append(url)
            self.state[url] = "up"
            self._sites[url] = site
        return self

    async def set(self, url: str, state: str) -> None:
        """refused: nothing listens on the port; any other state listens again."""
        site = self._sites[url]
        if state == "refused" and site is not None:
            await site.stop()
            self._sites[url] = None
        elif state != "refused" and site is None:
            port = int(url.rsplit(":", 1)[1])
            self._sites[url] = site = web.TCPSite(self._runner, "127.0.0.1", port, reuse_address=True)
            await site.start()
        self.state[url] = state

    async def set_all(self, state: str) -> None:
        for url in self.urls:
            await self.set(url, state)

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        url = f"http://127.0.0.1:{request.transport.get_extra_info('sockname')[1]}"
        state = self.state[url]
        if request.path != "/status":
            self.calls.append((url, await request.json()))
        if state == "dies":  # killed mid-turn: the connection drops without an answer (the probe's too)
            request.transport.close()
            raise asyncio.CancelledError
        if request.path == "/status":
            return web.json_response({"model_id": "m"})
        if state == "500":
            return web.json_response({}, status=500)
        return web.json_response({"messages": [{"text": f"from {url}"}],
                                  "nlu": {"intent": "greet", "confidence": 0.9}})

    def client(self, retry_seconds: float = 5.0) -> RasaClient:
        return RasaClient(list(self.urls), retry_seconds=retry_seconds, probe_interval=0.05)


@pytest.fixture
async def start() -> AsyncIterator:
    """`await start(n)`: n stand-in instances, stopped after the test."""
    started: list[Instances] = []

    async def make(count: int) -> Instances:
        found = await Instances(count).start()
        started.append(found)
        return found

    yield make
    for found in started:
        await found.stop()


async def test_a_turn_goes_to_the_conversations_instance_with_the_stored_message_id(start):
    instances = await start(2)
    client = instances.client()
    try:
        turn = await client.send("conv-1", "hi", {"channel": "rest"}, message_id="17")
        home = client.router.ring.node_for("conv-1")
        assert turn.replies == [{"text": f"from {home}"}] and turn.intent == "greet"
        assert instances.calls == [(home, {"sender": "conv-1", "message": "hi", "metadata": {"channel": "rest"},
                                           "message_id": "17"})]
        assert answered_by.get() == client.router.index(home)
    finally:
        await client.close()


@pytest.mark.parametrize("failure", ["refused", "dies", "500"])
async def test_a_failed_turn_is_retried_on_the_next_instance_with_the_same_message_id(start, failure):
    """Refused, dropped mid-turn (a killed Rasa) or 5xx: the same turn, same message id, on the next instance,
    whose replay check answers it once (rasa_extensions/settle_channel.py)."""
    instances = await start(3)
    client = instances.client()
    try:
        home = client.router.ring.node_for("conv-2")
        await instances.set(home, failure)
        turn = await client.send("conv-2", "hi", {}, message_id="42")
        second = client.router.ring.preference("conv-2")[1]
        assert turn.replies == [{"text": f"from {second}"}]
        reached = [(home, "42")] if failure != "refused" else []  # a refused turn never reached its instance
        assert [(url, body["message_id"]) for url, body in instances.calls] == reached + [(second, "42")]
        # A refused or dropped connection marks the instance down: the next turn goes straight to the failover.
        assert client.router.is_up(home) is (failure == "500")
    finally:
        await client.close()


async def test_without_a_message_id_only_a_refused_connection_fails_over(start):
    """A turn that may have run must not run twice: with no id to replay by, a dropped connection is final."""
    instances = await start(2)
    client = instances.client()
    try:
        home = client.router.ring.node_for("conv-3")
        await instances.set(home, "dies")
        with pytest.raises(RasaUnavailable):
            await client.send("conv-3", "hi", {})
        await instances.set(home, "refused")
        assert (await client.send("conv-3", "hi", {})).replies  # never reached the instance: safe to move
    finally:
        await client.close()


async def test_when_every_instance_refuses_the_caller_hears_at_once(start):
    """Nothing to fail over to: no waiting out the retry budget (the debtor gets the 'trouble' reply now)."""
    instances = await start(2)
    await instances.set_all("refused")
    client = instances.client(retry_seconds=30.0)
    try:
        started = asyncio.get_running_loop().time()
        with pytest.raises(RasaUnavailable):
            await client.send("conv-4", "hi", {}, message_id="1")
        assert asyncio.get_running_loop().time() - started < 1.0
    finally:
        await client.close()


async def test_failures_that_may_pass_are_retried_but_not_forever(start):
    """Two tries per instance at most: a turn that fails everywhere is given up in well under the budget."""
    instances = await start(2)
    await instances.set_all("500")
    client = instances.client(retry_seconds=30.0)
    try:
        started = asyncio.get_running_loop().time()
        with pytest.raises(RasaUnavailable):
            await client.send("conv-5", "hi", {}, message_id="1")
        assert len(instances.calls) == 4 and asyncio.get_running_loop().time() - started < 2.0
    finally:
        await client.close()


async def test_the_budget_bounds_the_retries(start):
    instances = await start(4)
    await instances.set_all("500")
    client = instances.client(retry_seconds=0.1)
    try:
        with pytest.raises(RasaUnavailable):
            await client.send("conv-5", "hi", {}, message_id="1")
        assert len(instances.calls) == 4  # one pass, then no time left for the backoff
    finally:
        await client.close()


async def test_the_probe_brings_a_recovered_instance_back_and_its_conversations_with_it(start):
    instances = await start(2)
    client = instances.client()
    try:
        home = client.router.ring.node_for("conv-6")
        await instances.set(home, "refused")
        await client.send("conv-6", "hi", {}, message_id="1")
        assert not client.router.is_up(home)
        await instances.set(home, "up")  # restarted, model loaded: /status answers with a model id
        for _ in range(100):
            if client.router.is_up(home):
                break
            await asyncio.sleep(0.02)
        assert client.router.is_up(home)
        turn = await client.send("conv-6", "again", {}, message_id="2")
        assert turn.replies == [{"text": f"from {home}"}]
    finally:
        await client.close()


async def test_parse_fails_over_too(start):
    """Agent-owned conversations are classified by /model/parse: any instance will do."""
    instances = await start(2)
    client = instances.client()
    try:
        home = client.router.ring.node_for("conv-7")
        await instances.set(home, "refused")
        parsed = await client.parse("stop texting me", "conv-7")
        assert parsed["messages"]  # the stand-in answers every POST alike
        assert [url for url, _ in instances.calls] == [client.router.ring.preference("conv-7")[1]]
    finally:
        await client.close()


async def test_one_instance_runs_no_probe(start):
    """The embedded default: nothing to fail over to, so no background probe either."""
    instances = await start(1)
    client = RasaClient(instances.urls[0])
    try:
        await client.send("conv-8", "hi", {}, message_id="1")
        assert client._probe is None
    finally:
        await client.close()
