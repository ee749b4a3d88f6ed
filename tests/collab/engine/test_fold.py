"""Folding updates without dropping pending ones (the compaction data-loss defect)."""

from __future__ import annotations

import random
from typing import Any

from pycrdt import Doc, Text

from collab.engine import protocol as p
from collab.engine.fold import fold, integrates, merge


def chain(steps: int, client_id: int = 7) -> tuple[list[bytes], str]:
    """`steps` updates, each inserting at the start (so each depends on the one before)."""
    doc: Doc[Any] = Doc(client_id=client_id)
    text = doc.get("t", type=Text)
    updates = []
    for index in range(steps):
        state = doc.get_state()
        text.insert(0, f"<{index}>")
        updates.append(doc.get_update(state))
    return updates, str(text)


def text_of(update: bytes) -> str:
    doc: Doc[Any] = Doc()
    doc.apply_update(update)
    return str(doc.get("t", type=Text))


def test_the_reported_case_a_dependant_before_its_dependency_is_kept() -> None:
    (first, second), expected = chain(2)
    folded, complete = fold([second])
    assert not complete
    assert folded != p.EMPTY_UPDATE  # a Doc's own encoding is b"\x00\x00" here: the defect
    refolded, complete = fold([folded, first])
    assert complete
    assert text_of(refolded) == expected


def test_pending_deletion_is_kept_until_its_target_arrives() -> None:
    doc: Doc[Any] = Doc(client_id=3)
    text = doc.get("t", type=Text)
    text.insert(0, "hello")
    insert = doc.get_update()
    state = doc.get_state()
    del text[0:2]
    deletion = doc.get_update(state)
    alone = Doc()
    alone.apply_update(deletion)
    assert not integrates(alone, deletion)
    folded, complete = fold([deletion])
    assert not complete
    refolded, complete = fold([folded, insert])
    assert complete and text_of(refolded) == "llo"


def test_any_order_of_any_split_folds_to_the_same_text() -> None:
    updates, expected = chain(60)
    rng = random.Random(20261201)
    for _ in range(20):
        rows = updates[:]
        rng.shuffle(rows)
        snapshot = p.EMPTY_UPDATE
        while rows:  # compact every few rows, as a busy log would be
            size = rng.randint(1, 7)
            take, rows = rows[:size], rows[size:]
            snapshot, _ = fold([snapshot, *take])
        assert text_of(snapshot) == expected


def test_complete_folds_are_garbage_collected() -> None:
    doc: Doc[Any] = Doc(client_id=4)
    text = doc.get("t", type=Text)
    parts = []
    for _ in range(20):
        state = doc.get_state()
        text.insert(0, "x" * 200)
        del text[0:200]
        parts.append(doc.get_update(state))
    folded, complete = fold(parts)
    assert complete
    assert len(folded) < len(merge(parts)) / 4  # deleted content is not carried along


def test_structless_delete_set_reads_ranges_and_spots_structs() -> None:
    assert p.structless_delete_set(b"\x00\x00") == []
    assert p.structless_delete_set(b"\x00\x01\x05\x02\x00\x03\x09\x01") == [(5, 0, 3), (5, 9, 1)]
    (first, _), _ = chain(2)
    assert p.structless_delete_set(first) is None
