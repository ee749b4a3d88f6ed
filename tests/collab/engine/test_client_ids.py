"""Client ids belong to the user who first wrote under them: forged structs and pre-deletions are refused.

The attack: an editor sends an item under the victim's client id at the
victim's next clock. Yjs keeps the first struct for an id, so the victim's real
next edit is then dropped everywhere as already known, and so is everything
after it that builds on it.
"""

from __future__ import annotations

import json
from typing import Any

from channels.layers import InMemoryChannelLayer
from pycrdt import Doc, Text

from collab.engine import protocol as p
from collab.engine.client_ids import ClientOwners
from collab.engine.yupdate import parse_update
from tests.collab.engine.fakes import MemoryStore, RecordingPeer
from tests.collab.engine.test_room import eventually, started_room, text_of, text_update
from tests.collab.engine.test_room_fanout import two_workers


class Writer:
    """A Yjs client: one Doc with its own client id, as a browser tab holds it."""

    def __init__(self, client_id: int) -> None:
        self.doc: Doc[Any] = Doc(client_id=client_id)
        self.text = self.doc.get("t", type=Text)

    def type(self, content: str, at: int | None = None) -> bytes:
        before = self.doc.get_state()
        self.text.insert(len(self.text) if at is None else at, content)
        return self.doc.get_update(before)

    def delete(self, start: int, end: int) -> bytes:
        before = self.doc.get_state()
        del self.text[start:end]
        return self.doc.get_update(before)

    def receive(self, update: bytes) -> None:
        self.doc.apply_update(update)


def forged_insert(victim_client: int, victim_state: bytes, content: str) -> bytes:
    """What a forger sends: the victim's document so far, plus an item under the victim's id."""
    forger: Doc[Any] = Doc(client_id=victim_client)
    forger.apply_update(victim_state)
    before = forger.get_state()
    forger.get("t", type=Text).insert(0, content)
    return forger.get_update(before)


def denied(peer: RecordingPeer) -> list[str]:
    return [m.denied_reason for m in peer.messages() if isinstance(m, p.AuthMessage)]


async def test_structs_under_another_users_client_id_are_refused_and_the_victims_next_edit_survives() -> None:
    store = MemoryStore()
    room = await started_room(InMemoryChannelLayer(), store)
    victim, forger = RecordingPeer(1), RecordingPeer(2)
    await room.join(victim)
    await room.join(forger)
    tab = Writer(client_id=101)
    await room.receive_frame(victim, p.encode_update(tab.type("hello")))
    forged = forged_insert(101, tab.doc.get_update(), "FORGED")
    frames_before = len(victim.frames)
    await room.receive_frame(forger, p.encode_update(forged))
    assert text_of(room) == "hello"
    assert len(victim.frames) == frames_before  # nothing was forwarded
    assert denied(forger) == ["edits under another user's client id were not accepted"]
    await room.receive_frame(victim, p.encode_update(tab.type(" world")))
    assert text_of(room) == "hello world"
    await eventually(lambda: text_of(store.state()) == "hello world")
    assert all(author == 1 for _, author in store.rows)
    assert store.owners == {101: 1}
    await room.stop()


async def test_a_forged_update_keeps_the_forgers_own_structs_and_is_told_once() -> None:
    room = await started_room(InMemoryChannelLayer())
    victim, forger = RecordingPeer(1), RecordingPeer(2)
    await room.join(victim)
    await room.join(forger)
    tab = Writer(client_id=111)
    await room.receive_frame(victim, p.encode_update(tab.type("v")))
    own = Writer(client_id=222)
    own.receive(tab.doc.get_update())
    mixed = Doc(client_id=999)
    mixed.apply_update(tab.doc.get_update())
    mixed.apply_update(own.type("mine"))
    mixed.apply_update(forged_insert(111, tab.doc.get_update(), "X"))
    for _ in range(3):
        await room.receive_frame(forger, p.encode_update(mixed.get_update(p.encode_state_vector({111: 1}))))
    assert text_of(room) in ("vmine", "minev")
    assert "X" not in text_of(room)
    assert len(denied(forger)) == 1
    assert room.owners.owner(222) == 2 and room.owners.owner(111) == 1
    await room.stop()


async def test_pre_deleting_another_users_future_clocks_is_refused_deleting_their_text_is_not() -> None:
    room = await started_room(InMemoryChannelLayer())
    victim, other = RecordingPeer(1), RecordingPeer(2)
    await room.join(victim)
    await room.join(other)
    tab = Writer(client_id=121)
    await room.receive_frame(victim, p.encode_update(tab.type("abc")))
    # A delete set for clocks 3..10 of the victim, which it has not typed yet.
    pre_delete = b"\x00\x01" + p.encode_var_uint(121) + b"\x01" + p.encode_var_uint(3) + p.encode_var_uint(8)
    await room.receive_frame(other, p.encode_update(pre_delete))
    await room.receive_frame(victim, p.encode_update(tab.type("def")))
    assert text_of(room) == "abcdef"
    assert len(denied(other)) == 1
    # Deleting what the victim wrote is ordinary editing.
    editor = Writer(client_id=212)
    editor.receive(tab.doc.get_update())
    await room.receive_frame(other, p.encode_update(editor.delete(0, 2)))
    assert text_of(room) == "cdef"
    await room.stop()


async def test_a_client_id_announced_in_awareness_cannot_be_taken_before_its_first_edit() -> None:
    room = await started_room(InMemoryChannelLayer())
    victim, forger = RecordingPeer(1), RecordingPeer(2)
    await room.join(victim)
    await room.join(forger)
    await room.receive_frame(victim, p.encode_awareness([p.AwarenessEntry(131, 1, json.dumps({"c": 1}))]))
    await room.receive_frame(forger, p.encode_update(text_update("first!", client_id=131)))
    assert text_of(room) == ""
    await room.receive_frame(victim, p.encode_update(text_update("mine", client_id=131)))
    assert text_of(room) == "mine"
    assert room.owners.owner(131) == 1
    await room.stop()


async def test_awareness_cannot_pose_under_a_client_id_another_user_writes_with() -> None:
    room = await started_room(InMemoryChannelLayer())
    victim, poser = RecordingPeer(1), RecordingPeer(2)
    await room.join(victim)
    await room.join(poser)
    await room.receive_frame(victim, p.encode_update(text_update("v", client_id=141)))
    await room.receive_frame(poser, p.encode_awareness([p.AwarenessEntry(141, 5, json.dumps({"c": 2}))]))
    assert room.awareness.owner_of(141) is None
    await room.stop()


async def test_relayed_edits_of_an_unknown_client_apply_without_being_claimed_by_the_relay() -> None:
    """After a crash lost someone's unsaved edits, a client that had received them resends them.

    The relay announced its own client id, so the other id it carries is applied
    but stays unowned: its real author, reconnecting, can still write under it.
    """
    room = await started_room(InMemoryChannelLayer())
    relay, author = RecordingPeer(1), RecordingPeer(2)
    await room.join(relay)
    lost = Writer(client_id=151)
    relay_tab = Writer(client_id=152)
    relay_tab.receive(lost.type("lost edit "))
    relay_tab.type("relay's own")
    await room.receive_frame(relay, p.encode_awareness([p.AwarenessEntry(152, 1, json.dumps({}))]))
    await room.receive_frame(relay, p.encode_sync_step2(relay_tab.doc.get_update()))
    assert text_of(room) == "lost edit relay's own"
    assert room.owners.owner(152) == 1 and room.owners.owner(151) is None
    await room.join(author)
    lost.receive(relay_tab.doc.get_update())
    await room.receive_frame(author, p.encode_update(lost.type("!")))
    assert text_of(room) == "lost edit relay's own!"
    assert room.owners.owner(151) == 2
    await room.stop()


async def test_the_same_user_keeps_writing_under_its_client_id_from_a_new_socket() -> None:
    room = await started_room(InMemoryChannelLayer())
    first_socket, second_socket = RecordingPeer(1), RecordingPeer(1)
    await room.join(first_socket)
    tab = Writer(client_id=161)
    await room.receive_frame(first_socket, p.encode_update(tab.type("before ")))
    await room.leave(first_socket)
    await room.join(second_socket)
    await room.receive_frame(second_socket, p.encode_update(tab.type("after")))
    assert text_of(room) == "before after"
    await room.stop()


async def test_ownership_is_stored_with_the_log_and_holds_after_a_reload() -> None:
    store = MemoryStore()
    layer = InMemoryChannelLayer()
    room = await started_room(layer, store)
    victim = RecordingPeer(1)
    await room.join(victim)
    tab = Writer(client_id=171)
    await room.receive_frame(victim, p.encode_update(tab.type("kept")))
    await room.stop()
    assert store.owners == {171: 1}
    reloaded = await started_room(layer, store)
    forger = RecordingPeer(2)
    await reloaded.join(forger)
    await reloaded.receive_frame(forger, p.encode_update(forged_insert(171, tab.doc.get_update(), "F")))
    await reloaded.receive_frame(victim, p.encode_update(tab.type(" too")))
    assert text_of(reloaded) == "kept too"
    await reloaded.stop()


async def test_ownership_travels_to_the_other_worker_with_the_update(redis_layer: Any) -> None:
    first, second, victim, forger = await two_workers(redis_layer)
    tab = Writer(client_id=181)
    await first.receive_frame(victim, p.encode_update(tab.type("across")))
    await eventually(lambda: text_of(second) == "across")
    assert second.owners.owner(181) == 1
    await second.receive_frame(forger, p.encode_update(forged_insert(181, tab.doc.get_update(), "F")))
    await first.receive_frame(victim, p.encode_update(tab.type("!")))
    await eventually(lambda: text_of(second) == "across!")
    assert text_of(first) == "across!"
    await first.stop()
    await second.stop()


async def test_a_repair_carries_the_claims_its_lost_messages_had(redis_layer: Any) -> None:
    first, second, victim, forger = await two_workers(redis_layer)
    first.layer.drop_next_updates = 1
    tab = Writer(client_id=191)
    await first.receive_frame(victim, p.encode_update(tab.type("lost")))
    await eventually(lambda: text_of(second) == "lost", within=5)  # the state-vector round repairs it
    assert second.owners.owner(191) == 1
    await second.receive_frame(forger, p.encode_update(forged_insert(191, tab.doc.get_update(), "F")))
    assert text_of(second) == "lost"
    await first.stop()
    await second.stop()


def test_screening_changes_nothing_until_the_caller_records_the_claims() -> None:
    owners = ClientOwners({1: 10})
    update = text_update("x", client_id=2)
    screened = owners.screen(
        update,
        parse_update(update),
        user_id=20,
        announced=frozenset,
        live_user_of=lambda _: None,
        known_clocks=dict,
    )
    assert screened.claims == ((2, 20),) and screened.update is update
    assert owners.owner(2) is None
