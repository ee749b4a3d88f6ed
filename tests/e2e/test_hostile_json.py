"""Hostile frames on the JSON sockets (`ws/chat/{room}`, `ws/chat`) and floods on every socket kind.

Every hostile frame is followed by a `ping`; the frames the server sends before the `pong`
are its answer to the hostile one. A refused frame gets exactly one `error` frame with a
documented code (never `internal`, which means the server failed), the socket stays open
(except for the documented closes: 1009 past the transport limit, and 1007, RFC 6455's code
for a text frame that is not UTF-8), other sockets never notice, and nothing is stored.
Frames come from a list of wrong values for every field of every frame type, plus random
combinations of them from a seed (COLLAB_FUZZ_SEED overrides it).

Floods: after authentication they are answered frame by frame (acknowledged or refused:
`rate_limited`), and exactly the acknowledged messages are stored; before authentication
(no token, a forged one) every socket is closed with 4401, whatever it sends, and gives its
slot back.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import os
import random
import time
import urllib.request
import uuid
from collections import Counter
from collections.abc import Callable
from typing import Any

import websockets

from tests.e2e.chatclient import ChatClient, make_room
from tests.e2e.scenarios import wait_until
from tests.e2e.servers import User, Worker, make_document, make_user

StartWorker = Callable[..., Worker]

SEED = int(os.environ.get("COLLAB_FUZZ_SEED", "20261201"))
RANDOM_FRAMES = 400
# docs/chat.md, "Error codes": the refusals (`internal` is a server failure, not a refusal).
REFUSALS = {
    "bad_frame",
    "too_large",
    "too_deep",
    "unknown_type",
    "invalid",
    "empty_body",
    "too_long",
    "invalid_client_id",
    "rate_limited",
    "not_member",
    "archived",
    "forbidden",
    "not_found",
    "unknown_parent",
    "deleted",
    "invalid_emoji",
    "too_many_reactions",
}
HUGE = 2**70  # beyond PostgreSQL's bigint
NESTED = "[" * 30_000 + "]" * 30_000

# Values that are wrong for each field (the frame's other fields are right).
WRONG = {
    "client_id": [None, True, 0, 1.5, [], {}, ["c"], "", "c" * 65],
    "body": [None, False, 7, 2.5, [], {"text": "x"}, "", "x" * 10_001, "nul \u0000 inside", "lone \ud800"],
    "parent_id": ["1", 1.5, True, [], {}, -1, 0, 999_999, HUGE],
    "id": [None, "1", 1.5, True, False, [], {}, -5, 0, 999_999, HUGE],
    "emoji": [None, 1, [], "", " ", "a b", "x" * 33, "\u0000", "\ud800"],
    "active": ["true", 1, 0, None, [], {}],
    "seq": ["1", -1, 1.5, True, None, [], {}],
    "state": [1, None, "away", "", ["active"], {}],
    "after_version": ["1", -1, 1.5, True, None, [], {}],
}
TYPES = [
    None,
    5,
    1.5,
    True,
    [],
    {},
    ["ping"],
    "",
    "PING",
    "ping ",
    "message.send\u0000",
    "x" * 2000,
    "chat.change",
]
NOT_JSON = [
    "",
    " ",
    "{",
    "nul",
    "[1,",
    "{'type': 'ping'}",
    '{"type":"ping"}{"type":"ping"}',
    "\ufeff{}",
    '{"type":"read","seq":NaN}',
    '{"type":"read","seq":' + "9" * 5000 + "}",  # over Python's 4300-digit limit for int()
    "[]",
    "3",
    '"ping"',
    "null",
    "true",
]
DEEP = [
    NESTED,
    '{"type":"message.send","client_id":"deep","body":' + "[" * 5000 + "]" * 5000 + "}",
    '{"a":' * 9000 + "1" + "}" * 9000,
]


def frames_for(message_id: int) -> dict[str, dict[str, Any]]:
    """A right frame of each kind; `message_id` is someone else's message (Bob's)."""
    return {
        "message.send": {"client_id": "c-right", "body": "right", "parent_id": None},
        "message.edit": {"id": message_id, "body": "edited"},
        "message.delete": {"id": message_id},
        "reaction.add": {"id": message_id, "emoji": "👍"},
        "reaction.remove": {"id": message_id, "emoji": "👍"},
        "typing": {"active": True},
        "read": {"seq": 1},
        "presence": {"state": "active"},
        "resume": {"after_version": 0},
    }


def wrong_field_frames(message_id: int) -> list[dict[str, Any]]:
    """Each frame kind with one field wrong, for every wrong value of every field."""
    out = []
    for kind, right in frames_for(message_id).items():
        for name in right:
            for value in WRONG[name]:
                out.append({"type": kind, **right, name: value})
        for name in right:  # the field missing
            out.append({"type": kind, **{k: v for k, v in right.items() if k != name}})
    # Right types, but not allowed: someone else's message (edit: author only; delete: author or owner).
    out.append({"type": "message.edit", "id": message_id, "body": "not yours"})
    out.append({"type": "message.delete", "id": message_id})
    return [frame for frame in out if not is_right_send(frame)]


def is_right_send(frame: dict[str, Any]) -> bool:
    # A send without parent_id is a right frame: it would (rightly) be stored.
    return frame["type"] == "message.send" and "parent_id" not in frame


def random_frames(rng: random.Random, message_id: int, count: int) -> list[dict[str, Any]]:
    """Frames with one to three wrong fields, extra junk fields and random types."""
    right = frames_for(message_id)
    out = []
    while len(out) < count:
        kind = rng.choice([*right, rng.choice(TYPES)])
        frame: dict[str, Any] = {"type": kind, **right.get(kind if isinstance(kind, str) else "", {})}
        fields = list(right.get(kind, {})) if isinstance(kind, str) and kind in right else list(WRONG)
        for name in rng.sample(fields, k=min(len(fields), rng.randrange(1, 4))):
            frame[name] = rng.choice(WRONG[name])
        if rng.random() < 0.3:
            frame[rng.choice(["x", "type2", "__proto__", "constructor", "\u0000"])] = rng.choice(
                [None, 1, "junk", {"nested": [1, {"a": None}]}, "x" * 500]
            )
        if kind == "message.send" and all(v not in WRONG[k] for k, v in frame.items() if k in WRONG):
            continue
        out.append(frame)
    return out


async def answer(client: ChatClient, frame: str | bytes, within: float = 15.0) -> list[dict[str, Any]]:
    """Send a frame, then a ping: the errors and acks the server sent before the pong."""
    await client.socket.send(frame)
    await client.send(type="ping")
    got = []
    async with asyncio.timeout(within):
        while True:
            reply = json.loads(await client.socket.recv())
            if reply["type"] == "pong":
                return got
            if reply["type"] in ("error", "message.ack"):
                got.append(reply)


def describe(frame: str | bytes) -> str:
    return repr(frame[:120]) + (f"... ({len(frame)} characters)" if len(frame) > 120 else "")


async def refused_once(client: ChatClient, frame: str | bytes, problems: list[str]) -> str | None:
    """Send a hostile frame that must be refused; the error code (problems are collected)."""
    try:
        replies = await answer(client, frame)
    except websockets.ConnectionClosed as closed:
        problems.append(f"closed {closed.rcvd.code if closed.rcvd else 1006} by {describe(frame)}")
        raise
    except TimeoutError:
        problems.append(f"no answer within 15 s to {describe(frame)}")
        raise
    codes = [reply.get("code") for reply in replies]
    if len(replies) != 1 or replies[0]["type"] != "error" or codes[0] not in REFUSALS:
        problems.append(f"{describe(frame)} -> {replies}")
        return None
    return str(codes[0])


def encode(frame: dict[str, Any]) -> str:
    return json.dumps(frame)  # "\ud800" is sent as an escape, which JSON allows


def stored_messages(worker: Worker, room_id: int, user: User) -> list[dict[str, Any]]:
    status, body = worker.request(
        "GET", f"/api/chat/rooms/{room_id}/messages?after=0&limit=200", None, user.token
    )
    assert status == 200, body
    messages: list[dict[str, Any]] = body["messages"]
    return messages


def error_lines(worker: Worker) -> list[str]:
    return [line for line in worker.log_tail(3000).splitlines() if " ERROR " in line or " CRITICAL " in line]


def test_malformed_frames_are_refused_one_by_one_and_store_nothing(start_worker: StartWorker) -> None:
    worker = start_worker()
    alice, bob, mallory = (make_user(worker, f"{who}hj") for who in ("alice", "bob", "mallory"))
    room_id = make_room(worker, alice, bob, mallory)
    rng = random.Random(SEED)
    problems: list[str] = []
    codes: Counter[str] = Counter()

    async def scenario() -> None:
        witness = await ChatClient.open(worker, room_id, alice)
        inbox_witness = await ChatClient.open(worker, None, alice)
        b = await ChatClient.open(worker, room_id, bob)
        first = await b.post("bob's message")
        message_id = first["id"]
        await witness.next("message.new")
        hostile = [encode(frame) for frame in wrong_field_frames(message_id)]
        hostile += [encode(frame) for frame in random_frames(rng, message_id, RANDOM_FRAMES)]
        hostile += [encode({"type": kind}) for kind in TYPES]
        hostile += NOT_JSON + DEEP + ["x" * (64 * 1024 + 1)]  # over 64 KiB characters: too_large
        binary: list[str | bytes] = [b"", b"{}", b'{"type":"ping"}', bytes(range(256))]
        room = await ChatClient.open(worker, room_id, mallory)
        inbox = await ChatClient.open(worker, None, mallory)
        for frame in [*hostile, *binary]:
            codes[await refused_once(room, frame, problems) or "?"] += 1
        # The inbox takes presence and ping only: everything else is refused there too.
        for frame in [*hostile[:: max(1, len(hostile) // 150)], *NOT_JSON, *DEEP, *binary]:
            await refused_once(inbox, frame, problems)
        # Tolerated: extra fields on a ping, numbers JSON allows but JavaScript rounds.
        for frame in ('{"type":"ping","x":[1,{"y":null}]}', '{"type":"ping","n":1e999}'):
            assert await answer(room, frame) == [], frame
        # Past the transport limit (96 KiB): closed with 1009; a text frame that is not UTF-8: 1007.
        for raw, text, expected in (
            (b"x" * (200 * 1024), True, 1009),
            (b'{"type":"ping","x":"\xff"}', True, 1007),
        ):
            victim = await ChatClient.open(worker, room_id, mallory)
            await victim.next("presence")
            with contextlib.suppress(websockets.ConnectionClosed):
                await victim.socket.send(raw, text=text)
            code = await close_code(victim.socket, within=10)
            assert code == expected, (raw[:40], code)
        # Everyone else noticed nothing but Bob's right posts.
        ack = await b.post("bob again")
        new = await witness.next("message.new")
        assert new["message"]["id"] == ack["id"]
        unexpected = [
            f for f in witness.frames if f["type"] in ("message.edit", "message.delete", "message.reaction")
        ]
        assert not unexpected, unexpected
        await inbox_witness.send(type="ping")
        await inbox_witness.next("pong")
        activity = [f for f in inbox_witness.frames if f["type"] == "room.activity"]
        assert [f["seq"] for f in activity] == [1, 2], activity
        for client in (witness, inbox_witness, b, room, inbox):
            await client.socket.close()

    asyncio.run(scenario())
    print(f"{sum(codes.values())} hostile frames on the room socket: {dict(codes)} (COLLAB_FUZZ_SEED={SEED})")
    assert not problems, f"{len(problems)} frames answered wrongly (COLLAB_FUZZ_SEED={SEED}):\n" + "\n".join(
        problems[:20]
    )
    messages = stored_messages(worker, room_id, alice)
    assert [(m["author"], m["body"]) for m in messages] == [
        ("bobhj", "bob's message"),
        ("bobhj", "bob again"),
    ]
    assert all(not m["deleted"] and m["edited_at"] is None and m["reactions"] == [] for m in messages)
    status, members = worker.request("GET", f"/api/chat/rooms/{room_id}/members", None, alice.token)
    assert status == 200 and {m["username"]: m["last_read_seq"] for m in members}["malloryhj"] == 0, members
    assert not error_lines(worker), "\n".join(error_lines(worker)[:10])


async def still_answers(client: ChatClient) -> None:
    """The socket still works: a ping gets its pong (after the frame budget refills)."""
    async with asyncio.timeout(30):
        while True:
            await client.send(type="ping")
            reply = json.loads(await client.socket.recv())
            while reply["type"] not in ("pong", "error"):
                reply = json.loads(await client.socket.recv())
            if reply["type"] == "pong":
                return
            assert reply["code"] == "rate_limited", reply
            await asyncio.sleep(reply.get("retry_after", 1.0))


async def close_code(socket: Any, within: float) -> int | None:
    try:
        async with asyncio.timeout(within):
            while True:
                await socket.recv()
    except websockets.ConnectionClosed as closed:
        return closed.rcvd.code if closed.rcvd is not None else 1006
    except TimeoutError:
        return None


def test_floods_after_authentication_are_answered_and_only_acknowledged_messages_stored(
    start_worker: StartWorker,
) -> None:
    # The production limits (the other e2e tests raise them): 30 messages per 10 s, 50 frames/s.
    worker = start_worker(COLLAB_CHAT_RATE="30/10", COLLAB_CHAT_FRAMES_PER_SECOND="50")
    alice, bob, mallory = (make_user(worker, f"{who}fl") for who in ("alice", "bob", "mallory"))
    room_id = make_room(worker, alice, bob, mallory)
    flood = 600

    async def scenario() -> tuple[set[str], float]:
        witness = await ChatClient.open(worker, room_id, alice)
        b = await ChatClient.open(worker, room_id, bob)
        m = await ChatClient.open(worker, room_id, mallory)
        inbox = await ChatClient.open(worker, None, mallory)
        sent = [f"flood-{i}" for i in range(flood)]
        flood_started = time.monotonic()
        for index, client_id in enumerate(sent):  # without waiting: sends and junk interleaved
            await m.send(type="message.send", client_id=client_id, body=f"flood {index}")
            await m.socket.send("{not json")
            await inbox.socket.send('{"type":"message.send"}')
        started = time.monotonic()
        ack = await b.post("bob, during the flood")  # Bob has budgets of his own
        bob_latency = time.monotonic() - started
        answers: list[dict[str, Any]] = []
        async with asyncio.timeout(60):
            while len(answers) < 2 * flood:
                reply = json.loads(await m.socket.recv())
                if reply["type"] in ("error", "message.ack"):
                    answers.append(reply)
            inbox_errors = 0
            while inbox_errors < flood:
                reply = json.loads(await inbox.socket.recv())
                inbox_errors += reply["type"] == "error"
        flood_seconds = time.monotonic() - flood_started
        await still_answers(m)
        acked = {reply["client_id"] for reply in answers if reply["type"] == "message.ack"}
        refused = Counter(reply["code"] for reply in answers if reply["type"] == "error")
        assert set(refused) <= {"rate_limited", "bad_frame"}, refused
        # 30 per 10-second window; a flood that spans a window's end gets the next one's too.
        windows = math.ceil(flood_seconds / 10) + 1
        assert 0 < len(acked) <= 30 * windows, (len(acked), flood_seconds)
        # Alice sees exactly the acknowledged ones (and Bob's), once each.
        expected = len(acked) + 1
        seen = await witness.collect_new(expected)
        assert sorted(f["message"]["client_id"] for f in seen) == sorted([*acked, ack["client_id"]])
        for client in (witness, b, m, inbox):
            await client.socket.close()
        return acked, bob_latency

    acked, bob_latency = asyncio.run(scenario())
    assert bob_latency < 5, f"Bob waited {bob_latency:.1f} s during the flood"
    stored = [m for m in stored_messages(worker, room_id, alice) if m["author"] == "malloryfl"]
    assert sorted(m["client_id"] for m in stored) == sorted(acked)
    assert not error_lines(worker), "\n".join(error_lines(worker)[:10])


def connections_open(worker: Worker) -> float:
    with urllib.request.urlopen(f"{worker.http_base}/metrics", timeout=10) as response:
        text = response.read().decode()
    return sum(
        float(line.split()[-1]) for line in text.splitlines() if line.startswith("collab_ws_connections{")
    )


async def admitted_after_the_flood(worker: Worker, room_id: int, user: User) -> None:
    """A new, authenticated socket is admitted again (retrying on 4503, as clients do)."""
    async with asyncio.timeout(20):
        while True:
            client = await ChatClient.open(worker, room_id, user)
            try:
                await client.next("presence")
            except websockets.ConnectionClosed as closed:
                assert closed.rcvd is not None and closed.rcvd.code == 4503, closed
                await asyncio.sleep(0.5)
                continue
            await client.socket.close()
            return


def test_floods_before_authentication_are_refused_and_give_their_slots_back(
    start_worker: StartWorker,
) -> None:
    worker = start_worker(COLLAB_MAX_CONNECTIONS="400")
    alice = make_user(worker, "alicepa")
    room_id = make_room(worker, alice)
    document_id = make_document(worker, alice)
    base = f"ws://127.0.0.1:{worker.port}"
    paths = [f"/ws/docs/{document_id}", f"/ws/chat/{room_id}", "/ws/chat"]
    tokens = ["", "?token=", "?token=forged-" + uuid.uuid4().hex, "?token=" + "x" * 5000]

    async def intruder(index: int) -> int | None:
        url = base + paths[index % len(paths)] + tokens[index % len(tokens)]
        async with websockets.connect(url, open_timeout=20, max_size=None) as socket:
            for _ in range(20):  # frames before the refusal reaches it: ignored
                with contextlib.suppress(websockets.ConnectionClosed):
                    if "docs" in url:
                        await socket.send(b"\x00\x02\x0c\x01\x01\x01\x00\x04\x01\x01t\x02hi\x00")
                    else:
                        await socket.send(json.dumps({"type": "message.send", "client_id": "x", "body": "x"}))
            return await close_code(socket, within=20)

    async def scenario() -> tuple[Counter[int | None], float]:
        honest = await ChatClient.open(worker, room_id, alice)
        await honest.next("presence")
        flood = asyncio.gather(*(intruder(index) for index in range(360)))
        started = time.monotonic()
        ack = await honest.post("during the flood")
        latency = time.monotonic() - started
        codes = Counter(await flood)
        assert ack["seq"] == 1
        await honest.socket.close()
        return codes, latency

    codes, latency = asyncio.run(scenario())
    # 4401, or 4503 when the burst is more than the worker admits at once (refused before any
    # authentication work, "retry later"): nothing else, and no socket left open.
    assert set(codes) <= {4401, 4503} and codes[4401] > 0 and codes.total() == 360, codes
    assert latency < 10, f"an authenticated post took {latency:.1f} s during the flood"
    wait_until(lambda: connections_open(worker) == 0, 10, "every slot to come back")
    asyncio.run(admitted_after_the_flood(worker, room_id, alice))
    assert [m["body"] for m in stored_messages(worker, room_id, alice)] == ["during the flood"]
    status, body = worker.request("GET", f"/api/documents/{document_id}/state", None, alice.token)
    assert status == 200 and body in (b"", b"\x00\x00"), body
    assert not error_lines(worker), "\n".join(error_lines(worker)[:10])
