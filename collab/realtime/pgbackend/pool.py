"""A psycopg connection pool that tells "all connections busy" from "database unreachable".

psycopg_pool's ConnectionPool, as Django uses it, behaves badly in a PostgreSQL outage:

- A request that finds no idle connection waits the full pool `timeout` (10 s here, so that
  bursts queue for a pooled connection rather than fail), even when the pool already knows
  that the database cannot be reached: probes, REST calls and websocket set-ups all hang
  for 10 s, and daphne drops websocket handshakes that take longer than 5 s (1006).
- Idle connections that the server or the network closed are handed out as if healthy:
  each fails one request even after the database is back (Django's only alternative,
  CONN_HEALTH_CHECKS, costs a round trip on every checkout).
- Reconnection backs off exponentially (1, 2, 4 ... 64 s), so after an outage of a minute
  the pool may stay empty for another half minute while the database is fine.

This pool keeps psycopg_pool's behaviour when the database is reachable and changes three
things:

- While the last connection attempt failed, a request waits at most `unavailable_timeout`
  (DATABASE_POOL_UNAVAILABLE_TIMEOUT, 0.5 s: long enough to get a connection another thread
  returns, short enough that Channels' single database thread does not queue every socket
  behind seconds of waiting) and then gets DatabaseUnavailable, a PoolTimeout (hence an
  OperationalError) that names the connection error.
- An idle connection is checked before it is handed out by polling its socket, which costs
  no round trip: a connection closed by the peer is readable (EOF). Only then is the server
  asked, and a dead connection is replaced in the requesting thread by a new one (or the
  request fails at once with DatabaseUnavailable when that fails too).
- Reconnection attempts are at most `reconnect_max_delay` (1 s) apart, so the pool refills
  within about a second of the database coming back.

It relies on two internals of psycopg_pool (`_connect`, `_add_connection`), pinned by
pyproject.toml and exercised by tests/collab/realtime/test_pgpool.py.
"""

from __future__ import annotations

import logging
import select
from time import monotonic
from typing import Any

from psycopg import Connection
from psycopg_pool import ConnectionPool, PoolTimeout
from psycopg_pool.base import AttemptWithBackoff

logger = logging.getLogger(__name__)


class _QuietReconnects(logging.Filter):
    """Drop psycopg_pool's warning for each failed reconnection attempt.

    With one attempt per second per pool slot it would repeat several times a second for
    the whole outage; FailFastPool logs when the database becomes unreachable and when it
    is back instead.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith("error connecting in")


logging.getLogger("psycopg.pool").addFilter(_QuietReconnects())


class DatabaseUnavailable(PoolTimeout):
    """No connection because the database cannot be reached (not because all are busy)."""


class _CappedBackoff(AttemptWithBackoff):
    def __init__(self, *, timeout: float, max_delay: float) -> None:
        super().__init__(timeout=timeout)
        self.max_delay = max_delay

    def update_delay(self, now: float) -> None:
        super().update_delay(now)
        self.delay = min(self.delay, self.max_delay)


def closed_by_peer(conn: Connection[Any]) -> bool:
    """Whether an idle connection died since its last use (server restart, proxy, network).

    An idle connection has nothing to read unless the server closed it (EOF), sent a fatal
    error before closing (pg_terminate_backend, idle_session_timeout) or an asynchronous
    notice; only in those cases is the server asked, so a healthy connection costs one
    non-blocking poll.
    """
    try:
        fd = conn.pgconn.socket
    except Exception:
        return True  # no socket: already closed
    poller = select.poll()  # poll, not select: file descriptors above 1024 are common here
    poller.register(fd, select.POLLIN | select.POLLPRI)  # POLLHUP and POLLERR are always reported
    if not poller.poll(0):
        return False
    try:
        ConnectionPool.check_connection(conn)
    except Exception:
        return True
    return False


class FailFastPool(ConnectionPool[Connection[Any]]):
    def __init__(
        self,
        *args: Any,
        unavailable_timeout: float = 0.5,
        reconnect_max_delay: float = 1.0,
        **kwargs: Any,
    ) -> None:
        self.unavailable_timeout = unavailable_timeout
        self.reconnect_max_delay = reconnect_max_delay
        self._unreachable_since: float | None = None
        self._connect_error = ""
        super().__init__(*args, **kwargs)

    @property
    def unreachable(self) -> bool:
        """The last attempt to open a connection failed (none has succeeded since)."""
        return self._unreachable_since is not None

    def getconn(self, timeout: float | None = None) -> Connection[Any]:
        if timeout is None:
            timeout = self.timeout
        if self.unreachable:
            # A connection can only come from a reconnection attempt (one per
            # reconnect_max_delay): wait for the next one or two, not the full timeout.
            timeout = min(timeout, self.unavailable_timeout)
        try:
            conn = super().getconn(timeout)
        except PoolTimeout as exc:
            if self.unreachable:
                raise self._unavailable() from exc
            raise
        if closed_by_peer(conn):
            return self._replace(conn)
        return conn

    def _replace(self, dead: Connection[Any]) -> Connection[Any]:
        """A new connection in place of a dead one, opened by the thread that asked for it."""
        dead.close()
        try:
            fresh = self._connect()
        except Exception as exc:
            # Returned closed, the dead connection is dropped and a replacement is scheduled
            # in the background, so the pool keeps its size.
            self.putconn(dead)
            raise self._unavailable() from exc
        return fresh  # takes the dead connection's place in the pool's count

    def _unavailable(self) -> DatabaseUnavailable:
        return DatabaseUnavailable(f"the database is unreachable: {self._connect_error or 'unknown error'}")

    # -- psycopg_pool internals ------------------------------------------------------

    def _connect(self, timeout: float | None = None) -> Connection[Any]:
        try:
            conn = super()._connect(timeout)
        except Exception as exc:
            first_line = (str(exc).strip().splitlines() or [""])[0]  # libpq adds hint lines
            self._connect_error = f"{type(exc).__name__}: {first_line}"
            if self._unreachable_since is None:
                self._unreachable_since = monotonic()
                logger.warning("database unreachable (%s): failing requests fast", self._connect_error)
            raise
        if self._unreachable_since is not None:
            logger.warning("database reachable again after %.1f s", monotonic() - self._unreachable_since)
            self._unreachable_since = None
        return conn

    def _add_connection(self, attempt: AttemptWithBackoff | None, growing: bool = False) -> None:
        if attempt is None:
            attempt = _CappedBackoff(timeout=self.reconnect_timeout, max_delay=self.reconnect_max_delay)
        super()._add_connection(attempt, growing)
