"""/readyz answers within its deadline and names the failed check, however a dependency fails.

The cache is the real Redis behind a TCP proxy; the proxy makes it hang (accepts, never
answers) or go away.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.test import Client, override_settings

from tests.conftest import required_env
from tests.e2e.faults import TcpProxy

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def redis_proxy() -> Iterator[TcpProxy]:
    parts = urlsplit(required_env("REDIS_URL"))
    with TcpProxy(parts.hostname or "127.0.0.1", parts.port or 6379) as proxy:
        yield proxy


@pytest.fixture
def proxied_cache(redis_proxy: TcpProxy) -> Iterator[None]:
    caches = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": redis_proxy.url_for(required_env("REDIS_URL")),
            "KEY_PREFIX": f"readyz-test-{uuid.uuid4().hex[:8]}",
        }
    }
    with override_settings(CACHES=caches):
        yield


def probe(within: float) -> tuple[float, int, dict[str, Any]]:
    """GET /readyz from another thread; fails if no answer comes within `within` seconds."""
    answer: list[Any] = []

    def get() -> None:
        answer.append(Client().get("/readyz"))

    started = time.monotonic()
    thread = threading.Thread(target=get, daemon=True)
    thread.start()
    thread.join(within)
    assert answer, f"/readyz did not answer within {within} s"
    response = answer[0]
    return time.monotonic() - started, response.status_code, json.loads(response.content)


def test_ready_when_everything_answers(proxied_cache: None) -> None:
    _, status, body = probe(5)
    assert status == 200 and body == {"ready": True, "checks": {"database": "ok", "cache": "ok"}}


def test_a_hung_cache_is_reported_within_the_deadline(proxied_cache: None, redis_proxy: TcpProxy) -> None:
    redis_proxy.blackhole()
    seconds, status, body = probe(5)
    assert status == 503 and seconds < 2.5
    assert body["checks"] == {"database": "ok", "cache": "error: timeout"}
    redis_proxy.restore()


def test_a_cache_that_is_gone_is_reported_at_once(proxied_cache: None, redis_proxy: TcpProxy) -> None:
    redis_proxy.cut()
    seconds, status, body = probe(5)
    assert status == 503 and seconds < 1
    assert body["checks"]["database"] == "ok" and body["checks"]["cache"].startswith("error: ")
