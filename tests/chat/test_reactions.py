"""Reactions, the message payload and resume frame types, on the real database."""

from __future__ import annotations

from typing import Any

import pytest

from chat import selectors, services
from chat.models import ChatMessage, ChatReaction, ChatRoom
from chat.payloads import change_event, message_payload
from tests.chat.test_services import refused_code, room_with, user

pytestmark = pytest.mark.django_db


def versions(room: ChatRoom, message: ChatMessage) -> tuple[int, int]:
    """(the room's last version, the message's version) as stored."""
    room.refresh_from_db()
    message.refresh_from_db()
    return room.last_version, message.version_seq


def test_a_reaction_change_takes_one_version_and_a_no_op_takes_none() -> None:
    alice, bob = user("alice"), user("bob")
    room = room_with(alice, bob)
    message, _ = services.post_message(room.pk, alice.pk, "a-0", "hello")
    assert versions(room, message) == (1, 1)
    services.toggle_reaction(message.room_id, message.pk, bob.pk, "👍", add=True)
    assert versions(room, message) == (2, 2) and message.last_change == "reacted"
    services.toggle_reaction(message.room_id, message.pk, bob.pk, "👍", add=True)  # already there
    services.toggle_reaction(message.room_id, message.pk, alice.pk, "🎉", add=False)  # never there
    services.toggle_reaction(message.room_id, message.pk, alice.pk, "👍", add=False)  # someone else's
    assert versions(room, message) == (2, 2)
    services.toggle_reaction(message.room_id, message.pk, bob.pk, "👍", add=False)
    assert versions(room, message) == (3, 3)
    assert not ChatReaction.objects.filter(message=message).exists()


def test_the_payload_groups_reactions_by_emoji_in_the_order_they_were_first_used() -> None:
    alice, bob, carol = user("alice"), user("bob"), user("carol")
    room = room_with(alice, bob, carol)
    message, _ = services.post_message(room.pk, alice.pk, "a-0", "hello")
    for who, emoji in ((bob, "👍"), (carol, "🎉"), (alice, "👍"), (carol, "👍"), (alice, "🎉")):
        services.toggle_reaction(message.room_id, message.pk, who.pk, emoji, add=True)
    services.toggle_reaction(message.room_id, message.pk, alice.pk, "🎉", add=False)
    payload = message_payload(ChatMessage.objects.get(pk=message.pk))
    assert payload["reactions"] == [
        {"emoji": "👍", "count": 3, "users": ["bob", "alice", "carol"]},
        {"emoji": "🎉", "count": 1, "users": ["carol"]},
    ]
    # the prefetched path (selectors) gives the same answer
    assert message_payload(selectors.history_after(room.pk, 0)[0])["reactions"] == payload["reactions"]
    assert payload["change"] == "reacted" and payload["reply_count"] == 0


@pytest.mark.parametrize("emoji", ["", "a b", "👍\n", "\t", "x" * 33, 7, None])
def test_emoji_are_1_to_32_characters_without_whitespace(emoji: Any) -> None:
    alice = user("alice")
    room = room_with(alice)
    message, _ = services.post_message(room.pk, alice.pk, "a-0", "hello")
    assert (
        refused_code(services.toggle_reaction, message.room_id, message.pk, alice.pk, emoji, True)
        == "invalid_emoji"
    )
    assert versions(room, message) == (1, 1)


def test_long_composed_emoji_and_short_names_are_accepted() -> None:
    alice = user("alice")
    room = room_with(alice)
    message, _ = services.post_message(room.pk, alice.pk, "a-0", "hello")
    family = "👨\u200d👩\u200d👧\u200d👦"  # one glyph, seven code points
    for emoji in (family, "x" * 32, ":+1:"):
        message = services.toggle_reaction(message.room_id, message.pk, alice.pk, emoji, add=True)
    assert [r["emoji"] for r in message_payload(message)["reactions"]] == [family, "x" * 32, ":+1:"]


def test_only_members_react_to_live_messages_of_unarchived_rooms() -> None:
    alice, bob = user("alice"), user("bob")
    room = room_with(alice)
    message, _ = services.post_message(room.pk, alice.pk, "a-0", "hello")
    assert (
        refused_code(services.toggle_reaction, message.room_id, message.pk, bob.pk, "👍", True)
        == "not_member"
    )
    services.set_archived(room.pk, alice.pk, True)
    assert (
        refused_code(services.toggle_reaction, message.room_id, message.pk, alice.pk, "👍", True)
        == "archived"
    )
    services.set_archived(room.pk, alice.pk, False)
    services.toggle_reaction(message.room_id, message.pk, alice.pk, "👍", add=True)
    services.delete_message(message.room_id, message.pk, alice.pk)
    assert (
        refused_code(services.toggle_reaction, message.room_id, message.pk, alice.pk, "👍", False)
        == "deleted"
    )
    assert message_payload(message)["reactions"] == []  # a tombstone keeps no reactions
    assert not ChatReaction.objects.filter(message=message).exists()


def test_edits_are_refused_in_archived_rooms_and_on_deleted_messages() -> None:
    alice = user("alice")
    room = room_with(alice)
    message, _ = services.post_message(room.pk, alice.pk, "a-0", "hello")
    stale = ChatMessage.objects.get(pk=message.pk)
    services.delete_message(message.room_id, message.pk, alice.pk)
    # the service reads the message under the lock, not what a caller loaded before the deletion
    assert refused_code(services.edit_message, stale.room_id, stale.pk, alice.pk, "again") == "deleted"
    assert (
        services.delete_message(stale.room_id, stale.pk, alice.pk).version_seq == 2
    )  # deleting twice changes nothing
    other, _ = services.post_message(room.pk, alice.pk, "a-1", "hello")
    services.set_archived(room.pk, alice.pk, True)
    assert refused_code(services.edit_message, other.room_id, other.pk, alice.pk, "late") == "archived"
    room.refresh_from_db()
    assert room.last_version == 3


def test_resume_gives_each_change_its_frame_type() -> None:
    alice, bob = user("alice"), user("bob")
    room = room_with(alice, bob)
    reacted, _ = services.post_message(room.pk, alice.pk, "a-0", "react to me")
    edited, _ = services.post_message(room.pk, alice.pk, "a-1", "edit me")
    deleted, _ = services.post_message(room.pk, alice.pk, "a-2", "delete me")
    untouched, _ = services.post_message(room.pk, alice.pk, "a-3", "leave me")
    held = 4  # the client holds every change up to version 4
    services.toggle_reaction(reacted.room_id, reacted.pk, bob.pk, "👍", add=True)
    services.edit_message(edited.room_id, edited.pk, alice.pk, "edited")
    services.delete_message(deleted.room_id, deleted.pk, alice.pk)
    fresh, _ = services.post_message(room.pk, bob.pk, "b-0", "new")
    services.toggle_reaction(
        fresh.room_id, fresh.pk, alice.pk, "🎉", add=True
    )  # new to the client: still message.new
    services.toggle_reaction(
        edited.room_id, edited.pk, bob.pk, "❤️", add=True
    )  # edited, then reacted: the latest change wins
    frames = [change_event(message_payload(m), held) for m in selectors.changes_after(room.pk, held)]
    assert [(f["type"], f["message"]["id"]) for f in frames] == [
        ("message.reaction", reacted.pk),
        ("message.delete", deleted.pk),
        ("message.new", fresh.pk),
        ("message.reaction", edited.pk),
    ]
    assert frames[3]["message"]["body"] == "edited"  # every frame carries the whole state
    assert [f["message"]["version_seq"] for f in frames] == [5, 7, 9, 10]
    assert untouched.pk not in [f["message"]["id"] for f in frames]
    # a client that saw version 6 gets the edit as an edit if nothing happened to it since
    edit_only, _ = services.post_message(room.pk, bob.pk, "b-1", "x")
    services.edit_message(edit_only.room_id, edit_only.pk, bob.pk, "y")
    frames = [change_event(message_payload(m), 11) for m in selectors.changes_after(room.pk, 11)]
    assert [f["type"] for f in frames] == ["message.edit"]
    assert frames[0]["message"]["change"] == "edited"


def test_pages_of_messages_cost_the_same_queries_however_many_reactions(
    django_assert_num_queries: Any,
) -> None:
    alice, bob = user("alice"), user("bob")
    room = room_with(alice, bob)
    for index in range(12):
        message, _ = services.post_message(
            room.pk, (alice if index % 2 else bob).pk, f"m-{index}", str(index)
        )
        services.toggle_reaction(message.room_id, message.pk, alice.pk, "👍", add=True)
        services.toggle_reaction(message.room_id, message.pk, bob.pk, "🎉", add=True)
        if index % 3 == 0:
            services.post_message(room.pk, bob.pk, f"r-{index}", "reply", message.pk)
    first = ChatMessage.objects.get(room=room, seq=1)
    reaction_counts: list[int] = []
    for read in (
        lambda: selectors.history_before(room.pk, None, 50),
        lambda: selectors.history_after(room.pk, 0, 50),
        lambda: selectors.changes_after(room.pk, 0, 50),
        lambda: selectors.thread(room.pk, first.pk),
    ):
        with django_assert_num_queries(2):  # the messages with authors, then reactions with users
            payloads = [message_payload(m) for m in read()]
        assert payloads and all(p["author"] for p in payloads)
        reaction_counts += [sum(r["count"] for r in p["reactions"]) for p in payloads]
    assert reaction_counts.count(2) == 12 * 3  # every top-level message, in the three log reads
