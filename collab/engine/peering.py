"""A room's peering with the other workers that have the same document open.

The room, not each socket, is the member of the document's cross-worker group.
Pub/sub between workers is at-most-once, so peering never trusts it:
publications carry a per-room sequence number, a gap triggers a state-vector
exchange with the publisher, and every room periodically broadcasts its state
vector so that a lost last message is repaired too. A peer's update stays
*unconfirmed* until its origin says it is durable (`room.flushed`); one not
confirmed in time is written by this room too (the origin may have died).

Layer messages are dispatched through a table from message type to handler,
as Channels dispatches consumer events.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from collab.engine.client_ids import Claim
from collab.engine.protocol import (
    EMPTY_UPDATE,
    ProtocolError,
    decode_awareness_update,
    decode_state_vector,
    encode_awareness,
    encode_awareness_update,
    encode_update,
    is_ahead,
)
from collab.engine.yupdate import check_update
from collab.realtime import metrics

if TYPE_CHECKING:
    from collab.engine.room import Room

logger = logging.getLogger(__name__)

# Worth sending only while another worker has the document open.
PEER_ONLY_MESSAGES = frozenset({"room.update", "room.awareness", "room.flushed"})

Message = dict[str, Any]

PEER_UPDATES = metrics.UPDATES.labels("peer")
REPAIR_UPDATES = metrics.UPDATES.labels("repair")


class Peering:
    def __init__(self, room: Room) -> None:
        self.room = room
        self.channel = ""
        self.peers_seen: dict[str, float] = {}  # other rooms of this document, last heard
        self.last_seq: dict[str, int] = {}
        self.unconfirmed: dict[str, list[tuple[int, bytes, float, list[Claim]]]] = {}
        self._publish_seq = 0
        self._buffered: list[Message] = []
        self._outgoing: list[Message] = []
        self._outgoing_ready = asyncio.Event()
        self._publish_failing = False
        self._receiver: asyncio.Task[None] | None = None
        self._publisher: asyncio.Task[None] | None = None
        self._maintenance: asyncio.Task[None] | None = None
        self._handlers: dict[str, Callable[[str, Message], Awaitable[None]]] = {
            "room.update": self._on_update,
            "room.flushed": self._on_flushed,
            "room.awareness": self._on_awareness,
            "room.sv": self._on_state_vector,
            "room.bye": self._on_bye,
            "room.join": self._on_join,
        }
        # Called when the layer fails: a lost message may have carried an access change.
        self.on_layer_error: Callable[[], None] = lambda: None

    @property
    def layer(self) -> Any:
        return self.room.layer

    def _clock(self) -> float:
        return self.room.clock()

    # -- lifecycle -------------------------------------------------------

    async def subscribe(self) -> None:
        """Join the group before the room loads: nothing published during the load is missed."""
        self.channel = await self.layer.new_channel()
        await self.layer.group_add(self.room.group, self.channel)
        self._receiver = asyncio.create_task(self._receive_loop())
        self._publisher = asyncio.create_task(self._publisher_loop())
        self.publish({"type": "room.join"})

    async def loaded(self) -> None:
        """The room is loaded: handle what arrived meanwhile, then greet and start the rounds."""
        for message in self._buffered:
            try:
                await self.handle(message)
            except Exception:
                logger.exception("bad layer message for %s", self.room.key)
        self._buffered.clear()
        # Peers answer with whatever they hold that the database does not (yet).
        self.publish({"type": "room.sv", "sv": self.room.doc.get_state(), "hello": True})
        self._maintenance = asyncio.create_task(self._maintenance_loop())

    def stop_rounds(self) -> None:
        if self._maintenance is not None:
            self._maintenance.cancel()

    async def leave(self) -> None:
        """Say goodbye, send what is queued, leave the group."""
        self.publish({"type": "room.bye"})
        if self._publisher is not None:
            self._publisher.cancel()
        await self._send_outgoing()
        await self.unsubscribe()

    def kill(self) -> None:
        """Cancel the background tasks at once: no goodbye, no renewals (what a crash looks like)."""
        for task in (self._receiver, self._publisher, self._maintenance):
            if task is not None:
                task.cancel()

    async def unsubscribe(self) -> None:
        self.kill()
        with contextlib.suppress(Exception):
            await self.layer.group_discard(self.room.group, self.channel)

    # -- publishing ------------------------------------------------------

    def publish(self, message: Message) -> int:
        """Queue a message for the document's group; returns its sequence number (0: not sent).

        The frame path never waits for Redis: one publisher task sends the queue
        in order, as one batch when several messages are waiting. Updates,
        awareness and confirmations are only sent while another worker has the
        document open; rooms announce themselves (join, state vectors, bye) always.
        """
        if message["type"] in PEER_ONLY_MESSAGES and not self.has_peers():
            return 0
        self._publish_seq += 1
        self._outgoing.append({**message, "origin": self.channel, "seq": self._publish_seq})
        self._outgoing_ready.set()
        return self._publish_seq

    def has_peers(self) -> bool:
        horizon = self._clock() - 3 * self.room.config.antientropy_interval
        for origin, seen in list(self.peers_seen.items()):
            if seen < horizon:
                del self.peers_seen[origin]
        return bool(self.peers_seen)

    def flushed(self, upto: int) -> None:
        """Our updates up to publication `upto` are durable: peers may stop holding them."""
        self.publish({"type": "room.flushed", "upto": upto})

    async def _publisher_loop(self) -> None:
        while True:
            await self._outgoing_ready.wait()
            self._outgoing_ready.clear()
            await self._send_outgoing()

    async def _send_outgoing(self) -> None:
        while self._outgoing:
            batch, self._outgoing = self._outgoing, []
            message = batch[0] if len(batch) == 1 else {"type": "room.batch", "messages": batch}
            try:
                await self.layer.group_send(self.room.group, message)
            except Exception as exc:
                # Peers notice the sequence gap (or the next state-vector round) and repair.
                if not self._publish_failing:
                    self._publish_failing = True
                    logger.warning(
                        "publish to %s failed (logged once until it works): %s", self.room.group, exc
                    )
                self.on_layer_error()
                continue
            self._publish_failing = False

    async def _send_direct(self, channel: str, message: Message) -> None:
        try:
            await self.layer.send(channel, {**message, "origin": self.channel})
        except Exception:
            logger.warning("direct send to %s failed", channel, exc_info=True)

    # -- receiving -------------------------------------------------------

    async def _receive_loop(self) -> None:
        while True:
            try:
                message = await self.layer.receive(self.channel)
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.warning("layer receive failed for %s", self.room.key, exc_info=True)
                self.on_layer_error()
                await asyncio.sleep(0.5)
                continue
            if not self.room.ready:
                self._buffered.append(message)
                continue
            try:
                await self.handle(message)
            except Exception:
                logger.exception("bad layer message for %s", self.room.key)

    async def handle(self, message: Message) -> None:
        kind = message.get("type")
        if kind == "room.batch":
            for inner in message["messages"]:
                await self.handle(inner)
            return
        if kind == "room.control":
            await self.room.handle_control(message)
            return
        origin = message.get("origin", "")
        if origin == self.channel:
            return
        if origin not in self.peers_seen:
            await self._greet(origin)
        self.peers_seen[origin] = self._clock()
        if "seq" in message:
            await self._check_sequence(origin, message["seq"])
        handler = self._handlers.get(str(kind))
        if handler is not None:
            await handler(origin, message)

    async def _greet(self, origin: str) -> None:
        """A room we did not know: exchange state vectors and tell it who is here.

        Updates and presence are not published while a room knows no peers, so
        whatever changed before we met is sent directly.
        """
        self.peers_seen[origin] = self._clock()
        await self._send_direct(
            origin, {"type": "room.sv", "sv": self.room.doc.get_state(), "ask_back": True}
        )
        await self._send_awareness_to(origin)

    async def _send_awareness_to(self, origin: str) -> None:
        live = self.room.awareness.live_entries()
        if live:
            await self._send_direct(
                origin, {"type": "room.awareness", "update": encode_awareness_update(live)}
            )

    async def _check_sequence(self, origin: str, seq: int) -> None:
        last = self.last_seq.get(origin)
        self.last_seq[origin] = seq
        if last is not None and seq != last + 1:
            logger.info("gap from %s in %s (%s -> %s): requesting repair", origin, self.room.key, last, seq)
            await self._send_direct(
                origin, {"type": "room.sv", "sv": self.room.doc.get_state(), "ask_back": False}
            )

    async def _on_join(self, origin: str, message: Message) -> None:
        """Nothing beyond the greeting that `handle` already sent."""

    async def _on_update(self, origin: str, message: Message) -> None:
        room = self.room
        update: bytes = message["update"]
        direct = bool(message.get("direct"))
        claims = [(int(client), int(user)) for client, user in message.get("claims", ())]
        room.owners.record(claims)
        before = room.doc.get_state() if direct else b""
        try:
            forward = room.apply(update)
        except ProtocolError:
            logger.error("peer sent an undecodable update for %s", room.key)
            return
        if direct:
            if room.doc.get_state() == before:
                return
            # A repair: nobody tells us whether it is durable, so write it (idempotent).
            room.log.queue(update, None, None, claims)
        else:
            self.unconfirmed.setdefault(origin, []).append((message["seq"], update, self._clock(), claims))
            if "sent_at" in message:
                metrics.FANOUT_LATENCY.observe(max(0.0, time.time() - message["sent_at"]))
        (REPAIR_UPDATES if direct else PEER_UPDATES).inc()
        author = message.get("author")
        room.observe(forward, author if isinstance(author, int) else None, local=False)
        await room.send_to_local(encode_update(forward), exclude=None)

    async def _on_flushed(self, origin: str, message: Message) -> None:
        self._confirm(origin, message["upto"])

    async def _on_awareness(self, origin: str, message: Message) -> None:
        room = self.room
        entries = decode_awareness_update(message["update"])
        accepted = room.awareness.apply(entries, origin, self._clock(), trusted=True)
        if accepted:
            await room.send_to_local(encode_awareness(accepted), exclude=None)

    async def _on_bye(self, origin: str, message: Message) -> None:
        self.last_seq.pop(origin, None)
        self.peers_seen.pop(origin, None)
        self._confirm(origin, message["seq"])

    def _confirm(self, origin: str, upto: int) -> None:
        """The origin wrote its updates up to publication `upto` to the log."""
        pending = self.unconfirmed.get(origin)
        if pending is None:
            return
        pending[:] = [item for item in pending if item[0] > upto]
        if not pending:
            del self.unconfirmed[origin]

    def adopt_unconfirmed(self, older_than: float | None) -> None:
        """Queue for our own log the peer updates whose origin never confirmed them."""
        for origin in list(self.unconfirmed):
            pending = self.unconfirmed[origin]
            stale = [item for item in pending if older_than is None or item[2] <= older_than]
            if not stale:
                continue
            logger.info("writing %d unconfirmed updates of %s for %s", len(stale), origin, self.room.key)
            for _, update, _, claims in stale:
                self.room.log.queue(update, None, None, claims)
            pending[:] = pending[len(stale) :]
            if not pending:
                del self.unconfirmed[origin]

    async def _on_state_vector(self, origin: str, message: Message) -> None:
        room = self.room
        their_state = message["sv"]
        missing = room.missing_for(their_state)
        if missing != EMPTY_UPDATE:
            metrics.REPAIRS.inc()
            repair: Message = {"type": "room.update", "update": missing, "direct": True}
            if len(room.owners):
                # The claims may have been in the very messages that were lost.
                claims = room.owners.of_clients({r.client for r in check_update(missing)})
                if claims:
                    repair["claims"] = claims
            await self._send_direct(origin, repair)
        if message.get("ask_back", True) and is_ahead(
            decode_state_vector(their_state), decode_state_vector(room.doc.get_state())
        ):
            await self._send_direct(
                origin, {"type": "room.sv", "sv": room.doc.get_state(), "ask_back": False}
            )
        if message.get("hello"):
            await self._send_awareness_to(origin)

    # -- rounds ------------------------------------------------------------

    async def _maintenance_loop(self) -> None:
        """Anti-entropy rounds, adoption of unconfirmed updates and awareness expiry."""
        config = self.room.config
        tick = min(0.5, config.antientropy_interval, config.confirm_timeout / 2)
        next_round = self._clock() + config.antientropy_interval
        while True:
            await asyncio.sleep(tick)
            try:
                self.adopt_unconfirmed(older_than=self._clock() - config.confirm_timeout)
                await self.room.expire_awareness()
                if self._clock() >= next_round:
                    next_round = self._clock() + config.antientropy_interval
                    self.publish({"type": "room.sv", "sv": self.room.doc.get_state()})
            except Exception:
                logger.exception("maintenance of %s failed", self.room.key)
