"""`/api/auth/...` through Django's test client, websocket token auth, and log redaction."""

from __future__ import annotations

import io
import json
import logging
import uuid
from datetime import timedelta
from typing import Any

import pytest
from channels.db import database_sync_to_async
from daphne.access import AccessLogGenerator
from django.contrib.auth import get_user_model
from django.db import connections
from django.test import Client
from django.utils import timezone

from collab.conf.log_redaction import RedactSecretsFilter, redact
from collab.models import ApiToken
from collab.realtime.ws_auth import TokenOrSessionMiddleware

User = get_user_model()


@pytest.fixture(autouse=True)
def fast_hasher(settings: Any) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def address() -> str:
    raw = uuid.uuid4().bytes
    return f"10.{raw[0]}.{raw[1]}.{raw[2]}"


def call(client: Client, method: str, path: str, token: str | None = None, body: Any = None) -> Any:
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}
    data = json.dumps(body) if body is not None else None
    return getattr(client, method)(
        path, data=data, content_type="application/json", REMOTE_ADDR=address(), **headers
    )


def new_account(client: Client, prefix: str = "api") -> tuple[str, str]:
    username, password = f"{prefix}{uuid.uuid4().hex[:8]}", "Sturdy-pass-42"
    created = call(client, "post", "/api/auth/register", body={"username": username, "password": password})
    assert created.status_code == 201, created.content
    return username, password


def new_token(client: Client, username: str, password: str, **extra: Any) -> Any:
    return call(client, "post", "/api/auth/token", body={"username": username, "password": password, **extra})


@pytest.mark.django_db
def test_token_creation_keeps_its_contract_and_takes_a_name_and_lifetime() -> None:
    client = Client()
    username, password = new_account(client)
    plain = new_token(client, username, password)
    assert plain.status_code == 200
    body = plain.json()
    assert set(body) == {"token", "id", "name", "expires_at"}
    assert body["name"] == "api" and body["expires_at"] is None and len(body["token"]) >= 40

    named = new_token(client, username, password, name="ci runner", expires_in_days=7).json()
    assert named["name"] == "ci runner"
    expires = timezone.datetime.fromisoformat(named["expires_at"])
    assert timedelta(days=6, hours=23) < expires - timezone.now() <= timedelta(days=7)
    assert call(client, "get", "/api/auth/me", named["token"]).json()["username"] == username

    for bad in ({"expires_in_days": 0}, {"expires_in_days": 99999}, {"name": "x" * 101}):
        assert new_token(client, username, password, **bad).status_code in (400, 422)
    assert new_token(client, username, "wrong-pass-123").status_code == 401


@pytest.mark.django_db
def test_tokens_are_listed_without_values_and_revoked_by_id() -> None:
    client = Client()
    alice, alice_pw = new_account(client, "alice")
    bob, bob_pw = new_account(client, "bob")
    first = new_token(client, alice, alice_pw, name="laptop").json()
    second = new_token(client, alice, alice_pw, name="phone", expires_in_days=30).json()
    bobs = new_token(client, bob, bob_pw).json()

    listed = call(client, "get", "/api/auth/tokens", first["token"])
    assert listed.status_code == 200
    rows = listed.json()
    assert [row["name"] for row in rows] == ["phone", "laptop"]
    assert set(rows[0]) == {"id", "name", "created_at", "last_used_at", "expires_at"}
    assert first["token"] not in listed.content.decode()
    assert rows[1]["last_used_at"] is not None  # the listing call itself used it

    assert call(client, "delete", f"/api/auth/tokens/{bobs['id']}", first["token"]).status_code == 404
    assert call(client, "get", "/api/auth/me", bobs["token"]).status_code == 200
    assert call(client, "delete", f"/api/auth/tokens/{second['id']}", first["token"]).status_code == 204
    assert call(client, "get", "/api/auth/me", second["token"]).status_code == 401
    assert call(client, "delete", f"/api/auth/tokens/{second['id']}", first["token"]).status_code == 404
    assert call(client, "get", "/api/auth/tokens").status_code == 401


@pytest.mark.django_db
def test_logout_with_a_token_revokes_that_token_only() -> None:
    client = Client()
    username, password = new_account(client)
    one = new_token(client, username, password).json()["token"]
    two = new_token(client, username, password).json()["token"]
    assert call(client, "post", "/api/auth/logout", one).status_code == 204
    assert call(client, "get", "/api/auth/me", one).status_code == 401
    assert call(client, "get", "/api/auth/me", two).status_code == 200


@pytest.mark.django_db
def test_expired_tokens_do_not_authenticate() -> None:
    client = Client()
    username, password = new_account(client)
    issued = new_token(client, username, password, expires_in_days=1).json()
    assert call(client, "get", "/api/auth/me", issued["token"]).status_code == 200
    ApiToken.objects.filter(pk=issued["id"]).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert call(client, "get", "/api/auth/me", issued["token"]).status_code == 401


@pytest.mark.django_db
def test_the_token_cap_answers_409(settings: Any) -> None:
    settings.COLLAB_MAX_TOKENS_PER_USER = 2
    client = Client()
    username, password = new_account(client)
    tokens = [new_token(client, username, password).json() for _ in range(2)]
    refused = new_token(client, username, password)
    assert refused.status_code == 409
    assert refused.json()["code"] == "too_many_tokens" and "revoke" in refused.json()["detail"]
    call(client, "delete", f"/api/auth/tokens/{tokens[0]['id']}", tokens[1]["token"])
    assert new_token(client, username, password).status_code == 200


@pytest.mark.django_db
def test_usernames_are_normalised_at_registration_and_login() -> None:
    client = Client()
    password = "Sturdy-pass-42"
    name = f"Mixed{uuid.uuid4().hex[:6]}"
    created = call(client, "post", "/api/auth/register", body={"username": name, "password": password})
    assert created.status_code == 201 and created.json()["username"] == name.lower()
    full_width = "".join(chr(ord(c) + 0xFEE0) for c in name.upper())  # the full-width form
    taken = call(client, "post", "/api/auth/register", body={"username": full_width, "password": password})
    assert taken.status_code == 400 and "taken" in taken.json()["detail"]
    for typed in (name, name.upper(), full_width, f" {name} "):
        assert new_token(client, typed, password).status_code == 200, typed
    for bad in ("a/b", "a b", "a\u200bb", "a\u202eb"):
        refused = call(client, "post", "/api/auth/register", body={"username": bad, "password": password})
        assert refused.status_code == 400, bad


@pytest.mark.django_db
def test_weak_passwords_are_refused_at_registration() -> None:
    client = Client()
    for username, password in (("ivan", "ivan"), ("ivan2", "ivan2ivan2"), ("judy", "abcdefghij")):
        refused = call(
            client, "post", "/api/auth/register", body={"username": username, "password": password}
        )
        assert refused.status_code == 400, (username, password)


@pytest.mark.django_db
def test_the_openapi_schema_lists_the_token_calls() -> None:
    schema = Client().get("/api/openapi.json").json()
    assert "/api/auth/tokens" in schema["paths"]
    assert "delete" in schema["paths"]["/api/auth/tokens/{token_id}"]
    assert "429" in schema["paths"]["/api/auth/login"]["post"]["responses"]


# --- websocket authentication ----------------------------------------------------------


async def scope_after_auth(query: bytes = b"", headers: list[tuple[bytes, bytes]] | None = None) -> Any:
    seen: dict[str, Any] = {}

    async def inner(scope: Any, receive: Any, send: Any) -> None:
        seen.update(scope)

    scope = {"type": "websocket", "path": "/ws/docs/x", "query_string": query, "headers": headers or []}
    await TokenOrSessionMiddleware(inner)(scope, None, None)
    return seen


@pytest.mark.django_db(transaction=True)
async def test_websocket_scope_records_the_token_id() -> None:
    def setup() -> tuple[int, str, str, int]:
        user = User.objects.create_user(f"ws{uuid.uuid4().hex[:8]}", password="x")
        from collab.accounts.services import issue_token

        live, expired = issue_token(user), issue_token(user, expires_in_days=1)
        ApiToken.objects.filter(pk=expired.token.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
        return user.pk, live.raw, expired.raw, live.token.pk

    try:
        user_id, live, expired, token_id = await database_sync_to_async(setup)()
        scope = await scope_after_auth(f"token={live}".encode())
        assert scope["user"].pk == user_id and scope["auth_method"] == "token"
        assert scope["token_id"] == token_id
        header = await scope_after_auth(headers=[(b"authorization", f"Bearer {live}".encode())])
        assert header["token_id"] == token_id
        dead = await scope_after_auth(f"token={expired}".encode())
        assert not dead["user"].is_authenticated and dead["auth_method"] is None and dead["token_id"] is None
        anonymous = await scope_after_auth()
        assert anonymous["token_id"] is None and anonymous["auth_method"] is None
    finally:
        await database_sync_to_async(connections.close_all)()


# --- logs ------------------------------------------------------------------------------


def test_redaction_of_tokens_and_passwords() -> None:
    secret = "s3cr3t-VALUE_abc"
    samples = [
        f"WSCONNECT /ws/docs/abc?token={secret}&x=1",
        f"GET /api/documents?x=1&access_token={secret} 200",
        f'body {{"username": "alice", "password": "{secret}"}}',
        f"{{'password': '{secret}', 'username': 'alice'}}",
        f"Authorization: Bearer {secret}",
        f"headers=[(b'authorization', b'Bearer {secret}')]",
        f"password={secret}&username=alice",
        f'{{"current_password": "{secret}", "new_password": "{secret}"}}',
        f"Not Found: /reset-password/MQ/{secret}",
        f"GET /reset-password/MQ/{secret}/extra?x=1 404",
    ]
    for sample in samples:
        redacted = redact(sample)
        assert secret not in redacted, redacted
        assert "[redacted]" in redacted
    assert redact("GET /api/documents?limit=20 200") == "GET /api/documents?limit=20 200"
    assert "alice" in redact(samples[2])


def handlers_reached(name: str) -> list[logging.Handler]:
    found: list[logging.Handler] = []
    logger: logging.Logger | None = logging.getLogger(name)
    while logger is not None:
        found += [h for h in logger.handlers if not type(h).__module__.startswith("_pytest")]
        logger = logger.parent if logger.propagate else None
    return found


@pytest.mark.parametrize(
    "name", ["django.request", "django.channels.server", "daphne.server", "collab.x", "chat.x"]
)
def test_every_configured_handler_redacts(name: str) -> None:
    handlers = handlers_reached(name)
    assert handlers
    for handler in handlers:
        assert any(isinstance(f, RedactSecretsFilter) for f in handler.filters), (name, handler)


def test_the_configured_handlers_redact_log_records() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RedactSecretsFilter())
    logger = logging.getLogger("tests.redaction")
    logger.addHandler(handler)
    try:
        logger.warning("connect %s", "/ws/docs/1?token=abcdef123456")
        try:
            raise ValueError("bad password=hunter2-secret")
        except ValueError:
            logger.exception("failed for Bearer abcdefabcdef")
    finally:
        logger.removeHandler(handler)
    out = stream.getvalue()
    assert "abcdef123456" not in out and "hunter2-secret" not in out and "abcdefabcdef" not in out
    assert out.count("[redacted]") >= 3


def test_daphne_access_log_is_redacted() -> None:
    RedactSecretsFilter()  # what settings.LOGGING creates at start-up
    stream = io.StringIO()
    log = AccessLogGenerator(stream)
    log("websocket", "connecting", {"path": "/ws/docs/1?token=abcdef123456", "client": "127.0.0.1:5"})
    log(
        "http",
        "complete",
        {
            "path": "/api/x?token=abcdef123456",
            "status": 200,
            "method": "GET",
            "client": "1.2.3.4:5",
            "size": 2,
        },
    )
    out = stream.getvalue()
    assert "abcdef123456" not in out and out.count("[redacted]") == 2 and "/ws/docs/1" in out


# --- tokens from the settings page ----------------------------------------------------


@pytest.mark.django_db
def test_signed_in_callers_create_tokens_shown_once(settings: Any) -> None:
    client = Client()
    username, password = new_account(client)
    first = new_token(client, username, password).json()["token"]
    created = call(client, "post", "/api/auth/tokens", first, {"name": "ci", "expires_in_days": 30})
    assert created.status_code == 201, created.content
    body = created.json()
    assert set(body) == {"token", "id", "name", "expires_at", "created_at"}
    assert body["name"] == "ci" and body["expires_at"] is not None
    assert call(client, "get", "/api/auth/me", body["token"]).status_code == 200
    listed = call(client, "get", "/api/auth/tokens", first).json()
    assert body["id"] in [row["id"] for row in listed] and body["token"] not in json.dumps(listed)
    blank = call(client, "post", "/api/auth/tokens", first, {"name": "  "}).json()
    assert blank["name"] == "api" and blank["expires_at"] is None

    for bad, status, code in (
        ({"name": "x" * 101}, 422, "invalid_request"),
        ({"name": "bad\x07"}, 400, "invalid_token_name"),
        ({"name": "x", "expires_in_days": 0}, 422, "invalid_request"),
        ({}, 422, "invalid_request"),
    ):
        refused = call(client, "post", "/api/auth/tokens", first, bad)
        assert (refused.status_code, refused.json()["code"]) == (status, code), bad
    assert call(client, "post", "/api/auth/tokens", body={"name": "x"}).status_code == 401

    settings.COLLAB_MAX_TOKENS_PER_USER = ApiToken.objects.filter(user__username=username).count()
    capped = call(client, "post", "/api/auth/tokens", first, {"name": "one more"})
    assert capped.status_code == 409 and capped.json()["code"] == "too_many_tokens"


@pytest.mark.django_db
def test_token_creation_with_a_session_needs_csrf() -> None:
    from tests.collab.accounts.helpers import browser, send

    client = Client()
    username, password = new_account(client)
    session = browser(username, password)
    refused = session.post("/api/auth/tokens", data='{"name": "x"}', content_type="application/json")
    assert refused.status_code == 403
    created = send(session, "post", "/api/auth/tokens", {"name": "from settings"})
    assert created.status_code == 201 and created.json()["name"] == "from settings"
