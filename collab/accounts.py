"""Account services: registration, API tokens, and how a user is shown to others."""

from __future__ import annotations

import hashlib
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser
from django.contrib.auth.password_validation import validate_password
from django.db import IntegrityError, transaction
from django.utils import timezone

from collab.models import ApiToken, hash_token

User = get_user_model()

CURSOR_COLORS = (
    "#e6194b",
    "#3cb44b",
    "#4363d8",
    "#f58231",
    "#911eb4",
    "#46a3a3",
    "#f032e6",
    "#808000",
    "#9a6324",
    "#800000",
    "#000075",
    "#c71585",
)


class AccountError(ValueError):
    pass


def register_user(username: str, password: str, email: str = "") -> Any:
    username = username.strip()
    if not username or len(username) > 150:
        raise AccountError("username must be 1 to 150 characters")
    if User.objects.filter(username__iexact=username).exists():
        raise AccountError("username is taken")
    candidate = User(username=username, email=email)
    try:
        validate_password(password, candidate)
    except Exception as exc:
        raise AccountError("; ".join(getattr(exc, "messages", [str(exc)]))) from exc
    try:
        with transaction.atomic():
            return User.objects.create_user(username=username, password=password, email=email)
    except IntegrityError as exc:
        raise AccountError("username is taken") from exc


def issue_token(user: Any, name: str = "") -> str:
    raw = ApiToken.new_raw_value()
    ApiToken.objects.create(user=user, digest=hash_token(raw), name=name)
    return raw


def user_for_token(raw: str) -> Any:
    """The active user a raw token belongs to, or AnonymousUser."""
    if not raw or len(raw) > 200:
        return AnonymousUser()
    token = ApiToken.objects.select_related("user").filter(digest=hash_token(raw)).first()
    if token is None or not token.user.is_active:
        return AnonymousUser()
    now = timezone.now()
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 300:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user


def identity_of(user: Any) -> dict[str, Any]:
    """How a user appears to collaborators: id, display name and a stable colour."""
    name = user.get_full_name() or user.get_username()
    digest = hashlib.sha256(str(user.pk).encode()).digest()
    return {"id": user.pk, "name": name, "color": CURSOR_COLORS[digest[0] % len(CURSOR_COLORS)]}
