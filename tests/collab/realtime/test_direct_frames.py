"""daphne's direct path for binary frames: open sockets only, bounded, framed once per broadcast."""

from __future__ import annotations

from typing import Any

from autobahn.twisted.websocket import WebSocketServerFactory
from django.test import override_settings

from collab.realtime.daphne.direct_frames import (
    EXTENSION,
    REUSED_FRAME_BYTES,
    DirectFrames,
    direct_frames_of,
)

OPEN, CLOSING = 1, 2


class Transport:
    def __init__(self, unsent: int = 0) -> None:
        self.dataBuffer = b"x" * unsent
        self.offset = 0
        self._tempDataLen = 0


class Protocol:
    """The parts of daphne's WebSocketProtocol that the direct path uses."""

    STATE_OPEN = OPEN

    def __init__(self, factory: Any, unsent: int = 0) -> None:
        self.factory = factory
        self.state = OPEN
        self.transport = Transport(unsent)
        self.sent: list[Any] = []
        self.dropped = False
        self.request = None

    def sendPreparedMessage(self, prepared: Any) -> None:  # noqa: N802 (autobahn's name)
        self.sent.append(prepared)

    def dropConnection(self, abort: bool = False) -> None:  # noqa: N802
        self.dropped = True


def test_one_frame_for_every_socket_that_gets_the_same_bytes() -> None:
    factory = WebSocketServerFactory()
    sockets = [Protocol(factory) for _ in range(3)]
    update = b"\x00\x02" + bytes(40)
    for socket in sockets:
        assert DirectFrames(socket).send_binary(update) is True
    prepared = {id(socket.sent[0]) for socket in sockets}
    assert len(prepared) == 1  # framed once
    frame = sockets[0].sent[0].payloadHybi
    assert frame[0] == 0x82 and frame[1] == len(update) and frame[2:] == update  # FIN, binary, unmasked
    other = b"\x00\x02" + bytes(41)
    DirectFrames(sockets[0]).send_binary(other)
    assert sockets[0].sent[1].payloadHybi[2:] == other


def test_a_socket_that_is_not_open_is_left_to_the_asgi_path() -> None:
    socket = Protocol(WebSocketServerFactory())
    socket.state = CLOSING
    assert DirectFrames(socket).send_binary(b"late") is False
    assert socket.sent == []


@override_settings(COLLAB_MAX_UNSENT_BYTES=1000)
def test_a_socket_that_does_not_read_is_dropped_not_buffered() -> None:
    socket = Protocol(WebSocketServerFactory(), unsent=900)
    assert DirectFrames(socket).send_binary(bytes(200)) is True  # handled: dropped
    assert socket.dropped and socket.sent == []


def test_the_scope_carries_the_connections_direct_frames() -> None:
    frames = DirectFrames(Protocol(WebSocketServerFactory()))
    assert direct_frames_of({"extensions": {EXTENSION: frames}}) is frames
    assert direct_frames_of({"type": "websocket"}) is None  # another server: the ASGI path


def test_a_large_frame_is_not_kept_after_it_is_sent() -> None:
    factory = WebSocketServerFactory()
    socket = Protocol(factory)
    DirectFrames(socket).send_binary(bytes(REUSED_FRAME_BYTES + 1))  # one socket's big answer
    assert factory._collab_last_frame is None
    small = bytes(10)
    DirectFrames(socket).send_binary(small)
    assert factory._collab_last_frame[0] is small
