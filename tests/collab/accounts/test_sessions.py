"""Browser sessions: recorded at login, listed, ended one by one or all; sockets' credentials."""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

import pytest
from channels.db import database_sync_to_async
from django.conf import settings as django_settings
from django.contrib.auth import get_user_model
from django.contrib.sessions.models import Session
from django.db import connections
from django.test import Client
from django.utils import timezone

from collab.accounts import sessions
from collab.accounts.services import issue_token, socket_credentials_valid
from collab.models import UserSession
from collab.realtime.ws_auth import TokenOrSessionMiddleware
from tests.collab.accounts.helpers import browser, call, register, send, token_for

User = get_user_model()


@pytest.fixture(autouse=True)
def fast_hasher(settings: Any) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def listed(client: Client) -> list[dict[str, Any]]:
    answer = client.get("/api/auth/sessions")
    assert answer.status_code == 200, answer.content
    rows: list[dict[str, Any]] = answer.json()
    return rows


def signed_in(client: Client) -> bool:
    return bool(client.get("/api/auth/me").status_code == 200)


@pytest.mark.django_db
def test_login_records_the_session_and_lists_it_as_current() -> None:
    username = register(Client())
    laptop = browser(username, user_agent="Laptop/1.0 " + "x" * 400)
    phone = browser(username, user_agent="Phone/2.0")
    rows = listed(laptop)
    assert len(rows) == 2
    assert set(rows[0]) == {"id", "created_at", "last_seen_at", "user_agent", "ip", "current"}
    current = [row for row in rows if row["current"]]
    assert len(current) == 1 and current[0]["user_agent"].startswith("Laptop/1.0")
    assert len(current[0]["user_agent"]) == sessions.USER_AGENT_MAX
    assert current[0]["ip"].startswith("10.")
    assert [row["user_agent"] for row in listed(phone) if row["current"]] == ["Phone/2.0"]
    # Nothing reveals the session key.
    keys = set(UserSession.objects.values_list("session_key", flat=True))
    assert not any(key in laptop.get("/api/auth/sessions").content.decode() for key in keys)


@pytest.mark.django_db
def test_ending_another_session_signs_it_out_at_once() -> None:
    username = register(Client())
    laptop, phone = browser(username), browser(username)
    other = next(row["id"] for row in listed(laptop) if not row["current"])
    assert send(laptop, "delete", f"/api/auth/sessions/{other}").status_code == 204
    assert not signed_in(phone) and signed_in(laptop)
    assert len(listed(laptop)) == 1
    again = send(laptop, "delete", f"/api/auth/sessions/{other}")
    assert again.status_code == 404 and again.json()["code"] == "not_found"


@pytest.mark.django_db
def test_sessions_of_others_cannot_be_seen_or_ended() -> None:
    alice, bob = register(Client()), register(Client())
    alices = browser(alice)
    bobs = browser(bob)
    bob_session = listed(bobs)[0]["id"]
    assert all(row["id"] != bob_session for row in listed(alices))
    assert send(alices, "delete", f"/api/auth/sessions/{bob_session}").status_code == 404
    assert signed_in(bobs)


@pytest.mark.django_db
def test_ending_the_current_session_signs_out() -> None:
    username = register(Client())
    laptop = browser(username)
    mine = listed(laptop)[0]["id"]
    assert send(laptop, "delete", f"/api/auth/sessions/{mine}").status_code == 204
    assert not signed_in(laptop)
    assert not UserSession.objects.filter(pk=mine).exists()


@pytest.mark.django_db
def test_logout_all_ends_the_others_and_optionally_this_one() -> None:
    username = register(Client())
    laptop, phone, tablet = browser(username), browser(username), browser(username)
    answer = send(laptop, "post", "/api/auth/sessions/logout-all")
    assert answer.status_code == 200 and answer.json() == {"ended": 2}
    assert signed_in(laptop) and not signed_in(phone) and not signed_in(tablet)
    phone = browser(username)
    everything = send(laptop, "post", "/api/auth/sessions/logout-all", {"include_current": True})
    assert everything.json() == {"ended": 2}
    assert not signed_in(laptop) and not signed_in(phone)
    assert not UserSession.objects.filter(user__username=username).exists()


@pytest.mark.django_db
def test_token_callers_see_and_end_sessions_too() -> None:
    client = Client()
    username = register(client)
    token = token_for(client, username)
    laptop = browser(username)
    rows = call(client, "get", "/api/auth/sessions", token).json()
    assert len(rows) == 1 and rows[0]["current"] is False
    assert call(client, "post", "/api/auth/sessions/logout-all", token).json() == {"ended": 1}
    assert not signed_in(laptop)
    assert call(client, "get", "/api/auth/me", token).status_code == 200  # tokens are not sessions


@pytest.mark.django_db
def test_session_writes_need_csrf() -> None:
    username = register(Client())
    laptop = browser(username)
    assert laptop.post("/api/auth/sessions/logout-all").status_code == 403
    mine = listed(laptop)[0]["id"]
    assert laptop.delete(f"/api/auth/sessions/{mine}").status_code == 403
    assert signed_in(laptop)
    assert Client().get("/api/auth/sessions").status_code == 401


@pytest.mark.django_db
def test_logout_removes_the_record_and_expired_sessions_are_not_listed() -> None:
    username = register(Client())
    laptop, phone = browser(username), browser(username)
    assert send(phone, "post", "/api/auth/logout").status_code == 204
    assert len(listed(laptop)) == 1
    tablet = browser(username)
    tablet_key = tablet.cookies[django_settings.SESSION_COOKIE_NAME].value
    Session.objects.filter(session_key=tablet_key).update(expire_date=timezone.now() - timedelta(seconds=1))
    assert len(listed(laptop)) == 1
    from collab.accounts.session_store import SessionStore

    SessionStore.clear_expired()
    assert not UserSession.objects.filter(session_key=tablet_key).exists()


@pytest.mark.django_db
def test_last_seen_is_written_at_most_every_few_minutes() -> None:
    username = register(Client())
    laptop = browser(username)
    row = UserSession.objects.get(user__username=username)
    long_ago = timezone.now() - timedelta(hours=1)
    UserSession.objects.filter(pk=row.pk).update(last_seen_at=long_ago)
    laptop.get("/api/auth/me")
    assert UserSession.objects.get(pk=row.pk).last_seen_at == long_ago  # seen moments ago: not rewritten
    session = laptop.session
    session[sessions.SEEN_KEY] = int(time.time()) - sessions.TOUCH_SECONDS - 1
    session.save()
    laptop.get("/api/auth/me")
    assert UserSession.objects.get(pk=row.pk).last_seen_at > long_ago


@pytest.mark.django_db
def test_a_session_from_before_records_gets_one_on_its_next_request() -> None:
    username = register(Client())
    laptop = browser(username)
    UserSession.objects.all().delete()
    session = laptop.session
    del session[sessions.SESSION_ID_KEY]
    session.save()
    assert signed_in(laptop)
    rows = listed(laptop)
    assert len(rows) == 1 and rows[0]["current"] and rows[0]["user_agent"] == "TestBrowser/1.0"


@pytest.mark.django_db
def test_a_session_whose_record_was_deleted_is_signed_out_on_its_next_touch() -> None:
    username = register(Client())
    laptop = browser(username)
    UserSession.objects.all().delete()  # ended while a request was under way
    session = laptop.session
    session[sessions.SEEN_KEY] = 0
    session.save()
    assert not signed_in(laptop)


@pytest.mark.django_db
def test_a_key_change_keeps_the_record() -> None:
    username = register(Client())
    laptop = browser(username)
    before = listed(laptop)[0]["id"]
    session = laptop.session
    session.cycle_key()
    laptop.cookies[django_settings.SESSION_COOKIE_NAME] = session.session_key
    assert signed_in(laptop)
    assert [row["id"] for row in listed(laptop)] == [before]
    assert UserSession.objects.get(pk=before).session_key == session.session_key


@pytest.mark.django_db
def test_socket_credentials_follow_tokens_and_sessions(django_assert_num_queries: Any) -> None:
    username = register(Client())
    user = User.objects.get(username=username)
    laptop, phone = browser(username), browser(username)
    laptop_id = next(row["id"] for row in listed(laptop) if row["current"])
    phone_id = next(row["id"] for row in listed(phone) if row["current"])
    token = issue_token(user).token.pk
    credentials = {(user.pk, None, laptop_id), (user.pk, None, phone_id), (user.pk, token, None)}
    with django_assert_num_queries(3):
        assert socket_credentials_valid(credentials) == credentials
    sessions.end_session(user.pk, phone_id)
    other = register(Client())
    other_id = User.objects.get(username=other).pk
    assert socket_credentials_valid(credentials | {(other_id, None, laptop_id)}) == {
        (user.pk, None, laptop_id),
        (user.pk, token, None),
    }


async def scope_with_cookie(cookie: str, user_agent: str = "WS/1.0") -> Any:
    seen: dict[str, Any] = {}

    async def inner(scope: Any, receive: Any, send: Any) -> None:
        seen.update(scope)

    headers = [
        (b"cookie", f"{django_settings.SESSION_COOKIE_NAME}={cookie}".encode()),
        (b"user-agent", user_agent.encode()),
        (b"host", b"testserver"),
    ]
    scope = {
        "type": "websocket",
        "path": "/ws/docs/x",
        "query_string": b"",
        "headers": headers,
        "client": ("10.9.8.7", 5),
    }
    await TokenOrSessionMiddleware(inner)(scope, None, None)
    return seen


@pytest.mark.django_db(transaction=True)
async def test_a_session_socket_carries_its_session_id_and_the_profile() -> None:
    def setup() -> tuple[str, int, str]:
        username = register(Client())
        laptop = browser(username)
        call(laptop, "patch", "/api/auth/me", token_for(laptop, username), {"theme": "dark"})
        row = UserSession.objects.get(user__username=username)
        return laptop.cookies[django_settings.SESSION_COOKIE_NAME].value, row.pk, username

    try:
        cookie, session_id, username = await database_sync_to_async(setup)()
        scope = await scope_with_cookie(cookie)
        assert scope["auth_method"] == "session" and scope["session_id"] == session_id
        assert scope["user"].get_username() == username
        from collab.accounts.profiles import profile_if_loaded

        profile = profile_if_loaded(scope["user"])
        assert profile is not None and profile.theme == "dark"  # loaded: identity_of needs no query
        anonymous = await scope_with_cookie("not-a-session")
        assert anonymous["session_id"] is None and anonymous["auth_method"] is None

        def forget_record() -> str:
            # A session signed in before records existed: its socket gives it one.
            UserSession.objects.all().delete()
            store = sessions._session_store(cookie)
            del store[sessions.SESSION_ID_KEY]
            store.save()
            return cookie

        await database_sync_to_async(forget_record)()
        legacy = await scope_with_cookie(cookie, "Legacy/1.0")
        assert legacy["auth_method"] == "session" and isinstance(legacy["session_id"], int)
        recorded = await database_sync_to_async(UserSession.objects.get)(pk=legacy["session_id"])
        assert recorded.user_agent == "Legacy/1.0" and recorded.ip == "10.9.8.7"
    finally:
        await database_sync_to_async(connections.close_all)()
