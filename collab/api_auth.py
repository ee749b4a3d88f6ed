"""`/api/auth/...`: registration, tokens, browser login/logout, who am I."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import authenticate, login, logout
from django.http import HttpRequest
from django.views.decorators.csrf import csrf_protect, ensure_csrf_cookie
from ninja import Router, Schema, Status
from ninja.decorators import decorate_view
from ninja.errors import HttpError

from collab.accounts import AccountError, identity_of, issue_token, register_user

router = Router(tags=["auth"])


class RegisterIn(Schema):
    username: str
    password: str
    email: str = ""


class CredentialsIn(Schema):
    username: str
    password: str


class UserOut(Schema):
    id: int
    username: str
    name: str = ""
    color: str = ""


class TokenOut(Schema):
    token: str


def _user_out(user: Any) -> dict[str, Any]:
    identity = identity_of(user)
    return {
        "id": user.pk,
        "username": user.get_username(),
        "name": identity["name"],
        "color": identity["color"],
    }


@router.post("/register", auth=None, response={201: UserOut})
def register(request: HttpRequest, payload: RegisterIn) -> Status[dict[str, Any]]:
    try:
        user = register_user(payload.username, payload.password, payload.email)
    except AccountError as exc:
        raise HttpError(400, str(exc)) from exc
    return Status(201, _user_out(user))


@router.post("/token", auth=None, response=TokenOut)
def token(request: HttpRequest, payload: CredentialsIn) -> dict[str, str]:
    user = authenticate(request, username=payload.username, password=payload.password)
    if user is None:
        raise HttpError(401, "invalid username or password")
    return {"token": issue_token(user, name="api")}


@router.post("/login", auth=None, response=UserOut)
@decorate_view(csrf_protect)
def session_login(request: HttpRequest, payload: CredentialsIn) -> dict[str, Any]:
    user = authenticate(request, username=payload.username, password=payload.password)
    if user is None:
        raise HttpError(401, "invalid username or password")
    login(request, user)
    return _user_out(user)


@router.post("/logout", response={204: None})
def session_logout(request: HttpRequest) -> Status[None]:
    logout(request)
    return Status(204, None)


@router.get("/me", response=UserOut)
@decorate_view(ensure_csrf_cookie)
def me(request: HttpRequest) -> dict[str, Any]:
    return _user_out(request.user)
