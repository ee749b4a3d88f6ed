"""The websocket side of a CRDT room, for every room kind (documents now, boards later).

Thin by design: it admits, authorises, checks frame sizes and hands frames to
the room. Its kind (`collab.engine.kinds.RoomKind`, given by the route) says
which object the socket is for, what the user may do on it and which hooks its
room runs; subclasses add what happens around that (presence, for example).
"""

from __future__ import annotations

import contextlib
import functools
import logging
import time
import uuid
from typing import TYPE_CHECKING, Any, ClassVar

from channels.db import database_sync_to_async
from channels.exceptions import StopConsumer
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings

from collab.engine.kinds import AccessLookups
from collab.engine.protocol import KEEPALIVE_FRAME, ProtocolError
from collab.engine.registry import RoomRegistry
from collab.engine.room import Room
from collab.realtime import metrics
from collab.realtime.close_codes import CloseCode
from collab.realtime.daphne.direct_frames import DirectFrames, direct_frames_of
from collab.realtime.runtime import ConnectionCount, current_runtime, running_runtime
from collab.realtime.socket_admission import RefusedError, admission_refusal
from collab.realtime.ws_dispatch import DirectDispatchMixin
from collab.realtime.ws_watch import SocketWatch, Verdict

if TYPE_CHECKING:
    from collab.engine.kinds import RoomKind

logger = logging.getLogger(__name__)

# A full-state request costs a whole-document answer: a burst of this many, then
# COLLAB_SYNC_REQUESTS_PER_MINUTE.
SYNC_REQUEST_BURST = 10.0


class CrdtRoomConsumer(DirectDispatchMixin, AsyncWebsocketConsumer):
    # No per-connection channel: the room, not the socket, is the group member.
    channel_layer_alias = "__no_layer_per_connection__"
    metrics_kind = "crdt"
    kind: RoomKind | None = None  # set by the route (`RoomKind.route`)
    object_id: Any = None

    room: Room | None = None
    # The worker's services this socket holds, kept so that its release needs no lookup.
    registry: RoomRegistry | None = None
    socket_watch: SocketWatch | None = None
    connections: ConnectionCount | None = None
    # daphne's direct path for binary frames, once the socket is accepted (see direct_frames).
    direct_frames: DirectFrames | None = None
    can_write = False
    closed = False
    last_sent = 0.0
    watched = False
    counted = False
    released = False
    refused_verdict: ClassVar[tuple[int, str]] = (
        CloseCode.UNAUTHENTICATED,
        "your session or token is no longer valid",
    )

    def __init__(self, *args: Any, kind: RoomKind | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if kind is not None:
            self.kind = kind

    # -- hooks for subclasses ------------------------------------------

    async def on_joined(self) -> None:
        """The socket joined its room (presence, for example); must not hold up the client."""

    async def on_edit(self) -> None:
        """The client sent an edit (awareness renewals are not edits)."""

    async def on_release(self) -> None:
        """Give back what a subclass or mixin holds; runs once, after the room is left."""

    # -- the kind: which object, and what the user may do on it -------------

    def _kind(self) -> RoomKind:
        if self.kind is None:
            raise RuntimeError(f"{type(self).__name__} is served without a room kind (see RoomKind.route)")
        return self.kind

    def resolve_target(self) -> str:
        """The room key of the object in the URL; raises RefusedError (4404) when there is none."""
        kind = self._kind()
        object_id = kind.parse_id(str(self.scope["url_route"]["kwargs"].get("object_id", "")))
        if object_id is None:
            raise RefusedError(CloseCode.NOT_FOUND, f"unknown {kind.label}")
        self.object_id = object_id
        return kind.key(object_id)

    async def current_role_can_write(self) -> bool:
        """Whether the user may write now; raises RefusedError if they lost access."""
        runtime = running_runtime()
        if runtime is not None and runtime.has(AccessLookups):
            verdict = await runtime.get(AccessLookups).access(self._kind(), self.object_id, self.user_id)
        else:
            verdict = await database_sync_to_async(self._kind().access, thread_sensitive=False)(
                self.object_id, self.user_id
            )
        if isinstance(verdict, tuple):
            raise RefusedError(*verdict)
        return verdict

    # -- the worker's periodic watch ---------------------------------------

    def access_group(self) -> Any:
        """Sockets the watch checks with one batched `verdicts` call."""
        return (type(self), self.kind)

    def access_subject(self) -> tuple[Any, int, int | None, int | None]:
        return self.object_id, self.user_id, self.scope.get("token_id"), self.scope.get("session_id")

    def verdicts(self, subjects: list[tuple[Any, int, int | None, int | None]]) -> list[Verdict]:
        """Sync, batched, for sockets of this one's access group: authentication, then the kind."""
        from collab.accounts.services import socket_credentials_valid

        valid = socket_credentials_valid(subject[1:] for subject in subjects)
        checked = [subject for subject in subjects if subject[1:] in valid]
        kind_verdicts = self._kind().verdicts([(target, user) for target, user, _, _ in checked])
        by_subject = dict(zip(checked, kind_verdicts, strict=True))
        return [by_subject.get(subject, self.refused_verdict) for subject in subjects]

    async def apply_verdict(self, verdict: Verdict) -> None:
        if isinstance(verdict, tuple):
            await self.refuse(*verdict)
        elif verdict != self.can_write:
            self.can_write = verdict
            if self.room is not None:
                self.room.forget_denial(self.peer_id)

    async def keepalive(self) -> None:
        await self.send_bytes(KEEPALIVE_FRAME)

    # -- Peer protocol ---------------------------------------------------

    @functools.cached_property
    def user_id(self) -> int:
        # Read on every frame; the scope's user is a lazy object, its id never changes.
        return int(self.scope["user"].pk)

    async def send_bytes(self, data: bytes) -> None:
        if self.closed:
            return
        self.last_sent = time.monotonic()
        if self.direct_frames is not None and self.direct_frames.send_binary(data):
            return
        await self.send(bytes_data=data)

    async def refuse(self, code: int, reason: str) -> None:
        if self.closed:
            return
        metrics.FRAMES_REJECTED.labels(str(code)).inc()
        self.closed = True
        await self.close(code=code, reason=reason[:120])

    async def refresh_access(self) -> None:
        try:
            self.can_write = await self.current_role_can_write()
        except RefusedError as refused:
            await self.refuse(refused.code, refused.reason)

    # -- websocket lifecycle ---------------------------------------------

    async def connect(self) -> None:
        from collab.accounts.services import identity_of

        self.peer_id = uuid.uuid4().hex
        self.sync_budget = SYNC_REQUEST_BURST
        self.sync_budget_at = time.monotonic()
        user = self.scope.get("user")
        runtime = current_runtime()
        try:
            refusal = admission_refusal(self.scope, runtime.connections)
            if refusal is not None:
                raise refusal
            key = self.resolve_target()
            self.can_write = await self.current_role_can_write()
            self.identity = identity_of(user)
            registry = runtime.get(RoomRegistry)
            kind = self._kind()
            self.room = await registry.acquire(key, kind.group(self.object_id), kind.store(), kind.hooks)
            self.registry = registry
        except RefusedError as refused:
            await self.accept()
            await self.refuse(refused.code, refused.reason)
            return
        except Exception:
            logger.exception("could not open a room")
            await self.accept()
            await self.refuse(CloseCode.UNAVAILABLE, "internal error")
            return
        await self.accept()
        self.direct_frames = direct_frames_of(self.scope)
        self.connections = runtime.connections
        self.connections.opened(self.metrics_kind)
        self.counted = True
        self.socket_watch = runtime.get(SocketWatch)
        self.socket_watch.add(self)
        self.watched = True
        try:
            await self.room.join(self)
            # An access change handled while the room was loading did not reach us yet.
            await self.refresh_access()
            await self.on_joined()
        except Exception:
            logger.exception("joining %s failed", self.room.key)
            await self.refuse(CloseCode.UNAVAILABLE, "internal error")

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if self.closed or self.room is None:
            return
        if bytes_data is None:
            await self.refuse(CloseCode.BAD_FRAME, "binary frames only")
            return
        if len(bytes_data) > settings.COLLAB_MAX_FRAME_BYTES:
            # daphne closes with 1009 above the limit; this guards a daphne started with a
            # larger explicit limit (apps cannot send 1009).
            await self.refuse(CloseCode.TOO_BIG, "frame too large")
            return
        if bytes_data[:1] == b"\x00" and bytes_data[1:2] in (b"\x01", b"\x02"):
            await self.on_edit()
        elif (bytes_data[:2] == b"\x00\x00" or bytes_data[:1] == b"\x03") and not self._take_sync_request():
            await self.refuse(CloseCode.TOO_MANY_REQUESTS, "too many full-state requests; slow down")
            return
        try:
            await self.room.receive_frame(self, bytes_data)
        except ProtocolError as error:
            await self.refuse(CloseCode.BAD_FRAME, f"bad frame: {error}")
        except Exception:
            # Close cleanly so disconnect() releases the room and the connection count.
            logger.exception("frame handling failed in %s", self.room.key)
            await self.refuse(CloseCode.UNAVAILABLE, "internal error")

    def _take_sync_request(self) -> bool:
        """A token bucket: each answer to SyncStep1 or QueryAwareness may be a whole document."""
        now = time.monotonic()
        rate = settings.COLLAB_SYNC_REQUESTS_PER_MINUTE / 60
        self.sync_budget = min(SYNC_REQUEST_BURST, self.sync_budget + (now - self.sync_budget_at) * rate)
        self.sync_budget_at = now
        if self.sync_budget < 1:
            return False
        self.sync_budget -= 1
        return True

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        try:
            await self._serve(scope, receive, send)
        except Exception:
            logger.exception("%s failed; closing the socket", type(self).__name__)
            with contextlib.suppress(Exception):
                await self.refuse(CloseCode.UNAVAILABLE, "internal error")
        finally:
            # Every exit (close, error, cancellation by daphne) gives everything back, once.
            await self._release()

    async def _serve(self, scope: Any, receive: Any, send: Any) -> None:
        """Channels' consumer loop for a socket with no channel of its own: one message at a
        time from the client, without `await_many_dispatch`'s task and `asyncio.wait` per
        message (3-5 % of a busy worker's loop)."""
        self.scope = scope
        self.channel_layer = None
        self.base_send = send
        try:
            while True:
                await self.dispatch(await receive())
        except StopConsumer:
            pass

    async def disconnect(self, code: int) -> None:
        await self._release()

    async def _release(self) -> None:
        """The connection slot, the watch, the room hold, then (awaiting) the room and `on_release`.

        What needs no await is let go first, so a cancellation that interrupts the
        awaits cannot keep a slot or a room loaded; at worst an awareness or presence
        entry expires after its timeout.
        """
        if self.released:
            return
        self.released = True
        self.closed = True
        if self.watched and self.socket_watch is not None:
            self.watched = False
            self.socket_watch.discard(self)
        if self.counted and self.connections is not None:
            self.counted = False
            self.connections.closed(self.metrics_kind)
        room, self.room = self.room, None
        if room is not None and self.registry is not None:
            self.registry.release(room)
            try:
                await room.leave(self)
            except Exception:
                logger.warning("leaving %s failed", room.key, exc_info=True)
        try:
            await self.on_release()
        except Exception:
            logger.exception("%s: on_release failed", type(self).__name__)
