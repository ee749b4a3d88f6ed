"""Who is in a room: invite, join, leave, remove. Every change is serialised by the room row lock."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from chat.models import ChatMember, ChatRoom, MemberRole, RoomKind
from chat.services.base import (
    ChatError,
    lock_room,
    membership_event,
    require_owner,
    require_unarchived,
    role_of,
)


def _enter(room: ChatRoom, user: Any) -> ChatMember:
    member, created = ChatMember.objects.get_or_create(room_id=room.pk, user=user)
    if created:
        membership_event(room.pk, user, "added")
    return member


def add_member(room: ChatRoom, actor: Any, new_member: Any) -> ChatMember:
    """Invite someone: owners of private rooms, any member of a public room; never into a direct room."""
    with transaction.atomic():
        locked = lock_room(room.pk)
        role = role_of(room.pk, actor)
        if (
            role is None
            or locked.kind == RoomKind.DIRECT
            or (locked.kind != RoomKind.PUBLIC and role != MemberRole.OWNER)
        ):
            raise ChatError("forbidden", "you cannot add members to this room")
        require_unarchived(locked)
        return _enter(room, new_member)


def join_room(room: ChatRoom, user: Any) -> ChatMember:
    with transaction.atomic():
        locked = lock_room(room.pk)
        if locked.kind != RoomKind.PUBLIC:
            raise ChatError("forbidden", "private rooms are joined by invitation")
        require_unarchived(locked)
        return _enter(room, user)


def _refuse_last_owner(member: ChatMember) -> None:
    """A room with people in it keeps an owner: the last one hands over (or removes the others) first."""
    if member.role != MemberRole.OWNER:
        return
    others = ChatMember.objects.filter(room_id=member.room_id).exclude(pk=member.pk)
    if others.exists() and not others.filter(role=MemberRole.OWNER).exists():
        raise ChatError("last_owner", "the last owner cannot leave while other members remain")


def _exit(member: ChatMember, user: Any) -> None:
    _refuse_last_owner(member)
    member.delete()
    membership_event(member.room_id, user, "removed")


def leave_room(room: ChatRoom, user: Any) -> None:
    """Leave a public or private room (a direct room is exactly its people: nobody leaves it)."""
    with transaction.atomic():
        locked = lock_room(room.pk)
        if locked.kind == RoomKind.DIRECT:
            raise ChatError("forbidden", "nobody leaves a direct room")
        member = ChatMember.objects.filter(room_id=room.pk, user_id=user.pk).first()
        if member is None:
            raise ChatError("not_member", "you are not a member of this room")
        _exit(member, user)


def remove_member(room: ChatRoom, actor: Any, username_user: Any) -> None:
    """An owner removes someone (themselves too, under the last-owner rule)."""
    with transaction.atomic():
        locked = lock_room(room.pk)
        require_owner(locked, actor, "remove members")
        member = ChatMember.objects.filter(room_id=room.pk, user_id=username_user.pk).first()
        if member is None:
            raise ChatError("not_found", f"{username_user.get_username()} is not a member of this room")
        _exit(member, username_user)
