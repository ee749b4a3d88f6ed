"""The JSON shape of chat messages and the channel-layer group names, shared by REST and websockets."""

from __future__ import annotations

from typing import Any

from chat.models import ChangeKind, ChatMessage, ChatReaction

# The frame a client that already holds the message gets, by the kind of the message's latest change.
_FRAME_FOR_CHANGE = {
    ChangeKind.EDITED.value: "message.edit",
    ChangeKind.DELETED.value: "message.delete",
    ChangeKind.REACTED.value: "message.reaction",
}


def message_payload(message: ChatMessage) -> dict[str, Any]:
    """A message's whole current state (docs/chat.md), plus `change`: the kind of its latest change.

    `change` ("created", "edited", "deleted" or "reacted") is what `change_event`
    picks the frame type from; clients may ignore it.
    """
    return {
        "id": message.pk,
        "seq": message.seq,
        "created_version": message.created_version,
        "version_seq": message.version_seq,
        "client_id": message.client_id,
        "author": message.author.get_username() if message.author else None,
        "body": message.body,
        "parent_id": message.parent_id,
        "reply_count": message.reply_count,
        "reactions": reactions_payload(message),
        "created_at": message.created_at.isoformat(),
        "edited_at": message.edited_at.isoformat() if message.edited_at else None,
        "deleted": message.deleted_at is not None,
        "change": str(message.last_change),  # str(): a plain string even when set from the enum
    }


def reactions_payload(message: ChatMessage) -> list[dict[str, Any]]:
    """`[{"emoji", "count", "users"}]`, emojis and users in the order they were first reacted with.

    Uses the reactions prefetched by the selectors (one query for a whole page);
    a message loaded without them costs one query here, unless it never changed
    since it was created: every reaction change takes a version, so it has none.
    """
    if message.version_seq == message.created_version:
        return []
    if "reactions" in getattr(message, "_prefetched_objects_cache", {}):
        reactions: list[ChatReaction] = list(message.reactions.all())
    else:
        reactions = list(message.reactions.select_related("user"))
    reactions.sort(key=lambda reaction: (reaction.created_at, reaction.pk))
    grouped: dict[str, list[str]] = {}
    for reaction in reactions:
        grouped.setdefault(reaction.emoji, []).append(reaction.user.get_username())
    return [{"emoji": emoji, "count": len(users), "users": users} for emoji, users in grouped.items()]


def change_event(payload: dict[str, Any], after_version: int) -> dict[str, Any]:
    """A log change as a client that holds every change up to version `after_version` should see it.

    A message created after that version is new to the client whatever happened
    to it since; otherwise the frame type is the kind of its latest change.
    """
    if payload["created_version"] > after_version:
        kind = "message.new"
    elif payload["deleted"]:
        kind = "message.delete"
    else:
        kind = _FRAME_FOR_CHANGE.get(str(payload.get("change")), "message.edit")
    return {"type": kind, "message": payload}


def room_group(room_id: int) -> str:
    """Every socket with the room open: message changes, read markers, membership and room changes."""
    return f"chat.{room_id}"


def user_group(user_id: int) -> str:
    """Every socket of one user (all devices): their read markers and changes to their room list."""
    return f"chat.user.{user_id}"
