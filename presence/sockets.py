"""Presence for sockets: a mixin that counts a socket's user as here until the socket ends.

The socket bases (`collab.engine.consumer.CrdtRoomConsumer`,
`collab.realtime.ws_json.JsonSocketConsumer`) know nothing of presence. They call
`on_release` exactly once on every way out, and this mixin's override gives back
the presence entry there. Apps mix it in where people should show as present.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
from collections.abc import Awaitable, Callable
from typing import Any

from collab.realtime.runtime import current_runtime
from presence.hub import PresenceHub
from presence.store import Connection, Person


class PresenceMixin:
    """For a socket class with `scope`, `closed` and an `on_release` hook."""

    scope: Any
    closed: bool
    presence: Connection | None = None
    presence_join: asyncio.Task[None] | None = None
    _presence_hub: PresenceHub | None = None

    @property
    def presence_hub(self) -> PresenceHub:
        """The worker's hub, looked up once: the release must not depend on a lookup."""
        if self._presence_hub is None:
            self._presence_hub = current_runtime().get(PresenceHub)
        return self._presence_hub

    def presence_connection_id(self) -> str:
        return str(getattr(self, "peer_id", None) or getattr(self, "channel_name", ""))

    def _connection(self, obj: str | None) -> Connection:
        user = self.scope["user"]
        return Connection(self.presence_connection_id(), user.pk, user.get_username(), obj)

    async def join_presence(
        self, obj: str | None, deliver: Callable[[list[Person]], Awaitable[None]] | None = None
    ) -> None:
        """Count the user as here (in `obj`, or only online) until this socket ends."""
        if self.closed:
            return
        self.presence = self._connection(obj)
        await self.presence_hub.join(self.presence, deliver, alive=lambda: not self.closed)

    def join_presence_soon(self, obj: str | None) -> None:
        """Join without waiting: several Redis round trips that queue up when many sockets
        arrive at once (2 s each with 600 at once) must not hold up the client's sync.
        Presence never fails a socket; the release waits for the join to end."""
        if self.closed:
            return
        self.presence = self._connection(obj)
        self.presence_join = asyncio.create_task(
            self.presence_hub.join(self.presence, alive=lambda: not self.closed)
        )

    @functools.cached_property
    def presence_user_id(self) -> int:
        # Read on every edit; the scope's user is a lazy object whose id never changes.
        return int(self.scope["user"].pk)

    async def presence_activity(self) -> None:
        await self.presence_hub.activity(self.presence_user_id)

    async def on_release(self) -> None:
        presence, self.presence = self.presence, None
        if presence is not None:
            if self.presence_join is not None and not self.presence_join.done():
                with contextlib.suppress(Exception):
                    await self.presence_join  # a leave before the join ends would be undone by it
            await self.presence_hub.leave(presence)  # never raises
        await super().on_release()  # type: ignore[misc]
