"""Hostile frames on the JSON sockets (chat room, inbox) of a real daphne worker.

A frame the JSON decoder cannot take must cost that frame only: the socket keeps
working, and whatever happens to a socket, its connection slot and its presence
entry come back. And a socket reads no more than its kind needs: a chat socket's
limit is a few dozen KiB, a document socket's COLLAB_MAX_FRAME_BYTES.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import psutil
import websockets

from tests.e2e.chatclient import ChatClient, make_room
from tests.e2e.scenarios import wait_until
from tests.e2e.servers import User, Worker, make_document, make_user
from tests.e2e.test_document_sync import stored_text
from tests.e2e.yclient import YClient

StartWorker = Callable[..., Worker]
Connect = Callable[..., YClient]

NESTED = "[" * 30_000 + "]" * 30_000  # 60 KB: under the 64 KiB frame limit, too deep to decode
MIB = 1024 * 1024


def online_names(worker: Worker, user: User) -> set[str]:
    status, body = worker.request("GET", "/api/presence/online", None, user.token)
    assert status == 200, body
    return {entry["user"] for entry in body["users"]}


async def close_code(socket: Any, within: float) -> int | None:
    """The code the server closed `socket` with (None: still open after `within` seconds)."""
    try:
        async with asyncio.timeout(within):
            while True:
                await socket.recv()
    except websockets.ConnectionClosed as closed:
        return closed.rcvd.code if closed.rcvd is not None else 1006
    except TimeoutError:
        return None


def test_deeply_nested_frames_are_refused_and_every_socket_gives_its_slot_back(
    start_worker: StartWorker,
) -> None:
    worker = start_worker(COLLAB_MAX_CONNECTIONS="20")
    mallory, alice = make_user(worker, "deepmallory"), make_user(worker, "deepalice")
    room_id = make_room(worker, mallory, alice)
    document_id = make_document(worker, mallory)

    async def hostile_rounds() -> None:
        for index in range(25):  # more than the worker has slots
            client = await ChatClient.open(worker, room_id if index % 2 else None, mallory)
            await client.socket.send(NESTED)
            error = await client.next("error")
            assert error["code"] == "too_deep", error
            await client.send(type="ping")  # the same socket keeps working
            await client.next("pong")
            await client.socket.close()

    async def full_house() -> None:
        doc = await websockets.connect(
            f"ws://127.0.0.1:{worker.port}/ws/docs/{document_id}?token={mallory.token}"
        )
        chats = [await ChatClient.open(worker, room_id if i % 2 else None, mallory) for i in range(19)]
        for chat in chats:  # every slot is free again: 20 sockets of both kinds open
            await chat.send(type="ping")
            await chat.next("pong")
        assert isinstance(await asyncio.wait_for(doc.recv(), 10), bytes)  # the document's SyncStep1
        extra = await ChatClient.open(worker, room_id, mallory)  # and the cap is still the cap
        assert await close_code(extra.socket, within=10) == 4503
        for chat in chats:
            await chat.socket.close()
        await doc.close()

    asyncio.run(hostile_rounds())
    asyncio.run(full_house())
    # TTL 3 s in the e2e settings; a leaked entry would be renewed for as long as the worker lives.
    wait_until(lambda: "deepmallory" not in online_names(worker, alice), 8, "mallory to go offline")
    assert "Traceback" not in worker.log_tail(200)


class PeakRss:
    """The largest resident size of a process while the block runs (sampled every 5 ms)."""

    def __init__(self, pid: int) -> None:
        self.process = psutil.Process(pid)
        self.baseline = self.peak = self.process.memory_info().rss
        self._stop = threading.Event()

    @contextlib.contextmanager
    def watching(self) -> Iterator[PeakRss]:
        thread = threading.Thread(target=self._sample, daemon=True)
        thread.start()
        try:
            yield self
        finally:
            self._stop.set()
            thread.join()

    def _sample(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self.process.memory_info().rss)
            time.sleep(0.005)

    @property
    def growth(self) -> int:
        return self.peak - self.baseline


async def send_big_text(worker: Worker, room_id: int, user: User, size: int) -> tuple[int | None, float]:
    """Send one text frame of `size` bytes on a chat socket; (close code, seconds until closed)."""
    client = await ChatClient.open(worker, room_id, user)
    await client.next("presence")
    started = time.monotonic()
    with contextlib.suppress(websockets.ConnectionClosed):
        await client.socket.send("x" * size)
    code = await close_code(client.socket, within=10)
    return code, time.monotonic() - started


def test_a_chat_socket_reads_no_more_than_its_limit_and_documents_keep_theirs(
    start_worker: StartWorker, yclient: Connect
) -> None:
    worker = start_worker()
    alice, bob = make_user(worker, "bigalice"), make_user(worker, "bigbob")
    room_id = make_room(worker, alice, bob)
    assert worker.process is not None

    async def scenario() -> None:
        code, seconds = await send_big_text(worker, room_id, alice, MIB)
        assert code == 1009 and seconds < 5, (code, seconds)
        rss = PeakRss(worker.process.pid)  # type: ignore[union-attr]
        with rss.watching():
            code, seconds = await send_big_text(worker, room_id, alice, 24 * MIB)
        assert code == 1009 and seconds < 10, (code, seconds)
        # Read whole, 24 MiB of text would cost the worker at least that much (bytes, then str).
        assert rss.growth < 8 * MIB, f"the worker grew by {rss.growth / MIB:.1f} MiB"
        # Others on the same worker never noticed.
        b = await ChatClient.open(worker, room_id, bob)
        ack = await b.post("still here")
        assert ack["seq"] == 1
        await b.socket.close()

    asyncio.run(scenario())

    # A document socket still takes a 2 MiB update (COLLAB_MAX_FRAME_BYTES, not the chat limit).
    document_id = make_document(worker, alice)
    editor = yclient(worker.ws_docs, document_id, alice.token, "alice")
    editor.wait_synced()
    payload = "0123456789abcdef" * (2 * MIB // 16)
    editor.call("insert", index=0, text=payload)
    stored = lambda: len(stored_text(worker, document_id, alice.token)) == len(payload)  # noqa: E731
    wait_until(stored, 30, "the update stored")
    fresh = yclient(worker.ws_docs, document_id, alice.token, "fresh")
    fresh.wait_synced(timeout_ms=30000)
    assert fresh.wait_text(equals=payload, timeout_ms=30000) == payload
    assert not editor.closes
