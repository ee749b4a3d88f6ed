"""Presence across real daphne workers: away and offline on schedule, crashed workers, REST."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

from tests.e2e.chatclient import ChatClient, make_room
from tests.e2e.servers import User, Worker, make_document, make_user

StartWorker = Callable[..., Worker]
AWAY_SECONDS = 2.0
TTL_SECONDS = 3.0  # tests/e2e/conftest.py TEST_ENV


async def presence_until(client: ChatClient, wanted: list[dict[str, str]], within: float) -> float:
    """Wait for a presence frame listing exactly `wanted`; returns when it came (monotonic)."""
    async with asyncio.timeout(within):
        while True:
            frame = await client.next("presence", within=within)
            if frame["here"] == wanted:
                return time.monotonic()


def online_names(worker: Worker, user: User) -> dict[str, str]:
    status, body = worker.request("GET", "/api/presence/online", None, user.token)
    assert status == 200, body
    return {entry["user"]: entry["status"] for entry in body["users"]}


def test_users_go_away_when_idle_come_back_and_go_offline_on_leaving(start_worker: StartWorker) -> None:
    away = {"COLLAB_PRESENCE_AWAY_SECONDS": str(AWAY_SECONDS)}
    first, second = start_worker(**away), start_worker(**away)
    alice, bob = make_user(first, "prsalice"), make_user(first, "prsbob")
    room_id = make_room(first, alice, bob)

    async def scenario() -> None:
        a = await ChatClient.open(first, room_id, alice)
        b = await ChatClient.open(second, room_id, bob)
        online = [{"user": "prsalice", "status": "online"}, {"user": "prsbob", "status": "online"}]
        await presence_until(b, online, within=5)
        started = time.monotonic()
        # bob keeps busy; alice does nothing and turns away on schedule
        busy = asyncio.create_task(keep_active(b))
        alice_away = [{"user": "prsalice", "status": "away"}, {"user": "prsbob", "status": "online"}]
        turned_away = await presence_until(b, alice_away, within=AWAY_SECONDS + 4)
        assert AWAY_SECONDS - 0.5 <= turned_away - started <= AWAY_SECONDS + 2
        assert online_names(second, bob)["prsalice"] == "away"
        await a.send(type="presence", state="active")
        await presence_until(b, online, within=3)
        await a.socket.close()
        await presence_until(b, [{"user": "prsbob", "status": "online"}], within=3)
        assert "prsalice" not in online_names(first, bob)  # offline at once, not after the TTL
        busy.cancel()
        await b.socket.close()

    asyncio.run(scenario())


async def keep_active(client: ChatClient) -> None:
    while True:
        await client.send(type="presence", state="active")
        await asyncio.sleep(0.3)


def test_a_killed_workers_users_go_offline_within_the_ttl(start_worker: StartWorker) -> None:
    doomed, survivor = start_worker(), start_worker()
    carol, dave = make_user(survivor, "prscarol"), make_user(survivor, "prsdave")
    room_id = make_room(survivor, carol, dave)

    async def scenario() -> None:
        d = await ChatClient.open(doomed, room_id, dave)
        c = await ChatClient.open(survivor, room_id, carol)
        both = [{"user": "prscarol", "status": "online"}, {"user": "prsdave", "status": "online"}]
        await presence_until(c, both, within=5)
        assert set(online_names(survivor, carol)) == {"prscarol", "prsdave"}
        doomed.kill()
        killed = time.monotonic()
        gone = await presence_until(c, [{"user": "prscarol", "status": "online"}], within=TTL_SECONDS + 3)
        assert gone - killed <= TTL_SECONDS + 1.5
        assert "prsdave" not in online_names(survivor, carol)
        await c.socket.close()
        await d.socket.close()

    asyncio.run(scenario())


def test_who_is_here_over_rest_follows_read_access(start_worker: StartWorker) -> None:
    worker = start_worker()
    erin, frank, gina = (make_user(worker, name) for name in ("prserin", "prsfrank", "prsgina"))
    room_id = make_room(worker, erin, frank)
    document_id = make_document(worker, erin, {"prsfrank": "viewer"})

    async def scenario() -> None:
        e = await ChatClient.open(worker, room_id, erin)
        await e.next("presence")
        status, body = worker.request("GET", f"/api/presence/here?object=chat:{room_id}", None, frank.token)
        assert (status, body) == (200, {"here": [{"user": "prserin", "status": "online"}]})
        for path, expected in (
            (f"/api/presence/here?object=chat:{room_id}", 403),  # gina is not in the private room
            (f"/api/presence/here?object=doc:{document_id}", 403),
            ("/api/presence/here?object=chat:999999", 404),
            ("/api/presence/here?object=room:1", 400),
            ("/api/presence/here?object=doc:not-a-uuid", 404),
        ):
            status, _ = worker.request("GET", path, None, gina.token)
            assert status == expected, path
        status, _ = worker.request("GET", "/api/presence/online")
        assert status == 401
        await e.socket.close()

    asyncio.run(scenario())


def test_document_editors_are_present_on_the_document(start_worker: StartWorker, yclient: Any) -> None:
    worker = start_worker()
    owner = make_user(worker, "prsowner")
    document_id = make_document(worker, owner)
    client = yclient(worker.ws_docs, document_id, owner.token, "owner")
    client.wait_synced()
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        path = f"/api/presence/here?object=doc:{document_id}"
        status, body = worker.request("GET", path, None, owner.token)
        if status == 200 and body["here"]:
            break
        time.sleep(0.1)
    assert body == {"here": [{"user": "prsowner", "status": "online"}]}
    client.close()
