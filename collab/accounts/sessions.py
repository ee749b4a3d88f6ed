"""Signed-in browser sessions: recorded at login, listed and ended by their user.

Each session that signs in gets a record (collab.models.UserSession) holding its key,
when it started and was last seen, its browser and address. The session itself
stores the record's id (SESSION_ID_KEY), which is what a websocket opened with the
session carries (scope["session_id"]); the workers' periodic access checks close a
socket whose record is gone with 4401, like a socket whose token was revoked.

- Login (Django's `user_logged_in` signal) creates the record. A session that signed
  in before records existed gets one on its next request or websocket.
- `last_seen_at` is written at most every TOUCH_SECONDS (SessionActivityMiddleware).
- Ending a session deletes it from the session engine (collab.accounts.session_store),
  which deletes the record; key changes (login, password change) keep the record.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime
from importlib import import_module
from typing import Any

from django.conf import settings
from django.contrib import auth
from django.contrib.sessions.backends.base import SessionBase
from django.contrib.sessions.models import Session
from django.http import HttpRequest
from django.utils import timezone

from collab.accounts.throttle import client_address
from collab.models import UserSession

SESSION_ID_KEY = "_collab_session_id"
SEEN_KEY = "_collab_seen"
TOUCH_SECONDS = 300
USER_AGENT_MAX = 300


@dataclass(frozen=True)
class SessionInfo:
    id: int
    created_at: datetime
    last_seen_at: datetime
    user_agent: str
    ip: str
    current: bool


class SessionNotFoundError(Exception):
    pass


def _session_store(session_key: str | None = None) -> SessionBase:
    store: SessionBase = import_module(settings.SESSION_ENGINE).SessionStore(session_key)
    return store


def record_session(session: SessionBase, user_id: int, user_agent: str, ip: str) -> int:
    """Create (or renew) the record of a signed-in session; its id, also stored in the session."""
    if session.session_key is None:
        session.save()  # a flushed session gets its new key when saved
    now = timezone.now()
    row, _ = UserSession.objects.update_or_create(
        session_key=session.session_key,
        defaults={
            "user_id": user_id,
            "last_seen_at": now,
            "user_agent": user_agent[:USER_AGENT_MAX],
            "ip": ip[:64],
        },
    )
    session[SESSION_ID_KEY] = row.pk
    session[SEEN_KEY] = int(time.time())
    return row.pk


def _request_origin(request: HttpRequest) -> tuple[str, str]:
    return str(request.META.get("HTTP_USER_AGENT", "")), client_address(request.META)


def on_user_logged_in(sender: Any, request: HttpRequest | None = None, user: Any = None, **_: Any) -> None:
    """`user_logged_in` receiver (connected in collab.apps): record the new session."""
    session = getattr(request, "session", None)
    if request is None or session is None or user is None:
        return
    user_agent, ip = _request_origin(request)
    record_session(session, user.pk, user_agent, ip)


def current_session_id(request: HttpRequest) -> int | None:
    """The record id of the session the request came with, if it is signed in as its user."""
    session = getattr(request, "session", None)
    user_id = getattr(request.user, "pk", None)
    if session is None or user_id is None or session.get(auth.SESSION_KEY) != str(user_id):
        return None
    value = session.get(SESSION_ID_KEY)
    return value if isinstance(value, int) else None


def touch(request: HttpRequest) -> None:
    """Per request with a session cookie: record `last_seen_at` (at most every TOUCH_SECONDS),
    give a session signed in before records existed its record, and sign out a session
    whose record was deleted meanwhile (it was ended while this request was under way)."""
    session = request.session
    if auth.SESSION_KEY not in session:
        return
    session_id = session.get(SESSION_ID_KEY)
    seen = session.get(SEEN_KEY)
    now = time.time()
    if session_id is not None and isinstance(seen, int) and now - seen < TOUCH_SECONDS:
        return
    user = request.user
    if not user.is_authenticated:
        return
    if session_id is None:
        user_agent, ip = _request_origin(request)
        record_session(session, user.pk, user_agent, ip)
        return
    updated = UserSession.objects.filter(pk=session_id, user_id=user.pk).update(last_seen_at=timezone.now())
    if not updated:
        auth.logout(request)
        return
    session[SEEN_KEY] = int(now)


def _alive_keys() -> Any:
    return Session.objects.filter(expire_date__gt=timezone.now()).values("session_key")


def list_sessions(user_id: int, current_id: int | None) -> list[SessionInfo]:
    """The user's signed-in sessions that have not expired, most recently seen first."""
    rows = UserSession.objects.filter(user_id=user_id, session_key__in=_alive_keys()).order_by(
        "-last_seen_at", "-pk"
    )
    return [
        SessionInfo(row.pk, row.created_at, row.last_seen_at, row.user_agent, row.ip, row.pk == current_id)
        for row in rows
    ]


def end_session(user_id: int, session_id: int) -> None:
    """End one of the user's sessions (REST at once, its websockets within seconds)."""
    found = (
        UserSession.objects.filter(pk=session_id, user_id=user_id)
        .values_list("session_key", flat=True)
        .first()
    )
    if found is None:
        raise SessionNotFoundError
    _session_store().delete(found)


def end_sessions(user_id: int, keep_id: int | None = None) -> int:
    """End every session of the user except `keep_id`; how many were ended."""
    rows = UserSession.objects.filter(user_id=user_id)
    if keep_id is not None:
        rows = rows.exclude(pk=keep_id)
    keys = list(rows.values_list("session_key", flat=True))
    store = _session_store()
    for key in keys:
        store.delete(key)
    return len(keys)


class _SessionHolder:
    """What django.contrib.auth.get_user reads of a request: its session."""

    def __init__(self, session: SessionBase) -> None:
        self.session = session


def socket_session_user(session: SessionBase, user_agent: str, ip: str) -> tuple[Any, int | None]:
    """The user a websocket's session signs in (Django's checks, like a request) and the
    session's record id. Sync: call it from a database thread."""
    user = auth.get_user(_SessionHolder(session))  # type: ignore[arg-type]
    if not user.is_authenticated:
        return user, None
    session_id = session.get(SESSION_ID_KEY)
    if not isinstance(session_id, int):
        session_id = record_session(session, user.pk, user_agent, ip)
        session.save()
    return user, session_id


def live_sessions(pairs: set[tuple[int, int]]) -> set[tuple[int, int]]:
    """The (user id, session record id) pairs whose session is still signed in (one query)."""
    if not pairs:
        return set()
    rows = UserSession.objects.filter(
        pk__in={session_id for _, session_id in pairs}, session_key__in=_alive_keys()
    ).values_list("user_id", "pk")
    return set(rows) & pairs
