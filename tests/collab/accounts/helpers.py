"""Helpers of the account tests: REST calls through Django's test client, accounts, sessions."""

from __future__ import annotations

import json
import uuid
from typing import Any

from django.test import Client

PASSWORD = "Sturdy-pass-42"


def address() -> str:
    raw = uuid.uuid4().bytes
    return f"10.{raw[0]}.{raw[1]}.{raw[2]}"


def call(
    client: Client,
    method: str,
    path: str,
    token: str | None = None,
    body: Any = None,
    remote: str | None = None,
    **extra: Any,
) -> Any:
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}
    data = json.dumps(body) if body is not None else None
    return getattr(client, method)(
        path, data=data, content_type="application/json", REMOTE_ADDR=remote or address(), **headers, **extra
    )


def register(client: Client, prefix: str = "u", email: str = "", password: str = PASSWORD) -> str:
    username = f"{prefix}{uuid.uuid4().hex[:8]}"
    body = {"username": username, "password": password, "email": email}
    created = call(client, "post", "/api/auth/register", body=body)
    assert created.status_code == 201, created.content
    return username


def token_for(client: Client, username: str, password: str = PASSWORD) -> str:
    issued = call(client, "post", "/api/auth/token", body={"username": username, "password": password})
    assert issued.status_code == 200, issued.content
    token: str = issued.json()["token"]
    return token


def browser(username: str, password: str = PASSWORD, user_agent: str = "TestBrowser/1.0") -> Client:
    """A client signed in with a session, sending its CSRF token like the app does."""
    client = Client(enforce_csrf_checks=True, HTTP_USER_AGENT=user_agent)
    client.get("/api/auth/me")  # 401, but sets the CSRF cookie
    signed_in = client.post(
        "/api/auth/login",
        data=json.dumps({"username": username, "password": password}),
        content_type="application/json",
        HTTP_X_CSRFTOKEN=client.cookies["csrftoken"].value,
        REMOTE_ADDR=address(),
    )
    assert signed_in.status_code == 200, signed_in.content
    return client


def send(client: Client, method: str, path: str, body: Any = None, **extra: Any) -> Any:
    """A session request with the CSRF header (what the front end sends)."""
    data = json.dumps(body) if body is not None else None
    return getattr(client, method)(
        path,
        data=data,
        content_type="application/json",
        HTTP_X_CSRFTOKEN=client.cookies["csrftoken"].value,
        REMOTE_ADDR=address(),
        **extra,
    )
