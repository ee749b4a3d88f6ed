"""BoundedHTTPChannel's deadlines and pending cap, on Twisted's own test transport and clock.

tests/e2e/test_handshake.py proves the same through a real daphne; here time is simulated,
so the body deadline and the cap (settings the e2e worker cannot change) are covered too.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.test import override_settings
from twisted.internet.error import ConnectionDone
from twisted.internet.task import Clock
from twisted.internet.testing import StringTransport
from twisted.python.failure import Failure
from twisted.web import http

from collab.realtime.daphne import handshake as daphne_handshake
from collab.realtime.daphne.handshake import BoundedHTTPChannel


class Answering(http.Request):
    def process(self) -> None:
        self.setResponseCode(200)
        self.setHeader(b"content-length", b"2")
        self.write(b"ok")
        self.finish()


class Connection:
    def __init__(self, clock: Clock) -> None:
        self.transport = StringTransport()
        self.channel = BoundedHTTPChannel()
        self.channel.requestFactory = Answering
        self.channel.callLater = clock.callLater
        self.channel.timeOut = None  # Twisted's idle timeout is not under test
        self.channel.makeConnection(self.transport)

    def send(self, data: bytes) -> None:
        self.channel.dataReceived(data)

    @property
    def closed(self) -> bool:
        closing: bool = self.transport.disconnecting
        if closing and self.channel in daphne_handshake._pending:
            self.lose()
        return closing

    def lose(self) -> None:
        self.channel.connectionLost(Failure(ConnectionDone()))

    def received(self) -> bytes:
        value: bytes = self.transport.value()
        return value


@pytest.fixture
def clock() -> Iterator[Clock]:
    daphne_handshake._pending.clear()
    yield Clock()
    daphne_handshake._pending.clear()


def test_a_silent_connection_is_closed_at_the_header_deadline_without_an_answer(clock: Clock) -> None:
    connection = Connection(clock)
    clock.advance(daphne_handshake.HEADER_TIMEOUT_SECONDS - 0.1)
    assert not connection.closed
    clock.advance(0.2)
    assert connection.closed and connection.received() == b""


def test_a_dripped_head_gets_408_at_the_deadline_from_its_first_byte(clock: Clock) -> None:
    connection = Connection(clock)
    connection.send(b"GET /healthz HTTP/1.1\r\n")
    for _ in range(9):  # a byte a second kept Twisted's idle timer from ever firing
        clock.advance(1)
        connection.send(b"X")
    clock.advance(1.1)
    assert connection.closed and connection.received().startswith(b"HTTP/1.1 408")


def test_kept_alive_connections_wait_between_requests_then_get_a_new_deadline(clock: Clock) -> None:
    connection = Connection(clock)
    connection.send(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    assert connection.received().startswith(b"HTTP/1.1 200")
    assert daphne_handshake.pending_connections() == 0
    clock.advance(300)  # idle between requests: not a handshake
    assert not connection.closed
    connection.send(b"GET / HT")
    assert daphne_handshake.pending_connections() == 1
    clock.advance(daphne_handshake.HEADER_TIMEOUT_SECONDS + 0.1)
    assert connection.closed and b"408" in connection.received()


@override_settings(COLLAB_HTTP_BODY_TIMEOUT=5)
def test_a_body_that_stops_coming_gets_408(clock: Clock) -> None:
    connection = Connection(clock)
    connection.send(b'POST /api/auth/token HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n{"a')
    assert daphne_handshake.pending_connections() == 0  # the head is complete
    clock.advance(4.9)
    assert not connection.closed
    clock.advance(0.2)
    assert connection.closed and connection.received().startswith(b"HTTP/1.1 408")


@override_settings(COLLAB_MAX_PENDING_CONNECTIONS=2)
def test_beyond_the_cap_the_longest_waiting_connection_is_dropped(clock: Clock) -> None:
    first, second = Connection(clock), Connection(clock)
    clock.advance(1)
    third = Connection(clock)  # over the cap: the oldest goes, the newcomer stays
    assert first.closed and not second.closed and not third.closed
    assert daphne_handshake.pending_connections() == 2
    third.send(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")  # a quick client is never the oldest for long
    assert third.received().startswith(b"HTTP/1.1 200")
    assert daphne_handshake.pending_connections() == 1
    fourth: Any = Connection(clock)
    assert not second.closed and not fourth.closed


def test_installed_into_daphne() -> None:
    from daphne.http_protocol import HTTPFactory

    daphne_handshake.bound_daphne_handshakes()
    daphne_handshake.bound_daphne_handshakes()  # idempotent
    built = HTTPFactory(server=None).buildProtocol(None)
    assert isinstance(built._channel, BoundedHTTPChannel)
