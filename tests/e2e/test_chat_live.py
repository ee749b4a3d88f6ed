"""Chat's live extras over real daphne workers: typing, read markers across devices, reactions,
resume by message seq, rate limits, and losing access while connected."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable

import pytest
import websockets

from tests.e2e.chatclient import ChatClient, make_room
from tests.e2e.servers import Worker, make_user

StartWorker = Callable[..., Worker]


def test_typing_crosses_workers_and_stops_on_send(start_worker: StartWorker) -> None:
    first, second = start_worker(), start_worker()
    alice, bob = make_user(first, "typalice"), make_user(first, "typbob")
    room_id = make_room(first, alice, bob)

    async def scenario() -> None:
        a = await ChatClient.open(first, room_id, alice)
        b = await ChatClient.open(second, room_id, bob)
        await b.next("presence")
        await a.next("presence")
        await a.send(type="typing", active=True)
        typing = await b.next("typing")
        assert typing["user"] == "typalice" and typing["active"] is True and typing["expires_in"] > 0
        for _ in range(5):  # repeats within two seconds are not rebroadcast
            await a.send(type="typing", active=True)
        await a.post("done typing")
        stopped = await b.next("typing")
        assert stopped["active"] is False
        assert [f for f in b.frames if f["type"] == "typing"] == [typing, stopped]
        assert not [f for f in a.frames if f["type"] == "typing"]  # nobody hears their own typing
        await a.socket.close()
        await b.socket.close()

    asyncio.run(scenario())


def test_read_markers_reach_every_device_and_unread_counts_agree(start_worker: StartWorker) -> None:
    first, second = start_worker(), start_worker()
    alice, bob = make_user(first, "rdalice"), make_user(first, "rdbob")
    room_id = make_room(first, alice, bob)

    async def scenario() -> None:
        phone = await ChatClient.open(first, None, bob)  # bob's inbox on one device
        laptop = await ChatClient.open(second, room_id, bob)  # and the room on another
        a = await ChatClient.open(first, room_id, alice)
        for index in range(3):
            await a.post(f"news {index}")
        activity = [await phone.next("room.activity") for _ in range(3)]
        assert [(x["room_id"], x["seq"], x["author"]) for x in activity] == [
            (room_id, seq, "rdalice") for seq in (1, 2, 3)
        ]
        _, rooms = first.request("GET", "/api/chat/rooms", None, bob.token)
        assert [r["unread"] for r in rooms if r["id"] == room_id] == [3]
        await laptop.send(type="read", seq=2)
        assert (await phone.next("read")) == {"type": "read", "room_id": room_id, "user": "rdbob", "seq": 2}
        receipt = await a.next("read")
        assert (receipt["user"], receipt["seq"]) == ("rdbob", 2)
        await laptop.send(type="read", seq=1)  # markers never move back
        _, rooms = second.request("GET", "/api/chat/rooms", None, bob.token)
        assert [(r["unread"], r["last_read_seq"]) for r in rooms if r["id"] == room_id] == [(1, 2)]
        for client in (phone, laptop, a):
            await client.socket.close()

    asyncio.run(scenario())


def test_reactions_and_threads_are_log_changes(start_worker: StartWorker) -> None:
    worker = start_worker()
    alice, bob = make_user(worker, "rxalice"), make_user(worker, "rxbob")
    room_id = make_room(worker, alice, bob)

    async def scenario() -> int:
        a = await ChatClient.open(worker, room_id, alice)
        b = await ChatClient.open(worker, room_id, bob)
        root = await a.post("ship it?")
        root_id: int = root["id"]
        await b.send(type="reaction.add", id=root["id"], emoji="👍")
        reacted = await a.next("message.reaction")
        assert reacted["message"]["reactions"][0]["emoji"] == "👍"
        assert reacted["message"]["reactions"][0]["users"] == ["rxbob"]
        await b.send(type="message.send", client_id="reply-1", body="yes", parent_id=root["id"])
        reply = await a.next("message.new")
        while reply["message"]["parent_id"] is None:
            reply = await a.next("message.new")
        assert reply["message"]["parent_id"] == root["id"]
        await b.send(type="reaction.add", id=root["id"], emoji="has space")
        assert (await b.next("error"))["code"] == "invalid_emoji"
        await a.socket.close()
        await b.socket.close()
        return root_id

    root_id = asyncio.run(scenario())
    status, thread = worker.request(
        "GET", f"/api/chat/rooms/{room_id}/messages/{root_id}/thread", None, bob.token
    )
    assert status == 200, thread
    assert thread["parent"]["reply_count"] == 1 and [r["body"] for r in thread["replies"]] == ["yes"]


def test_resume_by_message_seq_sends_what_came_after_once(start_worker: StartWorker) -> None:
    worker = start_worker()
    alice, bob = make_user(worker, "sqalice"), make_user(worker, "sqbob")
    room_id = make_room(worker, alice, bob)

    async def scenario() -> None:
        a = await ChatClient.open(worker, room_id, alice)
        first = [await a.post(f"m{index}") for index in range(5)]  # bob has seq 1..5
        await a.send(type="message.edit", id=first[1]["id"], body="m1 edited")  # an edit of an old one
        await a.next("message.edit")
        for index in range(5, 8):
            await a.post(f"m{index}")
        back = await ChatClient.open(worker, room_id, bob, after=5)
        frames = []
        while True:
            frame = json.loads(await back.socket.recv())
            if frame["type"] == "resume.done":
                break
            frames.append(frame)
        assert [(f["type"], f["message"]["seq"]) for f in frames] == [
            ("message.edit", 2),
            ("message.new", 6),
            ("message.new", 7),
            ("message.new", 8),
        ]
        await a.socket.close()
        await back.socket.close()

    asyncio.run(scenario())


def test_rate_and_size_limits_answer_with_error_frames(start_worker: StartWorker) -> None:
    worker = start_worker(COLLAB_CHAT_RATE="5/60", COLLAB_CHAT_FRAMES_PER_SECOND="4")
    alice, bob = make_user(worker, "rlalice"), make_user(worker, "rlbob")
    room_id = make_room(worker, alice, bob)

    async def scenario() -> None:
        a = await ChatClient.open(worker, room_id, alice)
        b = await ChatClient.open(worker, room_id, bob)
        acks = [await a.post(f"m{index}", client_id=f"c{index}") for index in range(5)]
        await a.send(type="message.send", client_id="c5", body="one too many")
        limited = await a.next("error")
        assert limited["code"] == "rate_limited" and limited["client_id"] == "c5"
        assert 0 < limited["retry_after"] <= 60
        assert (await a.post("m0", client_id="c0"))["seq"] == acks[0]["seq"]  # a retry is never limited
        assert (await b.post("bob is not limited"))["seq"] == 6  # limits are per user
        await a.socket.send("x" * 70_000)
        assert (await a.next("error"))["code"] == "too_large"
        for _ in range(30):  # 4 frames/s with a 20-frame burst
            await a.send(type="ping")
        flood = await a.next("error")
        assert flood["code"] == "rate_limited"
        await a.socket.close()
        await b.socket.close()

    asyncio.run(scenario())
    _, page = worker.request("GET", f"/api/chat/rooms/{room_id}/messages?after=0", None, alice.token)
    assert [m["body"] for m in page["messages"]] == ["m0", "m1", "m2", "m3", "m4", "bob is not limited"]


def test_a_removed_member_is_disconnected_from_a_private_room(start_worker: StartWorker) -> None:
    first, second = start_worker(), start_worker()
    alice, bob = make_user(first, "rmalice"), make_user(first, "rmbob")
    room_id = make_room(first, alice, bob)

    async def scenario() -> None:
        b = await ChatClient.open(second, room_id, bob)
        await b.next("presence")
        status, _ = first.request("DELETE", f"/api/chat/rooms/{room_id}/members/rmbob", None, alice.token)
        assert status == 204
        with pytest.raises(websockets.ConnectionClosed) as closed:
            while True:
                await b.socket.recv()
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 4403

    asyncio.run(scenario())


def test_the_inbox_refuses_strangers_and_answers_bad_frames(start_worker: StartWorker) -> None:
    worker = start_worker()
    ivan = make_user(worker, "inbivan")

    async def scenario() -> None:
        inbox = await ChatClient.open(worker, None, ivan)
        await inbox.socket.send(b"\x00\x01")
        assert (await inbox.next("error"))["code"] == "bad_frame"
        await inbox.socket.send("{not json")
        assert (await inbox.next("error"))["code"] == "bad_frame"
        await inbox.send(type="ping")
        await inbox.next("pong")
        await inbox.socket.close()
        stranger = await websockets.connect(f"ws://127.0.0.1:{worker.port}/ws/chat?token=wrong")
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await stranger.recv()
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 4401

    asyncio.run(scenario())
