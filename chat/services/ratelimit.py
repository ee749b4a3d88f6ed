"""Per user, per room message rate limit (`COLLAB_CHAT_RATE`, "30/10" = 30 messages per 10 s).

A fixed window in the shared cache (Redis in production, so every worker counts
together): one counter per user, room and window, created with `add` and
counted with the atomic `incr`; it expires with its window. Only messages that
are about to be stored are counted: retries of a stored client id never are.
"""

from __future__ import annotations

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


def take_slot(room_id: int, user_id: int, kind: str = "message") -> None:
    """Count one message (or, kind "change", one edit or reaction); raise RateLimited once the
    window is full. Messages and changes have a budget each."""
    limit, period = parse_rate(settings.COLLAB_CHAT_RATE)
    now = time.time()
    window = int(now // period)
    key = f"chat-rate:{kind}:{room_id}:{user_id}:{window}"
    timeout = int(period) + 2  # outlives its window a little; a new window is a new key
    cache.add(key, 0, timeout=timeout)
    try:
        used = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.add(key, 1, timeout=timeout)
        used = 1
    if used > limit:
        raise RateLimited(retry_after=round(max(0.001, (window + 1) * period - now), 3))
