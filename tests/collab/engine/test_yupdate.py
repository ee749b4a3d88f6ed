"""The update reader: what Yjs could not integrate is refused before pycrdt applies it."""

from __future__ import annotations

import random
from typing import Any

import pytest
from pycrdt import Array, Doc, Map, Text, XmlElement, XmlFragment, XmlText

from collab.engine import protocol as p
from collab.engine.yupdate import StructRange, check_update, parse_update, rewrite_update

BRIEF_UPDATE = bytes.fromhex("010101000401017402686900")


def test_the_brief_vector_reads_as_one_range() -> None:
    assert check_update(BRIEF_UPDATE) == [StructRange(client=1, clock=0, length=2)]


def test_updates_of_every_shared_type_pycrdt_makes_are_accepted() -> None:
    doc: Doc[Any] = Doc(client_id=42)
    text = doc.get("t", type=Text)
    array = doc.get("a", type=Array)
    shared = doc.get("m", type=Map)
    fragment = doc.get("x", type=XmlFragment)
    rng = random.Random(7)
    ranges = []
    for step in range(200):
        state = doc.get_state()
        choice = step % 6
        if choice == 0:
            text.insert(rng.randint(0, len(text)), rng.choice(["a", "ü", "🌍", "漢字"]))
        elif choice == 1 and len(text) > 2:
            del text[0:1]
        elif choice == 2:
            text.format(0, max(1, len(text)), {"bold": True})
        elif choice == 3:
            array.append(rng.choice([1, 2.5, "s", None, True, {"k": [1, 2]}, b"\x00\x01"]))
        elif choice == 4:
            shared[f"k{step % 5}"] = {"nested": step, "list": [step, "x"]}
        else:
            element = XmlElement("p", {"class": "c"})
            fragment.children.append(element)
            element.children.append(XmlText("hi"))
        ranges += check_update(doc.get_update(state))  # raises if refused
    assert sum(r.length for r in ranges) == decode_clock(doc)
    check_update(doc.get_update())


def decode_clock(doc: Doc[Any]) -> int:
    return p.decode_state_vector(doc.get_state())[doc.client_id]


def test_an_item_whose_origin_is_a_later_item_of_its_own_client_is_refused() -> None:
    """Read by yrs, fatal to every Yjs client (hostile-input suite, seed 2)."""
    frame = bytes.fromhex("00021201 01ffffffff0f0084ffffffff0f05016900".replace(" ", ""))
    message = p.decode_message(frame)
    assert isinstance(message, p.SyncMessage)
    with pytest.raises(p.ProtocolError, match="later item of its own client"):
        check_update(message.payload)


@pytest.mark.parametrize(
    "update",
    [
        bytes.fromhex("0101010004"),  # truncated in the middle of an item
        bytes.fromhex("01010100" + "0b" + "00"),  # content type 11 does not exist
        bytes.fromhex("010101000801017401" + "70" + "00"),  # an Any value of an unknown kind
    ],
)
def test_malformed_updates_are_refused(update: bytes) -> None:
    with pytest.raises(p.ProtocolError):
        check_update(update)


def two_client_update() -> tuple[bytes, bytes]:
    """An update with groups of clients 1 and 2 and deletions of both; and client 1's own update."""
    first: Doc[Any] = Doc(client_id=1)
    first.get("t", type=Text).insert(0, "abc")
    second: Doc[Any] = Doc(client_id=2)
    second.apply_update(first.get_update())
    text = second.get("t", type=Text)
    text.insert(3, "xyz")
    del text[0:1]  # "a", client 1's
    del text[4:5]  # "z", client 2's
    return second.get_update(), first.get_update()


def test_rewriting_with_every_group_and_the_same_deletions_keeps_the_update() -> None:
    both, _ = two_client_update()
    parsed = parse_update(both)
    assert {r.client for r in parsed.ranges} == {1, 2}
    assert {client for client, _ in parsed.deletions} == {1, 2}
    again = rewrite_update(both, parsed, [True] * len(parsed.ranges), list(parsed.deletions))
    assert again == both


def test_a_dropped_group_and_deletion_leave_a_valid_update_of_the_rest() -> None:
    both, of_first = two_client_update()
    parsed = parse_update(both)
    keep = [r.client == 2 for r in parsed.ranges]
    deletions = [entry for entry in parsed.deletions if entry[0] == 2]
    only_second = rewrite_update(both, parsed, keep, deletions)
    assert check_update(only_second) == [r for r in parsed.ranges if r.client == 2]
    assert [client for client, _ in parse_update(only_second).deletions] == [2]
    doc: Doc[Any] = Doc()
    doc.apply_update(only_second)  # pending: its origins are client 1's
    doc.apply_update(of_first)
    # Client 2's deletion of its "z" stayed; the deletion of client 1's "a" went.
    assert str(doc.get("t", type=Text)) == "abcxy"
