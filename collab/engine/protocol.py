"""The y-websocket wire protocol (y-protocols v1): bytes in, bytes out.

Pure functions, no I/O and no pycrdt, so that every frame the server reads or
writes can be checked against the reference test vectors. Strings are encoded
by their UTF-8 byte length (pycrdt's own Encoder counts characters, which is
wrong for non-ASCII text).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

MESSAGE_SYNC = 0
MESSAGE_AWARENESS = 1
MESSAGE_AUTH = 2
MESSAGE_QUERY_AWARENESS = 3

SYNC_STEP1 = 0
SYNC_STEP2 = 1
SYNC_UPDATE = 2

AUTH_PERMISSION_DENIED = 0

# A Yjs v1 update with no structs and an empty delete set.
EMPTY_UPDATE = b"\x00\x00"

# JavaScript integers are exact up to 2**53; Yjs client ids and clocks stay below.
MAX_VAR_UINT = 2**53 - 1


class ProtocolError(ValueError):
    """A frame that does not follow the protocol."""


def encode_var_uint(value: int) -> bytes:
    if value < 0:
        raise ValueError("varUint cannot encode a negative number")
    out = bytearray()
    while value > 0x7F:
        out.append(0x80 | (value & 0x7F))
        value >>= 7
    out.append(value)
    return bytes(out)


def encode_var_bytes(data: bytes) -> bytes:
    return encode_var_uint(len(data)) + data


def encode_var_string(text: str) -> bytes:
    return encode_var_bytes(text.encode("utf-8"))


class Reader:
    """A cursor over one frame; every read raises ProtocolError past the end."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def read_var_uint(self) -> int:
        data, pos = self.data, self.pos
        if pos < len(data) and data[pos] < 0x80:  # most are one byte: lengths, types, small clocks
            self.pos = pos + 1
            return data[pos]
        value = 0
        shift = 0
        while True:
            if self.pos >= len(self.data):
                raise ProtocolError("truncated varUint")
            byte = self.data[self.pos]
            self.pos += 1
            value |= (byte & 0x7F) << shift
            if value > MAX_VAR_UINT:
                raise ProtocolError("varUint out of range")
            if byte < 0x80:
                return value
            shift += 7

    def read_var_bytes(self) -> bytes:
        length = self.read_var_uint()
        end = self.pos + length
        if end > len(self.data):
            raise ProtocolError("truncated byte array")
        chunk = self.data[self.pos : end]
        self.pos = end
        return chunk

    def read_var_string(self) -> str:
        try:
            return self.read_var_bytes().decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ProtocolError("string is not valid UTF-8") from exc

    def expect_end(self) -> None:
        if self.pos != len(self.data):
            raise ProtocolError("unexpected bytes after the message")


@dataclass(frozen=True, slots=True)
class SyncMessage:
    step: int  # SYNC_STEP1, SYNC_STEP2 or SYNC_UPDATE
    payload: bytes  # a state vector for step 1, an update otherwise


@dataclass(frozen=True, slots=True)
class AwarenessEntry:
    client_id: int
    clock: int
    state_json: str  # "null" removes the client

    @property
    def is_removal(self) -> bool:
        return self.state_json == "null"


@dataclass(frozen=True, slots=True)
class AwarenessMessage:
    entries: tuple[AwarenessEntry, ...]


@dataclass(frozen=True, slots=True)
class AuthMessage:
    denied_reason: str


@dataclass(frozen=True, slots=True)
class QueryAwarenessMessage:
    pass


Message = SyncMessage | AwarenessMessage | AuthMessage | QueryAwarenessMessage


def encode_sync_step1(state_vector: bytes) -> bytes:
    return bytes([MESSAGE_SYNC, SYNC_STEP1]) + encode_var_bytes(state_vector)


def encode_sync_step2(update: bytes) -> bytes:
    return bytes([MESSAGE_SYNC, SYNC_STEP2]) + encode_var_bytes(update)


def encode_update(update: bytes) -> bytes:
    return bytes([MESSAGE_SYNC, SYNC_UPDATE]) + encode_var_bytes(update)


def encode_awareness_update(entries: list[AwarenessEntry] | tuple[AwarenessEntry, ...]) -> bytes:
    """The body of an awareness message (what y-protocols calls an awareness update)."""
    body = bytearray(encode_var_uint(len(entries)))
    for entry in entries:
        body += encode_var_uint(entry.client_id)
        body += encode_var_uint(entry.clock)
        body += encode_var_string(entry.state_json)
    return bytes(body)


def encode_awareness(entries: list[AwarenessEntry] | tuple[AwarenessEntry, ...]) -> bytes:
    return encode_var_uint(MESSAGE_AWARENESS) + encode_var_bytes(encode_awareness_update(entries))


# An awareness message with no entries: every y-protocols client accepts it and does
# nothing, so it keeps a stock client's "nothing arrived for 30 s" watchdog quiet.
KEEPALIVE_FRAME = encode_awareness([])


def encode_query_awareness() -> bytes:
    return encode_var_uint(MESSAGE_QUERY_AWARENESS)


def encode_permission_denied(reason: str) -> bytes:
    return encode_var_uint(MESSAGE_AUTH) + encode_var_uint(AUTH_PERMISSION_DENIED) + encode_var_string(reason)


def decode_awareness_update(body: bytes) -> tuple[AwarenessEntry, ...]:
    reader = Reader(body)
    count = reader.read_var_uint()
    entries = []
    for _ in range(count):
        client_id = reader.read_var_uint()
        clock = reader.read_var_uint()
        state_json = reader.read_var_string()
        entries.append(AwarenessEntry(client_id, clock, state_json))
    reader.expect_end()
    return tuple(entries)


def decode_message(frame: bytes) -> Message:
    """Decode one websocket frame; raises ProtocolError for anything malformed."""
    reader = Reader(frame)
    kind = reader.read_var_uint()
    message: Message
    if kind == MESSAGE_SYNC:
        step = reader.read_var_uint()
        if step not in (SYNC_STEP1, SYNC_STEP2, SYNC_UPDATE):
            raise ProtocolError(f"unknown sync step {step}")
        message = SyncMessage(step, reader.read_var_bytes())
    elif kind == MESSAGE_AWARENESS:
        message = AwarenessMessage(decode_awareness_update(reader.read_var_bytes()))
    elif kind == MESSAGE_AUTH:
        reader.read_var_uint()
        message = AuthMessage(reader.read_var_string())
    elif kind == MESSAGE_QUERY_AWARENESS:
        message = QueryAwarenessMessage()
    else:
        raise ProtocolError(f"unknown message type {kind}")
    reader.expect_end()
    return message


def decode_state_vector(state_vector: bytes) -> dict[int, int]:
    reader = Reader(state_vector)
    count = reader.read_var_uint()
    clocks = {}
    for _ in range(count):
        client_id = reader.read_var_uint()
        clocks[client_id] = reader.read_var_uint()
    reader.expect_end()
    return clocks


def encode_state_vector(clocks: dict[int, int]) -> bytes:
    out = bytearray(encode_var_uint(len(clocks)))
    for client_id, clock in clocks.items():
        out += encode_var_uint(client_id)
        out += encode_var_uint(clock)
    return bytes(out)


def is_ahead(theirs: dict[int, int], ours: dict[int, int]) -> bool:
    """True when a peer's state vector has something that ours lacks."""
    return any(clock > ours.get(client_id, 0) for client_id, clock in theirs.items())


def _refuse_constant(name: str) -> Any:
    # Python reads NaN and Infinity; JavaScript's JSON.parse throws on them, and a stock
    # client that receives one dies: such a state is not JSON.
    raise ValueError(f"{name} is not JSON")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):  # 1e999
        raise ValueError(f"{text} is out of range")
    return value


def parse_awareness_state(state_json: str) -> dict[str, Any] | None:
    """The JSON state of an awareness entry: an object, or None for a removal."""
    try:
        state = json.loads(state_json, parse_constant=_refuse_constant, parse_float=_finite_float)
    except (ValueError, RecursionError) as exc:
        raise ProtocolError("awareness state is not JSON (or nested too deeply)") from exc
    if state is not None and not isinstance(state, dict):
        raise ProtocolError("awareness state must be an object or null")
    return state


DeleteRange = tuple[int, int, int]  # (client id, first clock, length)


def structless_delete_set(update: bytes) -> list[DeleteRange] | None:
    """The delete set of a v1 update that carries no structs; None if it carries any.

    A v1 update is `varUint(n)` struct groups, then the delete set:
    `varUint(n)` clients, each `client, varUint(ranges)` and `(clock, length)` pairs.
    Used on the diff of an update against a document's state vector: no structs
    left means the document integrated all of them.
    """
    reader = Reader(update)
    if reader.read_var_uint() != 0:
        return None
    ranges: list[DeleteRange] = []
    for _ in range(reader.read_var_uint()):
        client_id = reader.read_var_uint()
        for _ in range(reader.read_var_uint()):
            clock = reader.read_var_uint()
            ranges.append((client_id, clock, reader.read_var_uint()))
    reader.expect_end()
    return ranges
