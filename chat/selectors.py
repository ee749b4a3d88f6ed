"""Reads of the chat log: resume after a sequence number, and keyset pages of history."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, F, Q, QuerySet

from chat.models import ChatMember, ChatMessage, ChatRoom, RoomKind

MAX_PAGE = 200


def changes_after(room_id: int, after_seq: int, limit: int = MAX_PAGE) -> list[ChatMessage]:
    """Messages created, edited or deleted after `after_seq`, in log order, at most `limit`.

    A message appears once, in its latest state; a client resumes from the last
    `version_seq` it received, so a reconnecting client gets each change exactly once.
    """
    limit = max(1, min(limit, MAX_PAGE))
    rows: QuerySet[ChatMessage] = (
        ChatMessage.objects.filter(room_id=room_id, version_seq__gt=after_seq)
        .select_related("author")
        .order_by("version_seq")
    )
    return list(rows[:limit])


def history_before(room_id: int, before_seq: int | None, limit: int = 50) -> list[ChatMessage]:
    """The page of messages just before `before_seq` (newest page when None), oldest first."""
    limit = max(1, min(limit, MAX_PAGE))
    rows = ChatMessage.objects.filter(room_id=room_id).select_related("author")
    if before_seq is not None:
        rows = rows.filter(seq__lt=before_seq)
    page = list(rows.order_by("-seq")[:limit])
    page.reverse()
    return page


def history_after(room_id: int, after_seq: int, limit: int = 50) -> list[ChatMessage]:
    limit = max(1, min(limit, MAX_PAGE))
    rows = ChatMessage.objects.filter(room_id=room_id, seq__gt=after_seq).select_related("author")
    return list(rows.order_by("seq")[:limit])


def can_read(room: ChatRoom, user: Any) -> bool:
    if room.kind == RoomKind.PUBLIC:
        return bool(user.is_authenticated)
    return ChatMember.objects.filter(room=room, user_id=user.pk).exists()


def rooms_with_unread(user: Any) -> QuerySet[ChatMember]:
    """The user's rooms with `unread`: others' live messages after the read marker."""
    unread = Count(
        "room__messages",
        filter=Q(room__messages__seq__gt=F("last_read_seq"), room__messages__deleted_at__isnull=True)
        & ~Q(room__messages__author_id=user.pk),
    )
    return (
        ChatMember.objects.filter(user_id=user.pk, room__archived_at__isnull=True)
        .select_related("room")
        .annotate(unread=unread)
        .order_by("-room__last_seq")
    )
