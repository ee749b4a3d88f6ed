"""A PostgreSQL outage, injected by cutting a TCP proxy between a real worker and the database.

While the database is unreachable, clients must get a quick, retryable answer: `/readyz` 503
naming the failed check, REST calls JSON 503 `database_unavailable`, new document and chat
sockets close code 4500. Once the proxy is restored everything works again with no worker
restart.
"""

from __future__ import annotations

import asyncio
import functools
import time
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
import websockets
from pycrdt import Doc, Text

from tests.e2e.chatclient import ChatClient, make_room
from tests.e2e.faults import TcpProxy
from tests.e2e.scenarios import wait_until
from tests.e2e.servers import Deployment, User, Worker, make_document, make_user
from tests.e2e.yclient import YClient

StartWorker = Callable[..., Worker]
Connect = Callable[..., YClient]


@pytest.fixture
def db_proxy(deployment: Deployment) -> Iterator[TcpProxy]:
    parts = urlsplit(deployment.database_url)
    with TcpProxy(parts.hostname or "127.0.0.1", parts.port or 5432) as proxy:
        yield proxy


def timed(call: Callable[[], Any]) -> tuple[float, Any]:
    started = time.monotonic()
    result = call()
    return time.monotonic() - started, result


def stored_text(worker: Worker, document_id: str, token: str) -> str:
    status, body = worker.request("GET", f"/api/documents/{document_id}/state", token=token)
    assert status == 200, body
    doc: Doc = Doc()  # type: ignore[type-arg]
    doc.apply_update(body)
    return str(doc.get("t", type=Text))


async def chat_close_code(worker: Worker, room_id: int, user: User) -> tuple[float, int | None]:
    """Open a chat room socket and wait for the server to close it; (seconds, close code)."""
    started = time.monotonic()
    url = f"ws://127.0.0.1:{worker.port}/ws/chat/{room_id}?token={user.token}"
    async with asyncio.timeout(10):
        async with websockets.connect(url) as socket:
            try:
                while True:
                    await socket.recv()
            except websockets.ConnectionClosed:
                pass
            return time.monotonic() - started, socket.close_code


def test_database_outage_answers_fast_and_recovers_without_restart(
    deployment: Deployment, db_proxy: TcpProxy, start_worker: StartWorker, yclient: Connect
) -> None:
    worker = start_worker(DATABASE_URL=db_proxy.url_for(deployment.database_url))
    alice = make_user(worker, "outalice")
    document_id = make_document(worker, alice)
    room_id = make_room(worker, alice)
    status, body = worker.request("GET", "/readyz")
    assert status == 200, body

    db_proxy.cut()

    seconds, (status, body) = timed(lambda: worker.request("GET", "/readyz"))
    assert status == 503 and seconds < 3, (status, body, seconds)
    assert body["ready"] is False
    assert body["checks"]["database"] != "ok" and body["checks"]["cache"] == "ok", body

    for method, path, payload in [
        ("GET", "/api/documents", None),
        ("POST", "/api/documents", {"title": "during the outage"}),
        ("GET", f"/api/chat/rooms/{room_id}/messages?after=0", None),
    ]:
        seconds, (status, body) = timed(functools.partial(worker.request, method, path, payload, alice.token))
        assert status == 503 and seconds < 5, (path, status, body, seconds)
        assert body["code"] == "database_unavailable" and body["detail"], body

    started = time.monotonic()
    late = yclient(worker.ws_docs, document_id, alice.token, "late", "--no-reconnect")
    close = late.wait_close(timeout=10)
    assert close["code"] == 4500 and time.monotonic() - started < 5, (close, time.monotonic() - started)

    seconds, code = asyncio.run(chat_close_code(worker, room_id, alice))
    assert code == 4500 and seconds < 5, (code, seconds)

    db_proxy.restore()

    # The pool reconnects on its own; readiness comes back within a couple of seconds.
    wait_until(lambda: worker.request("GET", "/readyz")[0] == 200, within=10, what="ready again")
    status, body = worker.request("GET", "/api/documents", token=alice.token)
    assert status == 200, body
    writer = yclient(worker.ws_docs, document_id, alice.token, "writer")
    writer.wait_synced()
    writer.call("insert", index=0, text="after the outage")
    wait_until(
        lambda: stored_text(worker, document_id, alice.token) == "after the outage",
        within=10,
        what="the edit to be stored",
    )

    async def chat_works() -> None:
        client = await ChatClient.open(worker, room_id, alice)
        ack = await client.post("back")
        assert ack["seq"] == 1
        await client.socket.close()

    asyncio.run(chat_works())
    assert worker.process is not None and worker.process.poll() is None  # the same worker throughout


def test_hung_database_still_gets_answers_within_seconds(
    deployment: Deployment, db_proxy: TcpProxy, start_worker: StartWorker, yclient: Connect
) -> None:
    """The database accepts connections but never answers (a hung server, not a closed one):
    probes and socket set-ups are bounded by their own deadlines, not by the database."""
    worker = start_worker(DATABASE_URL=db_proxy.url_for(deployment.database_url))
    bob = make_user(worker, "hungbob")
    document_id = make_document(worker, bob)

    db_proxy.blackhole()

    seconds, (status, body) = timed(lambda: worker.request("GET", "/readyz"))
    assert status == 503 and seconds < 3, (status, body, seconds)
    assert body["checks"]["database"] != "ok" and body["checks"]["cache"] == "ok", body

    started = time.monotonic()
    late = yclient(worker.ws_docs, document_id, bob.token, "late", "--no-reconnect")
    close = late.wait_close(timeout=10)
    assert close["code"] == 4500 and time.monotonic() - started < 6, (close, time.monotonic() - started)

    db_proxy.restore()

    wait_until(lambda: worker.request("GET", "/readyz")[0] == 200, within=10, what="ready again")
    writer = yclient(worker.ws_docs, document_id, bob.token, "writer")
    writer.wait_synced()
    writer.call("insert", index=0, text="unstuck")
    wait_until(
        lambda: stored_text(worker, document_id, bob.token) == "unstuck",
        within=10,
        what="the edit to be stored",
    )
