"""`/api/chat/...`: rooms, members and message history (the live stream is issue 3's websocket)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.contrib.auth import get_user_model
from django.http import HttpRequest
from ninja import Query, Router, Schema, Status
from ninja.errors import HttpError

from chat import selectors, services
from chat.models import ChatRoom, RoomKind
from chat.payloads import message_payload

router = Router(tags=["chat"])


class RoomIn(Schema):
    name: str
    private: bool = False


class RoomOut(Schema):
    id: int
    name: str
    kind: str
    last_seq: int
    last_version: int
    unread: int = 0


class MemberIn(Schema):
    username: str


class MessageOut(Schema):
    id: int
    seq: int
    created_version: int
    version_seq: int
    client_id: str
    author: str | None
    body: str
    parent_id: int | None
    created_at: datetime
    edited_at: datetime | None
    deleted: bool


class MessagePage(Schema):
    messages: list[MessageOut]
    has_more: bool


class PageQuery(Schema):
    after: int | None = None
    before: int | None = None
    limit: int = 50


def _room_out(room: ChatRoom, unread: int = 0) -> dict[str, Any]:
    return {
        "id": room.pk,
        "name": room.name,
        "kind": room.kind,
        "last_seq": room.last_seq,
        "last_version": room.last_version,
        "unread": unread,
    }


def _readable_room(request: HttpRequest, room_id: int) -> ChatRoom:
    room = ChatRoom.objects.filter(pk=room_id).first()
    if room is None:
        raise HttpError(404, "unknown room")
    if not selectors.can_read(room, request.user):
        raise HttpError(403, "this room is private")
    return room


@router.post("/rooms", response={201: RoomOut})
def create_room(request: HttpRequest, payload: RoomIn) -> Status[dict[str, Any]]:
    kind = RoomKind.PRIVATE if payload.private else RoomKind.PUBLIC
    try:
        room = services.create_room(request.user, payload.name, kind)
    except services.ChatError as exc:
        raise HttpError(400, str(exc)) from exc
    return Status(201, _room_out(room))


@router.get("/rooms", response=list[RoomOut])
def list_rooms(request: HttpRequest) -> list[dict[str, Any]]:
    members = selectors.rooms_with_unread(request.user)
    return [_room_out(member.room, member.unread) for member in members]  # type: ignore[attr-defined]


@router.post("/rooms/{room_id}/members", response={201: MemberIn})
def add_member(request: HttpRequest, room_id: int, payload: MemberIn) -> Status[dict[str, str]]:
    room = _readable_room(request, room_id)
    new_member = get_user_model().objects.filter(username=payload.username).first()
    if new_member is None:
        raise HttpError(404, f"no user named {payload.username!r}")
    try:
        services.add_member(room, request.user, new_member)
    except services.ChatError as exc:
        raise HttpError(403, str(exc)) from exc
    return Status(201, {"username": payload.username})


@router.post("/rooms/{room_id}/join", response={204: None})
def join_room(request: HttpRequest, room_id: int) -> Status[None]:
    room = _readable_room(request, room_id)
    try:
        services.join_room(room, request.user)
    except services.ChatError as exc:
        raise HttpError(403, str(exc)) from exc
    return Status(204, None)


@router.get("/rooms/{room_id}/messages", response=MessagePage)
def messages(request: HttpRequest, room_id: int, page: Query[PageQuery]) -> dict[str, Any]:
    room = _readable_room(request, room_id)
    if page.after is not None and page.before is not None:
        raise HttpError(400, "give either after or before, not both")
    limit = max(1, min(page.limit, selectors.MAX_PAGE))
    if page.after is not None:
        rows = selectors.history_after(room.pk, page.after, limit + 1)
        has_more = len(rows) > limit
        rows = rows[:limit]
    else:
        rows = selectors.history_before(room.pk, page.before, limit + 1)
        has_more = len(rows) > limit
        rows = rows[-limit:]
    return {"messages": [message_payload(m) for m in rows], "has_more": has_more}
