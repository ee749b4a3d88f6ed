"""A worker's watch over its CRDT sockets: access re-checked on a schedule, idle sockets kept alive.

Access changes (a member removed, a role lowered, a token revoked) reach open
sockets as `room.control` events, but those travel over pub/sub, which drops
messages (Redis down for a second is enough). An event must not be the only
carrier of a security decision, so every COLLAB_ACCESS_CHECK_SECONDS the watch
re-reads, in a few batched queries per socket kind, what every open socket of
this worker may still do, and applies it; a layer failure seen by a room asks
for a round at once.

Stock y-websocket clients reconnect when nothing arrives for 30 s; a socket
that was sent nothing for COLLAB_KEEPALIVE_SECONDS gets a no-op frame.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import weakref
from collections import defaultdict
from typing import Any, Protocol

from channels.db import database_sync_to_async

from collab.realtime.runtime import cancelled

logger = logging.getLogger(__name__)

# What the watch learns of a socket: may write (True), may read (False), or refused (code, reason).
Verdict = bool | tuple[int, str]


class WatchedSocket(Protocol):
    closed: bool
    last_sent: float

    def access_group(self) -> Any: ...

    def access_subject(self) -> Any: ...

    def verdicts(self, subjects: list[Any]) -> list[Verdict]: ...

    async def apply_verdict(self, verdict: Verdict) -> None: ...

    async def keepalive(self) -> None: ...


class SocketWatch:
    def __init__(self, access_interval: float, keepalive_after: float) -> None:
        self.access_interval = access_interval
        self.keepalive_after = keepalive_after
        self.sockets: weakref.WeakSet[Any] = weakref.WeakSet()
        self._task: asyncio.Task[None] | None = None
        self._round_now = asyncio.Event()

    def add(self, socket: WatchedSocket) -> None:
        self.sockets.add(socket)
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run())

    def discard(self, socket: WatchedSocket) -> None:
        self.sockets.discard(socket)

    async def stop(self) -> None:
        await cancelled(self._task)
        self._task = None

    @classmethod
    def from_settings(cls) -> SocketWatch:
        from django.conf import settings

        return cls(settings.COLLAB_ACCESS_CHECK_SECONDS, settings.COLLAB_KEEPALIVE_SECONDS)

    def check_soon(self) -> None:
        """Something may have been lost (the layer failed): re-check access now."""
        self._round_now.set()

    async def _run(self) -> None:
        tick = max(0.05, min(1.0, self.access_interval / 2, self.keepalive_after / 2))
        next_round = time.monotonic() + self.access_interval
        while self.sockets:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._round_now.wait(), timeout=tick)
            try:
                await self._keep_alive()
                if self._round_now.is_set() or time.monotonic() >= next_round:
                    self._round_now.clear()
                    next_round = time.monotonic() + self.access_interval
                    await self.access_round()
            except Exception:
                # The database may be down: keep the sockets, try again next round.
                logger.warning("socket watch round failed", exc_info=True)

    async def _keep_alive(self) -> None:
        horizon = time.monotonic() - self.keepalive_after
        for socket in list(self.sockets):
            if not socket.closed and socket.last_sent <= horizon:
                await socket.keepalive()

    async def access_round(self) -> None:
        by_group: dict[Any, list[Any]] = defaultdict(list)
        for socket in list(self.sockets):
            if not socket.closed:
                by_group[socket.access_group()].append(socket)
        for sockets in by_group.values():
            subjects = [socket.access_subject() for socket in sockets]
            check = sockets[0].verdicts  # one batched call per group (a socket class and kind)
            verdicts = await database_sync_to_async(check, thread_sensitive=False)(subjects)
            for socket, verdict in zip(sockets, verdicts, strict=True):
                try:
                    await socket.apply_verdict(verdict)
                except Exception:
                    logger.warning("applying an access verdict failed", exc_info=True)
