"""The wire protocol against BRIEF.md's test vectors and pycrdt's own encoder."""

from __future__ import annotations

import pytest
from pycrdt import Doc, Text, get_state

from collab.engine import protocol as p

HI_UPDATE = bytes.fromhex("01 01 01 00 04 01 01 74 02 68 69 00")


def hi_doc() -> Doc:  # type: ignore[type-arg]
    doc: Doc = Doc(client_id=1)  # type: ignore[type-arg]
    text = doc.get("t", type=Text)
    text += "hi"
    return doc


@pytest.mark.parametrize(("value", "encoded"), [(0, "00"), (127, "7f"), (128, "80 01"), (300, "ac 02")])
def test_var_uint_round_trips(value: int, encoded: str) -> None:
    assert p.encode_var_uint(value) == bytes.fromhex(encoded)
    assert p.Reader(bytes.fromhex(encoded)).read_var_uint() == value


def test_reference_doc_produces_the_vector_update_and_state() -> None:
    doc = hi_doc()
    assert doc.get_update() == HI_UPDATE
    assert doc.get_state() == bytes.fromhex("01 01 02")
    assert get_state(HI_UPDATE) == bytes.fromhex("01 01 02")


def test_sync_frames_match_vectors() -> None:
    assert p.encode_sync_step1(b"\x00") == bytes.fromhex("00 00 01 00")
    assert p.encode_sync_step1(bytes.fromhex("01 01 02")) == bytes.fromhex("00 00 03 01 01 02")
    assert p.encode_update(HI_UPDATE) == bytes.fromhex("00 02 0c") + HI_UPDATE
    step2 = p.encode_sync_step2(hi_doc().get_update(b"\x00"))
    assert step2 == bytes.fromhex("00 01 0c") + HI_UPDATE


def test_decode_sync_frames() -> None:
    assert p.decode_message(bytes.fromhex("00 00 01 00")) == p.SyncMessage(p.SYNC_STEP1, b"\x00")
    assert p.decode_message(bytes.fromhex("00 02 0c") + HI_UPDATE) == p.SyncMessage(p.SYNC_UPDATE, HI_UPDATE)


def test_awareness_frame_matches_vector() -> None:
    frame = bytes.fromhex("01 10 01 01 01 0c 7b 22 75 73 65 72 22 3a 22 61 22 7d")
    entry = p.AwarenessEntry(1, 1, '{"user":"a"}')
    assert p.encode_awareness([entry]) == frame
    assert p.decode_message(frame) == p.AwarenessMessage((entry,))


def test_non_ascii_strings_count_bytes_not_characters() -> None:
    state = '{"user":"Zoë 😀"}'
    frame = p.encode_awareness([p.AwarenessEntry(7, 3, state)])
    body_length = len(state.encode("utf-8"))
    assert body_length > len(state)
    # type, outer length, count, client, clock, then the string's byte length
    assert frame[5] == body_length
    assert p.decode_message(frame) == p.AwarenessMessage((p.AwarenessEntry(7, 3, state),))


def test_permission_denied_and_query_awareness() -> None:
    assert p.encode_permission_denied("no") == bytes.fromhex("02 00 02 6e 6f")
    assert p.decode_message(bytes.fromhex("02 00 02 6e 6f")) == p.AuthMessage("no")
    assert p.decode_message(b"\x03") == p.QueryAwarenessMessage()


@pytest.mark.parametrize(
    "frame",
    [
        "",  # empty frame
        "09",  # unknown message type
        "00 05 00",  # unknown sync step
        "00 02 0c 01",  # truncated update byte array
        "00 00 01 00 ff",  # trailing bytes
        "01 03 01 01",  # awareness body shorter than declared
        "01 05 01 01 01 02 c3",  # awareness with a truncated string
        "01 05 01 01 01 01 ff",  # awareness string not UTF-8
        "ff ff ff ff ff ff ff ff ff 01",  # varUint beyond 2**53
    ],
)
def test_malformed_frames_raise_protocol_error(frame: str) -> None:
    with pytest.raises(p.ProtocolError):
        p.decode_message(bytes.fromhex(frame))


def test_state_vector_round_trip_and_comparison() -> None:
    clocks = {1: 2, 300: 5}
    encoded = p.encode_state_vector(clocks)
    assert p.decode_state_vector(encoded) == clocks
    assert p.decode_state_vector(bytes.fromhex("01 01 02")) == {1: 2}
    assert p.is_ahead({1: 3}, {1: 2})
    assert not p.is_ahead({1: 2}, {1: 2, 5: 1})


def test_awareness_state_must_be_object_or_null() -> None:
    assert p.parse_awareness_state("null") is None
    assert p.parse_awareness_state('{"a":1}') == {"a": 1}
    for bad in ("[1]", "3", "{nope"):
        with pytest.raises(p.ProtocolError):
            p.parse_awareness_state(bad)


def test_awareness_states_javascript_cannot_parse_are_refused() -> None:
    """NaN, Infinity and 1e999 read in Python but make JSON.parse throw in every stock client."""
    import pytest

    for state in ('{"cursor": NaN}', '{"c": Infinity}', '{"c": -Infinity}', '{"c": 1e999}'):
        with pytest.raises(p.ProtocolError):
            p.parse_awareness_state(state)
    assert p.parse_awareness_state('{"c": 1.5e10}') == {"c": 1.5e10}
