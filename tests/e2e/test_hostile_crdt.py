"""Fuzzed y-websocket frames on `/ws/docs/{id}` of a real daphne worker.

A few thousand frames per run, from a fixed seed (COLLAB_FUZZ_SEED overrides it; every
failure names the seed and the frame; a seed gives the same frames up to the real clients'
client ids, which Yjs draws at random and some frames claim): valid SyncStep1, SyncStep2,
Update, Awareness, QueryAwareness and Auth frames, and mutations of them (bit flips,
truncation, trailing bytes, length fields inflated or shrunk, huge and overlong varUints,
random bytes, spliced frames, text frames, frames over the size limit, floods of state
requests, nested, oversize and non-object awareness JSON, awareness claiming another user's
identity or client id).

Every frame is judged twice: by an oracle written from the wire protocol (docs, BRIEF) that
says, from the bytes alone, whether the server must close the socket (4400), must keep it
open, or may do either; and by the server, whose verdict is read exactly: after each fuzzed
frame the fuzzer sends a SyncStep1 "fence", and the frame was accepted if the fence is
answered, refused if the socket closes first. A socket that neither answers nor closes
within HANG_SECONDS is a hang. A new socket is opened whenever one is closed (and before the
per-socket budget of state requests runs out, so that 4429 only comes from the floods that
ask for it).

Meanwhile two real Yjs clients (y-websocket in Node) type into the same document, and a
passive raw socket records every awareness frame the server forwards: each must be strict
JSON carrying the true name of the socket that sent it, whatever the sender claimed.

Per mutation, what may change the document: from a *viewer*, nothing (its updates are
dropped unparsed, so even a malformed one keeps the socket open). From an *editor*, an
update the oracle finds malformed (pycrdt cannot read it) must close 4400 and change
nothing; an update pycrdt reads (a mutation that happens to stay well-formed, or an
unmutated one) may legitimately apply, and then reaches every client and the log. The
editor's test checks that every client id in the stored document comes from the real
clients or from an update that the oracle found well-formed and the server accepted, and
that what clients hold, what a newcomer is sent, what is stored and what loads after the
room unloaded (with compaction every 5 rows) are the same document.

Awareness clocks up to 2**53 - 1 are fuzzed (the removal of such a state keeps its clock,
so no client is sent 2**53). Updates that pycrdt reads but Yjs does not are refused by the
server's own struct check (collab/engine/yupdate.py); the editor fuzz still leaves out the few
that its oracle cannot tell apart (printed as "left out"). Some fuzzed updates are forged:
items under a real client's id at clocks it is about to write, or deletions of those clocks
(collab/engine/client_ids.py refuses both; accepted, they would make the document lose that
client's next edits, which the typed-text check would catch).
"""

from __future__ import annotations

import asyncio
import base64
import json
import math
import os
import random
import subprocess
import time
import urllib.request
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import websockets
from pycrdt import Array, Doc, Map, Text, get_state

from collab.engine.yupdate import check_update
from tests.e2e.scenarios import wait_until
from tests.e2e.servers import User, Worker, make_document, make_user
from tests.e2e.yclient import NODE_DIR, YClient

StartWorker = Callable[..., Worker]
Connect = Callable[..., YClient]

SEED = int(os.environ.get("COLLAB_FUZZ_SEED", "20261201"))
FRAMES_AS_VIEWER = 1800
FRAMES_AS_EDITOR = 1500
MAX_FRAME_BYTES = 128 * 1024  # the fuzzed worker's COLLAB_MAX_FRAME_BYTES: oversize frames stay cheap
HANG_SECONDS = 15.0
# Documented close codes (docs/architecture.md): 4400 bad frame, 4413 / 1009 too large,
# 4429 too many state requests, 4403 no access; 1000 normal; 1006 a dropped connection.
DOCUMENTED_CLOSES = {4400, 4413, 1009, 4429, 4403, 1000, 1006}

MAX_UINT = 2**53 - 1  # JavaScript integers are exact up to here; Yjs ids and clocks stay below
AWARENESS_STATE_LIMIT = 16 * 1024  # "a state is at most 16 KiB of JSON"
SYNC_REQUEST_BURST = 10  # full-state requests (SyncStep1, QueryAwareness) a fresh socket may make
FENCE = b"\x00\x00\x01\x00"  # SyncStep1 with an empty state vector: always answered with SyncStep2


def fuzz_seed_note(seed: int) -> str:
    return f"(reproduce with COLLAB_FUZZ_SEED={seed})"


# -- the wire format, written from the protocol description --------------------------------


def var_uint(value: int) -> bytes:
    out = bytearray()
    while value > 0x7F:
        out.append(0x80 | (value & 0x7F))
        value >>= 7
    out.append(value)
    return bytes(out)


def var_bytes(data: bytes) -> bytes:
    return var_uint(len(data)) + data


def awareness_body(entries: list[tuple[int, int, bytes]]) -> bytes:
    body = var_uint(len(entries))
    for client_id, clock, state in entries:
        body += var_uint(client_id) + var_uint(clock) + var_bytes(state)
    return body


def awareness_frame(entries: list[tuple[int, int, bytes]]) -> bytes:
    return b"\x01" + var_bytes(awareness_body(entries))


class MalformedError(Exception):
    pass


class Cursor:
    def __init__(self, data: bytes) -> None:
        self.data, self.pos = data, 0

    def uint(self) -> int:
        value, shift = 0, 0
        while True:
            if self.pos >= len(self.data):
                raise MalformedError("truncated varUint")
            byte = self.data[self.pos]
            self.pos += 1
            value |= (byte & 0x7F) << shift
            if value > MAX_UINT:
                raise MalformedError("varUint beyond 2**53")
            if byte < 0x80:
                return value
            shift += 7

    def bytes(self) -> bytes:
        length = self.uint()
        if self.pos + length > len(self.data):
            raise MalformedError("truncated byte array")
        chunk = self.data[self.pos : self.pos + length]
        self.pos += length
        return chunk

    def string(self) -> str:
        try:
            return self.bytes().decode("utf-8")
        except UnicodeDecodeError as exc:
            raise MalformedError("invalid UTF-8") from exc

    def end(self) -> None:
        if self.pos != len(self.data):
            raise MalformedError("trailing bytes")


def _no_constant(token: str) -> Any:
    raise MalformedError(f"{token} is not JSON")


def _finite(token: str) -> float:
    number = float(token)
    if math.isinf(number):
        raise MalformedError(f"{token} overflows")
    return number


def strict_json(text: str) -> Any:
    """RFC 8259 JSON as a browser's JSON.parse reads it (no NaN, no Infinity)."""
    try:
        return json.loads(text, parse_constant=_no_constant, parse_float=_finite)
    except RecursionError as exc:
        raise MalformedError("nested too deeply for the parser") from exc
    except ValueError as exc:
        raise MalformedError(f"not JSON: {exc}") from exc


def nesting(text: str) -> int:
    """The deepest bracket nesting of a JSON text (outside strings)."""
    depth = deepest = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth -= 1
    return deepest


# -- the oracle ------------------------------------------------------------------------------

CLOSE, STAY, EITHER = "close", "stay", "either"


@dataclass
class Expect:
    outcome: str  # CLOSE (4400), STAY, EITHER
    answers: int = 0  # SyncStep2 frames the server sends back if the frame is accepted
    why: str = ""
    well_formed_update: bytes | None = None  # an editor's update that may apply


def update_is_readable(update: bytes) -> bool:
    """Whether the server may apply the update: pycrdt reads it, and Yjs could integrate it.

    The second half is the server's documented struct check (docs/architecture.md): an item
    never refers to a later item of its own client, content and value types are Yjs' own.
    """
    try:
        check_update(update)
        get_state(update)
        Doc().apply_update(update)
    except BaseException as exc:  # pyo3 panics derive from BaseException
        if isinstance(exc, (KeyboardInterrupt, SystemExit)):
            raise
        return False
    return True


def judge_awareness(body: bytes) -> Expect:
    cursor = Cursor(body)
    count = cursor.uint()
    outcome = STAY
    for _ in range(count):
        cursor.uint()
        cursor.uint()  # up to 2**53 - 1: its removal keeps that clock (readable by every client)
        raw = cursor.bytes()
        try:
            state_text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise MalformedError("awareness state is not UTF-8") from exc
        if len(state_text) > AWARENESS_STATE_LIMIT:
            raise MalformedError("awareness state over 16 KiB")
        if len(raw) > AWARENESS_STATE_LIMIT:
            outcome = EITHER  # 16 KiB of characters or of bytes: the docs do not say which
        depth = nesting(state_text)
        if depth > 5000:
            raise MalformedError("awareness state nested too deeply")
        if depth > 100:
            outcome = EITHER  # "no deeper than the JSON parser allows": the limit is the parser's
            continue
        state = strict_json(state_text)
        if state is not None and not isinstance(state, dict):
            raise MalformedError("awareness state is not an object")
    cursor.end()
    return Expect(outcome, why="awareness")


def judge(frame: bytes | str, can_write: bool) -> Expect:
    """What the server must do with one frame, from the bytes alone."""
    if isinstance(frame, str):
        return Expect(CLOSE, why="text frame")
    if len(frame) > MAX_FRAME_BYTES:
        return Expect(CLOSE, why="oversize")
    try:
        cursor = Cursor(frame)
        kind = cursor.uint()
        if kind == 0:
            step = cursor.uint()
            if step not in (0, 1, 2):
                raise MalformedError(f"sync step {step}")
            payload = cursor.bytes()
            cursor.end()
            if step == 0:
                state_vector = Cursor(payload)
                for _ in range(state_vector.uint()):
                    state_vector.uint()
                    state_vector.uint()
                state_vector.end()
                return Expect(STAY, answers=1, why="SyncStep1")
            if not can_write or payload == b"\x00\x00":
                return Expect(STAY, why="update dropped (read-only or empty)")
            if update_is_readable(payload):
                return Expect(STAY, why="well-formed update", well_formed_update=payload)
            raise MalformedError("unreadable update")
        if kind == 1:
            expect = judge_awareness(cursor.bytes())
            cursor.end()
            return expect
        if kind == 2:
            cursor.uint()
            cursor.string()
            cursor.end()
            return Expect(STAY, why="auth")
        if kind == 3:
            cursor.end()
            return Expect(STAY, why="query awareness")
        raise MalformedError(f"message type {kind}")
    except MalformedError as malformed:
        return Expect(CLOSE, why=str(malformed))


def budgeted(frame: bytes | str) -> bool:
    """Frames the server counts as full-state requests (before parsing them)."""
    return isinstance(frame, bytes) and (frame[:2] == b"\x00\x00" or frame[:1] == b"\x03")


# -- the frames ------------------------------------------------------------------------------


FORGED_CLOCKS = 500  # the real clients write clocks 0..~700: typing, then a long insert (TAIL)
TAIL = "Written after the fuzzing, over clocks that forged frames claimed. " * 7


def forged_update(rng: random.Random, root: str, victim: int) -> bytes:
    """Items under a real client's id at a clock it will write with other content, or deletions
    of clocks it has not written yet (deleting what exists is ordinary editing: not forged).

    The clients type about 260 characters during the fuzzing, then insert TAIL: every clock
    below FORGED_CLOCKS is one they write, and those from 300 on only after the fuzzing.
    """
    if rng.random() < 0.3:
        clock = rng.randrange(300, FORGED_CLOCKS)
        return b"\x00\x01" + var_uint(victim) + b"\x01" + var_uint(clock) + var_uint(rng.randrange(1, 40))
    clock = rng.randrange(0, FORGED_CLOCKS)
    doc: Doc[Any] = Doc(client_id=victim)
    text = doc.get(root, type=Text)
    text += "·" * clock  # clocks 0..clock-1 of the victim, left out of the update below
    before = doc.get_state()
    text += rng.choice(["FORGED", "x"])
    return doc.get_update(before) if clock else doc.get_update()


def fresh_update(rng: random.Random, root: str, victims: list[int]) -> bytes:
    """A real v1 update by a client id of its own (or one that depends on an update never sent),
    or now and then a forged one under a real client's id."""
    if rng.random() < 0.15:
        return forged_update(rng, root, rng.choice(victims))
    doc: Doc[Any] = Doc(client_id=rng.randrange(2**20, 2**31))
    text = doc.get(root, type=Text)
    text += rng.choice(["hi", " wörld 🌍", "!", "x" * rng.randrange(1, 400)])
    pick = rng.random()
    if pick < 0.3:
        return doc.get_update()
    before = doc.get_state()
    if pick < 0.5:
        del text[0:1]
    elif pick < 0.7:
        # No dict values: pycrdt encodes them from a Rust HashMap, in an order that changes per
        # process, and the frames must be the same for the same seed.
        entries = doc.get(f"{root}-map", type=Map)
        entries["k"] = [1, 2, ["deep", "v"]]
        entries["n"] = rng.randrange(999)
        doc.get(f"{root}-list", type=Array).append("item")
    else:
        text.insert(1, "<more>")
    # Alone, the second half waits for the first (pending); together they integrate.
    return doc.get_update(before) if rng.random() < 0.4 else doc.get_update()


@dataclass
class Probe:
    kind: str
    frames: list[bytes | str]
    fenced: bool = True  # followed by the fence; floods are read until the server closes

    def describe(self) -> str:
        frame = self.frames[0]
        shown = frame[:48].hex(" ") if isinstance(frame, bytes) else repr(frame[:48])
        more = " ..." if len(frame) > 48 else ""
        return f"{self.kind}: {len(frame)} bytes {shown}{more}"


class FrameFuzzer:
    """Random and mutated frames; `victims` are (client id, name) pairs held by the real clients."""

    def __init__(self, rng: random.Random, root: str, victims: list[tuple[int, str]]) -> None:
        self.rng = rng
        self.root = root
        self.victims = victims

    # valid frames, as (prefix, varByteArray body) so that length fields can be mutated
    def base(self) -> tuple[str, bytes, bytes]:
        rng = self.rng
        pick = rng.random()
        if pick < 0.15:
            clocks = {rng.choice([self.victims[0][0], rng.getrandbits(32)]): rng.randrange(50)}
            if rng.random() < 0.3:
                clocks[rng.getrandbits(32)] = rng.choice([0, 1, MAX_UINT])
            state_vector = var_uint(len(clocks)) + b"".join(
                var_uint(k) + var_uint(v) for k, v in clocks.items()
            )
            return "SyncStep1", b"\x00\x00", state_vector
        if pick < 0.45:
            step = rng.choice((b"\x00\x01", b"\x00\x02"))
            kind = "SyncStep2" if step == b"\x00\x01" else "Update"
            return kind, step, fresh_update(rng, self.root, [client for client, _ in self.victims])
        if pick < 0.52:
            return "QueryAwareness", b"\x03", b""
        if pick < 0.55:
            return "Auth", b"\x02\x00", "denied ✋".encode()
        return "Awareness", b"\x01", awareness_body(self.awareness_entries())

    def awareness_entries(self) -> list[tuple[int, int, bytes]]:
        rng = self.rng
        count = rng.choice([0, 1, 1, 1, 2, 3, 12, 60])
        entries = []
        for _ in range(count):
            if count > 3:  # many client ids (a socket may hold 8): small states
                entries.append((rng.getrandbits(30), rng.randrange(1, 9), b'{"many":true}'))
                continue
            victim_id, victim_name = rng.choice(self.victims)
            client_id = rng.choice([victim_id, rng.getrandbits(30), rng.getrandbits(30), 0, MAX_UINT])
            clock = rng.choice([0, 1, rng.randrange(1000), MAX_UINT - 2**20, MAX_UINT - 1, MAX_UINT])
            entries.append(
                (client_id, clock, self.awareness_state(victim_name).encode("utf-8", "surrogatepass"))
            )
        return entries

    def awareness_state(self, victim: str) -> str:
        rng = self.rng
        claim = {
            "user": {"name": victim, "id": rng.randrange(1, 9), "color": "#000"},
            "cursor": {"anchor": 3},
        }
        depth = rng.choice([2, 50, 300, 900, 1000, 3000, 20000])
        choices: list[Callable[[], str]] = [
            lambda: json.dumps(claim),  # another user's identity
            lambda: json.dumps({"cursor": {"anchor": rng.randrange(999), "head": 4}, "x": "ü🌍"}),
            lambda: "null",
            lambda: "{}",
            lambda: '{"x":' + "[" * depth + "]" * depth + "}",  # nested
            lambda: '{"x":"' + "y" * rng.choice([16_000, 16_380, 16_500, 40_000]) + '"}',  # oversize
            lambda: '{"x":"' + "é" * 9000 + '"}',  # 9000 characters, 18 000 bytes
            lambda: '{"lone":"\\ud800","ok":"\\u00e9"}',  # escapes JSON allows
            lambda: rng.choice(["[1,2]", "3", '"name"', "true", "{", '{"a":}', '{"a":"\x01"}', "\ufeff{}"]),
            lambda: '{"bad":"\udc80"}',  # a surrogate encoded as UTF-8: not UTF-8
        ]
        return rng.choice(choices)()

    def probe(self) -> Probe:
        rng = self.rng
        kind, prefix, body = self.base()
        frame = prefix + var_bytes(body)
        pick = rng.random()
        if pick < 0.14:
            return Probe(f"valid {kind}", [frame])
        if pick < 0.34:
            mutated = bytearray(frame)
            flips = rng.randrange(1, 5)
            for _ in range(flips):
                position = rng.randrange(len(mutated))
                mutated[position] ^= 1 << rng.randrange(8)
            return Probe(f"{kind} with {flips} bit flips", [bytes(mutated)])
        if pick < 0.42:
            mutated = bytearray(frame)
            position = rng.randrange(len(mutated) + 1)
            action = rng.choice(("insert", "delete", "set"))
            if action == "insert":
                mutated[position:position] = rng.randbytes(rng.randrange(1, 4))
            elif action == "delete" and mutated:
                del mutated[min(position, len(mutated) - 1)]
            elif mutated:
                mutated[min(position, len(mutated) - 1)] = rng.randrange(256)
            return Probe(f"{kind} with a byte {action}", [bytes(mutated)])
        if pick < 0.52:
            return Probe(f"{kind} truncated", [frame[: rng.randrange(len(frame))]])
        if pick < 0.56:
            return Probe(f"{kind} with trailing bytes", [frame + rng.randbytes(rng.randrange(1, 9))])
        if pick < 0.66:
            delta = rng.choice([1, 2, 7, 300, 2**20, 2**40, MAX_UINT - len(body), 2**60, -1, -2])
            length = max(0, len(body) + delta)
            return Probe(f"{kind} length {len(body)} -> {length}", [prefix + var_uint(length) + body])
        if pick < 0.72:
            huge = rng.choice(
                [var_uint(MAX_UINT), var_uint(MAX_UINT + 1), b"\xff" * 9 + b"\x01", b"\x80" * 12 + b"\x00"]
            )
            where = rng.choice(("type", "step", "length"))
            if where == "type":
                mutated = huge + frame[1:]
            elif where == "step":
                mutated = frame[:1] + huge + frame[2:]
            else:
                mutated = prefix + huge + body
            return Probe(f"{kind} with a huge varUint as {where}", [mutated])
        if pick < 0.74:
            overlong = b"\x80" * rng.randrange(1, 4) + b"\x00"  # 0 written with extra bytes
            return Probe(f"{kind} with an overlong type", [overlong + frame[1:]])
        if pick < 0.84:
            size = rng.choice([0, 1, 2, 3, 8, 40, 300, 4000])
            return Probe("random bytes", [rng.randbytes(size)])
        if pick < 0.87:
            _, other_prefix, other_body = self.base()
            return Probe(f"{kind} spliced with another frame", [frame + other_prefix + var_bytes(other_body)])
        if pick < 0.89:
            return Probe("text frame", [rng.choice([frame.decode("latin-1"), "hello", '{"type":"ping"}'])])
        if pick < 0.895:
            oversize = b"\x00\x02" + var_bytes(rng.randbytes(MAX_FRAME_BYTES + rng.randrange(1, 4096)))
            return Probe("oversize Update", [oversize])
        if pick < 0.90:
            flood: list[bytes | str] = [
                FENCE if rng.random() < 0.5 else b"\x03" for _ in range(SYNC_REQUEST_BURST + 4)
            ]
            return Probe("flood of state requests", flood, fenced=False)
        entries = self.awareness_entries() or [(rng.getrandbits(30), 1, b"{}")]
        return Probe("awareness", [awareness_frame(entries)])


# -- driving a socket ------------------------------------------------------------------------


def close_code(closed: websockets.ConnectionClosed) -> int:
    return closed.rcvd.code if closed.rcvd is not None else 1006


@dataclass
class Outcome:
    probe: Probe
    expect: Expect
    code: int | None  # None: accepted (the fence was answered)


@dataclass
class FuzzRun:
    seed: int
    left_out: int = 0
    outcomes: list[Outcome] = field(default_factory=list)
    sockets: int = 0

    def closes(self) -> Counter[int]:
        return Counter(o.code for o in self.outcomes if o.code is not None)

    def contradictions(self) -> list[str]:
        wrong = []
        for index, outcome in enumerate(self.outcomes):
            expect, code = outcome.expect, outcome.code
            if len(outcome.probe.frames) > 1:
                continue  # floods: judged by their close code below
            if code in (4429, 1006):
                continue  # not a judgement of the frame
            oversize = expect.why == "oversize"
            if oversize and code not in (1009, 4413):
                wrong.append(f"#{index} {outcome.probe.describe()}: oversize, expected 1009/4413, got {code}")
            elif not oversize and expect.outcome == CLOSE and code != 4400:
                what = f"malformed ({expect.why}), expected 4400, got {code}"
                wrong.append(f"#{index} {outcome.probe.describe()}: {what}")
            elif expect.outcome == STAY and code is not None:
                wrong.append(f"#{index} {outcome.probe.describe()}: valid ({expect.why}), but closed {code}")
        for index, outcome in enumerate(self.outcomes):
            if len(outcome.probe.frames) > 1 and outcome.code != 4429:
                wrong.append(
                    f"#{index} flood of {len(outcome.probe.frames)} state requests: closed {outcome.code}"
                )
        return wrong

    def accepted_updates(self) -> list[bytes]:
        return [
            o.expect.well_formed_update
            for o in self.outcomes
            if o.code is None and o.expect.well_formed_update is not None
        ]


class BudgetedSocket:
    """A fuzzing socket that knows how many full-state requests it has left."""

    def __init__(self, socket: Any) -> None:
        self.socket = socket
        self.tokens = float(SYNC_REQUEST_BURST)
        self.at = time.monotonic()

    def spend(self, count: int) -> bool:
        now = time.monotonic()
        self.tokens = min(SYNC_REQUEST_BURST, self.tokens + (now - self.at))  # refills 1/s (60 a minute)
        self.at = now
        if self.tokens - count < 1:
            return False
        self.tokens -= count
        return True


async def open_fuzz_socket(url: str) -> BudgetedSocket:
    socket = await websockets.connect(url, max_size=None, compression=None, open_timeout=HANG_SECONDS)
    return BudgetedSocket(socket)


async def exchange(socket: Any, probe: Probe, expect: Expect) -> int | None:
    """Send the probe (and the fence); None if the server answered, else its close code."""
    try:
        for frame in probe.frames:
            await socket.send(frame)
        if probe.fenced:
            await socket.send(FENCE)
        answers = expect.answers + 1 if probe.fenced else math.inf
        async with asyncio.timeout(HANG_SECONDS):
            while answers > 0:
                frame = await socket.recv()
                if isinstance(frame, bytes) and frame[:2] == b"\x00\x01":
                    answers -= 1
    except websockets.ConnectionClosed as closed:
        return close_code(closed)
    except TimeoutError:
        raise AssertionError(
            f"the server neither answered nor closed within {HANG_SECONDS} s: {probe.describe()}"
        ) from None
    return None


async def fuzz(
    worker: Worker,
    document_id: str,
    user: User,
    can_write: bool,
    probes: list[Probe],
    run: FuzzRun,
) -> None:
    url = f"ws://127.0.0.1:{worker.port}/ws/docs/{document_id}?token={user.token}"
    current: BudgetedSocket | None = None
    for probe in probes:
        expect = judge(probe.frames[0], can_write)
        cost = sum(budgeted(frame) for frame in probe.frames) + (1 if probe.fenced else 0)
        if current is not None and (not probe.fenced or not current.spend(cost)):
            await current.socket.close()  # a fresh budget: 4429 only where a flood asks for it
            current = None
        if current is None:
            current = await open_fuzz_socket(url)
            run.sockets += 1
            current.spend(cost if probe.fenced else 0)
        code = await exchange(current.socket, probe, expect)
        run.outcomes.append(Outcome(probe, expect, code))
        if code is not None:
            current = None
    if current is not None:
        await current.socket.close()


class AwarenessObserver:
    """A passive socket that checks every awareness state the server forwards."""

    def __init__(self, url: str, names: dict[int, str], default_name: str) -> None:
        self.url, self.names, self.default_name = url, names, default_name
        self.violations: list[str] = []
        self.states = 0
        self.closed_with: int | None = None

    async def watch(self, stop: asyncio.Event) -> None:
        async with websockets.connect(self.url, max_size=None, compression=None) as socket:
            reader = asyncio.ensure_future(self._read(socket))
            await stop.wait()
            reader.cancel()

    async def _read(self, socket: Any) -> None:
        try:
            async for frame in socket:
                if isinstance(frame, bytes) and frame[:1] == b"\x01":
                    self._check(frame)
        except websockets.ConnectionClosed as closed:
            self.closed_with = close_code(closed)

    def _check(self, frame: bytes) -> None:
        try:
            cursor = Cursor(frame)
            cursor.uint()
            body = Cursor(cursor.bytes())
            cursor.end()
            for _ in range(body.uint()):
                client_id, _clock, text = body.uint(), body.uint(), body.string()
                state = strict_json(text)
                if state is None:
                    continue
                self.states += 1
                name = state.get("user", {}).get("name") if isinstance(state, dict) else None
                # A real user's name only on that user's own client id; anything else is the
                # fuzzer's, whatever client id it took (a free one, or one freed by a disconnect).
                if name != self.names.get(client_id, self.default_name) and name != self.default_name:
                    self.violations.append(f"client {client_id} shown as {name!r}")
            body.end()
        except MalformedError as malformed:
            self.violations.append(
                f"forwarded an undecodable awareness frame ({malformed}): {frame[:80].hex()}"
            )


# -- checks on the document ------------------------------------------------------------------


def stored_update(worker: Worker, document_id: str, token: str) -> bytes:
    status, body = worker.request("GET", f"/api/documents/{document_id}/state", token=token)
    assert status == 200, body
    assert isinstance(body, bytes)
    return body


def summary(update: bytes) -> tuple[str, dict[int, int]]:
    """The text of "t" and the state vector of a document holding `update`."""
    doc: Doc[Any] = Doc()
    doc.apply_update(update)
    clocks = decode_state_vector(doc.get_state())
    # A client at clock 0 holds nothing yet (pycrdt lists the authors of pending updates so).
    return str(doc.get("t", type=Text)), {client: clock for client, clock in clocks.items() if clock}


def decode_state_vector(state_vector: bytes) -> dict[int, int]:
    cursor = Cursor(state_vector)
    clocks = {cursor.uint(): cursor.uint() for _ in range(cursor.uint())}
    cursor.end()
    return clocks


def update_clients(update: bytes) -> set[int]:
    """The client ids an update writes for (any size: pycrdt reads 64-bit ids)."""
    doc: Doc[Any] = Doc()
    doc.apply_update(update)  # its state also lists the authors of structs that wait for earlier ones
    return set(lenient_state_vector(get_state(update))) | set(lenient_state_vector(doc.get_state()))


def lenient_state_vector(data: bytes) -> dict[int, int]:
    values, pos = [], 0
    while pos < len(data):
        value, shift = 0, 0
        while True:
            byte = data[pos]
            pos += 1
            value |= (byte & 0x7F) << shift
            shift += 7
            if byte < 0x80:
                break
        values.append(value)
    return dict(zip(values[1::2], values[2::2], strict=True))


def client_update(client: YClient) -> bytes:
    return base64.b64decode(client.call("update")["update"])


def is_subsequence(part: str, whole: str) -> bool:
    chars = iter(whole)
    return all(char in chars for char in part)


def rooms_loaded(worker: Worker) -> float:
    with urllib.request.urlopen(f"{worker.http_base}/metrics", timeout=10) as response:
        for line in response.read().decode().splitlines():
            if line.startswith("collab_rooms_loaded "):
                return float(line.split()[1])
    raise AssertionError("no collab_rooms_loaded metric")


@dataclass
class Scene:
    alice: User
    bob: User
    mallory: User
    document_id: str
    a: YClient
    b: YClient
    typed_by_alice: str
    typed_by_bob: str

    @property
    def typed(self) -> str:
        # Alice appends at the end, Bob inserts each character at the start.
        return self.typed_by_bob[::-1] + "|" + self.typed_by_alice

    def names(self) -> dict[int, str]:
        return {
            int(self.a.call("status")["client_id"]): self.alice.username,
            int(self.b.call("status")["client_id"]): self.bob.username,
        }


def set_scene(worker: Worker, yclient: Connect, tag: str, mallory_role: str) -> Scene:
    alice, bob, mallory = (make_user(worker, f"{who}{tag}") for who in ("alice", "bob", "mallory"))
    document_id = make_document(worker, alice, {bob.username: "editor", mallory.username: mallory_role})
    a = yclient(worker.ws_docs, document_id, alice.token, alice.username)
    b = yclient(worker.ws_docs, document_id, bob.token, bob.username)
    a.wait_synced()
    b.wait_synced()
    # An anchor both see before typing: Bob's characters go before it, Alice's after it.
    a.call("insert", index=0, text="|")
    b.wait_text(equals="|")
    scene = Scene(
        alice,
        bob,
        mallory,
        document_id,
        a,
        b,
        "The quick brown fox jumps over the lazy dog. " * 4,
        "0123456789" * 8,
    )
    a.call("type", text=scene.typed_by_alice, interval_ms=60)
    b.call("type", text=scene.typed_by_bob, interval_ms=150, at="start")
    return scene


YJS_READS = """
import * as Y from 'yjs'
import fs from 'node:fs'
const verdicts = JSON.parse(fs.readFileSync(0, 'utf8')).map((hex) => {
  const doc = new Y.Doc()
  try { Y.applyUpdate(doc, Buffer.from(hex, 'hex')) } catch (e) { return null }
  const clocks = Y.decodeStateVector(Y.encodeStateVector(doc))
  return Object.fromEntries([...clocks].map(([client, clock]) => [String(client), clock]))
})
process.stdout.write(JSON.stringify(verdicts))
"""


def yjs_reads(updates: list[bytes]) -> list[bool]:
    """Whether Yjs (the clients' library) applies each update alone as pycrdt (the server's) does:
    without throwing, to the same state vector."""
    result = subprocess.run(
        ["node", "--input-type=module", "-e", YJS_READS],
        cwd=NODE_DIR,
        input=json.dumps([update.hex() for update in updates]),
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    verdicts = []
    for update, clocks in zip(updates, json.loads(result.stdout), strict=True):
        doc: Doc[Any] = Doc()
        doc.apply_update(update)
        ours = {client: clock for client, clock in lenient_state_vector(doc.get_state()).items() if clock}
        verdicts.append(clocks is not None and {int(c): k for c, k in clocks.items() if k} == ours)
    return verdicts


def fuzz_probes(seed: int, can_write: bool, count: int, victims: list[tuple[int, str]]) -> list[Probe]:
    """The run's frames, all made before the first is sent (so the same seed gives the same frames).

    For an editor, updates that pycrdt reads and Yjs does not (or reads differently) are left
    out: the server accepts them today, and one of them breaks every newcomer's sync for good
    (reported; they need a test of their own once the server refuses them).
    """
    fuzzer = FrameFuzzer(random.Random(seed * 2 + can_write), "fz" if can_write else "t", victims)
    probes = [fuzzer.probe() for _ in range(count)]
    if not can_write:
        return probes
    readable = [judge(probe.frames[0], True).well_formed_update for probe in probes]
    candidates = [update for update in readable if update is not None]
    refused = {update for update, ok in zip(candidates, yjs_reads(candidates), strict=True) if not ok}
    return [probe for probe, update in zip(probes, readable, strict=True) if update not in refused]


def run_fuzz(
    worker: Worker, scene: Scene, can_write: bool, count: int, seed: int
) -> tuple[FuzzRun, AwarenessObserver]:
    names = scene.names()
    probes = fuzz_probes(seed, can_write, count, list(names.items()))
    run = FuzzRun(seed, left_out=count - len(probes))
    observer = AwarenessObserver(
        f"ws://127.0.0.1:{worker.port}/ws/docs/{scene.document_id}?token={scene.bob.token}",
        names,
        scene.mallory.username,
    )

    async def scenario() -> None:
        stop = asyncio.Event()
        watching = asyncio.ensure_future(observer.watch(stop))
        await asyncio.sleep(0)  # the observer connects first
        try:
            await fuzz(worker, scene.document_id, scene.mallory, can_write, probes, run)
        finally:
            stop.set()
            await watching

    started = time.monotonic()
    asyncio.run(scenario())
    print(
        f"fuzzed {len(probes)} frames ({run.left_out} left out) over {run.sockets} sockets in "
        f"{time.monotonic() - started:.1f} s {fuzz_seed_note(seed)}; closes {dict(run.closes())}"
    )
    return run, observer


def assert_survived(worker: Worker, scene: Scene, run: FuzzRun, observer: AwarenessObserver) -> None:
    note = fuzz_seed_note(run.seed)
    assert worker.process is not None and worker.process.poll() is None, f"the worker died {note}"
    status, body = worker.request("GET", "/healthz")
    assert status == 200, (body, note)
    wrong = run.contradictions()
    assert not wrong, f"{len(wrong)} frames judged wrongly {note}:\n" + "\n".join(wrong[:15])
    undocumented = set(run.closes()) - DOCUMENTED_CLOSES
    assert not undocumented, f"undocumented close codes {undocumented} {note}"
    assert not observer.violations, f"awareness forwarded wrongly {note}:\n" + "\n".join(
        observer.violations[:10]
    )
    assert observer.closed_with is None, f"the observer was closed with {observer.closed_with} {note}"
    assert observer.states > 0, "the observer saw no awareness state at all"
    for client in (scene.a, scene.b):
        assert client.process.poll() is None, f"{client.name}'s Yjs client died {note}"
        assert not client.closes, f"{client.name} was disconnected: {client.closes} {note}"
    # Both real clients kept typing through the fuzzing; an edit made after it reaches the other.
    scene.a.call("type_done", timeout=60, timeout_ms=55000)
    scene.b.call("type_done", timeout=60, timeout_ms=55000)
    scene.b.call("insert", index=0, text="[after]")
    scene.a.wait_text(contains="[after]")
    scene.typed_by_bob += "]retfa["  # reversed, as `typed` reads Bob's part
    # Errors are logged at ERROR (a handler that failed, 4500); a send to a socket that dropped
    # meanwhile is a WARNING and no fault.
    errors = [
        line for line in worker.log_tail(2000).splitlines() if " ERROR " in line or " CRITICAL " in line
    ]
    assert not errors, f"{note}\n" + "\n".join(errors[:10])


def test_fuzzed_frames_from_a_viewer_change_nothing(start_worker: StartWorker, yclient: Connect) -> None:
    worker = start_worker(COLLAB_MAX_FRAME_BYTES=str(MAX_FRAME_BYTES))
    scene = set_scene(worker, yclient, "fv", "viewer")
    run, observer = run_fuzz(worker, scene, can_write=False, count=FRAMES_AS_VIEWER, seed=SEED)
    assert_survived(worker, scene, run, observer)
    note = fuzz_seed_note(SEED)
    assert scene.a.wait_text(equals=scene.typed) == scene.typed
    assert scene.b.wait_text(equals=scene.typed) == scene.typed
    # Stored: exactly what the real clients wrote, nothing from the viewer.
    expected = summary(client_update(scene.a))
    assert expected[0] == scene.typed
    assert set(expected[1]) == set(scene.names()), f"the document has other writers {note}: {expected[1]}"
    wait_until(
        lambda: summary(stored_update(worker, scene.document_id, scene.alice.token)) == expected,
        10,
        f"the stored document to equal the clients' {note}",
    )
    fresh = yclient(worker.ws_docs, scene.document_id, scene.alice.token, "fresh")
    fresh.wait_synced()
    assert summary(client_update(fresh)) == expected, note
    assert run.closes()[4400] > 100 and len(run.outcomes) == FRAMES_AS_VIEWER


def test_fuzzed_frames_from_an_editor_apply_only_well_formed_updates(
    start_worker: StartWorker, yclient: Connect
) -> None:
    worker = start_worker(COLLAB_MAX_FRAME_BYTES=str(MAX_FRAME_BYTES), COLLAB_COMPACT_THRESHOLD="5")
    scene = set_scene(worker, yclient, "fe", "editor")
    note = fuzz_seed_note(SEED)
    run, observer = run_fuzz(worker, scene, can_write=True, count=FRAMES_AS_EDITOR, seed=SEED)
    assert_survived(worker, scene, run, observer)
    # Every clock the forged frames claimed gets written now, if it was not already.
    scene.a.call("insert", index=len(scene.a.text()), text=TAIL)
    scene.b.call("insert", index=0, text=TAIL)
    scene.typed_by_alice += TAIL
    scene.typed_by_bob += TAIL[::-1]
    wait_until(lambda: scene.a.text().count(TAIL) == 2, 15, "both tails at Alice")
    accepted = run.accepted_updates()
    assert accepted, "no well-formed update was sent"
    # The real clients' text is all there (accepted fuzz updates may have added to it).
    wait_until(lambda: scene.a.text() == scene.b.text(), 15, f"the real clients to converge {note}")
    text = scene.a.text()
    assert is_subsequence(scene.typed, text), f"the typed text was damaged {note}: {text!r}"
    held = summary(client_update(scene.a))
    # Every writer of the document is a real client or wrote an update the oracle found well-formed.
    writers = set(scene.names()) | {client for update in accepted for client in update_clients(update)}
    assert set(held[1]) <= writers, f"content from a malformed update {note}: {set(held[1]) - writers}"
    # What the server holds in memory (a newcomer's sync), what it stored, and what the clients
    # hold are the same document.
    fresh = yclient(worker.ws_docs, scene.document_id, scene.alice.token, "fresh")
    fresh.wait_synced()
    assert summary(client_update(fresh)) == held, note
    wait_until(
        lambda: summary(stored_update(worker, scene.document_id, scene.alice.token)) == held,
        10,
        f"the stored document to equal the clients' {note}",
    )
    # Everyone leaves; the room unloads; the document loads again from the (compacted) log.
    for client in (scene.a, scene.b, fresh):
        client.close()
    wait_until(lambda: rooms_loaded(worker) == 0, 15, "the room to unload")
    reloaded = yclient(worker.ws_docs, scene.document_id, scene.alice.token, "reloaded")
    reloaded.wait_synced()
    assert summary(client_update(reloaded)) == held, note


def test_awareness_claiming_another_identity_shows_the_true_user(
    start_worker: StartWorker, yclient: Connect
) -> None:
    worker = start_worker()
    scene = set_scene(worker, yclient, "id", "viewer")
    names = scene.names()
    alice_client = next(cid for cid, name in names.items() if name == scene.alice.username)
    own_client = 4242
    lie = json.dumps(
        {"user": {"id": 1, "name": scene.alice.username, "color": "#000"}, "cursor": {"anchor": 99}}
    )
    frame = awareness_frame([(own_client, 1, lie.encode()), (alice_client, 10**6, lie.encode())])

    async def lie_and_stay() -> None:
        url = f"ws://127.0.0.1:{worker.port}/ws/docs/{scene.document_id}?token={scene.mallory.token}"
        async with websockets.connect(url) as socket:
            await socket.send(frame)
            await socket.send(FENCE)
            async with asyncio.timeout(10):
                while (await socket.recv())[:2] != b"\x00\x01":
                    pass
            await asyncio.to_thread(
                wait_until, lambda: str(own_client) in remote_states(scene.b), 10, "mallory's state at bob"
            )
            states = remote_states(scene.b)
            # Mallory's own client id carries Mallory's name, whatever she wrote into it...
            assert states[str(own_client)]["user"]["name"] == scene.mallory.username
            assert states[str(own_client)]["cursor"] == {"anchor": 99}
            # ...and Alice's client id still carries Alice's own state.
            assert states[str(alice_client)]["user"]["name"] == scene.alice.username
            assert "cursor" not in states[str(alice_client)]

    asyncio.run(lie_and_stay())
    wait_until(
        lambda: str(own_client) not in remote_states(scene.b), 10, "mallory's state to go when she leaves"
    )


def remote_states(client: YClient) -> dict[str, Any]:
    reply = client.call("awareness")
    return {cid: state for cid, state in reply["states"].items() if state}


def test_the_oracle_agrees_with_the_protocol_test_vectors() -> None:
    """The oracle itself, on the BRIEF's test vectors and a few hand-made frames."""
    update = bytes.fromhex("010101000401017402686900")
    assert judge(bytes.fromhex("00000100"), False).outcome == STAY
    assert judge(bytes.fromhex("0000030101 02".replace(" ", "")), False).answers == 1
    assert judge(bytes.fromhex("00020c") + update, True).well_formed_update == update
    assert judge(bytes.fromhex("00020c") + update[:-1], True).outcome == CLOSE
    assert (
        judge(bytes.fromhex("0110010101 0c7b2275736572223a2261227d".replace(" ", "")), False).outcome == STAY
    )
    assert judge(awareness_frame([(1, 1, b'{"a": NaN}')]), False).outcome == CLOSE
    assert judge(awareness_frame([(1, 1, b"[1]")]), False).outcome == CLOSE
    assert judge(b"\x00\x02\x0a\x01\x01\xff\xff\xff\xff\xff\xff\xff\xff", True).outcome == CLOSE
    assert judge(b"\x00\x02\x0a\x01\x01\xff\xff\xff\xff\xff\xff\xff\xff", False).outcome == STAY
    assert judge(b"\x07\x00", False).outcome == CLOSE
    assert judge(b"\x03", False).outcome == STAY and judge(b"\x03\x00", False).outcome == CLOSE
    assert judge(b"", False).outcome == CLOSE and judge("text", False).outcome == CLOSE
    assert var_uint(300) == b"\xac\x02"
    assert list(iter_frames(40)) == list(iter_frames(40))  # deterministic from the seed
    # Yjs refuses an item whose origin is a later clock of its own client; pycrdt reads it,
    # the server refuses it.
    self_origin = bytes.fromhex("0101ffffffff0f0084ffffffff0f05016900")
    get_state(self_origin)  # pycrdt reads it
    assert not update_is_readable(self_origin) and yjs_reads([self_origin, update]) == [False, True]


def iter_frames(count: int) -> Iterator[bytes | str]:
    for probe in fuzz_probes(SEED, True, count, [(1, "a")]):
        yield from probe.frames
