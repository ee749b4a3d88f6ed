"""Websocket authentication: the session cookie, or an API token.

Token clients (Node, mobile) pass `?token=` or an `Authorization: Bearer`
header and usually send no Origin. Cookie-authenticated sockets are only
trusted from an allowed Origin, which is what stops cross-site hijacking.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from urllib.parse import parse_qs, urlsplit

from channels.auth import AuthMiddleware
from channels.db import database_sync_to_async
from channels.sessions import CookieMiddleware, SessionMiddleware
from django.conf import settings
from django.contrib.auth.models import AnonymousUser

from collab.accounts.services import TokenAuth, authenticate_tokens, socket_session_user
from collab.accounts.throttle import client_address
from collab.realtime.batching import Batcher
from collab.realtime.runtime import running_runtime

Scope = dict[str, Any]


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key.lower() == name:
            decoded: str = value.decode("latin-1")
            return decoded
    return None


def query_param(scope: Scope, name: str) -> str | None:
    """The first value of a query-string parameter of the socket's URL."""
    raw_query: bytes = scope.get("query_string", b"")
    values = parse_qs(raw_query.decode("latin-1")).get(name)
    return values[0] if values else None


def token_from_scope(scope: Scope) -> str | None:
    token = query_param(scope, "token")
    if token:
        return token
    authorization = _header(scope, b"authorization")
    if authorization and authorization.lower().startswith("bearer "):
        return authorization[7:].strip()
    return None


def origin_allowed(scope: Scope) -> bool:
    """Same-origin (Origin host equals Host) or listed in COLLAB_ALLOWED_ORIGINS."""
    origin = _header(scope, b"origin")
    if origin is None:
        return True  # not a browser: a cross-site page cannot omit Origin
    if origin in settings.COLLAB_ALLOWED_ORIGINS:
        return True
    host = _header(scope, b"host")
    return host is not None and urlsplit(origin).netloc.lower() == host.lower()


class TokenLookups:
    """The worker's token authentication, batched: the tokens of every socket that
    arrives while a lookup is in flight are looked up together (`collab.realtime.batching`)."""

    def __init__(self) -> None:
        self.batcher: Batcher[str, TokenAuth | None] = Batcher(self._fetch)

    async def authenticate(self, raw: str) -> TokenAuth | None:
        return await self.batcher.get(raw)

    async def stop(self) -> None:
        await self.batcher.close()

    @staticmethod
    async def _fetch(raws: Sequence[str]) -> dict[str, TokenAuth | None]:
        found = await database_sync_to_async(authenticate_tokens, thread_sensitive=False)(raws)
        return {raw: found.get(raw) for raw in raws}


async def authenticate_socket_token(raw: str) -> TokenAuth | None:
    """Through the worker's `TokenLookups` when a runtime runs (always under asgi.py)."""
    runtime = running_runtime()
    if runtime is not None and runtime.has(TokenLookups):
        return await runtime.get(TokenLookups).authenticate(raw)
    found: dict[str, TokenAuth] = await database_sync_to_async(authenticate_tokens, thread_sensitive=False)(
        [raw]
    )
    return found.get(raw)


class SessionAuthMiddleware(AuthMiddleware):
    """Channels' AuthMiddleware, resolving the user with Django's session checks in one trip to
    a database thread that also reads the session's record id (scope["session_id"]; see
    collab.accounts.sessions) and loads the user's profile (for identity_of)."""

    async def resolve_scope(self, scope: Scope) -> None:
        client = scope.get("client") or ("", 0)
        meta = {
            "REMOTE_ADDR": str(client[0] or ""),
            "HTTP_X_FORWARDED_FOR": _header(scope, b"x-forwarded-for"),
        }
        user, session_id = await database_sync_to_async(socket_session_user)(
            scope["session"], _header(scope, b"user-agent") or "", client_address(meta)
        )
        scope["user"]._wrapped = user
        scope["session_id"] = session_id


class TokenOrSessionMiddleware:
    """Sets scope["user"], scope["auth_method"] ("token", "session" or None),
    scope["token_id"] (the ApiToken's id for token auth, else None) and
    scope["session_id"] (the session's record id for session auth, else None), which the
    sockets' periodic checks pass to collab.accounts.services.socket_credentials_valid.

    Token clients skip the session and auth middlewares entirely (no session
    lookup, less memory per socket); the rest go through Channels' stack.
    """

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.session_stack = CookieMiddleware(
            SessionMiddleware(SessionAuthMiddleware(_SessionOutcome(inner)))
        )

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> Any:
        token = token_from_scope(scope)
        if token is None:
            return await self.session_stack(scope, receive, send)
        auth = await authenticate_socket_token(token)
        if auth is None:
            scope = dict(scope, user=AnonymousUser(), auth_method=None, token_id=None, session_id=None)
        else:
            scope = dict(scope, user=auth.user, auth_method="token", token_id=auth.token_id, session_id=None)
        scope["origin_allowed"] = True
        return await self.inner(scope, receive, send)


class _SessionOutcome:
    """After Channels' session and auth middlewares: record how the user was authenticated."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> Any:
        user = scope.get("user") or AnonymousUser()
        authenticated = user.is_authenticated
        scope = dict(scope, auth_method="session" if authenticated else None, token_id=None)
        if not authenticated:
            scope["session_id"] = None
        scope["origin_allowed"] = not authenticated or origin_allowed(scope)
        return await self.inner(scope, receive, send)


WebsocketAuthMiddleware = TokenOrSessionMiddleware
