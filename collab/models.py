"""Platform models: API tokens for non-browser clients, profiles, signed-in browser sessions."""

from __future__ import annotations

import hashlib
import secrets

from django.conf import settings
from django.db import models


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


class ApiToken(models.Model):
    """A bearer token; only its SHA-256 is stored, the raw value is shown once.

    Revoking deletes the row: a revoked token can never authenticate again,
    nothing has to remember to check a flag, and the per-user cap counts rows.
    An expired token stays until its owner creates another (which prunes it) or
    revokes it; it never authenticates.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    digest = models.CharField(max_length=64, unique=True)
    name = models.CharField(max_length=100, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"token {self.pk} of {self.user_id}"

    @staticmethod
    def new_raw_value() -> str:
        return secrets.token_urlsafe(32)


class Theme(models.TextChoices):
    SYSTEM = "system"
    LIGHT = "light"
    DARK = "dark"


class Profile(models.Model):
    """What a user sets about themselves beyond Django's user: theme and avatar.

    The display name is the user's `first_name` (what `get_full_name` and so
    `collab.accounts.services.identity_of` read); created on first write, a user
    without one has the defaults.
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, primary_key=True, related_name="collab_profile"
    )
    theme = models.CharField(max_length=10, choices=Theme.choices, default=Theme.SYSTEM)
    # The avatar's name in default_storage ("" when none) and its content hash (ETag, URL version).
    avatar = models.CharField(max_length=200, blank=True, default="")
    avatar_version = models.CharField(max_length=32, blank=True, default="")
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"profile of {self.user_id}"


class UserSession(models.Model):
    """One signed-in browser session (collab.accounts.sessions): listed and ended by its user.

    `session_key` is the Django session's key (the same secret the session table
    holds); it never leaves the server: the API names a session by `id`.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    session_key = models.CharField(max_length=40, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_seen_at = models.DateTimeField()
    user_agent = models.CharField(max_length=300, blank=True, default="")
    ip = models.CharField(max_length=64, blank=True, default="")

    class Meta:
        indexes = [models.Index(fields=["user", "last_seen_at"], name="usersession_user_seen")]

    def __str__(self) -> str:
        return f"session {self.pk} of {self.user_id}"
