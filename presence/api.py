"""`/api/presence/...`: who is online, and who has an object open."""

from __future__ import annotations

from typing import Any

from asgiref.sync import async_to_sync
from django.http import HttpRequest
from ninja import Query, Router, Schema
from ninja.errors import HttpError

from collab.realtime.runtime import current_runtime
from presence.hub import PresenceHub
from presence.objects import ObjectAccessError, readable_object
from presence.store import Person

router = Router(tags=["presence"])


class HereQuery(Schema):
    object: str


async def _online() -> list[Person]:
    return await current_runtime().get(PresenceHub).online()


async def _here(obj: str) -> list[Person]:
    return await current_runtime().get(PresenceHub).here(obj)


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
    try:
        return readable_object(request.user, raw)
    except ObjectAccessError as refused:
        raise HttpError(refused.status, refused.message) from refused
