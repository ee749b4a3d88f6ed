"""`ws/chat/{room_id}`: a room's live log, resumable, with typing, read markers and presence.

The protocol is in docs/chat.md. Thin by design: frames are validated here and
handed to `chat.services`; live changes come back as group events after the
transaction that stored them commits, and are forwarded in version order (gaps
are filled from the log). Invalid frames get an error frame, never a crash.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from channels.db import database_sync_to_async
from django.conf import settings

from chat import selectors, services
from chat.models import ChatMember, ChatMessage, ChatRoom
from chat.payloads import change_event, message_payload, room_group
from chat.resume import version_for_seq
from collab.ws_auth import query_param
from collab.ws_json import JsonSocketConsumer
from presence.hub import get_hub
from presence.objects import chat_object
from presence.store import Connection, Person

logger = logging.getLogger(__name__)

RESUME_PAGE = 100  # changes per resume page; the client asks for the next one
TYPING_REPEAT_SECONDS = 2.0  # at most one "typing" broadcast per socket this often


class FrameBudget:
    """A token bucket per socket: bursts are fine, floods get error frames."""

    def __init__(self, per_second: float) -> None:
        self.capacity = per_second * 5
        self.per_second = per_second
        self.tokens = self.capacity
        self.updated = time.monotonic()

    def take(self) -> bool:
        now = time.monotonic()
        self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.per_second)
        self.updated = now
        if self.tokens < 1:
            return False
        self.tokens -= 1
        return True


class ChatConsumer(JsonSocketConsumer):
    room_id = 0
    sent_version = 0  # the highest version_seq this socket has been sent
    is_member = False
    presence: Connection | None = None
    typing_sent_at = 0.0
    typing_active = False

    async def connect(self) -> None:
        user = self.scope.get("user")
        self.budget = FrameBudget(settings.COLLAB_CHAT_FRAMES_PER_SECOND)
        code = None
        room = None
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
            await self.refuse(code)
            return
        await self.channel_layer.group_add(room_group(self.room_id), self.channel_name)
        after_version = self._query_int("after_version")
        after_seq = self._query_int("after")
        if after_version is None and after_seq is not None:
            after_version = await database_sync_to_async(version_for_seq)(self.room_id, after_seq)
        if after_version is None:
            self.sent_version = room.last_version if room else 0
        else:
            await self._resume(after_version)
        self.presence = Connection(self.channel_name, user.pk, user.get_username(), chat_object(self.room_id))
        await get_hub().join(self.presence, self._deliver_presence)

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
        after = max(after, self.sent_version)  # never send a change twice on one socket
        changes = await database_sync_to_async(selectors.changes_after)(self.room_id, after, RESUME_PAGE + 1)
        page = changes[:RESUME_PAGE]
        for message in page:
            await self.send_json(change_event(message_payload(message), after))
        self.sent_version = page[-1].version_seq if page else after
        done = "resume.partial" if len(changes) > RESUME_PAGE else "resume.done"
        await self.send_json({"type": done, "after_version": self.sent_version})

    async def disconnect(self, code: int) -> None:
        self.closed = True
        if not self.room_id:
            return
        await self._set_typing(False)
        await self.channel_layer.group_discard(room_group(self.room_id), self.channel_name)
        if self.presence is not None:
            await get_hub().leave(self.presence)

    # -- live events (group messages) -------------------------------------

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

    async def chat_read(self, event: dict[str, Any]) -> None:
        await self.send_json({"type": "read", "user": event["user"], "seq": event["seq"]})

    async def chat_typing(self, event: dict[str, Any]) -> None:
        if event["user_id"] != self.scope["user"].pk:
            await self.send_json(
                {
                    "type": "typing",
                    "user": event["user"],
                    "active": event["active"],
                    "expires_in": event["expires_in"],
                }
            )

    async def chat_room(self, event: dict[str, Any]) -> None:
        await self.send_json({"type": "room", "room": event["room"]})

    async def chat_membership(self, event: dict[str, Any]) -> None:
        if event.get("user_id") != self.scope["user"].pk:
            return
        self.is_member = event.get("action") == "added"
        if not self.is_member:
            room = await ChatRoom.objects.filter(pk=self.room_id).afirst()
            readable = room is not None and await database_sync_to_async(selectors.can_read)(
                room, self.scope["user"]
            )
            if not readable:
                await self.refuse(4403)

    async def chat_rooms_changed(self, event: dict[str, Any]) -> None:
        """For the inbox socket; a room socket learns what it needs from the room's own events."""

    async def _deliver_presence(self, here: list[Person]) -> None:
        await self.send_json({"type": "presence", "here": [person.as_json() for person in here]})

    # -- client frames ----------------------------------------------------

    async def admit_frame(self) -> bool:
        if self.budget.take():
            return True
        await self.send_error("rate_limited", "too many frames; slow down", retry_after=1.0)
        return False

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        if not isinstance(content, dict) or not isinstance(content.get("type"), str):
            await self.send_error("bad_frame", "a frame is a JSON object with a string 'type'")
            return
        handler = {
            "message.send": self._send_message,
            "message.edit": self._edit_message,
            "message.delete": self._delete_message,
            "reaction.add": self._react,
            "reaction.remove": self._react,
            "typing": self._typing,
            "read": self._read,
            "presence": self._presence,
            "resume": self._resume_frame,
            "ping": self._ping,
        }.get(content["type"])
        if handler is None:
            await self.send_error("unknown_type", f"unknown frame type {content['type']!r}")
            return
        try:
            await handler(content)
        except services.ChatError as exc:
            retry_after = getattr(exc, "retry_after", None)
            await self.send_error(exc.code, str(exc), content, retry_after=retry_after)
        except Exception:
            logger.exception("chat frame %s failed in room %s", content["type"], self.room_id)
            await self.send_error("internal", "the server could not handle this frame", content)

    def _require_member(self) -> None:
        if not self.is_member:
            raise services.ChatError("not_member", "join the room first")

    async def _send_message(self, frame: dict[str, Any]) -> None:
        self._require_member()
        client_id, body, parent = frame.get("client_id"), frame.get("body"), frame.get("parent_id")
        if not isinstance(client_id, str) or not isinstance(body, str):
            raise services.ChatError("invalid", "message.send needs string client_id and body")
        if parent is not None and (not isinstance(parent, int) or isinstance(parent, bool)):
            raise services.ChatError("invalid", "parent_id must be an integer")
        message, _ = await database_sync_to_async(self._post)(client_id, body, parent)
        await self.send_json(
            {"type": "message.ack", "client_id": client_id, "seq": message.seq, "id": message.pk}
        )
        await self._set_typing(False)
        await get_hub().activity(self.scope["user"].pk)

    def _post(self, client_id: str, body: str, parent: int | None) -> tuple[ChatMessage, bool]:
        room = ChatRoom.objects.get(pk=self.room_id)
        return services.post_message(room, self.scope["user"], client_id, body, parent)

    async def _edit_message(self, frame: dict[str, Any]) -> None:
        message = await self._room_message(frame)
        body = frame.get("body")
        if not isinstance(body, str):
            raise services.ChatError("invalid", "message.edit needs a string body")
        await database_sync_to_async(services.edit_message)(message, self.scope["user"], body)

    async def _delete_message(self, frame: dict[str, Any]) -> None:
        message = await self._room_message(frame)
        await database_sync_to_async(services.delete_message)(message, self.scope["user"])

    async def _react(self, frame: dict[str, Any]) -> None:
        self._require_member()
        message = await self._room_message(frame)
        emoji = frame.get("emoji")
        if not isinstance(emoji, str):
            raise services.ChatError("invalid_emoji", "a reaction needs a string emoji")
        add = frame["type"] == "reaction.add"
        await database_sync_to_async(services.toggle_reaction)(message, self.scope["user"], emoji, add)
        await get_hub().activity(self.scope["user"].pk)

    async def _room_message(self, frame: dict[str, Any]) -> ChatMessage:
        message_id = frame.get("id")
        if not isinstance(message_id, int) or isinstance(message_id, bool):
            raise services.ChatError("invalid", "the frame needs an integer message id")
        message = await ChatMessage.objects.filter(room_id=self.room_id, pk=message_id).afirst()
        if message is None:
            raise services.ChatError("not_found", "no such message in this room")
        return message

    async def _typing(self, frame: dict[str, Any]) -> None:
        self._require_member()
        active = frame.get("active")
        if not isinstance(active, bool):
            raise services.ChatError("invalid", "typing needs a boolean 'active'")
        await self._set_typing(active)
        if active:
            await get_hub().activity(self.scope["user"].pk)

    async def _set_typing(self, active: bool) -> None:
        """Broadcast a typing change; repeats of "still typing" at most every 2 s."""
        now = time.monotonic()
        if active and self.typing_active and now - self.typing_sent_at < TYPING_REPEAT_SECONDS:
            return
        if not active and not self.typing_active:
            return
        self.typing_active, self.typing_sent_at = active, now
        user = self.scope["user"]
        event = {
            "type": "chat.typing",
            "user_id": user.pk,
            "user": user.get_username(),
            "active": active,
            "expires_in": settings.COLLAB_CHAT_TYPING_SECONDS,
        }
        try:
            await self.channel_layer.group_send(room_group(self.room_id), event)
        except Exception:
            logger.warning("typing broadcast failed", exc_info=True)  # ephemeral: it expires anyway

    async def _read(self, frame: dict[str, Any]) -> None:
        self._require_member()
        seq = frame.get("seq")
        if not isinstance(seq, int) or isinstance(seq, bool) or seq < 0:
            raise services.ChatError("invalid", "read needs a non-negative integer 'seq'")
        await database_sync_to_async(self._mark_read)(seq)
        await get_hub().activity(self.scope["user"].pk)

    def _mark_read(self, seq: int) -> int:
        room = ChatRoom.objects.get(pk=self.room_id)
        return services.mark_read(room, self.scope["user"], seq)

    async def _presence(self, frame: dict[str, Any]) -> None:
        state = frame.get("state")
        if state not in ("active", "idle"):
            raise services.ChatError("invalid", "presence state is 'active' or 'idle'")
        if state == "active":
            await get_hub().activity(self.scope["user"].pk)

    async def _resume_frame(self, frame: dict[str, Any]) -> None:
        after = frame.get("after_version", frame.get("after"))
        if not isinstance(after, int) or isinstance(after, bool) or after < 0:
            raise services.ChatError("invalid", "resume needs a non-negative integer 'after_version'")
        await self._resume(after)

    async def _ping(self, frame: dict[str, Any]) -> None:
        await self.send_json({"type": "pong"})
