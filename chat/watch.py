"""A worker's safety net for its chat sockets: lost events and lost access changes.

Pub/sub delivers at most once. A socket notices a lost change when a later one
arrives, but not a lost *last* change, and a lost membership event would leave a
removed member reading a private room. Every COLLAB_CHAT_CHECK_SECONDS the watch
reads, in one query per kind, the last version of every room with sockets here
and which of those sockets' users are still members; a socket still short of a
version that was committed a whole interval ago reads the gap from the log, and a
socket whose user lost access is closed.
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from typing import Any, Protocol

from channels.db import database_sync_to_async

from chat.models import ChatMember, ChatRoom, RoomKind

logger = logging.getLogger(__name__)


class WatchedSocket(Protocol):
    room_id: int
    user_id: int

    async def check(self, committed_version: int, is_member: bool, readable: bool) -> None: ...


def read_rooms(pairs: list[tuple[int, int]]) -> tuple[dict[int, tuple[int, str]], set[tuple[int, int]]]:
    """(room -> (last version, kind)), and the (room, user) pairs that are memberships."""
    room_ids = {room_id for room_id, _ in pairs}
    user_ids = {user_id for _, user_id in pairs}
    rooms = {
        pk: (last_version, kind)
        for pk, last_version, kind in ChatRoom.objects.filter(pk__in=room_ids).values_list(
            "pk", "last_version", "kind"
        )
    }
    memberships = ChatMember.objects.filter(room_id__in=room_ids, user_id__in=user_ids)
    members = set(memberships.values_list("room_id", "user_id"))
    return rooms, members


class ChatWatch:
    def __init__(self, interval: float) -> None:
        self.interval = interval
        self.sockets: weakref.WeakSet[Any] = weakref.WeakSet()
        self._previous: dict[int, int] = {}  # room -> last version at the previous round
        self._task: asyncio.Task[None] | None = None

    def add(self, socket: WatchedSocket) -> None:
        self.sockets.add(socket)
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run())

    def discard(self, socket: WatchedSocket) -> None:
        self.sockets.discard(socket)

    async def _run(self) -> None:
        while self.sockets:
            await asyncio.sleep(self.interval)
            try:
                await self.round()
            except Exception:
                logger.warning("chat watch round failed", exc_info=True)

    async def round(self) -> None:
        sockets = list(self.sockets)
        if not sockets:
            return
        pairs = [(socket.room_id, socket.user_id) for socket in sockets]
        rooms, members = await database_sync_to_async(read_rooms)(pairs)
        previous, self._previous = self._previous, {pk: version for pk, (version, _) in rooms.items()}
        for socket in sockets:
            last_version, kind = rooms.get(socket.room_id, (0, RoomKind.PRIVATE))
            is_member = (socket.room_id, socket.user_id) in members
            readable = is_member or (kind == RoomKind.PUBLIC and socket.room_id in rooms)
            # Only a version committed a whole round ago counts as lost; newer ones may be in flight.
            committed = min(previous.get(socket.room_id, 0), last_version)
            try:
                await socket.check(committed, is_member, readable)
            except Exception:
                logger.warning("chat watch check failed for room %s", socket.room_id, exc_info=True)


_watches: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, ChatWatch] = weakref.WeakKeyDictionary()


def get_watch() -> ChatWatch:
    from django.conf import settings

    loop = asyncio.get_running_loop()
    watch = _watches.get(loop)
    if watch is None:
        watch = _watches[loop] = ChatWatch(settings.COLLAB_CHAT_CHECK_SECONDS)
    return watch
