"""GET/PATCH /api/auth/me, registration's e-mail and error codes, identity_of."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from collab.accounts.services import CURSOR_COLORS, identity_of
from collab.models import Profile
from tests.collab.accounts.helpers import PASSWORD, browser, call, register, send, token_for

pytestmark = pytest.mark.django_db
User = get_user_model()


@pytest.fixture(autouse=True)
def fast_hasher(settings: Any) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def test_me_keeps_its_fields_and_adds_email_avatar_and_theme() -> None:
    client = Client()
    username = register(client, email="Me@Example.COM")
    body = call(client, "get", "/api/auth/me", token_for(client, username)).json()
    assert set(body) == {"id", "username", "name", "color", "email", "avatar_url", "theme"}
    assert body["username"] == username and body["name"] == username
    assert body["email"] == "Me@example.com"  # the domain is lower-cased
    assert body["avatar_url"] is None and body["theme"] == "system"
    assert body["color"] in CURSOR_COLORS


def test_patch_me_changes_name_and_theme_and_identity_of_reads_them() -> None:
    client = Client()
    username = register(client)
    token = token_for(client, username)
    changed = call(client, "patch", "/api/auth/me", token, {"name": "  Ada Lovelace ", "theme": "dark"})
    assert changed.status_code == 200, changed.content
    assert changed.json()["name"] == "Ada Lovelace" and changed.json()["theme"] == "dark"
    user = User.objects.get(username=username)
    identity = identity_of(user)
    assert identity["name"] == "Ada Lovelace" and identity["avatar_url"] is None
    assert set(identity) == {"id", "name", "color", "avatar_url"}
    assert call(client, "get", "/api/auth/me", token).json()["theme"] == "dark"
    # Only what is given changes.
    assert call(client, "patch", "/api/auth/me", token, {"theme": "light"}).json()["name"] == "Ada Lovelace"


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"name": ""}, 400, "invalid_name"),
        ({"name": "   "}, 400, "invalid_name"),
        ({"name": "x" * 101}, 400, "invalid_name"),
        ({"name": "bad\x07bell"}, 400, "invalid_name"),
        ({"name": "rtl\u202eoverride"}, 400, "invalid_name"),
        ({"name": "zero\u200bwidth"}, 400, "invalid_name"),
        ({"theme": "purple"}, 422, "invalid_request"),
        ({"email": "not-an-address", "current_password": PASSWORD}, 400, "invalid_email"),
        ({"email": "a@b.c\x00", "current_password": PASSWORD}, 400, "invalid_email"),
        ({"email": "new@example.com"}, 400, "current_password_required"),
        ({"email": "new@example.com", "current_password": "wrong-Pass-1"}, 400, "wrong_password"),
        ({"name": "Fine", "email": "broken"}, 400, "invalid_email"),
    ],
)
def test_patch_me_refuses_bad_input_and_changes_nothing(body: dict[str, Any], status: int, code: str) -> None:
    client = Client()
    username = register(client, email="old@example.com")
    token = token_for(client, username)
    refused = call(client, "patch", "/api/auth/me", token, body)
    assert refused.status_code == status, refused.content
    assert refused.json()["code"] == code
    user = User.objects.get(username=username)
    assert (user.first_name, user.email) == ("", "old@example.com")
    assert not Profile.objects.filter(user=user).exists()


def test_changing_the_email_needs_the_password_and_a_free_address() -> None:
    client = Client()
    register(client, email="taken@example.com")
    username = register(client, email="mine@example.com")
    token = token_for(client, username)
    taken = call(
        client, "patch", "/api/auth/me", token, {"email": "TAKEN@example.com", "current_password": PASSWORD}
    )
    assert taken.status_code == 400 and taken.json()["code"] == "email_taken"
    changed = call(
        client, "patch", "/api/auth/me", token, {"email": "new@example.com", "current_password": PASSWORD}
    )
    assert changed.status_code == 200 and changed.json()["email"] == "new@example.com"
    # The same address again (or a name change) needs no password.
    same = call(client, "patch", "/api/auth/me", token, {"email": "new@example.com", "name": "N"})
    assert same.status_code == 200
    cleared = call(client, "patch", "/api/auth/me", token, {"email": "", "current_password": PASSWORD})
    assert cleared.status_code == 200 and cleared.json()["email"] == ""


def test_wrong_current_passwords_are_throttled_like_logins(settings: Any) -> None:
    settings.COLLAB_AUTH_ACCOUNT_RATE = "3/900"
    client = Client()
    username = register(client, email="t@example.com")
    token = token_for(client, username)
    body = {"email": "x@example.com", "current_password": "Wrong-pass-1"}
    codes = [call(client, "patch", "/api/auth/me", token, body).status_code for _ in range(4)]
    assert codes == [400, 400, 400, 429]
    # The count is the login's: logging in is refused too, even with the right password.
    login = call(client, "post", "/api/auth/token", body={"username": username, "password": PASSWORD})
    assert login.status_code == 429


def test_patch_me_needs_csrf_with_a_session() -> None:
    client = Client()
    username = register(client)
    session = browser(username)
    no_csrf = session.patch("/api/auth/me", data='{"name": "X"}', content_type="application/json")
    assert no_csrf.status_code == 403
    assert send(session, "patch", "/api/auth/me", {"name": "X"}).json()["name"] == "X"
    assert call(Client(), "patch", "/api/auth/me", body={"name": "X"}).status_code == 401


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"username": "a b"}, "invalid_username"),
        ({"username": ""}, "invalid_username"),
        ({"username": "x" * 151}, "invalid_username"),
        ({"password": "short"}, "weak_password"),
        ({"email": "nope"}, "invalid_email"),
        ({"email": "TAKEN@Example.com"}, "email_taken"),
    ],
)
def test_registration_errors_have_codes(body: dict[str, Any], code: str) -> None:
    client = Client()
    register(client, email="taken@example.com")
    full = {"username": "fresh-name", "password": PASSWORD, **body}
    refused = call(client, "post", "/api/auth/register", body=full)
    assert refused.status_code == 400, refused.content
    assert refused.json()["code"] == code
    assert not User.objects.filter(username="fresh-name").exists()


def test_registration_of_a_taken_username_says_so() -> None:
    client = Client()
    username = register(client)
    again = call(
        client, "post", "/api/auth/register", body={"username": username.upper(), "password": PASSWORD}
    )
    assert again.status_code == 400 and again.json()["code"] == "username_taken"


def test_registration_stores_a_valid_email_and_allows_none() -> None:
    client = Client()
    with_email = register(client, email=" someone@example.org ")
    assert User.objects.get(username=with_email).email == "someone@example.org"
    register(client)
    register(client)  # several accounts without an address


def test_people_are_looked_up_in_batches_with_their_identity(django_assert_max_num_queries: Any) -> None:
    client = Client()
    alice, bob = register(client, "alice"), register(client, "bob")
    token = token_for(client, alice)
    call(client, "patch", "/api/auth/me", token, {"name": "Alice A."})
    query = f"username={alice.upper()}&username={bob}&username=nobody-here"
    with django_assert_max_num_queries(3):  # the token, then one query for everybody
        found = call(client, "get", f"/api/users?{query}", token)
    assert found.status_code == 200, found.content
    people = {person["username"]: person for person in found.json()}
    assert set(people) == {alice, bob}
    assert set(people[alice]) == {"username", "name", "color", "avatar_url"}
    assert people[alice]["name"] == "Alice A." and people[bob]["name"] == bob
    user = User.objects.get(username=alice)
    assert people[alice]["color"] == identity_of(user)["color"]
    assert call(client, "get", "/api/users", token).json() == []
    too_many = "&".join(f"username=u{i}" for i in range(101))
    refused = call(client, "get", f"/api/users?{too_many}", token)
    assert refused.status_code == 400 and refused.json()["code"] == "too_many_usernames"
    assert call(Client(), "get", f"/api/users?{query}").status_code == 401
