"""Rooms: create, rename, archive, direct rooms and read markers."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.db.models import F
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
def create_room(owner_id: int, name: str, kind: str = RoomKind.PUBLIC) -> ChatRoom:
    """A public or private room; its creator is its owner. Direct rooms come from `open_direct`."""
    name = _clean_name(name)
    if kind not in (RoomKind.PUBLIC, RoomKind.PRIVATE):
        raise ChatError("invalid_kind", "kind must be public or private")
    room = ChatRoom.objects.create(name=name, kind=kind, created_by_id=owner_id)
    ChatMember.objects.create(room=room, user_id=owner_id, role=MemberRole.OWNER)
    rooms_changed([owner_id])
    return room


def _room_info(room: ChatRoom) -> dict[str, Any]:
    """What a `chat.room` event says about a room."""
    return {"id": room.pk, "name": room.name, "kind": room.kind, "archived": room.archived_at is not None}


def _announce_room(room: ChatRoom) -> None:
    """The room's sockets get its new name/state; every member's room list refreshes."""
    room_event(room.pk, {"type": "chat.room", "room": _room_info(room)})
    rooms_changed(list(ChatMember.objects.filter(room_id=room.pk).values_list("user_id", flat=True)))


def _locked_room(room_id: int) -> ChatRoom:
    """The whole room row, locked until the transaction ends; an unknown room is `not_found`."""
    room = ChatRoom.objects.select_for_update().filter(pk=room_id).first()
    if room is None:
        raise ChatError("not_found", "unknown room")
    return room


def rename_room(room_id: int, actor_id: int, name: str) -> ChatRoom:
    name = _clean_name(name)
    with transaction.atomic():
        room = _locked_room(room_id)
        require_owner(room, actor_id, "be renamed")
        if room.name != name:
            room.name = name
            room.save(update_fields=["name"])
            _announce_room(room)
    return room


def set_archived(room_id: int, actor_id: int, archived: bool) -> ChatRoom:
    """Archive (read-only: no posts, edits or reactions; hidden from the public list) or unarchive."""
    with transaction.atomic():
        room = _locked_room(room_id)
        require_owner(room, actor_id, "be archived")
        if (room.archived_at is not None) != archived:
            room.archived_at = timezone.now() if archived else None
            room.save(update_fields=["archived_at"])
            _announce_room(room)
    return room


def mark_read(room_id: int, user_id: int, seq: int) -> int:
    """Move the user's read marker forward to `seq` (never back, never past the room's last message).

    Returns the marker. When it moved, the room's sockets (read receipts) and all
    the user's own sockets (their other devices clear the unread count) are told.
    """
    if not isinstance(seq, int) or isinstance(seq, bool) or seq < 0:
        raise ChatError("invalid", "seq must be a non-negative integer")
    with transaction.atomic():
        member = (
            ChatMember.objects.select_for_update(of=("self",))
            .filter(room_id=room_id, user_id=user_id)
            .annotate(username=F(f"user__{get_user_model().USERNAME_FIELD}"))
            .first()
        )
        if member is None:
            raise ChatError("not_member", "only members have a read marker")
        last_seq = ChatRoom.objects.filter(pk=room_id).values_list("last_seq", flat=True).get()
        target = min(seq, last_seq)
        if target <= member.last_read_seq:
            return member.last_read_seq
        ChatMember.objects.filter(pk=member.pk).update(last_read_seq=target)
        event = {
            "type": "chat.read",
            "room_id": room_id,
            "user": member.username,
            "user_id": user_id,
            "seq": target,
        }
        room_event(room_id, event)
        send_event_on_commit(user_group(user_id), event)
    return target


def _direct_people(user_id: int, other_ids: list[int]) -> list[int]:
    """The caller and 1 to 7 other distinct people, by id, ascending."""
    ids = set(other_ids)
    if not 1 <= len(other_ids) <= MAX_DIRECT_OTHERS:
        raise ChatError("invalid", f"a direct room has 1 to {MAX_DIRECT_OTHERS} other people")
    if len(ids) != len(other_ids):
        raise ChatError("invalid", "name each person once")
    if user_id in ids:
        raise ChatError("invalid", "you are in the room already; name the others")
    return sorted([user_id, *other_ids])


def direct_key(user_ids: list[int]) -> str:
    """One set of people, one key: their ids, ascending, joined by commas."""
    return ",".join(str(user_id) for user_id in sorted(user_ids))


def _direct_name(user_ids: list[int]) -> str:
    """The people's usernames, sorted and joined; an unknown user is `not_found`."""
    model = get_user_model()
    names = list(model.objects.filter(pk__in=user_ids).values_list(model.USERNAME_FIELD, flat=True))
    if len(names) != len(user_ids):
        raise ChatError("not_found", "unknown user")
    name = ", ".join(sorted(names))
    return name if len(name) <= MAX_NAME_CHARS else name[: MAX_NAME_CHARS - 1] + "…"


def open_direct(user_id: int, other_ids: list[int]) -> tuple[ChatRoom, bool]:
    """The direct room of exactly `user_id` and `other_ids`, created on first use; returns (room, created).

    Everyone is a plain member: nobody renames, archives or changes a direct room's people.
    Two people opening the same room at once get one room: the unique key decides.
    """
    people = _direct_people(user_id, other_ids)
    key = direct_key(people)
    room = ChatRoom.objects.filter(direct_key=key).first()
    if room is not None:
        return room, False
    name = _direct_name(people)
    try:
        with transaction.atomic():
            room = ChatRoom.objects.create(
                name=name, kind=RoomKind.DIRECT, created_by_id=user_id, direct_key=key
            )
            ChatMember.objects.bulk_create(
                [ChatMember(room=room, user_id=person, role=MemberRole.MEMBER) for person in people]
            )
            rooms_changed(people)
    except IntegrityError:  # someone created it since we looked (their transaction has committed)
        return ChatRoom.objects.get(direct_key=key), False
    return room, True
