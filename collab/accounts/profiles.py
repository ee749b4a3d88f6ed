"""A user's own settings: display name, e-mail, theme and avatar.

The display name is the user's `first_name` (so `get_full_name`, and with it
`identity_of`, reads it without another query); theme and avatar live in
collab.models.Profile, created on the first write. Avatars are files in Django's
default storage (`avatars/<user id>/<version>.<ext>`), served by the API
(`/api/users/{username}/avatar?v=<version>`), never by a public URL.
"""

from __future__ import annotations

import logging
import unicodedata
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.validators import EmailValidator
from django.db import IntegrityError, transaction

from collab.accounts.avatars import Avatar, process_avatar
from collab.accounts.credentials import verify_password
from collab.accounts.errors import AccountError
from collab.accounts.usernames import canonical_username
from collab.models import Profile, Theme

logger = logging.getLogger(__name__)
User = get_user_model()

NAME_MAX = 100
EMAIL_MAX = 254
INVISIBLE_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})


@dataclass(frozen=True)
class StoredAvatar:
    name: str  # in default_storage
    version: str

    @property
    def content_type(self) -> str:
        return "image/png" if self.name.endswith(".png") else "image/webp"


def profile_of(user: Any) -> Profile | None:
    """The user's profile row (None: all defaults); cached on the user once read."""
    try:
        profile: Profile = user.collab_profile
    except Profile.DoesNotExist:
        return None
    return profile


def profile_if_loaded(user: Any) -> Profile | None:
    """The profile when it was loaded with the user (select_related or read before), without a query."""
    if not User.collab_profile.related.is_cached(user):
        return None
    return profile_of(user)


def avatar_url(username: str, profile: Profile | None) -> str | None:
    if profile is None or not profile.avatar:
        return None
    return f"/api/users/{quote(username, safe='')}/avatar?v={profile.avatar_version}"


def theme_of(profile: Profile | None) -> str:
    return profile.theme if profile is not None else Theme.SYSTEM


def clean_name(raw: str) -> str:
    name = unicodedata.normalize("NFC", raw).strip()
    if not 1 <= len(name) <= NAME_MAX:
        raise AccountError(f"a name has 1 to {NAME_MAX} characters", "invalid_name")
    if any(unicodedata.category(char) in INVISIBLE_CATEGORIES for char in name):
        raise AccountError("a name must not contain control or invisible characters", "invalid_name")
    return name


def clean_email(raw: str, user_id: int | None = None) -> str:
    """A valid address ("" for none) not used by another account (case-insensitively)."""
    email = raw.strip()
    if not email:
        return ""
    if len(email) > EMAIL_MAX or "\x00" in email:
        raise AccountError("enter a valid e-mail address", "invalid_email")
    try:
        EmailValidator()(email)
    except ValidationError as exc:
        raise AccountError("enter a valid e-mail address", "invalid_email") from exc
    local, _, domain = email.rpartition("@")
    email = f"{local}@{domain.lower()}"
    others = User.objects.filter(email__iexact=email)
    if user_id is not None:
        others = others.exclude(pk=user_id)
    if others.exists():
        raise AccountError("this e-mail address is used by another account", "email_taken")
    return email


def email_taken_error() -> AccountError:
    return AccountError("this e-mail address is used by another account", "email_taken")


def update_profile(
    user_id: int,
    address: str,
    name: str | None = None,
    email: str | None = None,
    theme: str | None = None,
    current_password: str | None = None,
) -> Any:
    """Apply the given changes together, or none of them (AccountError says why)."""
    user = User.objects.get(pk=user_id)
    new_name = clean_name(name) if name is not None else None
    if theme is not None and theme not in Theme.values:
        raise AccountError("theme is system, light or dark", "invalid_theme")
    new_email = clean_email(email, user_id) if email is not None else None
    if new_email is not None and new_email != user.email:
        if not current_password:
            raise AccountError(
                "changing the e-mail address needs the current password", "current_password_required"
            )
        verify_password(user, current_password, address)
    try:
        with transaction.atomic():
            user = User.objects.select_for_update().get(pk=user_id)
            fields = []
            if new_name is not None:
                user.first_name, user.last_name = new_name, ""
                fields += ["first_name", "last_name"]
            if new_email is not None and new_email != user.email:
                user.email = new_email
                fields.append("email")
            if fields:
                user.save(update_fields=fields)
            if theme is not None:
                Profile.objects.update_or_create(user_id=user_id, defaults={"theme": theme})
    except IntegrityError as exc:
        raise email_taken_error() from exc
    return User.objects.select_related("collab_profile").get(pk=user_id)


def set_avatar(user_id: int, data: bytes) -> Profile:
    """Store a new avatar made from an uploaded image; the previous file is deleted."""
    avatar: Avatar = process_avatar(
        data,
        settings.COLLAB_AVATAR_MAX_BYTES,
        settings.COLLAB_AVATAR_MAX_PIXELS,
        settings.COLLAB_AVATAR_MAX_SIDE,
    )
    name = default_storage.save(
        f"avatars/{user_id}/{avatar.version}.{avatar.extension}", ContentFile(avatar.data)
    )
    try:
        with transaction.atomic():
            profile, _ = Profile.objects.select_for_update().get_or_create(user_id=user_id)
            previous = profile.avatar
            profile.avatar, profile.avatar_version = name, avatar.version
            profile.save(update_fields=["avatar", "avatar_version", "updated_at"])
            if previous and previous != name:
                transaction.on_commit(lambda: _delete_file(previous))
    except BaseException:
        _delete_file(name)
        raise
    return profile


def delete_avatar(user_id: int) -> None:
    with transaction.atomic():
        profile = Profile.objects.select_for_update().filter(user_id=user_id).first()
        if profile is None or not profile.avatar:
            return
        previous = profile.avatar
        profile.avatar, profile.avatar_version = "", ""
        profile.save(update_fields=["avatar", "avatar_version", "updated_at"])
        transaction.on_commit(lambda: _delete_file(previous))


def _delete_file(name: str) -> None:
    try:
        default_storage.delete(name)
    except OSError:
        logger.warning("could not delete the avatar file %s", name, exc_info=True)


def stored_avatar(username: str) -> StoredAvatar | None:
    """The avatar of the user with this (any-spelling) username, if they have one."""
    row = (
        Profile.objects.filter(user__username=canonical_username(username))
        .exclude(avatar="")
        .values_list("avatar", "avatar_version")
        .first()
    )
    return StoredAvatar(*row) if row is not None else None
