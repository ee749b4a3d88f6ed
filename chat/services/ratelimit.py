"""Per user, per room message rate limit (`COLLAB_CHAT_RATE`, "30/10" = 30 messages per 10 s).

A fixed window in the shared cache (Redis in production, so every worker counts
together): one counter per user, room and window, counted with one pipelined
INCR + EXPIRE; it expires with its window. Only messages that are about to be
stored are counted: retries of a stored client id never are, and a write that
fails for any other reason than the limit (a rule broken after the count, the
database down) gives its slot back, so a client retrying through an outage is not
locked out when it ends.

When the shared cache fails, posting must not: the counters move to this process
(`_MemoryWindows`, bounded) until the cache answers again, which is tried at most
every RETRY_SECONDS. Each worker then counts alone, so a user spread over several
workers gets up to that many times the limit meanwhile. One warning per outage,
and metrics: `collab_chat_ratelimit_local_slots_total` (slots counted in process),
`collab_chat_ratelimit_shared_down` (1 during an outage).
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from types import TracebackType

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured
from prometheus_client import Counter, Gauge

from chat.services.base import RateLimited

logger = logging.getLogger(__name__)

RETRY_SECONDS = 1.0  # during an outage, ask the shared cache again at most this often
MAX_LOCAL_COUNTERS = 20_000  # ~100 bytes each: the in-process fallback stays a few MB at most

LOCAL_SLOTS = Counter(
    "collab_chat_ratelimit_local_slots", "Chat rate-limit slots counted in process (shared cache down)"
)
SHARED_DOWN = Gauge(
    "collab_chat_ratelimit_shared_down", "1 while chat rate limits cannot reach the shared cache"
)


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


@dataclass(frozen=True)
class Slot:
    """One counted message (or change): where it was counted, so it can be given back there."""

    key: str
    shared: bool  # in the shared cache; else in this process
    timeout: int


class _MemoryWindows:
    """Fixed-window counters of this process: key -> (count, expiry). Thread-safe (the write
    pool's threads post concurrently) and bounded: expired windows go first, then the oldest."""

    def __init__(self, max_counters: int = MAX_LOCAL_COUNTERS) -> None:
        self.max_counters = max_counters
        self._counts: OrderedDict[str, tuple[int, float]] = OrderedDict()
        self._lock = threading.Lock()

    def incr(self, key: str, timeout: int, now: float | None = None) -> int:
        now = time.monotonic() if now is None else now
        with self._lock:
            count, expires = self._counts.pop(key, (0, 0.0))
            if expires <= now:
                count = 0
            self._counts[key] = (count + 1, now + timeout)  # to the end: most recently used
            self._trim(now)
            return count + 1

    def decr(self, key: str) -> None:
        with self._lock:
            found = self._counts.get(key)
            if found is not None and found[0] > 0:
                self._counts[key] = (found[0] - 1, found[1])

    def _trim(self, now: float) -> None:
        while self._counts:
            key, (_, expires) = next(iter(self._counts.items()))
            if expires > now and len(self._counts) <= self.max_counters:
                return
            del self._counts[key]  # expired, or the oldest when over the bound

    def __len__(self) -> int:
        return len(self._counts)


@dataclass
class _SharedCache:
    """Whether the shared cache is usable, and the one warning per outage."""

    down_since: float | None = None
    next_try: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def usable(self) -> bool:
        return self.down_since is None or time.monotonic() >= self.next_try

    def failed(self, exc: Exception) -> None:
        with self.lock:
            now = time.monotonic()
            self.next_try = now + RETRY_SECONDS
            if self.down_since is not None:
                return
            self.down_since = now
        SHARED_DOWN.set(1)
        logger.warning(
            "chat rate limits: the shared cache failed (%s: %s); counting in this process until it is back",
            type(exc).__name__,
            exc,
        )

    def answered(self) -> None:
        if self.down_since is None:
            return
        with self.lock:
            since, self.down_since = self.down_since, None
        if since is not None:
            SHARED_DOWN.set(0)
            seconds = time.monotonic() - since
            logger.warning("chat rate limits: the shared cache is back after %.1f s", seconds)


_local = _MemoryWindows()
_shared = _SharedCache()


def take_slot(room_id: int, user_id: int, kind: str = "message") -> Slot:
    """Count one message (or, kind "change", one edit or reaction); raise RateLimited once the
    window is full. Messages and changes have a budget each."""
    limit, period = parse_rate(settings.COLLAB_CHAT_RATE)
    now = time.time()
    window = int(now // period)
    key = _key(room_id, user_id, kind, window)
    timeout = int(period) + 2  # outlives its window a little; a new window is a new key
    slot, used = _count(key, timeout)
    if used > limit:
        raise RateLimited(retry_after=round(max(0.001, (window + 1) * period - now), 3))
    return slot


def _count(key: str, timeout: int) -> tuple[Slot, int]:
    if _shared.usable():
        try:
            used = _count_shared(key, timeout)
        except Exception as exc:  # whatever the cache backend raises: posting must go on
            _shared.failed(exc)
        else:
            _shared.answered()
            return Slot(key, True, timeout), used
    LOCAL_SLOTS.inc()
    return Slot(key, False, timeout), _local.incr(key, timeout)


def _count_shared(key: str, timeout: int) -> int:
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


def give_back_slot(slot: Slot) -> None:
    """Undo a `take_slot` for something that was not stored after all. Never raises: a slot
    that cannot be given back (the cache just failed) only expires with its window."""
    if not slot.shared:
        _local.decr(slot.key)
        return
    try:
        client = getattr(cache, "client", None)
        if client is not None and hasattr(client, "get_client"):  # django-redis: the raw counter
            with client.get_client(write=True).pipeline(transaction=False) as pipe:
                pipe.decr(cache.make_key(slot.key))  # a window that turned leaves a -1 that expires
                pipe.expire(cache.make_key(slot.key), slot.timeout)
                pipe.execute()
            return
        with contextlib.suppress(ValueError):  # the window turned meanwhile: its counter is gone
            cache.decr(slot.key)
    except Exception as exc:
        _shared.failed(exc)


class Slots:
    """The slots a write takes, given back if the write raises: `with Slots() as slots: ...`.

    Put the block around the transaction, so that a failed commit gives them back too.
    A refusal by the limit itself takes no slot (its count only overfills a full window).
    """

    def __init__(self) -> None:
        self.taken: list[Slot] = []

    def take(self, room_id: int, user_id: int, kind: str = "message") -> None:
        self.taken.append(take_slot(room_id, user_id, kind))

    def give_back(self) -> None:
        taken, self.taken = self.taken, []
        for slot in taken:
            give_back_slot(slot)

    def __enter__(self) -> Slots:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if exc_type is not None:
            self.give_back()
