"""Bounded output per websocket, enforced where the bytes wait: daphne's Twisted transport.

A client that asks for much and reads nothing makes the server buffer answers
without bound (4,000 four-byte SyncStep1 frames on a 50 KB document grew a
worker by 190 MB, and the memory stayed after the socket closed). Two rules,
for every socket kind:

- backpressure: while a socket's unsent output is above Twisted's buffer size
  (64 KiB), the server stops reading from it, so a client that does not read
  cannot make the server do more work for it;
- a hard limit: a socket whose unsent output would pass COLLAB_MAX_UNSENT_BYTES
  is dropped (the client sees 1006 and reconnects, with jittered back-off).
  One message larger than the limit is still sent to a drained socket (a big
  document's first SyncStep2).

The application cannot see the transport (ASGI hides it), hence a patch of
daphne's protocol, installed once at startup like `collab.realtime.daphne.limits`.
"""

from __future__ import annotations

import functools
import logging
from typing import Any

from django.conf import settings

from collab.realtime import metrics

logger = logging.getLogger(__name__)


def unsent_bytes(transport: Any) -> int:
    """Bytes written to a Twisted TCP transport and not yet taken by the kernel."""
    buffered = len(getattr(transport, "dataBuffer", b"")) - int(getattr(transport, "offset", 0))
    return buffered + int(getattr(transport, "_tempDataLen", 0))


def output_allowed(protocol: Any, size: int) -> bool:
    """Whether `size` more bytes may be queued on a websocket; drops the socket (once) if not."""
    transport = getattr(protocol, "transport", None)
    if transport is None:
        return True
    unsent = unsent_bytes(transport)
    if unsent <= 0 or unsent + size <= settings.COLLAB_MAX_UNSENT_BYTES:
        return True
    if not getattr(protocol, "_collab_dropped", False):
        protocol._collab_dropped = True
        metrics.FRAMES_REJECTED.labels("unsent_limit").inc()
        logger.warning(
            "dropping a websocket that does not read (%d bytes unsent) on %s",
            unsent,
            getattr(getattr(protocol, "request", None), "path", "?"),
        )
        protocol.dropConnection(abort=True)
    return False


class _PauseReading:
    """A streaming producer on the transport: Twisted pauses it when the write buffer fills up."""

    def __init__(self, transport: Any) -> None:
        self.transport = transport

    def pauseProducing(self) -> None:  # noqa: N802 - Twisted's IPushProducer
        self.transport.stopReading()

    def resumeProducing(self) -> None:  # noqa: N802
        self.transport.startReading()

    def stopProducing(self) -> None:  # noqa: N802
        pass


def bound_websocket_output() -> None:
    try:
        from daphne.ws_protocol import WebSocketProtocol
    except ImportError:
        return
    if getattr(WebSocketProtocol.serverSend, "_collab_patched", False):
        return
    original_open = WebSocketProtocol.onOpen
    original_send = WebSocketProtocol.serverSend

    @functools.wraps(original_open)
    def on_open(self: Any) -> None:
        original_open(self)
        transport = getattr(self, "transport", None)
        if transport is not None and getattr(transport, "producer", None) is None:
            try:
                transport.registerProducer(_PauseReading(transport), True)
            except Exception:  # a transport kind without producers: only the hard limit applies
                logger.debug("no backpressure on %r", transport, exc_info=True)

    @functools.wraps(original_send)
    def server_send(self: Any, content: Any, binary: bool = False) -> None:
        if output_allowed(self, len(content)):
            original_send(self, content, binary)

    server_send._collab_patched = True  # type: ignore[attr-defined]
    WebSocketProtocol.onOpen = on_open
    WebSocketProtocol.serverSend = server_send
