"""Chat through a Redis outage, on a real daphne worker and a Redis server of this test's own.

The worker's Redis (channel layer, cache, presence) is a redis-server the test
starts on a free port and stops for the outage, never the machine's shared one.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator

import pytest

from tests.chat.ownredis import OwnRedis
from tests.e2e.chatclient import ChatClient, make_room
from tests.e2e.servers import Worker, make_user

StartWorker = Callable[..., Worker]


@pytest.fixture
def own_redis() -> Iterator[OwnRedis]:
    server = OwnRedis()
    server.start()
    yield server
    server.stop()


def test_messages_are_stored_and_acknowledged_while_redis_is_down(
    start_worker: StartWorker, own_redis: OwnRedis
) -> None:
    worker = start_worker(REDIS_URL=own_redis.url, COLLAB_CHAT_RATE="5/60")
    alice = make_user(worker, "outagealice")
    room_id = make_room(worker, alice)

    async def scenario() -> None:
        a = await ChatClient.open(worker, room_id, alice)
        assert (await a.post("before"))["seq"] == 1
        own_redis.stop()
        acks = [await a.post(f"during {index}") for index in range(3)]
        assert [ack["seq"] for ack in acks] == [2, 3, 4]
        own_redis.start()
        await a.socket.close()

    asyncio.run(scenario())
    status, page = worker.request("GET", f"/api/chat/rooms/{room_id}/messages?after=0", None, alice.token)
    assert status == 200
    assert [m["body"] for m in page["messages"]] == ["before", "during 0", "during 1", "during 2"]
    assert worker.log_tail(400).count("counting in this process") == 1


def test_new_chat_sockets_during_a_redis_outage_get_4500_at_once(
    start_worker: StartWorker, own_redis: OwnRedis
) -> None:
    """Channels' consumer set-up subscribes in Redis before the socket can answer; with Redis
    down the handshake used to be dropped after 5 s with no code (a browser sees 1006)."""
    import contextlib
    import time

    import websockets

    worker = start_worker(REDIS_URL=own_redis.url)
    alice = make_user(worker, "outagebob")
    room_id = make_room(worker, alice)
    own_redis.stop()

    async def connect(path: str) -> tuple[int | None, float]:
        started = time.monotonic()
        async with websockets.connect(f"ws://127.0.0.1:{worker.port}{path}?token={alice.token}") as socket:
            with contextlib.suppress(websockets.ConnectionClosed):
                await asyncio.wait_for(socket.recv(), 10)
            return socket.close_code, time.monotonic() - started

    for path in (f"/ws/chat/{room_id}", "/ws/chat"):
        code, took = asyncio.run(connect(path))
        assert code == 4500, path
        assert took < 3, (path, took)
    own_redis.start()
