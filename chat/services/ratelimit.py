"""Per user, per room message rate limit (`COLLAB_CHAT_RATE`, "30/10" = 30 messages per 10 s).

A fixed window in the shared cache (Redis in production, so every worker counts
together): one counter per user, room and window, created with `add` and
counted with the atomic `incr`; it expires with its window. Only messages that
are about to be stored are counted: retries of a stored client id never are.
"""

from __future__ import annotations

import contextlib
import time

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured

from chat.services.base import RateLimited


def parse_rate(rate: str) -> tuple[int, float]:
    """Parse "30/10" into (30 messages, 10.0 seconds)."""
    try:
        count, seconds = rate.split("/")
        parsed = int(count), float(seconds)
    except ValueError:
        parsed = (0, 0.0)
    if parsed[0] < 1 or parsed[1] <= 0:
        raise ImproperlyConfigured(f"COLLAB_CHAT_RATE must look like '30/10', not {rate!r}")
    return parsed


def _key(room_id: int, user_id: int, kind: str, window: int) -> str:
    return f"chat-rate:{kind}:{room_id}:{user_id}:{window}"


def take_slot(room_id: int, user_id: int, kind: str = "message") -> None:
    """Count one message (or, kind "change", one edit or reaction); raise RateLimited once the
    window is full. Messages and changes have a budget each."""
    limit, period = parse_rate(settings.COLLAB_CHAT_RATE)
    now = time.time()
    window = int(now // period)
    key = _key(room_id, user_id, kind, window)
    timeout = int(period) + 2  # outlives its window a little; a new window is a new key
    used = _count(key, timeout)
    if used > limit:
        raise RateLimited(retry_after=round(max(0.001, (window + 1) * period - now), 3))


def _count(key: str, timeout: int) -> int:
    """Add one to the window's counter: one round trip on Redis (INCR + EXPIRE, pipelined)."""
    client = getattr(cache, "client", None)
    if client is not None and hasattr(client, "get_client"):  # django-redis
        with client.get_client(write=True).pipeline(transaction=False) as pipe:
            pipe.incr(cache.make_key(key))
            pipe.expire(cache.make_key(key), timeout)
            used, _ = pipe.execute()
        return int(used)
    try:
        return int(cache.incr(key))
    except ValueError:  # the window's first message (or its counter just expired)
        return 1 if cache.add(key, 1, timeout=timeout) else int(cache.incr(key))


def give_back_slot(room_id: int, user_id: int, kind: str = "message") -> None:
    """Undo a `take_slot` for something that was not stored after all (e.g. it was a retry)."""
    _, period = parse_rate(settings.COLLAB_CHAT_RATE)
    key = _key(room_id, user_id, kind, int(time.time() // period))
    client = getattr(cache, "client", None)
    if client is not None and hasattr(client, "get_client"):  # django-redis: the raw counter
        with client.get_client(write=True).pipeline(transaction=False) as pipe:
            pipe.decr(cache.make_key(key))  # a window that turned leaves a -1 that expires
            pipe.expire(cache.make_key(key), int(period) + 2)
            pipe.execute()
        return
    with contextlib.suppress(ValueError):  # the window turned meanwhile: its counter is gone
        cache.decr(key)
