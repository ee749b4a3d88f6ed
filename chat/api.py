"""`/api/chat/...`: rooms, members, direct rooms, read markers, reactions and history (docs/chat.md).

Views are thin: access is decided here from the caller's relation to the room
(404 unknown room, 403 not allowed), every rule lives in `chat.services`, and a
`ChatError` becomes the HTTP status its code stands for.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar

from django.http import HttpRequest
from ninja import Query, Router, Schema, Status
from ninja.errors import HttpError

from chat import selectors, services
from chat.models import ChatMember, ChatMessage, ChatRoom, RoomKind
from chat.payloads import message_payload
from collab.accounts.selectors import user_named, users_named

router = Router(tags=["chat"])

T = TypeVar("T")

# ChatError codes that are not plain invalid input (400).
ERROR_STATUS = {
    "forbidden": 403,
    "not_member": 403,
    "archived": 403,
    "not_found": 404,
    "unknown_parent": 404,
    "last_owner": 409,
    "deleted": 409,
}


class RoomIn(Schema):
    name: str
    private: bool = False


class RoomPatch(Schema):
    name: str | None = None
    archived: bool | None = None


class RoomOut(Schema):
    id: int
    name: str
    kind: str
    archived: bool
    last_seq: int
    last_version: int
    last_read_seq: int
    unread: int
    role: str
    members: list[str] | None = None  # direct rooms only (left out of the JSON otherwise)


class PublicRoomOut(Schema):
    id: int
    name: str
    kind: str
    last_seq: int
    joined: bool


class MemberIn(Schema):
    username: str


class MemberOut(Schema):
    username: str
    role: str
    last_read_seq: int


class DirectIn(Schema):
    usernames: list[str]


class ReactionIn(Schema):
    emoji: str


class ReadIn(Schema):
    seq: int


class ReadOut(Schema):
    last_read_seq: int
    unread: int


class ReactionOut(Schema):
    emoji: str
    count: int
    users: list[str]


class MessageOut(Schema):
    id: int
    seq: int
    created_version: int
    version_seq: int
    client_id: str
    author: str | None
    body: str
    parent_id: int | None
    reply_count: int
    reactions: list[ReactionOut]
    created_at: datetime
    edited_at: datetime | None
    deleted: bool
    change: str


class MessagePage(Schema):
    messages: list[MessageOut]
    has_more: bool


class ThreadPage(Schema):
    parent: MessageOut
    replies: list[MessageOut]
    has_more: bool


class PageQuery(Schema):
    after: int | None = None
    before: int | None = None
    limit: int = 50


class ThreadQuery(Schema):
    after: int = 0
    limit: int = 50


def _service(call: Callable[..., T], *args: Any) -> T:
    try:
        return call(*args)
    except services.ChatError as exc:
        raise HttpError(ERROR_STATUS.get(exc.code, 400), str(exc)) from exc


def _room_out(member: ChatMember) -> dict[str, Any]:
    """A row of `selectors.rooms_with_unread`, as the caller sees the room."""
    room = member.room
    out: dict[str, Any] = {
        "id": room.pk,
        "name": room.name,
        "kind": room.kind,
        "archived": room.archived_at is not None,
        "last_seq": room.last_seq,
        "last_version": room.last_version,
        "last_read_seq": member.last_read_seq,
        "unread": member.unread,  # type: ignore[attr-defined]
        "role": member.role,
    }
    if room.kind == RoomKind.DIRECT:
        out["members"] = [m.user.get_username() for m in room.direct_members]  # type: ignore[attr-defined]
    return out


def _my_room_out(request: HttpRequest, room_id: int) -> dict[str, Any]:
    member = selectors.room_entry(request.user, room_id)
    if member is None:  # pragma: no cover - only called right after the caller's membership was checked
        raise HttpError(403, "you are not a member of this room")
    return _room_out(member)


def _room(room_id: int) -> ChatRoom:
    room = selectors.room_by_id(room_id)
    if room is None:
        raise HttpError(404, "unknown room")
    return room


def _readable_room(request: HttpRequest, room_id: int) -> ChatRoom:
    """The room if the caller may read it: 404 unknown, 403 private to others."""
    room = _room(room_id)
    if not selectors.can_read(room, request.user):
        raise HttpError(403, "this room is private")
    return room


def _message(room: ChatRoom, message_id: int) -> ChatMessage:
    message = selectors.message_in_room(room.pk, message_id)
    if message is None:
        raise HttpError(404, "no such message in this room")
    return message


def _user_id(username: str) -> int:
    user = user_named(username)
    if user is None:
        raise HttpError(404, f"no user named {username!r}")
    return int(user.pk)


def _caller_id(request: HttpRequest) -> int:
    """The signed-in caller's id (the API root authenticates every request)."""
    user_id = request.user.pk
    if user_id is None:  # pragma: no cover - never reached: anonymous requests are refused before
        raise HttpError(401, "authentication required")
    return int(user_id)


# -- rooms -------------------------------------------------------------------


@router.post("/rooms", response={201: RoomOut}, exclude_none=True)
def create_room(request: HttpRequest, payload: RoomIn) -> Status[dict[str, Any]]:
    kind = RoomKind.PRIVATE if payload.private else RoomKind.PUBLIC
    room = _service(services.create_room, _caller_id(request), payload.name, kind)
    return Status(201, _my_room_out(request, room.pk))


@router.get("/rooms", response=list[RoomOut], exclude_none=True)
def list_rooms(request: HttpRequest) -> list[dict[str, Any]]:
    return [_room_out(member) for member in selectors.rooms_with_unread(request.user)]


@router.get("/rooms/public", response=list[PublicRoomOut])
def public_rooms(request: HttpRequest) -> list[dict[str, Any]]:
    return [
        {"id": r.pk, "name": r.name, "kind": r.kind, "last_seq": r.last_seq, "joined": r.joined}  # type: ignore[attr-defined]
        for r in selectors.public_rooms(request.user)
    ]


@router.patch("/rooms/{room_id}", response=RoomOut, exclude_none=True)
def update_room(request: HttpRequest, room_id: int, payload: RoomPatch) -> dict[str, Any]:
    room = _readable_room(request, room_id)
    if payload.name is None and payload.archived is None:
        raise HttpError(400, "give name and/or archived")
    if payload.name is not None:
        _service(services.rename_room, room.pk, _caller_id(request), payload.name)
    if payload.archived is not None:
        _service(services.set_archived, room.pk, _caller_id(request), payload.archived)
    return _my_room_out(request, room.pk)


@router.post("/rooms/{room_id}/join", response={204: None})
def join_room(request: HttpRequest, room_id: int) -> Status[None]:
    _readable_room(request, room_id)
    _service(services.join_room, room_id, _caller_id(request))
    return Status(204, None)


@router.post("/rooms/{room_id}/leave", response={204: None})
def leave_room(request: HttpRequest, room_id: int) -> Status[None]:
    _readable_room(request, room_id)
    _service(services.leave_room, room_id, _caller_id(request))
    return Status(204, None)


@router.post("/direct", response={200: RoomOut, 201: RoomOut}, exclude_none=True)
def open_direct(request: HttpRequest, payload: DirectIn) -> Status[dict[str, Any]]:
    if len(payload.usernames) > services.MAX_DIRECT_OTHERS:
        raise HttpError(400, f"a direct room has 1 to {services.MAX_DIRECT_OTHERS} other people")
    found = users_named(payload.usernames)
    missing = [name for name in payload.usernames if name not in found]
    if missing:
        raise HttpError(404, f"no user named {missing[0]!r}")
    others = [int(found[name].pk) for name in payload.usernames]  # duplicates kept: the service refuses them
    room, created = _service(services.open_direct, _caller_id(request), others)
    return Status(201 if created else 200, _my_room_out(request, room.pk))


# -- members -----------------------------------------------------------------


@router.get("/rooms/{room_id}/members", response=list[MemberOut])
def list_members(request: HttpRequest, room_id: int) -> list[dict[str, Any]]:
    room = _readable_room(request, room_id)
    return [
        {"username": m.user.get_username(), "role": m.role, "last_read_seq": m.last_read_seq}
        for m in selectors.members(room)
    ]


@router.post("/rooms/{room_id}/members", response={201: MemberIn})
def add_member(request: HttpRequest, room_id: int, payload: MemberIn) -> Status[dict[str, str]]:
    _readable_room(request, room_id)
    _service(services.add_member, room_id, _caller_id(request), _user_id(payload.username))
    return Status(201, {"username": payload.username})


@router.delete("/rooms/{room_id}/members/{username}", response={204: None})
def remove_member(request: HttpRequest, room_id: int, username: str) -> Status[None]:
    _readable_room(request, room_id)
    _service(services.remove_member, room_id, _caller_id(request), _user_id(username))
    return Status(204, None)


# -- messages ----------------------------------------------------------------


@router.get("/rooms/{room_id}/messages", response=MessagePage)
def messages(request: HttpRequest, room_id: int, page: Query[PageQuery]) -> dict[str, Any]:
    room = _readable_room(request, room_id)
    if page.after is not None and page.before is not None:
        raise HttpError(400, "give either after or before, not both")
    if page.after is not None:
        found = selectors.history_after_page(room.pk, page.after, page.limit)
    else:
        found = selectors.history_before_page(room.pk, page.before, page.limit)
    return {"messages": [message_payload(m) for m in found.messages], "has_more": found.has_more}


@router.get("/rooms/{room_id}/messages/{message_id}/thread", response=ThreadPage)
def thread(request: HttpRequest, room_id: int, message_id: int, page: Query[ThreadQuery]) -> dict[str, Any]:
    room = _readable_room(request, room_id)
    parent = _message(room, message_id)
    found = selectors.thread_page(room.pk, parent.pk, page.after, page.limit)
    return {
        "parent": message_payload(parent),
        "replies": [message_payload(m) for m in found.messages],
        "has_more": found.has_more,
    }


@router.post("/rooms/{room_id}/read", response=ReadOut)
def mark_read(request: HttpRequest, room_id: int, payload: ReadIn) -> dict[str, int]:
    room = _readable_room(request, room_id)
    last_read_seq = _service(services.mark_read, room.pk, _caller_id(request), payload.seq)
    return {"last_read_seq": last_read_seq, "unread": selectors.unread_count(room, request.user)}


def _react(request: HttpRequest, room_id: int, message_id: int, emoji: str, add: bool) -> dict[str, Any]:
    _readable_room(request, room_id)
    message = _service(services.toggle_reaction, room_id, message_id, _caller_id(request), emoji, add)
    return message_payload(message)


@router.post("/rooms/{room_id}/messages/{message_id}/reactions", response=MessageOut)
def add_reaction(request: HttpRequest, room_id: int, message_id: int, payload: ReactionIn) -> dict[str, Any]:
    return _react(request, room_id, message_id, payload.emoji, add=True)


@router.delete("/rooms/{room_id}/messages/{message_id}/reactions", response=MessageOut)
def remove_reaction(
    request: HttpRequest, room_id: int, message_id: int, payload: ReactionIn
) -> dict[str, Any]:
    return _react(request, room_id, message_id, payload.emoji, add=False)
