"""The room socket's delivery guarantees when pub/sub loses or reorders events.

In-process sockets (Channels' communicator) over the real Redis layer and
PostgreSQL. A "lost" event is a change committed to the log whose announcement
never went out, which is what a worker killed between commit and publish, or a
dropped pub/sub message, leaves behind.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator
from django.db import connections

from chat import services
from chat.models import ChatMember, ChatMessage, ChatRoom, RoomKind
from chat.payloads import message_payload, room_group
from collab.conf.ws_routing import websocket_urlpatterns
from collab.realtime.db_pool import close_write_pool
from tests.chat.test_services import room_with, user

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("worker_runtime")]

application = URLRouter(websocket_urlpatterns)


@pytest.fixture(autouse=True)
async def quick_watch(settings: Any) -> AsyncIterator[None]:
    settings.COLLAB_CHAT_CHECK_SECONDS = 0.3
    yield
    # The sockets' queries ran in Channels' database thread and the write pool: close those
    # connections too, or the test database cannot be dropped.
    await database_sync_to_async(connections.close_all)()
    await sync_to_async(close_write_pool)()


async def open_socket(room: ChatRoom, member: Any, query: str = "") -> WebsocketCommunicator:
    communicator = WebsocketCommunicator(application, f"/ws/chat/{room.pk}{query}")
    communicator.scope["user"] = member
    communicator.scope["origin_allowed"] = True
    connected, _ = await communicator.connect()
    assert connected
    return communicator


async def frames_of(socket: WebsocketCommunicator, kind: str, count: int, within: float = 5) -> list[Any]:
    found: list[Any] = []
    while len(found) < count:
        frame = await socket.receive_json_from(timeout=within)
        if frame["type"].startswith(kind):
            found.append(frame)
    return found


def commit_silently(room: ChatRoom, author: Any, body: str) -> ChatMessage:
    """Store a message exactly as post_message does, minus the announcement."""
    room = ChatRoom.objects.get(pk=room.pk)
    room.last_seq += 1
    room.last_version += 1
    room.save(update_fields=["last_seq", "last_version"])
    return ChatMessage.objects.create(
        room=room,
        seq=room.last_seq,
        created_version=room.last_version,
        version_seq=room.last_version,
        client_id=f"silent-{room.last_seq}",
        author=author,
        body=body,
    )


async def test_a_lost_last_event_is_delivered_by_the_watch() -> None:
    alice, bob = await sync_to_async(user)("alice"), await sync_to_async(user)("bob")
    room = await sync_to_async(room_with)(alice, bob, kind=RoomKind.PRIVATE)
    socket = await open_socket(room, bob)
    await frames_of(socket, "presence", 1)
    await sync_to_async(commit_silently)(room, alice, "nobody announced me")
    [frame] = await frames_of(socket, "message.", 1, within=3)
    assert (frame["type"], frame["message"]["body"]) == ("message.new", "nobody announced me")
    await socket.disconnect()


async def test_a_gap_is_filled_from_the_log_in_order() -> None:
    alice, bob = await sync_to_async(user)("alice"), await sync_to_async(user)("bob")
    room = await sync_to_async(room_with)(alice, bob, kind=RoomKind.PRIVATE)
    socket = await open_socket(room, bob)
    await frames_of(socket, "presence", 1)  # set up: it has read the log's position
    messages = [await sync_to_async(commit_silently)(room, alice, f"m{i}") for i in range(3)]
    last = await sync_to_async(message_payload)(messages[-1])
    layer = get_channel_layer()
    await layer.group_send(room_group(room.pk), {"type": "chat.change", "room_id": room.pk, "message": last})
    got = await frames_of(socket, "message.", 3)
    assert [f["message"]["body"] for f in got] == ["m0", "m1", "m2"]
    extra = []  # and nothing twice
    while not await socket.receive_nothing(timeout=0.2):
        extra.append(await socket.receive_json_from())
    assert not [f for f in extra if f["type"].startswith("message.")]
    await socket.disconnect()


async def test_a_removal_whose_event_was_lost_still_closes_a_private_room() -> None:
    alice, bob = await sync_to_async(user)("alice"), await sync_to_async(user)("bob")
    room = await sync_to_async(room_with)(alice, bob, kind=RoomKind.PRIVATE)
    socket = await open_socket(room, bob)
    await sync_to_async(ChatMember.objects.filter(room=room, user=bob).delete)()
    while True:
        output = await socket.receive_output(timeout=3)
        if output["type"] == "websocket.close":
            break
    assert output["code"] == 4403


async def test_a_client_ahead_of_the_log_still_gets_new_changes() -> None:
    alice, bob = await sync_to_async(user)("alice"), await sync_to_async(user)("bob")
    room = await sync_to_async(room_with)(alice, bob, kind=RoomKind.PRIVATE)
    await sync_to_async(services.post_message)(room.pk, alice.pk, "c-1", "before")
    socket = await open_socket(room, bob, "?after_version=999")
    [done] = await frames_of(socket, "resume.", 1)
    assert done == {"type": "resume.done", "after_version": 1}
    await sync_to_async(services.post_message)(room.pk, alice.pk, "c-2", "after")
    [frame] = await frames_of(socket, "message.", 1)
    assert frame["message"]["body"] == "after"
    await socket.disconnect()


async def open_authenticated(path: str, member: Any, token_id: int | None) -> WebsocketCommunicator:
    communicator = WebsocketCommunicator(application, path)
    communicator.scope.update(user=member, origin_allowed=True, token_id=token_id)
    connected, _ = await communicator.connect()
    assert connected
    return communicator


async def closed_with(socket: WebsocketCommunicator, within: float = 3) -> int:
    while True:
        output = await socket.receive_output(timeout=within)
        if output["type"] == "websocket.close":
            code: int = output["code"]
            return code


async def test_sockets_of_a_revoked_token_close_4401_and_others_stay() -> None:
    from collab.accounts.services import issue_token, revoke_token

    alice = await sync_to_async(user)("alice")
    room = await sync_to_async(room_with)(alice, kind=RoomKind.PRIVATE)
    revoked = await sync_to_async(issue_token)(alice)
    kept = await sync_to_async(issue_token)(alice)
    room_socket = await open_authenticated(f"/ws/chat/{room.pk}", alice, revoked.token.pk)
    inbox = await open_authenticated("/ws/chat", alice, revoked.token.pk)
    other = await open_authenticated(f"/ws/chat/{room.pk}", alice, kept.token.pk)
    await sync_to_async(revoke_token)(alice, revoked.token.pk)
    assert await closed_with(room_socket) == 4401
    assert await closed_with(inbox) == 4401
    await other.send_json_to({"type": "ping"})
    assert (await frames_of(other, "pong", 1))[0] == {"type": "pong"}
    await other.disconnect()


async def test_session_sockets_of_a_deactivated_user_close_4401() -> None:
    alice = await sync_to_async(user)("alice")
    room = await sync_to_async(room_with)(alice, kind=RoomKind.PRIVATE)
    room_socket = await open_authenticated(f"/ws/chat/{room.pk}", alice, None)
    inbox = await open_authenticated("/ws/chat", alice, None)
    alice.is_active = False
    await sync_to_async(alice.save)(update_fields=["is_active"])
    assert await closed_with(room_socket) == 4401
    assert await closed_with(inbox) == 4401
