"""One load per document per worker, waiting joins, unload after the grace period."""

from __future__ import annotations

import asyncio

import pytest
from channels.layers import InMemoryChannelLayer

from collab.engine.registry import RoomRegistry
from tests.collab.engine.fakes import MemoryStore
from tests.collab.engine.test_room import FAST, eventually, text_update


class FailingOnceStore(MemoryStore):
    async def load(self, key: str) -> tuple[bytes, int]:
        if self.loads == 0:
            self.loads += 1
            raise ConnectionError("database unavailable")
        return await super().load(key)


async def test_concurrent_joins_share_one_load_and_never_see_a_half_loaded_room() -> None:
    gate = asyncio.Event()
    store = MemoryStore(text_update("stored", client_id=1), load_gate=gate)
    registry = RoomRegistry(InMemoryChannelLayer(), FAST, grace_seconds=0.1)
    joins = [asyncio.create_task(registry.acquire("doc:x", "doc.x", store)) for _ in range(5)]
    await asyncio.sleep(0.05)
    assert not any(join.done() for join in joins)  # all wait for the load
    gate.set()
    rooms = await asyncio.gather(*joins)
    assert store.loads == 1
    assert all(room is rooms[0] and room.ready for room in rooms)
    assert rooms[0].holds == 5
    await registry.close_all()


async def test_the_room_unloads_after_the_last_holder_and_the_grace_period() -> None:
    store = MemoryStore()
    registry = RoomRegistry(InMemoryChannelLayer(), FAST, grace_seconds=0.1)
    room = await registry.acquire("doc:x", "doc.x", store)
    registry.release(room)
    again = await registry.acquire("doc:x", "doc.x", store)  # within the grace period
    assert again is room and store.loads == 1
    registry.release(again)
    await eventually(lambda: "doc:x" not in registry.rooms and not registry._unloads)
    assert not room.ready
    fresh = await registry.acquire("doc:x", "doc.x", store)
    assert fresh is not room and store.loads == 2
    await registry.close_all()


async def test_a_failed_load_is_reported_to_every_waiter_and_retried_by_the_next_join() -> None:
    store = FailingOnceStore()
    registry = RoomRegistry(InMemoryChannelLayer(), FAST, grace_seconds=0.1)
    first = asyncio.create_task(registry.acquire("doc:x", "doc.x", store))
    second = asyncio.create_task(registry.acquire("doc:x", "doc.x", store))
    for join in (first, second):
        with pytest.raises(ConnectionError):
            await join
    assert "doc:x" not in registry.rooms
    room = await registry.acquire("doc:x", "doc.x", store)
    assert room.ready and store.loads == 2
    await registry.close_all()
