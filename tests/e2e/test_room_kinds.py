"""A room kind with a validator, through real daphne workers and stock Yjs clients.

The counter kind (tests/kinds/counter.py) keeps one value, a whole number in 0..10.
Two workers share Redis; Alice writes through one, Bob and Carol read through the
other. A value out of bounds is corrected before anyone else sees it (Bob's replica
never takes it), and a value that is not a whole number is refused: Alice is told,
and nobody else ever sees it.
"""

from __future__ import annotations

import queue
import time
from collections.abc import Callable
from typing import Any

from tests.e2e.servers import Worker, make_user
from tests.e2e.yclient import YClient

COUNTER_APP = "tests.kinds.counter_asgi:application"
StartWorker = Callable[..., Worker]
Connect = Callable[..., YClient]


def counters(worker: Worker) -> str:
    return f"ws://127.0.0.1:{worker.port}/ws/counters"


def seen(client: YClient) -> list[Any]:
    values: list[Any] = client.call("map_seen", map="counter", key="value")["values"]
    return values


def wait_value(client: YClient, value: Any) -> None:
    client.call("wait_map", timeout=20, map="counter", key="value", equals=value, timeout_ms=15000)


def next_denial(client: YClient, timeout: float = 15.0) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            event = client.events.get(timeout=0.2)
        except queue.Empty:
            continue
        if event.get("event") == "permission_denied":
            reason: str = event["reason"]
            return reason
    raise AssertionError(f"{client.name} was not told of a refusal")


def test_a_validating_kind_corrects_and_refuses_across_workers(
    start_worker: StartWorker, yclient: Connect
) -> None:
    first, second = start_worker(COUNTER_APP), start_worker(COUNTER_APP)
    alice, bob, carol = (make_user(first, name) for name in ("alice", "bob", "carol"))
    writer = yclient(counters(first), "c1", alice.token, "alice", "--no-reconnect")
    reader = yclient(counters(second), "c1", bob.token, "bob", "--no-reconnect")
    writer.wait_synced()
    reader.wait_synced()
    seen(reader)  # Bob's replica records every value from now on

    writer.call("map_set", map="counter", key="value", value=4)
    wait_value(reader, 4)
    writer.call("map_set", map="counter", key="value", value=50)
    wait_value(writer, 10)  # the correction came back to the writer
    wait_value(reader, 10)

    writer.call("map_set", map="counter", key="value", value="lots")
    assert next_denial(writer) == "change refused: the counter takes whole numbers"
    assert writer.call("status")["connected"] is True  # refused, not disconnected

    late = yclient(counters(second), "c1", carol.token, "carol", "--no-reconnect")
    late.wait_synced()
    wait_value(late, 10)
    time.sleep(1.0)  # anything still in flight would have reached Bob by now
    assert seen(reader) == [4, 10]  # neither 50 nor "lots", not even for a moment
    assert writer.closes == [] and reader.closes == []


def test_the_document_kind_still_serves_its_route_next_to_another_kind(
    start_worker: StartWorker, yclient: Connect
) -> None:
    worker = start_worker(COUNTER_APP)
    dana = make_user(worker, "dana")
    status, body = worker.request("POST", "/api/documents", {"title": "Doc"}, dana.token)
    assert status == 201, body
    editor = yclient(worker.ws_docs, body["id"], dana.token, "dana")
    editor.wait_synced()
    editor.call("insert", index=0, text="both kinds")
    counter = yclient(counters(worker), "c2", dana.token, "dana-counter")
    counter.wait_synced()
    counter.call("map_set", map="counter", key="value", value=3)
    assert editor.wait_text(equals="both kinds") == "both kinds"
    wait_value(counter, 3)
    unknown = yclient(
        f"ws://127.0.0.1:{worker.port}/ws/counters", "Not_Valid!", dana.token, "x", "--no-reconnect"
    )
    assert unknown.wait_close()["code"] == 4404
