"""Which Rasa instance serves a conversation: consistent hashing with virtual nodes, and failover.

Several Rasa instances share one tracker store (PostgreSQL) and one lock store (Redis), so any of them *can*
serve any conversation; pinning each conversation to one instance is what keeps them from serving it at once
(two instances on one conversation contend for its lock on every turn, and before rasa_extensions/lock_store.py
Rasa's own RedisLockStore could even let both in). The ring gives each instance many points (virtual nodes), so
the conversations spread evenly, and adding or removing an instance moves only the conversations that hash to
its points: every other conversation keeps its instance.

An instance that is down is skipped, not removed: its conversations go to the next instance clockwise on the
ring (a different one for each of its points, so the load of a dead instance spreads over the survivors), and
when it is marked up again they move back, because the ring itself never changed. Who marks it: the client
(bot/gateway/rasa_client.py) when a request is refused, and a health probe when /status answers again.
"""

from __future__ import annotations

import bisect
import hashlib
import threading
from collections.abc import Iterable, Sequence

DEFAULT_VNODES = 160  # points per instance: with 2-10 instances each one's share stays within a few % of even


def _point(key: str) -> int:
    # md5 for spread, not secrecy: fast, stable across processes and Python versions (unlike hash()).
    return int.from_bytes(hashlib.md5(key.encode(), usedforsecurity=False).digest()[:8], "big")


class HashRing:
    """A consistent-hash ring of named nodes, each placed at `vnodes` points."""

    def __init__(self, nodes: Iterable[str] = (), vnodes: int = DEFAULT_VNODES) -> None:
        if vnodes < 1:
            raise ValueError("vnodes must be at least 1")
        self.vnodes = vnodes
        self._points: list[int] = []
        self._owners: list[str] = []
        self._nodes: list[str] = []
        for node in nodes:
            self.add(node)

    @property
    def nodes(self) -> list[str]:
        return list(self._nodes)

    def add(self, node: str) -> None:
        if node in self._nodes:
            return
        self._nodes.append(node)
        for i in range(self.vnodes):
            point = _point(f"{node}#{i}")
            at = bisect.bisect_left(self._points, point)
            self._points.insert(at, point)
            self._owners.insert(at, node)

    def remove(self, node: str) -> None:
        if node not in self._nodes:
            return
        self._nodes.remove(node)
        kept = [(p, o) for p, o in zip(self._points, self._owners, strict=True) if o != node]
        self._points = [p for p, _ in kept]
        self._owners = [o for _, o in kept]

    def preference(self, key: str) -> list[str]:
        """Every node once, in the order met walking clockwise from the key's point: the first is the key's
        node, the second is where it goes if the first is down, and so on."""
        if not self._points:
            return []
        start = bisect.bisect_right(self._points, _point(key))
        order: list[str] = []
        for step in range(len(self._points)):
            owner = self._owners[(start + step) % len(self._points)]
            if owner not in order:
                order.append(owner)
                if len(order) == len(self._nodes):
                    break
        return order

    def node_for(self, key: str) -> str:
        preference = self.preference(key)
        if not preference:
            raise LookupError("the ring has no nodes")
        return preference[0]


class RasaRouter:
    """The ring of Rasa base URLs plus which of them are down right now. Thread-safe (the probe and requests
    may run on different threads in tests); the state is per gateway process, and each process learns it on its
    own from refused requests and its own probe, so no coordination between workers is needed."""

    def __init__(self, urls: Sequence[str], vnodes: int = DEFAULT_VNODES) -> None:
        if not urls:
            raise ValueError("at least one Rasa URL is needed")
        self.urls = [u.rstrip("/") for u in urls]
        if len(set(self.urls)) != len(self.urls):
            raise ValueError("the Rasa URLs must be distinct")
        self.ring = HashRing(self.urls, vnodes)
        self._down: set[str] = set()
        self._lock = threading.Lock()

    def candidates(self, conversation_id: str) -> list[str]:
        """The instances to try for this conversation, best first: the live ones in ring order, then the ones
        marked down (still worth a try when nothing else answers: the probe may not have seen them come back)."""
        order = self.ring.preference(conversation_id)
        with self._lock:
            down = set(self._down)
        return [u for u in order if u not in down] + [u for u in order if u in down]

    def primary(self, conversation_id: str) -> str:
        """The live instance serving this conversation now (its ring node unless that one is down)."""
        return self.candidates(conversation_id)[0]

    def mark_down(self, url: str) -> None:
        with self._lock:
            self._down.add(url)

    def mark_up(self, url: str) -> None:
        with self._lock:
            self._down.discard(url)

    def is_up(self, url: str) -> bool:
        with self._lock:
            return url not in self._down

    def down(self) -> set[str]:
        with self._lock:
            return set(self._down)

    def index(self, url: str) -> int:
        """The instance's position in the configured list (what a response header or a log names)."""
        return self.urls.index(url)
