"""Admission of new websockets: a token bucket with bursts, refusals spread out in time."""

from __future__ import annotations

from collab.realtime.ws_admission import (
    MAX_HOLD_SECONDS,
    AdmissionBucket,
    SetupPace,
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
