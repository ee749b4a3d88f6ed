"""Room kinds: every kind of shared CRDT object the engine serves, through one registry.

A kind (documents, later boards and task descriptions) declares

- its websocket route (`path`, a regex with one named group `object_id`) and the
  socket class that serves it (`socket`: `CrdtRoomConsumer` or an app's subclass
  with presence and other hooks);
- how a room is named: `parse_id`, `key` (the room key, unique across kinds),
  `group` (the cross-worker channel-layer group);
- where its rooms are stored (`store`, one per worker);
- how a user's access is resolved (`access`, and `verdicts` batched for the
  periodic watch): may write (True), may read (False), or refused (code, reason);
- its hooks (`collab.engine.hooks`): `validate`, which sees every update before
  it is accepted and may refuse it or correct it, and `observers`, told of every
  applied update.

Apps register their kinds in `AppConfig.ready`; the project's websocket routing
serves `kind_routes()`. The protocol, roles per frame, cross-worker repair and
durability are the engine's and the same for every kind.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from channels.db import database_sync_to_async
from django.urls import URLPattern, re_path

from collab.engine.hooks import AppliedUpdate, Observer, ProposedChange, RoomHooks
from collab.engine.interfaces import RoomStore
from collab.realtime.batching import Batcher
from collab.realtime.ws_watch import Verdict

if TYPE_CHECKING:
    from collab.engine.consumer import CrdtRoomConsumer


class RoomKind:
    name: ClassVar[str]  # short, no ":" or "."; the room key prefix
    label: ClassVar[str] = "object"  # what close reasons call one ("unknown document")
    path: ClassVar[str]  # e.g. r"^ws/docs/(?P<object_id>[^/?]+)/?$"

    def socket(self) -> type[CrdtRoomConsumer]:
        """The consumer class serving this kind's route (override to add presence and the like)."""
        from collab.engine.consumer import CrdtRoomConsumer

        return CrdtRoomConsumer

    def parse_id(self, raw: str) -> Any | None:
        """The object id in the URL, or None when it cannot be one (4404)."""
        return raw or None

    def key(self, object_id: Any) -> str:
        return f"{self.name}:{object_id}"

    def group(self, object_id: Any) -> str:
        return f"{self.name}.{object_id}"

    def store(self) -> RoomStore:
        """This worker's store for the kind (called on the event loop, when a room loads)."""
        raise NotImplementedError

    def access(self, object_id: Any, user_id: int) -> Verdict:
        """Sync, run in a thread: may write (True), may read (False), or (close code, reason)."""
        raise NotImplementedError

    def access_many(self, subjects: Sequence[tuple[Any, int]]) -> list[Verdict]:
        """`access` for many sockets being set up at once (`AccessLookups` gathers them);
        override to batch the queries."""
        return [self.access(object_id, user_id) for object_id, user_id in subjects]

    def verdicts(self, subjects: Sequence[tuple[Any, int]]) -> list[Verdict]:
        """For the periodic watch of open sockets: as `access`, but an object that is gone is
        reported as such; override to batch the queries."""
        return [self.access(object_id, user_id) for object_id, user_id in subjects]

    # -- hooks (run on the room's thread; see collab.engine.hooks) ---------------

    def validate(self, change: ProposedChange) -> str | None:
        """A reason to refuse `change`, or None; may write a correction to `change.doc`."""
        return None

    def observers(self) -> Sequence[Observer]:
        return ()

    @functools.cached_property
    def hooks(self) -> RoomHooks:
        """What the kind's rooms run (built once: every socket's connect asks)."""
        validates = type(self).validate is not RoomKind.validate
        return RoomHooks(validate=self.validate if validates else None, observers=tuple(self.observers()))

    def route(self) -> URLPattern:
        pattern: URLPattern = re_path(self.path, self.socket().as_asgi(kind=self))
        return pattern


class AccessLookups:
    """The worker's access checks for sockets being set up, one `Batcher` per kind: the
    checks of every socket that arrives while one is in flight run as one `access_many`."""

    def __init__(self) -> None:
        self._batchers: dict[str, Batcher[tuple[Any, int], Verdict]] = {}

    async def access(self, kind: RoomKind, object_id: Any, user_id: int) -> Verdict:
        batcher = self._batchers.get(kind.name)
        if batcher is None:
            batcher = self._batchers[kind.name] = Batcher(functools.partial(_access_many, kind))
        return await batcher.get((object_id, user_id))

    async def stop(self) -> None:
        for batcher in self._batchers.values():
            await batcher.close()


async def _access_many(kind: RoomKind, subjects: Sequence[tuple[Any, int]]) -> dict[tuple[Any, int], Verdict]:
    verdicts = await database_sync_to_async(kind.access_many, thread_sensitive=False)(subjects)
    return dict(zip(subjects, verdicts, strict=True))


class RoomKinds:
    """The kinds this process serves (static configuration, filled in `AppConfig.ready`)."""

    def __init__(self) -> None:
        self._kinds: dict[str, RoomKind] = {}

    def register(self, kind: RoomKind) -> RoomKind:
        if any(mark in kind.name for mark in ":./") or not kind.name:
            raise ValueError(f"bad room kind name {kind.name!r}")
        existing = self._kinds.get(kind.name)
        if existing is not None and type(existing) is not type(kind):
            raise ValueError(f"room kind {kind.name!r} is registered twice")
        self._kinds[kind.name] = kind
        return kind

    def unregister(self, name: str) -> None:
        self._kinds.pop(name, None)

    def get(self, name: str) -> RoomKind:
        return self._kinds[name]

    def __iter__(self) -> Iterator[RoomKind]:
        return iter(list(self._kinds.values()))

    def routes(self) -> list[URLPattern]:
        return [kind.route() for kind in self]


room_kinds = RoomKinds()

__all__ = ["AccessLookups", "AppliedUpdate", "ProposedChange", "RoomKind", "RoomKinds", "room_kinds"]
