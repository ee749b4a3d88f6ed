"""In-process stand-ins for the two things a room talks to besides the channel layer.

`MemoryStore` keeps the update log in a list (the database-backed store is
exercised by tests/documents and the end-to-end tests); `RecordingPeer` is a
connection that records the frames the room sends it.
"""

from __future__ import annotations

import asyncio
from typing import Any

from pycrdt import merge_updates

from collab.engine.protocol import EMPTY_UPDATE, Message, decode_message


class MemoryStore:
    def __init__(self, initial: bytes = b"", load_gate: asyncio.Event | None = None) -> None:
        self.rows: list[tuple[bytes, int | None]] = [(initial, None)] if initial else []
        self.load_gate = load_gate
        self.loads = 0
        self.appends = 0
        self.compactions = 0
        self.owners: dict[int, int] = {}

    def state(self) -> bytes:
        if not self.rows:
            return EMPTY_UPDATE
        return merge_updates(*[data for data, _ in self.rows])

    async def load(self, key: str) -> tuple[bytes, int]:
        self.loads += 1
        if self.load_gate is not None:
            await self.load_gate.wait()
        return self.state(), len(self.rows)

    async def load_owners(self, key: str) -> dict[int, int]:
        return dict(self.owners)

    async def append(
        self, key: str, records: list[tuple[bytes, int | None]], claims: list[tuple[int, int]] | None = None
    ) -> None:
        self.appends += 1
        self.rows.extend(records)
        for client_id, user_id in claims or ():
            self.owners.setdefault(client_id, user_id)

    async def compact(self, key: str) -> None:
        self.compactions += 1


class RecordingPeer:
    def __init__(self, user_id: int, can_write: bool = True, name: str = "") -> None:
        self.peer_id = f"peer-{user_id}-{id(self)}"
        self.user_id = user_id
        self.identity: dict[str, Any] = {"id": user_id, "name": name or f"user{user_id}", "color": "#000"}
        self.can_write = can_write
        self.frames: list[bytes] = []
        self.refused: tuple[int, str] | None = None
        self.arrived = asyncio.Event()

    async def send_bytes(self, data: bytes) -> None:
        self.frames.append(data)
        self.arrived.set()

    async def refuse(self, code: int, reason: str) -> None:
        self.refused = (code, reason)

    async def refresh_access(self) -> None:
        pass

    def messages(self) -> list[Message]:
        return [decode_message(frame) for frame in self.frames]
