"""The worker's watch over document sockets: lost access events, revoked tokens, idle clients, floods.

Access changes travel to other workers as pub/sub events, which can be lost; the
watch re-reads access on a schedule so a lost event never leaves a removed
member writing.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import time
from collections.abc import Callable

import websockets

from collab.engine import protocol as p
from tests.e2e.scenarios import wait_until
from tests.e2e.servers import Worker, make_document, make_user
from tests.e2e.test_document_sync import stored_text
from tests.e2e.yclient import YClient

StartWorker = Callable[..., Worker]
Connect = Callable[..., YClient]

CHECK = {"COLLAB_ACCESS_CHECK_SECONDS": "1"}


def deaf_worker(start_worker: StartWorker) -> Worker:
    """A worker on the same database whose events reach nobody (another Redis prefix): every
    access event it sends is lost, as when Redis is down for a moment during the change."""
    return start_worker(COLLAB_REDIS_PREFIX=f"lost-events-{time.monotonic_ns()}", **CHECK)


def test_removal_whose_event_is_lost_still_closes_the_socket(
    start_worker: StartWorker, yclient: Connect
) -> None:
    worker, deaf = start_worker(**CHECK), deaf_worker(start_worker)
    owner, bob = make_user(worker, "ownerw1"), make_user(worker, "bobw1")
    document_id = make_document(worker, owner, {bob.username: "editor"})
    writer = yclient(worker.ws_docs, document_id, bob.token, "bob", "--no-reconnect")
    writer.wait_synced()
    writer.call("type", text="x" * 400, interval_ms=10)
    writer.wait_text(contains="xxxxx")
    status, _ = deaf.request(
        "DELETE", f"/api/documents/{document_id}/members/{bob.username}", token=owner.token
    )
    assert status == 204
    removed_at = time.monotonic()
    close = writer.wait_close(timeout=10)
    assert close["code"] == 4403
    assert time.monotonic() - removed_at < 4  # one check interval plus a round
    time.sleep(0.5)
    stored = stored_text(worker, document_id, owner.token)
    # Bob typed for 4 s; what he wrote after the close never reached the log.
    assert 0 < len(stored) < 400


def test_demotion_whose_event_is_lost_stops_the_writes(start_worker: StartWorker, yclient: Connect) -> None:
    worker, deaf = start_worker(**CHECK), deaf_worker(start_worker)
    owner, bob = make_user(worker, "ownerw2"), make_user(worker, "bobw2")
    document_id = make_document(worker, owner, {bob.username: "editor"})
    writer = yclient(worker.ws_docs, document_id, bob.token, "bob")
    writer.wait_synced()
    writer.call("insert", index=0, text="before")
    wait_until(lambda: stored_text(worker, document_id, owner.token) == "before", 5, "the first write")
    status, _ = deaf.request(
        "POST",
        f"/api/documents/{document_id}/members",
        {"username": bob.username, "role": "viewer"},
        owner.token,
    )
    assert status in (200, 201)
    time.sleep(2.5)
    writer.call("insert", index=0, text="after")
    time.sleep(1)
    assert stored_text(worker, document_id, owner.token) == "before"


def test_revoked_token_closes_its_sockets_within_seconds(start_worker: StartWorker, yclient: Connect) -> None:
    worker = start_worker(**CHECK)
    owner = make_user(worker, "ownerw3")
    document_id = make_document(worker, owner)
    status, body = worker.request(
        "POST", "/api/auth/token", {"username": owner.username, "password": owner.password}
    )
    assert status == 200, body
    second = body
    client = yclient(worker.ws_docs, document_id, second["token"], "second", "--no-reconnect")
    client.wait_synced()
    status, _ = worker.request("DELETE", f"/api/auth/tokens/{second['id']}", token=owner.token)
    assert status == 204
    assert client.wait_close(timeout=6)["code"] == 4401
    # The owner's other token keeps working.
    other = yclient(worker.ws_docs, document_id, owner.token, "owner", "--no-reconnect")
    other.wait_synced()


def test_a_lone_stock_client_on_an_idle_document_stays_connected(
    start_worker: StartWorker, yclient: Connect
) -> None:
    """y-websocket closes and reconnects when nothing arrives for 30 s."""
    worker = start_worker()
    owner = make_user(worker, "ownerw4")
    document_id = make_document(worker, owner)
    lone = yclient(worker.ws_docs, document_id, owner.token, "lone")
    lone.wait_synced()
    time.sleep(36)
    assert lone.closes == []
    assert lone.call("status")["connected"]


def test_a_flood_of_state_requests_is_refused_and_releases_its_memory(
    start_worker: StartWorker, yclient: Connect
) -> None:
    """A viewer asks for the whole document thousands of times and never reads the answers."""
    worker = start_worker()
    owner, viewer = make_user(worker, "ownerw5"), make_user(worker, "viewerw5")
    document_id = make_document(worker, owner, {viewer.username: "viewer"})
    editor = yclient(worker.ws_docs, document_id, owner.token, "owner")
    editor.wait_synced()
    editor.call("insert", index=0, text="y" * 50_000)
    time.sleep(0.5)
    rss_before = worker_rss(worker)

    async def flood() -> tuple[int, int | None]:
        url = f"{worker.ws_docs}/{document_id}?token={viewer.token}"
        # max_queue=1 and no reads: the client stops reading its socket, as an attacker would.
        async with websockets.connect(url, max_size=None, max_queue=1) as socket:
            for _ in range(4000):
                await socket.send(p.encode_sync_step1(b"\x00"))
            await asyncio.sleep(1.0)
            grown = worker_rss(worker) - rss_before
            with contextlib.suppress(websockets.ConnectionClosed):
                while True:  # now drain: the answers, then the close
                    await asyncio.wait_for(socket.recv(), 10)
            return grown, socket.close_code

    grown, code = asyncio.run(flood())
    # 4429 is sent after ten answers; a client that reads only seconds later may find the
    # connection already dropped (the close handshake timed out): the worker counted it.
    assert code in (4429, 1006)
    assert rejected(worker, "4429") == 1
    assert grown < 40 * 1024 * 1024  # 4,000 answers of 50 KB would be 200 MB
    # The worker kept serving the editor.
    editor.call("insert", index=0, text="!")
    wait_until(lambda: stored_text(worker, document_id, owner.token).startswith("!"), 5, "a later edit")


def worker_rss(worker: Worker) -> int:
    import psutil

    assert worker.process is not None
    return int(psutil.Process(worker.process.pid).memory_info().rss)


def test_a_socket_that_never_reads_is_dropped_at_its_output_limit(
    start_worker: StartWorker, yclient: Connect
) -> None:
    worker = start_worker(COLLAB_MAX_UNSENT_BYTES=str(1024 * 1024))
    owner, viewer = make_user(worker, "ownerw6"), make_user(worker, "viewerw6")
    document_id = make_document(worker, owner, {viewer.username: "viewer"})
    editor = yclient(worker.ws_docs, document_id, owner.token, "owner")
    editor.wait_synced()

    async def deaf_viewer() -> int | None:
        url = f"{worker.ws_docs}/{document_id}?token={viewer.token}"
        async with websockets.connect(url, max_size=None, max_queue=1) as socket:
            for index in range(120):  # 12 MB of edits the viewer never reads
                editor.call("insert", index=0, text=chr(ord("a") + index % 26) * 100_000)
            await asyncio.sleep(1.0)
            with contextlib.suppress(websockets.ConnectionClosed):
                while True:
                    await asyncio.wait_for(socket.recv(), 10)
            return socket.close_code

    code = asyncio.run(deaf_viewer())
    assert code == 1006  # dropped, not closed politely: it was not reading
    assert rejected(worker, "unsent_limit") == 1
    editor.call("insert", index=0, text="!")
    wait_until(lambda: stored_text(worker, document_id, owner.token).startswith("!"), 10, "a later edit")


def rejected(worker: Worker, reason: str) -> float:
    status, body = worker.request("GET", "/metrics")
    assert status == 200
    for line in body.decode().splitlines():
        if line.startswith("collab_frames_rejected_total{") and f'reason="{reason}"' in line:
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def test_sigterm_closes_with_1012_writes_the_outbox_and_exits_in_time(
    start_worker: StartWorker, yclient: Connect
) -> None:
    """With a 10 s flush interval only the shutdown flush can have written the last edits."""
    leaving = start_worker(COLLAB_FLUSH_INTERVAL_MS="10000", COLLAB_SHUTDOWN_SECONDS="5")
    staying = start_worker()
    owner = make_user(staying, "ownerw7")
    document_id = make_document(staying, owner)
    writer = yclient(leaving.ws_docs, document_id, owner.token, "writer")
    writer.wait_synced()
    watcher = yclient(leaving.ws_docs, document_id, owner.token, "watcher")
    watcher.wait_synced()
    writer.call("type", text="graceful" * 10, interval_ms=5)
    writer.call("type_done", timeout=30)
    typed = writer.text()
    # Accepted by the leaving worker (a client on it has everything); not yet written (10 s).
    watcher.wait_text(equals=typed)
    assert leaving.process is not None
    started = time.monotonic()
    leaving.process.send_signal(signal.SIGTERM)
    leaving.process.wait(10)
    assert time.monotonic() - started < 6
    assert writer.wait_close()["code"] == 1012
    # Read by the other worker before the writer reconnects (it would resend what it holds).
    assert stored_text(staying, document_id, owner.token) == typed
    writer.call("set_url", url=staying.ws_docs)
    writer.wait_synced()
    writer.call("insert", index=0, text="+")
    wait_until(lambda: stored_text(staying, document_id, owner.token) == "+" + typed, 5, "the next edit")
