"""The durable store behind document rooms: the services, run off the event loop.

None of it runs in Channels' one shared database thread: a log write waiting on a
row lock (held by a worker that lost its network mid-transaction, say) would hold
up every socket's authentication behind it. Loads run in the default executor,
log writes in the write pool, compactions in a thread of their own.

Appends from all rooms of a worker share one writer: whatever arrived while
the previous write was in flight, or within COLLAB_WRITE_GATHER_MS of the
oldest pending append, goes to the database in one transaction, so the number
of transactions does not grow with the number of open documents (with 50 open
documents, one transaction per room flush cost a third of a core in ORM and
driver work; gathered, a worker writes at most about 1 / gather times a second).
An accepted update is durable within the room's flush interval plus the gather
window plus one transaction.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from dataclasses import dataclass, field

from channels.db import database_sync_to_async

from collab.engine.client_ids import Claim
from collab.realtime.db_pool import in_write_pool
from documents import selectors, services

KEY_PREFIX = "doc:"


def room_key(document_id: uuid.UUID) -> str:
    return f"{KEY_PREFIX}{document_id}"


def _document_id(key: str) -> uuid.UUID:
    return uuid.UUID(key.removeprefix(KEY_PREFIX))


@dataclass
class _Writer:
    pending: dict[uuid.UUID, list[tuple[bytes, int | None]]] = field(default_factory=dict)
    claims: dict[uuid.UUID, list[Claim]] = field(default_factory=dict)
    waiters: list[asyncio.Future[None]] = field(default_factory=list)
    task: asyncio.Task[None] | None = None
    first_at: float = 0.0  # when the oldest pending append arrived (event-loop time)


class DocumentStore:
    """One per worker (the worker runtime's): its writer batches the appends of all rooms."""

    def __init__(self, gather_seconds: float = 0.0) -> None:
        self.gather_seconds = gather_seconds
        self._writer = _Writer()

    @classmethod
    def from_settings(cls) -> DocumentStore:
        from django.conf import settings

        return cls(settings.COLLAB_WRITE_GATHER_MS / 1000)

    async def load(self, key: str) -> tuple[bytes, int]:
        loaded: tuple[bytes, int] = await database_sync_to_async(
            selectors.stored_state_and_backlog, thread_sensitive=False
        )(_document_id(key))
        return loaded

    async def load_owners(self, key: str) -> dict[int, int]:
        owners: dict[int, int] = await database_sync_to_async(
            selectors.client_owners, thread_sensitive=False
        )(_document_id(key))
        return owners

    async def append(
        self, key: str, records: list[tuple[bytes, int | None]], claims: list[Claim] | None = None
    ) -> None:
        loop = asyncio.get_running_loop()
        writer = self._writer
        if not writer.pending:
            writer.first_at = loop.time()
        writer.pending.setdefault(_document_id(key), []).extend(records)
        if claims:
            writer.claims.setdefault(_document_id(key), []).extend(claims)
        done: asyncio.Future[None] = loop.create_future()
        writer.waiters.append(done)
        if writer.task is None or writer.task.done():
            writer.task = asyncio.create_task(self._write_pending(writer))
        await done

    async def _write_pending(self, writer: _Writer) -> None:
        loop = asyncio.get_running_loop()
        while writer.pending:
            wait = writer.first_at + self.gather_seconds - loop.time()
            if wait > 0:
                await asyncio.sleep(wait)  # let the other rooms' flushes join this transaction
            batches, claims, waiters = writer.pending, writer.claims, writer.waiters
            writer.pending, writer.claims, writer.waiters = {}, {}, []
            try:
                await in_write_pool(services.append_updates)(batches, claims)
            except Exception as exc:
                for waiter in waiters:
                    waiter.set_exception(exc)  # each room keeps its batch and retries
                continue
            for waiter in waiters:
                waiter.set_result(None)

    async def compact(self, key: str) -> None:
        # Its own thread: a long compaction must not hold up log writes and loads.
        await database_sync_to_async(services.compact_document, thread_sensitive=False)(_document_id(key))

    async def stop(self) -> None:
        """After the rooms stopped (their last flushes are queued here): wait for the writes."""
        task = self._writer.task
        if task is not None and not task.done():
            with contextlib.suppress(Exception):
                await task
