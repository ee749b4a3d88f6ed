"""Network partition: one worker's host loses its network for 20 s under load, then heals.

Three hosts of the test's own (Linux network namespaces on a bridge, `tests/e2e/netns.py`):
workers w1 and w2, and Redis on r. PostgreSQL stays on the machine (127.0.0.1:5432); the
workers reach it through a TCP forwarder (`tests/e2e/faults.py`) on the bridge's gateway
address, and the clients (real Yjs clients: Node, stock y-websocket provider; websocket chat
clients) run on the gateway side too.

The fault: w1's cable is pulled at the switch (`Host.cut`: the switch side of its veth goes
down). w1 loses Redis, the database and its clients at once; nothing is closed, packets are
dropped, so open connections stall and retransmit and new ones fail with "No route to host".
That is a host losing its network, the most realistic partition of one worker. After 20 s
the cable is plugged back in.

Load, on one document and one chat room, from four people:

- a1: document client on w1 throughout, inserting at the start (each insert builds on the
  latest one); chat client on w1 throughout, waiting for its acks however long it takes.
- a2: document client on w1, moved to w2 3 s into the cut (a balancer re-routing it); chat
  client on w1, failing over to w2 when an ack is 3 s late and resending with the same id.
- b1: document and chat clients on w2 throughout.
- b2: document and chat clients on w2, moved to w1 2 s after the heal.

Checked afterwards: every Yjs client holds the same text, made of every character every
client typed, exactly once, each client's characters in its own order; every chat message
sent was acknowledged, every socket-history of every chat client received every message
exactly once and in `seq` order; then all clients leave, both workers are restarted, and
the database (read directly, and through each restarted worker's API) holds that same text
and exactly the acknowledged messages, once each, with the acknowledged numbers. Also
checked: the partition is real (at the heal neither side has seen the other's latest edit,
and a1 got no ack during the cut).

Printed (run with -s): how long after the heal each side sees the other's cut-time edits,
how long moved clients take to be served on the other worker, acks per chat client (during
the cut too) and the slowest ack, the sockets the workers closed with 4500 before set-up.
About 50 s in all (36 s of load).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import psycopg
import pytest
import websockets
from pycrdt import Doc, Text, merge_updates

from tests.conftest import required_env
from tests.e2e.conftest import TEST_ENV
from tests.e2e.faults import TcpProxy
from tests.e2e.netns import NetnsRedis, NetnsWorker, Network, stop_processes
from tests.e2e.servers import Deployment, User, create_database, make_document, make_user
from tests.e2e.yclient import YClient

pytestmark = pytest.mark.e2e

CUT_AT = 5.0  # seconds after the load starts
CUT_FOR = 20.0
TYPE_FOR = 36.0  # each Yjs client types for about this long
TYPE_INTERVAL_MS = 60
CHAT_FOR = 34.0
CHAT_INTERVAL = 0.15
FAILOVER_ACK_TIMEOUT = 3.0
DOC_FAILOVER_AFTER = 3.0  # a2 leaves the cut worker this long into the cut
HOP_AFTER_HEAL = 2.0  # b2 (document and chat) moves to the healed worker this long after it
CONVERGE_WITHIN = 30.0
DEADLINE = 75.0  # nothing in the load phase may wait past this (seconds after the load starts)

# One Unicode block per Yjs client: every character typed in the test is unique.
ALPHABETS = {"a1": 0x4E00, "a2": 0x5E00, "b1": 0x6E00, "b2": 0x7E00}


@dataclass
class Lab:
    network: Network
    deployment: Deployment
    database_url: str  # direct, for the test's own reads
    worker_database_url: str  # through the forwarder on the gateway, for the workers
    log_dir: Path
    workers: list[NetnsWorker] = field(default_factory=list)

    def start_workers(self) -> tuple[NetnsWorker, NetnsWorker]:
        first, second = (
            NetnsWorker(
                self.deployment, self.log_dir, self.network.hosts[role], DATABASE_URL=self.worker_database_url
            )
            for role in ("w1", "w2")
        )
        self.workers += [first, second]
        first.launch()
        second.launch()
        return first.wait_healthy(), second.wait_healthy()

    def stop_workers(self) -> None:
        stop_processes(*(worker.process for worker in self.workers), timeout=15)
        self.workers.clear()


@pytest.fixture
def lab(tmp_path: Path) -> Iterator[Lab]:
    database_url, drop_database = create_database(required_env("DATABASE_URL"))
    parts = urlsplit(database_url)
    network = Network("w1", "w2", "r")
    redis_server: NetnsRedis | None = None
    forwarder: TcpProxy | None = None
    current: Lab | None = None
    try:
        network.create()
        redis_server = NetnsRedis(network.hosts["r"], tmp_path).start()
        forwarder = TcpProxy(parts.hostname or "127.0.0.1", parts.port or 5432, listen_host=network.gateway)
        forwarder.start()
        deployment = Deployment(
            database_url, redis_server.url, f"part-{uuid.uuid4().hex[:10]}", dict(TEST_ENV)
        )
        deployment.migrate()
        # The clients reach the workers by the hosts' addresses.
        deployment.extra_env["ALLOWED_HOSTS"] = ",".join(host.address for host in network.hosts.values())
        current = Lab(network, deployment, database_url, forwarder.url_for(database_url), tmp_path)
        yield current
    finally:
        if current is not None:
            current.stop_workers()
        if forwarder is not None:
            forwarder.stop()
        if redis_server is not None:
            redis_server.stop()
        network.close()
        drop_database()


# -- chat load -------------------------------------------------------------------------


class Chatter:
    """One person posting numbered messages to a room and reading it, one socket at a time.

    Every change frame received on any of its sockets is kept in arrival order: a reconnect
    resumes with `after_version` = the last version received, so the list must read
    1, 2, 3, ... with no gap and no repeat.
    """

    def __init__(
        self, name: str, user: User, room_id: int, worker: NetnsWorker, failover: NetnsWorker | None = None
    ) -> None:
        self.name = name
        self.user = user
        self.room_id = room_id
        self.worker = worker
        self.failover = failover
        self.socket: Any = None
        self.reader: asyncio.Task[None] | None = None
        self.received: list[dict[str, Any]] = []
        self.last_version = 0
        self.acks: dict[str, int] = {}  # client id -> seq
        self.sent: list[str] = []  # client ids, in posting order
        self.start = time.monotonic()
        self.latencies: list[tuple[float, float, str]] = []  # (acked at, seconds to ack, worker role)
        self.log: list[str] = []
        self.moves: list[tuple[str, float]] = []  # (to worker, seconds until the next ack there)
        self._moving: tuple[str, float] | None = None
        self._waiting: dict[str, asyncio.Future[dict[str, Any]]] = {}

    def note(self, what: str) -> None:
        self.log.append(f"{time.monotonic() - self.start:5.1f} s {self.name}: {what}")

    async def connect(self, worker: NetnsWorker, deadline: float) -> None:
        if self.socket is not None:
            self._moving = (worker.host.role, time.monotonic())
        self.drop_socket()
        while True:
            # From the first socket on: everything after the last version held (0: the whole log).
            query: dict[str, Any] = {"token": self.user.token, "after_version": self.last_version}
            try:
                self.socket = await websockets.connect(worker.ws_chat(self.room_id, **query), open_timeout=5)
                break
            except (OSError, TimeoutError, websockets.WebSocketException) as exc:
                self.note(f"connect to {worker.host.role} failed: {exc!r}")
                if time.monotonic() > deadline:
                    raise AssertionError(f"{self.name} could not connect to {worker.host.role}") from exc
                await asyncio.sleep(0.5)
        self.worker = worker
        self.reader = asyncio.create_task(self._read(self.socket))
        self.note(f"connected to {worker.host.role} after_version={self.last_version}")

    def drop_socket(self) -> None:
        """Leave the current socket at once (a closed tab): no close handshake to wait for."""
        if self.reader is not None:
            self.reader.cancel()
            self.reader = None
        if self.socket is not None:
            self.socket.transport.abort()
            self.socket = None

    async def _read(self, socket: Any) -> None:
        try:
            async for raw in socket:
                frame = json.loads(raw)
                kind = frame.get("type")
                if kind in ("message.new", "message.edit", "message.delete", "message.reaction"):
                    message = frame["message"]
                    self.received.append(message)
                    self.last_version = message["version_seq"]
                elif kind == "message.ack" or (kind == "error" and frame.get("frame") == "message.send"):
                    future = self._waiting.get(frame.get("client_id", ""))
                    if future is not None and not future.done():
                        future.set_result(frame)
                elif kind == "resume.partial":
                    await socket.send(json.dumps({"type": "resume", "after_version": frame["after_version"]}))
        except websockets.ConnectionClosed as exc:
            self.note(f"socket to {self.worker.host.role} closed: {exc!r}")

    async def post(self, client_id: str, body: str, deadline: float) -> None:
        sent_at = time.monotonic()
        self.sent.append(client_id)
        while True:
            future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
            self._waiting[client_id] = future
            assert self.socket is not None and self.reader is not None
            reader = self.reader
            with contextlib.suppress(websockets.ConnectionClosed):
                await self.socket.send(
                    json.dumps({"type": "message.send", "client_id": client_id, "body": body})
                )
            patience = FAILOVER_ACK_TIMEOUT if self.failover is not None else deadline - time.monotonic()
            await asyncio.wait(
                [future, reader], timeout=max(patience, 0.1), return_when=asyncio.FIRST_COMPLETED
            )
            if future.done():
                frame = future.result()
                if frame["type"] == "message.ack":
                    previous = self.acks.setdefault(client_id, frame["seq"])
                    assert previous == frame["seq"], (
                        f"{client_id} acknowledged as {previous} and {frame['seq']}"
                    )
                    now = time.monotonic()
                    if self._moving is not None:
                        self.moves.append((self._moving[0], round(now - self._moving[1], 2)))
                        self._moving = None
                    self.latencies.append((now - self.start, now - sent_at, self.worker.host.role))
                    return
                self.note(f"{client_id} refused: {frame.get('code')} {frame.get('message')}; retrying")
                await asyncio.sleep(0.3)
            elif time.monotonic() > deadline:
                raise AssertionError(
                    f"{self.name}: {client_id} was never acknowledged\n" + "\n".join(self.log)
                )
            elif reader.done():
                self.note(f"socket ended with {client_id} unacknowledged; reconnecting")
                await self.connect(self.worker, deadline)
            elif self.failover is not None:
                target, self.failover = self.failover, None
                self.note(f"{client_id} not acknowledged in {FAILOVER_ACK_TIMEOUT} s: failing over")
                await self.connect(target, deadline)

    async def run(self, start: float, hop: tuple[float, NetnsWorker] | None = None) -> None:
        self.start = start
        deadline = start + DEADLINE
        await self.connect(self.worker, deadline)
        number = 0
        while time.monotonic() < start + CHAT_FOR:
            if hop is not None and time.monotonic() >= hop[0]:
                self.note(f"moving to {hop[1].host.role}")
                await self.connect(hop[1], deadline)
                hop = None
            number += 1
            await self.post(f"{self.name}-{number}", f"{self.name} says {number}", deadline)
            await asyncio.sleep(CHAT_INTERVAL)

    async def wait_received(self, count: int, within: float) -> None:
        deadline = time.monotonic() + within
        while len(self.received) < count and time.monotonic() < deadline:
            if self.reader is not None and self.reader.done():
                await self.connect(self.worker, deadline)
            await asyncio.sleep(0.1)


# -- document load ----------------------------------------------------------------------


def typed_text(name: str, count: int) -> str:
    return "".join(chr(ALPHABETS[name] + index) for index in range(count))


def own_characters(text: str, name: str) -> str:
    low = ALPHABETS[name]
    return "".join(ch for ch in text if low <= ord(ch) < low + 0x1000)


def first_own(text: str, name: str) -> str | None:
    own = own_characters(text, name)
    return own[0] if own else None


def last_own(text: str, name: str) -> str | None:
    own = own_characters(text, name)
    return own[-1] if own else None


# -- reading the database directly --------------------------------------------------------


def database_text(database_url: str, document_id: str) -> str:
    with psycopg.connect(database_url) as conn:
        snapshot = conn.execute(
            "SELECT data, upto_update_id FROM documents_documentsnapshot WHERE document_id = %s",
            [document_id],
        ).fetchone()
        upto = snapshot[1] if snapshot else 0
        rows = conn.execute(
            "SELECT data FROM documents_documentupdate WHERE document_id = %s AND id > %s ORDER BY id",
            [document_id, upto],
        ).fetchall()
    updates = ([bytes(snapshot[0])] if snapshot else []) + [bytes(row[0]) for row in rows]
    doc: Doc = Doc()  # type: ignore[type-arg]
    if updates:
        doc.apply_update(merge_updates(*updates))
    return str(doc.get("t", type=Text))


def database_messages(database_url: str, room_id: int) -> list[tuple[int, str, str]]:
    with psycopg.connect(database_url) as conn:
        rows = conn.execute(
            "SELECT seq, client_id, body FROM chat_chatmessage WHERE room_id = %s ORDER BY seq", [room_id]
        ).fetchall()
    return [(int(seq), str(client_id), str(body)) for seq, client_id, body in rows]


def api_text(worker: NetnsWorker, document_id: str, token: str) -> str:
    status, body = worker.request("GET", f"/api/documents/{document_id}/state", token=token)
    assert status == 200, body
    doc: Doc = Doc()  # type: ignore[type-arg]
    doc.apply_update(body)
    return str(doc.get("t", type=Text))


def api_messages(worker: NetnsWorker, room_id: int, token: str) -> list[tuple[int, str, str]]:
    messages: list[tuple[int, str, str]] = []
    for _ in range(100):  # bounded: 100 pages of 200
        after = messages[-1][0] if messages else 0
        status, page = worker.request(
            "GET", f"/api/chat/rooms/{room_id}/messages?after={after}&limit=200", None, token
        )
        assert status == 200, page
        messages += [(m["seq"], m["client_id"], m["body"]) for m in page["messages"]]
        if not page["has_more"]:
            return messages
    raise AssertionError("more than 100 pages of messages")


def log_errors(worker_logs: list[Path]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for path in worker_logs:
        text = path.read_text(errors="replace") if path.exists() else ""
        counts[f"{path.name} tracebacks/errors"] = text.count("Traceback") + text.count(" ERROR ")
        counts[f"{path.name} sockets closed with 4500 before set-up"] = text.count("not set up within")
    return counts


# -- the test -------------------------------------------------------------------------------


def test_partitioned_worker_heals_with_nothing_lost_or_doubled(lab: Lab) -> None:
    metrics: dict[str, Any] = {}  # printed at the end, also when the test fails
    try:
        began = time.monotonic()
        w1, w2 = lab.start_workers()
        hosts = lab.network.hosts
        people = {
            name: make_user(w2, f"part{name}{uuid.uuid4().hex[:6]}") for name in ("a1", "a2", "b1", "b2")
        }
        owner = people["b1"]
        document_id = make_document(w2, owner, {p.username: "editor" for n, p in people.items() if n != "b1"})
        status, room = w2.request(
            "POST", "/api/chat/rooms", {"name": "partition", "private": True}, owner.token
        )
        assert status == 201, room
        room_id: int = room["id"]
        for name, person in people.items():
            if name != "b1":
                status, body = w2.request(
                    "POST", f"/api/chat/rooms/{room_id}/members", {"username": person.username}, owner.token
                )
                assert status == 201, body

        first_worker = {"a1": w1, "a2": w1, "b1": w2, "b2": w2}
        ydocs: dict[str, YClient] = {}
        count = int(TYPE_FOR * 1000 / TYPE_INTERVAL_MS)
        typed = {name: typed_text(name, count) for name in ALPHABETS}
        try:
            for name, person in people.items():
                ydocs[name] = YClient(first_worker[name].ws_docs, document_id, person.token, name)
            for client in ydocs.values():
                client.wait_synced()
            setup_done = time.monotonic()

            async def scenario() -> dict[str, Chatter]:
                start = time.monotonic()
                cut_at, heal_at = start + CUT_AT, start + CUT_AT + CUT_FOR
                chatters = {
                    "a1": Chatter("a1", people["a1"], room_id, w1),
                    "a2": Chatter("a2", people["a2"], room_id, w1, failover=w2),
                    "b1": Chatter("b1", people["b1"], room_id, w2),
                    "b2": Chatter("b2", people["b2"], room_id, w2),
                }
                for name, client in ydocs.items():
                    client.call(
                        "type",
                        text=typed[name],
                        interval_ms=TYPE_INTERVAL_MS,
                        at="start" if name == "a1" else None,
                    )
                posting = [
                    asyncio.create_task(
                        c.run(start, hop=(heal_at + HOP_AFTER_HEAL, w1) if n == "b2" else None)
                    )
                    for n, c in chatters.items()
                ]

                async def until(moment: float) -> None:
                    await asyncio.sleep(max(0.0, moment - time.monotonic()))

                moves: list[asyncio.Task[None]] = []
                moved: dict[str, float | str] = {}
                metrics["document clients moved: seconds until synced on the other worker"] = moved

                async def move(name: str, worker: NetnsWorker) -> None:
                    began = time.monotonic()
                    await asyncio.to_thread(ydocs[name].call, "set_url", url=worker.ws_docs)
                    try:
                        await asyncio.to_thread(ydocs[name].wait_synced, 40000)
                        moved[name] = round(time.monotonic() - began, 2)
                    except AssertionError as exc:
                        moved[name] = f"not synced: {exc}"

                async def director() -> None:
                    await until(cut_at)
                    hosts["w1"].cut()
                    metrics["cut at"] = round(time.monotonic() - start, 1)
                    await until(cut_at + DOC_FAILOVER_AFTER)
                    moves.append(asyncio.create_task(move("a2", w2)))
                    await until(heal_at)
                    # What each side typed while apart, to time how long the other side takes to see it.
                    a1_during = first_own(await asyncio.to_thread(ydocs["a1"].text), "a1")
                    b1_during = last_own(await asyncio.to_thread(ydocs["b1"].text), "b1")
                    assert a1_during is not None and b1_during is not None, "nobody typed during the cut"
                    # The partition is real: neither side has seen the other's latest edit yet.
                    assert b1_during not in await asyncio.to_thread(ydocs["a1"].text), "w1 was not cut off"
                    assert a1_during not in await asyncio.to_thread(ydocs["b1"].text), "w1 was not cut off"
                    hosts["w1"].restore()
                    healed = time.monotonic()
                    metrics["restored at"] = round(healed - start, 1)
                    await until(heal_at + HOP_AFTER_HEAL)
                    moves.append(asyncio.create_task(move("b2", w1)))
                    seen: dict[str, float] = {}
                    while len(seen) < 2 and time.monotonic() < healed + CONVERGE_WITHIN:
                        if "w1 edits on w2" not in seen and a1_during in await asyncio.to_thread(
                            ydocs["b1"].text
                        ):
                            seen["w1 edits on w2"] = round(time.monotonic() - healed, 2)
                        if "w2 edits on w1" not in seen and b1_during in await asyncio.to_thread(
                            ydocs["a1"].text
                        ):
                            seen["w2 edits on w1"] = round(time.monotonic() - healed, 2)
                        await asyncio.sleep(0.1)
                    metrics["seconds after the heal until the other side sees the cut-time edits"] = seen
                    await asyncio.gather(*moves)

                try:
                    await asyncio.gather(director(), *posting)
                    metrics["load phase seconds"] = round(time.monotonic() - start, 1)
                    total = sum(len(c.acks) for c in chatters.values())
                    for chatter in chatters.values():
                        await chatter.wait_received(total, within=20.0)
                    return chatters
                finally:
                    if hosts["w1"].is_cut:
                        hosts["w1"].restore()
                    for chatter in chatters.values():
                        chatter.drop_socket()

            chatters = asyncio.run(scenario())

            # -- documents: every client holds every character, once, in each author's order --
            for name, client in ydocs.items():
                done = client.call("type_done", timeout=40, timeout_ms=35000)
                assert done["typed"] == count, f"{name} typed {done['typed']} of {count}"
            typing_done = time.monotonic()
            expected_length = sum(len(text) for text in typed.values())
            texts: dict[str, str] = {}
            while time.monotonic() < typing_done + CONVERGE_WITHIN:
                texts = {name: client.text() for name, client in ydocs.items()}
                if len(set(texts.values())) == 1 and len(texts["a1"]) == expected_length:
                    break
                time.sleep(0.2)
            metrics["documents converged seconds after typing ended"] = round(
                time.monotonic() - typing_done, 2
            )
            lengths = {name: len(text) for name, text in texts.items()}
            assert len(set(texts.values())) == 1, (
                f"Yjs clients diverged: lengths {lengths} of {expected_length}"
            )
            final = texts["a1"]
            missing = Counter("".join(typed.values())) - Counter(final)
            doubled = Counter(final) - Counter("".join(typed.values()))
            assert not missing and not doubled, (
                f"{sum(missing.values())} characters lost, {sum(doubled.values())} doubled"
            )
            for name, text in typed.items():
                order = text[::-1] if name == "a1" else text  # a1 inserts at the start
                assert own_characters(final, name) == order, f"{name}'s characters are out of order"

            # -- chat: everything sent acknowledged; every client got every message once, in order --
            acked: dict[str, int] = {}
            for chatter in chatters.values():
                assert set(chatter.acks) == set(chatter.sent), f"{chatter.name}: unacknowledged sends"
                acked.update(chatter.acks)
            assert sorted(acked.values()) == list(range(1, len(acked) + 1)), "acknowledged seqs are not 1..N"
            for chatter in chatters.values():
                seqs = [message["seq"] for message in chatter.received]
                assert seqs == list(range(1, len(acked) + 1)), (
                    f"{chatter.name} received {len(seqs)} of {len(acked)} messages; "
                    f"repeats {[s for s, n in Counter(seqs).items() if n > 1][:10]}, "
                    f"missing {sorted(set(range(1, len(acked) + 1)) - set(seqs))[:10]}, "
                    f"in order: {seqs == sorted(seqs)}\n" + "\n".join(chatter.log)
                )
                assert {m["client_id"]: m["seq"] for m in chatter.received} == acked
            stalled = [at for at, _, _ in chatters["a1"].latencies if CUT_AT + 1 <= at < CUT_AT + CUT_FOR]
            assert not stalled, f"a1 got acks from the cut-off worker during the cut at {stalled}"
            metrics["chat"] = {
                chatter.name: {
                    "acked": len(chatter.acks),
                    "acked during the cut": sum(
                        1 for at, _, _ in chatter.latencies if CUT_AT <= at < CUT_AT + CUT_FOR
                    ),
                    "max ack seconds": round(
                        max((latency for _, latency, _ in chatter.latencies), default=0.0), 2
                    ),
                    "reconnects: (worker, seconds until the next ack)": chatter.moves,
                    "log": chatter.log,
                }
                for chatter in chatters.values()
            }
        finally:
            for client in ydocs.values():
                client.close()

        # -- the database, after every client left and both workers restarted --
        lab.stop_workers()
        restarted = lab.start_workers()
        direct_text = database_text(lab.database_url, document_id)
        assert len(direct_text) == len(final) and direct_text == final, (
            f"database holds {len(direct_text)} characters, the clients {len(final)}"
        )
        for worker in restarted:
            assert api_text(worker, document_id, owner.token) == final, (
                f"{worker.host.role} serves another text"
            )
        stored = database_messages(lab.database_url, room_id)
        assert [seq for seq, _, _ in stored] == list(range(1, len(acked) + 1)), "stored seqs are not 1..N"
        assert {client_id: seq for seq, client_id, _ in stored} == acked, (
            "stored messages differ from the acks"
        )
        assert len({client_id for _, client_id, _ in stored}) == len(stored), "a message is stored twice"
        for seq, client_id, body in stored:
            name, number = client_id.rsplit("-", 1)
            assert body == f"{name} says {number}", f"message {seq} has body {body!r}"
        for worker in restarted:
            assert api_messages(worker, room_id, owner.token) == stored

        metrics["characters"] = len(final)
        metrics["messages"] = len(stored)
        metrics["setup seconds"] = round(setup_done - began, 1)
        metrics["total seconds"] = round(time.monotonic() - began, 1)
    finally:
        metrics["worker logs"] = log_errors([lab.log_dir / "daphne-w1.log", lab.log_dir / "daphne-w2.log"])
        print("\npartition:", json.dumps(metrics, indent=1, ensure_ascii=False, default=str))
