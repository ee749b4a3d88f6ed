"""A room: one CRDT document loaded in one worker process, shared by its local sockets.

The room, not each socket, is the member of the document's cross-worker group:
an update is applied once, forwarded to the other local sockets in process,
published once to the other workers and queued once for the durable log.

Pub/sub between workers is at-most-once, so rooms never trust it: publications
carry a per-room sequence number, a gap triggers a state-vector exchange with
the publisher, and every room periodically broadcasts its state vector so that
a lost last message is repaired too.

All pycrdt work happens on the event loop's thread; the store runs the
database work in threads and only ever sees bytes.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Protocol

from pycrdt import Doc, get_state, get_update, merge_updates

from collab import metrics
from collab.protocol import (
    EMPTY_UPDATE,
    SYNC_STEP1,
    SYNC_UPDATE,
    AwarenessEntry,
    AwarenessMessage,
    ProtocolError,
    QueryAwarenessMessage,
    SyncMessage,
    decode_awareness_update,
    decode_message,
    decode_state_vector,
    encode_awareness,
    encode_awareness_update,
    encode_permission_denied,
    encode_sync_step1,
    encode_sync_step2,
    encode_update,
    is_ahead,
    parse_awareness_state,
)
from collab.sync.awareness import AwarenessRegistry
from collab.sync.client_ids import Claim, ClientOwners
from collab.sync.fold import integrates, merge
from collab.yupdate import check_update, parse_update

logger = logging.getLogger(__name__)

MAX_CLIENT_IDS_PER_PEER = 8
MAX_AWARENESS_STATE_BYTES = 16 * 1024

# Worth sending only while another worker has the document open.
PEER_ONLY_MESSAGES = frozenset({"room.update", "room.awareness", "room.flushed"})


class Peer(Protocol):
    """A local connection as the room sees it."""

    peer_id: str
    user_id: int
    identity: dict[str, Any]
    can_write: bool

    async def send_bytes(self, data: bytes) -> None: ...

    async def refuse(self, code: int, reason: str) -> None: ...

    async def refresh_access(self) -> None: ...


class RoomStore(Protocol):
    """Durable storage of one kind of CRDT document; works only with bytes."""

    async def load(self, key: str) -> tuple[bytes, int]:
        """The stored state as one update, and how many log rows follow the snapshot."""
        ...

    async def load_owners(self, key: str) -> dict[int, int]:
        """Which user owns each client id of the document (see collab.sync.client_ids)."""
        ...

    async def append(
        self, key: str, records: list[tuple[bytes, int | None]], claims: list[Claim] | None = None
    ) -> None:
        """Append updates with their authors to the durable log, and the client ids they claim."""
        ...

    async def compact(self, key: str) -> None: ...


@dataclass(frozen=True)
class RoomConfig:
    flush_interval: float = 0.05
    compact_threshold: int = 200
    antientropy_interval: float = 5.0
    awareness_timeout: float = 30.0
    # A peer's update not confirmed durable by its origin within this time is
    # written by this room too (the origin may have died before its flush).
    confirm_timeout: float = 1.5
    # Awareness changes in rooms of many sockets go out together at most this often.
    awareness_batch_seconds: float = 0.05
    # Accepted, unwritten updates this worker may hold (all rooms) while the database is down.
    max_outbox_bytes: int = 64 * 1024 * 1024


AWARENESS_BATCH_PEERS = 16
CLOSE_OUTBOX_FULL = 4507  # the server cannot store edits right now: reconnect later
MAX_FLUSH_BACKOFF = 2.0


class _OutboxBytes:
    """Unwritten update bytes of all rooms of this process (the limit is per worker)."""

    total = 0

    @classmethod
    def add(cls, size: int) -> None:
        cls.total += size
        metrics.OUTBOX_BYTES.set(cls.total)


def awareness_window(peers: int, base: float) -> float:
    """How long awareness changes wait to go out together: 0 in small rooms, then growing
    with the room (about 2,000 frames a second at most): 50 ms at 100 sockets, 1 s at 2,000."""
    if peers <= AWARENESS_BATCH_PEERS:
        return 0.0
    return min(1.0, max(base, peers / 2000))


def _is_fatal(exc: BaseException) -> bool:
    return isinstance(exc, (KeyboardInterrupt, SystemExit, asyncio.CancelledError, GeneratorExit))


@contextlib.contextmanager
def undecodable_is_protocol_error(what: str) -> Iterator[None]:
    """pycrdt raises ValueError, or a pyo3 panic (a BaseException), on bad input: both mean 4400.

    Cancellation and interpreter exits still pass through.
    """
    try:
        yield
    except ProtocolError:
        raise
    except BaseException as exc:
        if _is_fatal(exc):
            raise
        raise ProtocolError(f"undecodable {what}: {exc}") from exc


def apply_untrusted_update(doc: Doc[Any], update: bytes, checked: bool = False) -> None:
    """Apply an update from the network; ProtocolError when it cannot be decoded.

    The update is parsed before it touches the document, so a malformed one
    leaves the document exactly as it was. `checked`: the caller already ran
    `check_update` (what yrs reads but Yjs clients could not integrate).
    """
    if not checked:
        check_update(update)
    with undecodable_is_protocol_error("update"):
        get_state(update)
        doc.apply_update(update)


class Room:
    def __init__(
        self,
        key: str,
        group: str,
        store: RoomStore,
        layer: Any,
        config: RoomConfig,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.key = key
        self.group = group
        self.store = store
        self.layer = layer
        self.config = config
        self.clock = clock
        self.doc: Doc[Any] = Doc()
        self.awareness = AwarenessRegistry()
        self.peers: dict[str, Peer] = {}
        self.channel = ""
        self.ready = False
        self.holds = 0
        self._buffered: list[dict[str, Any]] = []
        self._publish_seq = 0
        self._last_seq: dict[str, int] = {}
        self._peers_seen: dict[str, float] = {}  # other rooms of this document, last heard
        self._outbox: list[tuple[bytes, int | None]] = []
        self._outbox_seq = 0  # highest own publication seq in the outbox
        self._outbox_bytes = 0
        self._flush_failures = 0
        self._rows_since_snapshot = 0  # as far as this room knows; compaction recounts
        self._unconfirmed: dict[str, list[tuple[int, bytes, float, list[Claim]]]] = {}
        self.owners = ClientOwners()
        self._unrecorded_claims: list[Claim] = []  # written with the next flush
        self._told_foreign: set[str] = set()
        self._flush_lock = asyncio.Lock()
        self._flush_task: asyncio.Task[None] | None = None
        self._compact_task: asyncio.Task[None] | None = None
        self._receiver: asyncio.Task[None] | None = None
        self._publisher: asyncio.Task[None] | None = None
        self._maintenance: asyncio.Task[None] | None = None
        self._outgoing: list[dict[str, Any]] = []
        self._outgoing_ready = asyncio.Event()
        self._denied_peers: set[str] = set()
        # Updates the document holds but has not integrated (their dependencies
        # have not arrived): a Doc's own encoding leaves them out, so answers add them.
        self._unintegrated: bytes | None = None
        self._awareness_out: list[tuple[AwarenessEntry, str | None]] = []
        self._awareness_task: asyncio.Task[None] | None = None
        self._publish_failing = False
        # Called when the layer fails: a lost message may have carried an access change.
        self.on_layer_error: Callable[[], None] = lambda: None

    # -- lifecycle -------------------------------------------------------

    async def start(self) -> None:
        """Subscribe first, then load: nothing published during the load is missed."""
        self.channel = await self.layer.new_channel()
        await self.layer.group_add(self.group, self.channel)
        self._receiver = asyncio.create_task(self._receive_loop())
        self._publisher = asyncio.create_task(self._publisher_loop())
        # Peers publish to us from now on, so nothing sent during our load is missed.
        self._publish({"type": "room.join"})
        try:
            stored, self._rows_since_snapshot = await self.store.load(self.key)
            # After the state: every client id in it that has an owner is then known.
            self.owners.record((await self.store.load_owners(self.key)).items())
            if stored and stored != EMPTY_UPDATE:
                self._apply(stored)
        except BaseException:
            await self._unsubscribe()
            raise
        self.ready = True
        for message in self._buffered:
            try:
                await self._handle_layer_message(message)
            except Exception:
                logger.exception("bad layer message for %s", self.key)
        self._buffered.clear()
        metrics.ROOMS_LOADED.inc()
        # Peers answer with whatever they hold that the database does not (yet).
        self._publish({"type": "room.sv", "sv": self.doc.get_state(), "hello": True})
        self._maintenance = asyncio.create_task(self._maintenance_loop())

    async def drain(self) -> bool:
        """Write everything this room holds unwritten (peers' unconfirmed updates too); True if done."""
        self._adopt_unconfirmed(older_than=None)
        await self.flush()
        return not self._outbox

    async def stop(self) -> None:
        """Flush (with peers' unconfirmed updates), then leave the group."""
        if self._maintenance is not None:
            self._maintenance.cancel()
        if self._flush_task is not None:
            self._flush_task.cancel()
            self._flush_task = None
        if not await self.drain():
            logger.error(
                "%s stopped with %d bytes of updates unwritten (the database is down); "
                "clients that still hold them resend them on reconnect",
                self.key,
                self._outbox_bytes,
            )
            _OutboxBytes.add(-self._outbox_bytes)
            self._outbox_bytes = 0
        if self._compact_task is not None:
            with contextlib.suppress(Exception):
                await self._compact_task
        if self._awareness_task is not None:
            # The last leavers' removals still go to the other workers, before the goodbye.
            with contextlib.suppress(Exception):
                await self._awareness_task
        self._publish({"type": "room.bye"})
        if self._publisher is not None:
            self._publisher.cancel()
        await self._send_outgoing()
        await self._unsubscribe()
        if self.ready:
            metrics.ROOMS_LOADED.dec()
        self.ready = False

    def kill(self) -> None:
        """Cancel the background tasks at once: no goodbye, no renewals (what a crash looks like)."""
        for task in (self._receiver, self._publisher, self._maintenance):
            if task is not None:
                task.cancel()

    async def _unsubscribe(self) -> None:
        self.kill()
        with contextlib.suppress(Exception):
            await self.layer.group_discard(self.group, self.channel)

    # -- local connections ---------------------------------------------

    async def join(self, peer: Peer) -> None:
        self.peers[peer.peer_id] = peer
        await peer.send_bytes(encode_sync_step1(self.doc.get_state()))
        live = self.awareness.live_entries()
        if live:
            await peer.send_bytes(encode_awareness(live))

    async def leave(self, peer: Peer) -> None:
        if self.peers.pop(peer.peer_id, None) is None:
            return
        self._denied_peers.discard(peer.peer_id)
        self._told_foreign.discard(peer.peer_id)
        removed = self.awareness.remove_owner(peer.peer_id)
        if removed:
            await self._broadcast_awareness(removed, exclude=None)

    async def receive_frame(self, peer: Peer, frame: bytes) -> None:
        """Handle one frame from a local connection; ProtocolError means close 4400."""
        message = decode_message(frame)
        if isinstance(message, SyncMessage):
            if message.step == SYNC_STEP1:
                await self._answer_step1(peer, message.payload)
            else:
                forward = frame if message.step == SYNC_UPDATE else None
                await self._accept_client_update(peer, message.payload, forward)
        elif isinstance(message, AwarenessMessage):
            await self._accept_client_awareness(peer, message.entries)
        elif isinstance(message, QueryAwarenessMessage):
            live = self.awareness.live_entries()
            if live:
                await peer.send_bytes(encode_awareness(live))
        # Auth messages from clients carry nothing the server acts on.

    async def _answer_step1(self, peer: Peer, state_vector: bytes) -> None:
        with undecodable_is_protocol_error("state vector"):
            decode_state_vector(state_vector)
            missing = self._missing_for(state_vector)
        await peer.send_bytes(encode_sync_step2(missing))

    def _missing_for(self, state_vector: bytes) -> bytes:
        """What a holder of `state_vector` lacks, including updates we hold pending."""
        missing = self.doc.get_update(state_vector)
        if self._unintegrated is None:
            return missing
        return merge([missing, get_update(self._unintegrated, state_vector)])

    def _apply(self, update: bytes, checked: bool = False) -> bytes:
        """Apply an update; returns what to forward to others in its place.

        Usually the update itself. When it completes updates the document held
        pending, those were never forwarded nor served (a Doc's encoding leaves
        pending structs out), so they go along with it.
        """
        if self._unintegrated is None:
            apply_untrusted_update(self.doc, update, checked)
            if not integrates(self.doc, update):
                self._unintegrated = update
            return update
        before = self.doc.get_state()
        apply_untrusted_update(self.doc, update, checked)
        held = merge([self._unintegrated, update])
        self._unintegrated = None if integrates(self.doc, held) else held
        newly = self.doc.get_update(before)
        return update if newly == EMPTY_UPDATE else merge([update, newly])

    async def _accept_client_update(self, peer: Peer, update: bytes, frame: bytes | None) -> None:
        if update == EMPTY_UPDATE:
            return
        if _OutboxBytes.total >= self.config.max_outbox_bytes:
            # Not applied, so not lost: the client keeps the edit and resends it on reconnect.
            metrics.FRAMES_REJECTED.labels("outbox_full").inc()
            await peer.refuse(CLOSE_OUTBOX_FULL, "edits cannot be stored right now; retry later")
            return
        if not peer.can_write:
            metrics.FRAMES_REJECTED.labels("read_only").inc()
            if peer.peer_id not in self._denied_peers:
                self._denied_peers.add(peer.peer_id)
                await peer.send_bytes(encode_permission_denied("read-only: your role cannot edit"))
            return
        screened = self.owners.screen(
            update,
            parse_update(update),
            peer.user_id,
            announced=lambda: self.awareness.client_ids_of(peer.peer_id),
            live_user_of=self.awareness.user_of,
            known_clocks=lambda: decode_state_vector(self.doc.get_state()),
        )
        if screened.refused_something:
            await self._tell_foreign(peer, screened.dropped)
            update, frame = screened.update, None
            if screened.is_empty:
                return
        forward = self._apply(update, checked=True)
        claims = list(screened.claims)
        self.owners.record(claims)
        metrics.UPDATES.labels("client").inc()
        metrics.UPDATE_BYTES.inc(len(update))
        if forward is not update or frame is None:
            frame = encode_update(forward)
        await self._send_to_local(frame, exclude=peer.peer_id)
        message: dict[str, Any] = {"type": "room.update", "update": forward, "sent_at": time.time()}
        if claims:
            message["claims"] = claims
        seq = self._publish(message)
        self._queue_persist(update, peer.user_id, seq, claims)

    async def _tell_foreign(self, peer: Peer, dropped: frozenset[int]) -> None:
        """Structs under another user's client id (or pre-deletions of them) were refused."""
        metrics.FRAMES_REJECTED.labels("foreign_client").inc()
        if peer.peer_id in self._told_foreign:
            return
        self._told_foreign.add(peer.peer_id)
        logger.info(
            "%s: user %s wrote under client ids of other users (%s); refused",
            self.key,
            peer.user_id,
            ", ".join(str(client) for client in sorted(dropped)[:5]) or "deletions only",
        )
        await peer.send_bytes(
            encode_permission_denied("edits under another user's client id were not accepted")
        )

    async def _accept_client_awareness(self, peer: Peer, entries: tuple[AwarenessEntry, ...]) -> None:
        stamped = []
        claimed = self._client_ids_of(peer)
        for entry in entries:
            if len(entry.state_json) > MAX_AWARENESS_STATE_BYTES:
                raise ProtocolError("awareness state too large")
            if not entry.is_removal:
                entry = AwarenessEntry(
                    entry.client_id, entry.clock, self._stamp_identity(peer, entry.state_json)
                )
            if self.owners.owner(entry.client_id) not in (None, peer.user_id):
                continue  # another user's client id: a cursor may not pose as theirs
            if self.awareness.owner_of(entry.client_id) != peer.peer_id:
                if claimed >= MAX_CLIENT_IDS_PER_PEER:
                    continue  # a connection is one client; a few ids cover reconnects
                claimed += 1
            stamped.append(entry)
        accepted = self.awareness.apply(tuple(stamped), peer.peer_id, self.clock(), user_id=peer.user_id)
        if accepted:
            await self._broadcast_awareness(accepted, exclude=peer.peer_id)

    def _client_ids_of(self, peer: Peer) -> int:
        return len(self.awareness.live_entries(owner=peer.peer_id))

    @staticmethod
    def _stamp_identity(peer: Peer, state_json: str) -> str:
        """The server, not the client, says who a cursor belongs to."""
        state = parse_awareness_state(state_json) or {}
        state["user"] = dict(peer.identity)
        return json.dumps(state, separators=(",", ":"), allow_nan=False)

    async def _broadcast_awareness(self, entries: list[AwarenessEntry], exclude: str | None) -> None:
        """Queue awareness changes; what arrives in one turn of the event loop goes out together.

        Every change goes to every other socket, so N clients announcing themselves
        cost N^2 frames sent one by one (500 joins at once kept the loop busy for
        half a minute, and their sync answers waited behind). Batched, a burst
        costs one frame per socket: per event-loop turn (no added latency) in small
        rooms, and in rooms of more than AWARENESS_BATCH_PEERS sockets per a window
        that grows with the room, so the frames sent per second stay bounded.
        """
        self._awareness_out.extend((entry, exclude) for entry in entries)
        if self._awareness_task is None:
            self._awareness_task = asyncio.create_task(self._flush_awareness())

    async def _flush_awareness(self) -> None:
        # Let the rest of this turn's frames queue theirs; in a crowded room, longer.
        await asyncio.sleep(awareness_window(len(self.peers), self.config.awareness_batch_seconds))
        batch, self._awareness_out = self._awareness_out, []
        self._awareness_task = None
        latest: dict[int, tuple[AwarenessEntry, str | None]] = {}
        for entry, owner in batch:
            latest[entry.client_id] = (entry, owner)  # a newer state of a client replaces the older
        entries = [entry for entry, _ in latest.values()]
        shared = encode_awareness(entries)
        owners = {owner for _, owner in latest.values() if owner is not None}
        for peer_id, peer in list(self.peers.items()):
            frame = shared
            if peer_id in owners:
                # Never echo to the sender: it would re-broadcast, K^2 frames per renewal.
                own = [entry for entry, owner in latest.values() if owner != peer_id]
                if not own:
                    continue
                frame = encode_awareness(own)
            try:
                await peer.send_bytes(frame)
            except Exception:
                logger.warning("send to %s failed", peer_id, exc_info=True)
        self._publish({"type": "room.awareness", "update": encode_awareness_update(entries)})

    async def _send_to_local(self, frame: bytes, exclude: str | None) -> None:
        for peer_id, peer in list(self.peers.items()):
            if peer_id == exclude:
                continue
            try:
                await peer.send_bytes(frame)
            except Exception:
                logger.warning("send to %s failed", peer_id, exc_info=True)

    async def refresh_access(self, user_id: int) -> None:
        for peer in list(self.peers.values()):
            if peer.user_id == user_id:
                await peer.refresh_access()
                self._denied_peers.discard(peer.peer_id)

    def forget_denial(self, peer_id: str) -> None:
        """The peer's role changed: tell it again if its next write is refused."""
        self._denied_peers.discard(peer_id)

    async def refuse_all(self, code: int, reason: str) -> None:
        for peer in list(self.peers.values()):
            await peer.refuse(code, reason)

    # -- cross-worker fan-out -------------------------------------------

    def _publish(self, message: dict[str, Any]) -> int:
        """Queue a message for the document's group; returns its sequence number (0: not sent).

        The frame path never waits for Redis: one publisher task sends the queue
        in order, as one batch when several messages are waiting. Updates,
        awareness and confirmations are only sent while another worker has the
        document open; rooms announce themselves (join, state vectors, bye) always.
        """
        if message["type"] in PEER_ONLY_MESSAGES and not self._has_peers():
            return 0
        self._publish_seq += 1
        self._outgoing.append({**message, "origin": self.channel, "seq": self._publish_seq})
        self._outgoing_ready.set()
        return self._publish_seq

    def _has_peers(self) -> bool:
        horizon = self.clock() - 3 * self.config.antientropy_interval
        for origin, seen in list(self._peers_seen.items()):
            if seen < horizon:
                del self._peers_seen[origin]
        return bool(self._peers_seen)

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
                await self.layer.group_send(self.group, message)
            except Exception as exc:
                # Peers notice the sequence gap (or the next state-vector round) and repair.
                if not self._publish_failing:
                    self._publish_failing = True
                    logger.warning("publish to %s failed (logged once until it works): %s", self.group, exc)
                self.on_layer_error()
                continue
            self._publish_failing = False

    async def _send_direct(self, channel: str, message: dict[str, Any]) -> None:
        try:
            await self.layer.send(channel, {**message, "origin": self.channel})
        except Exception:
            logger.warning("direct send to %s failed", channel, exc_info=True)

    async def _receive_loop(self) -> None:
        while True:
            try:
                message = await self.layer.receive(self.channel)
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.warning("layer receive failed for %s", self.key, exc_info=True)
                self.on_layer_error()
                await asyncio.sleep(0.5)
                continue
            if not self.ready:
                self._buffered.append(message)
                continue
            try:
                await self._handle_layer_message(message)
            except Exception:
                logger.exception("bad layer message for %s", self.key)

    async def _handle_layer_message(self, message: dict[str, Any]) -> None:
        origin = message.get("origin", "")
        kind = message.get("type")
        if kind == "room.batch":
            for inner in message["messages"]:
                await self._handle_layer_message(inner)
            return
        if kind == "room.control":
            await self._handle_control(message)
            return
        if origin == self.channel:
            return
        if origin not in self._peers_seen:
            await self._greet(origin)
        self._peers_seen[origin] = self.clock()
        if "seq" in message:
            await self._check_sequence(origin, message["seq"])
        if kind == "room.update":
            await self._apply_peer_update(origin, message)
        elif kind == "room.flushed":
            self._confirm(origin, message["upto"])
        elif kind == "room.awareness":
            entries = decode_awareness_update(message["update"])
            accepted = self.awareness.apply(entries, origin, self.clock(), trusted=True)
            if accepted:
                await self._send_to_local(encode_awareness(accepted), exclude=None)
        elif kind == "room.sv":
            await self._answer_peer_state_vector(origin, message)
        elif kind == "room.bye":
            self._last_seq.pop(origin, None)
            self._peers_seen.pop(origin, None)
            self._confirm(origin, message["seq"])

    async def _greet(self, origin: str) -> None:
        """A room we did not know: exchange state vectors and tell it who is here.

        Updates and presence are not published while a room knows no peers, so
        whatever changed before we met is sent directly.
        """
        self._peers_seen[origin] = self.clock()
        await self._send_direct(origin, {"type": "room.sv", "sv": self.doc.get_state(), "ask_back": True})
        live = self.awareness.live_entries()
        if live:
            await self._send_direct(
                origin, {"type": "room.awareness", "update": encode_awareness_update(live)}
            )

    async def _check_sequence(self, origin: str, seq: int) -> None:
        last = self._last_seq.get(origin)
        self._last_seq[origin] = seq
        if last is not None and seq != last + 1:
            logger.info("gap from %s in %s (%s -> %s): requesting repair", origin, self.key, last, seq)
            await self._send_direct(
                origin, {"type": "room.sv", "sv": self.doc.get_state(), "ask_back": False}
            )

    async def _apply_peer_update(self, origin: str, message: dict[str, Any]) -> None:
        update: bytes = message["update"]
        direct = bool(message.get("direct"))
        claims = [(int(client), int(user)) for client, user in message.get("claims", ())]
        self.owners.record(claims)
        before = self.doc.get_state() if direct else b""
        try:
            forward = self._apply(update)
        except ProtocolError:
            logger.error("peer sent an undecodable update for %s", self.key)
            return
        if direct:
            if self.doc.get_state() == before:
                return
            # A repair: nobody tells us whether it is durable, so write it (idempotent).
            self._queue_persist(update, None, None, claims)
        else:
            self._unconfirmed.setdefault(origin, []).append((message["seq"], update, self.clock(), claims))
            if "sent_at" in message:
                metrics.FANOUT_LATENCY.observe(max(0.0, time.time() - message["sent_at"]))
        metrics.UPDATES.labels("repair" if direct else "peer").inc()
        await self._send_to_local(encode_update(forward), exclude=None)

    def _confirm(self, origin: str, upto: int) -> None:
        """The origin wrote its updates up to publication `upto` to the log."""
        pending = self._unconfirmed.get(origin)
        if pending is None:
            return
        pending[:] = [item for item in pending if item[0] > upto]
        if not pending:
            del self._unconfirmed[origin]

    def _adopt_unconfirmed(self, older_than: float | None) -> None:
        """Queue for our own log the peer updates whose origin never confirmed them."""
        for origin in list(self._unconfirmed):
            pending = self._unconfirmed[origin]
            stale = [item for item in pending if older_than is None or item[2] <= older_than]
            if not stale:
                continue
            logger.info("writing %d unconfirmed updates of %s for %s", len(stale), origin, self.key)
            for _, update, _, claims in stale:
                self._queue_persist(update, None, None, claims)
            pending[:] = pending[len(stale) :]
            if not pending:
                del self._unconfirmed[origin]

    async def _answer_peer_state_vector(self, origin: str, message: dict[str, Any]) -> None:
        their_state = message["sv"]
        missing = self._missing_for(their_state)
        if missing != EMPTY_UPDATE:
            metrics.REPAIRS.inc()
            repair: dict[str, Any] = {"type": "room.update", "update": missing, "direct": True}
            if len(self.owners):
                # The claims may have been in the very messages that were lost.
                claims = self.owners.of_clients({r.client for r in check_update(missing)})
                if claims:
                    repair["claims"] = claims
            await self._send_direct(origin, repair)
        if message.get("ask_back", True) and is_ahead(
            decode_state_vector(their_state), decode_state_vector(self.doc.get_state())
        ):
            await self._send_direct(
                origin, {"type": "room.sv", "sv": self.doc.get_state(), "ask_back": False}
            )
        if message.get("hello"):
            live = self.awareness.live_entries()
            if live:
                await self._send_direct(
                    origin, {"type": "room.awareness", "update": encode_awareness_update(live)}
                )

    async def _handle_control(self, message: dict[str, Any]) -> None:
        action = message.get("action")
        if action == "access_changed":
            await self.refresh_access(int(message["user_id"]))
        elif action == "deleted":
            await self.refuse_all(4404, "document deleted")

    async def _maintenance_loop(self) -> None:
        """Anti-entropy rounds and awareness expiry."""
        tick = min(0.5, self.config.antientropy_interval, self.config.confirm_timeout / 2)
        next_round = self.clock() + self.config.antientropy_interval
        while True:
            await asyncio.sleep(tick)
            try:
                self._adopt_unconfirmed(older_than=self.clock() - self.config.confirm_timeout)
                expired = self.awareness.expire(self.clock(), self.config.awareness_timeout)
                if expired:
                    await self._send_to_local(encode_awareness(expired), exclude=None)
                if self.clock() >= next_round:
                    next_round = self.clock() + self.config.antientropy_interval
                    self._publish({"type": "room.sv", "sv": self.doc.get_state()})
            except Exception:
                logger.exception("maintenance of %s failed", self.key)

    # -- durable log ------------------------------------------------------

    def _queue_persist(
        self, update: bytes, user_id: int | None, seq: int | None, claims: list[Claim] | None = None
    ) -> None:
        self._outbox.append((update, user_id))
        if claims:
            self._unrecorded_claims.extend(claims)
        self._outbox_bytes += len(update)
        _OutboxBytes.add(len(update))
        if seq is not None:
            self._outbox_seq = max(self._outbox_seq, seq)
        if self._flush_task is None:
            self._flush_task = asyncio.create_task(self._flush_soon())

    async def _flush_soon(self) -> None:
        # Backs off while writes fail (the database is down), up to MAX_FLUSH_BACKOFF.
        delay = self.config.flush_interval * 2 ** min(self._flush_failures, 10)
        await asyncio.sleep(min(delay, max(MAX_FLUSH_BACKOFF, self.config.flush_interval)))
        self._flush_task = None
        await self.flush()

    async def flush(self) -> None:
        async with self._flush_lock:
            batch, self._outbox = self._outbox, []
            flushed_seq, self._outbox_seq = self._outbox_seq, 0
            claims, self._unrecorded_claims = self._unrecorded_claims, []
            if not batch:
                return
            records = coalesce_by_author(batch)
            started = time.perf_counter()
            try:
                await self.store.append(self.key, records, claims)
                self._rows_since_snapshot += len(records)
            except Exception:
                if self._flush_failures == 0:
                    logger.warning("writing the update log of %s failed; will retry", self.key, exc_info=True)
                self._flush_failures += 1
                metrics.LOG_FLUSH_FAILURES.inc()
                self._outbox = batch + self._outbox
                self._unrecorded_claims = claims + self._unrecorded_claims
                self._outbox_seq = max(self._outbox_seq, flushed_seq)
                if self._flush_task is None:
                    self._flush_task = asyncio.create_task(self._flush_soon())
                return
            metrics.LOG_FLUSH_SECONDS.observe(time.perf_counter() - started)
            written = sum(len(update) for update, _ in batch)
            self._outbox_bytes -= written
            _OutboxBytes.add(-written)
            if self._flush_failures:
                logger.warning(
                    "update log of %s written again after %d failures", self.key, self._flush_failures
                )
                self._flush_failures = 0
            if flushed_seq:
                self._publish({"type": "room.flushed", "upto": flushed_seq})
        if self._rows_since_snapshot >= self.config.compact_threshold and self._compact_task is None:
            self._compact_task = asyncio.create_task(self._compact())

    async def _compact(self) -> None:
        try:
            await self.store.compact(self.key)
            self._rows_since_snapshot = 0
            metrics.COMPACTIONS.inc()
        except Exception:
            logger.exception("compaction of %s failed", self.key)
        finally:
            self._compact_task = None


def coalesce_by_author(batch: list[tuple[bytes, int | None]]) -> list[tuple[bytes, int | None]]:
    """One log row per author per batch (Yjs updates commute, so order does not matter)."""
    by_author: dict[int | None, list[bytes]] = {}
    for update, user_id in batch:
        by_author.setdefault(user_id, []).append(update)
    return [
        (updates[0] if len(updates) == 1 else merge_updates(*updates), author)
        for author, updates in by_author.items()
    ]
