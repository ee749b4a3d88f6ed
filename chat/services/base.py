"""What every chat write shares: the error type, the room row lock and after-commit events."""

from __future__ import annotations

from typing import Any

from django.db.models import OuterRef, Subquery

from chat.models import ChatMember, ChatMessage, ChatRoom, MemberRole, RoomKind
from chat.payloads import message_payload, room_group, user_group
from chat.selectors import member_role
from collab.realtime.events import send_event_on_commit


class ChatError(ValueError):
    """A request that breaks a rule; `code` is the machine-readable reason (docs/chat.md)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


class RateLimited(ChatError):  # noqa: N818 - the name the consumer and docs use
    """Too many messages from one user in one room; `retry_after` seconds until the next is accepted."""

    def __init__(self, retry_after: float) -> None:
        super().__init__("rate_limited", f"too many messages; retry in {retry_after:.1f} s")
        self.retry_after = retry_after


def clean_text(value: str, what: str) -> str:
    """Refuse text the database cannot store (NUL, lone surrogates) with a clear error, not a 500."""
    if "\x00" in value:
        raise ChatError("invalid", f"{what} contains a NUL character")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ChatError("invalid", f"{what} is not valid Unicode text") from exc
    return value


def lock_room(room_id: int, member: Any = None) -> ChatRoom:
    """Lock the room row until the transaction ends: every change of a room's log or members waits here.

    Only the fields the writers decide on are loaded, fresh (a caller's room instance may be stale).
    With `member`, the same round trip reads that user's role as `room.member_role` (None: not a member).
    """
    rows = ChatRoom.objects.select_for_update().only("kind", "archived_at", "last_seq", "last_version")
    if member is not None:
        role = ChatMember.objects.filter(room_id=OuterRef("pk"), user_id=member.pk).values("role")[:1]
        rows = rows.annotate(member_role=Subquery(role))
    return rows.get(pk=room_id)


def take_numbers(room: ChatRoom, new_message: bool) -> tuple[int, int]:
    """The room's next version (and next message number for a new message); `room` must be locked."""
    room.last_version += 1
    if new_message:
        room.last_seq += 1
    ChatRoom.objects.filter(pk=room.pk).update(last_seq=room.last_seq, last_version=room.last_version)
    return room.last_seq, room.last_version


def next_numbers(room_id: int, new_message: bool) -> tuple[int, int]:
    """Lock the room row; take the next version (and message number for a new message)."""
    return take_numbers(lock_room(room_id), new_message)


def role_of(room_id: int, user: Any) -> str | None:
    """The user's role in the room, None for a non-member (a read: `selectors.member_role`)."""
    return member_role(room_id, int(user.pk))


def require_member(room_id: int, user: Any) -> str:
    role = role_of(room_id, user)
    if role is None:
        raise ChatError("not_member", "join the room first")
    return role


def require_owner(room: ChatRoom, user: Any, action: str) -> None:
    """Owners manage rooms; nobody manages a direct room (it is exactly its people, named after them)."""
    if room.kind == RoomKind.DIRECT:
        raise ChatError("forbidden", f"direct rooms cannot {action}")
    if role_of(room.pk, user) != MemberRole.OWNER:
        raise ChatError("forbidden", f"only a room owner can {action}")


def require_unarchived(room: ChatRoom) -> None:
    if room.archived_at is not None:
        raise ChatError("archived", "the room is archived (read-only)")


def announce(message: ChatMessage) -> None:
    """Tell the room's sockets after commit; they order (and fill gaps) by version_seq.

    The payload is built now, inside the transaction, so it is the state this change committed.
    """
    send_event_on_commit(
        room_group(message.room_id),
        {"type": "chat.change", "room_id": message.room_id, "message": message_payload(message)},
    )


def room_event(room_id: int, event: dict[str, Any]) -> None:
    send_event_on_commit(room_group(room_id), event)


def rooms_changed(user_ids: list[int]) -> None:
    """Tell each user's sockets (inbox, all devices) to fetch their room list again."""
    for user_id in user_ids:
        send_event_on_commit(user_group(user_id), {"type": "chat.rooms_changed"})


def membership_event(room_id: int, user: Any, action: str) -> None:
    """`added`/`removed` to the room's sockets (a removed member's sockets of a private room close)."""
    room_event(
        room_id,
        {"type": "chat.membership", "user_id": user.pk, "user": user.get_username(), "action": action},
    )
    rooms_changed([user.pk])
