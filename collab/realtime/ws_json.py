"""A JSON websocket that never crashes on bad input, never writes to a closed socket, and
always gives back what it holds.

What a socket holds while open: a slot of COLLAB_MAX_CONNECTIONS (`collab.realtime.connections`) and
whatever its subclass or mixins took (a presence entry: `presence.sockets`). All of it is
released by `_release`, which runs exactly once on every way out: the client closing, the server
refusing, a handler raising, daphne cancelling the application (its close timeout, a
shutdown). Channels alone only cleans up on `websocket.disconnect`; an exception that
escapes a handler ends the application before that message is ever read, and the slot
and the presence entry then leaked for the life of the worker.
"""

from __future__ import annotations

import contextlib
import json
import logging
from typing import Any

from channels.exceptions import StopConsumer
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.conf import settings

from collab.realtime.close_codes import CloseCode
from collab.realtime.runtime import ConnectionCount, current_runtime
from collab.realtime.socket_admission import admission_refusal
from collab.realtime.ws_dispatch import DirectDispatchMixin

logger = logging.getLogger(__name__)

MAX_FRAME_CHARS = 64 * 1024  # JSON sockets carry small frames (a 10 000-character message fits many times)
# What daphne reads of one incoming message before closing with 1009 (collab.realtime.daphne.limits):
# above MAX_FRAME_CHARS so a slightly oversized frame still gets a polite `too_large`, and
# far below the CRDT sockets' COLLAB_MAX_FRAME_BYTES so a 31 MiB text frame is never read.
DEFAULT_TRANSPORT_BYTES = MAX_FRAME_CHARS + 32 * 1024


class JsonSocketConsumer(DirectDispatchMixin, AsyncJsonWebsocketConsumer):
    closed = False
    metrics_kind = "json"
    counted = False
    connections: ConnectionCount | None = None
    token_id: int | None = None  # the API token the socket authenticated with (None: a session)
    session_id: int | None = None  # the session record it authenticated with (None: a token)
    _released = False

    @classmethod
    def transport_frame_limit(cls) -> int:
        """The largest message daphne reads on this socket (see collab.realtime.daphne.limits)."""
        return int(getattr(settings, "COLLAB_JSON_MAX_FRAME_BYTES", DEFAULT_TRANSPORT_BYTES))

    # -- the socket's life: everything it holds is given back on every exit ------

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        try:
            await super().__call__(scope, receive, send)
        except Exception:
            # A handler of a group event, connect or disconnect failed: the socket's state is
            # unknown, so close it (the client reconnects and resumes) rather than guess.
            logger.exception("%s failed; closing the socket", type(self).__name__)
            if not self.closed:
                self.closed = True
                with contextlib.suppress(Exception):
                    await self.close(code=CloseCode.UNAVAILABLE)
        finally:
            # Also on cancellation (CancelledError is not an Exception).
            await self._release(CloseCode.UNAVAILABLE)

    async def dispatch(self, message: dict[str, Any]) -> None:
        try:
            await super().dispatch(message)
        except StopConsumer:
            raise
        except Exception:
            if message.get("type") != "websocket.receive" or self.closed:
                raise
            # One bad frame (or a bug it hit) costs that frame, not the socket.
            logger.exception("%s: a frame's handler failed", type(self).__name__)
            await self.send_error("internal", "the server could not handle this frame")

    async def websocket_disconnect(self, message: dict[str, Any]) -> None:
        await self._release(int(message.get("code", 1005)))
        raise StopConsumer()

    async def _release(self, code: int) -> None:
        """Give back the slot, then run `on_release` (mixins: presence), then `disconnect`.

        Once only. The slot is let go before the first await, so a second cancellation that
        interrupts the awaits below cannot keep it: at worst a presence entry already dropped
        from the hub expires after its TTL.
        """
        if self._released:
            return
        self._released = True
        self.closed = True
        if self.counted and self.connections is not None:
            self.counted = False
            self.connections.closed(self.metrics_kind)
        try:
            await self.on_release()
        except Exception:
            logger.exception("%s: on_release failed", type(self).__name__)
        try:
            await self.disconnect(code)
        except Exception:
            logger.exception("%s: disconnect failed", type(self).__name__)

    async def on_release(self) -> None:
        """Give back what a mixin holds (presence); runs once, before `disconnect`."""

    async def disconnect(self, code: int) -> None:
        """A hook for the subclass's own cleanup (groups, watches); runs once, never raises out."""

    # -- accepting ----------------------------------------------------------

    async def accept_user(self) -> Any:
        """Accept and return the admitted user, or refuse (see `socket_admission`) and return None."""
        await self.accept()
        self.connections = current_runtime().connections
        refusal = admission_refusal(self.scope, self.connections)
        if refusal is not None:
            await self.refuse(refusal.code, refusal.reason)
            return None
        self.connections.opened(self.metrics_kind)
        self.counted = True
        user = self.scope["user"]
        self.token_id = self.scope.get("token_id")
        self.session_id = self.scope.get("session_id")
        return user

    # -- frames -------------------------------------------------------------

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if self.closed:
            return
        if text_data is None:
            await self.send_error("bad_frame", "frames are JSON text")
        elif len(text_data) > MAX_FRAME_CHARS:
            await self.send_error("too_large", f"a frame is at most {MAX_FRAME_CHARS} characters")
        elif await self.admit_frame():
            try:
                content = json.loads(text_data)
            except RecursionError:
                # Deep nesting ("[[[[..." 30 000 times) exhausts the decoder's recursion limit;
                # RecursionError is not a ValueError and used to end the whole socket.
                await self.send_error("too_deep", "the frame's JSON is nested too deeply")
                return
            except ValueError:
                await self.send_error("bad_frame", "a frame is one JSON value")
                return
            await self.receive_json(content)

    async def admit_frame(self) -> bool:
        """A hook for flood guards: False drops the frame (the hook answers the client)."""
        return True

    async def send_error(
        self,
        code: str,
        message: str,
        frame: dict[str, Any] | None = None,
        retry_after: float | None = None,
    ) -> None:
        reply: dict[str, Any] = {"type": "error", "code": code, "message": message}
        if frame is not None:
            # Say which frame was refused, so a client can tie the error to its edit or reaction.
            reply["frame"] = frame.get("type")
            for key in ("client_id", "id"):
                if isinstance(frame.get(key), (str, int)) and not isinstance(frame.get(key), bool):
                    reply[key] = frame[key]
        if retry_after is not None:
            reply["retry_after"] = round(retry_after, 2)
        await self.send_json(reply)

    async def send_json(self, content: Any, close: bool = False) -> None:
        if not self.closed:
            await super().send_json(content, close)

    async def refuse(self, code: int, reason: str = "") -> None:
        """Close with an application code and a reason (the socket is accepted first so the
        client sees them). Once: a periodic check may find a socket that is already closing."""
        if self.closed:
            return
        self.closed = True
        await self.close(code=code, reason=reason[:120] or None)
