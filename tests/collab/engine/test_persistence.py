"""RoomLog, the durable log of one room, on its own: batches, authors, retries, claims, compaction."""

from __future__ import annotations

import asyncio

import pytest

from collab.engine.interfaces import RoomConfig
from collab.engine.persistence import OutboxBytes, RoomLog, coalesce_by_author
from tests.collab.engine.fakes import MemoryStore
from tests.collab.engine.test_room import eventually, text_of, text_update

CONFIG = RoomConfig(flush_interval=0.01, compact_threshold=3)


class FlakyStore(MemoryStore):
    def __init__(self, failures: int) -> None:
        super().__init__()
        self.failures = failures

    async def append(
        self, key: str, records: list[tuple[bytes, int | None]], claims: list[tuple[int, int]] | None = None
    ) -> None:
        if self.failures > 0:
            self.failures -= 1
            raise ConnectionError("database unavailable")
        await super().append(key, records, claims)


def test_a_batch_becomes_one_row_per_author() -> None:
    first, second = text_update("a", client_id=1), text_update("b", client_id=2)
    third = text_update("c", client_id=1, base=first)
    rows = coalesce_by_author([(first, 7), (second, 8), (third, 7)])
    assert [author for _, author in rows] == [7, 8]
    assert text_of(rows[0][0]) == "ac"


async def test_updates_queued_within_one_interval_are_written_in_one_append() -> None:
    store = MemoryStore()
    flushed: list[int] = []
    outbox = OutboxBytes()
    log = RoomLog("doc:p", store, CONFIG, on_flushed=flushed.append, outbox=outbox)
    first = text_update("a", client_id=1)
    log.queue(first, 7, 1, [(1, 7)])
    log.queue(text_update("b", client_id=1, base=first), 7, 2)
    await eventually(lambda: store.appends == 1)
    assert len(store.rows) == 1 and text_of(store.state()) == "ab"
    assert store.owners == {1: 7}
    assert flushed == [2]
    assert not log.pending and outbox.total == 0


async def test_a_failed_write_keeps_the_batch_and_its_claims_and_retries() -> None:
    store = FlakyStore(failures=2)
    log = RoomLog("doc:p", store, CONFIG, on_flushed=lambda _: None)
    log.queue(text_update("kept", client_id=3), 9, None, [(3, 9)])
    await eventually(lambda: store.appends == 1, within=5)
    assert text_of(store.state()) == "kept" and store.owners == {3: 9}


async def test_compaction_is_asked_for_past_the_threshold() -> None:
    store = MemoryStore()
    log = RoomLog("doc:p", store, CONFIG, on_flushed=lambda _: None)
    for index in range(3):
        log.queue(text_update(str(index), client_id=10 + index), 10 + index, None)
        await log.flush()
    await eventually(lambda: store.compactions == 1)
    assert log.rows_since_snapshot == 0


async def test_closing_while_the_database_is_down_gives_up_and_says_so(
    caplog: pytest.LogCaptureFixture,
) -> None:
    outbox = OutboxBytes()
    log = RoomLog("doc:p", FlakyStore(failures=99), CONFIG, on_flushed=lambda _: None, outbox=outbox)
    log.queue(text_update("lost", client_id=4), 1, None)
    assert outbox.total > 0
    assert await log.close() is False
    assert outbox.total == 0  # the worker's bound no longer counts it
    assert "unwritten" in caplog.text
    await asyncio.sleep(CONFIG.flush_interval * 3)
    assert log._flush_task is None  # no retry timer is left running
