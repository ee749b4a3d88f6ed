"""The JSON shape of chat messages, shared by the REST API and the websocket."""

from __future__ import annotations

from typing import Any

from chat.models import ChatMessage


def message_payload(message: ChatMessage) -> dict[str, Any]:
    return {
        "id": message.pk,
        "seq": message.seq,
        "created_version": message.created_version,
        "version_seq": message.version_seq,
        "client_id": message.client_id,
        "author": message.author.get_username() if message.author else None,
        "body": message.body,
        "parent_id": message.parent_id,
        "created_at": message.created_at.isoformat(),
        "edited_at": message.edited_at.isoformat() if message.edited_at else None,
        "deleted": message.deleted_at is not None,
    }


def change_event(payload: dict[str, Any], after_seq: int) -> dict[str, Any]:
    """A log change as a client that has every change up to version `after_seq` should see it."""
    if payload["created_version"] > after_seq:
        kind = "message.new"
    elif payload["deleted"]:
        kind = "message.delete"
    else:
        kind = "message.edit"
    return {"type": kind, "message": payload}


def room_group(room_id: int) -> str:
    return f"chat.{room_id}"
