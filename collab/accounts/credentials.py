"""Passwords: checking the current one, changing it, and resetting it by e-mail.

Checking a current password (password change, e-mail change) goes through the same
brute-force throttle and the same per-account count as login: guesses through either
path share one budget. A reset request counts every request (not only failures) per
client address (COLLAB_AUTH_ADDRESS_RATE) and per e-mail address
(COLLAB_PASSWORD_RESET_RATE), and answers the same whether or not an account has
that address (the e-mail is sent once the request's transaction has committed, and a
failure to send is logged, never answered). Reset links hold Django's token
(`default_token_generator`), which stops working once the password changes, after
PASSWORD_RESET_TIMEOUT, or when the account's e-mail changes; neither the token nor
the link is ever logged.
"""

from __future__ import annotations

import functools
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator
from django.db import transaction
from django.utils.http import urlsafe_base64_decode

from collab.accounts import mail, throttle
from collab.accounts.errors import AccountError
from collab.accounts.sessions import end_sessions

User = get_user_model()

UID_MAX = 32
TOKEN_MAX = 128
RESET_ACTION = "password-reset"


def verify_password(user: Any, password: str, address: str) -> None:
    """The user's current password, checked behind the login throttle (ThrottledError, AccountError)."""
    attempt = throttle.begin("login", user.get_username()[:200], address)
    if not user.check_password(password):
        raise AccountError("the current password is wrong", "wrong_password")
    attempt.succeeded()


def validated_password(password: str, user: Any) -> str:
    try:
        validate_password(password, user)
    except ValidationError as exc:
        raise AccountError("; ".join(exc.messages), "weak_password") from exc
    return password


def change_password(
    user_id: int, current_password: str, new_password: str, address: str, keep_session_id: int | None
) -> Any:
    """Set a new password after checking the current one and end every session of the user but
    `keep_session_id` (the caller's, which then needs update_session_auth_hash)."""
    user = User.objects.get(pk=user_id)
    verify_password(user, current_password, address)
    validated_password(new_password, user)
    with transaction.atomic():
        user.set_password(new_password)
        user.save(update_fields=["password"])
        end_sessions(user_id, keep_id=keep_session_id)
    return user


def reset_base_url(request_origin: str) -> str:
    return str(settings.COLLAB_PUBLIC_URL or request_origin).rstrip("/")


def request_password_reset(email: str, address: str, base_url: str) -> None:
    """Mail a reset link to the active account with this address, if there is one."""
    email = email.strip()
    try:
        if len(email) > 254:
            raise ValidationError("too long")
        EmailValidator()(email)
    except ValidationError as exc:
        raise AccountError("enter a valid e-mail address", "invalid_email") from exc
    throttle.begin(RESET_ACTION, email.casefold(), address, limit=reset_rate())
    for user in User.objects.filter(email__iexact=email, is_active=True):
        if user.has_usable_password():  # as Django's reset form: not accounts without a password
            transaction.on_commit(functools.partial(mail.send_password_reset, user.pk, base_url))


def reset_rate() -> throttle.Rate:
    return throttle.Rate.parse(settings.COLLAB_PASSWORD_RESET_RATE)


def _invalid_link() -> AccountError:
    return AccountError("this password reset link is invalid or has expired", "invalid_reset_link")


def user_for_reset(uid: str, token: str) -> Any:
    """The user a reset link belongs to while it is valid, else AccountError invalid_reset_link."""
    if not uid or not token or len(uid) > UID_MAX or len(token) > TOKEN_MAX:
        raise _invalid_link()
    try:
        raw = urlsafe_base64_decode(uid).decode("ascii")
    except (ValueError, UnicodeDecodeError) as exc:
        raise _invalid_link() from exc
    if not raw.isascii() or not raw.isdigit() or len(raw) > 18:
        raise _invalid_link()
    user = User.objects.filter(pk=int(raw), is_active=True).first()
    if user is None or not default_token_generator.check_token(user, token):
        raise _invalid_link()
    return user


def confirm_password_reset(uid: str, token: str, new_password: str) -> None:
    """Set the new password of a valid link's user and end every session of theirs."""
    with transaction.atomic():
        user = user_for_reset(uid, token)
        validated_password(new_password, user)
        user.set_password(new_password)
        user.save(update_fields=["password"])
        end_sessions(user.pk)
