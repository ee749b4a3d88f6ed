"""The REST contract, through Django's test client on the real database."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from documents.models import DocumentUpdate

pytestmark = pytest.mark.django_db


def call(client: Client, method: str, path: str, token: str | None = None, body: Any = None) -> Any:
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}
    data = json.dumps(body) if body is not None else None
    return getattr(client, method)(path, data=data, content_type="application/json", **headers)


def register_and_token(client: Client, username: str) -> str:
    response = call(
        client, "post", "/api/auth/register", body={"username": username, "password": f"pw-{username}-9x"}
    )
    assert response.status_code == 201, response.content
    response = call(
        client, "post", "/api/auth/token", body={"username": username, "password": f"pw-{username}-9x"}
    )
    assert response.status_code == 200
    token: str = response.json()["token"]
    return token


@pytest.fixture
def client() -> Client:
    return Client()


def test_register_rejects_duplicates_and_weak_passwords(client: Client) -> None:
    register_and_token(client, "alice")
    again = call(client, "post", "/api/auth/register", body={"username": "ALICE", "password": "pw-x-long-9x"})
    assert again.status_code == 400 and "taken" in again.json()["detail"]
    weak = call(client, "post", "/api/auth/register", body={"username": "bob", "password": "123"})
    assert weak.status_code == 400


def test_token_requires_valid_credentials(client: Client) -> None:
    register_and_token(client, "alice")
    bad = call(client, "post", "/api/auth/token", body={"username": "alice", "password": "wrong"})
    assert bad.status_code == 401


def test_every_document_call_requires_authentication(client: Client) -> None:
    assert call(client, "get", "/api/documents").status_code == 401
    assert call(client, "get", "/api/documents", token="not-a-token").status_code == 401
    assert call(client, "post", "/api/documents", body={"title": "x"}).status_code == 401


def test_document_lifecycle_and_roles(client: Client) -> None:
    alice = register_and_token(client, "alice")
    bob = register_and_token(client, "bob")
    created = call(client, "post", "/api/documents", alice, {"title": "Plan"})
    assert created.status_code == 201
    document = created.json()
    assert document["role"] == "owner" and document["title"] == "Plan"
    path = f"/api/documents/{document['id']}"

    assert call(client, "get", path, bob).status_code == 403
    assert call(client, "get", "/api/documents", bob).json() == []
    assert (
        call(client, "post", f"{path}/members", bob, {"username": "bob", "role": "owner"}).status_code == 403
    )

    added = call(client, "post", f"{path}/members", alice, {"username": "bob", "role": "viewer"})
    assert added.status_code == 201 and added.json() == {"username": "bob", "role": "viewer"}
    assert call(client, "get", path, bob).json()["role"] == "viewer"
    assert call(client, "patch", path, bob, {"title": "Mine"}).status_code == 403
    members = call(client, "get", f"{path}/members", bob).json()
    assert {m["username"]: m["role"] for m in members} == {"alice": "owner", "bob": "viewer"}

    call(client, "post", f"{path}/members", alice, {"username": "bob", "role": "editor"})
    renamed = call(client, "patch", path, bob, {"title": "Renamed"})
    assert renamed.status_code == 200 and renamed.json()["title"] == "Renamed"
    assert call(client, "delete", path, bob).status_code == 403

    assert call(client, "delete", f"{path}/members/bob", alice).status_code == 204
    assert call(client, "get", path, bob).status_code == 403
    assert call(client, "delete", path, alice).status_code == 204
    assert call(client, "get", path, alice).status_code == 404


def test_member_errors_are_specific(client: Client) -> None:
    alice = register_and_token(client, "alice")
    document = call(client, "post", "/api/documents", alice, {"title": "Plan"}).json()
    path = f"/api/documents/{document['id']}/members"
    assert call(client, "post", path, alice, {"username": "ghost", "role": "editor"}).status_code == 404
    assert call(client, "post", path, alice, {"username": "alice", "role": "admin"}).status_code == 400
    last_owner = call(client, "delete", f"{path}/alice", alice)
    assert last_owner.status_code == 409
    demote = call(client, "post", path, alice, {"username": "alice", "role": "viewer"})
    assert demote.status_code == 409


def test_unknown_and_malformed_ids(client: Client) -> None:
    alice = register_and_token(client, "alice")
    assert (
        call(client, "get", "/api/documents/00000000-0000-0000-0000-000000000000", alice).status_code == 404
    )
    assert call(client, "get", "/api/documents/not-a-uuid", alice).status_code in (404, 422)
    assert call(client, "post", "/api/documents", alice, {"title": ""}).status_code == 400
    assert call(client, "post", "/api/documents", alice, {"nope": 1}).status_code == 422


def test_state_returns_the_stored_update(client: Client) -> None:
    from tests.collab.engine.test_room import text_of, text_update

    alice = register_and_token(client, "alice")
    document = call(client, "post", "/api/documents", alice, {"title": "Plan"}).json()
    DocumentUpdate.objects.create(document_id=document["id"], data=text_update("stored text", client_id=9))
    response = call(client, "get", f"/api/documents/{document['id']}/state", alice)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/octet-stream"
    assert text_of(response.content) == "stored text"


def test_session_login_logout_and_csrf(client: Client) -> None:
    register_and_token(client, "alice")
    csrf_client = Client(enforce_csrf_checks=True)
    credentials = {"username": "alice", "password": "pw-alice-9x"}
    # login itself needs the CSRF token (no login CSRF); the page hands out the cookie
    assert call(csrf_client, "post", "/api/auth/login", body=credentials).status_code == 403
    csrf_client.get("/")
    token = csrf_client.cookies["csrftoken"].value
    login = csrf_client.post(
        "/api/auth/login",
        data=json.dumps(credentials),
        content_type="application/json",
        HTTP_X_CSRFTOKEN=token,
    )
    assert login.status_code == 200 and login.json()["username"] == "alice"
    assert call(csrf_client, "get", "/api/auth/me").json()["username"] == "alice"
    # a cookie-authenticated write without the CSRF token is refused
    assert call(csrf_client, "post", "/api/documents", body={"title": "x"}).status_code == 403


def test_openapi_schema_lists_the_contract(client: Client) -> None:
    schema = client.get("/api/openapi.json").json()
    for path in (
        "/api/auth/register",
        "/api/auth/token",
        "/api/documents",
        "/api/documents/{document_id}",
        "/api/documents/{document_id}/members",
        "/api/documents/{document_id}/members/{username}",
        "/api/documents/{document_id}/state",
    ):
        assert path in schema["paths"], path


def titles(client: Client, token: str, query: str = "") -> list[str]:
    response = call(client, "get", f"/api/documents{query}", token)
    assert response.status_code == 200, response.content
    return [document["title"] for document in response.json()]


def test_the_list_filters_by_title_and_sorts(client: Client) -> None:
    token = register_and_token(client, "alice")
    for title in ("beta notes", "Alpha plan", "gamma", "alpha ideas", "100% done", "under_score"):
        assert call(client, "post", "/api/documents", token, {"title": title}).status_code == 201
    assert titles(client, token)[:2] == ["under_score", "100% done"]  # recent first, as before
    assert titles(client, token, "?sort=recent") == titles(client, token)
    assert titles(client, token, "?sort=title") == [
        "100% done",
        "alpha ideas",
        "Alpha plan",
        "beta notes",
        "gamma",
        "under_score",
    ]
    assert titles(client, token, "?q=ALPHA&sort=title") == ["alpha ideas", "Alpha plan"]
    assert titles(client, token, "?q=%20notes%20") == ["beta notes"]
    assert titles(client, token, "?q=%25") == ["100% done"]  # LIKE wildcards are literal
    assert titles(client, token, "?q=_") == ["under_score"]
    assert titles(client, token, "?q=nothing") == []
    assert titles(client, token, "?q=" + "x" * 301) == []
    refused = call(client, "get", "/api/documents?sort=size", token)
    assert refused.status_code == 422 and refused.json()["code"] == "invalid_request"


def test_documents_carry_their_owner_in_one_query(client: Client, django_assert_max_num_queries: Any) -> None:
    alice = register_and_token(client, "alice")
    bob = register_and_token(client, "bob")
    created = call(client, "post", "/api/documents", alice, {"title": "Shared"}).json()
    assert created["owner"] == "alice"
    call(
        client,
        "post",
        f"/api/documents/{created['id']}/members",
        alice,
        {"username": "bob", "role": "editor"},
    )
    for index in range(5):
        call(client, "post", "/api/documents", bob, {"title": f"Bob's {index}"})
    with django_assert_max_num_queries(2):  # the token, then the list with its owners
        listed = call(client, "get", "/api/documents", bob).json()
    owners = {document["title"]: document["owner"] for document in listed}
    assert owners["Shared"] == "alice" and owners["Bob's 3"] == "bob"
    assert call(client, "get", f"/api/documents/{created['id']}", bob).json()["owner"] == "alice"
    renamed = call(client, "patch", f"/api/documents/{created['id']}", bob, {"title": "Renamed"}).json()
    assert renamed["owner"] == "alice"


def test_titles_longer_than_the_model_allows_are_refused(client: Client) -> None:
    token = register_and_token(client, "alice")
    schema = client.get("/api/openapi.json").json()
    title_schema = schema["components"]["schemas"]["DocumentIn"]["properties"]["title"]
    assert title_schema["maxLength"] == 300 and title_schema["minLength"] == 1
    assert call(client, "post", "/api/documents", token, {"title": "x" * 300}).status_code == 201
    for title in ("x" * 301, "", "   "):
        refused = call(client, "post", "/api/documents", token, {"title": title})
        assert refused.status_code == 400 and refused.json()["code"] == "invalid_title"
    assert len(titles(client, token)) == 1
