"""What the services announce, received through the real (Redis) channel layer after commit."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from channels.layers import get_channel_layer

from chat import services
from chat.models import ChatRoom, RoomKind
from chat.payloads import room_group, user_group
from tests.chat.test_services import room_with, user

pytestmark = pytest.mark.django_db

Events = dict[str, list[dict[str, Any]]]


def capture(capture_on_commit: Any, groups: list[str], action: Callable[[], Any]) -> Events:
    """Subscribe to `groups`, run `action` (its on-commit callbacks run), return what each group got.

    The action runs in this (the test's) thread, so it sees the test's transaction;
    the events travel through the configured layer like in production.
    """

    async def scenario() -> Events:
        layer = get_channel_layer()
        assert layer is not None
        channels = {group: await layer.new_channel() for group in groups}
        for group, channel in channels.items():
            await layer.group_add(group, channel)

        def act() -> None:
            with capture_on_commit(execute=True):
                action()

        await sync_to_async(act)()
        received: Events = {}
        for group, channel in channels.items():
            received[group] = []
            while True:
                try:
                    received[group].append(await asyncio.wait_for(layer.receive(channel), 0.3))
                except TimeoutError:
                    break
            await layer.group_discard(group, channel)
        return received

    result: Events = async_to_sync(scenario)()
    return result


def test_messages_edits_and_reactions_are_announced_once_and_no_ops_not_at_all(
    django_capture_on_commit_callbacks: Any,
) -> None:
    alice, bob = user("alice"), user("bob")
    room = room_with(alice, bob)
    group = room_group(room.pk)

    def post() -> None:
        services.post_message(room.pk, alice.pk, "a-0", "hello")
        # A retry takes no new version; it repeats the stored state (in case the first
        # announcement was lost), which sockets that have it drop.
        services.post_message(room.pk, alice.pk, "a-0", "hello")

    got = capture(django_capture_on_commit_callbacks, [group], post)[group]
    assert [(e["type"], e["message"]["version_seq"], e["message"]["change"]) for e in got] == [
        ("chat.change", 1, "created"),
        ("chat.change", 1, "created"),
    ]
    message = room.messages.get()

    def react() -> None:
        services.toggle_reaction(message.room_id, message.pk, bob.pk, "👍", add=True)
        services.toggle_reaction(message.room_id, message.pk, bob.pk, "👍", add=True)
        services.toggle_reaction(message.room_id, message.pk, alice.pk, "👍", add=False)

    got = capture(django_capture_on_commit_callbacks, [group], react)[group]
    assert len(got) == 1
    assert got[0]["message"]["reactions"] == [{"emoji": "👍", "count": 1, "users": ["bob"]}]
    assert (got[0]["message"]["version_seq"], got[0]["message"]["change"]) == (2, "reacted")


def test_read_markers_go_to_the_room_and_to_all_of_the_readers_devices(
    django_capture_on_commit_callbacks: Any,
) -> None:
    alice, bob = user("alice"), user("bob")
    room = room_with(alice, bob)
    for index in range(3):
        services.post_message(room.pk, alice.pk, f"a-{index}", str(index))
    groups = [room_group(room.pk), user_group(bob.pk), user_group(alice.pk)]

    def read() -> None:
        services.mark_read(room.pk, bob.pk, 2)
        services.mark_read(room.pk, bob.pk, 1)  # behind: no move, no event

    got = capture(django_capture_on_commit_callbacks, groups, read)
    expected = {"type": "chat.read", "room_id": room.pk, "user": "bob", "user_id": bob.pk, "seq": 2}
    assert got == {groups[0]: [expected], groups[1]: [expected], groups[2]: []}


def test_renames_and_archives_reach_the_room_and_every_members_room_list(
    django_capture_on_commit_callbacks: Any,
) -> None:
    alice, bob, carol = user("alice"), user("bob"), user("carol")
    room = room_with(alice, bob, kind=RoomKind.PRIVATE)
    groups = [room_group(room.pk), user_group(alice.pk), user_group(bob.pk), user_group(carol.pk)]

    def change() -> None:
        services.rename_room(room.pk, alice.pk, "renamed")
        services.set_archived(room.pk, alice.pk, True)

    got = capture(django_capture_on_commit_callbacks, groups, change)
    info = {"id": room.pk, "name": "renamed", "kind": "private"}
    assert got[groups[0]] == [
        {"type": "chat.room", "room": {**info, "archived": False}},
        {"type": "chat.room", "room": {**info, "archived": True}},
    ]
    assert got[groups[1]] == got[groups[2]] == [{"type": "chat.rooms_changed"}] * 2
    assert got[groups[3]] == []


def test_membership_changes_reach_the_room_and_the_person_concerned(
    django_capture_on_commit_callbacks: Any,
) -> None:
    alice, bob, carol = user("alice"), user("bob"), user("carol")
    room = room_with(alice, kind=RoomKind.PRIVATE)
    public = room_with(alice, name="lobby")
    groups = [room_group(room.pk), room_group(public.pk), user_group(bob.pk), user_group(carol.pk)]

    def change() -> None:
        services.add_member(room.pk, alice.pk, bob.pk)
        services.add_member(room.pk, alice.pk, bob.pk)  # already in: nothing
        services.join_room(public.pk, carol.pk)
        services.remove_member(room.pk, alice.pk, bob.pk)
        services.leave_room(public.pk, carol.pk)

    got = capture(django_capture_on_commit_callbacks, groups, change)
    assert got[groups[0]] == [
        {"type": "chat.membership", "user_id": bob.pk, "user": "bob", "action": "added"},
        {"type": "chat.membership", "user_id": bob.pk, "user": "bob", "action": "removed"},
    ]
    assert got[groups[1]] == [
        {"type": "chat.membership", "user_id": carol.pk, "user": "carol", "action": "added"},
        {"type": "chat.membership", "user_id": carol.pk, "user": "carol", "action": "removed"},
    ]
    assert got[groups[2]] == got[groups[3]] == [{"type": "chat.rooms_changed"}] * 2


def test_a_new_direct_room_appears_in_each_participants_room_list(
    django_capture_on_commit_callbacks: Any,
) -> None:
    alice, bob, carol = user("alice"), user("bob"), user("carol")
    groups = [user_group(alice.pk), user_group(bob.pk), user_group(carol.pk)]

    def open_twice() -> None:
        services.open_direct(alice.pk, [bob.pk])
        services.open_direct(bob.pk, [alice.pk])  # found, not created: nothing new to announce

    got = capture(django_capture_on_commit_callbacks, groups, open_twice)
    assert got == {
        groups[0]: [{"type": "chat.rooms_changed"}],
        groups[1]: [{"type": "chat.rooms_changed"}],
        groups[2]: [],
    }
    assert ChatRoom.objects.filter(kind=RoomKind.DIRECT).count() == 1


def test_refused_changes_announce_nothing(django_capture_on_commit_callbacks: Any) -> None:
    alice, bob = user("alice"), user("bob")
    room = room_with(alice, bob)
    message, _ = services.post_message(room.pk, alice.pk, "a-0", "hello")
    with django_capture_on_commit_callbacks() as callbacks:
        for refused in (
            lambda: services.toggle_reaction(message.room_id, message.pk, bob.pk, "no spaces", True),
            lambda: services.edit_message(message.room_id, message.pk, bob.pk, "not mine"),
            lambda: services.leave_room(room.pk, alice.pk),
            lambda: services.rename_room(room.pk, bob.pk, "mine"),
            lambda: services.post_message(room.pk, bob.pk, "b-0", "x", message.pk + 1000),
        ):
            with pytest.raises(services.ChatError):
                refused()
    assert callbacks == []
