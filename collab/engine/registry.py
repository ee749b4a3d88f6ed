"""The rooms of one worker process: one load per document, unload when idle.

Concurrent joins of a document share one load and wait for it; nobody is
served a half-loaded document. A room unloads after its last holder leaves and
a grace period; a join that arrives while it is unloading waits for the unload
to finish (so its final flush is in the database) and then loads afresh.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Callable
from typing import Any

from collab.engine.hooks import NO_HOOKS, RoomHooks
from collab.engine.interfaces import RoomConfig, RoomStore
from collab.engine.persistence import OutboxBytes
from collab.engine.room import Room
from collab.realtime import metrics
from collab.realtime.runtime import cancelled

logger = logging.getLogger(__name__)


class RoomRegistry:
    def __init__(
        self,
        layer: Any,
        config: RoomConfig,
        grace_seconds: float,
        room_factory: Callable[..., Room] = Room,
        on_layer_error: Callable[[], None] = lambda: None,
    ) -> None:
        self.layer = layer
        self.config = config
        self.grace_seconds = grace_seconds
        self.room_factory = room_factory
        self.rooms: dict[str, Room] = {}
        self.outbox = OutboxBytes()  # what all rooms of this worker hold unwritten
        self._loads: dict[str, asyncio.Task[None]] = {}
        self._unloads: dict[str, asyncio.Task[None]] = {}
        self._idle_timers: dict[str, asyncio.TimerHandle] = {}
        self._lag_monitor: asyncio.Task[None] | None = None
        # A room's layer failure may have lost access changes: the socket watch re-checks.
        self.on_layer_error = on_layer_error

    @classmethod
    def from_settings(cls, layer: Any, on_layer_error: Callable[[], None]) -> RoomRegistry:
        from django.conf import settings

        return cls(
            layer,
            room_config_from_settings(),
            settings.COLLAB_ROOM_GRACE_SECONDS,
            on_layer_error=on_layer_error,
        )

    async def start(self) -> None:
        if self._lag_monitor is None:
            self._lag_monitor = asyncio.create_task(_measure_loop_lag())

    async def stop(self) -> None:
        """Stop every room (each writes what it holds unwritten), then the lag monitor."""
        await self.close_all()
        await cancelled(self._lag_monitor)
        self._lag_monitor = None

    async def acquire(self, key: str, group: str, store: RoomStore, hooks: RoomHooks = NO_HOOKS) -> Room:
        """A loaded room for `key` (with its kind's hooks), held until `release`."""
        while True:
            unloading = self._unloads.get(key)
            if unloading is not None:
                await asyncio.shield(unloading)
                continue
            room = self.rooms.get(key)
            if room is None:
                room = self.room_factory(
                    key, group, store, self.layer, self.config, outbox=self.outbox, hooks=hooks
                )
                room.on_layer_error = self.on_layer_error
                self.rooms[key] = room
                self._loads[key] = asyncio.create_task(room.start())
            timer = self._idle_timers.pop(key, None)
            if timer is not None:
                timer.cancel()
            room.holds += 1
            load = self._loads.get(key)
            try:
                if load is not None:
                    await asyncio.shield(load)
            except BaseException:
                room.holds -= 1
                if load is not None and not load.done():
                    # This waiter was cancelled; the load goes on for the others (or for nobody).
                    load.add_done_callback(functools.partial(self._settle_load, room))
                else:
                    self._forget_failed(room)
                raise
            self._loads.pop(key, None)
            return room

    def _forget_failed(self, room: Room) -> None:
        if self.rooms.get(room.key) is room and not room.ready:
            del self.rooms[room.key]
            self._loads.pop(room.key, None)

    def _settle_load(self, room: Room, load: asyncio.Task[None]) -> None:
        """A load whose waiters all left: forget it if it failed, else let the room idle out."""
        if load.cancelled() or load.exception() is not None:
            self._forget_failed(room)
        elif room.holds == 0:
            self._loads.pop(room.key, None)
            room.holds = 1
            self.release(room)

    def release(self, room: Room) -> None:
        room.holds -= 1
        if room.holds > 0 or self.rooms.get(room.key) is not room:
            return
        loop = asyncio.get_running_loop()
        self._idle_timers[room.key] = loop.call_later(self.grace_seconds, self._begin_unload, room)

    def _begin_unload(self, room: Room) -> None:
        self._idle_timers.pop(room.key, None)
        if room.holds > 0 or self.rooms.get(room.key) is not room:
            return
        del self.rooms[room.key]
        self._unloads[room.key] = asyncio.create_task(self._unload(room))

    async def _unload(self, room: Room) -> None:
        try:
            if not await room.drain() and room.key not in self.rooms:
                # The database is down: keep the room, and what it holds, until it can write.
                logger.warning("keeping %s loaded: its updates are not written yet", room.key)
                self.rooms[room.key] = room
                room.holds = 1
                self.release(room)
                return
            await room.stop()
        except Exception:
            logger.exception("unloading %s failed", room.key)
        finally:
            self._unloads.pop(room.key, None)

    async def close_all(self) -> None:
        for timer in self._idle_timers.values():
            timer.cancel()
        self._idle_timers.clear()
        rooms = list(self.rooms.values())
        self.rooms.clear()
        # Rooms write at once, each in its own task: one slow room must not hold up the rest.
        results = await asyncio.gather(*(room.stop() for room in rooms), return_exceptions=True)
        for room, result in zip(rooms, results, strict=True):
            if isinstance(result, BaseException):
                logger.error("stopping %s failed", room.key, exc_info=result)
        unloading = list(self._unloads.values())
        if unloading:
            await asyncio.gather(*unloading, return_exceptions=True)


async def _measure_loop_lag(interval: float = 0.1) -> None:
    loop = asyncio.get_running_loop()
    while True:
        started = loop.time()
        await asyncio.sleep(interval)
        metrics.EVENT_LOOP_LAG.observe(max(0.0, loop.time() - started - interval))


def room_config_from_settings() -> RoomConfig:
    from django.conf import settings

    return RoomConfig(
        flush_interval=settings.COLLAB_FLUSH_INTERVAL_MS / 1000,
        compact_threshold=settings.COLLAB_COMPACT_THRESHOLD,
        max_outbox_bytes=settings.COLLAB_MAX_OUTBOX_BYTES,
        antientropy_interval=settings.COLLAB_ANTIENTROPY_SECONDS,
        awareness_timeout=settings.COLLAB_AWARENESS_TIMEOUT_SECONDS,
    )
