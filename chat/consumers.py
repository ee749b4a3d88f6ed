"""`ws/chat/{room_id}`: a room's live log, resumable from a sequence number.

Protocol (docs/api.md): the client connects with `?after=N` (the last
`version_seq` it holds; 0 for everything) and gets every change after it, in order and once,
capped at one page; then live changes. Frames in: `message.send`,
`message.edit`, `message.delete`, `resume`. Frames out: `message.new`,
`message.edit`, `message.delete`, `message.ack`, `resume.done` /
`resume.partial`, `error`. Invalid frames get an error frame, never a crash.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from chat import selectors, services
from chat.models import ChatMember, ChatMessage, ChatRoom
from chat.payloads import change_event, message_payload, room_group
from collab.ws_auth import query_param

logger = logging.getLogger(__name__)

RESUME_PAGE = 100  # changes per resume page; the client asks for the next one


class ChatConsumer(AsyncJsonWebsocketConsumer):
    room_id = 0
    sent_version = 0  # the highest version_seq this socket has been sent
    is_member = False

    async def connect(self) -> None:
        user = self.scope.get("user")
        code = None
        if user is None or not user.is_authenticated:
            code = 4401
        elif not self.scope.get("origin_allowed", False):
            code = 4403
        else:
            try:
                self.room_id = int(self.scope["url_route"]["kwargs"]["room_id"])
            except ValueError:
                self.room_id = 0
            room, readable, self.is_member = await database_sync_to_async(self._access)(user)
            code = 4404 if room is None else (None if readable else 4403)
        await self.accept()
        if code is not None:
            await self.close(code=code)
            return
        await self.channel_layer.group_add(room_group(self.room_id), self.channel_name)
        after = self._query_int("after")
        if after is None:
            self.sent_version = room.last_version if room else 0
        else:
            await self._resume(after)

    def _access(self, user: Any) -> tuple[ChatRoom | None, bool, bool]:
        room = ChatRoom.objects.filter(pk=self.room_id).first()
        if room is None:
            return None, False, False
        member = ChatMember.objects.filter(room=room, user_id=user.pk).exists()
        return room, selectors.can_read(room, user), member

    def _query_int(self, name: str) -> int | None:
        value = query_param(self.scope, name)
        try:
            return max(0, int(value)) if value is not None else None
        except ValueError:
            return None

    async def _resume(self, after: int) -> None:
        changes = await database_sync_to_async(selectors.changes_after)(self.room_id, after, RESUME_PAGE + 1)
        for message in changes[:RESUME_PAGE]:
            await self.send_json(change_event(message_payload(message), after))
        self.sent_version = changes[:RESUME_PAGE][-1].version_seq if changes else after
        done = "resume.partial" if len(changes) > RESUME_PAGE else "resume.done"
        await self.send_json({"type": done, "after": self.sent_version})

    async def disconnect(self, code: int) -> None:
        if self.room_id:
            await self.channel_layer.group_discard(room_group(self.room_id), self.channel_name)

    # -- live changes -----------------------------------------------------

    async def chat_change(self, event: dict[str, Any]) -> None:
        payload = event["message"]
        version = payload["version_seq"]
        if version <= self.sent_version:
            return  # already sent (resume overlapped with live events)
        if version == self.sent_version + 1:
            await self.send_json(change_event(payload, self.sent_version))
            self.sent_version = version
            return
        # Events of one room can arrive out of order (or be lost): fill the gap from the log.
        await self._catch_up()

    async def _catch_up(self) -> None:
        after = self.sent_version
        changes = await database_sync_to_async(selectors.changes_after)(self.room_id, after, RESUME_PAGE)
        for message in changes:
            if message.version_seq > self.sent_version:
                await self.send_json(change_event(message_payload(message), after))
                self.sent_version = message.version_seq

    # -- client frames ----------------------------------------------------

    @classmethod
    async def decode_json(cls, text_data: str) -> Any:
        try:
            return json.loads(text_data)
        except ValueError:
            return None

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if text_data is None:
            await self._error("bad_frame", "frames are JSON text")
            return
        await super().receive(text_data=text_data)

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        if not isinstance(content, dict) or not isinstance(content.get("type"), str):
            await self._error("bad_frame", "a frame is a JSON object with a string 'type'")
            return
        handler = {
            "message.send": self._send_message,
            "message.edit": self._edit_message,
            "message.delete": self._delete_message,
            "resume": self._resume_frame,
        }.get(content["type"])
        if handler is None:
            await self._error("unknown_type", f"unknown frame type {content['type']!r}")
            return
        try:
            await handler(content)
        except services.ChatError as exc:
            await self._error(exc.code, str(exc), content)

    async def _send_message(self, frame: dict[str, Any]) -> None:
        if not self.is_member:
            raise services.ChatError("not_member", "join the room before posting")
        client_id, body, parent = frame.get("client_id"), frame.get("body"), frame.get("parent_id")
        if not isinstance(client_id, str) or not isinstance(body, str):
            raise services.ChatError("invalid", "message.send needs string client_id and body")
        if parent is not None and not isinstance(parent, int):
            raise services.ChatError("invalid", "parent_id must be an integer")
        message, _ = await database_sync_to_async(self._post)(client_id, body, parent)
        await self.send_json(
            {"type": "message.ack", "client_id": client_id, "seq": message.seq, "id": message.pk}
        )

    def _post(self, client_id: str, body: str, parent: int | None) -> tuple[ChatMessage, bool]:
        room = ChatRoom.objects.get(pk=self.room_id)
        return services.post_message(room, self.scope["user"], client_id, body, parent)

    async def _edit_message(self, frame: dict[str, Any]) -> None:
        message = await self._own_room_message(frame)
        body = frame.get("body")
        if not isinstance(body, str):
            raise services.ChatError("invalid", "message.edit needs a string body")
        await database_sync_to_async(services.edit_message)(message, self.scope["user"], body)

    async def _delete_message(self, frame: dict[str, Any]) -> None:
        message = await self._own_room_message(frame)
        await database_sync_to_async(services.delete_message)(message, self.scope["user"])

    async def _own_room_message(self, frame: dict[str, Any]) -> ChatMessage:
        message_id = frame.get("id")
        if not isinstance(message_id, int):
            raise services.ChatError("invalid", "the frame needs an integer message id")
        message = await ChatMessage.objects.filter(room_id=self.room_id, pk=message_id).afirst()
        if message is None:
            raise services.ChatError("not_found", "no such message in this room")
        return message

    async def _resume_frame(self, frame: dict[str, Any]) -> None:
        after = frame.get("after")
        if not isinstance(after, int) or after < 0:
            raise services.ChatError("invalid", "resume needs a non-negative integer 'after'")
        await self._resume(after)

    async def _error(self, code: str, message: str, frame: dict[str, Any] | None = None) -> None:
        reply: dict[str, Any] = {"type": "error", "code": code, "message": message}
        if frame is not None and isinstance(frame.get("client_id"), str):
            reply["client_id"] = frame["client_id"]
        await self.send_json(reply)
