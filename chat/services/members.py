"""Who is in a room: invite, join, leave, remove. Every change is serialised by the room row lock."""

from __future__ import annotations

from django.db import transaction

from chat.models import ChatMember, MemberRole, RoomKind
from chat.services.base import (
    ChatError,
    lock_room,
    membership_event,
    require_owner,
    require_unarchived,
    role_of,
    username_of,
)


def _enter(room_id: int, user_id: int) -> ChatMember:
    username = username_of(user_id)
    member, created = ChatMember.objects.get_or_create(room_id=room_id, user_id=user_id)
    if created:
        membership_event(room_id, user_id, username, "added")
    return member


def add_member(room_id: int, actor_id: int, user_id: int) -> ChatMember:
    """Invite someone: owners of private rooms, any member of a public room; never into a direct room."""
    with transaction.atomic():
        locked = lock_room(room_id)
        role = role_of(room_id, actor_id)
        if (
            role is None
            or locked.kind == RoomKind.DIRECT
            or (locked.kind != RoomKind.PUBLIC and role != MemberRole.OWNER)
        ):
            raise ChatError("forbidden", "you cannot add members to this room")
        require_unarchived(locked)
        return _enter(room_id, user_id)


def join_room(room_id: int, user_id: int) -> ChatMember:
    with transaction.atomic():
        locked = lock_room(room_id)
        if locked.kind != RoomKind.PUBLIC:
            raise ChatError("forbidden", "private rooms are joined by invitation")
        require_unarchived(locked)
        return _enter(room_id, user_id)


def _refuse_last_owner(member: ChatMember) -> None:
    """A room with people in it keeps an owner: the last one hands over (or removes the others) first."""
    if member.role != MemberRole.OWNER:
        return
    others = ChatMember.objects.filter(room_id=member.room_id).exclude(pk=member.pk)
    if others.exists() and not others.filter(role=MemberRole.OWNER).exists():
        raise ChatError("last_owner", "the last owner cannot leave while other members remain")


def _membership(room_id: int, user_id: int) -> ChatMember | None:
    """The member row, with the username its removal is announced under."""
    return ChatMember.objects.select_related("user").filter(room_id=room_id, user_id=user_id).first()


def _exit(member: ChatMember) -> None:
    _refuse_last_owner(member)
    member.delete()
    membership_event(member.room_id, member.user_id, member.user.get_username(), "removed")


def leave_room(room_id: int, user_id: int) -> None:
    """Leave a public or private room (a direct room is exactly its people: nobody leaves it)."""
    with transaction.atomic():
        locked = lock_room(room_id)
        if locked.kind == RoomKind.DIRECT:
            raise ChatError("forbidden", "nobody leaves a direct room")
        member = _membership(room_id, user_id)
        if member is None:
            raise ChatError("not_member", "you are not a member of this room")
        _exit(member)


def remove_member(room_id: int, actor_id: int, user_id: int) -> None:
    """An owner removes someone (themselves too, under the last-owner rule)."""
    with transaction.atomic():
        locked = lock_room(room_id)
        require_owner(locked, actor_id, "remove members")
        member = _membership(room_id, user_id)
        if member is None:
            raise ChatError("not_found", f"{username_of(user_id)} is not a member of this room")
        _exit(member)
