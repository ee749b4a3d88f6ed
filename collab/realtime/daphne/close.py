"""Close reasons reach the client: daphne 4 drops the `reason` of an ASGI `websocket.close`.

It also turns a `CloseCode` (an IntEnum) into the plain int autobahn insists on.

Clients learn why they were refused and when to retry ("busy, retry in 3 s",
"no access to this document") only from the reason, so daphne's close handling
passes it on (truncated to the 123 bytes a close frame can carry).
"""

from __future__ import annotations

import functools
from typing import Any


def pass_close_reasons() -> None:
    try:
        from daphne.ws_protocol import WebSocketProtocol
    except ImportError:
        return
    if getattr(WebSocketProtocol.handle_reply, "_collab_patched", False):
        return
    original = WebSocketProtocol.handle_reply

    @functools.wraps(original)
    def handle_reply(self: Any, message: dict[str, Any]) -> None:
        if message.get("type") == "websocket.close" and message.get("code") is not None:
            # autobahn takes only an exact int: a CloseCode (an IntEnum) is refused with an exception.
            message = {**message, "code": int(message["code"])}
        reason = message.get("reason")
        if message.get("type") == "websocket.close" and reason and self.state != self.STATE_CONNECTING:
            code = message.get("code") or 1000
            self.sendClose(code=code, reason=str(reason))
            return
        original(self, message)

    handle_reply._collab_patched = True  # type: ignore[attr-defined]
    WebSocketProtocol.handle_reply = handle_reply
