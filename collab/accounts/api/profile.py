"""`/api/auth/me...` (the caller's profile and avatar) and `/api/users/{username}/avatar`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.files.storage import default_storage
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import ensure_csrf_cookie
from ninja import File, Router, Schema, Status
from ninja.decorators import decorate_view
from ninja.files import UploadedFile
from ninja.params.functions import Query

from collab.accounts import throttle
from collab.accounts.api.common import (
    ApiError,
    ErrorOut,
    ThrottledOut,
    UserOut,
    account_error,
    address,
    caller_id,
    throttled,
    user_out,
)
from collab.accounts.avatars import too_large
from collab.accounts.errors import AccountError
from collab.accounts.profiles import delete_avatar, set_avatar, stored_avatar, update_profile
from collab.accounts.selectors import user_by_id, users_with_profiles
from collab.accounts.services import identity_of
from collab.models import Theme

router = Router(tags=["auth"])
users_router = Router(tags=["users"])

# Multipart framing around the file: a request larger than the limit plus this is refused unread.
MULTIPART_SLACK = 64 * 1024


# Usernames one GET /api/users may ask for.
MAX_LOOKUPS = 100


class PersonOut(Schema):
    username: str
    name: str
    color: str
    avatar_url: str | None


class ProfileIn(Schema):
    name: str | None = None
    email: str | None = None
    theme: Theme | None = None
    current_password: str | None = None


@router.get("/me", response=UserOut)
@decorate_view(ensure_csrf_cookie)
def me(request: HttpRequest) -> dict[str, Any]:
    """Who the caller is; also sets the CSRF cookie."""
    return user_out(request.user)


@router.patch("/me", response={200: UserOut, 400: ErrorOut, 429: ThrottledOut})
def update_me(request: HttpRequest, payload: ProfileIn) -> dict[str, Any] | HttpResponse:
    """Change the display name, e-mail (needs `current_password`) and theme; all or nothing."""
    try:
        user = update_profile(
            caller_id(request),
            address(request),
            name=payload.name,
            email=payload.email,
            theme=payload.theme,
            current_password=payload.current_password,
        )
    except throttle.ThrottledError as exc:
        return throttled(exc)
    except AccountError as exc:
        raise account_error(exc) from exc
    return user_out(user)


def _bounded_upload(view: Callable[..., Any]) -> Callable[..., Any]:
    """Refuse an upload whose declared length is over the limit before its body is parsed."""

    def bounded(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        limit = settings.COLLAB_AVATAR_MAX_BYTES
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > limit + MULTIPART_SLACK:
            error = too_large(limit)
            return JsonResponse({"detail": str(error), "code": error.code}, status=error.status)
        return view(request, *args, **kwargs)

    return bounded


@router.post(
    "/me/avatar",
    response={200: UserOut, 400: ErrorOut, 413: ErrorOut, 415: ErrorOut},
)
@decorate_view(_bounded_upload)
def upload_avatar(request: HttpRequest, file: File[UploadedFile]) -> dict[str, Any]:
    """A new avatar from an uploaded PNG, JPEG, WebP or GIF (multipart field `file`)."""
    limit = settings.COLLAB_AVATAR_MAX_BYTES
    if file.size is not None and file.size > limit:
        raise account_error(too_large(limit))
    data = file.read(limit + 1)
    try:
        set_avatar(caller_id(request), data)
    except AccountError as exc:
        raise account_error(exc) from exc
    return user_out(user_by_id(caller_id(request)))


@router.delete("/me/avatar", response={204: None})
def remove_avatar(request: HttpRequest) -> Status[None]:
    delete_avatar(caller_id(request))
    return Status(204, None)


@users_router.get("", response={200: list[PersonOut], 400: ErrorOut})
def people(request: HttpRequest, username: list[str] = Query(default=[])) -> list[dict[str, Any]]:  # noqa: B008
    """How people appear (the identity documents and chat use): `?username=a&username=b`, up to
    100; names in any spelling, answered in their canonical form; unknown names are left out."""
    if len(username) > MAX_LOOKUPS:
        raise ApiError(400, f"ask for at most {MAX_LOOKUPS} usernames at once", "too_many_usernames")
    found = []
    for user in users_with_profiles(username):
        identity = identity_of(user)
        found.append(
            {
                "username": user.get_username(),
                "name": identity["name"],
                "color": identity["color"],
                "avatar_url": identity["avatar_url"],
            }
        )
    return found


@users_router.get(
    "/{username}/avatar",
    response={304: None, 404: ErrorOut},
    openapi_extra={
        "responses": {
            200: {
                "description": "The avatar image (256x256)",
                "content": {"image/webp": {}, "image/png": {}},
            }
        }
    },
)
def user_avatar(request: HttpRequest, username: str) -> HttpResponse:
    """A user's avatar, for signed-in callers. With `?v=` of the current version (the URL in
    `avatar_url`) it may be cached for a year; otherwise it is revalidated (ETag)."""
    avatar = stored_avatar(username)
    if avatar is None:
        raise ApiError(404, "this user has no avatar", "not_found")
    etag = f'"{avatar.version}"'
    if request.GET.get("v") == avatar.version:
        cache_control = "private, max-age=31536000, immutable"
    else:
        cache_control = "private, no-cache"
    if etag in [tag.strip() for tag in request.headers.get("If-None-Match", "").split(",")]:
        response = HttpResponse(status=304)
    else:
        try:
            with default_storage.open(avatar.name, "rb") as stored:
                data = stored.read()
        except FileNotFoundError as exc:
            raise ApiError(404, "this user has no avatar", "not_found") from exc
        response = HttpResponse(data, content_type=avatar.content_type)
        response["Content-Disposition"] = f'inline; filename="avatar.{avatar.name.rsplit(".", 1)[-1]}"'
    response["ETag"] = etag
    response["Cache-Control"] = cache_control
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response
