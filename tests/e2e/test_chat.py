"""Chat over real daphne workers sharing Redis: order, acknowledgements, retries, resume."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Callable
from typing import Any

import websockets

from tests.e2e.chatclient import ChatClient, make_room
from tests.e2e.servers import Worker, make_user

StartWorker = Callable[..., Worker]


def test_two_workers_chat_in_one_order_and_retries_store_once(start_worker: StartWorker) -> None:
    first, second = start_worker(), start_worker()
    alice, bob = make_user(first, "chatalice"), make_user(first, "chatbob")
    room_id = make_room(first, alice, bob)

    async def scenario() -> None:
        a = await ChatClient.open(first, room_id, alice)
        b = await ChatClient.open(second, room_id, bob)
        for index in range(10):
            await (a if index % 2 else b).post(f"message {index}")
        seen_a = [m["message"]["seq"] for m in await a.collect_new(10)]
        seen_b = [m["message"]["seq"] for m in await b.collect_new(10)]
        assert seen_a == seen_b == list(range(1, 11))
        acks = [await a.post("once", client_id="retry-1") for _ in range(3)]
        assert len({ack["seq"] for ack in acks}) == 1
        await a.socket.close()
        again = await ChatClient.open(second, room_id, alice)
        ack = await again.post("once", client_id="retry-1")  # a retry after a reconnect
        assert ack["seq"] == acks[0]["seq"]
        await again.socket.close()
        await b.socket.close()

    asyncio.run(scenario())
    status, page = first.request(
        "GET", f"/api/chat/rooms/{room_id}/messages?after=0&limit=50", None, alice.token
    )
    assert status == 200
    assert [m["seq"] for m in page["messages"]] == list(range(1, 12))


def test_resume_after_500_messages_with_edits_and_deletions(start_worker: StartWorker) -> None:
    first, second = start_worker(), start_worker()
    alice, bob = make_user(first, "resalice"), make_user(first, "resbob")
    room_id = make_room(first, alice, bob)

    async def scenario() -> None:
        b = await ChatClient.open(second, room_id, bob)
        await b.post("before I leave")
        last = (await b.collect_new(1))[0]["message"]["version_seq"]
        await b.socket.close()
        a = await ChatClient.open(first, room_id, alice)
        ids = [(await a.post(f"while away {index}"))["id"] for index in range(500)]
        for message_id in ids[:3]:
            await a.send(type="message.edit", id=message_id, body="edited")
        for message_id in ids[3:5]:
            await a.send(type="message.delete", id=message_id)
        await a.post("last one")
        await a.socket.close()
        # bob comes back with the last version he had: each change since, once, in order
        back = await ChatClient.open(second, room_id, bob, after_version=last)
        state: dict[int, dict[str, Any]] = {}
        versions: list[int] = []
        while True:
            frame = json.loads(await back.socket.recv())
            if frame["type"].startswith("message."):
                versions.append(frame["message"]["version_seq"])
                state[frame["message"]["seq"]] = frame["message"]
            elif frame["type"] == "resume.partial":
                await back.send(type="resume", after_version=frame["after_version"])
            elif frame["type"] == "resume.done":
                break
        await back.socket.close()
        assert versions == sorted(versions) and len(versions) == len(set(versions))
        assert sorted(state) == list(range(2, 503))  # everything after the one bob had
        assert [state[s]["body"] for s in (2, 3, 4)] == ["edited"] * 3
        assert state[5]["deleted"] and state[6]["deleted"] and state[5]["body"] == ""
        assert state[502]["body"] == "last one"

    asyncio.run(scenario())


def test_bad_frames_get_error_frames_and_outsiders_are_refused(start_worker: StartWorker) -> None:
    worker = start_worker()
    alice, bob, eve = make_user(worker, "badalice"), make_user(worker, "badbob"), make_user(worker, "badeve")
    room_id = make_room(worker, alice, bob)

    async def scenario() -> None:
        a = await ChatClient.open(worker, room_id, alice)
        for raw in ("not json", "[1,2]", json.dumps({"type": "nope"}), json.dumps({"type": "message.send"})):
            await a.socket.send(raw)
            error = await a.next("error")
            assert error["code"] in {"bad_frame", "unknown_type", "invalid"}
        await a.send(type="message.send", client_id="x", body="y" * 10_001)
        assert (await a.next("error"))["code"] == "too_long"
        await a.send(type="message.edit", id=999999, body="z")
        assert (await a.next("error"))["code"] == "not_found"
        assert (await a.post("still works"))["seq"] == 1
        await a.socket.close()
        outsider = await ChatClient.open(worker, room_id, eve)
        try:
            await outsider.socket.recv()
            raise AssertionError("a non-member read a private room")
        except websockets.ConnectionClosed as closed:
            assert closed.rcvd is not None and closed.rcvd.code == 4403

    asyncio.run(scenario())
    status, _ = worker.request("GET", f"/api/chat/rooms/{room_id}/messages", None, eve.token)
    assert status == 403


def test_kill_9_while_sending_loses_no_acknowledged_message(start_worker: StartWorker) -> None:
    doomed, survivor = start_worker(), start_worker()
    alice, bob = make_user(survivor, "killalice"), make_user(survivor, "killbob")
    room_id = make_room(survivor, alice, bob)
    sent = [f"k-{index}" for index in range(200)]
    acked: dict[str, int] = {}

    async def send_until_killed() -> None:
        a = await ChatClient.open(doomed, room_id, alice)

        async def read_acks() -> None:
            while True:
                frame = json.loads(await a.socket.recv())
                if frame["type"] == "message.ack":
                    acked[frame["client_id"]] = frame["seq"]

        reader = asyncio.create_task(read_acks())
        try:
            for index, client_id in enumerate(sent):
                await a.send(type="message.send", client_id=client_id, body=f"msg {index}")
                if len(acked) >= 30 and doomed.process and doomed.process.poll() is None:
                    doomed.kill()  # mid-stream: frames in flight, some stored but not acknowledged
                await asyncio.sleep(0.005)
        except websockets.ConnectionClosed:
            pass
        with contextlib.suppress(websockets.ConnectionClosed):
            await reader
        assert 0 < len(acked) < len(sent)  # the kill really came mid-stream
        # reconnect to the survivor and resend everything not acknowledged, with the same ids
        again = await ChatClient.open(survivor, room_id, alice)
        for index, client_id in enumerate(sent):
            if client_id not in acked:
                await again.send(type="message.send", client_id=client_id, body=f"msg {index}")
                ack = await again.next("message.ack")
                assert ack["client_id"] == client_id
                acked[client_id] = ack["seq"]
        await again.socket.close()

    async def listen() -> list[int]:
        b = await ChatClient.open(survivor, room_id, bob, after=0)
        seqs: list[int] = []
        while len(seqs) < len(sent):
            frame = await b.next("message.new", within=30)
            seqs.append(frame["message"]["seq"])
        await b.socket.close()
        return seqs

    async def scenario() -> list[int]:
        listener = asyncio.create_task(listen())
        await send_until_killed()
        return await listener

    seen_by_bob = asyncio.run(scenario())
    assert len(acked) == len(sent) and sorted(acked.values()) == list(range(1, len(sent) + 1))
    assert seen_by_bob == list(range(1, len(sent) + 1))  # the survivor's listener: each once, in order
    stored: list[dict[str, Any]] = []
    after = 0
    while True:
        status, page = survivor.request(
            "GET", f"/api/chat/rooms/{room_id}/messages?after={after}&limit=200", None, bob.token
        )
        assert status == 200
        stored += page["messages"]
        if not page["has_more"]:
            break
        after = stored[-1]["seq"]
    assert sorted(m["client_id"] for m in stored) == sorted(sent)  # every message exactly once
    assert all(acked[m["client_id"]] == m["seq"] for m in stored)
