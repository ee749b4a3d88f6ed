"""A small thread pool for database writes from websocket consumers.

Channels runs every `database_sync_to_async` call in one thread per worker, so
one socket's transaction waits for every other socket's round trips to
PostgreSQL: with chat posts that single thread was 97 % busy (mostly waiting on
the network) at 60 messages a second while the event loop idled. Writes that are
independent of each other (posts to different rooms; same-room posts serialise
on the room's row lock in PostgreSQL anyway) run here instead, each thread with
its own connection. Size: COLLAB_DB_WRITE_THREADS.
"""

from __future__ import annotations

import functools
import threading
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import ParamSpec, TypeVar

from asgiref.sync import SyncToAsync
from django.db import DEFAULT_DB_ALIAS, InterfaceError, OperationalError, connections

P = ParamSpec("P")
R = TypeVar("R")


@functools.cache
def _executor() -> ThreadPoolExecutor:
    from django.conf import settings

    return ThreadPoolExecutor(max_workers=settings.COLLAB_DB_WRITE_THREADS, thread_name_prefix="db-write")


def _with_own_connection(func: Callable[P, R]) -> Callable[P, R]:
    """Run `func` on this thread's connection, replaced when it is old or broke.

    Channels' wrapper closes "old" connections around every call, which with health
    checks on costs a `SELECT 1` round trip per call; a pool thread's connection is
    checked once, reopened after CONN_MAX_AGE, and dropped as soon as a query fails.
    """

    @functools.wraps(func)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        connection = connections[DEFAULT_DB_ALIAS]
        if connection.close_at is not None and time.monotonic() >= connection.close_at:
            connection.close()
        try:
            return func(*args, **kwargs)
        except (OperationalError, InterfaceError):
            connection.close()  # the next call opens a fresh one
            raise

    return run


def in_write_pool(func: Callable[P, R]) -> Callable[P, Awaitable[R]]:
    """`func` as a coroutine run in the write pool."""
    wrapped: Callable[P, Awaitable[R]] = SyncToAsync(
        _with_own_connection(func), thread_sensitive=False, executor=_executor()
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
