"""One presence hub per worker: renews this worker's connections and tells its sockets who is here.

Sockets register with the hub (`join`/`leave`) and report user activity
(`activity`). The hub renews every local connection each heartbeat, and keeps
the last "who is here" it delivered for each object that has local watchers. It
recomputes an object's list when a socket joins or leaves it anywhere (a
`presence.changed` event on the object's group reaches every worker watching
it) and on a periodic sweep, which is what notices connections of a crashed
worker expiring and users turning away. A socket only hears about a change.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from presence.store import AWAY, Connection, Person, PresenceStore, people

logger = logging.getLogger(__name__)

Deliver = Callable[[list[Person]], Awaitable[None]]
T = TypeVar("T")


@dataclass
class PresenceConfig:
    heartbeat: float = 10.0
    ttl: float = 30.0
    away_after: float = 300.0
    sweep: float = 2.0
    touch_every: float = 5.0  # write a user's activity to the store at most this often


@dataclass
class _Watcher:
    connection: Connection
    deliver: Deliver | None
    alive: Callable[[], bool] | None = None


@dataclass
class _Watched:
    watchers: dict[str, _Watcher] = field(default_factory=dict)
    last: list[Person] | None = None


class _Outage:
    """One log line when presence starts failing (Redis down), one when it works again:
    not a traceback per socket and round (hundreds a second in an outage)."""

    def __init__(self) -> None:
        self.failing = False

    def failed(self, what: str, exc: BaseException) -> None:
        if not self.failing:
            self.failing = True
            logger.warning("presence: %s failed (quiet until presence works again): %r", what, exc)

    def worked(self) -> None:
        if self.failing:
            self.failing = False
            logger.warning("presence works again")


def object_group(obj: str) -> str:
    return f"presence.{obj}"


class PresenceHub:
    def __init__(
        self, store: PresenceStore, layer: Any, config: PresenceConfig, clock: Callable[[], float] = time.time
    ) -> None:
        self.store = store
        self.layer = layer
        self.config = config
        self.clock = clock
        self.connections: dict[str, _Watcher] = {}
        self.objects: dict[str, _Watched] = {}
        self._touched: dict[int, float] = {}
        self._away_users: set[int] = set()
        self._channel = ""
        self._tasks: list[asyncio.Task[None]] = []
        self._starting: asyncio.Future[None] | None = None
        self._outage = _Outage()

    # -- sockets ---------------------------------------------------------

    async def join(
        self,
        connection: Connection,
        deliver: Deliver | None = None,
        alive: Callable[[], bool] | None = None,
    ) -> None:
        """Register a socket; `deliver` hears "who is here" for its object now and on each change.

        Never raises: presence is a courtesy, so a Redis blip must not cost anyone their socket.
        `alive` is a safety net: a socket that closed without `leave` stops being renewed.
        """
        watcher = _Watcher(connection, deliver, alive)
        self.connections[connection.conn_id] = watcher  # before any await: a quick leave finds it
        if connection.obj is not None:
            self.objects.setdefault(connection.obj, _Watched()).watchers[connection.conn_id] = watcher
        try:
            await self._start()
        except Exception:
            logger.warning("presence hub could not start; retrying with the next socket", exc_info=True)
            return  # the watcher stays registered: the heartbeat writes it once the hub runs
        now = self.clock()
        self._touched[connection.user_id] = now
        await self._quietly(self.store.touch(connection.user_id, now))
        await self._quietly(self.store.renew([connection], now + self.config.ttl))
        if connection.conn_id not in self.connections:
            await self._quietly(self.store.drop(connection, self.clock()))  # it left meanwhile
            return
        if connection.obj is None:
            return
        await self._layer_call("group_add", object_group(connection.obj), self._channel)
        changed = await self._quietly(self._announce(connection.obj))
        watched = self.objects.get(connection.obj)
        if not changed and watched is not None and watched.last is not None:
            await self._deliver_one(watcher, watched.last)  # nothing new to tell the others

    async def leave(self, connection: Connection) -> None:
        """Unregister a socket. Never raises (a failed drop expires after the TTL)."""
        if self.connections.pop(connection.conn_id, None) is None:
            return
        await self._quietly(self.store.drop(connection, self.clock()))
        await self._forget_watcher(connection)

    async def _forget_watcher(self, connection: Connection) -> None:
        if connection.obj is None:
            return
        watched = self.objects.get(connection.obj)
        if watched is not None:
            watched.watchers.pop(connection.conn_id, None)
            if not watched.watchers:
                del self.objects[connection.obj]
                await self._layer_call("group_discard", object_group(connection.obj), self._channel)
        await self._quietly(self._announce(connection.obj))

    async def _quietly(self, call: Awaitable[T]) -> T | None:
        try:
            result = await call
        except Exception as exc:
            # A later heartbeat renews the entry; a stale one expires after the TTL.
            self._outage.failed("the presence store", exc)
            return None
        self._outage.worked()
        return result

    async def activity(self, user_id: int) -> None:
        """The user did something: keep them online (store writes are throttled). Never raises."""
        now = self.clock()
        if now - self._touched.get(user_id, 0.0) < self.config.touch_every:
            return
        self._touched[user_id] = now
        await self._quietly(self.store.touch(user_id, now))
        if user_id in self._away_users:
            self._away_users.discard(user_id)
            for obj, watched in list(self.objects.items()):
                if any(w.connection.user_id == user_id for w in watched.watchers.values()):
                    await self._quietly(self._announce(obj))

    # -- reading ---------------------------------------------------------

    async def here(self, obj: str) -> list[Person]:
        users = (await self.store.here([obj], self.clock())).get(obj, {})
        return await self._with_status(users)

    async def online(self) -> list[Person]:
        return await self._with_status(await self.store.online(self.clock()))

    async def _with_status(self, users: dict[int, str]) -> list[Person]:
        active = await self.store.last_active(list(users))
        return people(users, active, self.clock(), self.config.away_after)

    # -- keeping lists current -------------------------------------------

    async def _announce(self, obj: str) -> bool:
        """Recompute here, and make the other workers watching `obj` do the same."""
        await self._layer_call("group_send", object_group(obj), {"type": "presence.changed", "obj": obj})
        return obj in await self.refresh([obj])

    async def refresh(self, objs: list[str]) -> set[str]:
        """Re-read who is here for `objs`; deliver and return the ones whose list changed."""
        objs = [obj for obj in objs if obj in self.objects]
        changed: set[str] = set()
        if not objs:
            return changed
        now = self.clock()
        here = await self.store.here(objs, now)
        user_ids = sorted({uid for users in here.values() for uid in users})
        active = await self.store.last_active(user_ids)
        for obj in objs:
            current = people(here.get(obj, {}), active, now, self.config.away_after)
            for person in current:
                if person.status == AWAY:
                    self._away_users.add(person.user_id)
            watched = self.objects.get(obj)
            if watched is None or watched.last == current:
                continue
            watched.last = current
            changed.add(obj)
            for watcher in list(watched.watchers.values()):
                await self._deliver_one(watcher, current)
        return changed

    async def _deliver_one(self, watcher: _Watcher, current: list[Person]) -> None:
        if watcher.deliver is None:
            return
        try:
            await watcher.deliver(current)
        except Exception as exc:
            self._outage.failed("delivery", exc)

    async def _start(self) -> None:
        if self._starting is None:
            self._starting = asyncio.ensure_future(self._start_tasks())
        starting = self._starting
        try:
            await asyncio.shield(starting)
        except Exception:
            if self._starting is starting:
                self._starting = None  # the next join tries again (e.g. once Redis is back)
            raise

    async def _start_tasks(self) -> None:
        self._channel = await self.layer.new_channel()
        self._tasks = [
            asyncio.create_task(self._receive_loop()),
            asyncio.create_task(self._every(self.config.heartbeat, self._heartbeat)),
            asyncio.create_task(self._every(self.config.sweep, self._sweep)),
        ]

    async def _heartbeat(self) -> None:
        for watcher in list(self.connections.values()):
            if watcher.alive is not None and not watcher.alive():
                logger.warning("presence: %s closed without leaving", watcher.connection.conn_id)
                await self.leave(watcher.connection)
        connections = [watcher.connection for watcher in self.connections.values()]
        await self.store.renew(connections, self.clock() + self.config.ttl)
        # A leave that ran while the renewal was in flight must not be undone by it.
        for connection in connections:
            if connection.conn_id not in self.connections:
                await self._quietly(self.store.drop(connection, self.clock()))

    async def _sweep(self) -> None:
        await self.refresh(list(self.objects))

    async def _every(self, seconds: float, job: Callable[[], Awaitable[None]]) -> None:
        while True:
            await asyncio.sleep(seconds)
            try:
                await job()
            except Exception as exc:
                self._outage.failed(job.__name__, exc)

    async def _receive_loop(self) -> None:
        while True:
            try:
                message = await self.layer.receive(self._channel)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self._outage.failed("receive", exc)
                await asyncio.sleep(0.5)
                continue
            if message.get("type") == "presence.changed" and isinstance(message.get("obj"), str):
                try:
                    await self.refresh([message["obj"]])
                except Exception as exc:
                    self._outage.failed("refresh", exc)

    async def _layer_call(self, method: str, *args: Any) -> None:
        try:
            await getattr(self.layer, method)(*args)
        except Exception as exc:
            # Other workers still catch up on their next sweep.
            self._outage.failed(method, exc)

    @classmethod
    def from_settings(cls, layer: Any) -> PresenceHub:
        return cls(store_from_settings(), layer, config_from_settings())

    async def stop(self) -> None:
        await self.close()
        with contextlib.suppress(Exception):
            await self.store.close()  # a Redis that is down already has nothing to give back

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(BaseException):
                await task
        self._tasks = []
        self._starting = None


def config_from_settings() -> PresenceConfig:
    from django.conf import settings

    away_after = settings.COLLAB_PRESENCE_AWAY_SECONDS
    return PresenceConfig(
        heartbeat=settings.COLLAB_PRESENCE_HEARTBEAT_SECONDS,
        ttl=settings.COLLAB_PRESENCE_TTL_SECONDS,
        away_after=away_after,
        sweep=settings.COLLAB_PRESENCE_SWEEP_SECONDS,
        touch_every=min(5.0, away_after / 4),
    )


def store_from_settings() -> PresenceStore:
    """Redis when REDIS_URL is set (shared by all workers), else an in-process store (the
    embedded default is one worker process)."""
    from django.conf import settings

    if settings.REDIS_URL:
        import redis.asyncio

        client = redis.asyncio.Redis.from_url(settings.REDIS_URL)
        from presence.store import RedisPresenceStore

        return RedisPresenceStore(client, settings.REDIS_PREFIX, settings.COLLAB_PRESENCE_TTL_SECONDS)
    from presence.store import MemoryPresenceStore

    return MemoryPresenceStore()
