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
    from channels_redis.pubsub import RedisPubSubChannelLayer

    layer = RedisPubSubChannelLayer(hosts=[redis_url], prefix=f"collab-test-{uuid.uuid4().hex[:10]}:")
    yield layer
    await layer.flush()  # pub/sub leaves no keys behind: this closes the connections
