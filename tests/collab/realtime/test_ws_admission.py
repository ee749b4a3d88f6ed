"""Admission of new websockets: a token bucket with bursts, a short line, refusals spread out in time."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from collab.realtime.ws_admission import (
    MAX_HOLD_SECONDS,
    AdmissionBucket,
    SetupPace,
    WebsocketAdmission,
    hold_seconds,
    retry_hint,
)


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_a_burst_is_admitted_then_the_rate() -> None:
    clock = Clock()
    bucket = AdmissionBucket(rate=10, burst=20, clock=clock)
    assert all(bucket.take() is None for _ in range(20))
    assert bucket.take() is not None
    clock.now = 1.0
    admitted = sum(bucket.take() is None for _ in range(50))
    assert admitted == 10


def test_a_refusal_says_how_long_until_the_bucket_has_room() -> None:
    clock = Clock()
    bucket = AdmissionBucket(rate=100, burst=1, clock=clock)
    assert bucket.take() is None
    wait = bucket.take()
    assert wait is not None and abs(wait - 0.01) < 1e-9
    clock.now = 0.01
    assert bucket.take() is None


def test_retry_hints_are_whole_seconds_with_jitter() -> None:
    hints = {retry_hint(3.2) for _ in range(200)}
    assert min(hints) >= 4 and max(hints) <= 5 and len(hints) == 2
    assert retry_hint(0.01) == 1


def test_the_pace_follows_how_long_set_ups_really_take() -> None:
    pace = SetupPace(initial=0.05, weight=0.1)
    assert pace.admissions_per_second(32) == 640  # 32 set-ups of 50 ms at a time
    for _ in range(100):
        pace.observe(0.4)  # a busy machine: set-ups take 400 ms
    assert 79 < pace.admissions_per_second(32) < 81


def test_a_refused_socket_is_held_until_its_turn_or_returns_spread_out() -> None:
    holds = [hold_seconds(2.0) for _ in range(500)]
    assert min(holds) >= 1.6 and max(holds) <= 2.4  # about its turn, with jitter
    far = [hold_seconds(10 * MAX_HOLD_SECONDS) for _ in range(500)]
    # Turns beyond the longest hold: back within the second half of it and its jitter,
    # spread (not all at the end, where they would arrive as one wave).
    assert min(far) >= MAX_HOLD_SECONDS * 0.5 and max(far) <= MAX_HOLD_SECONDS * 1.2
    assert max(far) - min(far) > MAX_HOLD_SECONDS / 2
    assert max(far) < 30  # a stock client gives up on a socket silent for 30 s


class FakeSocket:
    """One websocket as the admission layer sees it: connect, then whatever the test sends."""

    def __init__(self) -> None:
        self.incoming: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.incoming.put_nowait({"type": "websocket.connect"})
        self.sent: list[dict[str, Any]] = []

    async def receive(self) -> dict[str, Any]:
        return await self.incoming.get()

    async def send(self, message: dict[str, Any]) -> None:
        self.sent.append(message)

    def close_code(self) -> int | None:
        closes = [m for m in self.sent if m["type"] == "websocket.close"]
        return closes[-1].get("code") if closes else None


def slow_app(order: list[int], release: asyncio.Event) -> Any:
    """An application whose set-up lasts until `release` is set, then accepts."""

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        await receive()
        order.append(scope["index"])
        await release.wait()
        await send({"type": "websocket.accept"})

    return app


def opened_at_once(
    count: int,
) -> tuple[list[int], asyncio.Event, WebsocketAdmission, list[FakeSocket], list[asyncio.Task[None]]]:
    """`count` sockets opened together on one admission layer in front of `slow_app`:
    the order set-ups began in, the event that ends them, the layer, the sockets, their tasks."""
    order: list[int] = []
    release = asyncio.Event()
    admission = WebsocketAdmission(slow_app(order, release))
    sockets = [FakeSocket() for _ in range(count)]
    tasks = [
        asyncio.create_task(admission({"type": "websocket", "index": i}, s.receive, s.send))
        for i, s in enumerate(sockets)
    ]
    return order, release, admission, sockets, tasks


@pytest.fixture
def admission_settings(settings: Any) -> Any:
    settings.COLLAB_ADMIT_PER_SECOND = 1000.0
    settings.COLLAB_ADMIT_BURST = 1000.0
    settings.COLLAB_ADMIT_IN_SETUP = 2
    settings.COLLAB_ADMIT_QUEUE_SECONDS = 1.0
    return settings


async def test_sockets_beyond_the_set_up_limit_wait_in_line_instead_of_being_refused(
    admission_settings: Any,
) -> None:
    order, release, admission, sockets, tasks = opened_at_once(5)
    await asyncio.sleep(0.05)
    assert order == [0, 1] and admission.in_setup == 2 and len(admission.line) == 3
    release.set()
    await asyncio.wait_for(asyncio.gather(*tasks), 2)
    assert order == [0, 1, 2, 3, 4]  # first come, first served
    assert all(s.sent == [{"type": "websocket.accept"}] for s in sockets)  # none refused
    assert admission.in_setup == 0 and not admission.line


async def test_a_socket_whose_turn_is_too_far_is_refused_and_one_that_waited_too_long_too(
    admission_settings: Any,
) -> None:
    admission_settings.COLLAB_ADMIT_QUEUE_SECONDS = 0.2
    admission_settings.COLLAB_ADMIT_PER_SECOND = 10.0  # a turn every 0.1 s: two fit in 0.2 s
    order, release, admission, sockets, tasks = opened_at_once(5)
    await asyncio.sleep(0.05)
    assert order == [0, 1] and len(admission.line) == 2  # 2 and 3 wait; 4's turn is too far
    await asyncio.sleep(0.3)  # the set-ups still run: 2 and 3 waited their longest
    assert not admission.line and admission.in_setup == 2  # 2 and 3 left the line, refused
    assert all(s.sent[:1] == [{"type": "websocket.accept"}] for s in sockets[2:])
    for s in sockets[2:]:
        s.incoming.put_nowait({"type": "websocket.disconnect"})  # held sockets that give up
    release.set()
    await asyncio.wait_for(asyncio.gather(*tasks), 2)
    assert [s.close_code() for s in sockets] == [None, None, 4503, 4503, 4503]
    assert admission.in_setup == 0 and admission.held == 0


async def test_a_waiting_socket_that_goes_away_gives_its_turn_to_the_next(admission_settings: Any) -> None:
    order, release, admission, _, tasks = opened_at_once(4)
    await asyncio.sleep(0.05)
    tasks[2].cancel()  # daphne cancels the application of a client that disconnected
    release.set()
    await asyncio.gather(*tasks, return_exceptions=True)
    assert order == [0, 1, 3] and admission.in_setup == 0 and not admission.line
