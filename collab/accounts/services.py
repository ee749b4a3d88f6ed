"""Account services: registration, credentials, API tokens, and how a user is shown to others."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import authenticate, get_user_model
from django.contrib.auth.models import AnonymousUser
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.utils import timezone

from collab.accounts import throttle
from collab.accounts.usernames import UsernameError, canonical_username, validate_username
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

TOKEN_NAME_MAX = 100
TOKEN_MAX_DAYS = 3650
DEFAULT_TOKEN_NAME = "api"


class AccountError(ValueError):
    pass


class InvalidCredentialsError(Exception):
    pass


class TooManyTokensError(Exception):
    pass


class TokenNotFoundError(Exception):
    pass


@dataclass(frozen=True)
class TokenAuth:
    """Who a raw token authenticates, and which token it is."""

    user: Any
    token_id: int


@dataclass(frozen=True)
class IssuedToken:
    raw: str
    token: ApiToken


def register_user(username: str, password: str, email: str = "") -> Any:
    """A new account; AccountError says why not (invalid or taken name, weak password)."""
    try:
        name = validate_username(username)
    except UsernameError as exc:
        raise AccountError(str(exc)) from exc
    if User.objects.filter(username=name).exists():
        raise AccountError("username is taken")
    candidate = User(username=name, email=email)
    try:
        validate_password(password, candidate)
    except ValidationError as exc:
        raise AccountError("; ".join(exc.messages)) from exc
    try:
        with transaction.atomic():
            return User.objects.create_user(username=name, password=password, email=email)
    except IntegrityError as exc:
        raise AccountError("username is taken") from exc


def register_account(username: str, password: str, email: str, address: str) -> Any:
    """register_user behind the brute-force throttle (refusals count as failures)."""
    attempt = throttle.begin("register", canonical_username(username)[:200], address)
    user = register_user(username, password, email)
    attempt.succeeded()
    return user


def check_credentials(username: str, password: str, address: str, request: HttpRequest | None = None) -> Any:
    """The active user these credentials belong to.

    Raises throttle.ThrottledError before checking anything when the account or the
    address has too many recent failures, InvalidCredentialsError when they are wrong.
    """
    name = canonical_username(username)
    attempt = throttle.begin("login", name[:200], address)
    user = authenticate(request, username=name, password=password)
    if user is None:
        raise InvalidCredentialsError
    attempt.succeeded()
    return user


def _live_token_rows() -> QuerySet[ApiToken]:
    return ApiToken.objects.filter(Q(expires_at__isnull=True) | Q(expires_at__gt=timezone.now()))


def _live_tokens(user_id: int) -> QuerySet[ApiToken]:
    return _live_token_rows().filter(user_id=user_id)


def _token_name(name: str | None) -> str:
    name = (name or "").strip() or DEFAULT_TOKEN_NAME
    if len(name) > TOKEN_NAME_MAX:
        raise AccountError(f"a token name has at most {TOKEN_NAME_MAX} characters")
    if any(not char.isprintable() for char in name):
        raise AccountError("a token name must not contain control characters")
    return name


def issue_token(user: Any, name: str | None = None, expires_in_days: int | None = None) -> IssuedToken:
    """A new token for `user`: its raw value (shown once) and its row.

    A user holds at most COLLAB_MAX_TOKENS_PER_USER tokens: expired ones are
    pruned first, then TooManyTokensError is raised. The user's row is locked so that
    parallel requests cannot pass the cap together.
    """
    name = _token_name(name)
    expires_at: datetime | None = None
    if expires_in_days is not None:
        if not 1 <= expires_in_days <= TOKEN_MAX_DAYS:
            raise AccountError(f"expires_in_days must be 1 to {TOKEN_MAX_DAYS}")
        expires_at = timezone.now() + timedelta(days=expires_in_days)
    cap = settings.COLLAB_MAX_TOKENS_PER_USER
    with transaction.atomic():
        User.objects.select_for_update().filter(pk=user.pk).values_list("pk").first()
        ApiToken.objects.filter(user_id=user.pk, expires_at__lte=timezone.now()).delete()
        if ApiToken.objects.filter(user_id=user.pk).count() >= cap:
            raise TooManyTokensError(
                f"this account already has {cap} tokens; revoke some (DELETE /api/auth/tokens/{{id}}) first"
            )
        raw = ApiToken.new_raw_value()
        token = ApiToken.objects.create(
            user_id=user.pk, digest=hash_token(raw), name=name, expires_at=expires_at
        )
    return IssuedToken(raw, token)


def list_tokens(user: Any) -> list[ApiToken]:
    """The user's tokens that can still authenticate, newest first."""
    return list(_live_tokens(user.pk).order_by("-created_at", "-pk"))


def revoke_token(user: Any, token_id: int) -> None:
    """Delete one of the user's tokens; TokenNotFoundError when it is not theirs (or gone)."""
    deleted, _ = ApiToken.objects.filter(pk=token_id, user_id=user.pk).delete()
    if not deleted:
        raise TokenNotFoundError


def revoke_raw_token(user: Any, raw: str) -> bool:
    """Delete the token with this raw value if it is the user's (logout with a token)."""
    if not raw or len(raw) > 200:
        return False
    deleted, _ = ApiToken.objects.filter(digest=hash_token(raw), user_id=user.pk).delete()
    return deleted > 0


def authenticate_token(raw: str) -> TokenAuth | None:
    """The active user and token id a raw token stands for, or None (unknown, expired, inactive)."""
    return authenticate_tokens([raw]).get(raw)


def authenticate_tokens(raws: Sequence[str]) -> dict[str, TokenAuth]:
    """`authenticate_token` for many raw tokens at once (one query, one update): the
    answer holds only those that authenticate."""
    digests = {hash_token(raw): raw for raw in raws if raw and len(raw) <= 200}
    if not digests:
        return {}
    now = timezone.now()
    tokens = (
        ApiToken.objects.select_related("user")
        .filter(digest__in=list(digests))
        .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now))
    )
    authenticated: dict[str, TokenAuth] = {}
    stale: list[int] = []
    for token in tokens:
        if not token.user.is_active:
            continue
        authenticated[digests[token.digest]] = TokenAuth(token.user, token.pk)
        if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 300:
            stale.append(token.pk)
    if stale:
        ApiToken.objects.filter(pk__in=stale).update(last_used_at=now)
    return authenticated


def user_for_token(raw: str) -> Any:
    """The active user a raw token belongs to, or AnonymousUser."""
    auth = authenticate_token(raw)
    return auth.user if auth is not None else AnonymousUser()


def socket_auth_valid(user_id: int, token_id: int | None) -> bool:
    """Whether an open socket's authentication still holds (one query).

    The user is still active and, for a token-authenticated socket, the token
    still exists (not revoked) and has not expired. Session sockets pass
    token_id=None (scope["token_id"]). Sync: call it from a database thread.
    """
    if token_id is None:
        return User.objects.filter(pk=user_id, is_active=True).exists()
    return _live_token_rows().filter(pk=token_id, user_id=user_id, user__is_active=True).exists()


def socket_auths_valid(pairs: Iterable[tuple[int, int | None]]) -> set[tuple[int, int | None]]:
    """socket_auth_valid for many sockets at once (two queries): the (user_id, token_id) pairs still valid."""
    pairs = set(pairs)
    if not pairs:
        return set()
    active = set(
        User.objects.filter(pk__in={user_id for user_id, _ in pairs}, is_active=True).values_list(
            "pk", flat=True
        )
    )
    token_ids = {token_id for _, token_id in pairs if token_id is not None}
    live: set[tuple[int, int]] = set()
    if token_ids:
        live = set(_live_token_rows().filter(pk__in=token_ids).values_list("user_id", "pk"))
    return {
        (user_id, token_id)
        for user_id, token_id in pairs
        if user_id in active and (token_id is None or (user_id, token_id) in live)
    }


def identity_of(user: Any) -> dict[str, Any]:
    """How a user appears to collaborators: id, display name and a stable colour."""
    name = user.get_full_name() or user.get_username()
    digest = hashlib.sha256(str(user.pk).encode()).digest()
    return {"id": user.pk, "name": name, "color": CURSOR_COLORS[digest[0] % len(CURSOR_COLORS)]}
