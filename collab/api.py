"""The REST API root: authentication schemes, error format, routers.

django-ninja: typed request/response schemas (pydantic), OpenAPI generated from
them at /api/openapi.json, and sync or async views; see docs/architecture.md.
"""

from __future__ import annotations

from typing import Any

from django.db import DataError
from django.http import HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError
from ninja.security import HttpBearer, SessionAuth

from collab.accounts import user_for_token


class BearerToken(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> Any:
        user = user_for_token(token)
        if not user.is_authenticated:
            return None
        request.user = user
        return user


api = NinjaAPI(
    title="Collab server API",
    version="1",
    auth=[BearerToken(), SessionAuth(csrf=True)],
    urls_namespace="api",
)


@api.exception_handler(DataError)
def unstorable_text(request: HttpRequest, exc: Exception) -> HttpResponse:
    """E.g. a NUL character in a name: the client's input, not a server fault."""
    detail = "the request holds text that cannot be stored"
    return api.create_response(request, {"detail": detail}, status=400)


@api.exception_handler(UnicodeEncodeError)
def invalid_unicode(request: HttpRequest, exc: Exception) -> HttpResponse:
    return api.create_response(request, {"detail": "the request holds invalid Unicode text"}, status=400)


@api.exception_handler(AuthenticationError)
def unauthenticated(request: HttpRequest, exc: Exception) -> HttpResponse:
    return api.create_response(request, {"detail": "authentication required"}, status=401)


def register_routers() -> None:
    from chat.api import router as chat_router
    from chat.search_api import router as search_router
    from collab.api_auth import router as auth_router
    from documents.api import router as documents_router

    api.add_router("/auth", auth_router)
    api.add_router("/documents", documents_router)
    api.add_router("/chat", chat_router)
    api.add_router("/chat", search_router)
    from presence.api import router as presence_router

    api.add_router("/presence", presence_router)


register_routers()
