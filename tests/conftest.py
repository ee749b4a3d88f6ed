"""Shared fixtures. Services the suite needs are required: a missing one fails the run."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator

import pytest
import redis


def required_env(name: str) -> str:
    value = os.environ.get(name, "")
    if not value:
        pytest.fail(f"{name} must point at a running service (scripts/test sets it)", pytrace=False)
    return value


@pytest.fixture(scope="session")
def redis_url() -> str:
    url = required_env("REDIS_URL")
    redis.Redis.from_url(url, socket_connect_timeout=5).ping()
    return url


@pytest.fixture
async def redis_layer(redis_url: str) -> AsyncIterator[object]:
    from collab.realtime.redis_layer import RedisPubSubLayer

    layer = RedisPubSubLayer(hosts=[redis_url], prefix=f"collab-test-{uuid.uuid4().hex[:10]}:")
    yield layer
    await layer.flush()  # pub/sub leaves no keys behind: this closes the connections


@pytest.fixture
async def worker_runtime() -> AsyncIterator[object]:
    """The worker runtime asgi.application runs on, for in-process socket tests, stopped after."""
    from collab.conf.runtime import build_worker_runtime
    from collab.realtime.runtime import start_runtime, stop_runtime

    runtime = await start_runtime(build_worker_runtime())
    yield runtime
    await stop_runtime()


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix: None) -> None:
    """Runs that share one PostgreSQL server at once need their own test database.

    COLLAB_TEST_DB_SUFFIX names it; by default a run on a Redis database other
    than the default 11 (a second run on this machine) gets `_r<N>`.
    """
    from django.conf import settings

    suffix = os.environ.get("COLLAB_TEST_DB_SUFFIX", "")
    if not suffix:
        database_number = os.environ.get("REDIS_URL", "").rstrip("/").rsplit("/", 1)[-1]
        if database_number.isdigit() and database_number != "11":
            suffix = f"r{database_number}"
    if suffix:
        test = settings.DATABASES["default"].setdefault("TEST", {})
        base = test.get("NAME") or f"test_{settings.DATABASES['default']['NAME']}"
        test["NAME"] = f"{base}_{suffix}"
