"""What every chat write shares: the error type, the room row lock, loading by id and after-commit events.

Services take ids (rooms, messages, users) and load what they decide on themselves,
under the room row lock; an unknown room, message or user is a `ChatError("not_found")`.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.db import connection
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


def lock_room(room_id: int, member_id: int | None = None) -> ChatRoom:
    """Lock the room row until the transaction ends: every change of a room's log or members waits here.

    Only the fields the writers decide on are loaded, fresh. With `member_id`, the same round
    trip reads that user's role as `room.member_role` (None: not a member) and their username
    as `room.member_name` (None: no such user). An unknown room is `not_found`.
    """
    rows = ChatRoom.objects.select_for_update().only("kind", "archived_at", "last_seq", "last_version")
    if member_id is not None:
        role = ChatMember.objects.filter(room_id=OuterRef("pk"), user_id=member_id).values("role")[:1]
        users = get_user_model()
        name = users.objects.filter(pk=member_id).values(users.USERNAME_FIELD)[:1]
        rows = rows.annotate(member_role=Subquery(role), member_name=Subquery(name))
    room = rows.filter(pk=room_id).first()
    if room is None:
        raise ChatError("not_found", "unknown room")
    return room


def user_from_row(user_id: int, username: str) -> Any:
    """A user as a query of only its id and username returns it (other fields deferred)."""
    model = get_user_model()
    known = {model._meta.pk.attname: user_id, model.USERNAME_FIELD: username}
    names = [field.attname for field in model._meta.concrete_fields if field.attname in known]
    return model.from_db(connection.alias, names, [known[name] for name in names])


def username_of(user_id: int) -> str:
    """The user's username; an unknown user is `not_found`."""
    model = get_user_model()
    name: str | None = model.objects.filter(pk=user_id).values_list(model.USERNAME_FIELD, flat=True).first()
    if name is None:
        raise ChatError("not_found", "unknown user")
    return name


def load_message(room_id: int, message_id: int) -> ChatMessage:
    """The message (with its author) as stored now; one of another room is `not_found` too.

    Called with the room locked: no other writer changes it before the transaction ends.
    """
    message = ChatMessage.objects.select_related("author").filter(room_id=room_id, pk=message_id).first()
    if message is None:
        raise ChatError("not_found", "no such message in this room")
    return message


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


def role_of(room_id: int, user_id: int) -> str | None:
    """The user's role in the room, None for a non-member (a read: `selectors.member_role`)."""
    return member_role(room_id, user_id)


def require_member(room_id: int, user_id: int) -> str:
    role = role_of(room_id, user_id)
    if role is None:
        raise ChatError("not_member", "join the room first")
    return role


def require_owner(room: ChatRoom, user_id: int, action: str) -> None:
    """Owners manage rooms; nobody manages a direct room (it is exactly its people, named after them)."""
    if room.kind == RoomKind.DIRECT:
        raise ChatError("forbidden", f"direct rooms cannot {action}")
    if role_of(room.pk, user_id) != MemberRole.OWNER:
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


def membership_event(room_id: int, user_id: int, username: str, action: str) -> None:
    """`added`/`removed` to the room's sockets (a removed member's sockets of a private room close)."""
    room_event(
        room_id,
        {"type": "chat.membership", "user_id": user_id, "user": username, "action": action},
    )
    rooms_changed([user_id])
