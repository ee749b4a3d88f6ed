"""The room: local fan-out, roles, awareness identity, persistence, and repair between workers."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

import pytest
from channels.layers import InMemoryChannelLayer
from pycrdt import Doc, Text

from collab.engine import protocol as p
from collab.engine.interfaces import RoomConfig
from collab.engine.room import Room
from tests.collab.engine.fakes import MemoryStore, RecordingPeer

FAST = RoomConfig(flush_interval=0.02, compact_threshold=5, antientropy_interval=0.3, awareness_timeout=0.9)


def text_update(content: str, client_id: int, base: bytes = b"") -> bytes:
    doc: Doc[Any] = Doc(client_id=client_id)
    if base:
        doc.apply_update(base)
    state = doc.get_state()
    text = doc.get("t", type=Text)
    text += content
    return doc.get_update(state)


def text_of(update_or_room: bytes | Room) -> str:
    if isinstance(update_or_room, Room):
        return str(update_or_room.doc.get("t", type=Text))
    doc: Doc[Any] = Doc()
    doc.apply_update(update_or_room)
    return str(doc.get("t", type=Text))


async def eventually(check: Callable[[], bool], within: float = 3.0) -> None:
    deadline = asyncio.get_running_loop().time() + within
    while not check():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.01)


async def awareness_sent(room: Room) -> None:
    """Awareness changes go out together at the end of the event loop's turn: wait for that."""
    if room._awareness_task is not None:
        await room._awareness_task


async def started_room(layer: Any, store: MemoryStore | None = None, config: RoomConfig = FAST) -> Room:
    room = Room("doc:test", "doc.test", store or MemoryStore(), layer, config)
    await room.start()
    return room


async def test_update_reaches_other_local_peers_not_the_sender_and_is_persisted() -> None:
    store = MemoryStore()
    room = await started_room(InMemoryChannelLayer(), store)
    alice, bob = RecordingPeer(1), RecordingPeer(2)
    await room.join(alice)
    await room.join(bob)
    assert alice.messages() == [p.SyncMessage(p.SYNC_STEP1, b"\x00")]
    update = text_update("hello", client_id=11)
    frame = p.encode_update(update)
    await room.receive_frame(alice, frame)
    assert bob.frames[-1] == frame
    assert alice.frames[-1] != frame
    assert text_of(room) == "hello"
    await eventually(lambda: store.appends == 1)
    assert store.rows == [(update, 1)]
    await room.stop()


async def test_sync_step1_is_answered_with_the_missing_update() -> None:
    initial = text_update("stored", client_id=5)
    room = await started_room(InMemoryChannelLayer(), MemoryStore(initial))
    peer = RecordingPeer(1)
    await room.join(peer)
    await room.receive_frame(peer, p.encode_sync_step1(b"\x00"))
    reply = peer.messages()[-1]
    assert isinstance(reply, p.SyncMessage) and reply.step == p.SYNC_STEP2
    assert text_of(reply.payload) == "stored"
    await room.stop()


async def test_viewer_updates_are_refused_never_applied_nor_stored() -> None:
    store = MemoryStore()
    room = await started_room(InMemoryChannelLayer(), store)
    viewer, editor = RecordingPeer(1, can_write=False), RecordingPeer(2)
    await room.join(viewer)
    await room.join(editor)
    for step in (p.encode_sync_step2, p.encode_update):
        await room.receive_frame(viewer, step(text_update("evil", client_id=66)))
    assert text_of(room) == ""
    assert all(isinstance(m, p.SyncMessage) and m.step == p.SYNC_STEP1 for m in editor.messages())
    denied = [m for m in viewer.messages() if isinstance(m, p.AuthMessage)]
    assert len(denied) == 1 and "read-only" in denied[0].denied_reason
    await asyncio.sleep(FAST.flush_interval * 3)
    assert store.rows == []
    await room.stop()


async def test_undecodable_update_raises_and_leaves_the_document_untouched() -> None:
    room = await started_room(InMemoryChannelLayer())
    peer, other = RecordingPeer(1), RecordingPeer(2)
    await room.join(peer)
    await room.join(other)
    await room.receive_frame(peer, p.encode_update(text_update("ok", client_id=3)))
    before = room.doc.get_update()
    with pytest.raises(p.ProtocolError):
        await room.receive_frame(peer, p.encode_update(b"\x01\x01\xff\xff\xff"))
    assert room.doc.get_update() == before
    assert len(other.frames) == 2  # step 1 and the good update only
    await room.stop()


async def test_awareness_identity_is_stamped_by_the_server_and_not_echoed() -> None:
    room = await started_room(InMemoryChannelLayer())
    alice, bob = RecordingPeer(1, name="alice"), RecordingPeer(2, name="bob")
    await room.join(alice)
    await room.join(bob)
    claim = p.AwarenessEntry(1001, 1, json.dumps({"user": {"name": "bob", "id": 2}, "cursor": {"a": 1}}))
    await room.receive_frame(alice, p.encode_awareness([claim]))
    await awareness_sent(room)
    seen = bob.messages()[-1]
    assert isinstance(seen, p.AwarenessMessage)
    state = json.loads(seen.entries[0].state_json)
    assert state["user"] == {"id": 1, "name": "alice", "color": "#000"}
    assert state["cursor"] == {"a": 1}
    assert not any(isinstance(m, p.AwarenessMessage) for m in alice.messages())
    # bob cannot take over alice's client id
    await room.receive_frame(bob, p.encode_awareness([p.AwarenessEntry(1001, 5, '{"x":1}')]))
    assert len(room.awareness.live_entries(owner=bob.peer_id)) == 0
    # a newcomer gets the current states; alice leaving removes hers
    carol = RecordingPeer(3)
    await room.join(carol)
    assert isinstance(carol.messages()[-1], p.AwarenessMessage)
    await room.leave(alice)
    await awareness_sent(room)
    removal = bob.messages()[-1]
    assert isinstance(removal, p.AwarenessMessage) and removal.entries[0].is_removal
    await room.stop()


async def test_awareness_expires_without_renewal() -> None:
    now = [0.0]
    room = Room("doc:test", "doc.test", MemoryStore(), InMemoryChannelLayer(), FAST, clock=lambda: now[0])
    await room.start()
    alice, bob = RecordingPeer(1), RecordingPeer(2)
    await room.join(alice)
    await room.join(bob)
    await room.receive_frame(alice, p.encode_awareness([p.AwarenessEntry(9, 1, "{}")]))
    now[0] = FAST.awareness_timeout + 1
    await eventually(lambda: len(room.awareness) == 0)
    removal = bob.messages()[-1]
    assert isinstance(removal, p.AwarenessMessage) and removal.entries[0].is_removal
    await room.stop()


def reader_is_ready(store: MemoryStore) -> bool:
    return store.load_gate is None or store.load_gate.is_set()


async def test_room_subscribes_before_loading_so_nothing_published_meanwhile_is_lost() -> None:
    layer = InMemoryChannelLayer()
    writer = await started_room(layer)
    gate = asyncio.Event()
    slow_store = MemoryStore(load_gate=gate)
    reader = Room("doc:test", "doc.test", slow_store, layer, FAST)
    loading = asyncio.create_task(reader.start())
    await eventually(lambda: slow_store.loads == 1)
    await eventually(lambda: reader.channel in writer.peering.peers_seen)  # the reader announced itself
    peer = RecordingPeer(1)
    await writer.join(peer)
    await writer.receive_frame(peer, p.encode_update(text_update("during load", client_id=4)))
    await eventually(lambda: not writer.peering._outgoing)  # published while the reader loads
    await asyncio.sleep(0.05)
    assert not reader_is_ready(slow_store)
    gate.set()
    await loading
    assert text_of(reader) == "during load"
    await writer.stop()
    await reader.stop()


async def test_compaction_is_requested_past_the_threshold() -> None:
    store = MemoryStore()
    room = await started_room(InMemoryChannelLayer(), store)
    peer = RecordingPeer(1)
    await room.join(peer)
    base = b""
    for index in range(FAST.compact_threshold + 1):
        update = text_update(str(index), client_id=20 + index, base=base)
        base = update if not base else room.doc.get_update()
        await room.receive_frame(peer, p.encode_update(update))
        await asyncio.sleep(FAST.flush_interval * 2)
    await eventually(lambda: store.compactions >= 1)
    await room.stop()


class CountingLayer(InMemoryChannelLayer):
    def __init__(self) -> None:
        super().__init__()
        self.sent: list[str] = []

    async def group_send(self, group: str, message: dict[str, Any]) -> None:
        inner = message["messages"] if message["type"] == "room.batch" else [message]
        self.sent += [m["type"] for m in inner]
        await super().group_send(group, message)


async def test_a_room_alone_in_its_group_publishes_no_updates() -> None:
    layer = CountingLayer()
    room = await started_room(layer)
    peer = RecordingPeer(1)
    await room.join(peer)
    await room.receive_frame(peer, p.encode_update(text_update("alone", client_id=12)))
    await room.receive_frame(peer, p.encode_awareness([p.AwarenessEntry(12, 1, "{}")]))
    await asyncio.sleep(FAST.flush_interval * 3)
    assert "room.update" not in layer.sent and "room.awareness" not in layer.sent
    assert layer.sent[:2] == ["room.join", "room.sv"]  # it still announces itself
    other = await started_room(layer)
    await eventually(lambda: other.channel in room.peering.peers_seen)
    await room.receive_frame(peer, p.encode_update(text_update("!", client_id=13)))
    await eventually(lambda: "room.update" in layer.sent)
    await eventually(lambda: text_of(other) in ("alone!", "!alone"))
    await room.stop()
    await other.stop()


async def test_hostile_awareness_states_are_refused_or_made_harmless() -> None:
    room = await started_room(InMemoryChannelLayer())
    attacker, other = RecordingPeer(1, can_write=False), RecordingPeer(2)
    await room.join(attacker)
    await room.join(other)
    # a lone surrogate must not break the encoding of the state for everyone else
    await room.receive_frame(attacker, p.encode_awareness([p.AwarenessEntry(5, 1, '{"x":"\\ud800"}')]))
    newcomer = RecordingPeer(3)
    await room.join(newcomer)
    assert isinstance(newcomer.messages()[-1], p.AwarenessMessage)
    for state in ("[" * 5000 + "]" * 5000, '{"big":"' + "x" * 20000 + '"}'):
        with pytest.raises(p.ProtocolError):
            await room.receive_frame(attacker, p.encode_awareness([p.AwarenessEntry(6, 1, state)]))
    # one frame cannot claim more than a handful of client ids
    flood = [p.AwarenessEntry(1000 + i, 1, "{}") for i in range(1000)]
    await room.receive_frame(attacker, p.encode_awareness(flood))
    assert len(room.awareness.live_entries(owner=attacker.peer_id)) <= 8
    await room.stop()


async def test_a_burst_of_awareness_changes_goes_out_as_one_frame_per_socket() -> None:
    room = await started_room(InMemoryChannelLayer())
    peers = [RecordingPeer(index) for index in range(1, 51)]
    for peer in peers:
        await room.join(peer)
    before = [len(peer.frames) for peer in peers]
    for index, peer in enumerate(peers):  # fifty clients announce themselves in one turn
        await room.receive_frame(peer, p.encode_awareness([p.AwarenessEntry(500 + index, 1, "{}")]))
    await awareness_sent(room)
    for index, peer in enumerate(peers):
        new = peer.messages()[before[index] :]
        assert len(new) == 1  # not 49 frames
        message = new[0]
        assert isinstance(message, p.AwarenessMessage)
        assert {entry.client_id for entry in message.entries} == {500 + i for i in range(50)} - {500 + index}
    await room.stop()


async def test_the_removal_of_a_state_at_the_largest_clock_stays_encodable() -> None:
    """A removal announces clock + 1; at 2**53 - 1 it keeps the clock (y-protocols accepts that)."""
    room = await started_room(InMemoryChannelLayer())
    viewer, other = RecordingPeer(1, can_write=False), RecordingPeer(2)
    await room.join(viewer)
    await room.join(other)
    await room.receive_frame(viewer, p.encode_awareness([p.AwarenessEntry(7, p.MAX_VAR_UINT, "{}")]))
    await room.leave(viewer)
    await awareness_sent(room)
    removal = other.messages()[-1]
    assert isinstance(removal, p.AwarenessMessage)
    assert removal.entries == (p.AwarenessEntry(7, p.MAX_VAR_UINT, "null"),)
    assert p.decode_message(other.frames[-1]) == removal  # our own decoder reads it back
    await room.stop()


async def test_a_removed_client_id_stays_its_users_until_the_tombstone_expires() -> None:
    room = await started_room(InMemoryChannelLayer())
    alice, mallory, watcher = RecordingPeer(1), RecordingPeer(2), RecordingPeer(3)
    for peer in (alice, mallory, watcher):
        await room.join(peer)
    await room.receive_frame(alice, p.encode_awareness([p.AwarenessEntry(70, 3, "{}")]))
    await room.leave(alice)  # her state is removed (clock 4, null)
    await room.receive_frame(mallory, p.encode_awareness([p.AwarenessEntry(70, 10**15, "{}")]))
    assert room.awareness.owner_of(70) == alice.peer_id  # not taken over
    back = RecordingPeer(1)  # alice again, on a new socket
    await room.join(back)
    await room.receive_frame(back, p.encode_awareness([p.AwarenessEntry(70, 5, "{}")]))
    assert room.awareness.owner_of(70) == back.peer_id
    await room.stop()
