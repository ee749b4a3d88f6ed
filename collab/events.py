"""The one place that sends real-time events from request/task code: after commit.

A rolled-back transaction must not announce anything, so every event is queued
with `transaction.on_commit` and sent to the channel layer only once the data
it describes is durable.
"""

from __future__ import annotations

import logging
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

logger = logging.getLogger(__name__)


def send_event_on_commit(group: str, message: dict[str, Any]) -> None:
    def send() -> None:
        layer = get_channel_layer()
        if layer is None:
            return
        try:
            async_to_sync(layer.group_send)(group, message)
        except Exception:
            logger.exception("sending %s to %s failed", message.get("type"), group)

    transaction.on_commit(send)


def room_control_on_commit(group: str, action: str, **fields: Any) -> None:
    """Tell every worker's room of a document about an access change or deletion."""
    send_event_on_commit(group, {"type": "room.control", "action": action, **fields})
