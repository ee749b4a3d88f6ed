"""A worker's safety net for its chat sockets: lost events and lost access changes.

Pub/sub delivers at most once. A socket notices a lost change when a later one
arrives, but not a lost *last* change, and a lost membership event would leave a
removed member reading a private room. Every COLLAB_CHAT_CHECK_SECONDS the watch
reads, in one database call of a few queries for all of this worker's chat sockets
(room and inbox), the last version of every room with sockets here, which of those
sockets' users are still members, and whose authentication still holds (the user
active, the API token neither revoked nor expired, the session still signed in). A socket still short of a
version that was committed a whole interval ago reads the gap from the log, a
socket whose user lost access to the room is closed with 4403, and one whose
authentication is gone with 4401.
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from collections.abc import Awaitable
from dataclasses import dataclass
from typing import Any, Protocol

from channels.db import database_sync_to_async

from chat import selectors
from chat.models import RoomKind
from collab.accounts.services import SocketCredential, socket_credentials_valid
from collab.realtime.close_codes import CloseCode
from collab.realtime.runtime import cancelled

logger = logging.getLogger(__name__)


class WatchedSocket(Protocol):
    room_id: int  # 0: a socket of no room (the inbox), checked for its authentication only
    user_id: int
    token_id: int | None  # the API token it authenticated with; None for a session
    session_id: int | None  # the session record it authenticated with; None for a token

    async def check(self, committed_version: int, is_member: bool, readable: bool) -> None: ...

    async def refuse(self, code: int) -> None: ...


@dataclass
class RoundState:
    rooms: dict[int, tuple[int, str]]  # room -> (last version, kind)
    members: set[tuple[int, int]]  # the (room, user) pairs that are memberships
    authenticated: set[SocketCredential]  # the (user, token, session) credentials still valid


def read_round(pairs: list[tuple[int, int]], auths: set[SocketCredential]) -> RoundState:
    """Everything one round decides on, in one trip to the database thread."""
    rooms, members = selectors.rooms_and_memberships([pair for pair in pairs if pair[0]])
    return RoundState(rooms, members, socket_credentials_valid(auths))


def _credential(socket: WatchedSocket) -> SocketCredential:
    return (socket.user_id, socket.token_id, getattr(socket, "session_id", None))


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

    @classmethod
    def from_settings(cls) -> ChatWatch:
        from django.conf import settings

        return cls(settings.COLLAB_CHAT_CHECK_SECONDS)

    async def stop(self) -> None:
        await cancelled(self._task)
        self._task = None

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
        auths = {_credential(socket) for socket in sockets}
        state = await database_sync_to_async(read_round)(pairs, auths)
        rooms, members = state.rooms, state.members
        previous, self._previous = self._previous, {pk: version for pk, (version, _) in rooms.items()}
        for socket in sockets:
            if _credential(socket) not in state.authenticated:
                # The token was revoked or expired, or the user deactivated: a revocation has
                # no event of its own, this round is what ends the socket.
                await self._quietly(socket.refuse(CloseCode.UNAUTHENTICATED), socket)
                continue
            if not socket.room_id:
                continue
            last_version, kind = rooms.get(socket.room_id, (0, RoomKind.PRIVATE))
            is_member = (socket.room_id, socket.user_id) in members
            readable = is_member or (kind == RoomKind.PUBLIC and socket.room_id in rooms)
            # Only a version committed a whole round ago counts as lost; newer ones may be in flight.
            committed = min(previous.get(socket.room_id, 0), last_version)
            await self._quietly(socket.check(committed, is_member, readable), socket)

    @staticmethod
    async def _quietly(call: Awaitable[None], socket: WatchedSocket) -> None:
        try:
            await call
        except Exception:
            logger.warning("chat watch check failed for room %s", socket.room_id, exc_info=True)
