"""A room's durable log: the bounded outbox, batched flushes with back-off, compaction.

Accepted updates wait here until the store has written them. Writes are batched
(one per flush interval, one row per author per batch) and retried with
back-off while the database is down; the outbox of all rooms of a worker is
bounded (`RoomConfig.max_outbox_bytes`), and a room refuses edits with
CloseCode.OUTBOX_FULL rather than grow past it. Client-id claims are written in the
same transaction as the rows that made them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable

from pycrdt import merge_updates

from collab.engine.client_ids import Claim
from collab.engine.interfaces import RoomConfig, RoomStore
from collab.realtime import metrics

logger = logging.getLogger(__name__)

MAX_FLUSH_BACKOFF = 2.0


class OutboxBytes:
    """Unwritten update bytes of all rooms of one worker (the registry's; the limit is per worker)."""

    def __init__(self) -> None:
        self.total = 0

    def add(self, size: int) -> None:
        self.total += size
        metrics.OUTBOX_BYTES.set(self.total)

    def full(self, config: RoomConfig) -> bool:
        return self.total >= config.max_outbox_bytes


def coalesce_by_author(batch: list[tuple[bytes, int | None]]) -> list[tuple[bytes, int | None]]:
    """One log row per author per batch (Yjs updates commute, so order does not matter)."""
    by_author: dict[int | None, list[bytes]] = {}
    for update, user_id in batch:
        by_author.setdefault(user_id, []).append(update)
    return [
        (updates[0] if len(updates) == 1 else merge_updates(*updates), author)
        for author, updates in by_author.items()
    ]


class RoomLog:
    """The outbox and flushes of one room.

    `on_flushed(seq)` is told the highest own publication sequence number now
    durable (peers stop holding those updates as unconfirmed).
    """

    def __init__(
        self,
        key: str,
        store: RoomStore,
        config: RoomConfig,
        on_flushed: Callable[[int], None],
        outbox: OutboxBytes | None = None,
    ) -> None:
        self.key = key
        self.worker_outbox = OutboxBytes() if outbox is None else outbox
        self.store = store
        self.config = config
        self.on_flushed = on_flushed
        self.rows_since_snapshot = 0  # as far as this room knows; compaction recounts
        self._outbox: list[tuple[bytes, int | None]] = []
        self._outbox_seq = 0  # highest own publication seq in the outbox
        self._outbox_bytes = 0
        self._unrecorded_claims: list[Claim] = []  # written with the next flush
        self._flush_failures = 0
        self._flush_lock = asyncio.Lock()
        self._flush_task: asyncio.Task[None] | None = None
        self._compact_task: asyncio.Task[None] | None = None

    @property
    def pending(self) -> bool:
        return bool(self._outbox)

    def queue(
        self, update: bytes, user_id: int | None, seq: int | None, claims: list[Claim] | None = None
    ) -> None:
        self._outbox.append((update, user_id))
        if claims:
            self._unrecorded_claims.extend(claims)
        self._outbox_bytes += len(update)
        self.worker_outbox.add(len(update))
        if seq is not None:
            self._outbox_seq = max(self._outbox_seq, seq)
        if self._flush_task is None:
            self._flush_task = asyncio.create_task(self._flush_soon())

    async def _flush_soon(self) -> None:
        # Backs off while writes fail (the database is down), up to MAX_FLUSH_BACKOFF.
        delay = self.config.flush_interval * 2 ** min(self._flush_failures, 10)
        await asyncio.sleep(min(delay, max(MAX_FLUSH_BACKOFF, self.config.flush_interval)))
        self._flush_task = None
        await self.flush()

    async def flush(self) -> None:
        async with self._flush_lock:
            batch, self._outbox = self._outbox, []
            flushed_seq, self._outbox_seq = self._outbox_seq, 0
            claims, self._unrecorded_claims = self._unrecorded_claims, []
            if not batch:
                return
            records = coalesce_by_author(batch)
            started = time.perf_counter()
            try:
                await self.store.append(self.key, records, claims)
                self.rows_since_snapshot += len(records)
            except Exception:
                if self._flush_failures == 0:
                    logger.warning("writing the update log of %s failed; will retry", self.key, exc_info=True)
                self._flush_failures += 1
                metrics.LOG_FLUSH_FAILURES.inc()
                self._outbox = batch + self._outbox
                self._unrecorded_claims = claims + self._unrecorded_claims
                self._outbox_seq = max(self._outbox_seq, flushed_seq)
                if self._flush_task is None:
                    self._flush_task = asyncio.create_task(self._flush_soon())
                return
            metrics.LOG_FLUSH_SECONDS.observe(time.perf_counter() - started)
            written = sum(len(update) for update, _ in batch)
            self._outbox_bytes -= written
            self.worker_outbox.add(-written)
            if self._flush_failures:
                logger.warning(
                    "update log of %s written again after %d failures", self.key, self._flush_failures
                )
                self._flush_failures = 0
            if flushed_seq:
                self.on_flushed(flushed_seq)
        if self.rows_since_snapshot >= self.config.compact_threshold and self._compact_task is None:
            self._compact_task = asyncio.create_task(self._compact())

    async def _compact(self) -> None:
        try:
            await self.store.compact(self.key)
            self.rows_since_snapshot = 0
            metrics.COMPACTIONS.inc()
        except Exception:
            logger.exception("compaction of %s failed", self.key)
        finally:
            self._compact_task = None

    async def close(self) -> bool:
        """Stop the timer, write what is left, wait for a running compaction; True if all written.

        What could not be written (the database is down) is given up and logged: the
        clients that hold it resend it on reconnect.
        """
        if self._flush_task is not None:
            self._flush_task.cancel()
            self._flush_task = None
        await self.flush()
        written = not self._outbox
        if not written:
            logger.error(
                "%s stopped with %d bytes of updates unwritten (the database is down); "
                "clients that still hold them resend them on reconnect",
                self.key,
                self._outbox_bytes,
            )
            self.worker_outbox.add(-self._outbox_bytes)
            self._outbox_bytes = 0
            self._outbox, self._unrecorded_claims = [], []
            if self._flush_task is not None:  # the failed flush scheduled a retry: not any more
                self._flush_task.cancel()
                self._flush_task = None
        if self._compact_task is not None:
            with contextlib.suppress(Exception):
                await self._compact_task
        return written
