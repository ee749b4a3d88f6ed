"""Connections that never finish their handshake are closed in bounded time, and the worker
keeps serving everyone else meanwhile.

500 raw TCP connections: silent ones, ones that stop half-way through a request head or a
websocket upgrade request, ones that drip a byte every two seconds (each byte used to reset
Twisted's idle timer), and complete upgrade requests that are followed by nothing.
"""

from __future__ import annotations

import asyncio
import base64
import os
import random
import re
import time
from collections.abc import Callable
from dataclasses import dataclass

from collab.realtime.daphne.handshake import HEADER_TIMEOUT_SECONDS
from tests.e2e.servers import Worker, make_document, make_user
from tests.e2e.yclient import YClient

StartWorker = Callable[..., Worker]
Connect = Callable[..., YClient]

MARGIN_SECONDS = 5.0  # scheduling on a loaded two-core machine


@dataclass
class Outcome:
    kind: str
    seconds: float | None  # until the server closed the connection; None: still open
    answer: bytes


def upgrade_request(path: str) -> bytes:
    key = base64.b64encode(os.urandom(16)).decode()
    return (
        f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
    ).encode()


def half(request: bytes, rng: random.Random) -> bytes:
    """A prefix of `request` that stops before the end of its head."""
    return request[: rng.randrange(1, request.index(b"\r\n\r\n") + 2)]


async def hold(port: int, kind: str, payload: bytes, drip: bool, limit: float) -> Outcome:
    """Open a connection, send `payload` (then a byte every 2 s if `drip`), wait for the close."""
    started = time.monotonic()
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    answer = b""

    async def dripping() -> None:
        while True:
            await asyncio.sleep(2)
            writer.write(b"a")
            await writer.drain()

    dripper = asyncio.ensure_future(dripping()) if drip else None
    try:
        if payload:
            writer.write(payload)
            await writer.drain()
        async with asyncio.timeout(limit):
            while chunk := await reader.read(65536):  # read, never answer (no pong, no close)
                answer += chunk
        return Outcome(kind, time.monotonic() - started, answer)
    except TimeoutError:
        return Outcome(kind, None, answer)
    except OSError:
        return Outcome(kind, time.monotonic() - started, answer)
    finally:
        if dripper is not None:
            dripper.cancel()
        writer.close()


def test_half_open_connections_are_closed_and_others_are_served(
    start_worker: StartWorker, yclient: Connect
) -> None:
    worker = start_worker()
    alice = make_user(worker, "hsalice")
    document_id = make_document(worker, alice)
    rng = random.Random(7)
    get_request = b"GET /api/documents HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: application/json\r\n\r\n"
    plan: list[tuple[str, bytes, bool]] = (
        [("silent", b"", False)] * 150
        + [("half request", half(get_request, rng), False) for _ in range(150)]
        + [("half upgrade", half(upgrade_request(f"/ws/docs/{document_id}"), rng), False) for _ in range(100)]
        + [("drip", b"GET /api/documents HTTP/1.1\r\nX-Slow: ", True)] * 50
        + [("upgrade, nothing after", upgrade_request(f"/ws/docs/{document_id}"), False)] * 50
    )
    limit = HEADER_TIMEOUT_SECONDS + MARGIN_SECONDS

    async def scenario() -> list[Outcome]:
        holds: list[asyncio.Future[Outcome]] = []
        for start in range(0, len(plan), 50):  # daphne listens with a backlog of 50
            for kind, payload, drip in plan[start : start + 50]:
                holds.append(asyncio.ensure_future(hold(worker.port, kind, payload, drip, limit)))
            await asyncio.sleep(0.05)
        await asyncio.sleep(1)

        # Meanwhile the worker answers probes and serves a real Yjs client.
        started = time.monotonic()
        status, _ = await asyncio.to_thread(worker.request, "GET", "/healthz")
        assert status == 200 and time.monotonic() - started < 2
        client = yclient(worker.ws_docs, document_id, alice.token, "alice")
        await asyncio.to_thread(client.wait_synced)
        await asyncio.to_thread(client.call, "insert", index=0, text="still served")
        status, body = await asyncio.to_thread(worker.request, "GET", "/api/documents", None, alice.token)
        assert status == 200 and body[0]["id"] == document_id
        return list(await asyncio.gather(*holds))

    outcomes = asyncio.run(scenario())

    still_open = [o.kind for o in outcomes if o.seconds is None]
    assert not still_open, f"{len(still_open)} connections still open after {limit} s: {set(still_open)}"
    slowest = max(o.seconds or 0 for o in outcomes)
    assert slowest <= limit, slowest
    # Part of a request came: the client is told why (408); upgrades without a token get 4401.
    assert all(o.answer.startswith(b"HTTP/1.1 408") for o in outcomes if o.kind in ("half request", "drip"))
    upgrades = [o for o in outcomes if o.kind == "upgrade, nothing after"]
    assert all(o.answer.startswith(b"HTTP/1.1 101") for o in upgrades)
    assert all((o.seconds or limit) < 3 for o in upgrades)
    status, raw = worker.request("GET", "/metrics")
    assert status == 200
    timeouts = re.search(rb'collab_frames_rejected_total\{reason="http_header_timeout"\} (\d+)', raw)
    assert timeouts is not None and int(timeouts.group(1)) >= 450
