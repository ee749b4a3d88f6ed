"""A small thread pool for database writes from websocket consumers.

Channels runs every `database_sync_to_async` call in one thread per worker, so
one socket's transaction waits for every other socket's round trips to
PostgreSQL: with chat posts that single thread was 97 % busy (mostly waiting on
the network) at 60 messages a second while the event loop idled. Writes that are
independent of each other (posts to different rooms; same-room posts serialise
on the room's row lock in PostgreSQL anyway) run here instead, each thread using
a connection borrowed from the per-process pool. Size: COLLAB_DB_WRITE_THREADS.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import ParamSpec, TypeVar

from channels.db import database_sync_to_async
from django.db import connections

P = ParamSpec("P")
R = TypeVar("R")


@functools.cache
def _executor() -> ThreadPoolExecutor:
    from django.conf import settings

    return ThreadPoolExecutor(max_workers=settings.COLLAB_DB_WRITE_THREADS, thread_name_prefix="db-write")


def in_write_pool(func: Callable[P, R]) -> Callable[P, Awaitable[R]]:
    """`func` as a coroutine run in the write pool."""
    # Connections come from the per-process pool (settings: DATABASE_POOL), so Channels'
    # wrapper returning them after each call costs no reconnect and no health check.
    wrapped: Callable[P, Awaitable[R]] = database_sync_to_async(
        func, thread_sensitive=False, executor=_executor()
    )
    return wrapped


def close_write_pool() -> None:
    """Close every pool thread's database connection and stop the pool (tests, shutdown).

    Each thread owns its connection, so each must close its own: one task per thread,
    held at a barrier so that no thread takes two.
    """
    if _executor.cache_info().currsize == 0:
        return
    executor = _executor()
    threads = executor._max_workers
    barrier = threading.Barrier(threads)

    def close_own() -> None:
        barrier.wait(timeout=10)
        connections.close_all()

    for future in [executor.submit(close_own) for _ in range(threads)]:
        future.result(timeout=15)
    executor.shutdown(wait=True)
    _executor.cache_clear()
