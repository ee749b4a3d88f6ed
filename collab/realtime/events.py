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

import logging
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

from collab.realtime.runtime import WorkerRuntime, running_runtime

logger = logging.getLogger(__name__)


class _Outage:
    """One log line when sending events starts failing, one when it works again."""

    failing = False


_outage = _Outage()


async def _publish(layer: Any, group: str, message: dict[str, Any]) -> None:
    try:
        await layer.group_send(group, message)
    except Exception as exc:
        if not _outage.failing:
            _outage.failing = True
            logger.warning(
                "sending %s to %s failed (logged once until it works): %s", message.get("type"), group, exc
            )
        return
    if _outage.failing:
        _outage.failing = False
        logger.warning("sending events works again")


def _spawn(runtime: WorkerRuntime, layer: Any, group: str, message: dict[str, Any]) -> None:
    runtime.spawn(_publish(layer, group, message))


def send_event_on_commit(group: str, message: dict[str, Any]) -> None:
    def send() -> None:
        layer = get_channel_layer()
        if layer is None:
            return
        runtime = running_runtime()
        if runtime is not None and runtime.call_soon_from_thread(_spawn, runtime, layer, group, message):
            return
        try:
            async_to_sync(layer.group_send)(group, message)
        except Exception:
            logger.exception("sending %s to %s failed", message.get("type"), group)

    transaction.on_commit(send)


def room_control_on_commit(group: str, action: str, **fields: Any) -> None:
    """Tell every worker's room of a document about an access change or deletion."""
    send_event_on_commit(group, {"type": "room.control", "action": action, **fields})
