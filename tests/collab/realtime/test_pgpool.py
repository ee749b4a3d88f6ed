"""FailFastPool against the real PostgreSQL, with outages made by cutting a TCP proxy."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.db import connection

from collab.realtime.pgbackend.pool import DatabaseUnavailable, FailFastPool, closed_by_peer
from tests.conftest import required_env
from tests.e2e.faults import TcpProxy


@pytest.fixture
def proxy() -> Iterator[TcpProxy]:
    parts = urlsplit(required_env("DATABASE_URL"))
    with TcpProxy(parts.hostname or "127.0.0.1", parts.port or 5432) as proxy:
        yield proxy


@pytest.fixture
def make_pool(proxy: TcpProxy) -> Iterator[Any]:
    pools: list[FailFastPool] = []

    def make(size: int, **options: Any) -> FailFastPool:
        pool = FailFastPool(
            proxy.url_for(required_env("DATABASE_URL")),
            kwargs={"autocommit": True, "connect_timeout": 2},
            min_size=size,
            max_size=size,  # no growth on demand: only reconnection refills the pool
            open=True,
            **options,
        )
        pool.wait(10)
        pools.append(pool)
        return pool

    yield make
    for pool in pools:
        pool.close()


def select_one(pool: FailFastPool, timeout: float | None = None) -> None:
    conn = pool.getconn(timeout)
    try:
        assert conn.execute("SELECT 1").fetchone() == (1,)
    finally:
        pool.putconn(conn)


def elapsed(started: float) -> float:
    return time.monotonic() - started


def test_a_busy_pool_still_queues_for_the_full_timeout(make_pool: Any) -> None:
    pool = make_pool(1, timeout=5, unavailable_timeout=0.2)
    held = pool.getconn()
    threading.Timer(1.0, pool.putconn, [held]).start()
    started = time.monotonic()
    select_one(pool)  # waits for the connection another thread returns
    assert 0.8 < elapsed(started) < 3


def test_an_outage_fails_fast_and_the_pool_refills_within_a_second_of_the_restore(
    make_pool: Any, proxy: TcpProxy
) -> None:
    pool = make_pool(2, timeout=10, unavailable_timeout=0.5)
    proxy.cut()
    for _ in range(4):  # two dead idle connections, then none at all
        started = time.monotonic()
        with pytest.raises(DatabaseUnavailable, match="unreachable"):
            select_one(pool)
        assert elapsed(started) < 1.5
    assert pool.unreachable
    # Long enough for psycopg_pool's own backoff to be several seconds between attempts
    # (1, 2, 4, 8 s): after this it would not retry before 15 s into the outage.
    time.sleep(8)
    proxy.restore()
    started = time.monotonic()
    while True:
        try:
            select_one(pool, timeout=0.5)
            break
        except DatabaseUnavailable:
            assert elapsed(started) < 3, "the pool did not reconnect"
    assert elapsed(started) < 2 and not pool.unreachable


def test_connections_closed_while_idle_are_replaced_not_handed_out(make_pool: Any, proxy: TcpProxy) -> None:
    pool = make_pool(3, timeout=5)
    proxy.cut()  # every idle connection is closed by the "server" ...
    proxy.restore()  # ... which is back before anyone used them
    conns = [pool.getconn() for _ in range(3)]
    try:
        for conn in conns:
            assert conn.execute("SELECT 1").fetchone() == (1,)
    finally:
        for conn in conns:
            pool.putconn(conn)


def test_checking_a_healthy_idle_connection_costs_no_round_trip(make_pool: Any, proxy: TcpProxy) -> None:
    pool = make_pool(1)
    conn = pool.getconn()
    try:
        proxy.blackhole()  # a round trip would now hang
        started = time.monotonic()
        assert not closed_by_peer(conn)
        assert elapsed(started) < 0.1
    finally:
        proxy.restore()
        pool.putconn(conn)


@pytest.mark.django_db
def test_django_uses_the_fail_fast_pool() -> None:
    connection.ensure_connection()
    assert isinstance(connection.pool, FailFastPool)
