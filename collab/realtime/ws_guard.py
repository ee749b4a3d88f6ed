"""The outermost websocket layer: a socket that fails to set up is closed with 4500, visibly.

Without it, an exception in authentication or in a consumer's set-up (the typical cause: the
database is down) reaches daphne, which answers the handshake with HTTP 500 (before accept)
or closes with 1011 (after accept); browsers and y-websocket report both as 1006 with no
reason, and a set-up that hangs is refused by daphne with HTTP 403 after
--websocket_connect_timeout (5 s). The ASGI websocket spec lets an application send
`websocket.close` before `websocket.accept`, but servers turn that into HTTP 403 as well;
only accept followed by close carries a code to the client. So this layer:

- on an exception before the socket was closed: accepts it (if needed) and closes it with
  4500 "service unavailable, retry" (the documented retryable code); the exception is logged;
- when the application has neither accepted nor closed the socket within
  COLLAB_WS_SETUP_TIMEOUT seconds (4, below daphne's 5): does the same, and from then on
  drops whatever the application still sends. The application keeps running and receives
  the disconnect as usual, so its own clean-up (rooms, counters, presence) still happens;
  it is not cancelled half-way through a set-up.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from django.conf import settings

from collab.realtime import errors
from collab.realtime.close_codes import CloseCode

logger = logging.getLogger(__name__)

Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
App = Callable[..., Awaitable[Any]]  # an ASGI application (Channels' are loosely typed)

REASON = "service unavailable, retry"
SETUP_TIMEOUT_SECONDS = 4.0


class WebsocketGuard:
    def __init__(self, inner: App) -> None:
        self.inner = inner

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope.get("type") != "websocket":
            await self.inner(scope, receive, send)
            return
        socket = _GuardedSocket(send)
        timeout = float(getattr(settings, "COLLAB_WS_SETUP_TIMEOUT", SETUP_TIMEOUT_SECONDS))
        app = asyncio.ensure_future(self.inner(scope, receive, socket.send))
        answered = asyncio.ensure_future(socket.answered.wait())
        try:
            await asyncio.wait([app, answered], timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
            answered.cancel()
            if not app.done() and not socket.answered.is_set():
                path = scope.get("path")
                logger.warning("websocket %s not set up within %.1f s: closed with 4500", path, timeout)
                await socket.give_up()
            await app
            if not socket.answered.is_set():
                # The application ended without accepting or closing (a consumer whose set-up
                # failed before it could send, e.g. Channels' new_channel() with Redis down):
                # the client must still get a code, not a dropped handshake.
                logger.warning("websocket %s ended unanswered: closed with 4500", scope.get("path"))
                await socket.give_up()
        except asyncio.CancelledError:
            # daphne cancels an application that outlives its connection: pass it on.
            answered.cancel()
            app.cancel()
            raise
        except Exception as exc:
            if errors.is_database_unavailable(exc) or errors.is_cache_unavailable(exc):
                # Expected while a dependency is down: one line per socket, no traceback.
                logger.warning("websocket %s: closed with 4500: %s", scope.get("path"), exc)
            else:
                logger.exception("websocket %s failed", scope.get("path"))
            await socket.give_up()


class _GuardedSocket:
    """The application's `send`, remembering how far the handshake got."""

    def __init__(self, send: Send) -> None:
        self._send = send
        self.accepted = False
        self.closed = False
        self.detached = False  # given up on: the application's messages go nowhere
        self.answered = asyncio.Event()  # the application accepted or closed

    async def send(self, message: Message) -> None:
        if self.detached:
            return
        kind = message.get("type")
        if kind == "websocket.accept":
            self.accepted = True
            self.answered.set()
        elif kind == "websocket.close":
            self.closed = True
            self.answered.set()
        await self._send(message)

    async def give_up(self) -> None:
        if self.detached or self.closed:
            return
        self.detached = True
        # The client may be gone already; nothing more to do then.
        with contextlib.suppress(Exception):
            if not self.accepted:
                await self._send({"type": "websocket.accept"})
            await self._send({"type": "websocket.close", "code": CloseCode.UNAVAILABLE, "reason": REASON})
