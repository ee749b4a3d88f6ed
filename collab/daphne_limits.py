"""Raise daphne's websocket message and frame limits to ours.

daphne refuses messages and frames over 1 MiB unless started with
--websocket-max-message-size / --websocket-max-frame-size; a large document's first SyncStep2 easily
exceeds that, and y-websocket then retries the same oversized message forever.
`daphne asgi:application` is our start contract, so when the operator did not
choose a limit, the server gets COLLAB_MAX_FRAME_BYTES. autobahn enforces it
while the message arrives (nothing larger is buffered) and closes with 1009:
applications cannot send 1009 themselves (only 1000 and 3000-4999).
"""

from __future__ import annotations

import functools
from typing import Any

from django.conf import settings

DAPHNE_DEFAULT_LIMIT = 1024 * 1024


def raise_daphne_message_limit() -> None:
    try:
        from daphne.server import Server
        from daphne.ws_protocol import WebSocketFactory
    except ImportError:
        return
    _close_cleanly_when_too_big(WebSocketFactory)
    if getattr(Server.__init__, "_collab_patched", False):
        return
    original = Server.__init__

    @functools.wraps(original)
    def init(self: Any, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        limit = settings.COLLAB_MAX_FRAME_BYTES
        if self.websocket_max_message_size == DAPHNE_DEFAULT_LIMIT:
            self.websocket_max_message_size = limit
        if self.websocket_max_frame_size == DAPHNE_DEFAULT_LIMIT:
            self.websocket_max_frame_size = limit

    init._collab_patched = True  # type: ignore[attr-defined]
    Server.__init__ = init


def _close_cleanly_when_too_big(factory_class: Any) -> None:
    """autobahn drops the TCP connection on an oversized message (the client sees 1006);
    with failByDrop off it sends a proper close frame with code 1009 first."""
    if getattr(factory_class.setProtocolOptions, "_collab_patched", False):
        return
    original = factory_class.setProtocolOptions

    @functools.wraps(original)
    def set_options(self: Any, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("failByDrop", False)
        original(self, *args, **kwargs)

    set_options._collab_patched = True  # type: ignore[attr-defined]
    factory_class.setProtocolOptions = set_options
