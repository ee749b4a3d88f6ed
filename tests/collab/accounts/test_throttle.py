"""Brute-force throttle on login, token creation and registration, on the real cache (Redis)."""

from __future__ import annotations

import json
import socket
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client
from django_redis.cache import RedisCache

from collab.accounts.services import register_user, throttle

pytestmark = pytest.mark.django_db

PASSWORD = "Correct-horse-9"


@pytest.fixture(autouse=True)
def fast_hasher(settings: Any) -> None:
    # Every failed attempt hashes a password; the default hasher takes ~0.3 s per hash.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def unique(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex[:10]}"


def fresh_address() -> str:
    raw = uuid.uuid4().bytes
    return f"10.{raw[0]}.{raw[1]}.{raw[2]}"


def post(client: Client, path: str, body: dict[str, Any], address: str, **headers: str) -> Any:
    return client.post(
        path, data=json.dumps(body), content_type="application/json", REMOTE_ADDR=address, **headers
    )


def login(client: Client, username: str, password: str, address: str, path: str = "/api/auth/login") -> Any:
    return post(client, path, {"username": username, "password": password}, address)


def register(client: Client, username: str, address: str) -> Any:
    return post(client, "/api/auth/register", {"username": username, "password": PASSWORD}, address)


def assert_throttled(response: Any) -> int:
    assert response.status_code == 429, response.content
    body = response.json()
    assert body["code"] == "throttled" and body["detail"]
    retry_after: int = body["retry_after"]
    assert 0 < retry_after <= 900
    assert response["Retry-After"] == str(retry_after)
    return retry_after


def test_default_limits_are_ten_per_account_and_fifty_per_address() -> None:
    assert throttle.account_rate() == throttle.Rate(10, 900)
    assert throttle.address_rate() == throttle.Rate(50, 900)


def test_account_locked_after_ten_failures_even_with_the_right_password_from_elsewhere() -> None:
    name = unique("bf")
    register_user(name, PASSWORD)
    client = Client()
    for _ in range(10):  # each from another address: the account counter alone locks
        assert login(client, name, "wrong-password-1", fresh_address()).status_code == 401
    assert_throttled(login(client, name, PASSWORD, fresh_address()))
    assert_throttled(login(client, name, PASSWORD, fresh_address(), "/api/auth/token"))
    # another account is not affected
    other = unique("bf")
    register_user(other, PASSWORD)
    assert login(client, other, PASSWORD, fresh_address()).status_code == 200


def test_login_and_token_creation_share_the_account_counter_and_variants_of_the_name_too() -> None:
    name = unique("bf")
    register_user(name, PASSWORD)
    client = Client()
    for attempt in range(10):
        path = "/api/auth/token" if attempt % 2 else "/api/auth/login"
        typed = name.upper() if attempt % 3 else name
        assert login(client, typed, "nope-nope-1", fresh_address(), path).status_code == 401
    assert_throttled(login(client, name, PASSWORD, fresh_address(), "/api/auth/token"))


def test_success_resets_the_account_count() -> None:
    name = unique("bf")
    register_user(name, PASSWORD)
    client = Client()
    for _round in range(3):
        for _ in range(9):
            assert login(client, name, "wrong-password-1", fresh_address()).status_code == 401
        assert login(client, name, PASSWORD, fresh_address()).status_code == 200


def test_address_locked_after_its_limit_across_accounts(settings: Any) -> None:
    settings.COLLAB_AUTH_ADDRESS_RATE = "5/900"
    address = fresh_address()
    client = Client()
    for _ in range(5):
        assert login(client, unique("nobody"), "wrong-password-1", address).status_code == 401
    name = unique("bf")
    register_user(name, PASSWORD)
    assert_throttled(login(client, name, PASSWORD, address))
    assert_throttled(login(client, name, PASSWORD, address, "/api/auth/token"))
    assert_throttled(register(client, unique("n"), address))
    # the same account from another address is fine, and successes do not use up the address
    assert login(client, name, PASSWORD, fresh_address()).status_code == 200
    other = fresh_address()
    for _ in range(10):
        assert login(client, name, PASSWORD, other).status_code == 200


def test_registration_refusals_count_per_address_and_per_name(settings: Any) -> None:
    settings.COLLAB_AUTH_ADDRESS_RATE = "4/900"
    taken = unique("reg")
    register_user(taken, PASSWORD)
    client = Client()
    address = fresh_address()
    for _ in range(4):
        assert register(client, taken, address).status_code == 400
    assert_throttled(register(client, unique("reg"), address))
    # per name: ten refusals for one name lock registering that name from anywhere
    name = unique("reg")
    register_user(name, PASSWORD)
    for _ in range(10):
        assert register(client, name, fresh_address()).status_code == 400
    assert_throttled(register(client, name, fresh_address()))
    # registering is not logging in: the account can still log in
    assert login(client, name, PASSWORD, fresh_address()).status_code == 200


def test_successful_registrations_do_not_use_up_the_address(settings: Any) -> None:
    settings.COLLAB_AUTH_ADDRESS_RATE = "3/900"
    client = Client()
    address = fresh_address()
    for _ in range(6):
        created = register(client, unique("ok"), address)
        assert created.status_code == 201, created.content


def test_x_forwarded_for_is_ignored_unless_the_peer_is_a_trusted_proxy(settings: Any) -> None:
    settings.COLLAB_AUTH_ADDRESS_RATE = "3/900"
    client = Client()
    proxy = fresh_address()
    for _ in range(3):  # a spoofed header per attempt does not escape the address counter
        spoofed = {"HTTP_X_FORWARDED_FOR": fresh_address()}
        body = {"username": unique("x"), "password": "wrong-password-1"}
        assert post(client, "/api/auth/login", body, proxy, **spoofed).status_code == 401
    assert_throttled(login(client, unique("x"), "wrong-password-1", proxy))

    settings.COLLAB_TRUSTED_PROXIES = [f"{proxy}/32"]
    client_ip = fresh_address()
    forwarded = {"HTTP_X_FORWARDED_FOR": f"{fresh_address()}, {client_ip}"}  # left part: client-controlled
    assert (
        post(
            client,
            "/api/auth/login",
            {"username": unique("x"), "password": "wrong-pass-1"},
            proxy,
            **forwarded,
        ).status_code
        == 401
    )


def test_client_address_rules(settings: Any) -> None:
    meta = {"REMOTE_ADDR": "192.0.2.1", "HTTP_X_FORWARDED_FOR": "203.0.113.9"}
    assert throttle.client_address(meta) == "192.0.2.1"
    settings.COLLAB_TRUSTED_PROXIES = ["192.0.2.0/24", "10.0.0.1"]
    assert throttle.client_address(meta) == "203.0.113.9"
    chain = {"REMOTE_ADDR": "192.0.2.1", "HTTP_X_FORWARDED_FOR": "6.6.6.6, 203.0.113.9, 10.0.0.1"}
    assert throttle.client_address(chain) == "203.0.113.9"
    junk = {"REMOTE_ADDR": "192.0.2.1", "HTTP_X_FORWARDED_FOR": "junk"}
    assert throttle.client_address(junk) == "192.0.2.1"
    untrusted = {"REMOTE_ADDR": "198.51.100.7", "HTTP_X_FORWARDED_FOR": "1.2.3.4"}
    assert throttle.client_address(untrusted) == "198.51.100.7"
    assert throttle.address_bucket("2001:db8:1:2:3:4:5:6") == throttle.address_bucket("2001:db8:1:2::ffff")
    assert throttle.address_bucket("2001:db8:1:2::1") != throttle.address_bucket("2001:db8:1:3::1")
    assert throttle.address_bucket("::ffff:192.0.2.1") == "192.0.2.1"


def test_counters_on_the_real_cache_count_in_one_window() -> None:
    store = throttle.Counters()
    key = unique("auth-throttle-test:")
    assert [store.incr(key, 60) for _ in range(3)] == [1, 2, 3]
    assert cache.get(key) == 3
    store.decr(key)
    assert cache.get(key) == 2
    assert 0 < store.window_end(key, 60) - time.time() <= 60
    store.delete(key)
    assert cache.get(key) is None


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port  # nothing listens there once the socket is closed


@pytest.fixture(params=[False, True], ids=["errors-raised", "errors-ignored"])
def unreachable_cache(request: pytest.FixtureRequest) -> Iterator[throttle.Counters]:
    # django-redis either raises on a dead server or, with IGNORE_EXCEPTIONS, answers None
    options = {"SOCKET_CONNECT_TIMEOUT": 1, "SOCKET_TIMEOUT": 1, "IGNORE_EXCEPTIONS": request.param}
    dead = RedisCache(f"redis://127.0.0.1:{closed_port()}/0", {"OPTIONS": options})
    saved = throttle.counters
    throttle.counters = throttle.Counters(backend=dead)
    yield throttle.counters
    throttle.counters = saved


def test_an_unreachable_cache_falls_back_to_counting_in_process(
    unreachable_cache: throttle.Counters, settings: Any
) -> None:
    name = unique("down")
    register_user(name, PASSWORD)
    client = Client()
    for _ in range(10):
        assert login(client, name, "wrong-password-1", fresh_address()).status_code == 401
    assert_throttled(login(client, name, PASSWORD, fresh_address()))
    assert_throttled(login(client, name, PASSWORD, fresh_address(), "/api/auth/token"))
    other = unique("down")
    register_user(other, PASSWORD)
    assert login(client, other, PASSWORD, fresh_address()).status_code == 200


def test_the_fallback_retries_the_cache_after_a_pause() -> None:
    dead = RedisCache(f"redis://127.0.0.1:{closed_port()}/0", {"OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 1}})
    store = throttle.Counters(backend=dead)
    key = unique("auth-throttle-test:")
    assert store.incr(key, 60) == 1
    assert not store._cache_usable()  # no connection attempt per request during an outage
    assert store.incr(key, 60) == 2
    store._down_until = 0.0  # the pause is over
    store._backend = cache  # and the cache is back
    assert store.incr(key, 60) == 1  # counted in the cache again
    store.delete(key)


def test_rate_parsing() -> None:
    assert throttle.Rate.parse("10/900") == throttle.Rate(10, 900)
    for bad in ("10", "0/900", "10/0", "x/y"):
        with pytest.raises(ValueError):
            throttle.Rate.parse(bad)
