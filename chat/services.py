"""Writes to chat rooms: every change takes the room's next sequence number under a row lock."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from chat.models import ChatMember, ChatMessage, ChatRoom, MemberRole, RoomKind
from chat.payloads import message_payload, room_group
from collab.events import send_event_on_commit

MAX_BODY_CHARS = 10_000
MAX_CLIENT_ID_CHARS = 64


class ChatError(ValueError):
    """A request that breaks a rule; `code` is the machine-readable reason."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@transaction.atomic
def create_room(owner: Any, name: str, kind: str = RoomKind.PUBLIC) -> ChatRoom:
    name = (name or "").strip()
    if not name or len(name) > 200:
        raise ChatError("invalid_name", "room name must be 1 to 200 characters")
    if kind not in RoomKind.values:
        raise ChatError("invalid_kind", "kind must be public, private or direct")
    room = ChatRoom.objects.create(name=name, kind=kind, created_by=owner)
    ChatMember.objects.create(room=room, user=owner, role=MemberRole.OWNER)
    return room


def _announce(message: ChatMessage) -> None:
    """Tell the room's sockets after commit; they order (and fill gaps) by version_seq."""
    send_event_on_commit(
        room_group(message.room_id), {"type": "chat.change", "message": message_payload(message)}
    )


def _next_numbers(room_id: int, new_message: bool) -> tuple[int, int]:
    """Lock the room row; take the next version (and message number for a new message)."""
    room = ChatRoom.objects.select_for_update().only("last_seq", "last_version").get(pk=room_id)
    room.last_version += 1
    if new_message:
        room.last_seq += 1
    ChatRoom.objects.filter(pk=room_id).update(last_seq=room.last_seq, last_version=room.last_version)
    return room.last_seq, room.last_version


def _clean_body(body: str) -> str:
    if not isinstance(body, str) or not body.strip():
        raise ChatError("empty_body", "a message needs a body")
    if len(body) > MAX_BODY_CHARS:
        raise ChatError("too_long", f"a message is at most {MAX_BODY_CHARS} characters")
    return body


def post_message(
    room: ChatRoom, author: Any, client_id: str, body: str, parent_id: int | None = None
) -> tuple[ChatMessage, bool]:
    """Store a message once per (room, author, client id); returns (message, created)."""
    if not client_id or len(client_id) > MAX_CLIENT_ID_CHARS:
        raise ChatError("invalid_client_id", f"client_id must be 1 to {MAX_CLIENT_ID_CHARS} characters")
    body = _clean_body(body)
    with transaction.atomic():
        seq, version = _next_numbers(room.pk, new_message=True)  # a retry of the same id waits here
        existing = ChatMessage.objects.filter(room=room, author=author, client_id=client_id).first()
        if existing is not None:
            transaction.set_rollback(True)  # hand the number back: the sequence stays gap-free
            return existing, False
        if parent_id is not None and not ChatMessage.objects.filter(room=room, pk=parent_id).exists():
            raise ChatError("unknown_parent", "the message replied to is not in this room")
        message = ChatMessage.objects.create(
            room=room,
            seq=seq,
            created_version=version,
            version_seq=version,
            client_id=client_id,
            author=author,
            body=body,
            parent_id=parent_id,
        )
        _announce(message)
        return message, True


def edit_message(message: ChatMessage, editor: Any, body: str) -> ChatMessage:
    if message.author_id != editor.pk:
        raise ChatError("forbidden", "only the author can edit a message")
    body = _clean_body(body)
    with transaction.atomic():
        if message.deleted_at is not None:
            raise ChatError("deleted", "a deleted message cannot be edited")
        _, message.version_seq = _next_numbers(message.room_id, new_message=False)
        message.body = body
        message.edited_at = timezone.now()
        message.save(update_fields=["version_seq", "body", "edited_at"])
        _announce(message)
    return message


def delete_message(message: ChatMessage, actor: Any) -> ChatMessage:
    is_owner = ChatMember.objects.filter(
        room_id=message.room_id, user_id=actor.pk, role=MemberRole.OWNER
    ).exists()
    if message.author_id != actor.pk and not is_owner:
        raise ChatError("forbidden", "only the author or a room owner can delete a message")
    with transaction.atomic():
        if message.deleted_at is not None:
            return message
        _, message.version_seq = _next_numbers(message.room_id, new_message=False)
        message.body = ""
        message.deleted_at = timezone.now()
        message.save(update_fields=["version_seq", "body", "deleted_at"])
        _announce(message)
    return message


def add_member(room: ChatRoom, actor: Any, new_member: Any) -> ChatMember:
    """Invite someone: owners of private rooms, any member of a public room."""
    role = ChatMember.objects.filter(room=room, user_id=actor.pk).values_list("role", flat=True).first()
    if role is None or (room.kind != RoomKind.PUBLIC and role != MemberRole.OWNER):
        raise ChatError("forbidden", "you cannot add members to this room")
    member, _ = ChatMember.objects.get_or_create(room=room, user=new_member)
    return member


def join_room(room: ChatRoom, user: Any) -> ChatMember:
    if room.kind != RoomKind.PUBLIC:
        raise ChatError("forbidden", "private rooms are joined by invitation")
    member, _ = ChatMember.objects.get_or_create(room=room, user=user)
    return member
