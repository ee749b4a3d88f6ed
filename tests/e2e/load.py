"""A mixed load of real Yjs and chat clients for fault tests, and the checks that follow it.

Jepsen style: drive real clients against real workers, break something, then check every
write that was acknowledged (or, for Yjs, typed) in the clients and in the database.

- `Typist`: a real Yjs document (tests/node/yclient.mjs, stock y-websocket provider) typing
  characters of its own (a slice of CJK / Hangul code points no other typist of the test
  uses), so a lost or doubled character is visible, and whose order shows reordering. Moved to
  another worker (`set_url`) when its worker is retired or dies.
- `Poster`: a chat socket posting numbered messages with client ids; waits for each ack; on an
  error frame it retries on the same socket, on a close or an ack that does not come it
  reconnects to another live worker and resends the *same* client id (exactly once by id).
- `Listener`: a chat socket that resumes with `after=<last seq>` whenever it reconnects (to
  another live worker when its own is gone) and keeps every `message.new` in arrival order:
  it must read 1..N, each once, in order.
- `Pool`: the workers clients may use. A test `retire()`s a worker before it kills or stops
  it; clients then leave it.
- `MixedLoad`: the clients of one test, run for a while with a `director` coroutine that
  injects the fault; then `finish()` (typing done, clients converged, chat drained),
  `check_clients()`, `check_store()` through a worker started after all others stopped.
- `Findings`: the counts a check produced (lost, duplicated, out of order, diverged, for
  documents and chat) and the problems behind them, readable by tests and by bench/soak.py.

Nothing here sleeps for a fixed time to let something happen: every wait polls a condition
until a deadline.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import re
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Coroutine, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import psycopg
import websockets
from pycrdt import Doc, Text, merge_updates

from tests.e2e.servers import User, Worker, make_document, make_user
from tests.e2e.yclient import YClient

# Code points no test types otherwise; every character is one UTF-16 unit (BMP, no surrogates).
_POOL_RANGES = ((0x4E00, 0xA000), (0xAC00, 0xD7A4), (0x3400, 0x4DC0))
_POOL = "".join(chr(cp) for low, high in _POOL_RANGES for cp in range(low, high))


def alphabets(count: int, size: int) -> list[str]:
    """`count` disjoint strings of `size` distinct characters each."""
    if count * size > len(_POOL):
        raise ValueError(f"{count} alphabets of {size} characters need more than {len(_POOL)} code points")
    return [_POOL[index * size : (index + 1) * size] for index in range(count)]


def chat_url(worker: Worker, room_id: int, token: str, **query: Any) -> str:
    extra = "".join(f"&{key}={value}" for key, value in query.items())
    return f"ws://127.0.0.1:{worker.port}/ws/chat/{room_id}?token={token}{extra}"


class Journal:
    """What happened to whom and when (seconds since the journal started); printed on failure."""

    def __init__(self) -> None:
        self.start = time.monotonic()
        self.lines: list[str] = []
        self._lock = threading.Lock()

    def at(self) -> float:
        return time.monotonic() - self.start

    def note(self, who: str, what: str) -> None:
        with self._lock:
            self.lines.append(f"{self.at():6.2f} s {who}: {what}")

    def tail(self, count: int = 80) -> str:
        with self._lock:
            return "\n".join(self.lines[-count:])


# -- workers ------------------------------------------------------------------------------


class Pool:
    """The workers clients may connect to: alive and not retired."""

    def __init__(self, workers: Iterable[Worker]) -> None:
        self.workers = list(workers)
        self._retired: set[int] = set()
        self._turn = itertools.count()
        self._lock = threading.Lock()

    def is_live(self, worker: Worker) -> bool:
        process = worker.process
        return process is not None and process.poll() is None and worker.port not in self._retired

    def live(self) -> list[Worker]:
        with self._lock:
            return [worker for worker in self.workers if self.is_live(worker)]

    def retire(self, worker: Worker) -> None:
        """Clients leave this worker from now on (do it just before killing or stopping it)."""
        with self._lock:
            self._retired.add(worker.port)

    def add(self, worker: Worker) -> None:
        with self._lock:
            self.workers.append(worker)

    def pick(self, avoid: Worker | None = None) -> Worker:
        """A live worker, another than `avoid` when there is one (round robin)."""
        live = self.live()
        if not live:
            raise AssertionError("no live worker left")
        others = [worker for worker in live if avoid is None or worker.port != avoid.port]
        candidates = others or live
        return candidates[next(self._turn) % len(candidates)]


def start_in_parallel(start: Callable[[], Worker], count: int) -> list[Worker]:
    with ThreadPoolExecutor(count) as executor:
        return list(executor.map(lambda _: start(), range(count)))


def stop_in_parallel(workers: Sequence[Worker]) -> None:
    with ThreadPoolExecutor(max(1, len(workers))) as executor:
        list(executor.map(lambda worker: worker.stop(), workers))


def metric(worker: Worker, name: str, **labels: str) -> float:
    """The sum of a metric's samples on /metrics (those with all of `labels`)."""
    status, body = worker.request("GET", "/metrics")
    assert status == 200, body
    wanted = [f'{key}="{value}"' for key, value in labels.items()]
    total = 0.0
    for line in body.decode().splitlines():
        if not line.startswith(name) or line[len(name) : len(name) + 1] not in (" ", "{"):
            continue
        if all(label in line.split(" ", 1)[0] for label in wanted):
            total += float(line.rsplit(" ", 1)[1])
    return total


# -- people, documents, rooms ---------------------------------------------------------------


@dataclass
class Cast:
    owner: User
    people: list[User]  # the owner first
    document_ids: list[str]
    room_id: int


def set_up(worker: Worker, tag: str, people: int, documents: int) -> Cast:
    """`people` users (all editors of `documents` new documents and members of one private room)."""
    users = [make_user(worker, f"{tag}{index}{uuid.uuid4().hex[:6]}") for index in range(people)]
    owner = users[0]
    editors = {user.username: "editor" for user in users[1:]}
    document_ids = [make_document(worker, owner, editors, title=f"{tag} {n}") for n in range(documents)]
    status, room = worker.request("POST", "/api/chat/rooms", {"name": tag, "private": True}, owner.token)
    assert status == 201, room
    for user in users[1:]:
        status, body = worker.request(
            "POST", f"/api/chat/rooms/{room['id']}/members", {"username": user.username}, owner.token
        )
        assert status == 201, body
    return Cast(owner, users, document_ids, room["id"])


# -- Yjs typists -----------------------------------------------------------------------------


class Typist:
    """A real Yjs client typing its own characters into text "t" of one document."""

    def __init__(
        self,
        name: str,
        user: User,
        document_id: str,
        worker: Worker,
        alphabet: str,
        journal: Journal,
        *,
        at_start: bool = False,
        interval_ms: int = 80,
    ) -> None:
        self.name = name
        self.user = user
        self.document_id = document_id
        self.worker = worker
        self.alphabet = alphabet
        self.charset = frozenset(alphabet)
        self.journal = journal
        self.at_start = at_start
        self.interval_ms = interval_ms
        self.count = 0
        self.typed = 0
        self.client: YClient | None = None
        self.moving = False
        self.moves: list[tuple[float, int, float | str]] = []  # (when, to port, seconds to sync or error)

    def open(self) -> Typist:
        self.client = YClient(self.worker.ws_docs, self.document_id, self.user.token, self.name)
        return self

    @property
    def yclient(self) -> YClient:
        assert self.client is not None, f"{self.name} is not open"
        return self.client

    def wait_synced(self, timeout_ms: int = 20000) -> None:
        self.yclient.wait_synced(timeout_ms)

    def start_typing(self, count: int) -> None:
        if count > len(self.alphabet):
            raise ValueError(f"{self.name} has {len(self.alphabet)} characters, not {count}")
        self.count = count
        self.yclient.call(
            "type",
            text=self.alphabet[:count],
            interval_ms=self.interval_ms,
            at="start" if self.at_start else "end",
        )

    def move(self, worker: Worker, timeout_ms: int = 30000) -> None:
        """Leave the current worker for `worker` (a new provider on the same Y.Doc), wait for sync."""
        began = time.monotonic()
        self.journal.note(self.name, f"moving from {self.worker.port} to {worker.port}")
        self.worker = worker
        try:
            self.yclient.call("set_url", url=worker.ws_docs)
            self.wait_synced(timeout_ms)
            outcome: float | str = round(time.monotonic() - began, 2)
        except AssertionError as exc:
            outcome = f"not synced: {exc}"
        self.moves.append((round(self.journal.at(), 2), worker.port, outcome))
        self.journal.note(self.name, f"on {worker.port}: {outcome}")

    def text(self) -> str:
        return self.yclient.text()

    def finish(self, timeout: float = 60.0) -> int:
        """Wait until every character was typed; returns how many were."""
        done = self.yclient.call("type_done", timeout=timeout + 5, timeout_ms=int(timeout * 1000))
        self.typed = int(done["typed"])
        return self.typed

    def expected(self) -> str:
        """Its characters as they must read in the text (inserted at the start: reversed)."""
        typed = self.alphabet[: self.count]
        return typed[::-1] if self.at_start else typed

    def own(self, text: str) -> str:
        return "".join(ch for ch in text if ch in self.charset)

    def last_typed(self, text: str) -> str | None:
        """The newest of its characters in `text` (None when it holds none)."""
        own = self.own(text)
        if not own:
            return None
        return own[0] if self.at_start else own[-1]

    def close(self) -> None:
        if self.client is not None:
            self.client.close()


# -- chat posters and listeners ----------------------------------------------------------------


async def _open_socket(url: str) -> Any:
    return await websockets.connect(url, open_timeout=5, close_timeout=1, max_size=2**22)


def _abort(socket: Any) -> None:
    with contextlib.suppress(Exception):
        socket.transport.abort()


class Poster:
    """Posts `name-N` messages one at a time, each until acknowledged, exactly once by client id."""

    def __init__(
        self,
        name: str,
        user: User,
        room_id: int,
        pool: Pool,
        worker: Worker,
        journal: Journal,
        *,
        interval: float = 0.1,
        ack_timeout: float = 3.0,
        retry_delay: float = 0.3,
    ) -> None:
        self.name = name
        self.user = user
        self.room_id = room_id
        self.pool = pool
        self.worker = worker
        self.journal = journal
        self.interval = interval
        self.ack_timeout = ack_timeout
        self.retry_delay = retry_delay
        self.tag = uuid.uuid4().hex[:6]
        self.socket: Any = None
        self.reader: asyncio.Task[None] | None = None
        self.sent: list[str] = []  # client ids in posting order
        self.bodies: dict[str, str] = {}
        self.acks: dict[str, int] = {}  # client id -> seq
        self.acked_at: list[tuple[float, float, int]] = []  # (when, seconds since first sent, port)
        self.ack_times: dict[int, float] = {}  # seq -> when acknowledged (journal seconds)
        self.refusals: list[tuple[float, str]] = []  # (when, error code or "no ack")
        self.closes: list[tuple[float, int | None]] = []
        self.reconnects = 0
        self.hop_to: Worker | None = None
        self.inconsistent: list[str] = []  # a client id acknowledged with two numbers
        self._waiting: dict[str, asyncio.Future[dict[str, Any]]] = {}

    async def connect(self, worker: Worker, deadline: float) -> None:
        self.drop()
        target = worker
        while True:
            try:
                self.socket = await _open_socket(chat_url(target, self.room_id, self.user.token))
                break
            except (OSError, TimeoutError, websockets.WebSocketException) as exc:
                self.journal.note(self.name, f"connect to {target.port} failed: {exc!r}")
                if time.monotonic() > deadline:
                    raise AssertionError(f"{self.name} could not connect\n{self.journal.tail()}") from exc
                await asyncio.sleep(self.retry_delay)
                target = self.pool.pick(avoid=target)
        self.worker = target
        self.reader = asyncio.create_task(self._read(self.socket))
        self.journal.note(self.name, f"connected to {target.port}")

    def drop(self) -> None:
        if self.reader is not None:
            self.reader.cancel()
            self.reader = None
        if self.socket is not None:
            _abort(self.socket)
            self.socket = None

    async def _read(self, socket: Any) -> None:
        try:
            async for raw in socket:
                frame = json.loads(raw)
                kind = frame.get("type")
                if kind == "message.ack" or (kind == "error" and frame.get("frame") == "message.send"):
                    future = self._waiting.get(frame.get("client_id") or "")
                    if future is not None and not future.done():
                        future.set_result(frame)
        except websockets.ConnectionClosed as exc:
            code = exc.rcvd.code if exc.rcvd is not None else None
            self.closes.append((round(self.journal.at(), 2), code))
            self.journal.note(self.name, f"socket to {self.worker.port} closed: {code}")

    async def post(self, number: int, deadline: float) -> None:
        client_id = f"{self.name}-{self.tag}-{number}"
        self.sent.append(client_id)
        self.bodies[client_id] = f"{self.name} says {number}"
        first_sent = time.monotonic()
        while True:
            if self.socket is None or self.reader is None or self.reader.done():
                if self.socket is not None:
                    await asyncio.sleep(self.retry_delay)  # closed: do not hammer the next worker
                self.reconnects += 1
                await self.connect(self.pool.pick(avoid=self.worker), deadline)
            reader = self.reader
            assert reader is not None
            future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
            self._waiting[client_id] = future
            with contextlib.suppress(websockets.ConnectionClosed):
                await self.socket.send(
                    json.dumps(
                        {"type": "message.send", "client_id": client_id, "body": self.bodies[client_id]}
                    )
                )
            waiting: list[asyncio.Future[Any]] = [future, reader]
            await asyncio.wait(waiting, timeout=self.ack_timeout, return_when=asyncio.FIRST_COMPLETED)
            self._waiting.pop(client_id, None)
            if future.done():
                frame = future.result()
                if frame["type"] == "message.ack":
                    seq = int(frame["seq"])
                    previous = self.acks.setdefault(client_id, seq)
                    if previous != seq:
                        self.inconsistent.append(f"{client_id} acknowledged as {previous} and {seq}")
                    now = time.monotonic()
                    self.ack_times.setdefault(seq, self.journal.at())
                    self.acked_at.append((round(self.journal.at(), 2), now - first_sent, self.worker.port))
                    return
                self.refusals.append((round(self.journal.at(), 2), str(frame.get("code"))))
                if time.monotonic() > deadline:
                    raise AssertionError(f"{self.name}: {client_id} refused until the deadline: {frame}")
                await asyncio.sleep(self.retry_delay)
                continue
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"{self.name}: {client_id} was never acknowledged\n{self.journal.tail()}"
                )
            if not reader.done():
                # No answer in time: leave this worker for another one and send again.
                self.refusals.append((round(self.journal.at(), 2), "no ack"))
                self.journal.note(self.name, f"{client_id}: no ack from {self.worker.port} in time")
                self.reconnects += 1
                await self.connect(self.pool.pick(avoid=self.worker), deadline)

    async def run(self, until: float, deadline: float) -> None:
        await self.connect(self.worker, deadline)
        for number in itertools.count(1):
            if time.monotonic() >= until:
                break
            hop = self.hop_to
            if hop is not None:
                self.hop_to = None
                if self.pool.is_live(hop):
                    self.reconnects += 1
                    await self.connect(hop, deadline)
            elif not self.pool.is_live(self.worker):
                self.reconnects += 1
                await self.connect(self.pool.pick(avoid=self.worker), deadline)
            await self.post(number, deadline)
            await asyncio.sleep(self.interval)
        self.drop()


class Listener:
    """Reads a room from the start, resuming with `after=<last seq>` on every reconnect."""

    def __init__(
        self, name: str, user: User, room_id: int, pool: Pool, worker: Worker, journal: Journal
    ) -> None:
        self.name = name
        self.user = user
        self.room_id = room_id
        self.pool = pool
        self.worker = worker
        self.journal = journal
        self.seqs: list[int] = []  # every message.new, in arrival order
        self.client_ids: dict[int, str] = {}
        self.arrived_at: dict[int, float] = {}  # seq -> when it first arrived (journal seconds)
        self.last_seq = 0
        self.reconnects = 0
        self.closes: list[tuple[float, int | None]] = []
        self.presence: list[tuple[float, list[str]]] = []  # (when, users here)
        self.hop_to: Worker | None = None
        self._arrived = asyncio.Event()

    async def _read(self, socket: Any) -> None:
        try:
            async for raw in socket:
                frame = json.loads(raw)
                kind = frame.get("type")
                if kind == "message.new":
                    message = frame["message"]
                    seq = int(message["seq"])
                    self.seqs.append(seq)
                    self._arrived.set()
                    self.client_ids.setdefault(seq, message["client_id"])
                    self.arrived_at.setdefault(seq, self.journal.at())
                    self.last_seq = max(self.last_seq, seq)
                elif kind == "resume.partial":
                    await socket.send(json.dumps({"type": "resume", "after_version": frame["after_version"]}))
                elif kind == "presence":
                    self.presence.append((self.journal.at(), [entry["user"] for entry in frame["here"]]))
        except websockets.ConnectionClosed as exc:
            code = exc.rcvd.code if exc.rcvd is not None else None
            self.closes.append((round(self.journal.at(), 2), code))
            self.journal.note(self.name, f"socket to {self.worker.port} closed: {code}")

    async def run(self, stop: asyncio.Event, deadline: float) -> None:
        target = self.worker
        first = True
        while not stop.is_set():
            if not first:
                self.reconnects += 1
            first = False
            try:
                socket = await _open_socket(
                    chat_url(target, self.room_id, self.user.token, after=self.last_seq)
                )
            except (OSError, TimeoutError, websockets.WebSocketException) as exc:
                self.journal.note(self.name, f"connect to {target.port} failed: {exc!r}")
                if time.monotonic() > deadline:
                    raise AssertionError(f"{self.name} could not connect\n{self.journal.tail()}") from exc
                await asyncio.sleep(0.3)
                target = self.pool.pick(avoid=target)
                continue
            self.worker = target
            self.journal.note(self.name, f"connected to {target.port} after={self.last_seq}")
            reader = asyncio.create_task(self._read(socket))
            stopping = asyncio.create_task(stop.wait())
            while not reader.done() and not stop.is_set():
                if self.hop_to is not None or not self.pool.is_live(self.worker):
                    break
                await asyncio.wait([reader, stopping], timeout=0.2, return_when=asyncio.FIRST_COMPLETED)
            stopping.cancel()
            closed_by_server = reader.done()
            reader.cancel()
            _abort(socket)
            if self.hop_to is not None:
                target, self.hop_to = self.hop_to, None
            elif closed_by_server or not self.pool.is_live(self.worker):
                await asyncio.sleep(0.2 if closed_by_server else 0)
                target = self.pool.pick(avoid=self.worker)
            if time.monotonic() > deadline:
                raise AssertionError(f"{self.name} still reconnecting at the deadline\n{self.journal.tail()}")

    async def wait_for(self, count: int, within: float) -> None:
        """Until `count` messages arrived or `within` seconds passed."""
        deadline = time.monotonic() + within
        while len(self.seqs) < count and time.monotonic() < deadline:
            self._arrived.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._arrived.wait(), 0.2)


# -- sockets opened during a fault ------------------------------------------------------------

RETRYABLE_CLOSE_CODES = {4500, 4503}


def new_document_socket(
    worker: Worker, document_id: str, user: User, bound: float = 8.0
) -> tuple[str, float]:
    """A stock y-websocket client connecting now: ("synced" | "closed <code>", seconds)."""
    started = time.monotonic()
    client = YClient(worker.ws_docs, document_id, user.token, "newcomer", "--no-reconnect")
    try:
        while time.monotonic() < started + bound:
            if client.closes:
                return f"closed {client.closes[0]['code']}", time.monotonic() - started
            if client.call("status")["synced"]:
                return "synced", time.monotonic() - started
            time.sleep(0.05)
        return "hanging", time.monotonic() - started
    finally:
        client.close()


async def new_chat_socket(worker: Worker, room_id: int, user: User, bound: float = 8.0) -> tuple[str, float]:
    """A chat socket opened now, then a ping: ("pong" | "closed <code>" | "refused ...", seconds)."""
    started = time.monotonic()
    try:
        async with asyncio.timeout(bound):
            async with websockets.connect(chat_url(worker, room_id, user.token), open_timeout=5) as socket:
                try:
                    await socket.send(json.dumps({"type": "ping"}))
                    while True:
                        frame = json.loads(await socket.recv())
                        if frame.get("type") == "pong":
                            return "pong", time.monotonic() - started
                except websockets.ConnectionClosed as closed:
                    code = closed.rcvd.code if closed.rcvd is not None else None
                    return f"closed {code}", time.monotonic() - started
    except TimeoutError:
        return "hanging", time.monotonic() - started
    except (OSError, websockets.WebSocketException) as exc:
        return f"refused {exc!r}", time.monotonic() - started


def acceptable(outcome: str) -> bool:
    """Served, or closed with a code that tells the client to retry; not hanging, not refused."""
    if outcome in ("synced", "pong"):
        return True
    kind, _, code = outcome.partition(" ")
    return kind == "closed" and code.isdigit() and int(code) in RETRYABLE_CLOSE_CODES


def delivery_delays(
    posters: Sequence[Poster], listeners: Sequence[Listener], start: float, end: float
) -> list[float]:
    """Seconds from each ack (journal time in [start, end)) to the message reaching each listener."""
    acked: dict[int, float] = {}
    for poster in posters:
        acked.update({seq: at for seq, at in poster.ack_times.items() if start <= at < end})
    return sorted(
        listener.arrived_at[seq] - at
        for listener in listeners
        for seq, at in acked.items()
        if seq in listener.arrived_at
    )


# -- findings ---------------------------------------------------------------------------------


@dataclass
class Findings:
    documents_lost: int = 0  # characters typed but missing
    documents_duplicated: int = 0  # characters there more than once, or never typed
    documents_out_of_order: int = 0  # typists whose characters are not in the order typed
    documents_diverged: int = 0  # copies (clients, stored) unlike the reference text
    chat_lost: int = 0  # acknowledged messages missing (from a listener or the store)
    chat_duplicated: int = 0  # messages received or stored more than once
    chat_out_of_order: int = 0  # listeners that received messages out of seq order
    chat_diverged: int = 0  # messages whose number or body differs from the ack / the send
    chat_unacknowledged: int = 0  # sends never acknowledged
    problems: list[str] = field(default_factory=list)

    COUNTS = (
        "documents_lost",
        "documents_duplicated",
        "documents_out_of_order",
        "documents_diverged",
        "chat_lost",
        "chat_duplicated",
        "chat_out_of_order",
        "chat_diverged",
        "chat_unacknowledged",
    )

    @property
    def ok(self) -> bool:
        return not self.problems and all(getattr(self, name) == 0 for name in self.COUNTS)

    def add(self, other: Findings) -> Findings:
        for name in self.COUNTS:
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.problems += other.problems
        return self

    def counts(self) -> dict[str, int]:
        return {name: getattr(self, name) for name in self.COUNTS}

    def __str__(self) -> str:
        return json.dumps(self.counts()) + "".join(f"\n  - {problem}" for problem in self.problems[:40])


def check_text(text: str, typists: Sequence[Typist], where: str) -> Findings:
    """Every typist's characters in `text` exactly once, in the order typed; nothing else."""
    found = Findings()
    expected = Counter("".join(typist.expected() for typist in typists))
    have = Counter(text)
    lost = expected - have
    extra = have - expected
    if lost:
        found.documents_lost += sum(lost.values())
        found.problems.append(
            f"{where}: {sum(lost.values())} characters lost, e.g. {''.join(list(lost)[:8])!r}"
        )
    if extra:
        found.documents_duplicated += sum(extra.values())
        found.problems.append(
            f"{where}: {sum(extra.values())} characters doubled or foreign, e.g. {''.join(list(extra)[:8])!r}"
        )
    for typist in typists:
        own = typist.own(text)
        if not lost and not extra and own != typist.expected():
            found.documents_out_of_order += 1
            found.problems.append(f"{where}: {typist.name}'s characters are out of order")
    return found


def check_listener(listener: Listener, acks: dict[str, int]) -> Findings:
    """The listener read 1..N (N = messages acknowledged), each once, in order, as acknowledged."""
    found = Findings()
    total = len(acks)
    seqs = listener.seqs
    counted = Counter(seqs)
    missing = sorted(set(range(1, total + 1)) - set(counted))
    repeated = sorted(seq for seq, times in counted.items() if times > 1)
    if missing:
        found.chat_lost += len(missing)
        found.problems.append(f"{listener.name} missed {len(missing)} of {total}: {missing[:10]}")
    if repeated:
        found.chat_duplicated += sum(counted[seq] - 1 for seq in repeated)
        found.problems.append(f"{listener.name} got {len(repeated)} messages twice: {repeated[:10]}")
    if any(later < earlier for earlier, later in itertools.pairwise(seqs)):
        found.chat_out_of_order += 1
        found.problems.append(f"{listener.name} received messages out of order")
    by_seq = {seq: client_id for client_id, seq in acks.items()}
    wrong = [seq for seq, client_id in listener.client_ids.items() if by_seq.get(seq, client_id) != client_id]
    if wrong:
        found.chat_diverged += len(wrong)
        found.problems.append(f"{listener.name}: messages {wrong[:10]} are not the acknowledged ones")
    return found


def check_acks(posters: Sequence[Poster]) -> tuple[dict[str, int], Findings]:
    """All sends acknowledged, each number once, the numbers 1..N: (client id -> seq, findings)."""
    found = Findings()
    acks: dict[str, int] = {}
    for poster in posters:
        unacked = [client_id for client_id in poster.sent if client_id not in poster.acks]
        if unacked:
            found.chat_unacknowledged += len(unacked)
            found.problems.append(f"{poster.name}: {len(unacked)} sends never acknowledged: {unacked[:5]}")
        if poster.inconsistent:
            found.chat_diverged += len(poster.inconsistent)
            found.problems += poster.inconsistent[:5]
        acks.update(poster.acks)
    numbers = Counter(acks.values())
    doubled = sorted(seq for seq, times in numbers.items() if times > 1)
    if doubled:
        found.chat_duplicated += len(doubled)
        found.problems.append(f"seqs acknowledged for two client ids: {doubled[:10]}")
    if sorted(numbers) != list(range(1, len(numbers) + 1)):
        gaps = sorted(set(range(1, max(numbers, default=0) + 1)) - set(numbers))
        found.chat_lost += len(gaps)
        found.problems.append(f"acknowledged seqs are not 1..N, missing {gaps[:10]}")
    return acks, found


def check_messages(stored: list[tuple[int, str, str]], posters: Sequence[Poster], where: str) -> Findings:
    """The stored room holds exactly the acknowledged messages, once, with their numbers and bodies."""
    found = Findings()
    acks: dict[str, int] = {}
    bodies: dict[str, str] = {}
    for poster in posters:
        acks.update(poster.acks)
        bodies.update(poster.bodies)
    seqs = [seq for seq, _, _ in stored]
    if seqs != list(range(1, len(seqs) + 1)):
        found.chat_diverged += 1
        found.problems.append(f"{where}: stored seqs are not 1..N")
    by_client = Counter(client_id for _, client_id, _ in stored)
    doubled = [client_id for client_id, times in by_client.items() if times > 1]
    if doubled:
        found.chat_duplicated += sum(by_client[client_id] - 1 for client_id in doubled)
        found.problems.append(f"{where}: stored twice: {doubled[:5]}")
    stored_seq = {client_id: seq for seq, client_id, _ in stored}
    missing = [client_id for client_id in acks if client_id not in stored_seq]
    if missing:
        found.chat_lost += len(missing)
        found.problems.append(f"{where}: {len(missing)} acknowledged messages not stored: {missing[:5]}")
    renumbered = [c for c, seq in acks.items() if c in stored_seq and stored_seq[c] != seq]
    changed = [(seq, c) for seq, c, body in stored if c in bodies and bodies[c] != body]
    unknown = [c for c in stored_seq if c not in bodies]
    if renumbered or changed or unknown:
        found.chat_diverged += len(renumbered) + len(changed) + len(unknown)
        found.problems.append(
            f"{where}: renumbered {renumbered[:5]}, bodies changed {changed[:5]}, never sent {unknown[:5]}"
        )
    return found


# -- reading what is stored ------------------------------------------------------------------------


def text_of(update: bytes) -> str:
    doc: Doc = Doc()  # type: ignore[type-arg]
    if update:
        doc.apply_update(update)
    return str(doc.get("t", type=Text))


def api_text(worker: Worker, document_id: str, token: str) -> str:
    """The stored document (snapshot + log merged as bytes) as the API serves it."""
    status, body = worker.request("GET", f"/api/documents/{document_id}/state", token=token)
    assert status == 200, body
    return text_of(body)


def api_messages(worker: Worker, room_id: int, token: str) -> list[tuple[int, str, str]]:
    """Every message of a room, paged with after=<last seq> (bounded: 1000 pages of 200)."""
    messages: list[tuple[int, str, str]] = []
    for _ in range(1000):
        after = messages[-1][0] if messages else 0
        status, page = worker.request(
            "GET", f"/api/chat/rooms/{room_id}/messages?after={after}&limit=200", None, token
        )
        assert status == 200, page
        messages += [(m["seq"], m["client_id"], m["body"]) for m in page["messages"]]
        if not page["has_more"]:
            return messages
    raise AssertionError("more than 1000 pages of messages")


def database_text(database_url: str, document_id: str) -> str:
    """The document read straight from PostgreSQL (snapshot and later rows merged as bytes)."""
    with psycopg.connect(database_url, connect_timeout=5) as conn:
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
    return text_of(merge_updates(*updates) if updates else b"")


def database_messages(database_url: str, room_id: int) -> list[tuple[int, str, str]]:
    with psycopg.connect(database_url, connect_timeout=5) as conn:
        rows = conn.execute(
            "SELECT seq, client_id, body FROM chat_chatmessage WHERE room_id = %s ORDER BY seq", [room_id]
        ).fetchall()
    return [(int(seq), str(client_id), str(body)) for seq, client_id, body in rows]


def log_problems(workers: Iterable[Worker]) -> dict[str, int]:
    """Tracebacks and ERROR lines per worker log (printed with the metrics, not asserted)."""
    counts: dict[str, int] = {}
    for worker in workers:
        try:
            text = worker.log_path.read_text(errors="replace")
        except OSError:
            continue
        counts[worker.log_path.name] = text.count("Traceback") + len(re.findall(r"\bERROR\b", text))
    return counts


# -- the load -----------------------------------------------------------------------------------------

Director = Callable[["MixedLoad"], Coroutine[Any, Any, None]]


class MixedLoad:
    """Typists on documents and posters and listeners in one room, spread over the pool's workers."""

    def __init__(
        self,
        pool: Pool,
        cast: Cast,
        *,
        typists_per_document: int = 3,
        posters: int = 3,
        listeners: int = 3,
        type_for: float = 20.0,
        type_interval_ms: int = 80,
        post_interval: float = 0.1,
        ack_timeout: float = 3.0,
        journal: Journal | None = None,
    ) -> None:
        self.pool = pool
        self.cast = cast
        self.journal = journal or Journal()
        self.type_for = type_for
        workers = pool.live()
        people = itertools.cycle(cast.people)
        placement = itertools.cycle(workers)
        count = int(type_for * 1000 / type_interval_ms)
        letters = alphabets(typists_per_document, max(count, 1))  # unique within each document
        self.typists: list[Typist] = []
        for doc_index, document_id in enumerate(cast.document_ids):
            for index in range(typists_per_document):
                self.typists.append(
                    Typist(
                        f"t{doc_index}.{index}",
                        next(people),
                        document_id,
                        next(placement),
                        letters[index],
                        self.journal,
                        at_start=index == 0,  # each insert builds on this typist's latest one
                        interval_ms=type_interval_ms,
                    )
                )
        self.count = count
        placement = itertools.cycle(workers)
        self.posters = [
            Poster(
                f"p{index}",
                next(people),
                cast.room_id,
                pool,
                next(placement),
                self.journal,
                interval=post_interval,
                ack_timeout=ack_timeout,
            )
            for index in range(posters)
        ]
        placement = itertools.cycle(workers[1:] + workers[:1])  # not where the posters are
        self.listeners = [
            Listener(f"l{index}", next(people), cast.room_id, pool, next(placement), self.journal)
            for index in range(listeners)
        ]
        self.started = 0.0
        self.metrics: dict[str, Any] = {}
        self._moves: list[asyncio.Task[None]] = []

    # -- phases --

    def open(self, timeout_ms: int = 30000) -> None:
        """Start every Yjs client and wait until all are synced."""
        for typist in self.typists:
            typist.open()
        for typist in self.typists:
            typist.wait_synced(timeout_ms)

    def documents(self) -> dict[str, list[Typist]]:
        by_document: dict[str, list[Typist]] = {}
        for typist in self.typists:
            by_document.setdefault(typist.document_id, []).append(typist)
        return by_document

    def clients(self) -> list[Typist | Poster | Listener]:
        return [*self.typists, *self.chat_clients()]

    def chat_clients(self) -> list[Poster | Listener]:
        return [*self.posters, *self.listeners]

    def on(self, worker: Worker) -> list[Typist | Poster | Listener]:
        return [client for client in self.clients() if client.worker.port == worker.port]

    def move_typist(self, typist: Typist, worker: Worker) -> None:
        """Start moving a typist (in a thread); `run` waits for the move before it returns."""
        typist.moving = True

        async def move() -> None:
            try:
                await asyncio.to_thread(typist.move, worker)
            finally:
                typist.moving = False

        self._moves.append(asyncio.create_task(move()))

    def rebalance(self, worker: Worker) -> None:
        """Move a fair share of every kind of client to `worker` (a replacement)."""
        live = self.pool.live()
        kinds: list[Sequence[Typist | Poster | Listener]] = [self.typists, self.posters, self.listeners]
        for clients in kinds:
            share = len(clients) // max(1, len(live))
            where = {id(client): client.worker.port for client in clients}
            for _ in range(share):
                per_worker = Counter(port for port in where.values() if port != worker.port)
                if not per_worker:
                    break
                busiest = per_worker.most_common(1)[0][0]
                client = next(c for c in clients if where[id(c)] == busiest)
                where[id(client)] = worker.port
                if isinstance(client, Typist):
                    if not client.moving:
                        self.move_typist(client, worker)
                else:
                    client.hop_to = worker

    async def _supervise(self, stop: asyncio.Event) -> None:
        """Typists leave retired or dead workers (chat clients do it themselves)."""
        while not stop.is_set():
            for typist in self.typists:
                if not typist.moving and not self.pool.is_live(typist.worker):
                    self.move_typist(typist, self.pool.pick(avoid=typist.worker))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), 0.25)

    async def run(self, director: Director | None = None, post_for: float | None = None) -> None:
        """Type and post (posting for `post_for` s, default the typing time) while `director` runs."""
        self.started = time.monotonic()
        post_for = self.type_for if post_for is None else post_for
        until = self.started + post_for
        deadline = until + 60.0
        for typist in self.typists:
            await asyncio.to_thread(typist.start_typing, self.count)
        stop = asyncio.Event()
        listening = [asyncio.create_task(listener.run(stop, deadline + 30)) for listener in self.listeners]
        supervisor = asyncio.create_task(self._supervise(stop))
        try:
            posting = [asyncio.create_task(poster.run(until, deadline)) for poster in self.posters]
            directing = [asyncio.create_task(director(self))] if director is not None else []
            await asyncio.gather(*directing, *posting)
            self.metrics["load seconds"] = round(time.monotonic() - self.started, 1)
            acks = sum(len(poster.acks) for poster in self.posters)
            await asyncio.gather(*(listener.wait_for(acks, within=30) for listener in self.listeners))
            self.metrics["chat drained seconds after posting"] = round(time.monotonic() - until, 1)
        finally:
            stop.set()
            for poster in self.posters:
                poster.drop()
            results = await asyncio.gather(*listening, supervisor, return_exceptions=True)
            moves = await asyncio.gather(*self._moves, return_exceptions=True)
        errors = [r for r in [*results, *moves] if isinstance(r, BaseException)]
        if errors:
            raise errors[0]

    def finish(self, converge_within: float = 30.0) -> dict[str, str]:
        """Wait until every typist typed everything and each document's clients agree; their texts."""
        for typist in self.typists:
            typed = typist.finish(timeout=max(60.0, self.type_for * 3))
            assert typed == typist.count, f"{typist.name} typed {typed} of {typist.count}"
        done = time.monotonic()
        texts: dict[str, str] = {}
        for document_id, typists in self.documents().items():
            length = sum(len(typist.expected()) for typist in typists)
            deadline = time.monotonic() + converge_within
            while True:
                copies = {typist.name: typist.text() for typist in typists}
                if len(set(copies.values())) == 1 and len(next(iter(copies.values()))) == length:
                    break
                if time.monotonic() > deadline:
                    break
                time.sleep(0.2)
            texts[document_id] = copies[typists[0].name]
        self.metrics["documents converged seconds after typing"] = round(time.monotonic() - done, 2)
        return texts

    def check_clients(self) -> tuple[dict[str, str], Findings]:
        """Documents: every client holds every character once, in order. Chat: all acknowledged,
        every listener read 1..N once in order. Returns ({document: text}, findings)."""
        found = Findings()
        texts: dict[str, str] = {}
        for document_id, typists in self.documents().items():
            copies = {typist.name: typist.text() for typist in typists}
            reference = copies[typists[0].name]
            texts[document_id] = reference
            found.add(check_text(reference, typists, f"client {typists[0].name}"))
            for name, copy in copies.items():
                if copy != reference:
                    found.documents_diverged += 1
                    found.problems.append(
                        f"{name} holds {len(copy)} characters unlike {typists[0].name}'s {len(reference)}"
                    )
        acks, acked = check_acks(self.posters)
        found.add(acked)
        for listener in self.listeners:
            found.add(check_listener(listener, acks))
        return texts, found

    def wait_stored(self, worker: Worker, texts: dict[str, str], within: float = 15.0) -> float:
        """Seconds until the API serves each document as the clients hold it (raises when it does not)."""
        began = time.monotonic()
        token = self.cast.owner.token
        for document_id, text in texts.items():
            deadline = time.monotonic() + within
            while (stored := api_text(worker, document_id, token)) != text:
                if time.monotonic() > deadline:
                    raise AssertionError(
                        f"document {document_id}: {len(stored)} characters stored, clients hold {len(text)}"
                    )
                time.sleep(0.2)
        return round(time.monotonic() - began, 2)

    def check_store(
        self, workers: Sequence[Worker], texts: dict[str, str], database_url: str | None = None
    ) -> Findings:
        """What the (restarted) workers serve, and the database itself, against the clients."""
        found = Findings()
        token = self.cast.owner.token
        for worker in workers:
            where = f"stored (worker {worker.port})"
            for document_id, typists in self.documents().items():
                stored = api_text(worker, document_id, token)
                found.add(check_text(stored, typists, where))
                if stored != texts[document_id]:
                    found.documents_diverged += 1
                    found.problems.append(f"{where}: document {document_id} differs from the clients'")
            found.add(check_messages(api_messages(worker, self.cast.room_id, token), self.posters, where))
        if database_url is not None:
            for document_id, typists in self.documents().items():
                stored = database_text(database_url, document_id)
                found.add(check_text(stored, typists, "database"))
                if stored != texts[document_id]:
                    found.documents_diverged += 1
                    found.problems.append(f"database: document {document_id} differs from the clients'")
            found.add(
                check_messages(database_messages(database_url, self.cast.room_id), self.posters, "database")
            )
        return found

    def chat_summary(self) -> dict[str, Any]:
        return {
            poster.name: {
                "acked": len(poster.acks),
                "refused": dict(Counter(code for _, code in poster.refusals)),
                "reconnects": poster.reconnects,
                "closes": dict(Counter(str(code) for _, code in poster.closes)),
                "max ack seconds": round(max((s for _, s, _ in poster.acked_at), default=0.0), 2),
            }
            for poster in self.posters
        } | {
            listener.name: {
                "received": len(listener.seqs),
                "reconnects": listener.reconnects,
                "closes": dict(Counter(str(code) for _, code in listener.closes)),
            }
            for listener in self.listeners
        }

    def close(self) -> None:
        for typist in self.typists:
            typist.close()
