"""Binary frames straight to daphne's websocket, framed once per broadcast.

A room forwards each update to every other local socket. Through ASGI, every copy
passes the consumer's `send`, Channels, the guard and admission wrappers, daphne's
reply coroutine and our close patch, and is framed again by autobahn for each
socket: about half of the CPU a delivered frame cost (issue 8's profile). So daphne
offers, in each websocket scope's `extensions` (ASGI's place for what a server
offers beyond the spec), a `DirectFrames` for the connection. An accepted socket
sends its binary frames through it:

- only while the connection is open (a closing or closed one, or a socket the
  guard gave up on, is left to the ASGI path, which knows what to do);
- within the backpressure patch's bound on unsent bytes (the same check);
- as autobahn's prepared message: framed once, and reused for every socket that
  is sent the same bytes object (a room's fan-out sends one object to all).

Accepting, closing and text frames always go the ASGI way.
"""

from __future__ import annotations

import functools
from typing import Any

from collab.realtime.daphne.backpressure import output_allowed

EXTENSION = "collab.direct_frames"
# Only frames up to this size are kept for reuse: a fan-out sends small updates, and a large
# answer (one socket's SyncStep2) must not stay in memory, twice, until the next frame.
REUSED_FRAME_BYTES = 64 * 1024


class DirectFrames:
    __slots__ = ("protocol",)

    def __init__(self, protocol: Any) -> None:
        self.protocol = protocol

    def send_binary(self, data: bytes) -> bool:
        """Send one binary message; False when it must go the ASGI way instead."""
        protocol = self.protocol
        if protocol.state != protocol.STATE_OPEN:
            return False
        if output_allowed(protocol, len(data)):
            protocol.sendPreparedMessage(_prepared(protocol.factory, data))
        return True  # or dropped for not reading, as the ASGI path would


def _prepared(factory: Any, data: bytes) -> Any:
    # The cache holds the bytes object itself, so its identity cannot be reused meanwhile.
    last = getattr(factory, "_collab_last_frame", None)
    if last is not None and last[0] is data:
        return last[1]
    prepared = factory.prepareMessage(data, isBinary=True)
    factory._collab_last_frame = (data, prepared) if len(data) <= REUSED_FRAME_BYTES else None
    return prepared


def direct_frames_of(scope: dict[str, Any]) -> DirectFrames | None:
    frames = scope.get("extensions", {}).get(EXTENSION)
    return frames if isinstance(frames, DirectFrames) else None


def offer_direct_frames() -> None:
    try:
        from daphne.server import Server
    except ImportError:
        return
    original = Server.create_application
    if getattr(original, "_collab_patched", False):
        return

    @functools.wraps(original)
    def create_application(self: Any, protocol: Any, scope: dict[str, Any]) -> Any:
        if scope.get("type") == "websocket" and hasattr(protocol, "sendPreparedMessage"):
            extensions = dict(scope.get("extensions") or {})
            extensions[EXTENSION] = DirectFrames(protocol)
            scope["extensions"] = extensions
        return original(self, protocol, scope)

    create_application._collab_patched = True  # type: ignore[attr-defined]
    Server.create_application = create_application
