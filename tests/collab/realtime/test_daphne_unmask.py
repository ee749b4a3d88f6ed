"""The integer XOR masker unmasks exactly as autobahn's does, in one piece or in chunks."""

from __future__ import annotations

import os

from autobahn.websocket.xormasker import create_xor_masker

from collab.realtime.daphne.unmask import IntegerXorMasker


def test_it_matches_autobahns_masker_for_every_size_and_split() -> None:
    for size in (1, 2, 3, 4, 5, 7, 64, 127, 128, 1000, 4095):
        mask, payload = os.urandom(4), os.urandom(size)
        expected = create_xor_masker(mask, size).process(payload)
        assert IntegerXorMasker(mask).process(payload) == expected
        ours = IntegerXorMasker(mask)
        split = size // 3
        chunks = ours.process(payload[:split]) + ours.process(payload[split:])
        assert chunks == expected and ours.pointer() == size
        ours.reset()
        assert ours.pointer() == 0 and ours.process(b"") == b""
