"""The delivery order of one socket: by version, each change once, gaps noticed and filled."""

from __future__ import annotations

from typing import Any

from chat.sequencer import MAX_HELD, ChangeSequencer


def change(version: int, seq: int | None = None) -> dict[str, Any]:
    return {"version_seq": version, "seq": seq or version}


def versions(payloads: list[dict[str, Any]]) -> list[int]:
    return [p["version_seq"] for p in payloads]


def test_in_order_changes_go_straight_through() -> None:
    seq = ChangeSequencer(sent=4)
    assert versions(seq.offer(change(5))) == [5]
    assert versions(seq.offer(change(6))) == [6]
    assert not seq.has_gap and seq.sent == 6


def test_duplicates_and_old_changes_are_dropped() -> None:
    seq = ChangeSequencer(sent=4)
    assert seq.offer(change(3)) == [] and seq.offer(change(4)) == []
    assert versions(seq.offer(change(5))) == [5]
    assert seq.offer(change(5)) == []


def test_a_late_change_releases_the_ones_held_behind_it() -> None:
    seq = ChangeSequencer(sent=0)
    assert seq.offer(change(2)) == [] and seq.offer(change(3)) == []
    assert seq.has_gap
    assert versions(seq.offer(change(1))) == [1, 2, 3]
    assert not seq.has_gap


def test_the_log_fills_a_lost_change_and_superseded_versions_are_skipped() -> None:
    seq = ChangeSequencer(sent=4)
    seq.offer(change(7))  # 5 was lost; 6 was superseded by 7 (an edit of the same message)
    assert seq.has_gap
    rows = [change(5, seq=5), change(7, seq=6)]  # the log holds each message at its latest version
    assert versions(seq.take_from_log(rows)) == [5, 7]
    assert not seq.has_gap and seq.sent == 7
    assert seq.offer(change(6)) == []  # the lost event turning up late changes nothing


def test_the_log_never_resends_what_went_out_live() -> None:
    seq = ChangeSequencer(sent=0)
    seq.offer(change(1))
    assert versions(seq.take_from_log([change(1), change(2)])) == [2]


def test_paging_clients_only_note_live_changes() -> None:
    seq = ChangeSequencer(sent=10)
    seq.note(change(15))
    assert seq.sent == 10 and seq.has_gap  # the pages (or a gap fill) will read it from the log
    seq.take_from_log([change(v) for v in range(11, 16)])
    assert not seq.has_gap


def test_a_flood_of_out_of_order_changes_is_bounded() -> None:
    seq = ChangeSequencer(sent=0)
    for version in range(2, MAX_HELD + 100):
        seq.offer(change(version))
    assert len(seq.held) == MAX_HELD and seq.has_gap
