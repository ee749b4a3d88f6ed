"""`/api/auth/...`: registration, API tokens, browser login and logout."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.contrib.auth import login, logout
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_protect
from ninja import Field, Router, Schema, Status
from ninja.decorators import decorate_view

from collab.accounts import throttle
from collab.accounts.api.common import (
    ApiError,
    ErrorOut,
    ThrottledOut,
    UserOut,
    account_error,
    address,
    throttled,
    user_out,
)
from collab.accounts.errors import AccountError
from collab.accounts.services import (
    TOKEN_MAX_DAYS,
    TOKEN_NAME_MAX,
    InvalidCredentialsError,
    IssuedToken,
    TokenNotFoundError,
    TooManyTokensError,
    check_credentials,
    issue_token,
    list_tokens,
    register_account,
    revoke_raw_token,
    revoke_token,
)

router = Router(tags=["auth"])


class RegisterIn(Schema):
    username: str
    password: str
    email: str = ""


class CredentialsIn(Schema):
    username: str
    password: str


class TokenRequestIn(CredentialsIn):
    name: str | None = Field(default=None, max_length=TOKEN_NAME_MAX)
    expires_in_days: int | None = Field(default=None, ge=1, le=TOKEN_MAX_DAYS)


class TokenCreateIn(Schema):
    name: str = Field(max_length=TOKEN_NAME_MAX)
    expires_in_days: int | None = Field(default=None, ge=1, le=TOKEN_MAX_DAYS)


class TokenOut(Schema):
    token: str
    id: int
    name: str
    expires_at: datetime | None


class CreatedTokenOut(TokenOut):
    created_at: datetime


class TokenInfoOut(Schema):
    id: int
    name: str
    created_at: datetime
    last_used_at: datetime | None
    expires_at: datetime | None


def _too_many_tokens(exc: TooManyTokensError) -> HttpResponse:
    return JsonResponse({"detail": str(exc), "code": "too_many_tokens"}, status=409)


def _issued(issued: IssuedToken) -> dict[str, Any]:
    return {
        "token": issued.raw,
        "id": issued.token.pk,
        "name": issued.token.name,
        "expires_at": issued.token.expires_at,
        "created_at": issued.token.created_at,
    }


def _bearer(request: HttpRequest) -> str | None:
    header = request.headers.get("Authorization", "")
    if header[:7].lower() == "bearer ":
        return header[7:].strip()
    return None


@router.post("/register", auth=None, response={201: UserOut, 400: ErrorOut, 429: ThrottledOut})
def register(request: HttpRequest, payload: RegisterIn) -> Status[dict[str, Any]] | HttpResponse:
    try:
        user = register_account(payload.username, payload.password, payload.email, address(request))
    except throttle.ThrottledError as exc:
        return throttled(exc)
    except AccountError as exc:
        raise account_error(exc) from exc
    return Status(201, user_out(user))


def _authenticated(request: HttpRequest, username: str, password: str) -> Any:
    """The user for these credentials, a 429 response when throttled; 401 raised when wrong."""
    try:
        return check_credentials(username, password, address(request), request)
    except throttle.ThrottledError as exc:
        return throttled(exc)
    except InvalidCredentialsError as exc:
        raise ApiError(401, "invalid username or password", "invalid_credentials") from exc


@router.post(
    "/token",
    auth=None,
    response={200: TokenOut, 400: ErrorOut, 401: ErrorOut, 409: ErrorOut, 429: ThrottledOut},
)
def token(request: HttpRequest, payload: TokenRequestIn) -> dict[str, Any] | HttpResponse:
    """A new API token (shown once) for the credentials; optionally named and expiring."""
    user = _authenticated(request, payload.username, payload.password)
    if isinstance(user, HttpResponse):
        return user
    try:
        issued = issue_token(user, payload.name, payload.expires_in_days)
    except AccountError as exc:
        raise account_error(exc) from exc
    except TooManyTokensError as exc:
        return _too_many_tokens(exc)
    body = _issued(issued)
    del body["created_at"]  # this call's answer keeps its original fields
    return body


@router.post("/tokens", response={201: CreatedTokenOut, 400: ErrorOut, 409: ErrorOut})
def create_token(request: HttpRequest, payload: TokenCreateIn) -> Status[dict[str, Any]] | HttpResponse:
    """A new API token for the signed-in caller (shown once), e.g. from the settings page."""
    try:
        issued = issue_token(request.user, payload.name, payload.expires_in_days)
    except AccountError as exc:
        raise account_error(exc) from exc
    except TooManyTokensError as exc:
        return _too_many_tokens(exc)
    return Status(201, _issued(issued))


@router.get("/tokens", response=list[TokenInfoOut])
def tokens(request: HttpRequest) -> list[Any]:
    """The caller's tokens that can still authenticate (never their values)."""
    return list_tokens(request.user)


@router.delete("/tokens/{token_id}", response={204: None, 404: ErrorOut})
def delete_token(request: HttpRequest, token_id: int) -> Status[None]:
    """Revoke one of the caller's tokens; open sockets using it close within seconds."""
    try:
        revoke_token(request.user, token_id)
    except TokenNotFoundError as exc:
        raise ApiError(404, "no such token", "not_found") from exc
    return Status(204, None)


@router.post("/login", auth=None, response={200: UserOut, 401: ErrorOut, 429: ThrottledOut})
@decorate_view(csrf_protect)
def session_login(request: HttpRequest, payload: CredentialsIn) -> dict[str, Any] | HttpResponse:
    user = _authenticated(request, payload.username, payload.password)
    if isinstance(user, HttpResponse):
        return user
    login(request, user)
    return user_out(user)


@router.post("/logout", response={204: None})
def session_logout(request: HttpRequest) -> Status[None]:
    """End the session; with token auth, revoke the token that authenticated the call."""
    raw = _bearer(request)
    if raw:
        revoke_raw_token(request.user, raw)
    logout(request)
    return Status(204, None)
