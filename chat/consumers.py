"""`ws/chat/{room_id}`: a room's live log, resumable, with typing, read markers and presence.

The protocol is in docs/chat.md. Thin by design: frames are validated here and
handed to `chat.services`; live changes come back as group events after the
transaction that stored them commits, and are forwarded in version order (gaps
are filled from the log). Invalid frames get an error frame, never a crash.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from channels.db import database_sync_to_async
from django.conf import settings

from chat import selectors, services
from chat.models import ChatMessage, ChatRoom
from chat.payloads import change_event, message_payload, room_group
from chat.sequencer import ChangeSequencer
from chat.watch import ChatWatch
from collab.realtime import errors
from collab.realtime.close_codes import CloseCode
from collab.realtime.db_pool import in_write_pool
from collab.realtime.runtime import current_runtime
from collab.realtime.ws_auth import query_param
from collab.realtime.ws_json import JsonSocketConsumer
from presence.objects import chat_object
from presence.sockets import PresenceMixin
from presence.store import Person

logger = logging.getLogger(__name__)

RESUME_PAGE = 100  # changes per resume page; the client asks for the next one
MAX_FILL_PAGES = 10  # pages one gap fill reads before letting other work run
GAP_WAIT_SECONDS = 0.2  # how long an out-of-order change waits for the one before it
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


class ChatConsumer(PresenceMixin, JsonSocketConsumer):
    chat_watch: ChatWatch | None = None
    metrics_kind = "chat"
    room_id = 0
    user_id = 0
    is_member = False
    _background: set[asyncio.Future[None]] = set()
    typing_sent_at = 0.0
    typing_active = False
    _gap_timer: asyncio.TimerHandle | None = None

    async def connect(self) -> None:
        self.budget = FrameBudget(settings.COLLAB_CHAT_FRAMES_PER_SECOND)
        self.sequencer = ChangeSequencer()
        self.delivery = asyncio.Lock()  # live events, gap fills, resume pages and the watch take turns
        self.resuming = False
        self.read_markers: dict[str, int] = {}
        self._gap_timer: asyncio.TimerHandle | None = None
        user = await self.accept_user()
        if user is None:
            return
        self.user_id = int(user.pk)
        raw_id = self.scope["url_route"]["kwargs"]["room_id"]
        self.room_id = int(raw_id) if raw_id.isascii() and raw_id.isdigit() else 0
        # Subscribe before reading access and the log: a change or a removal committed from
        # now on reaches this socket, one committed before is in what we read.
        await self.channel_layer.group_add(room_group(self.room_id), self.channel_name)
        room, readable, self.is_member = await database_sync_to_async(self._access)(user)
        if room is None or not readable:
            await self.refuse(CloseCode.NOT_FOUND if room is None else CloseCode.FORBIDDEN)
            return
        after_version = self._query_int("after_version")
        after_seq = self._query_int("after")
        if after_version is None and after_seq is not None:
            after_version = await database_sync_to_async(selectors.version_for_seq)(self.room_id, after_seq)
        if after_version is None:
            self.sequencer = ChangeSequencer(room.last_version)
        else:
            # A client ahead of the log (a restored backup, a bug) must not mute live changes.
            self.sequencer = ChangeSequencer(min(after_version, room.last_version))
            await self._resume(self.sequencer.sent)
        self.chat_watch = current_runtime().get(ChatWatch)
        self.chat_watch.add(self)
        await self.join_presence(chat_object(self.room_id), self._deliver_presence)

    def _access(self, user: Any) -> tuple[ChatRoom | None, bool, bool]:
        return selectors.room_access(self.room_id, user)

    def _query_int(self, name: str) -> int | None:
        value = query_param(self.scope, name)
        try:
            return max(0, int(value)) if value is not None else None
        except ValueError:
            return None

    async def disconnect(self, code: int) -> None:
        """The base class has already given back the slot and the presence entry."""
        if self._gap_timer is not None:
            self._gap_timer.cancel()
        if not self.room_id:
            return
        if self.chat_watch is not None:
            self.chat_watch.discard(self)
        await self._set_typing(False)
        await self.channel_layer.group_discard(room_group(self.room_id), self.channel_name)

    # -- sending changes, in order and once ---------------------------------

    async def _resume(self, after: int) -> None:
        """One page of the log after `after` (never before what this socket already sent)."""
        async with self.delivery:
            start = max(after, self.sequencer.sent)
            page, more = await self._read_log(start, RESUME_PAGE)
            for payload in self.sequencer.take_from_log(page):
                await self.send_json(change_event(payload, start))
            self.resuming = more
            done = "resume.partial" if self.resuming else "resume.done"
            await self.send_json({"type": done, "after_version": self.sequencer.sent})
            if not self.resuming and self.sequencer.has_gap:
                await self._fill_gap_locked()  # changes that went live while the client paged

    async def _read_log(self, after: int, limit: int) -> tuple[list[dict[str, Any]], bool]:
        """Up to `limit` changes after version `after`, and whether more follow."""

        def read() -> tuple[list[dict[str, Any]], bool]:
            page = selectors.changes_page(self.room_id, after, limit)
            return [message_payload(m) for m in page.messages], page.has_more

        found: tuple[list[dict[str, Any]], bool] = await in_write_pool(read)()
        return found

    async def chat_change(self, event: dict[str, Any]) -> None:
        async with self.delivery:
            if self.resuming:
                self.sequencer.note(event["message"])  # the next page reads it from the log
                return
            before = self.sequencer.sent
            for payload in self.sequencer.offer(event["message"]):
                await self.send_json(change_event(payload, before))
                before = payload["version_seq"]
            if self.sequencer.has_gap and self._gap_timer is None:
                # Usually the missing event is just behind (two workers published): wait a moment
                # before every socket of the room reads the log.
                loop = asyncio.get_running_loop()
                self._gap_timer = loop.call_later(GAP_WAIT_SECONDS, self._gap_timer_fired)

    def _gap_timer_fired(self) -> None:
        self._gap_timer = None
        task = asyncio.ensure_future(self._fill_gap())
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def _fill_gap(self) -> None:
        async with self.delivery:
            if not self.closed and not self.resuming and self.sequencer.has_gap:
                await self._fill_gap_locked()

    async def _fill_gap_locked(self) -> None:
        """Read the log after what was sent, to its end (a bounded number of pages per call)."""
        for _ in range(MAX_FILL_PAGES):
            start = self.sequencer.sent
            rows, more = await self._read_log(start, RESUME_PAGE)
            for payload in self.sequencer.take_from_log(rows):
                await self.send_json(change_event(payload, start))
            if not more:
                return

    async def check(self, committed_version: int, is_member: bool, readable: bool) -> None:
        """The watch's round: close if access is gone; read what a lost event left out."""
        if self.closed:
            return
        if not readable:
            await self.refuse(CloseCode.FORBIDDEN)
            return
        self.is_member = is_member
        async with self.delivery:
            if not self.resuming and self.sequencer.sent < committed_version:
                await self._fill_gap_locked()

    async def chat_read(self, event: dict[str, Any]) -> None:
        user, seq = event["user"], event["seq"]
        if seq > self.read_markers.get(user, -1):  # two workers may deliver markers out of order
            self.read_markers[user] = seq
            await self.send_json({"type": "read", "user": user, "seq": seq})

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
        if event.get("user_id") == self.user_id:
            await self._refresh_access()

    async def _refresh_access(self) -> None:
        room, readable, self.is_member = await database_sync_to_async(self._access)(self.scope["user"])
        if room is None or not readable:
            await self.refuse(CloseCode.NOT_FOUND if room is None else CloseCode.FORBIDDEN)

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
        except Exception as exc:
            if errors.is_database_unavailable(exc) or errors.is_cache_unavailable(exc):
                # Expected during an outage: a retryable code, one line, no traceback.
                logger.warning("chat frame %s in room %s: %s", content["type"], self.room_id, exc)
                await self.send_error(
                    "unavailable", "the server cannot store this now; retry", content, retry_after=2
                )
                return
            logger.exception("chat frame %s failed in room %s", content["type"], self.room_id)
            await self.send_error("internal", "the server could not handle this frame", content)

    async def _require_member(self) -> None:
        if not self.is_member:
            await self._refresh_access()  # an "added" event may have been lost
        if not self.is_member:
            raise services.ChatError("not_member", "join the room first")

    async def _send_message(self, frame: dict[str, Any]) -> None:
        await self._require_member()
        client_id, body, parent = frame.get("client_id"), frame.get("body"), frame.get("parent_id")
        if not isinstance(client_id, str) or not isinstance(body, str):
            raise services.ChatError("invalid", "message.send needs string client_id and body")
        if parent is not None and (not isinstance(parent, int) or isinstance(parent, bool)):
            raise services.ChatError("invalid", "parent_id must be an integer")
        message, _ = await in_write_pool(self._post)(client_id, body, parent)
        await self.send_json(
            {"type": "message.ack", "client_id": client_id, "seq": message.seq, "id": message.pk}
        )
        await self._set_typing(False)
        await self.presence_activity()

    def _post(self, client_id: str, body: str, parent: int | None) -> tuple[ChatMessage, bool]:
        return services.post_message(self.room_id, self.user_id, client_id, body, parent)

    async def _edit_message(self, frame: dict[str, Any]) -> None:
        message_id = self._message_id(frame)
        body = frame.get("body")
        if not isinstance(body, str):
            await self._require_message(message_id)
            raise services.ChatError("invalid", "message.edit needs a string body")
        await in_write_pool(services.edit_message)(self.room_id, message_id, self.user_id, body)

    async def _delete_message(self, frame: dict[str, Any]) -> None:
        message_id = self._message_id(frame)
        await in_write_pool(services.delete_message)(self.room_id, message_id, self.user_id)

    async def _react(self, frame: dict[str, Any]) -> None:
        await self._require_member()
        message_id = self._message_id(frame)
        emoji = frame.get("emoji")
        if not isinstance(emoji, str):
            await self._require_message(message_id)
            raise services.ChatError("invalid_emoji", "a reaction needs a string emoji")
        add = frame["type"] == "reaction.add"
        await in_write_pool(services.toggle_reaction)(self.room_id, message_id, self.user_id, emoji, add)
        await self.presence_activity()

    def _message_id(self, frame: dict[str, Any]) -> int:
        """The frame's message id; the service finds the message in this room (or says not_found)."""
        message_id = frame.get("id")
        if not isinstance(message_id, int) or isinstance(message_id, bool):
            raise services.ChatError("invalid", "the frame needs an integer message id")
        return message_id

    async def _require_message(self, message_id: int) -> None:
        """Before refusing a malformed frame: an unknown message is reported first, as it always was."""
        if not await database_sync_to_async(selectors.message_exists)(self.room_id, message_id):
            raise services.ChatError("not_found", "no such message in this room")

    async def _typing(self, frame: dict[str, Any]) -> None:
        await self._require_member()
        active = frame.get("active")
        if not isinstance(active, bool):
            raise services.ChatError("invalid", "typing needs a boolean 'active'")
        await self._set_typing(active)
        if active:
            await self.presence_activity()

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
        await self._require_member()
        seq = frame.get("seq")
        if not isinstance(seq, int) or isinstance(seq, bool) or seq < 0:
            raise services.ChatError("invalid", "read needs a non-negative integer 'seq'")
        await in_write_pool(self._mark_read)(seq)
        await self.presence_activity()

    def _mark_read(self, seq: int) -> int:
        return services.mark_read(self.room_id, self.user_id, seq)

    async def _presence(self, frame: dict[str, Any]) -> None:
        state = frame.get("state")
        if state not in ("active", "idle"):
            raise services.ChatError("invalid", "presence state is 'active' or 'idle'")
        if state == "active":
            await self.presence_activity()

    async def _resume_frame(self, frame: dict[str, Any]) -> None:
        after = frame.get("after_version", frame.get("after"))
        if not isinstance(after, int) or isinstance(after, bool) or after < 0:
            raise services.ChatError("invalid", "resume needs a non-negative integer 'after_version'")
        await self._resume(after)

    async def _ping(self, frame: dict[str, Any]) -> None:
        await self.send_json({"type": "pong"})
