"""Real Yjs clients (Node, y-websocket) against real daphne workers sharing PostgreSQL and Redis."""

from __future__ import annotations

import time
from collections.abc import Callable

from pycrdt import Doc, Text

from tests.e2e.scenarios import two_people_on
from tests.e2e.servers import Worker, make_document, make_user
from tests.e2e.yclient import YClient

StartWorker = Callable[..., Worker]
Connect = Callable[..., YClient]


def stored_text(worker: Worker, document_id: str, token: str) -> str:
    status, body = worker.request("GET", f"/api/documents/{document_id}/state", token=token)
    assert status == 200
    doc: Doc = Doc()  # type: ignore[type-arg]
    doc.apply_update(body)
    return str(doc.get("t", type=Text))


def wait_stored_text(
    worker: Worker, document_id: str, token: str, expected: str, within: float = 10.0
) -> None:
    deadline = time.monotonic() + within
    while (text := stored_text(worker, document_id, token)) != expected:
        if time.monotonic() > deadline:
            raise AssertionError(f"stored text is {text!r}, expected {expected!r}")
        time.sleep(0.1)


def wait_converged(*clients: YClient, length: int, within: float = 20.0) -> str:
    deadline = time.monotonic() + within
    while True:
        texts = {client.text() for client in clients}
        if len(texts) == 1 and len(next(iter(texts))) == length:
            return texts.pop()
        if time.monotonic() > deadline:
            raise AssertionError(f"clients did not converge: {texts}")
        time.sleep(0.05)


def test_two_clients_on_one_worker_converge(start_worker: StartWorker, yclient: Connect) -> None:
    worker = start_worker()
    alice, bob = make_user(worker, "alice1"), make_user(worker, "bob1")
    document_id = make_document(worker, alice, {bob.username: "editor"})
    a = yclient(worker.ws_docs, document_id, alice.token, "alice")
    b = yclient(worker.ws_docs, document_id, bob.token, "bob")
    a.wait_synced()
    b.wait_synced()
    a.call("insert", index=0, text="Hello ")
    b.wait_text(equals="Hello ")
    b.call("insert", index=6, text="wörld 🌍")
    assert a.wait_text(equals="Hello wörld 🌍") == b.text()
    time.sleep(0.3)  # the log is written within 100 ms
    assert stored_text(worker, document_id, alice.token) == "Hello wörld 🌍"


def test_two_clients_on_two_workers_converge_through_redis(
    start_worker: StartWorker, yclient: Connect
) -> None:
    first, second = start_worker(), start_worker()
    people = two_people_on(first, second, yclient, "2")
    a, b = people.a, people.b
    a.call("type", text="abcdefghij", interval_ms=5)
    b.call("type", text="0123456789", interval_ms=5)
    a.call("type_done")
    b.call("type_done")
    final = wait_converged(a, b, length=20)
    assert sorted(final) == sorted("abcdefghij0123456789")
    assert final.index("a") < final.index("j") and final.index("0") < final.index("9")


def test_restart_brings_the_text_back_exactly_once(start_worker: StartWorker, yclient: Connect) -> None:
    worker = start_worker()
    alice = make_user(worker, "alice3")
    document_id = make_document(worker, alice)
    writer = yclient(worker.ws_docs, document_id, alice.token, "writer")
    writer.wait_synced()
    writer.call("insert", index=0, text="survives restarts")
    time.sleep(0.5)
    worker.stop()
    restarted = start_worker()
    fresh = yclient(restarted.ws_docs, document_id, alice.token, "fresh")
    fresh.wait_synced()
    assert fresh.wait_text(equals="survives restarts") == "survives restarts"
    # The old client, which still holds the same history, reconnects: nothing doubles.
    writer.call("set_url", url=restarted.ws_docs)
    writer.wait_synced()
    time.sleep(1.0)
    assert writer.text() == "survives restarts"
    assert fresh.text() == "survives restarts"
    assert stored_text(restarted, document_id, alice.token) == "survives restarts"


def test_kill_9_while_typing_loses_and_doubles_nothing(start_worker: StartWorker, yclient: Connect) -> None:
    doomed, survivor = start_worker(), start_worker()
    people = two_people_on(doomed, survivor, yclient, "4", bob_role="viewer")
    alice, document_id, typist, watcher = people.alice, people.document_id, people.a, people.b
    typed = "".join(chr(ord("a") + i % 26) for i in range(120))
    typist.call("type", text=typed, interval_ms=15)
    watcher.wait_text(contains=typed[:30])
    doomed.kill()
    typist.call("set_url", url=survivor.ws_docs)
    typist.wait_synced()
    assert typist.call("type_done", timeout=60)["typed"] == len(typed)
    assert watcher.wait_text(equals=typed, timeout_ms=20000) == typed
    assert typist.text() == typed
    # What only the dead worker had accepted reaches the log through the survivor
    # once the dead worker's flush confirmation fails to arrive (confirm timeout).
    wait_stored_text(survivor, document_id, alice.token, typed)
    # ... and after every worker has gone, it is all in the database.
    survivor.stop()
    again = start_worker()
    assert stored_text(again, document_id, alice.token) == typed


def test_compaction_with_two_workers_keeps_every_insert(start_worker: StartWorker, yclient: Connect) -> None:
    """The reported data loss: inserts at the start on two workers, compaction every few rows.

    Each insert builds on the other client's latest one, so the log (two workers
    flushing independently) holds rows before the rows they depend on.
    """
    first = start_worker(COLLAB_COMPACT_THRESHOLD="3")
    second = start_worker(COLLAB_COMPACT_THRESHOLD="3")
    people = two_people_on(first, second, yclient, "5")
    a, b = people.a, people.b
    count = 200
    a.call("type", text="a" * count, interval_ms=4, at="start")
    b.call("type", text="b" * count, interval_ms=4, at="start")
    a.call("type_done", timeout=60)
    b.call("type_done", timeout=60)
    final = wait_converged(a, b, length=2 * count)
    a.close()
    b.close()
    # Both rooms unload (grace 1 s), flushing and compacting; then read what is stored.
    time.sleep(3)
    wait_stored_text(first, people.document_id, people.alice.token, final, within=15)
    first.stop()
    second.stop()
    again = start_worker()
    assert stored_text(again, people.document_id, people.alice.token) == final
