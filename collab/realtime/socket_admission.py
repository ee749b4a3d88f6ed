"""The checks every websocket passes before its own authorisation, and the one refusal type.

Both socket bases (the CRDT socket in `collab.engine.consumer`, the JSON socket in
`collab.realtime.ws_json`) admit a connection the same way and in the same order:

1. the worker's connection budget (COLLAB_MAX_CONNECTIONS): 4503, retry later;
2. authentication (a session cookie or an API token, set by `ws_auth`): 4401;
3. the Origin check for cookie sockets (also `ws_auth`): 4403;

then the socket's own authorisation (may this user open this document or room?),
which raises `RefusedError` with its code. A refused socket is accepted first, so the
client sees the code and the reason, then closed.
"""

from __future__ import annotations

from typing import Any

from collab.realtime.close_codes import CloseCode
from collab.realtime.runtime import ConnectionCount


class RefusedError(Exception):
    """A socket refused with a close code and a reason the client sees."""

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


def admission_refusal(scope: dict[str, Any], connections: ConnectionCount) -> RefusedError | None:
    """Why this socket may not be admitted to a worker holding `connections`, or None; no I/O."""
    if connections.at_capacity():
        return RefusedError(CloseCode.BUSY, "server busy, retry later")
    user = scope.get("user")
    if user is None or not user.is_authenticated:
        return RefusedError(CloseCode.UNAUTHENTICATED, "authentication required")
    if not scope.get("origin_allowed", False):
        return RefusedError(CloseCode.FORBIDDEN, "origin not allowed")
    return None
