"""The JSON socket base (collab.realtime.ws_json) under failure: what a socket holds comes back on every exit.

In-process sockets over the real Redis layer, presence store and PostgreSQL. A
"failure" is an exception injected into a handler of a subclass, which is what a
bug, a database outage or hostile input turns into.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator
from django.db import connections as db_connections
from django.urls import re_path

from chat.consumers import ChatConsumer
from chat.inbox import InboxConsumer
from chat.models import ChatRoom, RoomKind
from chat.payloads import room_group, user_group
from collab.conf.ws_routing import websocket_urlpatterns
from collab.realtime.daphne.limits import frame_limit_for
from collab.realtime.db_pool import close_write_pool
from collab.realtime.runtime import current_runtime
from collab.realtime.ws_json import MAX_FRAME_CHARS
from presence.hub import PresenceHub
from presence.objects import chat_object
from tests.chat.test_services import room_with, user

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("worker_runtime")]


class InjectedError(RuntimeError):
    pass


class FailingInbox(InboxConsumer):
    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        if isinstance(content, dict) and content.get("type") == "boom":
            raise InjectedError("a frame handler failed")
        await super().receive_json(content, **kwargs)

    async def chat_rooms_changed(self, event: dict[str, Any]) -> None:
        raise InjectedError("a group event handler failed")


class FailingRoom(ChatConsumer):
    async def chat_room(self, event: dict[str, Any]) -> None:
        raise InjectedError("a group event handler failed")


class FailingConnect(ChatConsumer):
    def _access(self, user: Any) -> tuple[ChatRoom | None, bool, bool]:
        raise InjectedError("the database is down")


application = URLRouter(
    [
        re_path(r"^inbox$", FailingInbox.as_asgi()),
        re_path(r"^room/(?P<room_id>\d+)$", FailingRoom.as_asgi()),
        re_path(r"^connect/(?P<room_id>\d+)$", FailingConnect.as_asgi()),
    ]
)


@pytest.fixture(autouse=True)
async def close_connections() -> AsyncIterator[None]:
    yield
    await database_sync_to_async(db_connections.close_all)()
    await sync_to_async(close_write_pool)()


def hub() -> PresenceHub:
    return current_runtime().get(PresenceHub)


def open_count() -> int:
    return current_runtime().connections.open


async def open_socket(path: str, member: Any) -> WebsocketCommunicator:
    communicator = WebsocketCommunicator(application, path)
    communicator.scope["user"] = member
    communicator.scope["origin_allowed"] = True
    connected, _ = await communicator.connect()
    assert connected
    return communicator


async def next_frame(socket: WebsocketCommunicator, kind: str) -> dict[str, Any]:
    while True:
        frame: dict[str, Any] = await socket.receive_json_from(timeout=5)
        if frame["type"] == kind:
            return frame


async def close_code(socket: WebsocketCommunicator) -> int:
    while True:
        output = await socket.receive_output(timeout=5)
        if output["type"] == "websocket.close":
            code: int = output["code"]
            return code


async def online_ids() -> set[int]:
    return {person.user_id for person in await hub().online()}


async def test_a_failing_frame_handler_costs_the_frame_not_the_socket() -> None:
    alice = await sync_to_async(user)("alice")
    before = open_count()
    socket = await open_socket("inbox", alice)
    await socket.send_json_to({"type": "boom"})
    error = await next_frame(socket, "error")
    assert error["code"] == "internal"
    await socket.send_json_to({"type": "ping"})
    await next_frame(socket, "pong")
    assert open_count() == before + 1
    await socket.disconnect()
    assert open_count() == before


async def test_a_failing_event_handler_closes_and_releases_slot_and_presence() -> None:
    alice = await sync_to_async(user)("alice")
    before = open_count()
    socket = await open_socket("inbox", alice)
    await socket.send_json_to({"type": "ping"})
    await next_frame(socket, "pong")  # connected, counted and present
    assert open_count() == before + 1
    assert alice.pk in await online_ids()
    await get_channel_layer().group_send(user_group(alice.pk), {"type": "chat.rooms_changed"})
    assert await close_code(socket) == 4500
    await socket.wait(timeout=5)  # the application ended
    assert open_count() == before
    assert alice.pk not in await online_ids()
    assert not [w for w in hub().connections.values() if w.connection.user_id == alice.pk]


async def test_a_failing_room_socket_leaves_the_room_presence() -> None:
    alice, bob = await sync_to_async(user)("alice"), await sync_to_async(user)("bob")
    room = await sync_to_async(room_with)(alice, bob, kind=RoomKind.PRIVATE)
    before = open_count()
    socket = await open_socket(f"room/{room.pk}", bob)
    here = await next_frame(socket, "presence")
    assert [p["user"] for p in here["here"]] == ["bob"]
    event = {"type": "chat.room", "room": {"id": room.pk, "name": "x", "kind": "private", "archived": False}}
    await get_channel_layer().group_send(room_group(room.pk), event)
    assert await close_code(socket) == 4500
    await socket.wait(timeout=5)
    assert open_count() == before
    assert await hub().here(chat_object(room.pk)) == []


async def test_a_connect_that_fails_after_accepting_releases_its_slot() -> None:
    alice = await sync_to_async(user)("alice")
    room = await sync_to_async(room_with)(alice, kind=RoomKind.PRIVATE)
    before = open_count()
    socket = await open_socket(f"connect/{room.pk}", alice)
    assert await close_code(socket) == 4500
    await socket.wait(timeout=5)
    assert open_count() == before


async def test_a_cancelled_socket_releases_slot_and_presence() -> None:
    """What daphne does to an application that outlives its close timeout, and at shutdown."""
    alice = await sync_to_async(user)("alice")
    before = open_count()
    socket = await open_socket("inbox", alice)
    await socket.send_json_to({"type": "ping"})
    await next_frame(socket, "pong")
    socket.future.cancel()
    with pytest.raises(asyncio.CancelledError):
        await socket.future
    assert open_count() == before
    assert alice.pk not in await online_ids()


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("[" * 30_000 + "]" * 30_000, "too_deep"),
        ('{"a":' * 12_000, "too_deep"),
        ("", "bad_frame"),
        ("{not json", "bad_frame"),
        ("1" * 5000, "bad_frame"),  # past Python's int digit limit: a ValueError
    ],
    ids=["nested-arrays", "nested-objects", "empty", "not-json", "huge-int"],
)
async def test_undecodable_frames_get_an_error_and_the_socket_keeps_working(text: str, code: str) -> None:
    alice = await sync_to_async(user)("alice")
    room = await sync_to_async(room_with)(alice, kind=RoomKind.PRIVATE)
    before = open_count()
    for path in ("inbox", f"room/{room.pk}"):
        socket = await open_socket(path, alice)
        await socket.send_input({"type": "websocket.receive", "text": text})
        error = await next_frame(socket, "error")
        assert error["code"] == code
        await socket.send_json_to({"type": "ping"})
        await next_frame(socket, "pong")
        await socket.disconnect()
    assert open_count() == before


def test_each_socket_kind_has_its_own_transport_limit() -> None:
    server = 32 * 1024 * 1024
    chat = frame_limit_for("/ws/chat/12", server, websocket_urlpatterns)
    assert MAX_FRAME_CHARS < chat < 256 * 1024
    assert frame_limit_for("/ws/chat", server, websocket_urlpatterns) == chat
    assert frame_limit_for("/ws/docs/6f1c", server, websocket_urlpatterns) == server
    # An operator's smaller server-wide limit wins over what a socket kind declares.
    assert frame_limit_for("/ws/chat/12", 1000, websocket_urlpatterns) == 1000
