"""WebsocketGuard: a socket whose set-up fails or hangs is accepted and closed with 4500."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
from django.test import override_settings

from collab.realtime.close_codes import CloseCode
from collab.realtime.ws_guard import WebsocketGuard

Message = dict[str, Any]


class FakeServer:
    """The server side of one socket: what the application sent, and a receive queue."""

    def __init__(self) -> None:
        self.sent: list[tuple[float, Message]] = []
        self.incoming: asyncio.Queue[Message] = asyncio.Queue()
        self.incoming.put_nowait({"type": "websocket.connect"})
        self.started = time.monotonic()

    async def send(self, message: Message) -> None:
        self.sent.append((time.monotonic() - self.started, message))

    async def receive(self) -> Message:
        return await self.incoming.get()

    def kinds(self) -> list[Any]:
        return [(m["type"], m.get("code")) for _, m in self.sent]


async def run(app: Any, server: FakeServer) -> None:
    scope = {"type": "websocket", "path": "/ws/test"}
    await asyncio.wait_for(WebsocketGuard(app)(scope, server.receive, server.send), 10)


async def test_exception_before_accept_is_accepted_and_closed_with_4500() -> None:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        await receive()
        raise RuntimeError("database down")

    server = FakeServer()
    await run(app, server)
    assert server.kinds() == [("websocket.accept", None), ("websocket.close", CloseCode.UNAVAILABLE)]
    assert server.sent[-1][0] < 0.5  # at once, not after the set-up deadline


async def test_exception_after_accept_closes_with_4500() -> None:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "websocket.accept"})
        raise RuntimeError("database down")

    server = FakeServer()
    await run(app, server)
    assert server.kinds() == [("websocket.accept", None), ("websocket.close", CloseCode.UNAVAILABLE)]


async def test_normal_sockets_pass_through_untouched() -> None:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        await receive()
        await send({"type": "websocket.accept"})
        await send({"type": "websocket.send", "text": "hi"})
        await send({"type": "websocket.close", "code": 4401})
        raise RuntimeError("after the close: nothing more to tell the client")

    server = FakeServer()
    await run(app, server)
    assert server.kinds() == [("websocket.accept", None), ("websocket.send", None), ("websocket.close", 4401)]


@override_settings(COLLAB_WS_SETUP_TIMEOUT=0.3)
async def test_a_hanging_set_up_is_closed_at_the_deadline_and_left_to_finish() -> None:
    finished = asyncio.Event()

    async def app(scope: Any, receive: Any, send: Any) -> None:
        await receive()
        await asyncio.sleep(1.0)  # e.g. a query on a hung database
        await send({"type": "websocket.accept"})  # too late: dropped
        await send({"type": "websocket.send", "text": "late"})
        message = await receive()  # the disconnect still arrives, clean-up still runs
        assert message["type"] == "websocket.disconnect"
        finished.set()

    server = FakeServer()
    task = asyncio.ensure_future(run(app, server))
    await asyncio.sleep(0.6)
    assert server.kinds() == [("websocket.accept", None), ("websocket.close", CloseCode.UNAVAILABLE)]
    assert 0.25 < server.sent[-1][0] < 0.5
    server.incoming.put_nowait({"type": "websocket.disconnect", "code": CloseCode.UNAVAILABLE})
    await task
    assert finished.is_set()
    assert len(server.sent) == 2


async def test_other_protocols_are_not_touched() -> None:
    calls: list[str] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        calls.append(scope["type"])
        raise RuntimeError("http errors are the http stack's business")

    with pytest.raises(RuntimeError):
        await WebsocketGuard(app)({"type": "http"}, FakeServer().receive, FakeServer().send)
    assert calls == ["http"]
