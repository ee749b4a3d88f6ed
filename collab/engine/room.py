"""A room: one CRDT document loaded in one worker process, shared by its local sockets.

The core of the engine: it loads the document, applies what sockets send
(after the checks: roles, malformed updates, client-id forgeries), fans updates
and awareness out to the local sockets, and hands the rest to its two parts:

- `peering` (collab/engine/peering.py): the other workers with the document open,
  over the channel layer: publication, sequence gaps, repair, adoption;
- `log` (collab/engine/persistence.py): the durable log: outbox, flushes, compaction.

An update is applied once, forwarded to the other local sockets in process,
published once to the other workers and queued once for the durable log.
All pycrdt work happens on the event loop's thread; the store runs the
database work in threads and only ever sees bytes.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import random
import time
from collections.abc import Callable, Iterator
from typing import Any

from pycrdt import Doc, get_state, get_update

from collab.engine.awareness import AwarenessRegistry
from collab.engine.client_ids import ClientOwners
from collab.engine.fold import integrates, merge
from collab.engine.hooks import NO_HOOKS, AppliedUpdate, ProposedChange, RoomHooks
from collab.engine.interfaces import Peer, RoomConfig, RoomStore
from collab.engine.peering import Peering
from collab.engine.persistence import OutboxBytes, RoomLog
from collab.engine.protocol import (
    EMPTY_UPDATE,
    SYNC_STEP1,
    SYNC_UPDATE,
    AwarenessEntry,
    AwarenessMessage,
    ProtocolError,
    QueryAwarenessMessage,
    SyncMessage,
    decode_message,
    decode_state_vector,
    encode_awareness,
    encode_awareness_update,
    encode_permission_denied,
    encode_sync_step1,
    encode_sync_step2,
    encode_update,
    parse_awareness_state,
)
from collab.engine.yupdate import check_update, parse_update
from collab.realtime import metrics
from collab.realtime.close_codes import CloseCode

__all__ = ["Peer", "Room", "RoomConfig", "RoomStore", "apply_untrusted_update"]

logger = logging.getLogger(__name__)

# The owner recorded for the client id a room writes corrections under: no user has id 0,
# so no socket may write under it.
SERVER_OWNER = 0

# Labelled children looked up once (labels() takes a lock and builds a key on every call).
CLIENT_UPDATES = metrics.UPDATES.labels("client")

MAX_CLIENT_IDS_PER_PEER = 8
MAX_AWARENESS_STATE_BYTES = 16 * 1024
AWARENESS_BATCH_PEERS = 16


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
        outbox: OutboxBytes | None = None,
        hooks: RoomHooks = NO_HOOKS,
    ) -> None:
        self.key = key
        self.hooks = hooks
        # Kinds with a validator: a second copy of the document where each proposed update
        # is tried (and corrected) before the room's own document or anyone else sees it.
        self.shadow: Doc[Any] | None = None
        self.server_client_id = 0
        self.group = group
        self.store = store
        self.layer = layer
        self.config = config
        self.clock = clock
        self.doc: Doc[Any] = Doc()
        self.awareness = AwarenessRegistry()
        self.owners = ClientOwners()
        self.peers: dict[str, Peer] = {}
        self.ready = False
        self.holds = 0
        self.peering = Peering(self)
        self.log = RoomLog(key, store, config, on_flushed=self.peering.flushed, outbox=outbox)
        self._denied_peers: set[str] = set()
        self._told_foreign: set[str] = set()
        # Updates the document holds but has not integrated (their dependencies
        # have not arrived): a Doc's own encoding leaves them out, so answers add them.
        self._unintegrated: bytes | None = None
        self._awareness_out: list[tuple[AwarenessEntry, str | None]] = []
        self._awareness_task: asyncio.Task[None] | None = None

    @property
    def channel(self) -> str:
        return self.peering.channel

    @property
    def on_layer_error(self) -> Callable[[], None]:
        return self.peering.on_layer_error

    @on_layer_error.setter
    def on_layer_error(self, callback: Callable[[], None]) -> None:
        self.peering.on_layer_error = callback

    # -- lifecycle -------------------------------------------------------

    async def start(self) -> None:
        """Subscribe first, then load: nothing published during the load is missed."""
        await self.peering.subscribe()
        try:
            stored, self.log.rows_since_snapshot = await self.store.load(self.key)
            # After the state: every client id in it that has an owner is then known.
            self.owners.record((await self.store.load_owners(self.key)).items())
            if stored and stored != EMPTY_UPDATE:
                self.apply(stored)
            if self.hooks.validate is not None:
                self._start_shadow()
        except BaseException:
            await self.peering.unsubscribe()
            raise
        self.ready = True
        await self.peering.loaded()
        metrics.ROOMS_LOADED.inc()

    async def drain(self) -> bool:
        """Write everything this room holds unwritten (peers' unconfirmed updates too); True if done."""
        self.peering.adopt_unconfirmed(older_than=None)
        await self.log.flush()
        return not self.log.pending

    async def stop(self) -> None:
        """Flush (with peers' unconfirmed updates), then leave the group."""
        self.peering.stop_rounds()
        self.peering.adopt_unconfirmed(older_than=None)
        await self.log.close()
        if self._awareness_task is not None:
            # The last leavers' removals still go to the other workers, before the goodbye.
            with contextlib.suppress(Exception):
                await self._awareness_task
        await self.peering.leave()
        if self.ready:
            metrics.ROOMS_LOADED.dec()
        self.ready = False

    def kill(self) -> None:
        """Cancel the background tasks at once: no goodbye, no renewals (what a crash looks like)."""
        self.peering.kill()

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
            missing = self.missing_for(state_vector)
        await peer.send_bytes(encode_sync_step2(missing))

    def missing_for(self, state_vector: bytes) -> bytes:
        """What a holder of `state_vector` lacks, including updates we hold pending."""
        missing = self.doc.get_update(state_vector)
        if self._unintegrated is None:
            return missing
        return merge([missing, get_update(self._unintegrated, state_vector)])

    def apply(self, update: bytes, checked: bool = False, in_shadow: bool = False) -> bytes:
        """Apply an update; returns what to forward to others in its place.

        Usually the update itself. When it completes updates the document held
        pending, those were never forwarded nor served (a Doc's encoding leaves
        pending structs out), so they go along with it. The shadow (if any) gets
        it too, unless it has it already (`in_shadow`: it was validated there).
        """
        if self.shadow is not None and not in_shadow:
            with undecodable_is_protocol_error("update"):
                self.shadow.apply_update(update)
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
        if self.log.worker_outbox.full(self.config):
            # Not applied, so not lost: the client keeps the edit and resends it on reconnect.
            metrics.FRAMES_REJECTED.labels("outbox_full").inc()
            await peer.refuse(CloseCode.OUTBOX_FULL, "edits cannot be stored right now; retry later")
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
        correction = b""
        if self.shadow is not None:
            verdict = self._validate(peer, update)
            if isinstance(verdict, str):
                metrics.FRAMES_REJECTED.labels("invalid_change").inc()
                await peer.send_bytes(encode_permission_denied(f"change refused: {verdict}"))
                return
            correction = verdict
        forward = self.apply(update, checked=True, in_shadow=self.shadow is not None)
        if correction:
            # One update for everyone else and for the log: never the invalid state alone.
            forward = merge([forward, self.apply(correction, checked=True, in_shadow=True)])
            update, frame = merge([update, correction]), None
            await peer.send_bytes(encode_update(correction))
        claims = list(screened.claims)
        self.owners.record(claims)
        CLIENT_UPDATES.inc()
        metrics.UPDATE_BYTES.inc(len(update))
        if forward is not update or frame is None:
            frame = encode_update(forward)
        await self.send_to_local(frame, exclude=peer.peer_id)
        message: dict[str, Any] = {
            "type": "room.update",
            "update": forward,
            "sent_at": time.time(),
            "author": peer.user_id,
        }
        if claims:
            message["claims"] = claims
        seq = self.peering.publish(message)
        self.log.queue(update, peer.user_id, seq, claims)
        self.observe(forward, peer.user_id, local=True)

    # -- the kind's hooks ----------------------------------------------------

    def _start_shadow(self) -> None:
        if not self.server_client_id:
            known = decode_state_vector(self.doc.get_state())
            while not self.server_client_id or self.server_client_id in known:
                self.server_client_id = random.getrandbits(32)
            self.owners.record([(self.server_client_id, SERVER_OWNER)])
        shadow: Doc[Any] = Doc(client_id=self.server_client_id)
        shadow.apply_update(self.doc.get_update())
        if self._unintegrated is not None:
            shadow.apply_update(self._unintegrated)
        self.shadow = shadow

    def _validate(self, peer: Peer, update: bytes) -> bytes | str:
        """The kind's verdict on `update`: a refusal reason, or the correction (b"" for none)."""
        assert self.shadow is not None and self.hooks.validate is not None
        shadow = self.shadow
        with undecodable_is_protocol_error("update"):
            shadow.apply_update(update)
        proposed = shadow.get_state()
        try:
            reason = self.hooks.validate(ProposedChange(self.key, peer.user_id, update, shadow))
        except Exception:
            logger.exception("%s: the validator failed; the change is refused", self.key)
            reason = "the change could not be checked"
        if reason is not None:
            self._start_shadow()  # the shadow holds the refused update: start it again
            return reason
        if shadow.get_state() == proposed:
            return b""
        return shadow.get_update(proposed)

    def observe(self, update: bytes, author: int | None, local: bool) -> None:
        """Tell the kind's observers of an applied update; a failing observer costs nothing else."""
        if not self.hooks.observers:
            return
        applied = AppliedUpdate(self.key, update, author, local, self.doc)
        for observer in self.hooks.observers:
            try:
                observer(applied)
            except Exception:
                logger.exception("%s: an update observer failed", self.key)

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
        self.peering.publish({"type": "room.awareness", "update": encode_awareness_update(entries)})

    async def send_to_local(self, frame: bytes, exclude: str | None) -> None:
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

    async def handle_control(self, message: dict[str, Any]) -> None:
        action = message.get("action")
        if action == "access_changed":
            await self.refresh_access(int(message["user_id"]))
        elif action == "deleted":
            await self.refuse_all(CloseCode.NOT_FOUND, "document deleted")

    async def expire_awareness(self) -> None:
        expired = self.awareness.expire(self.clock(), self.config.awareness_timeout)
        if expired:
            await self.send_to_local(encode_awareness(expired), exclude=None)
