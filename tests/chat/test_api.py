"""The chat REST contract through Django's test client."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from chat import selectors, services
from chat.models import ChatMessage, ChatRoom
from tests.chat.test_services import user
from tests.documents.test_api import call, register_and_token

pytestmark = pytest.mark.django_db


@pytest.fixture
def client() -> Client:
    return Client()


def test_rooms_members_unread_and_history(client: Client) -> None:
    from django.contrib.auth import get_user_model

    alice, bob, carol = (register_and_token(client, name) for name in ("alice", "bob", "carol"))
    created = call(client, "post", "/api/chat/rooms", alice, {"name": "team", "private": True})
    assert created.status_code == 201
    room_id = created.json()["id"]
    path = f"/api/chat/rooms/{room_id}"

    # private: non-members can neither read nor be added by non-owners
    assert call(client, "get", f"{path}/messages", bob).status_code == 403
    assert call(client, "post", f"{path}/members", alice, {"username": "bob"}).status_code == 201
    assert call(client, "post", f"{path}/members", bob, {"username": "carol"}).status_code == 403
    assert call(client, "post", f"{path}/join", carol).status_code == 403
    assert call(client, "post", f"{path}/members", alice, {"username": "nobody"}).status_code == 404

    users = get_user_model().objects
    room = ChatRoom.objects.get(pk=room_id)
    for index in range(7):
        services.post_message(room.pk, users.get(username="alice").pk, f"a-{index}", f"hello {index}")
    services.post_message(room.pk, users.get(username="bob").pk, "b-0", "hi")

    rooms: list[dict[str, Any]] = call(client, "get", "/api/chat/rooms", bob).json()
    assert [(r["name"], r["unread"]) for r in rooms] == [("team", 7)]  # his own message is not unread

    newest = call(client, "get", f"{path}/messages?limit=3", bob).json()
    assert [m["seq"] for m in newest["messages"]] == [6, 7, 8] and newest["has_more"] is True
    older = call(client, "get", f"{path}/messages?before=6&limit=10", bob).json()
    assert [m["seq"] for m in older["messages"]] == [1, 2, 3, 4, 5] and older["has_more"] is False
    after = call(client, "get", f"{path}/messages?after=5&limit=2", bob).json()
    assert [m["seq"] for m in after["messages"]] == [6, 7] and after["has_more"] is True
    first = older["messages"][0]
    assert set(first) >= {"seq", "id", "client_id", "author", "body", "created_at", "edited_at", "deleted"}
    assert call(client, "get", f"{path}/messages?after=1&before=5", bob).status_code == 400
    assert call(client, "get", "/api/chat/rooms/999999/messages", bob).status_code == 404
    assert call(client, "get", f"{path}/messages", carol).status_code == 403


def test_public_rooms_are_readable_and_joinable(client: Client) -> None:
    alice, bob = (register_and_token(client, name) for name in ("alice", "bob"))
    room_id = call(client, "post", "/api/chat/rooms", alice, {"name": "lobby"}).json()["id"]
    assert call(client, "get", f"/api/chat/rooms/{room_id}/messages", bob).status_code == 200
    assert call(client, "post", f"/api/chat/rooms/{room_id}/join", bob).status_code == 204
    assert [r["name"] for r in call(client, "get", "/api/chat/rooms", bob).json()] == ["lobby"]
    assert call(client, "post", "/api/chat/rooms", alice, {"name": ""}).status_code == 400
    assert call(client, "get", "/api/chat/rooms").status_code == 401


def second_token(client: Client, username: str) -> str:
    """Another device of the same person: a token of its own."""
    response = call(
        client, "post", "/api/auth/token", body={"username": username, "password": f"pw-{username}-9x"}
    )
    assert response.status_code == 200
    token: str = response.json()["token"]
    return token


def person(username: str) -> Any:
    from django.contrib.auth import get_user_model

    return get_user_model().objects.get(username=username)


def test_room_list_fields_public_list_rename_and_archive(client: Client) -> None:
    alice, bob = (register_and_token(client, name) for name in ("alice", "bob"))
    created = call(client, "post", "/api/chat/rooms", alice, {"name": "lobby"})
    assert created.status_code == 201
    room = created.json()
    assert room == {
        "id": room["id"],
        "name": "lobby",
        "kind": "public",
        "archived": False,
        "last_seq": 0,
        "last_version": 0,
        "last_read_seq": 0,
        "unread": 0,
        "role": "owner",
    }
    path = f"/api/chat/rooms/{room['id']}"
    public = call(client, "get", "/api/chat/rooms/public", bob).json()
    assert public == [{"id": room["id"], "name": "lobby", "kind": "public", "last_seq": 0, "joined": False}]
    assert call(client, "post", f"{path}/join", bob).status_code == 204
    assert call(client, "get", "/api/chat/rooms/public", bob).json()[0]["joined"] is True

    assert call(client, "patch", path, bob, {"name": "mine"}).status_code == 403
    assert call(client, "patch", path, alice, {}).status_code == 400
    assert call(client, "patch", path, alice, {"name": ""}).status_code == 400
    assert call(client, "patch", "/api/chat/rooms/999999", alice, {"name": "x"}).status_code == 404
    renamed = call(client, "patch", path, alice, {"name": "hall", "archived": True})
    assert renamed.status_code == 200
    assert (renamed.json()["name"], renamed.json()["archived"]) == ("hall", True)
    assert call(client, "get", "/api/chat/rooms/public", bob).json() == []
    listed = call(client, "get", "/api/chat/rooms", bob).json()
    assert [(r["name"], r["archived"], r["role"]) for r in listed] == [("hall", True, "member")]
    assert "members" not in listed[0]
    assert call(client, "patch", path, alice, {"archived": False}).json()["archived"] is False


def test_leave_members_and_removal(client: Client) -> None:
    alice, bob, carol = (register_and_token(client, name) for name in ("alice", "bob", "carol"))
    room_id = call(client, "post", "/api/chat/rooms", alice, {"name": "team", "private": True}).json()["id"]
    path = f"/api/chat/rooms/{room_id}"
    for name in ("bob", "carol"):
        assert call(client, "post", f"{path}/members", alice, {"username": name}).status_code == 201
    services.post_message(room_id, person("alice").pk, "a-0", "hi")
    services.mark_read(room_id, person("bob").pk, 1)
    members = call(client, "get", f"{path}/members", carol).json()
    assert members == [
        {"username": "alice", "role": "owner", "last_read_seq": 0},
        {"username": "bob", "role": "member", "last_read_seq": 1},
        {"username": "carol", "role": "member", "last_read_seq": 0},
    ]
    assert call(client, "post", f"{path}/leave", alice).status_code == 409  # the last owner
    assert call(client, "delete", f"{path}/members/carol", bob).status_code == 403
    assert call(client, "delete", f"{path}/members/nobody", alice).status_code == 404
    assert call(client, "delete", f"{path}/members/carol", alice).status_code == 204
    assert call(client, "delete", f"{path}/members/carol", alice).status_code == 404  # not a member now
    assert call(client, "get", f"{path}/members", carol).status_code == 403
    assert call(client, "post", f"{path}/leave", bob).status_code == 204
    assert call(client, "post", f"{path}/leave", bob).status_code == 403
    assert call(client, "get", "/api/chat/rooms", bob).json() == []
    assert call(client, "post", f"{path}/leave", alice).status_code == 204  # alone now
    assert call(client, "post", "/api/chat/rooms/999999/leave", alice).status_code == 404


def test_direct_rooms_over_rest(client: Client) -> None:
    alice, bob, carol = (register_and_token(client, name) for name in ("alice", "bob", "carol"))
    created = call(client, "post", "/api/chat/direct", alice, {"usernames": ["carol", "bob"]})
    assert created.status_code == 201
    room = created.json()
    assert (room["kind"], room["name"], room["members"], room["role"]) == (
        "direct",
        "alice, bob, carol",
        ["alice", "bob", "carol"],
        "member",
    )
    again = call(client, "post", "/api/chat/direct", bob, {"usernames": ["alice", "carol"]})
    assert again.status_code == 200 and again.json()["id"] == room["id"]
    assert call(client, "post", "/api/chat/direct", carol, {"usernames": ["bob"]}).status_code == 201
    listed = {r["id"]: r for r in call(client, "get", "/api/chat/rooms", carol).json()}
    assert listed[room["id"]]["members"] == ["alice", "bob", "carol"] and len(listed) == 2
    for bad in ([], ["alice"], ["bob", "bob"], [f"u{i}" for i in range(8)]):
        assert call(client, "post", "/api/chat/direct", alice, {"usernames": bad}).status_code == 400
    assert call(client, "post", "/api/chat/direct", alice, {"usernames": ["bob", "bob"]}).status_code == 400
    assert call(client, "post", "/api/chat/direct", alice, {"usernames": ["nobody"]}).status_code == 404
    path = f"/api/chat/rooms/{room['id']}"
    assert call(client, "patch", path, alice, {"name": "us"}).status_code == 403
    assert call(client, "post", f"{path}/members", alice, {"username": "bob"}).status_code == 403
    assert call(client, "post", f"{path}/leave", alice).status_code == 403


def test_threads_reactions_and_message_fields(client: Client) -> None:
    alice, bob = (register_and_token(client, name) for name in ("alice", "bob"))
    room_id = call(client, "post", "/api/chat/rooms", alice, {"name": "lobby"}).json()["id"]
    room = ChatRoom.objects.get(pk=room_id)
    path = f"/api/chat/rooms/{room_id}"
    parent, _ = services.post_message(room.pk, person("alice").pk, "a-0", "question")
    for index in range(3):
        services.post_message(room.pk, person("alice").pk, f"r-{index}", f"reply {index}", parent.pk)
    other = call(client, "post", "/api/chat/rooms", alice, {"name": "other"}).json()["id"]

    thread = call(client, "get", f"{path}/messages/{parent.pk}/thread?limit=2", bob).json()
    assert thread["parent"]["reply_count"] == 3 and thread["has_more"] is True
    assert [m["body"] for m in thread["replies"]] == ["reply 0", "reply 1"]
    rest = call(
        client, "get", f"{path}/messages/{parent.pk}/thread?after={thread['replies'][-1]['seq']}", bob
    )
    assert [m["body"] for m in rest.json()["replies"]] == ["reply 2"] and rest.json()["has_more"] is False
    assert call(client, "get", f"{path}/messages/999999/thread", bob).status_code == 404
    assert call(client, "get", f"/api/chat/rooms/{other}/messages/{parent.pk}/thread", bob).status_code == 404

    reactions = f"{path}/messages/{parent.pk}/reactions"
    assert call(client, "post", reactions, bob, {"emoji": "👍"}).status_code == 403  # not a member yet
    assert call(client, "post", f"{path}/join", bob).status_code == 204
    added = call(client, "post", reactions, bob, {"emoji": "👍"})
    assert added.status_code == 200
    assert added.json()["reactions"] == [{"emoji": "👍", "count": 1, "users": ["bob"]}]
    assert added.json()["change"] == "reacted"
    version = added.json()["version_seq"]
    assert call(client, "post", reactions, bob, {"emoji": "👍"}).json()["version_seq"] == version  # no-op
    assert call(client, "post", reactions, bob, {"emoji": "a b"}).status_code == 400
    assert call(client, "post", f"{path}/messages/999999/reactions", bob, {"emoji": "👍"}).status_code == 404
    removed = call(client, "delete", reactions, bob, {"emoji": "👍"})
    assert removed.status_code == 200 and removed.json()["reactions"] == []
    assert removed.json()["version_seq"] == version + 1

    page = call(client, "get", f"{path}/messages", bob).json()["messages"]
    assert set(page[0]) == {
        "id", "seq", "created_version", "version_seq", "client_id", "author", "body", "parent_id",
        "reply_count", "reactions", "created_at", "edited_at", "deleted", "change",
    }  # fmt: skip
    assert [(m["parent_id"], m["reply_count"]) for m in page] == [(None, 3)] + [(parent.pk, 0)] * 3
    services.delete_message(parent.room_id, parent.pk, person("alice").pk)
    assert call(client, "post", reactions, bob, {"emoji": "👍"}).status_code == 409


def test_read_markers_from_two_devices_of_one_person(client: Client) -> None:
    alice = register_and_token(client, "alice")
    phone = register_and_token(client, "bob")
    laptop = second_token(client, "bob")
    room_id = call(client, "post", "/api/chat/rooms", alice, {"name": "lobby"}).json()["id"]
    assert call(client, "post", f"/api/chat/rooms/{room_id}/read", phone, {"seq": 0}).status_code == 403
    assert call(client, "post", f"/api/chat/rooms/{room_id}/join", phone).status_code == 204
    room = ChatRoom.objects.get(pk=room_id)
    for index in range(5):
        services.post_message(room.pk, person("alice").pk, f"a-{index}", str(index))
    services.post_message(room.pk, person("bob").pk, "b-0", "mine")  # seq 6, never unread for bob

    def unread(token: str) -> int:
        rooms = call(client, "get", "/api/chat/rooms", token).json()
        return int(rooms[0]["unread"])

    assert unread(phone) == unread(laptop) == 5
    read = call(client, "post", f"/api/chat/rooms/{room_id}/read", phone, {"seq": 3})
    assert read.json() == {"last_read_seq": 3, "unread": 2}
    assert unread(laptop) == 2
    behind = call(client, "post", f"/api/chat/rooms/{room_id}/read", laptop, {"seq": 1})
    assert behind.json() == {"last_read_seq": 3, "unread": 2}  # never moves back
    ahead = call(client, "post", f"/api/chat/rooms/{room_id}/read", laptop, {"seq": 50})
    assert ahead.json() == {"last_read_seq": 6, "unread": 0}
    assert unread(phone) == 0
    assert call(client, "get", "/api/chat/rooms", phone).json()[0]["last_read_seq"] == 6
    assert call(client, "post", f"/api/chat/rooms/{room_id}/read", phone, {"seq": -1}).status_code == 400
    assert call(client, "post", f"/api/chat/rooms/{room_id}/read", phone, {"seq": "x"}).status_code in (
        400,
        422,
    )


def test_outsiders_get_403_from_every_call_on_a_private_room(client: Client) -> None:
    alice, eve = (register_and_token(client, name) for name in ("alice", "eve"))
    room_id = call(client, "post", "/api/chat/rooms", alice, {"name": "secret", "private": True}).json()["id"]
    message, _ = services.post_message(room_id, person("alice").pk, "a-0", "psst")
    path = f"/api/chat/rooms/{room_id}"
    calls = [
        ("get", f"{path}/messages", None),
        ("get", f"{path}/messages/{message.pk}/thread", None),
        ("get", f"{path}/members", None),
        ("post", f"{path}/members", {"username": "eve"}),
        ("delete", f"{path}/members/alice", None),
        ("post", f"{path}/join", None),
        ("post", f"{path}/leave", None),
        ("patch", path, {"name": "mine"}),
        ("post", f"{path}/read", {"seq": 1}),
        ("post", f"{path}/messages/{message.pk}/reactions", {"emoji": "👍"}),
        ("delete", f"{path}/messages/{message.pk}/reactions", {"emoji": "👍"}),
    ]
    for method, url, body in calls:
        assert call(client, method, url, eve, body).status_code == 403, (method, url)
        assert call(client, method, url, None, body).status_code == 401, (method, url)
    assert call(client, "get", "/api/chat/rooms/public").status_code == 401
    assert call(client, "post", "/api/chat/direct", None, {"usernames": ["alice"]}).status_code == 401


def store_log(room: ChatRoom, author: Any, count: int, parent: Any = None) -> None:
    """`count` messages appended to the room's log in one insert (numbers as the services take them)."""
    room.refresh_from_db()
    rows = [
        ChatMessage(
            room=room,
            seq=room.last_seq + index,
            created_version=room.last_version + index,
            version_seq=room.last_version + index,
            client_id=f"bulk-{room.last_seq + index}",
            author=author,
            body=f"message {room.last_seq + index}",
            parent=parent,
        )
        for index in range(1, count + 1)
    ]
    ChatMessage.objects.bulk_create(rows)
    last_seq, last_version = room.last_seq + count, room.last_version + count
    ChatRoom.objects.filter(pk=room.pk).update(last_seq=last_seq, last_version=last_version)


def test_pages_of_the_maximum_size_still_say_there_is_more(client: Client) -> None:
    """The look-ahead row must not be clamped away: 290 messages are not one page of 200."""
    alice = register_and_token(client, "alice")
    room_id = call(client, "post", "/api/chat/rooms", alice, {"name": "busy"}).json()["id"]
    room = ChatRoom.objects.get(pk=room_id)
    store_log(room, person("alice"), 290)
    path = f"/api/chat/rooms/{room_id}/messages"
    for limit in (200, 500):  # the maximum, and more than it (clamped to it)
        first = call(client, "get", f"{path}?after=0&limit={limit}", alice).json()
        assert (len(first["messages"]), first["has_more"]) == (200, True)
        rest = call(client, "get", f"{path}?after=200&limit={limit}", alice).json()
        assert ([m["seq"] for m in rest["messages"]], rest["has_more"]) == (list(range(201, 291)), False)
        newest = call(client, "get", f"{path}?limit={limit}", alice).json()
        assert (newest["messages"][0]["seq"], newest["has_more"]) == (91, True)
        oldest = call(client, "get", f"{path}?before=91&limit={limit}", alice).json()
        assert ([m["seq"] for m in oldest["messages"]], oldest["has_more"]) == (list(range(1, 91)), False)

    parent = ChatMessage.objects.get(room=room, seq=1)
    store_log(room, person("alice"), 210, parent=parent)
    thread = f"{path}/{parent.pk}/thread"
    for limit in (200, 500):
        page = call(client, "get", f"{thread}?limit={limit}", alice).json()
        assert (len(page["replies"]), page["has_more"]) == (200, True)
        last = page["replies"][-1]["seq"]
        rest = call(client, "get", f"{thread}?after={last}&limit={limit}", alice).json()
        assert (len(rest["replies"]), rest["has_more"]) == (10, False)


def test_resume_pages_of_the_maximum_size_still_say_there_is_more() -> None:
    alice = user("alice")
    room = services.create_room(alice.pk, "busy")
    store_log(room, alice, 201)
    page = selectors.changes_page(room.pk, 0, selectors.MAX_PAGE)
    assert (len(page.messages), page.has_more) == (selectors.MAX_PAGE, True)
    assert selectors.changes_page(room.pk, selectors.MAX_PAGE, selectors.MAX_PAGE).has_more is False
