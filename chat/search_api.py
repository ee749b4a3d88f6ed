"""`GET /api/chat/search`: ranked full-text search over the messages the caller may read.

Query: `q` (1 to 200 characters, websearch syntax on PostgreSQL: words, "quoted phrases",
-exclusions, `or`), `room` (one room; a public room need not be joined), `limit`
(1 to 50, default 20) and `offset` (0 to 1000). Pages are offset-based: ranks are
floats that tie often, so a keyset cursor would buy little over an offset here, and
search pages are for reading, not for syncing. `next_offset` is null on the last page.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Query, Router, Schema
from ninja.errors import HttpError

from chat import search as chat_search
from chat import selectors
from chat.payloads import message_payload

router = Router(tags=["chat"])


class SearchQueryIn(Schema):
    q: str = ""
    room: int | None = None
    limit: int = chat_search.DEFAULT_LIMIT
    offset: int = 0


class SegmentOut(Schema):
    text: str
    match: bool


class SearchResultOut(Schema):
    room_id: int
    room_name: str
    rank: float
    message: dict[str, Any]  # message_payload(): the same shape as everywhere else
    snippet: list[SegmentOut]


class SearchPage(Schema):
    results: list[SearchResultOut]
    has_more: bool
    next_offset: int | None


@router.get("/search", response=SearchPage)
def search_messages(request: HttpRequest, params: Query[SearchQueryIn]) -> dict[str, Any]:
    try:
        q = chat_search.clean_query(params.q)
    except chat_search.SearchError as exc:
        raise HttpError(400, str(exc)) from exc
    if not 0 <= params.offset <= chat_search.MAX_OFFSET:
        raise HttpError(400, f"offset must be 0 to {chat_search.MAX_OFFSET}")
    limit = max(1, min(params.limit, chat_search.MAX_LIMIT))
    room = None
    if params.room is not None:
        room = selectors.room_by_id(params.room)
        if room is None:
            raise HttpError(404, "unknown room")
        if not selectors.can_read(room, request.user):
            raise HttpError(403, "this room is private")
    rows = chat_search.readable_messages(request.user, room)
    hits = chat_search.search(rows, q, limit + 1, params.offset)
    has_more = len(hits) > limit
    return {
        "results": [
            {
                "room_id": hit.message.room_id,
                "room_name": hit.message.room.name,
                "rank": hit.rank,
                "message": message_payload(hit.message),
                "snippet": hit.snippet,
            }
            for hit in hits[:limit]
        ],
        "has_more": has_more,
        "next_offset": params.offset + limit if has_more else None,
    }
