"""What a room talks to besides the channel layer: its local sockets, its store, its settings."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from collab.engine.client_ids import Claim


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
        """Which user owns each client id of the document (see collab.engine.client_ids)."""
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
