"""`ws/chat`: one socket per tab for the room list: activity, read markers, membership changes.

It listens to the groups of every room the user belongs to plus the user's own
group (read markers from other devices, rooms joined or left), and forwards only
what a room list needs. The user counts as online while it is open.
"""

from __future__ import annotations

import logging
from typing import Any

from channels.db import database_sync_to_async

from chat import selectors
from chat.payloads import room_group, user_group
from chat.watch import ChatWatch
from collab.realtime.runtime import current_runtime
from collab.realtime.ws_json import JsonSocketConsumer
from presence.sockets import PresenceMixin

logger = logging.getLogger(__name__)


class InboxConsumer(PresenceMixin, JsonSocketConsumer):
    metrics_kind = "inbox"
    room_id = 0  # for the watch: no room, only the authentication is re-checked
    chat_watch: ChatWatch | None = None

    async def connect(self) -> None:
        self.rooms: set[int] = set()
        self.read_seen: dict[int, int] = {}
        user = await self.accept_user()
        if user is None:
            return
        self.user_id = int(user.pk)
        await self.channel_layer.group_add(user_group(self.user_id), self.channel_name)
        await self._follow_rooms()
        self.chat_watch = current_runtime().get(ChatWatch)
        self.chat_watch.add(self)  # closes the socket (4401) once its token is revoked
        await self.join_presence(None)  # only "online": the inbox is in no room

    async def _follow_rooms(self) -> None:
        """Listen to exactly the groups of the user's current rooms."""
        current = await database_sync_to_async(selectors.member_room_ids)(self.user_id)
        for room_id in current - self.rooms:
            await self.channel_layer.group_add(room_group(room_id), self.channel_name)
        for room_id in self.rooms - current:
            await self.channel_layer.group_discard(room_group(room_id), self.channel_name)
        self.rooms = current

    async def disconnect(self, code: int) -> None:
        """The base class has already given back the slot and the presence entry."""
        if not hasattr(self, "user_id"):
            return
        if self.chat_watch is not None:
            self.chat_watch.discard(self)
        await self.channel_layer.group_discard(user_group(self.user_id), self.channel_name)
        for room_id in self.rooms:
            await self.channel_layer.group_discard(room_group(room_id), self.channel_name)

    async def check(self, committed_version: int, is_member: bool, readable: bool) -> None:
        """The watch checks room sockets' access; an inbox has no room."""

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        if (
            isinstance(content, dict)
            and content.get("type") == "presence"
            and content.get("state") == "active"
        ):
            await self.presence_activity()
        elif isinstance(content, dict) and content.get("type") == "ping":
            await self.send_json({"type": "pong"})
        else:
            await self.send_error("unknown_type", "the inbox takes presence and ping frames")

    # -- group events -------------------------------------------------------

    async def chat_change(self, event: dict[str, Any]) -> None:
        message = event["message"]
        if message["created_version"] != message["version_seq"]:
            return  # edits, deletions and reactions do not change the room list
        await self.send_json(
            {
                "type": "room.activity",
                "room_id": event["room_id"],
                "seq": message["seq"],
                "author": message["author"],
                "parent_id": message["parent_id"],
            }
        )

    async def chat_read(self, event: dict[str, Any]) -> None:
        if event.get("user_id") != self.user_id:
            return
        room_id, seq = event["room_id"], event["seq"]
        if seq <= self.read_seen.get(room_id, -1):
            return  # it reaches us through the room's group and the user's group
        self.read_seen[room_id] = seq
        await self.send_json({"type": "read", "room_id": room_id, "user": event["user"], "seq": seq})

    async def chat_rooms_changed(self, event: dict[str, Any]) -> None:
        await self._follow_rooms()
        await self.send_json({"type": "rooms.changed"})

    async def chat_room(self, event: dict[str, Any]) -> None:
        """Members also get `chat.rooms_changed` on their own group: one refresh is enough."""

    async def chat_typing(self, event: dict[str, Any]) -> None:
        """Typing is shown inside a room only."""

    async def chat_membership(self, event: dict[str, Any]) -> None:
        """The affected user's inbox hears `chat.rooms_changed` on their own group."""
