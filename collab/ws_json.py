"""A JSON websocket that never crashes on bad input and never writes to a closed socket."""

from __future__ import annotations

import json
from typing import Any

from channels.generic.websocket import AsyncJsonWebsocketConsumer

from collab import connections
from collab.connections import CLOSE_BUSY
from collab.ws_dispatch import DirectDispatchMixin

MAX_FRAME_CHARS = 64 * 1024  # JSON sockets carry small frames (a 10 000-character message fits many times)


class JsonSocketConsumer(DirectDispatchMixin, AsyncJsonWebsocketConsumer):
    closed = False
    metrics_kind = "json"
    counted = False

    async def accept_counted(self) -> bool:
        """Accept, counting the socket against COLLAB_MAX_CONNECTIONS; False: refused with 4503."""
        await self.accept()
        if connections.at_capacity():
            await self.refuse(CLOSE_BUSY)
            return False
        connections.opened(self.metrics_kind)
        self.counted = True
        return True

    async def accept_user(self) -> Any:
        """Accept and return the authenticated user, or refuse (4503 busy, 4401, 4403 origin): None."""
        user = self.scope.get("user")
        if not await self.accept_counted():
            return None
        if user is None or not user.is_authenticated:
            await self.refuse(4401)
            return None
        if not self.scope.get("origin_allowed", False):
            await self.refuse(4403)
            return None
        return user

    async def websocket_disconnect(self, message: dict[str, Any]) -> None:
        if self.counted:
            self.counted = False
            connections.closed(self.metrics_kind)
        await super().websocket_disconnect(message)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if self.closed:
            return
        if text_data is None:
            await self.send_error("bad_frame", "frames are JSON text")
        elif len(text_data) > MAX_FRAME_CHARS:
            await self.send_error("too_large", f"a frame is at most {MAX_FRAME_CHARS} characters")
        elif await self.admit_frame():
            await super().receive(text_data=text_data)

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

    @classmethod
    async def decode_json(cls, text_data: str) -> Any:
        """Undecodable text becomes None, which `receive_json` answers with an error frame."""
        try:
            return json.loads(text_data)
        except ValueError:
            return None

    async def send_json(self, content: Any, close: bool = False) -> None:
        if not self.closed:
            await super().send_json(content, close)

    async def refuse(self, code: int) -> None:
        """Close with an application code (the socket is accepted first so the client sees it)."""
        self.closed = True
        await self.close(code=code)
