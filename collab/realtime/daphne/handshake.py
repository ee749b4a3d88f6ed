"""Bound the time and the number of connections that have not finished their request head.

daphne serves HTTP with Twisted's HTTPChannel, whose only guard is an idle timeout (60 s)
that every received byte resets: a connection that sends half a request and stops is held
a minute, one that sends a byte every 50 s is held forever, and nothing limits how many
there are (500 of them cost a worker 500 file descriptors and buffers). daphne's own
options do not help: `--http-timeout` bounds the application's response time (and answers
with an HTML 503), `--websocket_connect_timeout` starts only once an upgrade request is
complete. `daphne asgi:application` (no flags) is our start contract, so the bounds are
applied here, at startup, by giving daphne's HTTPFactory a channel class that:

- closes a connection whose request head (request line and headers) is not complete
  COLLAB_HTTP_HEADER_TIMEOUT seconds (10) after the connection opened, or after the first
  byte of the next request on a kept-alive connection: with 408 if part of a request came,
  silently if nothing did;
- closes a request whose body is not complete COLLAB_HTTP_BODY_TIMEOUT seconds (30) after
  its head (408);
- keeps at most COLLAB_MAX_PENDING_CONNECTIONS (1000) connections waiting for a request
  head: beyond it, the longest-waiting one is dropped, so a flood of idle connections
  evicts itself rather than locking out new clients, whose heads arrive in milliseconds.

Idle kept-alive connections between requests keep Twisted's 60 s idle timeout. Once a head
is complete the request belongs to the application (websocket upgrades: the socket must be
accepted within COLLAB_WS_SETUP_TIMEOUT, see collab/realtime/ws_guard.py; daphne rejects upgrades
not accepted within --websocket_connect_timeout, 5 s). Refusals are counted in
collab_frames_rejected_total{reason="http_header_timeout" | "http_body_timeout" |
"http_pending_limit"}.
"""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from twisted.web import http

from collab.realtime import metrics

logger = logging.getLogger(__name__)

HEADER_TIMEOUT_SECONDS = 10.0
BODY_TIMEOUT_SECONDS = 30.0
MAX_PENDING_CONNECTIONS = 1000
REQUEST_TIMEOUT_RESPONSE = b"HTTP/1.1 408 Request Timeout\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"

# Channels waiting for a request head, oldest first (dicts keep insertion order). Only
# the reactor thread touches it.
_pending: dict[BoundedHTTPChannel, None] = {}


def pending_connections() -> int:
    return len(_pending)


def _setting(name: str, default: float) -> float:
    return float(getattr(settings, name, default))


# Twisted's HTTPChannel is only partly annotated: subclass it as Any.
_HTTPChannel: Any = http.HTTPChannel


class BoundedHTTPChannel(_HTTPChannel):
    """HTTPChannel with a deadline for each request's head and body, and a pending cap."""

    _deadline: Any = None  # IDelayedCall of the running deadline
    _reason = ""  # what the running deadline waits for: "header" or "body"
    _received = False  # bytes of the current request arrived (answer 408, not silence)

    def connectionMade(self) -> None:  # noqa: N802 - Twisted's names
        super().connectionMade()
        self._await_head()

    def dataReceived(self, data: bytes) -> None:  # noqa: N802
        if self._deadline is None and not self._handlingRequest:
            self._await_head()  # the next request on a kept-alive connection starts
        self._received = True
        super().dataReceived(data)

    def allHeadersReceived(self) -> None:  # noqa: N802
        super().allHeadersReceived()
        _pending.pop(self, None)
        self._start_deadline("body", _setting("COLLAB_HTTP_BODY_TIMEOUT", BODY_TIMEOUT_SECONDS))

    def allContentReceived(self) -> None:  # noqa: N802
        # The request is the application's now (a websocket upgrade leaves this channel here).
        self._cancel_deadline()
        self._received = False
        super().allContentReceived()

    def connectionLost(self, reason: Any) -> None:  # noqa: N802
        self._cancel_deadline()
        _pending.pop(self, None)
        super().connectionLost(reason)

    # -- deadlines ---------------------------------------------------------------------

    def _await_head(self) -> None:
        self._received = False
        _pending[self] = None
        limit = int(_setting("COLLAB_MAX_PENDING_CONNECTIONS", MAX_PENDING_CONNECTIONS))
        while len(_pending) > max(limit, 1):
            oldest = next(iter(_pending))
            _pending.pop(oldest)
            oldest._drop("http_pending_limit")
        if self in _pending:
            self._start_deadline("header", _setting("COLLAB_HTTP_HEADER_TIMEOUT", HEADER_TIMEOUT_SECONDS))

    def _start_deadline(self, reason: str, seconds: float) -> None:
        self._cancel_deadline()
        if seconds > 0:
            self._reason = reason
            self._deadline = self.callLater(seconds, self._expired)

    def _cancel_deadline(self) -> None:
        if self._deadline is not None:
            if self._deadline.active():
                self._deadline.cancel()
            self._deadline = None

    def _expired(self) -> None:
        self._deadline = None
        _pending.pop(self, None)
        metrics.FRAMES_REJECTED.labels(f"http_{self._reason}_timeout").inc()
        if self._received:
            self.transport.write(REQUEST_TIMEOUT_RESPONSE)
        # Twisted's own idle handling: close once the 408 is out, abort if the client
        # does not let it out (abortTimeout).
        self.timeoutConnection()

    def _drop(self, reason: str) -> None:
        self._cancel_deadline()
        metrics.FRAMES_REJECTED.labels(reason).inc()
        self.transport.abortConnection()


def _bounded_channel_factory(factory: Any) -> Any:
    """What twisted's HTTPFactory.protocol builds, with our channel inside."""
    try:
        from twisted.web.http import _GenericHTTPChannelProtocol
    except ImportError:  # an older or newer Twisted: the channel alone (HTTP/1.1 only)
        return BoundedHTTPChannel()
    return _GenericHTTPChannelProtocol(BoundedHTTPChannel())


def bound_daphne_handshakes() -> None:
    """Install BoundedHTTPChannel into daphne (idempotent)."""
    try:
        from daphne.http_protocol import HTTPFactory
    except ImportError:
        return
    if getattr(HTTPFactory, "_collab_bounded", False):
        return
    HTTPFactory.protocol = _bounded_channel_factory
    HTTPFactory._collab_bounded = True
