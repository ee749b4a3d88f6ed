"""Account services: registration, credentials, API tokens, and how a user is shown to others."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import authenticate, get_user_model
from django.contrib.auth.models import AnonymousUser
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.utils import timezone

from collab.accounts import sessions, throttle
from collab.accounts.credentials import validated_password
from collab.accounts.errors import AccountError
from collab.accounts.profiles import avatar_url, clean_email, email_taken_error, profile_if_loaded, profile_of
from collab.accounts.usernames import UsernameError, canonical_username, validate_username
from collab.models import ApiToken, hash_token

User = get_user_model()

# One colour per person (cursors, avatars, chat): white text on each keeps WCAG AA's 4.5:1.
CURSOR_COLORS = (
    "#c62828",
    "#2e7d32",
    "#1565c0",
    "#bf360c",
    "#6a1b9a",
    "#00695c",
    "#ad1457",
    "#5d4037",
    "#283593",
    "#0277bd",
    "#37474f",
    "#8e24aa",
)

TOKEN_NAME_MAX = 100
TOKEN_MAX_DAYS = 3650
DEFAULT_TOKEN_NAME = "api"


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
    """A new account; AccountError says why not (its code: invalid_username, username_taken,
    invalid_email, email_taken, weak_password)."""
    try:
        name = validate_username(username)
    except UsernameError as exc:
        raise AccountError(str(exc), "invalid_username") from exc
    if User.objects.filter(username=name).exists():
        raise AccountError("username is taken", "username_taken")
    email = clean_email(email)
    candidate = User(username=name, email=email)
    validated_password(password, candidate)
    try:
        with transaction.atomic():
            return User.objects.create_user(username=name, password=password, email=email)
    except IntegrityError as exc:
        if email and User.objects.filter(email__iexact=email).exists():
            raise email_taken_error() from exc
        raise AccountError("username is taken", "username_taken") from exc


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
        raise AccountError(f"a token name has at most {TOKEN_NAME_MAX} characters", "invalid_token_name")
    if any(not char.isprintable() for char in name):
        raise AccountError("a token name must not contain control characters", "invalid_token_name")
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
            raise AccountError(f"expires_in_days must be 1 to {TOKEN_MAX_DAYS}", "invalid_expiry")
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
        ApiToken.objects.select_related("user", "user__collab_profile")
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
    valid = socket_credentials_valid((user_id, token_id, None) for user_id, token_id in pairs)
    return {(user_id, token_id) for user_id, token_id, _ in valid}


# What a socket authenticated with: (user id, API token id or None, session record id or None).
SocketCredential = tuple[int, int | None, int | None]


def socket_credentials_valid(credentials: Iterable[SocketCredential]) -> set[SocketCredential]:
    """Which sockets' authentication still holds (two or three queries for any number).

    The user is active; a token socket's token is neither revoked nor expired; a session
    socket's session (its record, collab.accounts.sessions) is still signed in. A session
    socket without a record id (opened before records existed) is checked for the user only.
    """
    credentials = set(credentials)
    if not credentials:
        return set()
    active = set(
        User.objects.filter(pk__in={user_id for user_id, _, _ in credentials}, is_active=True).values_list(
            "pk", flat=True
        )
    )
    token_ids = {token_id for _, token_id, _ in credentials if token_id is not None}
    live: set[tuple[int, int]] = set()
    if token_ids:
        live = set(_live_token_rows().filter(pk__in=token_ids).values_list("user_id", "pk"))
    signed_in = sessions.live_sessions(
        {(user_id, session_id) for user_id, _, session_id in credentials if session_id is not None}
    )
    return {
        (user_id, token_id, session_id)
        for user_id, token_id, session_id in credentials
        if user_id in active
        and (token_id is None or (user_id, token_id) in live)
        and (session_id is None or (user_id, session_id) in signed_in)
    }


def identity_of(user: Any) -> dict[str, Any]:
    """How a user appears to collaborators: id, display name, a stable colour and the avatar's URL.

    The colour comes from the user's id alone (sha256), so it never changes. The avatar is
    read from the profile loaded with the user (token and session sockets load it); in an
    event loop an unloaded profile is not queried (avatar_url is then None).
    """
    name = user.get_full_name() or user.get_username()
    digest = hashlib.sha256(str(user.pk).encode()).digest()
    profile = profile_if_loaded(user) if _in_event_loop() else profile_of(user)
    return {
        "id": user.pk,
        "name": name,
        "color": CURSOR_COLORS[digest[0] % len(CURSOR_COLORS)],
        "avatar_url": avatar_url(user.get_username(), profile),
    }


def _in_event_loop() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


def socket_session_user(session: Any, user_agent: str, ip: str) -> tuple[Any, int | None]:
    """The user a websocket's session signs in, with their profile loaded (for identity_of),
    and the session's record id. Sync: call it from a database thread."""
    user, session_id = sessions.socket_session_user(session, user_agent, ip)
    if user.is_authenticated:
        profile_of(user)
    return user, session_id
