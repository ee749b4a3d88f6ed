"""`/api/auth/sessions...`: the caller's signed-in browser sessions, listed and ended."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.contrib.auth import logout
from django.http import HttpRequest
from ninja import Router, Schema, Status

from collab.accounts.api.common import ApiError, ErrorOut, caller_id
from collab.accounts.sessions import (
    SessionNotFoundError,
    current_session_id,
    end_session,
    end_sessions,
    list_sessions,
)

router = Router(tags=["auth"])


class SessionOut(Schema):
    id: int
    created_at: datetime
    last_seen_at: datetime
    user_agent: str
    ip: str
    current: bool


class LogoutAllIn(Schema):
    include_current: bool = False


class EndedOut(Schema):
    ended: int


@router.get("/sessions", response=list[SessionOut])
def sessions(request: HttpRequest) -> list[Any]:
    """The caller's signed-in sessions, most recently seen first (`current`: this one)."""
    return list_sessions(caller_id(request), current_session_id(request))


# Before /sessions/{session_id}: the first route whose path matches is the one that answers.
@router.post("/sessions/logout-all", response={200: EndedOut})
def logout_all(request: HttpRequest, payload: LogoutAllIn | None = None) -> dict[str, int]:
    """End every other session; with `include_current`, this one too."""
    current = current_session_id(request)
    ended = end_sessions(caller_id(request), keep_id=current)
    if payload is not None and payload.include_current and current is not None:
        logout(request)
        ended += 1
    return {"ended": ended}


@router.delete("/sessions/{session_id}", response={204: None, 404: ErrorOut})
def delete_session(request: HttpRequest, session_id: int) -> Status[None]:
    """End one session: signed out at once, its websockets closed (4401) within seconds."""
    if session_id == current_session_id(request):
        logout(request)
        return Status(204, None)
    try:
        end_session(caller_id(request), session_id)
    except SessionNotFoundError as exc:
        raise ApiError(404, "no such session", "not_found") from exc
    return Status(204, None)
