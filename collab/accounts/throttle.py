"""Brute-force protection for login, token creation and registration.

Counters live in the Django cache (django-redis in deployments, so every worker
counts together; local memory in the embedded default). Each attempt first
*reserves* a slot on two counters, the client address (shared by every action)
and the account (the canonical username, per action: "login" covers both
session login and token creation, "register" is separate), with one atomic
INCR each; an attempt that finds either counter past its limit is refused
(HTTP 429) before any password is checked, so even the right password is
refused during a lockout, and parallel requests cannot overshoot the limit. A
successful attempt gives its address slot back and clears the account counter
("successful login resets the per-account failure count"); a failed one keeps
them. So the limits count failures: COLLAB_AUTH_ACCOUNT_RATE (default 10 per
15 minutes) and COLLAB_AUTH_ADDRESS_RATE (default 50 per 15 minutes). A window
starts at its first failure and the lockout ends when it does (Retry-After).

When the cache cannot be reached, counting goes on in a per-process in-memory
store (bounded) and the cache is tried again after a few seconds: never an error,
never unthrottled; during an outage each worker counts on its own.

The client address is REMOTE_ADDR. X-Forwarded-For is only read when
REMOTE_ADDR is one of COLLAB_TRUSTED_PROXIES (addresses or CIDR networks), and
then the right-most entry that is not itself a trusted proxy is the client.
IPv6 clients are counted per /64 network (what one host usually holds).
"""

from __future__ import annotations

import hashlib
import ipaddress
import logging
import math
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.cache import cache

logger = logging.getLogger(__name__)

KEY_PREFIX = "auth-throttle"
CACHE_RETRY_SECONDS = 5.0
LOCAL_MAX_KEYS = 100_000


@dataclass(frozen=True)
class Rate:
    limit: int
    seconds: int

    @classmethod
    def parse(cls, text: str) -> Rate:
        """ "COUNT/SECONDS", e.g. "10/900"."""
        count, _, seconds = text.partition("/")
        rate = cls(int(count), int(seconds or "0"))
        if rate.limit < 1 or rate.seconds < 1:
            raise ValueError(f"a rate is COUNT/SECONDS with both at least 1, not {text!r}")
        return rate


class ThrottledError(Exception):
    def __init__(self, retry_after: int) -> None:
        super().__init__(f"too many failed attempts; try again in {retry_after} s")
        self.retry_after = retry_after


class _LocalCounters:
    """The fallback while the cache is unreachable: same semantics, one process."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: dict[str, tuple[int, float]] = {}  # key -> (count, window end as time.time())

    def incr(self, key: str, window: int) -> int:
        now = time.time()
        with self._lock:
            count, until = self._counts.get(key, (0, 0.0))
            if until <= now:
                if len(self._counts) >= LOCAL_MAX_KEYS:
                    self._prune(now)
                count, until = 0, now + window
            self._counts[key] = (count + 1, until)
            return count + 1

    def window_end(self, key: str) -> float | None:
        with self._lock:
            entry = self._counts.get(key)
        return entry[1] if entry is not None else None

    def decr(self, key: str) -> None:
        with self._lock:
            entry = self._counts.get(key)
            if entry is not None and entry[0] > 0:
                self._counts[key] = (entry[0] - 1, entry[1])

    def delete(self, key: str) -> None:
        with self._lock:
            self._counts.pop(key, None)

    def _prune(self, now: float) -> None:
        for key in [k for k, (_, until) in self._counts.items() if until <= now]:
            del self._counts[key]
        while len(self._counts) >= LOCAL_MAX_KEYS:  # still full: forget the oldest windows
            del self._counts[next(iter(self._counts))]


class _CacheUnavailableError(Exception):
    pass


class Counters:
    """Windowed counters in the Django cache, with the in-memory fallback.

    A window opens with the first count and lasts `window` seconds (the key's
    expiry; INCR keeps it); its end is stored beside it for Retry-After. One
    round trip per count while a window is open.
    """

    def __init__(self, backend: Any = None) -> None:
        self._backend = backend
        self.local = _LocalCounters()
        self._down_until = 0.0

    @property
    def backend(self) -> Any:
        return cache if self._backend is None else self._backend

    def incr(self, key: str, window: int) -> int:
        """Count one more in `key`'s current window (opening one if needed); the new count."""
        if self._cache_usable():
            try:
                return self._cache_incr(key, window)
            except Exception:
                self._cache_failed()
        return self.local.incr(key, window)

    def window_end(self, key: str, window: int) -> float:
        """When `key`'s current window ends (time.time()); `window` from now if unknown."""
        until: Any = None
        if self._cache_usable():
            try:
                until = self.backend.get(f"{key}:until")
            except Exception:
                self._cache_failed()
        if until is None:
            until = self.local.window_end(key)
        return float(until) if until is not None else time.time() + window

    def decr(self, key: str) -> None:
        self.local.decr(key)
        if self._cache_usable():
            try:
                self.backend.decr(key)
            except ValueError:
                pass  # the window has ended meanwhile
            except Exception:
                self._cache_failed()

    def delete(self, key: str) -> None:
        self.local.delete(key)
        if self._cache_usable():
            try:
                self.backend.delete_many([key, f"{key}:until"])
            except Exception:
                self._cache_failed()

    def _cache_incr(self, key: str, window: int) -> int:
        backend = self.backend
        for _ in range(3):
            try:
                count = backend.incr(key)
            except ValueError:  # no window yet (or it just ended): open one
                added = backend.add(key, 1, timeout=window)
                if added is None:
                    raise _CacheUnavailableError from None  # a backend that hides its errors
                if added:
                    backend.set(f"{key}:until", time.time() + window, timeout=window)
                    return 1
                continue  # someone else opened it first: count in theirs
            if not isinstance(count, int):
                raise _CacheUnavailableError  # a backend that hides its errors answers None
            return count
        raise _CacheUnavailableError

    def _cache_usable(self) -> bool:
        return time.monotonic() >= self._down_until

    def _cache_failed(self) -> None:
        if self._cache_usable():
            logger.warning(
                "authentication throttle: the cache is unreachable; counting in this process for %.0f s",
                CACHE_RETRY_SECONDS,
                exc_info=True,
            )
        self._down_until = time.monotonic() + CACHE_RETRY_SECONDS


counters = Counters()


def account_rate() -> Rate:
    return Rate.parse(settings.COLLAB_AUTH_ACCOUNT_RATE)


def address_rate() -> Rate:
    return Rate.parse(settings.COLLAB_AUTH_ADDRESS_RATE)


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:32]


@dataclass
class Attempt:
    """The slots one authentication attempt holds until it is known to have succeeded."""

    address_key: str
    account_key: str
    store: Counters

    def succeeded(self) -> None:
        self.store.decr(self.address_key)
        self.store.delete(self.account_key)


def begin(
    action: str, account: str, address: str, store: Counters | None = None, limit: Rate | None = None
) -> Attempt:
    """Reserve the slots of one attempt, or raise ThrottledError (nothing may be checked then).

    `limit` replaces COLLAB_AUTH_ACCOUNT_RATE for the account counter (e.g. reset e-mails).
    """
    store = counters if store is None else store
    address_key = f"{KEY_PREFIX}:address:{_digest(address_bucket(address))}"
    account_key = f"{KEY_PREFIX}:{action}:account:{_digest(account)}"
    for key, rate in ((address_key, address_rate()), (account_key, limit or account_rate())):
        if store.incr(key, rate.seconds) > rate.limit:
            until = store.window_end(key, rate.seconds)
            raise ThrottledError(max(1, math.ceil(until - time.time())))
    return Attempt(address_key, account_key, store)


def address_bucket(address: str) -> str:
    """What is counted for one client address: the address, or its /64 for IPv6."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return f"other:{address[:100]}"
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((ip, 64), strict=False))
    return str(ip)


def _parse_networks(entries: Iterable[str]) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    return [ipaddress.ip_network(entry.strip(), strict=False) for entry in entries if entry.strip()]


def _is_trusted(address: str, networks: list[ipaddress.IPv4Network | ipaddress.IPv6Network]) -> bool:
    try:
        ip = ipaddress.ip_address(address.strip())
    except ValueError:
        return False
    return any(ip in network for network in networks)


def client_address(meta: Mapping[str, Any]) -> str:
    """The client's address for a request's META (see the module docstring)."""
    remote = str(meta.get("REMOTE_ADDR") or "")
    networks = _parse_networks(settings.COLLAB_TRUSTED_PROXIES)
    if not networks or not _is_trusted(remote, networks):
        return remote
    forwarded = str(meta.get("HTTP_X_FORWARDED_FOR") or "")
    hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
    for hop in reversed(hops):
        if not _is_trusted(hop, networks):
            try:
                return str(ipaddress.ip_address(hop))
            except ValueError:
                return remote  # garbage from beyond the proxies: count the proxy itself
    return remote
