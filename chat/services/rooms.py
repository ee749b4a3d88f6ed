"""Rooms: create, rename, archive, direct rooms and read markers."""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from chat.models import ChatMember, ChatRoom, MemberRole, RoomKind
from chat.payloads import user_group
from chat.services.base import ChatError, clean_text, require_owner, room_event, rooms_changed
from collab.realtime.events import send_event_on_commit

MAX_NAME_CHARS = 200
MAX_DIRECT_OTHERS = 7


def _clean_name(name: str) -> str:
    name = (name or "").strip() if isinstance(name, str) else ""
    if not name or len(name) > MAX_NAME_CHARS:
        raise ChatError("invalid_name", f"room name must be 1 to {MAX_NAME_CHARS} characters")
    clean_text(name, "the room name")
    return name


@transaction.atomic
def create_room(owner: Any, name: str, kind: str = RoomKind.PUBLIC) -> ChatRoom:
    """A public or private room; its creator is its owner. Direct rooms come from `open_direct`."""
    name = _clean_name(name)
    if kind not in (RoomKind.PUBLIC, RoomKind.PRIVATE):
        raise ChatError("invalid_kind", "kind must be public or private")
    room = ChatRoom.objects.create(name=name, kind=kind, created_by=owner)
    ChatMember.objects.create(room=room, user=owner, role=MemberRole.OWNER)
    rooms_changed([owner.pk])
    return room


def room_info(room: ChatRoom) -> dict[str, Any]:
    """What a `chat.room` event says about a room."""
    return {"id": room.pk, "name": room.name, "kind": room.kind, "archived": room.archived_at is not None}


def _announce_room(room: ChatRoom) -> None:
    """The room's sockets get its new name/state; every member's room list refreshes."""
    room_event(room.pk, {"type": "chat.room", "room": room_info(room)})
    rooms_changed(list(ChatMember.objects.filter(room_id=room.pk).values_list("user_id", flat=True)))


def rename_room(room: ChatRoom, actor: Any, name: str) -> ChatRoom:
    name = _clean_name(name)
    with transaction.atomic():
        room.refresh_from_db()
        require_owner(room, actor, "be renamed")
        if room.name != name:
            room.name = name
            room.save(update_fields=["name"])
            _announce_room(room)
    return room


def set_archived(room: ChatRoom, actor: Any, archived: bool) -> ChatRoom:
    """Archive (read-only: no posts, edits or reactions; hidden from the public list) or unarchive."""
    with transaction.atomic():
        room.refresh_from_db()
        require_owner(room, actor, "be archived")
        if (room.archived_at is not None) != archived:
            room.archived_at = timezone.now() if archived else None
            room.save(update_fields=["archived_at"])
            _announce_room(room)
    return room


def mark_read(room: ChatRoom, user: Any, seq: int) -> int:
    """Move the user's read marker forward to `seq` (never back, never past the room's last message).

    Returns the marker. When it moved, the room's sockets (read receipts) and all
    the user's own sockets (their other devices clear the unread count) are told.
    """
    if not isinstance(seq, int) or isinstance(seq, bool) or seq < 0:
        raise ChatError("invalid", "seq must be a non-negative integer")
    with transaction.atomic():
        member = ChatMember.objects.select_for_update().filter(room_id=room.pk, user_id=user.pk).first()
        if member is None:
            raise ChatError("not_member", "only members have a read marker")
        last_seq = ChatRoom.objects.filter(pk=room.pk).values_list("last_seq", flat=True).get()
        target = min(seq, last_seq)
        if target <= member.last_read_seq:
            return member.last_read_seq
        ChatMember.objects.filter(pk=member.pk).update(last_read_seq=target)
        event = {
            "type": "chat.read",
            "room_id": room.pk,
            "user": user.get_username(),
            "user_id": user.pk,
            "seq": target,
        }
        room_event(room.pk, event)
        send_event_on_commit(user_group(user.pk), event)
    return target


def _direct_people(user: Any, others: list[Any]) -> list[Any]:
    """The caller and 1 to 7 other distinct people, by id."""
    ids = {other.pk for other in others}
    if not 1 <= len(others) <= MAX_DIRECT_OTHERS:
        raise ChatError("invalid", f"a direct room has 1 to {MAX_DIRECT_OTHERS} other people")
    if len(ids) != len(others) or None in ids:
        raise ChatError("invalid", "name each person once")
    if user.pk in ids:
        raise ChatError("invalid", "you are in the room already; name the others")
    return sorted([user, *others], key=lambda person: int(person.pk))


def direct_key(people: list[Any]) -> str:
    """One set of people, one key: their ids, ascending, joined by commas."""
    return ",".join(str(person.pk) for person in sorted(people, key=lambda person: int(person.pk)))


def _direct_name(people: list[Any]) -> str:
    name = ", ".join(sorted(person.get_username() for person in people))
    return name if len(name) <= MAX_NAME_CHARS else name[: MAX_NAME_CHARS - 1] + "…"


def open_direct(user: Any, others: list[Any]) -> tuple[ChatRoom, bool]:
    """The direct room of exactly `user` and `others`, created on first use; returns (room, created).

    Everyone is a plain member: nobody renames, archives or changes a direct room's people.
    Two people opening the same room at once get one room: the unique key decides.
    """
    people = _direct_people(user, others)
    key = direct_key(people)
    room = ChatRoom.objects.filter(direct_key=key).first()
    if room is not None:
        return room, False
    try:
        with transaction.atomic():
            room = ChatRoom.objects.create(
                name=_direct_name(people), kind=RoomKind.DIRECT, created_by=user, direct_key=key
            )
            ChatMember.objects.bulk_create(
                [ChatMember(room=room, user=person, role=MemberRole.MEMBER) for person in people]
            )
            rooms_changed([person.pk for person in people])
    except IntegrityError:  # someone created it since we looked (their transaction has committed)
        return ChatRoom.objects.get(direct_key=key), False
    return room, True
