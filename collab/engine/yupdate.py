"""A reader of Yjs v1 updates, for the checks pycrdt does not make: bytes in, facts out.

pycrdt (yrs) and Yjs do not refuse the same updates. An item whose left origin
is a later clock of its own client is read by yrs and stored, while every Yjs
client throws on any update that contains it: from then on each newcomer gets an
empty document. The server must therefore refuse, before anything is applied,
updates that Yjs cannot integrate. This module walks the struct encoding of
Yjs' `writeStructs` (y-protocols v1, `UpdateEncoderV1`) without building a
document and checks what a causal update always satisfies:

- every ID an item refers to (left origin, right origin, parent item) that
  belongs to the item's own client is not later than the item: a client can
  only refer to what it had already made;
- content types are the ones Yjs knows (1-9), strings are valid UTF-8.

It also says where each client's struct group and the delete set lie in the
bytes, so an update can be rewritten without some clients' structs (see
`collab.engine.client_ids`, which decides whose).

Pure: no I/O, no pycrdt.
"""

from __future__ import annotations

from dataclasses import dataclass

from collab.engine.protocol import ProtocolError, Reader, encode_var_uint

CONTENT_DELETED = 1
CONTENT_JSON = 2
CONTENT_BINARY = 3
CONTENT_STRING = 4
CONTENT_EMBED = 5
CONTENT_FORMAT = 6
CONTENT_TYPE = 7
CONTENT_ANY = 8
CONTENT_DOC = 9
STRUCT_GC = 0
STRUCT_SKIP = 10

TYPE_XML_ELEMENT = 3
TYPE_XML_HOOK = 5
MAX_ANY_DEPTH = 64


@dataclass(frozen=True)
class StructRange:
    client: int
    clock: int
    length: int


DeleteRanges = tuple[int, tuple[tuple[int, int], ...]]  # client, (clock, length) pairs


@dataclass(frozen=True)
class ParsedUpdate:
    """What an update holds: one struct range per client group, and the delete set."""

    ranges: tuple[StructRange, ...]
    spans: tuple[tuple[int, int], ...]  # the bytes of each group, as [start, end) offsets
    deletions: tuple[DeleteRanges, ...]


def _utf16_length(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


class _UpdateReader(Reader):
    def read_any(self, depth: int = 0) -> None:
        if depth > MAX_ANY_DEPTH:
            raise ProtocolError("value nested too deeply")
        kind = self.read_byte()
        if kind in (127, 126, 121, 120):  # undefined, null, false, true
            return
        if kind == 125:
            self.read_var_int()
        elif kind == 124:
            self.skip(4)
        elif kind in (123, 122):
            self.skip(8)
        elif kind == 119:
            self.read_var_string()
        elif kind == 118:
            for _ in range(self.read_var_uint()):
                self.read_var_string()
                self.read_any(depth + 1)
        elif kind == 117:
            for _ in range(self.read_var_uint()):
                self.read_any(depth + 1)
        elif kind == 116:
            self.read_var_bytes()
        else:
            raise ProtocolError(f"unknown value type {kind}")

    def read_byte(self) -> int:
        if self.pos >= len(self.data):
            raise ProtocolError("truncated update")
        value = self.data[self.pos]
        self.pos += 1
        return value

    def skip(self, count: int) -> None:
        if self.pos + count > len(self.data):
            raise ProtocolError("truncated update")
        self.pos += count

    def read_var_int(self) -> None:
        byte = self.read_byte()
        while byte & 0x80:
            byte = self.read_byte()

    def read_id(self) -> tuple[int, int]:
        return self.read_var_uint(), self.read_var_uint()


def _content_length(reader: _UpdateReader, kind: int) -> int:
    """Read an item's content; returns the item's length in clock units."""
    if kind == CONTENT_DELETED:
        return reader.read_var_uint()
    if kind == CONTENT_JSON:
        count = reader.read_var_uint()
        for _ in range(count):
            reader.read_var_string()
        return count
    if kind == CONTENT_BINARY:
        reader.read_var_bytes()
        return 1
    if kind == CONTENT_STRING:
        return _utf16_length(reader.read_var_string())
    if kind == CONTENT_EMBED:
        reader.read_var_string()
        return 1
    if kind == CONTENT_FORMAT:
        reader.read_var_string()
        reader.read_var_string()
        return 1
    if kind == CONTENT_TYPE:
        if reader.read_var_uint() in (TYPE_XML_ELEMENT, TYPE_XML_HOOK):
            reader.read_var_string()
        return 1
    if kind == CONTENT_ANY:
        count = reader.read_var_uint()
        for _ in range(count):
            reader.read_any()
        return count
    if kind == CONTENT_DOC:
        reader.read_var_string()
        reader.read_any()
        return 1
    raise ProtocolError(f"unknown content type {kind}")


def parse_update(update: bytes) -> ParsedUpdate:
    """Walk a v1 update; ProtocolError for anything Yjs could not integrate."""
    reader = _UpdateReader(update)
    ranges = []
    spans = []
    for _ in range(reader.read_var_uint()):
        span_start = reader.pos
        count = reader.read_var_uint()
        client = reader.read_var_uint()
        clock = reader.read_var_uint()
        start = clock
        for _ in range(count):
            info = reader.read_byte()
            kind = info & 0x1F
            if kind in (STRUCT_GC, STRUCT_SKIP):
                clock += reader.read_var_uint()
                continue
            references = []
            if info & 0x80:
                references.append(reader.read_id())
            if info & 0x40:
                references.append(reader.read_id())
            if info & 0xC0 == 0:  # no origin to copy the parent from: it is written out
                if reader.read_var_uint() == 1:
                    reader.read_var_string()  # a root type's name
                else:
                    references.append(reader.read_id())
                if info & 0x20:
                    reader.read_var_string()  # the key in a map
            for ref_client, ref_clock in references:
                # Equal is let through: yrs writes a formatting mark's right origin as the
                # mark's own id (seen with Text.format); Yjs treats that as a missing
                # dependency, not a crash.
                if ref_client == client and ref_clock > clock:
                    raise ProtocolError("an item refers to a later item of its own client")
            clock += _content_length(reader, kind)
        ranges.append(StructRange(client, start, clock - start))
        spans.append((span_start, reader.pos))
    deletions = []
    for _ in range(reader.read_var_uint()):  # the delete set
        client = reader.read_var_uint()
        pairs = tuple((reader.read_var_uint(), reader.read_var_uint()) for _ in range(reader.read_var_uint()))
        deletions.append((client, pairs))
    # Bytes after the delete set are ignored, as both Yjs and yrs ignore them.
    return ParsedUpdate(tuple(ranges), tuple(spans), tuple(deletions))


def check_update(update: bytes) -> list[StructRange]:
    """The struct ranges of a v1 update; ProtocolError for anything Yjs could not integrate."""
    return list(parse_update(update).ranges)


def rewrite_update(
    update: bytes, parsed: ParsedUpdate, keep: list[bool], deletions: list[DeleteRanges]
) -> bytes:
    """`update` with only the struct groups marked in `keep`, and `deletions` as its delete set.

    The kept groups are copied byte for byte: a group is self-contained (its
    structs refer to others by id, never by position).
    """
    out = bytearray(encode_var_uint(sum(keep)))
    for (start, end), kept in zip(parsed.spans, keep, strict=True):
        if kept:
            out += update[start:end]
    out += encode_var_uint(len(deletions))
    for client, pairs in deletions:
        out += encode_var_uint(client) + encode_var_uint(len(pairs))
        for clock, length in pairs:
            out += encode_var_uint(clock) + encode_var_uint(length)
    return bytes(out)
