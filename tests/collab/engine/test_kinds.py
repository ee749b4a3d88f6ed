"""Room kinds and their hooks, in process: validation (refuse, correct) and observers.

The same counter kind runs through real daphne workers and Yjs clients in
tests/e2e/test_room_kinds.py.
"""

from __future__ import annotations

from typing import Any

import pytest
from channels.layers import InMemoryChannelLayer
from pycrdt import Doc, Map

from collab.engine import protocol as p
from collab.engine.hooks import AppliedUpdate, ProposedChange, RoomHooks
from collab.engine.kinds import RoomKind, RoomKinds
from collab.engine.room import SERVER_OWNER, Room
from tests.collab.engine.fakes import MemoryStore, RecordingPeer
from tests.collab.engine.test_room import FAST, eventually
from tests.kinds.counter import CounterKind, counter_value


class Client:
    """A Yjs replica of one user, as a socket's client holds it."""

    def __init__(self, client_id: int) -> None:
        self.doc: Doc[Any] = Doc(client_id=client_id)

    def set(self, value: Any) -> bytes:
        before = self.doc.get_state()
        self.doc.get("counter", type=Map)["value"] = value
        return self.doc.get_update(before)

    def receive(self, peer: RecordingPeer) -> None:
        for message in peer.messages():
            if isinstance(message, p.SyncMessage) and message.step != p.SYNC_STEP1:
                self.doc.apply_update(message.payload)
        peer.frames.clear()


def values_seen_by(peer: RecordingPeer) -> list[Any]:
    """The counter after each update the peer received, replayed one by one."""
    replica: Doc[Any] = Doc()
    values = []
    for message in peer.messages():
        if isinstance(message, p.SyncMessage) and message.step == p.SYNC_UPDATE:
            replica.apply_update(message.payload)
            values.append(counter_value(replica))
    return values


def values_stored(store: MemoryStore) -> list[Any]:
    """The counter after each row of the log: what any replay of the history would show."""
    replica: Doc[Any] = Doc()
    values = []
    for update, _ in store.rows:
        replica.apply_update(update)
        values.append(counter_value(replica))
    return values


def denials(peer: RecordingPeer) -> list[str]:
    return [m.denied_reason for m in peer.messages() if isinstance(m, p.AuthMessage)]


async def counter_room(kind: CounterKind, layer: Any = None, key: str = "counter:c") -> Room:
    room = Room(key, "counter.c", kind.memory, layer or InMemoryChannelLayer(), FAST, hooks=kind.hooks)
    await room.start()
    return room


async def joined(room: Room, user_id: int) -> RecordingPeer:
    peer = RecordingPeer(user_id)
    await room.join(peer)
    peer.frames.clear()
    return peer


async def test_an_out_of_bounds_value_is_corrected_before_anyone_else_sees_it() -> None:
    kind = CounterKind()
    room = await counter_room(kind)
    alice, bob = await joined(room, 1), await joined(room, 2)
    client = Client(101)
    await room.receive_frame(alice, p.encode_update(client.set(4)))
    await room.receive_frame(alice, p.encode_update(client.set(50)))
    assert counter_value(room.doc) == 10
    assert values_seen_by(bob) == [4, 10]  # never 50
    client.receive(alice)  # the correction reaches the sender
    assert counter_value(client.doc) == 10
    await eventually(lambda: len(kind.memory.rows) >= 1)
    await room.stop()
    assert 50 not in values_stored(kind.memory) and values_stored(kind.memory)[-1] == 10


async def test_a_refused_change_is_applied_nowhere_stored_nowhere_and_the_sender_is_told() -> None:
    kind = CounterKind()
    room = await counter_room(kind)
    alice, bob = await joined(room, 1), await joined(room, 2)
    client = Client(102)
    await room.receive_frame(alice, p.encode_update(client.set(3)))
    bob.frames.clear()
    await room.receive_frame(alice, p.encode_update(client.set("three")))
    assert counter_value(room.doc) == 3
    assert bob.frames == []
    assert denials(alice) == ["change refused: the counter takes whole numbers"]
    assert alice.refused is None  # the socket stays open
    # The room goes on validating against its own state, not the refused one.
    other = Client(103)
    other.doc.apply_update(room.doc.get_update())
    await room.receive_frame(bob, p.encode_update(other.set(-5)))
    assert counter_value(room.doc) == 0
    await room.stop()
    assert "three" not in values_stored(kind.memory)


async def test_a_failing_validator_refuses_the_change_and_the_room_keeps_serving(
    caplog: pytest.LogCaptureFixture,
) -> None:
    calls: list[ProposedChange] = []

    def broken(change: ProposedChange) -> str | None:
        calls.append(change)
        if len(calls) == 1:
            raise RuntimeError("bug in a validator")
        return None

    room = Room(
        "counter:b", "counter.b", MemoryStore(), InMemoryChannelLayer(), FAST, hooks=RoomHooks(broken)
    )
    await room.start()
    alice = await joined(room, 1)
    client = Client(104)
    await room.receive_frame(alice, p.encode_update(client.set(1)))
    assert denials(alice) == ["change refused: the change could not be checked"]
    assert counter_value(room.doc) is None
    assert "validator failed" in caplog.text
    fresh = Client(105)
    await room.receive_frame(alice, p.encode_update(fresh.set(2)))
    assert counter_value(room.doc) == 2
    assert calls[-1].author == 1 and calls[-1].room_key == "counter:b"
    await room.stop()


async def test_nobody_may_write_under_the_client_id_of_the_rooms_corrections() -> None:
    kind = CounterKind()
    room = await counter_room(kind)
    assert room.owners.owner(room.server_client_id) == SERVER_OWNER
    mallory = await joined(room, 9)
    forger = Client(room.server_client_id)
    await room.receive_frame(mallory, p.encode_update(forger.set(7)))
    assert counter_value(room.doc) is None
    assert any("another user's client id" in reason for reason in denials(mallory))
    await room.stop()


async def test_observers_hear_local_updates_with_their_author_and_peer_updates_as_remote() -> None:
    layer = InMemoryChannelLayer()
    first_kind, second_kind = CounterKind(), CounterKind()
    first = await counter_room(first_kind, layer)
    second = await counter_room(second_kind, layer)
    alice = await joined(first, 1)
    await eventually(first.peering.has_peers)  # else the update would reach `second` as a repair
    client = Client(106)
    await room_frame(first, alice, client.set(12))
    local = [seen for seen in first_kind.seen if seen.local]
    assert [(seen.author, counter_value(seen.doc)) for seen in local] == [(1, 10)]
    await eventually(lambda: any(not seen.local for seen in second_kind.seen))
    remote = [seen for seen in second_kind.seen if not seen.local]
    assert [seen.author for seen in remote] == [1] and counter_value(second.doc) == 10
    await first.stop()
    await second.stop()


async def room_frame(room: Room, peer: RecordingPeer, update: bytes) -> None:
    await room.receive_frame(peer, p.encode_update(update))


async def test_a_failing_observer_costs_nothing_else(caplog: pytest.LogCaptureFixture) -> None:
    heard: list[AppliedUpdate] = []

    def failing(applied: AppliedUpdate) -> None:
        raise RuntimeError("bug in an observer")

    hooks = RoomHooks(observers=(failing, heard.append))
    room = Room("counter:o", "counter.o", MemoryStore(), InMemoryChannelLayer(), FAST, hooks=hooks)
    await room.start()
    alice, bob = await joined(room, 1), await joined(room, 2)
    await room_frame(room, alice, Client(107).set(5))
    assert len(heard) == 1 and values_seen_by(bob) == [5]
    assert "observer failed" in caplog.text
    await room.stop()


def test_a_kind_without_a_validator_runs_rooms_without_a_shadow() -> None:
    class Plain(RoomKind):
        name = "plain"
        path = r"^ws/plain/(?P<object_id>\w+)$"

    assert Plain().hooks == RoomHooks()
    assert CounterKind().hooks.validate is not None


async def test_documents_keep_no_shadow_copy() -> None:
    room = Room("doc:n", "doc.n", MemoryStore(), InMemoryChannelLayer(), FAST)
    await room.start()
    assert room.shadow is None
    await room.stop()


def test_the_kind_registry_refuses_bad_and_clashing_names() -> None:
    kinds = RoomKinds()
    kinds.register(CounterKind())
    kinds.register(CounterKind())  # the same kind again (a reloaded app) is fine

    class Impostor(CounterKind):
        pass

    with pytest.raises(ValueError):
        kinds.register(Impostor())

    class Dotted(CounterKind):
        name = "a.b"

    with pytest.raises(ValueError):
        kinds.register(Dotted())
    assert [kind.name for kind in kinds] == ["counter"]
    assert kinds.routes()[0].pattern.regex.match("ws/counters/abc")


def test_the_document_kind_is_registered_and_routed() -> None:
    from collab.conf.ws_routing import websocket_urlpatterns
    from collab.engine.kinds import room_kinds
    from documents.consumers import DocumentConsumer

    document_kind = room_kinds.get("doc")
    assert document_kind.socket() is DocumentConsumer
    route = websocket_urlpatterns[0]
    assert route.pattern.regex.match("ws/docs/5d0f1b9e-0000-4000-8000-000000000000")
