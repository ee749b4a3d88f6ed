"""Peering on its own: the dispatch table, sequence gaps, greetings, confirmations."""

from __future__ import annotations

from typing import Any

from channels.layers import InMemoryChannelLayer

from collab.engine import protocol as p
from collab.engine.room import Room
from tests.collab.engine.fakes import MemoryStore
from tests.collab.engine.test_room import FAST, text_of, text_update


class RecordingLayer(InMemoryChannelLayer):  # type: ignore[misc]
    """The in-memory layer, remembering what was sent directly to a channel."""

    def __init__(self) -> None:
        super().__init__()
        self.direct: list[tuple[str, dict[str, Any]]] = []

    async def send(self, channel: str, message: dict[str, Any]) -> None:
        self.direct.append((channel, message))
        await super().send(channel, message)


async def loaded_room(layer: RecordingLayer) -> Room:
    room = Room("doc:peer", "doc.peer", MemoryStore(), layer, FAST)
    await room.start()
    return room


async def test_an_unknown_message_type_is_ignored_but_its_origin_greeted() -> None:
    layer = RecordingLayer()
    room = await loaded_room(layer)
    await room.peering.handle({"type": "room.future-kind", "origin": "other!1", "seq": 1})
    assert "other!1" in room.peering.peers_seen
    assert [m["type"] for channel, m in layer.direct if channel == "other!1"] == ["room.sv"]
    await room.stop()


async def test_our_own_publications_are_ignored() -> None:
    room = await loaded_room(RecordingLayer())
    update = text_update("echo", client_id=5)
    await room.peering.handle({"type": "room.update", "update": update, "origin": room.channel, "seq": 9})
    assert text_of(room) == ""
    await room.stop()


async def test_a_sequence_gap_asks_the_origin_for_a_repair() -> None:
    layer = RecordingLayer()
    room = await loaded_room(layer)
    first = text_update("a", client_id=6)
    await room.peering.handle({"type": "room.update", "update": first, "origin": "o!1", "seq": 1})
    layer.direct.clear()
    later = text_update("c", client_id=7)
    await room.peering.handle({"type": "room.update", "update": later, "origin": "o!1", "seq": 3})
    assert [(c, m["type"], m["ask_back"]) for c, m in layer.direct] == [("o!1", "room.sv", False)]
    await room.stop()


async def test_a_batch_is_handled_in_order_and_confirmations_release_unconfirmed_updates() -> None:
    room = await loaded_room(RecordingLayer())
    first = text_update("x", client_id=8)
    second = text_update("y", client_id=8, base=first)
    batch = {
        "type": "room.batch",
        "messages": [
            {"type": "room.update", "update": first, "origin": "o!2", "seq": 1},
            {"type": "room.update", "update": second, "origin": "o!2", "seq": 2},
            {"type": "room.flushed", "upto": 1, "origin": "o!2", "seq": 3},
        ],
    }
    await room.peering.handle(batch)
    assert text_of(room) == "xy"
    assert [item[0] for item in room.peering.unconfirmed["o!2"]] == [2]
    await room.peering.handle({"type": "room.bye", "origin": "o!2", "seq": 4})
    assert "o!2" not in room.peering.unconfirmed and "o!2" not in room.peering.peers_seen
    await room.stop()


async def test_a_state_vector_is_answered_with_what_the_peer_lacks_and_its_claims() -> None:
    layer = RecordingLayer()
    room = await loaded_room(layer)
    room.owners.record([(9, 4)])
    room.apply(text_update("mine", client_id=9))
    layer.direct.clear()
    await room.peering.handle({"type": "room.sv", "sv": b"\x00", "origin": "o!3", "ask_back": False})
    repair = next(m for c, m in layer.direct if m["type"] == "room.update")
    assert repair["direct"] is True and text_of(repair["update"]) == "mine"
    assert repair["claims"] == [(9, 4)]
    assert p.decode_state_vector(room.doc.get_state()) == {9: 4}
    await room.stop()
