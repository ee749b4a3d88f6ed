"""Lookups that many sockets make at once, gathered into one database call.

A reconnect storm sets up dozens of sockets at a time, and each asked the
database the same questions one by one (its token, its role): one executor hop
and one ORM query each, every one queueing behind the others on a handful of
threads, so a set-up took 300 ms of which the queries themselves were a few.
A `Batcher` answers each `get(key)` from one `fetch_many(keys)` call with every
key asked for meanwhile: the first caller's call starts at once (alone, nothing
waits), and those arriving while `concurrency` calls are in flight join the next
one. Each caller gets its own key's answer, or the call's exception.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable, Sequence
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

FetchMany = Callable[[Sequence[K]], Awaitable[dict[K, V]]]


class Batcher(Generic[K, V]):
    def __init__(self, fetch_many: FetchMany[K, V], *, concurrency: int = 2, max_batch: int = 200) -> None:
        self.fetch_many = fetch_many
        self.concurrency = concurrency
        self.max_batch = max_batch
        self._waiting: dict[K, list[asyncio.Future[V]]] = {}
        self._runners: set[asyncio.Task[None]] = set()
        self._running = 0  # runners not yet finished (a done callback would come a turn late)
        self._closed = False

    async def get(self, key: K) -> V:
        if self._closed:
            raise RuntimeError("this batcher is closed (the worker is stopping)")
        loop = asyncio.get_running_loop()
        future: asyncio.Future[V] = loop.create_future()
        self._waiting.setdefault(key, []).append(future)
        if self._running < self.concurrency:
            self._running += 1
            runner = loop.create_task(self._run())
            self._runners.add(runner)
            runner.add_done_callback(self._runners.discard)
        return await future

    async def close(self) -> None:
        """Stop the calls in flight; their callers are cancelled, later callers refused."""
        self._closed = True
        for runner in list(self._runners):
            runner.cancel()
        await asyncio.gather(*self._runners, return_exceptions=True)
        for futures in self._waiting.values():
            for future in futures:
                future.cancel()
        self._waiting.clear()

    async def _run(self) -> None:
        try:
            while self._waiting:
                keys = list(self._waiting)[: self.max_batch]
                batch = {key: self._waiting.pop(key) for key in keys}
                try:
                    answers = await self.fetch_many(keys)
                except Exception as error:
                    _settle(batch, error=error)
                except BaseException:
                    _settle(batch, cancel=True)
                    raise
                else:
                    _settle(batch, answers=answers)
        finally:
            self._running -= 1


def settle(
    future: asyncio.Future[V],
    result: V | None = None,
    error: BaseException | None = None,
    cancel: bool = False,
) -> None:
    """Answer a waiting caller's future: cancelled, failed with `error`, or with `result`;
    left alone if it is done already (its caller was cancelled)."""
    if future.done():
        return
    if cancel:
        future.cancel()
    elif error is not None:
        future.set_exception(error)
    else:
        future.set_result(result)  # type: ignore[arg-type]


def _settle(
    batch: dict[K, list[asyncio.Future[V]]],
    answers: dict[K, V] | None = None,
    error: Exception | None = None,
    cancel: bool = False,
) -> None:
    for key, futures in batch.items():
        for future in futures:
            if cancel or error is not None:
                settle(future, error=error, cancel=cancel)
            elif answers is not None and key in answers:
                settle(future, answers[key])
            else:
                settle(future, error=KeyError(key))
