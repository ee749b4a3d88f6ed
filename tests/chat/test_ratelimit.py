"""The chat rate limit when its shared cache or the database fails.

Real services: a Redis server this test starts on a free port (and stops, to make
the outage), never the machine's shared one; PostgreSQL, where a lock held by
another connection plus `lock_timeout` makes a post fail the way a database in
trouble does.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.cache import cache
from django.db import OperationalError, connection, transaction

from chat import services
from chat.models import ChatMessage, ChatRoom
from chat.services import ratelimit
from tests.chat.ownredis import OwnRedis
from tests.chat.test_services import room_with, user


@pytest.fixture
def own_redis(settings: Any) -> Iterator[OwnRedis]:
    server = OwnRedis()
    server.start()
    settings.CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": server.url,
            "KEY_PREFIX": "ratelimit-test",
            "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 1, "SOCKET_TIMEOUT": 1},
        }
    }
    try:
        yield server
    finally:
        cache.close()
        server.stop()


@pytest.fixture(autouse=True)
def fresh_limiter(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test starts with the shared cache believed up and no counters in this process."""
    monkeypatch.setattr(ratelimit, "_local", ratelimit._MemoryWindows())
    monkeypatch.setattr(ratelimit, "_shared", ratelimit._SharedCache())
    monkeypatch.setattr(ratelimit, "RETRY_SECONDS", 0.2)


def outage_warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == ratelimit.__name__]


def local_slots() -> float:
    return float(ratelimit.LOCAL_SLOTS._value.get())


@pytest.mark.django_db
def test_posting_goes_on_while_redis_is_down_and_the_limit_still_holds(
    own_redis: OwnRedis, settings: Any, caplog: pytest.LogCaptureFixture
) -> None:
    settings.COLLAB_CHAT_RATE = "3/60"
    caplog.set_level(logging.WARNING, logger=ratelimit.__name__)
    alice = user("alice")
    room, other = room_with(alice), room_with(alice, name="other")
    services.post_message(room.pk, alice.pk, "up-1", "counted in Redis")
    assert own_redis.keys()

    own_redis.stop()
    counted_locally = local_slots()
    for index in range(3):  # this process knows nothing of the Redis count: a full window of its own
        services.post_message(room.pk, alice.pk, f"down-{index}", "counted in process")
    with pytest.raises(services.RateLimited):
        services.post_message(room.pk, alice.pk, "down-4", "one too many")
    assert local_slots() - counted_locally == 4
    assert ratelimit.SHARED_DOWN._value.get() == 1
    [warning] = outage_warnings(caplog)  # once per outage, not once per post
    assert "counting in this process" in warning
    assert ChatMessage.objects.filter(room=room).count() == 4

    own_redis.start()  # empty: the server keeps nothing across restarts here
    time.sleep(ratelimit.RETRY_SECONDS)
    services.post_message(other.pk, alice.pk, "back-1", "counted in Redis again")
    assert own_redis.keys()
    assert ratelimit.SHARED_DOWN._value.get() == 0
    assert "is back" in outage_warnings(caplog)[-1]


def test_in_process_counters_stay_bounded() -> None:
    windows = ratelimit._MemoryWindows(max_counters=100)
    for index in range(1000):
        windows.incr(f"k{index}", timeout=60, now=0.0)
    assert len(windows) == 100
    assert windows.incr("k999", timeout=60, now=1.0) == 2  # the newest are the ones kept
    assert windows.incr("k0", timeout=60, now=1.0) == 1  # the oldest went first
    assert windows.incr("k0", timeout=60, now=100.0) == 1  # and a window expires


@pytest.mark.django_db(transaction=True)
def test_posts_the_database_refused_give_their_slot_back(settings: Any) -> None:
    """60 s of database trouble used to leave a retrying client rate-limited (1,501 refusals)."""
    settings.COLLAB_CHAT_RATE = "3/60"
    alice = user("alice")
    room = room_with(alice)
    locked, release = threading.Event(), threading.Event()

    def hold_the_room_lock() -> None:
        try:
            with transaction.atomic():
                ChatRoom.objects.select_for_update().get(pk=room.pk)
                locked.set()
                release.wait(30)
        finally:
            connection.close()

    holder = threading.Thread(target=hold_the_room_lock)
    holder.start()
    assert locked.wait(10)
    try:
        with connection.cursor() as cursor:
            cursor.execute("SET lock_timeout = '50ms'")
        for index in range(10):  # a client retrying through the outage
            with pytest.raises(OperationalError):
                services.post_message(room.pk, alice.pk, f"retry-{index}", "hello")
    finally:
        release.set()
        holder.join()
        with connection.cursor() as cursor:
            cursor.execute("RESET lock_timeout")
    for index in range(3):  # the database is back: the whole window is still there
        services.post_message(room.pk, alice.pk, f"after-{index}", "hello")
    with pytest.raises(services.RateLimited):
        services.post_message(room.pk, alice.pk, "after-4", "hello")


@pytest.mark.django_db
def test_changes_refused_after_counting_give_their_slot_back(settings: Any) -> None:
    settings.COLLAB_CHAT_RATE = "3/60"
    alice = user("alice")
    room = room_with(alice)
    gone, _ = services.post_message(room.pk, alice.pk, "c-1", "to be deleted")
    kept, _ = services.post_message(room.pk, alice.pk, "c-2", "to be edited")
    services.delete_message(gone.room_id, gone.pk, alice.pk)
    for _ in range(5):  # refused after the count: "deleted"
        with pytest.raises(services.ChatError) as refused:
            services.edit_message(gone.room_id, gone.pk, alice.pk, "too late")
        assert refused.value.code == "deleted"
        with pytest.raises(services.ChatError) as refused:
            services.toggle_reaction(gone.room_id, gone.pk, alice.pk, "👍", add=True)
        assert refused.value.code == "deleted"
    for index in range(3):
        services.edit_message(kept.room_id, kept.pk, alice.pk, f"edit {index}")
    with pytest.raises(services.RateLimited):
        services.edit_message(kept.room_id, kept.pk, alice.pk, "one too many")
