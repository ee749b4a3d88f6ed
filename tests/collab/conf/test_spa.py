"""The single-page app's routes: known ones answer index.html with 200, every other page path
index.html with 404 (the app shows "page not found"); unknown /api/ paths stay JSON 404s."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.test import Client

INDEX = b"<!doctype html><title>app</title><div id=root></div>"

KNOWN = [
    "/",
    "/login",
    "/register",
    "/forgot-password",
    "/reset-password/MQ/c4k2-0123456789abcdef",
    "/settings",
    "/settings/security",
    "/settings/",
    "/docs/0b7e4a0e-0000-4000-8000-000000000000",
    "/chat",
    "/chat/12",
    "/login/",
]
UNKNOWN = [
    "/nope",
    "/docs",
    "/docs/a/b",
    "/settings/a/b",
    "/reset-password/only-uid",
    "/chat/1/2/3",
    "/favicon.ico",
    "/apix",
    "/%E2%9C%93",
]


@pytest.fixture(params=[False, True], ids=["debug-off", "debug-on"])
def app(request: Any, settings: Any, tmp_path: Path) -> Client:
    settings.DEBUG = request.param
    (tmp_path / "index.html").write_bytes(INDEX)
    settings.FRONTEND_DIST = tmp_path
    return Client()


@pytest.mark.parametrize("path", KNOWN)
def test_known_routes_answer_the_app(app: Client, path: str) -> None:
    response = app.get(path)
    assert response.status_code == 200, path
    assert response.content == INDEX and response["Content-Type"].startswith("text/html")
    assert "csrftoken" in response.cookies


@pytest.mark.parametrize("path", UNKNOWN)
def test_unknown_pages_answer_the_app_with_404(app: Client, path: str) -> None:
    response = app.get(path)
    assert response.status_code == 404, path
    assert response.content == INDEX  # never Django's (technical) 404 page


def test_other_methods_on_unknown_pages_are_plain_404s(app: Client) -> None:
    response = app.post("/nope")
    assert response.status_code == 404 and response.content != INDEX


@pytest.mark.parametrize("path", ["/api/nope", "/api/auth/nope", "/api/documents/x/y/z", "/api/"])
def test_unknown_api_paths_are_json_404s(app: Client, path: str) -> None:
    response = app.get(path)
    assert response.status_code == 404, path
    assert response.json() == {"detail": "not found", "code": "not_found"}


def test_static_and_admin_paths_are_not_the_app(app: Client) -> None:
    assert app.get("/static/nope.js").content != INDEX
    assert app.get("/static/nope.js").status_code == 404
    admin = app.get("/admin")
    assert admin.status_code in (301, 302) and admin.content != INDEX


def test_without_a_build_unknown_pages_are_still_404(settings: Any, tmp_path: Path) -> None:
    settings.FRONTEND_DIST = tmp_path  # no index.html
    assert Client().get("/nope").status_code == 404
    assert Client().get("/login").status_code == 503
