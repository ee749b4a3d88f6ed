"""The REST API root: authentication schemes, error format, routers.

django-ninja: typed request/response schemas (pydantic), OpenAPI generated from
them at /api/openapi.json, and sync or async views; see docs/architecture.md.
"""

from __future__ import annotations

from typing import Any

from django.db import DataError
from django.http import Http404, HttpRequest, HttpResponse
from django.http.multipartparser import MultiPartParserError
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.security import HttpBearer, SessionAuth

from collab.accounts.services import user_for_token
from collab.realtime import errors


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


# Errors are {"detail": ..., "code": ...} (collab/realtime/errors.py). ninja's own handlers give no
# code, and its fallback for other exceptions is a traceback page (DEBUG) or Django's HTML 500.


@api.exception_handler(DataError)
def unstorable_text(request: HttpRequest, exc: Exception) -> HttpResponse:
    """E.g. a NUL character in a name: the client's input, not a server fault."""
    return errors.json_error(400, "the request holds text that cannot be stored", "invalid_text")


@api.exception_handler(UnicodeEncodeError)
def invalid_unicode(request: HttpRequest, exc: Exception) -> HttpResponse:
    return errors.json_error(400, "the request holds invalid Unicode text", "invalid_text")


@api.exception_handler(MultiPartParserError)
def invalid_multipart(request: HttpRequest, exc: Exception) -> HttpResponse:
    """A multipart body that cannot be parsed (no boundary, broken framing)."""
    return errors.json_error(400, "the multipart body cannot be parsed", "invalid_multipart")


@api.exception_handler(AuthenticationError)
def unauthenticated(request: HttpRequest, exc: Exception) -> HttpResponse:
    return errors.json_error(401, "authentication required", "unauthenticated")


@api.exception_handler(HttpError)
def http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    # A raiser may name its own code (an HttpError subclass with a `code` attribute).
    code = getattr(exc, "code", None)
    return errors.json_error(exc.status_code, str(exc), code if isinstance(code, str) else None)


@api.exception_handler(ValidationError)
def invalid_request(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    return errors.json_error(422, exc.errors, "invalid_request")


@api.exception_handler(Http404)
def not_found(request: HttpRequest, exc: Exception) -> HttpResponse:
    return errors.json_error(404, "not found", "not_found")


@api.exception_handler(Exception)
def unhandled(request: HttpRequest, exc: Exception) -> HttpResponse:
    """503 database_unavailable / cache_unavailable (retry) or 500 internal_error, logged."""
    return errors.exception_response(request, exc)


def register_routers() -> None:
    from chat.api import router as chat_router
    from chat.search_api import router as search_router
    from collab.accounts.api import AUTH_ROUTERS, USERS_ROUTER
    from documents.api import router as documents_router

    for auth_router in AUTH_ROUTERS:
        api.add_router("/auth", auth_router)
    api.add_router("/users", USERS_ROUTER)
    api.add_router("/documents", documents_router)
    api.add_router("/chat", chat_router)
    api.add_router("/chat", search_router)
    from presence.api import router as presence_router

    api.add_router("/presence", presence_router)


register_routers()
