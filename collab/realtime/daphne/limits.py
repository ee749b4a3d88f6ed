"""daphne's websocket message limits: COLLAB_MAX_FRAME_BYTES for the server, less per socket kind.

daphne refuses messages and frames over 1 MiB unless started with
--websocket-max-message-size / --websocket-max-frame-size; a large document's first SyncStep2 easily
exceeds that, and y-websocket then retries the same oversized message forever.
`daphne asgi:application` is our start contract, so when the operator did not
choose a limit, the server gets COLLAB_MAX_FRAME_BYTES. autobahn enforces it
while the message arrives (nothing larger is buffered) and closes with 1009:
applications cannot send 1009 themselves (only 1000 and 3000-4999).

One limit for every socket is too much for most of them: a chat socket refuses
frames over 64 KiB anyway, but only after daphne has read a 31 MiB one whole. So
each connection gets its own limit when its handshake arrives, before any frame
is read: autobahn keeps `maxMessagePayloadSize`/`maxFramePayloadSize` per protocol
instance (copied from the factory at connectionMade, read on every incoming frame
header), and daphne's `onConnect(request)` is the first place that knows the path.
The limit comes from the consumer the path routes to (its `transport_frame_limit()`
classmethod, declared by the JSON sockets' base class), never from a list of paths
here; a consumer that declares none gets the server's limit (CRDT sockets). The
route table is the setting COLLAB_WS_ROUTES (an import path), by default the one
asgi.py serves.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Sequence
from typing import Any
from urllib.parse import unquote

from django.conf import settings
from django.utils.module_loading import import_string

logger = logging.getLogger(__name__)

DAPHNE_DEFAULT_LIMIT = 1024 * 1024
DEFAULT_ROUTES = "collab.conf.ws_routing.websocket_urlpatterns"


def raise_daphne_message_limit() -> None:
    try:
        from daphne.server import Server
        from daphne.ws_protocol import WebSocketFactory
    except ImportError:
        return
    _close_cleanly_when_too_big(WebSocketFactory)
    _limit_per_connection(WebSocketFactory)
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


# -- per connection ------------------------------------------------------------


def _routes() -> Sequence[Any]:
    routes: Sequence[Any] = import_string(getattr(settings, "COLLAB_WS_ROUTES", DEFAULT_ROUTES))
    return routes


def _declared_limit(routes: Sequence[Any], path: str) -> int | None:
    """What the consumer that `path` routes to declares, following nested routers."""
    for route in routes:
        match = route.pattern.match(path)
        if not match:
            continue
        target = route.callback
        while not hasattr(target, "consumer_class") and hasattr(target, "inner"):
            target = target.inner  # middleware around a consumer or a router
        if hasattr(target, "routes"):
            return _declared_limit(target.routes, match[0])  # the rest of the path
        declare = getattr(getattr(target, "consumer_class", None), "transport_frame_limit", None)
        return int(declare()) if callable(declare) else None
    return None


def frame_limit_for(path: str, server_limit: int, routes: Sequence[Any] | None = None) -> int:
    """The largest incoming message on a socket at `path` (as URLRouter sees it): what its
    consumer declares, never more than the server's own limit (an operator's choice wins)."""
    declared = _declared_limit(_routes() if routes is None else routes, path.lstrip("/"))
    if declared is None or declared <= 0:
        return server_limit
    return declared if server_limit <= 0 else min(declared, server_limit)


def _limit_per_connection(factory_class: Any) -> None:
    protocol_class = factory_class.protocol
    if getattr(protocol_class, "_collab_limited", False):
        return

    class PerPathLimitProtocol(protocol_class):  # type: ignore[misc, valid-type]
        _collab_limited = True

        def onConnect(self, request: Any) -> Any:  # noqa: N802 - autobahn's name
            handshake = super().onConnect(request)
            try:
                path = unquote(request.path)
                root = getattr(self, "root_path", "") or ""
                if root and path.startswith(root):
                    path = path[len(root) :]  # as URLRouter strips it
                limit = frame_limit_for(path, self.factory.maxMessagePayloadSize)
                self.maxMessagePayloadSize = limit
                frame_limit = self.factory.maxFramePayloadSize
                self.maxFramePayloadSize = limit if frame_limit <= 0 else min(limit, frame_limit)
            except Exception:
                logger.exception("could not choose a frame limit for %r; using the server's", request.path)
            return handshake

        def sendMessage(self, payload: bytes, isBinary: bool = False, *args: Any, **kwargs: Any) -> Any:  # noqa: N802, N803
            # autobahn checks outgoing messages against the same attribute; the per-socket limit
            # is for what the client sends (a presence list or a long message may be larger).
            incoming = self.maxMessagePayloadSize
            self.maxMessagePayloadSize = self.factory.maxMessagePayloadSize
            try:
                return super().sendMessage(payload, isBinary, *args, **kwargs)
            finally:
                self.maxMessagePayloadSize = incoming

    PerPathLimitProtocol.__name__ = protocol_class.__name__
    PerPathLimitProtocol.__qualname__ = protocol_class.__qualname__
    factory_class.protocol = PerPathLimitProtocol
