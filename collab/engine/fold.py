"""Folding stored or received updates into one, without ever dropping what is pending.

A Yjs update whose dependencies a document has not seen yet stays *pending*
inside the document: `Doc.get_update()` and `Doc.get_state()` leave it out,
and so does every answer built from them. Stored logs are not in causal order
(two workers flush independently, a repair arrives before what it repairs),
so a document built from stored rows can hold pending structs or deletions.
`merge_updates` works on bytes and keeps them; these helpers say when a
document's own encoding is complete enough to replace the bytes it was built from.

pycrdt objects made here never leave the calling thread.
"""

from __future__ import annotations

from typing import Any

from pycrdt import Doc, get_update, merge_updates

from collab.engine.protocol import EMPTY_UPDATE, decode_state_vector, structless_delete_set


def integrates(doc: Doc[Any], update: bytes) -> bool:
    """Whether `doc` holds everything of `update` integrated (nothing of it pending).

    The diff of the update against the document's state vector has no structs
    exactly when the document has all of them; each deletion must then fall
    inside what the document has (a deletion of an unseen item stays pending).
    """
    state = doc.get_state()
    deletions = structless_delete_set(get_update(update, state))
    if deletions is None:
        return False
    if not deletions:
        return True
    clocks = decode_state_vector(state)
    return all(clock + length <= clocks.get(client_id, 0) for client_id, clock, length in deletions)


def merge(parts: list[bytes]) -> bytes:
    """All parts as one update, pending structs and deletions included."""
    parts = [part for part in parts if part and part != EMPTY_UPDATE]
    if not parts:
        return EMPTY_UPDATE
    return parts[0] if len(parts) == 1 else merge_updates(*parts)


def fold(parts: list[bytes]) -> tuple[bytes, bool]:
    """One update holding everything in `parts`, and whether it is complete.

    Complete: a document built from the parts integrated all of them, so its
    own encoding (garbage-collected, smaller) replaces them. Otherwise some
    update waits for a dependency that is not among the parts yet (it will
    be, in a later log row): the merged bytes are returned, losing nothing.
    """
    merged = merge(parts)
    if merged == EMPTY_UPDATE:
        return EMPTY_UPDATE, True
    doc: Doc[Any] = Doc()
    doc.apply_update(merged)
    if integrates(doc, merged):
        return doc.get_update(), True
    return merged, False
