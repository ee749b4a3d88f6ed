"""Every API error is JSON {"detail", "code"}; a database failure is 503 database_unavailable.

Through Django's test client on the real database. Failures outside ninja are produced by a
middleware that raises, placed inside ApiErrorMiddleware like Django's own middleware.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import psycopg
import pytest
from django.db import OperationalError
from django.http import HttpRequest, HttpResponse
from django.test import Client, RequestFactory, override_settings
from psycopg_pool import PoolTimeout

from collab.conf.api import api
from collab.realtime import errors

pytestmark = pytest.mark.django_db

RAISING = "tests.collab.realtime.test_errors.RaisingMiddleware"


class RaisingMiddleware:
    """Raises what the request's X-Raise header names, as a broken middleware would."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        kind = request.headers.get("X-Raise")
        if kind == "database":
            raise OperationalError("server closed the connection unexpectedly")
        if kind == "bug":
            raise RuntimeError("a bug")
        return self.get_response(request)


def with_raising_middleware() -> list[str]:
    from django.conf import settings

    middleware = list(settings.MIDDLEWARE)
    middleware.insert(middleware.index("collab.conf.middleware.ApiErrorMiddleware") + 1, RAISING)
    return middleware


def body_of(response: Any) -> dict[str, Any]:
    assert response["Content-Type"].startswith("application/json"), (response.status_code, response.content)
    decoded: dict[str, Any] = json.loads(response.content)
    return decoded


@pytest.fixture
def client() -> Client:
    return Client(raise_request_exception=False)


def test_unknown_api_path_and_wrong_method_are_json(client: Client) -> None:
    missing = client.get("/api/no/such/thing")
    assert missing.status_code == 404
    assert body_of(missing) == {"detail": "not found", "code": "not_found"}
    wrong = client.delete("/api/auth/register")
    assert wrong.status_code == 405
    assert body_of(wrong)["code"] == "method_not_allowed"
    assert "POST" in wrong["Allow"]
    # Outside /api/ Django's pages stay as they are.
    assert not client.get("/no/such/page/at/all").get("Content-Type", "").startswith("application/json")


def test_ninja_errors_carry_a_code(client: Client) -> None:
    unauthenticated = client.get("/api/documents")
    assert unauthenticated.status_code == 401
    assert body_of(unauthenticated) == {"detail": "authentication required", "code": "unauthenticated"}
    invalid = client.post("/api/auth/register", data="{}", content_type="application/json")
    assert invalid.status_code == 422
    assert body_of(invalid)["code"] == "invalid_request" and isinstance(body_of(invalid)["detail"], list)


@pytest.mark.parametrize("debug", [False, True])
def test_failures_outside_ninja_are_json(client: Client, debug: bool) -> None:
    with override_settings(MIDDLEWARE=with_raising_middleware(), DEBUG=debug):
        down = client.get("/api/documents", HTTP_X_RAISE="database")
        assert down.status_code == 503
        assert body_of(down)["code"] == "database_unavailable"
        assert down["Retry-After"] == str(errors.RETRY_AFTER_SECONDS)
        bug = client.get("/api/documents", HTTP_X_RAISE="bug")
        assert bug.status_code == 500
        assert body_of(bug) == {"detail": "internal server error", "code": "internal_error"}
        assert b"a bug" not in bug.content  # no traceback or message to the client


@pytest.mark.parametrize(
    ("exc", "status", "code"),
    [
        (OperationalError("connection lost"), 503, "database_unavailable"),
        (PoolTimeout("couldn't get a connection after 10.00 sec"), 503, "database_unavailable"),
        (psycopg.OperationalError("terminating connection"), 503, "database_unavailable"),
        (RuntimeError("a bug"), 500, "internal_error"),
    ],
)
def test_unhandled_exceptions_in_views(exc: Exception, status: int, code: str) -> None:
    request = RequestFactory().get("/api/documents")
    response = api.on_exception(request, exc)
    assert response.status_code == status
    assert body_of(response)["code"] == code


def test_wrapped_database_errors_are_recognised() -> None:
    try:
        try:
            raise PoolTimeout("couldn't get a connection")
        except PoolTimeout as inner:
            raise ValueError("while loading") from inner
    except ValueError as outer:
        assert errors.is_database_unavailable(outer)
    assert not errors.is_database_unavailable(ValueError("no"))


@pytest.mark.django_db
def test_a_body_over_the_upload_limit_is_413_json_not_500() -> None:
    from django.conf import settings
    from django.contrib.auth import get_user_model

    from collab.accounts.services import issue_token

    user = get_user_model().objects.create_user("bigbody", password="x")
    client = Client(HTTP_AUTHORIZATION=f"Bearer {issue_token(user, name='t').raw}")
    body = b'{"title": "' + b"x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 10) + b'"}'
    response = client.post("/api/documents", data=body, content_type="application/json")
    assert response.status_code == 413
    assert response.json()["code"] == "too_large"
