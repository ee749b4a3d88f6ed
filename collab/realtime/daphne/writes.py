"""Sending without detours: two patches of the libraries under daphne, installed once at startup.

Measured with 20 Yjs clients on one document (issue 8's profile): the worker spent
more time getting frames onto sockets than on everything else.

1. **Write at once.** Twisted buffers every write on a TCP connection and sends it
   on a later turn of the loop, when the selector reports the socket writable: each
   frame cost registering a writer (an `epoll_ctl`), a loop turn, the send, and
   unregistering (another `epoll_ctl`). asyncio and libuv try the send at once when
   nothing is buffered; so does this patch. Whatever the kernel does not take (a
   slow reader) is buffered as before, after anything already buffered, so the
   order of bytes and Twisted's flow control (producers, `bufferSize`, the
   backpressure patch) are unchanged.
2. **No debug formatting.** autobahn builds colourised arguments (`hltype`,
   `hlval`) for debug log lines on every frame sent and received, and pretty-prints
   its whole configuration for a debug line on every new connection (6 % of a
   worker's event loop in a reconnect storm), whatever the log level; the values are
   passed as they are, and the configuration is formatted only if the line is logged.
"""

from __future__ import annotations

import errno
import pprint
from typing import Any

_RETRY_LATER = (errno.EAGAIN, errno.EWOULDBLOCK, errno.EINTR)


def write_at_once() -> None:
    from twisted.internet import abstract, tcp

    buffered_write = abstract.FileDescriptor.write
    if getattr(buffered_write, "_collab_patched", False):
        return

    def write(self: Any, data: bytes) -> None:
        if (
            data
            and type(data) is bytes
            and isinstance(self, tcp.Connection)
            and not getattr(self, "TLS", False)  # Twisted's old in-place TLS writes elsewhere
            and self.connected
            and not self._writeDisconnected
            and not self._tempDataBuffer
            and len(self.dataBuffer) <= self.offset
        ):
            try:
                sent = self.socket.send(data)
            except OSError as error:
                if error.errno not in _RETRY_LATER:
                    return buffered_write(self, data)  # doWrite meets the error and closes, as before
                sent = 0
            if sent >= len(data):
                return None
            data = data[sent:]
        return buffered_write(self, data)

    write._collab_patched = True  # type: ignore[attr-defined]
    abstract.FileDescriptor.write = write  # type: ignore[method-assign]


def plain_autobahn_debug_arguments() -> None:
    try:
        import autobahn.websocket.protocol as protocol
    except ImportError:
        return

    def plain(value: Any, *args: Any, **kwargs: Any) -> Any:
        return value  # formatted by the logger, and only if the line is logged

    setattr(protocol, "hltype", plain)  # noqa: B010 (a module global autobahn reads)
    setattr(protocol, "hlval", plain)  # noqa: B010
    setattr(protocol, "pformat", _PrettyWhenFormatted)  # noqa: B010
    # The one caller that needs a real string from it (timings, off unless tracked).
    protocol.Timings.__str__ = _timings_text  # type: ignore[method-assign]


def _timings_text(self: Any) -> str:
    return pprint.pformat(self._timings)


class _PrettyWhenFormatted:
    """`pprint.pformat(value)`, computed only when a log line is really formatted."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value

    def __format__(self, spec: str) -> str:
        return format(pprint.pformat(self.value), spec)

    def __str__(self) -> str:
        return pprint.pformat(self.value)
