"""`/api/auth/password...`: change the password, and reset a forgotten one by e-mail."""

from __future__ import annotations

from django.contrib.auth import update_session_auth_hash
from django.http import HttpRequest, HttpResponse
from ninja import Field, Router, Schema, Status

from collab.accounts import throttle
from collab.accounts.api.common import ErrorOut, ThrottledOut, account_error, address, caller_id, throttled
from collab.accounts.credentials import (
    TOKEN_MAX,
    UID_MAX,
    change_password,
    confirm_password_reset,
    request_password_reset,
    reset_base_url,
)
from collab.accounts.errors import AccountError
from collab.accounts.sessions import current_session_id

router = Router(tags=["auth"])

RESET_ANSWER = "if an account has this address, an e-mail with a reset link is on its way"


class PasswordChangeIn(Schema):
    current_password: str
    new_password: str


class ResetRequestIn(Schema):
    email: str


class ResetAcceptedOut(Schema):
    detail: str


class ResetConfirmIn(Schema):
    uid: str = Field(max_length=UID_MAX)
    token: str = Field(max_length=TOKEN_MAX)
    new_password: str


@router.post("/password", response={204: None, 400: ErrorOut, 429: ThrottledOut})
def password_change(request: HttpRequest, payload: PasswordChangeIn) -> Status[None] | HttpResponse:
    """Change the password; this session stays signed in, every other one is ended."""
    keep = current_session_id(request)
    try:
        user = change_password(
            caller_id(request), payload.current_password, payload.new_password, address(request), keep
        )
    except throttle.ThrottledError as exc:
        return throttled(exc)
    except AccountError as exc:
        raise account_error(exc) from exc
    if keep is not None:
        update_session_auth_hash(request, user)
    return Status(204, None)


@router.post("/password-reset", auth=None, response={202: ResetAcceptedOut, 400: ErrorOut, 429: ThrottledOut})
def password_reset(request: HttpRequest, payload: ResetRequestIn) -> Status[dict[str, str]] | HttpResponse:
    """Mail a reset link; the same answer whether or not an account has the address."""
    try:
        request_password_reset(
            payload.email, address(request), reset_base_url(request.build_absolute_uri("/"))
        )
    except throttle.ThrottledError as exc:
        return throttled(exc)
    except AccountError as exc:
        raise account_error(exc) from exc
    return Status(202, {"detail": RESET_ANSWER})


@router.post("/password-reset/confirm", auth=None, response={204: None, 400: ErrorOut})
def password_reset_confirm(request: HttpRequest, payload: ResetConfirmIn) -> Status[None]:
    """Set a new password with a reset link's uid and token; every session of the user is ended."""
    try:
        confirm_password_reset(payload.uid, payload.token, payload.new_password)
    except AccountError as exc:
        raise account_error(exc) from exc
    return Status(204, None)
