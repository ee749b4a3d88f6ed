"""Rooms, members, direct rooms and read markers on the real database."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.db import connection

from chat import selectors, services
from chat.models import ChatMember, ChatRoom, MemberRole, RoomKind
from tests.chat.test_services import refused_code, room_with, user

pytestmark = pytest.mark.django_db


def marker(room: ChatRoom, who: Any) -> int:
    return ChatMember.objects.get(room=room, user=who).last_read_seq


# -- read markers and unread counts ------------------------------------------------


def test_read_markers_only_move_forward_and_stop_at_the_last_message() -> None:
    alice, bob = user("alice"), user("bob")
    room = room_with(alice, bob)
    for index in range(6):
        services.post_message(room.pk, alice.pk, f"a-{index}", str(index))
    assert services.mark_read(room.pk, bob.pk, 4) == 4
    assert services.mark_read(room.pk, bob.pk, 2) == 4  # another device, behind: never back
    assert services.mark_read(room.pk, bob.pk, 4) == 4
    assert services.mark_read(room.pk, bob.pk, 99) == 6  # clamped to the room's last message
    assert marker(room, bob) == 6
    assert refused_code(services.mark_read, room.pk, bob.pk, -1) == "invalid"
    assert refused_code(services.mark_read, room.pk, bob.pk, "3") == "invalid"
    assert refused_code(services.mark_read, room.pk, user("carol").pk, 1) == "not_member"


def test_unread_counts_others_live_messages_and_replies_after_the_marker() -> None:
    alice, bob = user("alice"), user("bob")
    room = room_with(alice, bob)
    top, _ = services.post_message(room.pk, alice.pk, "a-0", "top")  # 1
    services.post_message(room.pk, bob.pk, "b-0", "mine")  # 2: his own, never unread
    services.post_message(room.pk, alice.pk, "a-1", "reply", top.pk)  # 3
    gone, _ = services.post_message(room.pk, alice.pk, "a-2", "gone")  # 4
    services.post_message(room.pk, alice.pk, "a-3", "last")  # 5
    assert selectors.unread_count(room, bob) == 4
    services.delete_message(gone.room_id, gone.pk, alice.pk)
    assert selectors.unread_count(room, bob) == 3
    services.mark_read(room.pk, bob.pk, 3)
    assert selectors.unread_count(room, bob) == 1
    assert selectors.unread_count(room, alice) == 1  # bob's message
    assert selectors.unread_count(room, user("carol")) == 0  # no marker, nothing counted
    rows = {row.user_id: row for row in ChatMember.objects.filter(room=room)}
    assert rows[bob.pk].last_read_seq == 3


def test_the_room_list_has_role_archive_marker_unread_and_direct_members(
    django_assert_num_queries: Any,
) -> None:
    alice, bob, carol = user("alice"), user("bob"), user("carol")
    team = room_with(alice, bob, name="team", kind=RoomKind.PRIVATE)
    old = room_with(bob, alice, name="old")
    services.post_message(old.pk, bob.pk, "b-0", "old news")
    services.set_archived(old.pk, bob.pk, True)
    pair, _ = services.open_direct(alice.pk, [bob.pk])
    trio, _ = services.open_direct(carol.pk, [bob.pk, alice.pk])
    services.post_message(team.pk, bob.pk, "b-1", "hi")
    services.post_message(team.pk, bob.pk, "b-2", "there")
    services.mark_read(team.pk, alice.pk, 1)
    with django_assert_num_queries(2):  # rooms with counts, then the members of direct rooms
        rows = list(selectors.rooms_with_unread(alice))
        direct = {row.room.pk: [m.user.username for m in row.room.direct_members] for row in rows}  # type: ignore[attr-defined]
    by_room = {row.room.pk: row for row in rows}
    assert set(by_room) == {team.pk, old.pk, pair.pk, trio.pk}
    assert (by_room[team.pk].role, by_room[team.pk].last_read_seq, by_room[team.pk].unread) == (  # type: ignore[attr-defined]
        MemberRole.OWNER,
        1,
        1,
    )
    assert by_room[old.pk].room.archived_at is not None and by_room[old.pk].role == MemberRole.MEMBER
    assert by_room[old.pk].unread == 1  # type: ignore[attr-defined]
    assert direct[pair.pk] == ["alice", "bob"] and direct[trio.pk] == ["alice", "bob", "carol"]
    assert direct[team.pk] == []
    assert rows[0].room.pk == team.pk  # busiest first


def test_public_rooms_list_unarchived_public_rooms_with_joined() -> None:
    alice, bob = user("alice"), user("bob")
    lobby = room_with(alice, bob, name="lobby")
    quiet = room_with(alice, name="quiet")
    room_with(alice, bob, name="secret", kind=RoomKind.PRIVATE)
    gone = room_with(alice, name="attic")
    services.set_archived(gone.pk, alice.pk, True)
    services.open_direct(alice.pk, [bob.pk])
    assert [(r.pk, r.joined) for r in selectors.public_rooms(bob)] == [(lobby.pk, True), (quiet.pk, False)]  # type: ignore[attr-defined]
    assert [m.user.username for m in selectors.members(lobby)] == ["alice", "bob"]


# -- rename, archive ------------------------------------------------------------------


def test_only_owners_rename_and_archive() -> None:
    alice, bob = user("alice"), user("bob")
    room = room_with(alice, bob)
    assert refused_code(services.rename_room, room.pk, bob.pk, "mine") == "forbidden"
    assert refused_code(services.set_archived, room.pk, bob.pk, True) == "forbidden"
    assert refused_code(services.rename_room, room.pk, alice.pk, "  ") == "invalid_name"
    assert refused_code(services.rename_room, room.pk, alice.pk, "x" * 201) == "invalid_name"
    assert services.rename_room(room.pk, alice.pk, "  renamed ").name == "renamed"
    archived_at = services.set_archived(room.pk, alice.pk, True).archived_at
    assert archived_at is not None
    assert services.set_archived(room.pk, alice.pk, True).archived_at == archived_at  # already archived
    assert services.set_archived(room.pk, alice.pk, False).archived_at is None
    room.refresh_from_db()
    assert (room.name, room.archived_at) == ("renamed", None)


def test_nobody_joins_or_is_added_to_an_archived_room() -> None:
    alice, bob = user("alice"), user("bob")
    room = room_with(alice)
    services.set_archived(room.pk, alice.pk, True)
    assert refused_code(services.join_room, room.pk, bob.pk) == "archived"
    assert refused_code(services.add_member, room.pk, alice.pk, bob.pk) == "archived"


# -- leaving and removing ---------------------------------------------------------------


def test_the_last_owner_cannot_leave_while_others_remain() -> None:
    alice, bob, carol = user("alice"), user("bob"), user("carol")
    room = room_with(alice, bob)
    assert refused_code(services.leave_room, room.pk, alice.pk) == "last_owner"
    assert refused_code(services.remove_member, room.pk, alice.pk, alice.pk) == "last_owner"
    assert refused_code(services.leave_room, room.pk, carol.pk) == "not_member"
    ChatMember.objects.filter(room=room, user=bob).update(role=MemberRole.OWNER)
    services.leave_room(room.pk, alice.pk)  # bob still owns it
    services.add_member(room.pk, bob.pk, carol.pk)
    assert refused_code(services.leave_room, room.pk, bob.pk) == "last_owner"
    services.leave_room(room.pk, carol.pk)
    assert [m.user.username for m in selectors.members(room)] == ["bob"]
    services.leave_room(room.pk, bob.pk)  # the last owner of an empty room may go
    assert not ChatMember.objects.filter(room=room).exists()


def test_owners_remove_members_and_others_cannot() -> None:
    alice, bob, carol = user("alice"), user("bob"), user("carol")
    room = room_with(alice, bob, carol, kind=RoomKind.PRIVATE)
    assert refused_code(services.remove_member, room.pk, bob.pk, carol.pk) == "forbidden"
    services.remove_member(room.pk, alice.pk, carol.pk)
    assert refused_code(services.remove_member, room.pk, alice.pk, carol.pk) == "not_found"
    assert not selectors.can_read(room, carol)
    assert refused_code(services.post_message, room.pk, carol.pk, "c-0", "still here?") == "not_member"
    assert [m.user.username for m in selectors.members(room)] == ["alice", "bob"]


def test_members_of_public_rooms_invite_and_only_owners_of_private_rooms_do() -> None:
    alice, bob, carol, dave = user("alice"), user("bob"), user("carol"), user("dave")
    public = room_with(alice, bob)
    private = room_with(alice, bob, name="private", kind=RoomKind.PRIVATE)
    services.add_member(public.pk, bob.pk, carol.pk)
    assert refused_code(services.add_member, private.pk, bob.pk, carol.pk) == "forbidden"
    assert refused_code(services.add_member, public.pk, dave.pk, dave.pk) == "forbidden"  # not a member
    assert refused_code(services.join_room, private.pk, dave.pk) == "forbidden"
    assert services.join_room(public.pk, dave.pk).role == MemberRole.MEMBER
    assert services.join_room(public.pk, dave.pk).role == MemberRole.MEMBER  # joining twice is harmless
    assert refused_code(services.create_room, alice.pk, "dm", RoomKind.DIRECT) == "invalid_kind"


# -- direct rooms -------------------------------------------------------------------------


def test_one_set_of_people_has_one_direct_room_whoever_opens_it_in_any_order() -> None:
    alice, bob, carol = user("alice"), user("bob"), user("carol")
    room, created = services.open_direct(alice.pk, [carol.pk, bob.pk])
    assert created and room.kind == RoomKind.DIRECT and room.name == "alice, bob, carol"
    assert room.direct_key == ",".join(str(pk) for pk in sorted([alice.pk, bob.pk, carol.pk]))
    assert services.open_direct(bob.pk, [alice.pk, carol.pk]) == (room, False)
    assert services.open_direct(carol.pk, [bob.pk, alice.pk]) == (room, False)
    pair, created = services.open_direct(bob.pk, [alice.pk])
    assert created and pair.pk != room.pk
    roles = dict(ChatMember.objects.filter(room=room).values_list("user__username", "role"))
    assert roles == {"alice": "member", "bob": "member", "carol": "member"}


def test_direct_rooms_are_private_and_fixed() -> None:
    alice, bob, eve = user("alice"), user("bob"), user("eve")
    room, _ = services.open_direct(alice.pk, [bob.pk])
    assert selectors.can_read(room, bob) and not selectors.can_read(room, eve)
    assert refused_code(services.join_room, room.pk, eve.pk) == "forbidden"
    assert refused_code(services.add_member, room.pk, alice.pk, eve.pk) == "forbidden"
    assert refused_code(services.remove_member, room.pk, alice.pk, bob.pk) == "forbidden"
    assert refused_code(services.leave_room, room.pk, alice.pk) == "forbidden"
    assert refused_code(services.rename_room, room.pk, alice.pk, "us") == "forbidden"
    assert refused_code(services.set_archived, room.pk, alice.pk, True) == "forbidden"
    message, _ = services.post_message(room.pk, bob.pk, "b-0", "hi")
    assert (
        refused_code(services.delete_message, message.room_id, message.pk, alice.pk) == "forbidden"
    )  # nobody moderates


def test_a_direct_room_has_one_to_seven_other_distinct_people() -> None:
    people = [user(f"user{index}") for index in range(9)]
    me = people[0]
    for others in ([], people[1:9], [people[1], people[1]], [me], [me, people[1]]):
        assert refused_code(services.open_direct, me.pk, [person.pk for person in others]) == "invalid"
    room, created = services.open_direct(me.pk, [person.pk for person in people[1:8]])
    assert created and ChatMember.objects.filter(room=room).count() == 8


@pytest.mark.django_db(transaction=True)
def test_opening_the_same_direct_room_concurrently_creates_one() -> None:
    alice, bob = user("alice"), user("bob")
    start = threading.Barrier(4)
    results: list[tuple[int, bool]] = []
    errors: list[BaseException] = []

    def open_it(me: Any, other: Any) -> None:
        try:
            start.wait()
            room, created = services.open_direct(me.pk, [other.pk])
            results.append((room.pk, created))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    pairs = [(alice, bob), (bob, alice), (alice, bob), (bob, alice)]
    threads = [threading.Thread(target=open_it, args=pair) for pair in pairs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len({pk for pk, _ in results}) == 1 and len(results) == 4
    assert [created for _, created in results].count(True) == 1
    assert ChatRoom.objects.filter(kind=RoomKind.DIRECT).count() == 1
    assert ChatMember.objects.filter(room_id=results[0][0]).count() == 2
