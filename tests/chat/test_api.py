"""The chat REST contract through Django's test client."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from chat import services
from chat.models import ChatRoom
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
        services.post_message(room, users.get(username="alice"), f"a-{index}", f"hello {index}")
    services.post_message(room, users.get(username="bob"), "b-0", "hi")

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
