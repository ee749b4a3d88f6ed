"""Raise daphne's websocket message and frame limits to ours.

daphne refuses messages and frames over 1 MiB unless started with
--websocket-max-message-size / --websocket-max-frame-size; a large document's first SyncStep2 easily
exceeds that, and y-websocket then retries the same oversized message forever.
`daphne asgi:application` is our start contract, so when the operator did not
choose a limit, the server gets COLLAB_MAX_FRAME_BYTES (plus headroom, so our
own check answers with close code 1009 and counts it in the metrics).
"""

from __future__ import annotations

import functools
from typing import Any

from django.conf import settings

DAPHNE_DEFAULT_LIMIT = 1024 * 1024
HEADROOM = 64 * 1024


def raise_daphne_message_limit() -> None:
    try:
        from daphne.server import Server
    except ImportError:
        return
    if getattr(Server.__init__, "_collab_patched", False):
        return
    original = Server.__init__

    @functools.wraps(original)
    def init(self: Any, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        limit = settings.COLLAB_MAX_FRAME_BYTES + HEADROOM
        if self.websocket_max_message_size == DAPHNE_DEFAULT_LIMIT:
            self.websocket_max_message_size = limit
        if self.websocket_max_frame_size == DAPHNE_DEFAULT_LIMIT:
            self.websocket_max_frame_size = limit

    init._collab_patched = True  # type: ignore[attr-defined]
    Server.__init__ = init
