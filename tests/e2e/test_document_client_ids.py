"""An editor forging another user's Yjs client id, against real workers and real Yjs clients.

Yjs keeps the first struct it sees for an id (client, clock). An editor who
sends an item under Alice's client id at Alice's next clock would make every
replica, and the stored document, drop what Alice types next. The workers
refuse such structs (collab/engine/client_ids.py); this test forges them through
one worker while Alice types through another.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

import websockets
from pycrdt import Doc, Text

from collab.engine import protocol as p
from tests.e2e.scenarios import wait_until
from tests.e2e.servers import Worker, make_document, make_user
from tests.e2e.test_document_sync import stored_text, wait_stored_text
from tests.e2e.yclient import YClient

StartWorker = Callable[..., Worker]
Connect = Callable[..., YClient]


async def forge(url: str, victim: int, content: str) -> list[str]:
    """As an editor: sync, then send an item and a pre-deletion under `victim`'s client id.

    Returns the permission-denied reasons the server sent, and checks the socket stays open.
    """
    async with websockets.connect(url) as socket:
        await socket.send(p.encode_sync_step1(b"\x00"))
        state = b""
        reasons: list[str] = []
        async with asyncio.timeout(10):
            while not state:
                message = p.decode_message(await socket.recv())
                if isinstance(message, p.SyncMessage) and message.step == p.SYNC_STEP2:
                    state = message.payload
        forger: Doc[Any] = Doc(client_id=victim)
        forger.apply_update(state)
        before = forger.get_state()
        clocks = p.decode_state_vector(before)
        forger.get("t", type=Text).insert(0, content)
        await socket.send(p.encode_update(forger.get_update(before)))
        next_clock = clocks[victim] + len(content)
        pre_delete = (
            b"\x00\x01" + p.encode_var_uint(victim) + b"\x01" + p.encode_var_uint(next_clock) + b"\x10"
        )
        await socket.send(p.encode_update(pre_delete))
        await socket.send(p.encode_sync_step1(b"\x00"))  # answered once both were handled
        async with asyncio.timeout(10):
            while True:
                message = p.decode_message(await socket.recv())
                if isinstance(message, p.AuthMessage):
                    reasons.append(message.denied_reason)
                if isinstance(message, p.SyncMessage) and message.step == p.SYNC_STEP2:
                    break
        return reasons


def test_an_editor_cannot_write_under_another_users_client_id(
    start_worker: StartWorker, yclient: Connect
) -> None:
    first, second = start_worker(), start_worker()
    alice, bob, mallory = (make_user(first, name) for name in ("alicef", "bobf", "malloryf"))
    document_id = make_document(first, alice, {bob.username: "editor", mallory.username: "editor"})
    a = yclient(first.ws_docs, document_id, alice.token, "alice")
    b = yclient(second.ws_docs, document_id, bob.token, "bob")
    a.wait_synced()
    b.wait_synced()
    a.call("insert", index=0, text="Alice: ")
    b.wait_text(equals="Alice: ")
    victim = int(a.call("status")["client_id"])

    url = f"{second.ws_docs}/{document_id}?token={mallory.token}"
    reasons = asyncio.run(forge(url, victim, "FORGED "))
    assert reasons == ["edits under another user's client id were not accepted"]

    # Alice goes on typing: every keystroke takes a clock that Mallory claimed or pre-deleted.
    typed = "every word of this survives"
    a.call("type", text=typed, interval_ms=10)
    a.call("type_done", timeout=30)
    expected = "Alice: " + typed
    assert b.wait_text(equals=expected) == expected
    wait_stored_text(first, document_id, alice.token, expected)
    a.close()
    b.close()
    time.sleep(2)  # the rooms unload
    first.stop()
    second.stop()
    again = start_worker()
    assert stored_text(again, document_id, alice.token) == expected
    # Mallory cannot take Alice's client id after a reload either: ownership is stored.
    reasons = asyncio.run(forge(f"{again.ws_docs}/{document_id}?token={mallory.token}", victim, "LATER "))
    assert reasons == ["edits under another user's client id were not accepted"]
    fresh = yclient(again.ws_docs, document_id, bob.token, "fresh")
    fresh.wait_synced()
    wait_until(lambda: fresh.text() == expected, 5, "the fresh client to hold only Alice's text")
