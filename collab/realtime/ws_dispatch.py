"""A dispatch for consumers whose hot path never touches the ORM."""

from __future__ import annotations

from typing import Any

from channels.consumer import get_handler_name


class DirectDispatchMixin:
    """Channels' dispatch minus its per-message `close_old_connections`.

    That call runs in the one thread shared by all database work, so every frame
    and every group event of every socket would queue behind a log write or a
    compaction (fan-out spikes of hundreds of ms). Real queries go through
    `database_sync_to_async`, which still closes stale connections around them.
    """

    async def dispatch(self, message: dict[str, Any]) -> None:
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)
