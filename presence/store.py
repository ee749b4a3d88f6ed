"""Where presence lives: Redis across workers, a dict in the embedded default.

Every open socket is a *connection* (an id, its user, and the object it has open,
if any). A connection exists while it is renewed: each worker re-stamps its own
connections every heartbeat with an expiry of now + TTL, so a worker that dies
stops renewing and its connections vanish within the TTL, with nobody cleaning
up after it. A user's last activity decides between online and away.

Redis layout (prefix `{COLLAB_REDIS_PREFIX}:presence`):
* `obj:{object}`  ZSET  "conn|user_id|username" -> expiry   who has the object open
* `user:{id}`     ZSET  conn -> expiry                        a user's connections
* `users`         ZSET  "user_id|username" -> expiry          who is connected at all
* `active`        ZSET  user_id -> last activity
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any, Protocol

ONLINE = "online"
AWAY = "away"
OFFLINE = "offline"


@dataclass(frozen=True)
class Connection:
    conn_id: str
    user_id: int
    username: str
    obj: str | None  # "chat.12", "doc.<hex>", or None for a socket that is only "online"


@dataclass(frozen=True)
class Person:
    user_id: int
    username: str
    status: str
    # Not compared: a list of people only changes when someone comes, goes or changes status.
    last_active: float | None = field(default=None, compare=False)

    def as_json(self) -> dict[str, Any]:
        return {"user": self.username, "status": self.status}


def status_for(last_active: float | None, now: float, away_after: float) -> str:
    if last_active is not None and now - last_active < away_after:
        return ONLINE
    return AWAY


def people(
    users: dict[int, str], active: dict[int, float | None], now: float, away_after: float
) -> list[Person]:
    """Connected users with their status, one entry per user, by name."""
    found = [
        Person(uid, name, status_for(active.get(uid), now, away_after), active.get(uid))
        for uid, name in users.items()
    ]
    return sorted(found, key=lambda person: person.username)


class PresenceStore(Protocol):
    async def renew(self, connections: list[Connection], expires: float) -> None: ...

    async def drop(self, connection: Connection, now: float) -> None: ...

    async def touch(self, user_id: int, now: float) -> None: ...

    async def here(self, objects: list[str], now: float) -> dict[str, dict[int, str]]: ...

    async def online(self, now: float) -> dict[int, str]: ...

    async def last_active(self, user_ids: list[int]) -> dict[int, float | None]: ...

    async def close(self) -> None:
        """Give back what the store holds (the worker stops)."""
        ...


class MemoryPresenceStore:
    """The embedded default: one process, so one dict; locked because REST reads come from threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._conns: dict[str, tuple[Connection, float]] = {}
        self._active: dict[int, float] = {}

    def _live(self, now: float) -> list[Connection]:
        expired = [cid for cid, (_, expiry) in self._conns.items() if expiry <= now]
        for cid in expired:
            del self._conns[cid]
        return [conn for conn, _ in self._conns.values()]

    async def renew(self, connections: list[Connection], expires: float) -> None:
        with self._lock:
            for conn in connections:
                self._conns[conn.conn_id] = (conn, expires)

    async def drop(self, connection: Connection, now: float) -> None:
        with self._lock:
            self._conns.pop(connection.conn_id, None)

    async def touch(self, user_id: int, now: float) -> None:
        with self._lock:
            self._active[user_id] = max(now, self._active.get(user_id, 0.0))

    async def here(self, objects: list[str], now: float) -> dict[str, dict[int, str]]:
        wanted = set(objects)
        found: dict[str, dict[int, str]] = {obj: {} for obj in objects}
        with self._lock:
            for conn in self._live(now):
                if conn.obj in wanted:
                    found[conn.obj][conn.user_id] = conn.username
        return found

    async def online(self, now: float) -> dict[int, str]:
        with self._lock:
            return {conn.user_id: conn.username for conn in self._live(now)}

    async def last_active(self, user_ids: list[int]) -> dict[int, float | None]:
        with self._lock:
            return {uid: self._active.get(uid) for uid in user_ids}

    async def close(self) -> None:
        """Nothing to give back: the dict goes with the hub."""


# Drop a connection and, if it was the user's last live one, the user: atomically, so a
# connection opened on another worker at the same moment cannot be overwritten.
_DROP_SCRIPT = """
if KEYS[3] ~= '' then redis.call('ZREM', KEYS[3], ARGV[2]) end
redis.call('ZREM', KEYS[1], ARGV[1])
if redis.call('ZCOUNT', KEYS[1], '(' .. ARGV[4], '+inf') == 0 then
  redis.call('ZREM', KEYS[2], ARGV[3])
end
return 0
"""


class RedisPresenceStore:
    def __init__(self, client: Any, prefix: str, ttl: float) -> None:
        self.client = client
        self.prefix = f"{prefix}:presence"
        self.ttl = ttl
        self._drop = client.register_script(_DROP_SCRIPT)

    def _key(self, *parts: object) -> str:
        return ":".join([self.prefix, *map(str, parts)])

    @staticmethod
    def _obj_member(conn: Connection) -> str:
        return f"{conn.conn_id}|{conn.user_id}|{conn.username}"

    async def renew(self, connections: list[Connection], expires: float) -> None:
        if not connections:
            return
        keep = int(self.ttl * 4) + 60  # keys of objects nobody renews any more disappear by themselves
        async with self.client.pipeline(transaction=False) as pipe:
            for conn in connections:
                user_key = self._key("user", conn.user_id)
                pipe.zadd(user_key, {conn.conn_id: expires})
                pipe.expire(user_key, keep)
                pipe.zadd(self._key("users"), {f"{conn.user_id}|{conn.username}": expires}, gt=True)
                if conn.obj is not None:
                    obj_key = self._key("obj", conn.obj)
                    pipe.zadd(obj_key, {self._obj_member(conn): expires})
                    pipe.expire(obj_key, keep)
            await pipe.execute()

    async def drop(self, connection: Connection, now: float) -> None:
        obj_key = self._key("obj", connection.obj) if connection.obj is not None else ""
        keys = [self._key("user", connection.user_id), self._key("users"), obj_key]
        args = [
            connection.conn_id,
            self._obj_member(connection),
            f"{connection.user_id}|{connection.username}",
            now,
        ]
        await self._drop(keys=keys, args=args)

    async def touch(self, user_id: int, now: float) -> None:
        await self.client.zadd(self._key("active"), {str(user_id): now}, gt=True)

    async def here(self, objects: list[str], now: float) -> dict[str, dict[int, str]]:
        if not objects:
            return {}
        async with self.client.pipeline(transaction=False) as pipe:
            for obj in objects:
                pipe.zremrangebyscore(self._key("obj", obj), "-inf", now)
                pipe.zrangebyscore(self._key("obj", obj), f"({now}", "+inf")
            replies = await pipe.execute()
        found: dict[str, dict[int, str]] = {}
        for obj, members in zip(objects, replies[1::2], strict=True):
            users: dict[int, str] = {}
            for member in members:
                _, uid, name = _decode(member).split("|", 2)
                users[int(uid)] = name
            found[obj] = users
        return found

    async def online(self, now: float) -> dict[int, str]:
        key = self._key("users")
        await self.client.zremrangebyscore(key, "-inf", now)
        users: dict[int, str] = {}
        for member in await self.client.zrangebyscore(key, f"({now}", "+inf"):
            uid, name = _decode(member).split("|", 1)
            users[int(uid)] = name
        return users

    async def last_active(self, user_ids: list[int]) -> dict[int, float | None]:
        if not user_ids:
            return {}
        scores = await self.client.zmscore(self._key("active"), [str(uid) for uid in user_ids])
        return {
            uid: (float(score) if score is not None else None)
            for uid, score in zip(user_ids, scores, strict=True)
        }

    async def close(self) -> None:
        await self.client.aclose()


def _decode(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
