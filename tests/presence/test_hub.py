"""The presence hub over the real Redis store and layer: two hubs stand for two workers."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
import redis.asyncio

from presence.hub import PresenceConfig, PresenceHub
from presence.store import AWAY, ONLINE, Connection, MemoryPresenceStore, Person, RedisPresenceStore
from tests.collab.engine.test_room import eventually

FAST = PresenceConfig(heartbeat=0.2, ttl=1.0, away_after=60.0, sweep=0.1, touch_every=0.0)


class Clock:
    """Real time plus an offset the test can move forward (for "away")."""

    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        import time

        return time.time() + self.offset


class Watcher:
    def __init__(self) -> None:
        self.seen: list[list[dict[str, Any]]] = []

    async def __call__(self, here: list[Person]) -> None:
        self.seen.append([person.as_json() for person in here])

    @property
    def last(self) -> list[dict[str, Any]]:
        return self.seen[-1] if self.seen else []


@pytest.fixture
async def redis_store(redis_url: str) -> AsyncIterator[RedisPresenceStore]:
    client = redis.asyncio.Redis.from_url(redis_url)
    prefix = f"collab-test-{uuid.uuid4().hex[:10]}"
    yield RedisPresenceStore(client, prefix, FAST.ttl)
    keys = [key async for key in client.scan_iter(f"{prefix}:*")]
    if keys:
        await client.delete(*keys)
    await client.aclose()


def conn(user_id: int, name: str, obj: str | None = "chat.1") -> Connection:
    return Connection(uuid.uuid4().hex, user_id, name, obj)


async def test_two_workers_see_each_others_people_and_leaves(redis_store: Any, redis_layer: Any) -> None:
    first, second = PresenceHub(redis_store, redis_layer, FAST), PresenceHub(redis_store, redis_layer, FAST)
    alice_sees, bob_sees = Watcher(), Watcher()
    alice, bob = conn(1, "alice"), conn(2, "bob")
    await first.join(alice, alice_sees)
    await second.join(bob, bob_sees)
    both = [{"user": "alice", "status": ONLINE}, {"user": "bob", "status": ONLINE}]
    await eventually(lambda: alice_sees.last == both and bob_sees.last == both)
    await second.leave(bob)
    await eventually(lambda: alice_sees.last == [{"user": "alice", "status": ONLINE}])
    # A clean leave is immediate for "who is online", not after the TTL.
    assert [p.username for p in await first.online()] == ["alice"]
    await first.close()
    await second.close()


async def test_a_crashed_workers_people_vanish_within_the_ttl(redis_store: Any, redis_layer: Any) -> None:
    survivor = PresenceHub(redis_store, redis_layer, FAST)
    doomed = PresenceHub(redis_store, redis_layer, FAST)
    carol_sees = Watcher()
    await survivor.join(conn(3, "carol"), carol_sees)
    await doomed.join(conn(4, "dave"), Watcher())
    await eventually(lambda: [p["user"] for p in carol_sees.last] == ["carol", "dave"])
    await doomed.close()  # no leave, no more heartbeats: what kill -9 looks like to Redis
    started = asyncio.get_running_loop().time()
    await eventually(lambda: [p["user"] for p in carol_sees.last] == ["carol"], within=FAST.ttl + 2)
    assert asyncio.get_running_loop().time() - started <= FAST.ttl + FAST.sweep + 1.0
    assert {p.username for p in await survivor.online()} == {"carol"}
    await survivor.close()


async def test_heartbeats_keep_a_quiet_connection_alive(redis_store: Any, redis_layer: Any) -> None:
    hub = PresenceHub(redis_store, redis_layer, FAST)
    erin_sees = Watcher()
    await hub.join(conn(5, "erin"), erin_sees)
    await asyncio.sleep(FAST.ttl * 3)
    assert erin_sees.last == [{"user": "erin", "status": ONLINE}]
    await hub.close()


async def test_idle_users_turn_away_and_back(redis_store: Any, redis_layer: Any) -> None:
    clock = Clock()
    config = PresenceConfig(heartbeat=0.2, ttl=120.0, away_after=30.0, sweep=0.1, touch_every=0.0)
    hub = PresenceHub(redis_store, redis_layer, config, clock=clock)
    frank_sees = Watcher()
    await hub.join(conn(6, "frank"), frank_sees)
    await eventually(lambda: frank_sees.last == [{"user": "frank", "status": ONLINE}])
    clock.offset = 31.0  # half a minute without doing anything
    await eventually(lambda: frank_sees.last == [{"user": "frank", "status": AWAY}])
    await hub.activity(6)
    await eventually(lambda: frank_sees.last == [{"user": "frank", "status": ONLINE}])
    await hub.close()


async def test_two_tabs_are_one_person_and_the_last_tab_closing_makes_them_offline(
    redis_store: Any, redis_layer: Any
) -> None:
    hub = PresenceHub(redis_store, redis_layer, FAST)
    tab1, tab2, inbox = conn(7, "gina"), conn(7, "gina"), conn(7, "gina", obj=None)
    seen = Watcher()
    await hub.join(tab1, seen)
    await hub.join(tab2, Watcher())
    await hub.join(inbox)
    assert seen.last == [{"user": "gina", "status": ONLINE}]
    await hub.leave(tab1)
    await hub.leave(tab2)
    assert [p.username for p in await hub.here("chat.1")] == []
    assert [p.username for p in await hub.online()] == ["gina"]  # the inbox tab is still open
    await hub.leave(inbox)
    assert await hub.online() == []
    await hub.close()


async def test_a_second_tab_gets_the_current_list_at_once(redis_store: Any, redis_layer: Any) -> None:
    hub = PresenceHub(redis_store, redis_layer, FAST)
    await hub.join(conn(8, "hank"), Watcher())
    late = Watcher()
    await hub.join(conn(8, "hank"), late)
    assert late.last == [{"user": "hank", "status": ONLINE}]
    await hub.close()


async def test_memory_store_expires_and_reports_like_redis() -> None:
    from channels.layers import InMemoryChannelLayer

    clock = Clock()
    hub = PresenceHub(MemoryPresenceStore(), InMemoryChannelLayer(), FAST, clock=clock)
    ivy = conn(9, "ivy")
    await hub.join(ivy, Watcher())
    assert [(p.username, p.status) for p in await hub.here("chat.1")] == [("ivy", ONLINE)]
    await hub.close()  # stops renewing
    clock.offset = FAST.ttl + 1
    assert await hub.here("chat.1") == []
    assert await hub.online() == []


class FailingStore:
    """A store whose Redis is down: every call fails."""

    def __getattr__(self, name: str) -> Any:
        async def fail(*args: Any, **kwargs: Any) -> Any:
            raise ConnectionError("redis is down")

        return fail


class FlakyLayer:
    """A layer that cannot open a channel until `up` is set."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.up = False

    async def new_channel(self) -> str:
        if not self.up:
            raise ConnectionError("redis is down")
        channel: str = await self.inner.new_channel()
        return channel

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


async def test_a_store_outage_never_reaches_the_sockets(redis_layer: Any) -> None:
    hub = PresenceHub(FailingStore(), redis_layer, FAST)  # type: ignore[arg-type]
    jane = conn(10, "jane")
    await hub.join(jane, Watcher())
    await hub.activity(10)
    await hub.leave(jane)
    assert hub.connections == {} and hub.objects == {}
    await hub.close()


async def test_a_hub_that_could_not_start_tries_again(redis_store: Any, redis_layer: Any) -> None:
    layer = FlakyLayer(redis_layer)
    hub = PresenceHub(redis_store, layer, FAST)
    first = conn(11, "kim")
    await hub.join(first, Watcher())  # the layer is down: no error, and the socket is remembered
    layer.up = True
    kim_sees = Watcher()
    await hub.join(conn(11, "kim"), kim_sees)
    await eventually(lambda: kim_sees.last == [{"user": "kim", "status": ONLINE}])
    await hub.close()


async def test_a_socket_that_closed_without_leaving_stops_being_renewed(
    redis_store: Any, redis_layer: Any
) -> None:
    hub = PresenceHub(redis_store, redis_layer, FAST)
    open_sockets = {"leo": True}
    await hub.join(conn(12, "leo"), Watcher(), alive=lambda: open_sockets["leo"])
    open_sockets["leo"] = False  # its consumer died before calling leave
    await eventually(lambda: not hub.connections, within=FAST.heartbeat * 3)
    assert await hub.online() == []
    await hub.close()


async def test_activity_alone_does_not_resend_an_unchanged_list(redis_store: Any, redis_layer: Any) -> None:
    hub = PresenceHub(redis_store, redis_layer, FAST)
    mia_sees = Watcher()
    await hub.join(conn(13, "mia"), mia_sees)
    for _ in range(5):
        await hub.activity(13)
        await asyncio.sleep(FAST.sweep * 2)
    assert mia_sees.seen == [[{"user": "mia", "status": ONLINE}]]
    await hub.close()


async def test_an_outage_is_logged_once_not_per_socket_and_round(
    redis_layer: Any, caplog: pytest.LogCaptureFixture
) -> None:
    hub = PresenceHub(FailingStore(), redis_layer, FAST)  # type: ignore[arg-type]
    people = [conn(20 + index, f"p{index}") for index in range(10)]
    with caplog.at_level("WARNING", logger="presence.hub"):
        for person in people:
            await hub.join(person, Watcher())
        await asyncio.sleep(FAST.heartbeat * 4)  # several failing heartbeats and sweeps
    failures = [record for record in caplog.records if "failed" in record.getMessage()]
    assert len(failures) == 1, [record.getMessage() for record in failures]
    await hub.close()
