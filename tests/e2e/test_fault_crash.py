"""Crash: `kill -9` one of three workers while real clients type and post on all three.

Load (tests/e2e/load.py), spread over the three workers: two documents with three Yjs typists
each (stock y-websocket provider; each types characters no one else types, one of them at the
start of the text so each insert builds on its latest one), three chat posters (one message
every 0.1 s, each resent with the same client id until acknowledged) and three resume
listeners (reconnecting with `after=<last seq>`). A bystander has a chat socket and a Yjs
client on the doomed worker only, and does not reconnect.

Six seconds in, the third worker gets SIGKILL: no flush, no goodbye. Its typists are moved
to the survivors (a balancer re-routing them), its posters and listeners reconnect to a
survivor on their own.

Checked:
- the bystander leaves presence within the TTL (`GET /api/presence/online` on a survivor,
  `/api/presence/here` for the room and the document, and the listeners' presence frames);
- in the clients: every typist's characters are in every copy of its document, once, in the
  order typed, and all copies are equal; every message was acknowledged, the numbers are 1..N,
  every listener read 1..N once, in order, with the acknowledged client ids;
- the store, while the clients are still connected (the API serves the clients' text), and
  again after every client left and all workers were stopped and three fresh ones started:
  each fresh worker's API and the database itself hold exactly the clients' text and exactly
  the acknowledged messages, once, with their numbers and bodies.

About 60 s. Run with -s for the timings (reconnects, presence, convergence).
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from typing import Any

import pytest

from tests.e2e.chatclient import ChatClient
from tests.e2e.conftest import TEST_ENV
from tests.e2e.load import (
    MixedLoad,
    Pool,
    log_problems,
    set_up,
    start_in_parallel,
    stop_in_parallel,
)
from tests.e2e.servers import Deployment, User, Worker, make_user
from tests.e2e.yclient import YClient

pytestmark = pytest.mark.e2e

StartWorker = Callable[..., Worker]

TYPE_FOR = 20.0
KILL_AT = 6.0
TTL = float(TEST_ENV["COLLAB_PRESENCE_TTL_SECONDS"])
PRESENCE_SLACK = 1.5  # heartbeat (0.5 s) + sweep (0.3 s) + a loaded machine
WORKER_ENV = {"COLLAB_COMPACT_THRESHOLD": "50"}  # compactions during the load, around the crash too


def online(worker: Worker, user: User) -> set[str]:
    status, body = worker.request("GET", "/api/presence/online", None, user.token)
    assert status == 200, body
    return {entry["user"] for entry in body["users"]}


def here(worker: Worker, user: User, obj: str) -> set[str]:
    status, body = worker.request("GET", f"/api/presence/here?object={obj}", None, user.token)
    assert status == 200, body
    return {entry["user"] for entry in body["here"]}


def join(worker: Worker, owner: User, user: User, room_id: int, document_id: str) -> None:
    status, body = worker.request(
        "POST", f"/api/chat/rooms/{room_id}/members", {"username": user.username}, owner.token
    )
    assert status == 201, body
    status, body = worker.request(
        "POST",
        f"/api/documents/{document_id}/members",
        {"username": user.username, "role": "editor"},
        owner.token,
    )
    assert status == 201, body


def test_kill_9_under_load_loses_and_doubles_nothing(
    deployment: Deployment, start_worker: StartWorker
) -> None:
    metrics: dict[str, Any] = {}
    began = time.monotonic()
    workers = start_in_parallel(lambda: start_worker(**WORKER_ENV), 3)
    survivor, doomed = workers[0], workers[2]
    pool = Pool(workers)
    cast = set_up(survivor, "crash", people=6, documents=2)
    owner = cast.owner
    bystander = make_user(survivor, "crashbystander")
    join(survivor, owner, bystander, cast.room_id, cast.document_ids[0])
    room, document = f"chat:{cast.room_id}", f"doc:{cast.document_ids[0]}"

    load = MixedLoad(pool, cast, typists_per_document=3, posters=3, listeners=3, type_for=TYPE_FOR)
    watcher = YClient(doomed.ws_docs, cast.document_ids[0], bystander.token, "bystander", "--no-reconnect")
    try:
        load.open()
        watcher.wait_synced()
        assert {w.port for w in workers} == {t.worker.port for t in load.typists}, "a worker has no typist"

        async def scenario() -> None:
            seen = await ChatClient.open(doomed, cast.room_id, bystander)  # never reconnects
            deadline = time.monotonic() + 10
            while bystander.username not in await asyncio.to_thread(online, survivor, owner):
                assert time.monotonic() < deadline, "the bystander never showed as online"
                await asyncio.sleep(0.1)
            assert bystander.username in await asyncio.to_thread(here, survivor, owner, room)

            async def director(load: MixedLoad) -> None:
                await asyncio.sleep(max(0.0, load.started + KILL_AT - time.monotonic()))
                metrics["clients on the doomed worker"] = [c.name for c in load.on(doomed)]
                pool.retire(doomed)
                doomed.kill()
                killed = time.monotonic()
                metrics["killed at (journal s)"] = killed_at = round(load.journal.at(), 2)
                load.journal.note("director", f"killed {doomed.port}")
                while True:
                    users = await asyncio.to_thread(online, survivor, owner)
                    if bystander.username not in users:
                        break
                    assert time.monotonic() < killed + TTL + 10, "the dead worker's user stays online"
                    await asyncio.sleep(0.1)
                gone = time.monotonic() - killed
                metrics["bystander offline seconds after the kill"] = round(gone, 2)
                assert gone <= TTL + PRESENCE_SLACK, f"offline only {gone:.1f} s after the kill (TTL {TTL} s)"
                assert bystander.username not in await asyncio.to_thread(here, survivor, owner, room)
                assert bystander.username not in await asyncio.to_thread(here, survivor, owner, document)
                # everyone else moved on and is still online
                assert {p.username for p in cast.people} <= await asyncio.to_thread(online, survivor, owner)
                metrics["presence frames checked from"] = killed_at

            try:
                await load.run(director)
            finally:
                await seen.socket.close()

        asyncio.run(scenario())

        killed_at = metrics["killed at (journal s)"]
        for listener in load.listeners:
            before = [names for at, names in listener.presence if at < killed_at]
            after = [(at, names) for at, names in listener.presence if at >= killed_at]
            if before:
                assert bystander.username in before[-1], f"{listener.name}: bystander was not in the room"
            assert after and bystander.username not in after[-1][1], f"{listener.name}: ghost in the room"
            cleared = next(at for at, names in after if bystander.username not in names)
            assert cleared - killed_at <= TTL + PRESENCE_SLACK + 0.5, (
                f"{listener.name}: presence frame without the dead worker's user {cleared - killed_at:.1f} s "
                "after the kill"
            )

        moved = [t for t in load.typists if any(port != doomed.port for _, port, _ in t.moves)]
        metrics["typists moved: (at, to port, seconds until synced)"] = {t.name: t.moves for t in moved}
        assert moved, "no typist was on the doomed worker"
        for client in load.clients():
            assert client.worker.port != doomed.port, f"{client.name} is still on the dead worker"
        for typist in moved:
            assert all(isinstance(seconds, float) for _, _, seconds in typist.moves), typist.moves
        doomed_chat = [name for name in metrics["clients on the doomed worker"] if name[0] in "pl"]
        for chat in load.chat_clients():
            if chat.name in doomed_chat:
                assert chat.reconnects > 0, f"{chat.name} never reconnected"

        load.finish()
        texts, found = load.check_clients()
        metrics["chat"] = load.chat_summary()
        assert found.ok, f"in the clients: {found}\n{load.journal.tail()}"
        metrics["stored while connected, seconds"] = load.wait_stored(survivor, texts)
    finally:
        watcher.close()
        load.close()
        metrics.update(load.metrics)
        print("\ncrash:", json.dumps(metrics, indent=1, ensure_ascii=False, default=str))

    stop_in_parallel(pool.live())
    fresh = start_in_parallel(lambda: start_worker(**WORKER_ENV), 3)
    stored = load.check_store(fresh, texts, deployment.database_url)
    assert stored.ok, f"after the restart: {stored}"
    print(
        "crash: stored after the restart:",
        json.dumps(
            {
                "characters": {d: len(t) for d, t in texts.items()},
                "messages": sum(len(p.acks) for p in load.posters),
                "tracebacks/errors in worker logs": log_problems([*workers, *fresh]),
                "total seconds": round(time.monotonic() - began, 1),
            }
        ),
    )
