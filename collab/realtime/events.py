"""The one place that sends real-time events from request/task code: after commit.

A rolled-back transaction must not announce anything, so every event is queued
with `transaction.on_commit` and sent to the channel layer only once the data
it describes is durable.

Commits mostly happen in Channels' single database thread. Publishing from there
would hold every other query of the worker behind a Redis round trip (and behind
a Redis that hangs), so inside a worker the publish is handed to the event loop
and the thread moves on. Elsewhere (Celery, management commands) it is sent in place.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

logger = logging.getLogger(__name__)

_worker_loop: asyncio.AbstractEventLoop | None = None
_worker_thread: int | None = None
_in_flight: set[asyncio.Task[None]] = set()


def bind_worker_loop() -> None:
    """Called from the worker's event loop: events committed in other threads are sent by it."""
    global _worker_loop, _worker_thread
    _worker_loop = asyncio.get_running_loop()
    _worker_thread = threading.get_ident()


_failing = False  # one line per outage, not one per event


async def _publish(layer: Any, group: str, message: dict[str, Any]) -> None:
    global _failing
    try:
        await layer.group_send(group, message)
    except Exception as exc:
        if not _failing:
            _failing = True
            logger.warning(
                "sending %s to %s failed (logged once until it works): %s", message.get("type"), group, exc
            )
        return
    if _failing:
        _failing = False
        logger.warning("sending events works again")


def _spawn(layer: Any, group: str, message: dict[str, Any]) -> None:
    task = asyncio.ensure_future(_publish(layer, group, message))
    _in_flight.add(task)
    task.add_done_callback(_in_flight.discard)


def send_event_on_commit(group: str, message: dict[str, Any]) -> None:
    def send() -> None:
        layer = get_channel_layer()
        if layer is None:
            return
        loop = _worker_loop
        if loop is not None and loop.is_running() and threading.get_ident() != _worker_thread:
            loop.call_soon_threadsafe(_spawn, layer, group, message)
            return
        try:
            async_to_sync(layer.group_send)(group, message)
        except Exception:
            logger.exception("sending %s to %s failed", message.get("type"), group)

    transaction.on_commit(send)


def room_control_on_commit(group: str, action: str, **fields: Any) -> None:
    """Tell every worker's room of a document about an access change or deletion."""
    send_event_on_commit(group, {"type": "room.control", "action": action, **fields})
