"""Admission of new websockets: a token bucket with bursts, refusals spread out in time."""

from __future__ import annotations

from collab.realtime.ws_admission import AdmissionBucket, retry_hint


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
