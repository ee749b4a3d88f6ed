"""Twisted's TCP writes go out at once when nothing waits, and are buffered in order otherwise."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

import pytest
from twisted.internet import tcp

from collab.realtime.daphne.writes import plain_autobahn_debug_arguments, write_at_once


class RecordingReactor:
    """Just what a Connection asks of its reactor when it writes."""

    def __init__(self) -> None:
        self.writers: list[Any] = []

    def addWriter(self, writer: Any) -> None:  # noqa: N802 (Twisted's name)
        self.writers.append(writer)

    def removeWriter(self, writer: Any) -> None:  # noqa: N802
        if writer in self.writers:
            self.writers.remove(writer)

    def addReader(self, reader: Any) -> None:  # noqa: N802
        pass

    def removeReader(self, reader: Any) -> None:  # noqa: N802
        pass


@pytest.fixture
def pair() -> Iterator[tuple[tcp.Connection, socket.socket, RecordingReactor]]:
    write_at_once()
    ours, theirs = socket.socketpair()
    ours.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
    theirs.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    reactor = RecordingReactor()
    connection = tcp.Connection(ours, None, reactor=reactor)
    connection.connected = 1
    yield connection, theirs, reactor
    ours.close()
    theirs.close()


def received(peer: socket.socket, size: int) -> bytes:
    peer.settimeout(2)
    data = b""
    while len(data) < size:
        data += peer.recv(65536)
    return data


def test_a_write_with_nothing_buffered_is_sent_at_once(pair: Any) -> None:
    connection, peer, reactor = pair
    connection.write(b"frame-1")
    assert received(peer, 7) == b"frame-1"
    assert reactor.writers == []  # no writer registered, no extra loop turn
    assert connection._tempDataLen == 0


def test_what_the_kernel_does_not_take_is_buffered_after_what_waits(pair: Any) -> None:
    connection, peer, reactor = pair
    big = bytes(range(256)) * 4096  # 1 MiB: far more than the socket buffers hold
    connection.write(big)
    assert reactor.writers == [connection]  # the rest waits for the socket to drain
    buffered = connection._tempDataLen
    assert 0 < buffered < len(big)
    connection.write(b"tail")  # something already waits: this one queues behind it
    assert connection._tempDataLen == buffered + 4
    data = b""
    peer.settimeout(2)
    while len(data) < len(big) + 4:
        chunk = peer.recv(1 << 20)
        data += chunk
        if connection.dataBuffer or connection._tempDataBuffer:
            connection.doWrite()  # what the reactor does when the socket drains
    assert data == big + b"tail"


def test_a_closed_connection_writes_nothing(pair: Any) -> None:
    connection, peer, _ = pair
    connection.connected = 0
    connection.write(b"late")
    peer.setblocking(False)
    with pytest.raises(BlockingIOError):
        peer.recv(10)


def test_autobahn_formats_its_connection_settings_only_for_a_line_really_logged() -> None:
    import autobahn.websocket.protocol as protocol

    plain_autobahn_debug_arguments()

    class Counted(list[int]):
        reprs = 0

        def __repr__(self) -> str:
            Counted.reprs += 1
            return super().__repr__()

    settings = Counted([1, 2])
    deferred = protocol.pformat(settings)  # what autobahn does on every new connection
    assert Counted.reprs == 0
    assert f"{deferred}" == "[1, 2]" and str(deferred) == "[1, 2]"
    assert Counted.reprs == 2
    timings = protocol.Timings()
    timings.track("x")
    assert str(timings).startswith("{'x':")  # autobahn's own str() still gets a string
