"""A websocket chat client and room set-up for end-to-end tests."""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any

import websockets

from tests.e2e.servers import User, Worker


def make_room(worker: Worker, owner: User, *members: User, private: bool = True) -> int:
    status, body = worker.request(
        "POST", "/api/chat/rooms", {"name": "team", "private": private}, owner.token
    )
    assert status == 201, body
    for member in members:
        status, _ = worker.request(
            "POST", f"/api/chat/rooms/{body['id']}/members", {"username": member.username}, owner.token
        )
        assert status == 201
    room_id: int = body["id"]
    return room_id


class ChatClient:
    def __init__(self, socket: Any) -> None:
        self.socket = socket
        self.frames: list[dict[str, Any]] = []

    @classmethod
    async def open(cls, worker: Worker, room_id: int | None, user: User, **query_params: int) -> ChatClient:
        """A room socket (`ws/chat/{room_id}`), or the inbox (`ws/chat`) when room_id is None."""
        query = f"?token={user.token}" + "".join(f"&{k}={v}" for k, v in query_params.items())
        path = "/ws/chat" if room_id is None else f"/ws/chat/{room_id}"
        socket = await websockets.connect(f"ws://127.0.0.1:{worker.port}{path}{query}")
        return cls(socket)

    async def send(self, **frame: Any) -> None:
        await self.socket.send(json.dumps(frame))

    async def next(self, kind: str, within: float = 10.0) -> dict[str, Any]:
        async with asyncio.timeout(within):
            while True:
                frame = json.loads(await self.socket.recv())
                self.frames.append(frame)
                if frame["type"] == kind:
                    return frame

    async def post(self, body: str, client_id: str | None = None) -> dict[str, Any]:
        client_id = client_id or uuid.uuid4().hex
        await self.send(type="message.send", client_id=client_id, body=body)
        return await self.next("message.ack")

    async def collect_new(self, count: int) -> list[dict[str, Any]]:
        got = [f for f in self.frames if f["type"] == "message.new"]
        while len(got) < count:
            got.append(await self.next("message.new"))
        return got
