"""Password change (current password, throttle, sessions) and reset by e-mail (no enumeration)."""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.test import Client

from collab.accounts import mail as account_mail
from collab.models import UserSession
from tests.collab.accounts.helpers import PASSWORD, address, browser, call, register, send, token_for

pytestmark = pytest.mark.django_db
User = get_user_model()
NEW_PASSWORD = "Another-strong-77"
LINK = re.compile(r"(https?://[^/\s]+)/reset-password/([A-Za-z0-9_-]+)/([A-Za-z0-9-]+)")


@pytest.fixture(autouse=True)
def fast_hasher(settings: Any) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def signed_in(client: Client) -> bool:
    return bool(client.get("/api/auth/me").status_code == 200)


def test_changing_the_password_keeps_this_session_and_ends_the_others() -> None:
    username = register(Client())
    laptop, phone = browser(username), browser(username)
    token = token_for(Client(), username)
    changed = send(
        laptop, "post", "/api/auth/password", {"current_password": PASSWORD, "new_password": NEW_PASSWORD}
    )
    assert changed.status_code == 204, changed.content
    assert signed_in(laptop) and not signed_in(phone)
    assert [row["current"] for row in laptop.get("/api/auth/sessions").json()] == [True]
    assert call(Client(), "get", "/api/auth/me", token).status_code == 200  # API tokens stay
    assert User.objects.get(username=username).check_password(NEW_PASSWORD)
    assert browser(username, NEW_PASSWORD)


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"current_password": "Wrong-pass-1", "new_password": NEW_PASSWORD}, "wrong_password"),
        ({"current_password": PASSWORD, "new_password": "short"}, "weak_password"),
        ({"current_password": PASSWORD, "new_password": "password123"}, "weak_password"),
    ],
)
def test_a_refused_change_changes_nothing(body: dict[str, str], code: str) -> None:
    username = register(Client())
    laptop, phone = browser(username), browser(username)
    refused = send(laptop, "post", "/api/auth/password", body)
    assert refused.status_code == 400 and refused.json()["code"] == code
    assert User.objects.get(username=username).check_password(PASSWORD)
    assert signed_in(laptop) and signed_in(phone)


def test_the_password_change_needs_csrf_and_is_throttled(settings: Any) -> None:
    settings.COLLAB_AUTH_ACCOUNT_RATE = "2/900"
    username = register(Client())
    laptop = browser(username)
    body = '{"current_password": "x", "new_password": "y"}'
    assert laptop.post("/api/auth/password", body, content_type="application/json").status_code == 403
    wrong = {"current_password": "Wrong-pass-1", "new_password": NEW_PASSWORD}
    codes = [send(laptop, "post", "/api/auth/password", wrong).status_code for _ in range(3)]
    assert codes == [400, 400, 429]
    right = send(
        laptop, "post", "/api/auth/password", {"current_password": PASSWORD, "new_password": NEW_PASSWORD}
    )
    assert right.status_code == 429 and "Retry-After" in right
    assert User.objects.get(username=username).check_password(PASSWORD)


def test_a_token_caller_can_change_the_password_and_every_session_ends() -> None:
    client = Client()
    username = register(client)
    laptop = browser(username)
    token = token_for(client, username)
    body = {"current_password": PASSWORD, "new_password": NEW_PASSWORD}
    assert call(client, "post", "/api/auth/password", token, body).status_code == 204
    assert not signed_in(laptop)


def reset_mail_to(address: str) -> tuple[str, str, str, Any]:
    messages = [message for message in mail.outbox if address in message.to]
    assert messages, f"no mail to {address}"
    message = messages[-1]
    found = LINK.search(message.body)
    assert found is not None, message.body
    html = message.alternatives[0]
    assert html[1] == "text/html" and found.group(0) in html[0]
    return found.group(1), found.group(2), found.group(3), message


def test_a_reset_mail_holds_a_link_that_works_once(
    django_capture_on_commit_callbacks: Any, settings: Any
) -> None:
    settings.COLLAB_PUBLIC_URL = "https://collab.example.com"
    username = register(Client(), email="Reset.Me@Example.com")
    laptop = browser(username)
    with django_capture_on_commit_callbacks(execute=True):
        asked = call(Client(), "post", "/api/auth/password-reset", body={"email": "reset.me@EXAMPLE.com"})
    assert asked.status_code == 202
    origin, uid, token, message = reset_mail_to("Reset.Me@example.com")
    assert origin == "https://collab.example.com" and message.subject == "Reset your password"
    assert message.from_email == settings.DEFAULT_FROM_EMAIL
    body = {"uid": uid, "token": token, "new_password": NEW_PASSWORD}
    assert call(Client(), "post", "/api/auth/password-reset/confirm", body=body).status_code == 204
    assert User.objects.get(username=username).check_password(NEW_PASSWORD)
    assert not signed_in(laptop) and not UserSession.objects.filter(user__username=username).exists()
    again = call(
        Client(), "post", "/api/auth/password-reset/confirm", body={**body, "new_password": "Third-pass-99"}
    )
    assert again.status_code == 400 and again.json()["code"] == "invalid_reset_link"
    assert User.objects.get(username=username).check_password(NEW_PASSWORD)


def test_the_answer_is_the_same_whether_or_not_the_address_exists(
    django_capture_on_commit_callbacks: Any,
) -> None:
    register(Client(), email="known@example.com")
    with django_capture_on_commit_callbacks(execute=True):
        known = call(Client(), "post", "/api/auth/password-reset", body={"email": "known@example.com"})
        unknown = call(Client(), "post", "/api/auth/password-reset", body={"email": "unknown@example.com"})
    assert (known.status_code, known.content) == (unknown.status_code, unknown.content)
    assert known.status_code == 202
    assert [message.to for message in mail.outbox] == [["known@example.com"]]


def test_the_link_uses_the_request_origin_without_a_public_url(
    django_capture_on_commit_callbacks: Any,
) -> None:
    register(Client(), email="origin@example.com")
    with django_capture_on_commit_callbacks(execute=True):
        call(
            Client(),
            "post",
            "/api/auth/password-reset",
            body={"email": "origin@example.com"},
            HTTP_HOST="localhost",
        )
    origin, _, _, _ = reset_mail_to("origin@example.com")
    assert origin == "http://localhost"


def test_inactive_accounts_and_accounts_without_a_password_get_no_mail(
    django_capture_on_commit_callbacks: Any,
) -> None:
    username = register(Client(), email="gone@example.com")
    User.objects.filter(username=username).update(is_active=False)
    other = User.objects.create_user("nopassword", email="none@example.com")  # unusable password
    assert not other.has_usable_password()
    with django_capture_on_commit_callbacks(execute=True):
        for address in ("gone@example.com", "none@example.com"):
            answer = call(Client(), "post", "/api/auth/password-reset", body={"email": address})
            assert answer.status_code == 202
    assert mail.outbox == []


def test_reset_requests_are_throttled_per_address_and_per_email(settings: Any) -> None:
    settings.COLLAB_PASSWORD_RESET_RATE = "2/3600"
    settings.COLLAB_AUTH_ADDRESS_RATE = "4/900"
    tag = uuid.uuid4().hex[:8]  # the counters live in the shared cache: fresh names per run
    codes = [
        call(
            Client(), "post", "/api/auth/password-reset", body={"email": f"Same-{tag}@example.com"}
        ).status_code
        for _ in range(3)
    ]
    assert codes == [202, 202, 429]  # per e-mail address, from any client address
    remote = address()
    addresses = [
        call(
            Client(),
            "post",
            "/api/auth/password-reset",
            body={"email": f"a{i}-{tag}@example.com"},
            remote=remote,
        )
        for i in range(5)
    ]
    assert [answer.status_code for answer in addresses] == [202, 202, 202, 202, 429]
    assert addresses[-1].json()["code"] == "throttled" and int(addresses[-1]["Retry-After"]) > 0


@pytest.mark.parametrize("email", ["not-an-address", "", "x" * 300 + "@example.com", "a@b\x00.com"])
def test_a_malformed_address_is_refused(email: str) -> None:
    refused = call(Client(), "post", "/api/auth/password-reset", body={"email": email})
    assert refused.status_code == 400 and refused.json()["code"] == "invalid_email"


@pytest.mark.parametrize(
    ("uid", "token"),
    [
        ("", ""),
        ("MQ", "not-a-token"),
        ("!!!", "abc-def"),
        ("OTk5OTk5OTk5OTk5OTk5OTk5OTk5OTk5", "abc-def"),  # an id far beyond any
        ("YWJj", "abc-def"),  # "abc": not a number
        ("x" * 33, "abc"),
    ],
)
def test_invalid_links_are_refused(uid: str, token: str) -> None:
    body = {"uid": uid, "token": token, "new_password": NEW_PASSWORD}
    refused = call(Client(), "post", "/api/auth/password-reset/confirm", body=body)
    assert refused.status_code in (400, 422), refused.content
    assert refused.json()["code"] in ("invalid_reset_link", "invalid_request")


def test_a_valid_link_with_a_weak_password_changes_nothing() -> None:
    username = register(Client(), email="weak@example.com")
    user = User.objects.get(username=username)
    uid, token = account_mail.reset_link(user, "http://x").rsplit("/", 2)[1:]
    weak = call(
        Client(),
        "post",
        "/api/auth/password-reset/confirm",
        body={"uid": uid, "token": token, "new_password": "123"},
    )
    assert weak.status_code == 400 and weak.json()["code"] == "weak_password"
    assert User.objects.get(pk=user.pk).check_password(PASSWORD)
    ok = call(
        Client(),
        "post",
        "/api/auth/password-reset/confirm",
        body={"uid": uid, "token": token, "new_password": NEW_PASSWORD},
    )
    assert ok.status_code == 204


def test_the_reset_link_stops_working_when_the_email_changes() -> None:
    username = register(Client(), email="before@example.com")
    user = User.objects.get(username=username)
    uid, token = account_mail.reset_link(user, "http://x").rsplit("/", 2)[1:]
    User.objects.filter(pk=user.pk).update(email="after@example.com")
    body = {"uid": uid, "token": token, "new_password": NEW_PASSWORD}
    refused = call(Client(), "post", "/api/auth/password-reset/confirm", body=body)
    assert refused.status_code == 400 and refused.json()["code"] == "invalid_reset_link"


def test_the_password_change_needs_a_signed_in_caller() -> None:
    body = {"current_password": PASSWORD, "new_password": NEW_PASSWORD}
    refused = call(Client(), "post", "/api/auth/password", body=body)
    assert refused.status_code == 401 and refused.json()["code"] == "unauthenticated"
    forged = call(Client(), "post", "/api/auth/password", "not-a-token", body)
    assert forged.status_code == 401
