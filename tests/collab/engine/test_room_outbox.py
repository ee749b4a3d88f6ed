"""The outbox while the database is down: bounded, refused when full, never dropped on unload."""

from __future__ import annotations

import dataclasses

from channels.layers import InMemoryChannelLayer

from collab.engine import protocol as p
from collab.engine.registry import RoomRegistry
from collab.engine.room import Room
from collab.realtime.close_codes import CloseCode
from tests.collab.engine.fakes import MemoryStore, RecordingPeer
from tests.collab.engine.test_room import FAST, eventually, text_of, text_update


class DownStore(MemoryStore):
    """A database that refuses writes until `up` is set."""

    def __init__(self) -> None:
        super().__init__()
        self.up = False
        self.failed = 0

    async def append(
        self, key: str, records: list[tuple[bytes, int | None]], claims: list[tuple[int, int]] | None = None
    ) -> None:
        if not self.up:
            self.failed += 1
            raise ConnectionError("database unavailable")
        await super().append(key, records, claims)


async def test_updates_wait_in_the_outbox_and_are_written_when_the_database_returns() -> None:
    store = DownStore()
    room = Room("doc:o1", "doc.o1", store, InMemoryChannelLayer(), FAST)
    await room.start()
    alice = RecordingPeer(1)
    await room.join(alice)
    for index in range(5):
        await room.receive_frame(alice, p.encode_update(text_update(str(index), client_id=21 + index)))
    await eventually(lambda: store.failed >= 2)
    assert room.log.worker_outbox.total > 0
    failures = store.failed
    await eventually(lambda: store.failed >= failures + 1, within=5)  # retries, backing off
    store.up = True
    await eventually(lambda: store.appends >= 1, within=5)
    assert text_of(store.state()) == text_of(room)
    await eventually(lambda: room.log.worker_outbox.total == 0)
    await room.stop()


async def test_a_full_outbox_refuses_new_writes_with_4507_and_applies_nothing() -> None:
    store = DownStore()
    config = dataclasses.replace(FAST, max_outbox_bytes=200)
    room = Room("doc:o2", "doc.o2", store, InMemoryChannelLayer(), config)
    await room.start()
    writer, reader = RecordingPeer(1), RecordingPeer(2)
    await room.join(writer)
    await room.join(reader)
    await room.receive_frame(writer, p.encode_update(text_update("x" * 300, client_id=22)))
    before = text_of(room)
    late = RecordingPeer(3)
    await room.join(late)
    await room.receive_frame(late, p.encode_update(text_update("refused", client_id=23)))
    assert late.refused is not None and late.refused[0] == CloseCode.OUTBOX_FULL
    assert text_of(room) == before
    store.up = True
    await eventually(lambda: room.log.worker_outbox.total == 0, within=5)
    await room.stop()


async def test_an_idle_room_with_unwritten_updates_stays_loaded_until_they_are_written() -> None:
    store = DownStore()
    registry = RoomRegistry(InMemoryChannelLayer(), FAST, grace_seconds=0.05)
    room = await registry.acquire("doc:o3", "doc.o3", store)
    alice = RecordingPeer(1)
    await room.join(alice)
    await room.receive_frame(alice, p.encode_update(text_update("keep me", client_id=24)))
    await room.leave(alice)
    registry.release(room)
    await eventually(lambda: store.failed >= 3, within=5)
    assert registry.rooms.get("doc:o3") is room  # not unloaded: that would drop "keep me"
    store.up = True
    await eventually(lambda: "doc:o3" not in registry.rooms and not registry._unloads, within=8)
    assert text_of(store.state()) == "keep me"
    await registry.close_all()
