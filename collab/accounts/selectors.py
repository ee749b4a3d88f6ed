"""Reads of accounts: users by their (any-spelling) username."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model

from collab.accounts.usernames import canonical_username


def user_named(username: str) -> Any | None:
    """The user with this username, in any spelling that normalises to it; None if none."""
    return get_user_model().objects.filter(username=canonical_username(username)).first()


def users_named(usernames: list[str]) -> dict[str, Any]:
    """Each given spelling -> its user, for the names that exist."""
    wanted = {name: canonical_username(name) for name in usernames}
    people = get_user_model().objects.filter(username__in=set(wanted.values()))
    by_canonical = {person.get_username(): person for person in people}
    return {name: by_canonical[key] for name, key in wanted.items() if key in by_canonical}


def user_by_id(user_id: int) -> Any:
    """The user with this id and their profile (one query); DoesNotExist if none."""
    return get_user_model().objects.select_related("collab_profile").get(pk=user_id)


def users_with_profiles(usernames: list[str]) -> list[Any]:
    """The users these (any-spelling) names belong to, with their profiles (one query), by name."""
    wanted = {canonical_username(name) for name in usernames}
    rows = get_user_model().objects.filter(username__in=wanted).select_related("collab_profile")
    return list(rows.order_by("username"))
