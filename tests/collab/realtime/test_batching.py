"""Lookups gathered into batches: who waits, what each caller gets, failures and cancellation."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest

from collab.realtime.batching import Batcher


class Recorder:
    """A fetch_many that records its batches and answers once released."""

    def __init__(self) -> None:
        self.batches: list[list[str]] = []
        self.release = asyncio.Event()
        self.fail: Exception | None = None

    async def __call__(self, keys: Sequence[str]) -> dict[str, str]:
        self.batches.append(list(keys))
        await self.release.wait()
        if self.fail is not None:
            raise self.fail
        return {key: key.upper() for key in keys if key != "missing"}


async def test_a_lone_caller_is_answered_at_once_by_a_batch_of_one() -> None:
    fetch = Recorder()
    fetch.release.set()
    batcher: Batcher[str, str] = Batcher(fetch)
    assert await batcher.get("a") == "A"
    assert fetch.batches == [["a"]]


async def test_callers_arriving_while_calls_are_in_flight_share_the_next_call() -> None:
    fetch = Recorder()
    batcher: Batcher[str, str] = Batcher(fetch, concurrency=1)
    first = asyncio.ensure_future(batcher.get("a"))
    await asyncio.sleep(0)
    rest = [asyncio.ensure_future(batcher.get(key)) for key in ("b", "c", "b")]
    await asyncio.sleep(0)
    assert fetch.batches == [["a"]]  # the others wait for the call in flight
    fetch.release.set()
    assert await first == "A"
    assert [await task for task in rest] == ["B", "C", "B"]
    assert fetch.batches == [["a"], ["b", "c"]]  # one call for all of them, each key once


async def test_batches_are_bounded_in_size() -> None:
    fetch = Recorder()
    fetch.release.set()
    batcher: Batcher[str, str] = Batcher(fetch, concurrency=1, max_batch=2)
    results = await asyncio.gather(*(batcher.get(key) for key in "abcde"))
    assert results == list("ABCDE")
    assert all(len(batch) <= 2 for batch in fetch.batches)


async def test_a_key_without_an_answer_and_a_failing_call_reach_only_their_callers() -> None:
    fetch = Recorder()
    fetch.release.set()
    batcher: Batcher[str, str] = Batcher(fetch)
    with pytest.raises(KeyError):
        await batcher.get("missing")
    fetch.fail = RuntimeError("database down")
    with pytest.raises(RuntimeError, match="database down"):
        await batcher.get("a")
    fetch.fail = None
    assert await batcher.get("a") == "A"  # the batcher goes on after a failure


async def test_a_cancelled_caller_leaves_the_others_their_answers() -> None:
    fetch = Recorder()
    batcher: Batcher[str, str] = Batcher(fetch, concurrency=1)
    leaving = asyncio.ensure_future(batcher.get("a"))
    staying = asyncio.ensure_future(batcher.get("a"))
    await asyncio.sleep(0)
    leaving.cancel()
    fetch.release.set()
    assert await staying == "A"
    assert leaving.cancelled()


async def test_closing_cancels_the_callers_in_flight_and_waiting() -> None:
    fetch = Recorder()
    batcher: Batcher[str, str] = Batcher(fetch, concurrency=1)
    in_flight = asyncio.ensure_future(batcher.get("a"))
    await asyncio.sleep(0)
    waiting = asyncio.ensure_future(batcher.get("b"))
    await asyncio.sleep(0)
    await batcher.close()
    with pytest.raises(asyncio.CancelledError):
        await in_flight
    with pytest.raises(asyncio.CancelledError):
        await waiting


async def test_a_caller_right_after_a_finished_call_still_gets_a_call() -> None:
    fetch = Recorder()
    fetch.release.set()  # answers without waiting: the runner ends in the caller's turn
    batcher: Batcher[str, str] = Batcher(fetch, concurrency=1)
    for key in "abc":
        assert await asyncio.wait_for(batcher.get(key), 1) == key.upper()


async def test_a_closed_batcher_refuses_new_callers() -> None:
    fetch = Recorder()
    fetch.release.set()
    batcher: Batcher[str, str] = Batcher(fetch)
    await batcher.close()
    with pytest.raises(RuntimeError, match="closed"):
        await batcher.get("a")
