"""What the account routers share: error schemas and responses, the caller, the user's JSON."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from ninja import Schema
from ninja.errors import HttpError

from collab.accounts import throttle
from collab.accounts.errors import AccountError
from collab.accounts.profiles import avatar_url, profile_of, theme_of
from collab.accounts.services import identity_of
from collab.models import Theme


class ErrorOut(Schema):
    detail: str
    code: str = ""


class ThrottledOut(Schema):
    detail: str
    code: str
    retry_after: int


class UserOut(Schema):
    id: int
    username: str
    name: str
    color: str
    email: str
    avatar_url: str | None
    theme: Theme


class ApiError(HttpError):
    """An HttpError with its own `code` (collab/conf/api.py answers {"detail", "code"})."""

    def __init__(self, status: int, message: str, code: str) -> None:
        super().__init__(status, message)
        self.code = code


def account_error(exc: AccountError) -> ApiError:
    return ApiError(exc.status, str(exc), exc.code)


def throttled(exc: throttle.ThrottledError) -> HttpResponse:
    body = {"detail": str(exc), "code": "throttled", "retry_after": exc.retry_after}
    response = JsonResponse(body, status=429)
    response["Retry-After"] = str(exc.retry_after)
    return response


def address(request: HttpRequest) -> str:
    return throttle.client_address(request.META)


def caller_id(request: HttpRequest) -> int:
    """The signed-in caller's id (the API root authenticates every request)."""
    user_id = request.user.pk
    if user_id is None:  # pragma: no cover - anonymous requests are refused before
        raise ApiError(401, "authentication required", "unauthenticated")
    return int(user_id)


def user_out(user: Any) -> dict[str, Any]:
    identity = identity_of(user)
    profile = profile_of(user)
    return {
        "id": user.pk,
        "username": user.get_username(),
        "name": identity["name"],
        "color": identity["color"],
        "email": user.email,
        "avatar_url": avatar_url(user.get_username(), profile),
        "theme": theme_of(profile),
    }
