"""`/api/presence/...`: who is online, and who has an object open."""

from __future__ import annotations

from typing import Any

from asgiref.sync import async_to_sync
from django.http import HttpRequest
from ninja import Query, Router, Schema
from ninja.errors import HttpError

from presence.hub import get_hub
from presence.objects import chat_object, document_object, parse_object
from presence.store import Person

router = Router(tags=["presence"])


class HereQuery(Schema):
    object: str


async def _online() -> list[Person]:
    return await get_hub().online()


async def _here(obj: str) -> list[Person]:
    return await get_hub().here(obj)


@router.get("/online")
def online(request: HttpRequest) -> dict[str, Any]:
    """Everyone connected now, online or away (a team server: every user may see this)."""
    return {
        "users": [
            {**person.as_json(), "last_active": person.last_active} for person in async_to_sync(_online)()
        ]
    }


@router.get("/here")
def here(request: HttpRequest, query: Query[HereQuery]) -> dict[str, Any]:
    obj = _readable_object(request, query.object)
    return {"here": [person.as_json() for person in async_to_sync(_here)(obj)]}


def _readable_object(request: HttpRequest, raw: str) -> str:
    parsed = parse_object(raw)
    if parsed is None:
        raise HttpError(400, "object is chat:<room id> or doc:<document id>")
    kind, ident = parsed
    if kind == "chat":
        from chat.models import ChatRoom
        from chat.selectors import can_read

        room = ChatRoom.objects.filter(pk=int(ident)).first() if ident.isascii() and ident.isdigit() else None
        if room is None:
            raise HttpError(404, "unknown room")
        if not can_read(room, request.user):
            raise HttpError(403, "this room is private")
        return chat_object(room.pk)
    from documents import selectors

    document_id = selectors.parse_document_id(ident)
    if document_id is None or not selectors.document_exists(document_id):
        raise HttpError(404, "unknown document")
    if selectors.role_of(request.user, document_id) is None:
        raise HttpError(403, "no access to this document")
    return document_object(document_id)
