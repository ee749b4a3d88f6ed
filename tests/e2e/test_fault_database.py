"""PostgreSQL outage: the database link of both workers is cut for 10 s under load.

Two workers reach PostgreSQL through a TCP proxy of the test's own (`tests/e2e/faults.py`);
the test reads the database directly. Load (tests/e2e/load.py): two documents with a Yjs
typist on each worker, two chat posters and two resume listeners.

Six seconds in, the proxy is cut (every connection closed, new ones refused) for 10 s.
Checked during the cut:

- `/readyz` answers 503 within about 2 s of the cut, every answer quickly, on both workers;
- edits keep flowing between the Yjs clients on the two workers (a character typed 2 s into
  the cut reaches the other worker's client before the database is back), and are not in the
  database yet;
- the rooms' outbox holds them: `collab_outbox_bytes` > 0 on /metrics of both workers;
- chat sends are refused (an error frame, or no ack: then the poster tries the other worker)
  and nothing is acknowledged while the database is away;
- new document and chat sockets either work (synced / answer a ping) or are closed with the
  retryable 4500 or 4503, within a bounded time, never left hanging.

And after it: `/readyz` 200 again; every character the clients held when the database came
back is in the database within a few seconds (the outbox written); the posters' refused
messages are stored on retry with the same client ids, once each; the outbox drains to 0; in
the clients every character once, in order, all copies equal, every listener read 1..N once,
in order; after all workers restart their API and the database hold exactly that.

About 50 s. Run with -s for the timings.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable, Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.e2e.faults import TcpProxy
from tests.e2e.load import (
    MixedLoad,
    Pool,
    acceptable,
    database_text,
    log_problems,
    metric,
    new_chat_socket,
    new_document_socket,
    set_up,
    start_in_parallel,
    stop_in_parallel,
)
from tests.e2e.servers import Deployment, User, Worker

pytestmark = pytest.mark.e2e

StartWorker = Callable[..., Worker]

TYPE_FOR = 28.0
CUT_AT = 6.0
CUT_FOR = 10.0
MARK_AFTER = 2.0  # the characters that must cross between workers are typed this long into the cut
READY_WITHIN = 2.5  # /readyz reports the outage this soon after the cut
STORED_WITHIN = 6.0  # what the clients held at the restore is in the database this soon after it


@pytest.fixture
def db_proxy(deployment: Deployment) -> Iterator[TcpProxy]:
    parts = urlsplit(deployment.database_url)
    with TcpProxy(parts.hostname or "127.0.0.1", parts.port or 5432) as proxy:
        yield proxy


def probe(worker: Worker, path: str) -> tuple[int, float]:
    started = time.monotonic()
    status, _ = worker.request("GET", path)
    return status, time.monotonic() - started


def test_database_outage_under_load_buffers_edits_and_loses_nothing(
    deployment: Deployment, db_proxy: TcpProxy, start_worker: StartWorker
) -> None:
    metrics: dict[str, Any] = {}
    began = time.monotonic()
    env = {"DATABASE_URL": db_proxy.url_for(deployment.database_url)}
    direct = deployment.database_url
    workers = start_in_parallel(lambda: start_worker(**env), 2)
    pool = Pool(workers)
    cast = set_up(workers[0], "dbcut", people=4, documents=2)
    load = MixedLoad(pool, cast, typists_per_document=2, posters=2, listeners=2, type_for=TYPE_FOR)
    try:
        load.open()
        for document_id, typists in load.documents().items():
            assert len({t.worker.port for t in typists}) == 2, f"{document_id} is not on both workers"

        async def director(load: MixedLoad) -> None:
            await asyncio.sleep(max(0.0, load.started + CUT_AT - time.monotonic()))
            db_proxy.cut()
            cut, cut_at = time.monotonic(), load.journal.at()
            restore = cut + CUT_FOR
            load.journal.note("director", "database cut")
            checks = [
                readiness_during(workers, cut, restore, metrics),
                outbox_during(workers, restore, metrics),
                edits_flow_during(load, direct, cut, restore, metrics),
                new_sockets_during(workers, cast.document_ids[0], cast.room_id, cast.owner, metrics),
            ]
            await asyncio.gather(*checks)  # each ends before `restore`, give or take a probe
            await asyncio.sleep(max(0.0, restore - time.monotonic()))
            # What the clients hold now must reach the database once it is back.
            held = {
                d: set("".join([await asyncio.to_thread(t.text) for t in typists]))
                for d, typists in load.documents().items()
            }
            db_proxy.restore()
            restored, restored_at = time.monotonic(), load.journal.at()
            load.journal.note("director", "database restored")
            metrics["cut (journal s)"] = [round(cut_at, 2), round(restored_at, 2)]
            while True:
                statuses = [(await asyncio.to_thread(probe, w, "/readyz"))[0] for w in workers]
                if statuses == [200] * len(workers):
                    break
                assert time.monotonic() < restored + 10, f"/readyz {statuses} 10 s after the restore"
                await asyncio.sleep(0.2)
            metrics["/readyz 200 again, seconds after the restore"] = round(time.monotonic() - restored, 2)
            for document_id, chars in held.items():
                while not chars <= set(stored := await asyncio.to_thread(database_text, direct, document_id)):
                    assert time.monotonic() < restored + STORED_WITHIN, (
                        f"{len(chars - set(stored))} characters the clients held at the restore are not "
                        f"in the database {STORED_WITHIN} s later"
                    )
                    await asyncio.sleep(0.2)
            metrics["outbox written: seconds after the restore"] = round(time.monotonic() - restored, 2)
            for poster in load.posters:
                during = [at for at, _, _ in poster.acked_at if cut_at + 0.5 <= at < restored_at]
                assert not during, f"{poster.name} was acknowledged during the cut at {during}"
                refused = [code for at, code in poster.refusals if cut_at <= at < restored_at]
                assert refused, f"{poster.name} was neither refused nor unanswered during the cut"
                metrics[f"{poster.name} refusals during the cut"] = sorted(set(refused))

        asyncio.run(load.run(director))
        load.finish()
        texts, found = load.check_clients()
        metrics["chat"] = load.chat_summary()
        assert found.ok, f"in the clients: {found}\n{load.journal.tail()}"
        metrics["stored while connected, seconds"] = load.wait_stored(workers[1], texts)
        deadline = time.monotonic() + 10
        while (outbox := [metric(w, "collab_outbox_bytes") for w in workers]) != [0.0] * len(workers):
            assert time.monotonic() < deadline, f"outbox not written: {outbox}"
            time.sleep(0.2)
        for worker in workers:
            assert worker.process is not None and worker.process.poll() is None, "a worker died"
    finally:
        load.close()
        metrics.update(load.metrics)
        print("\ndatabase:", json.dumps(metrics, indent=1, ensure_ascii=False, default=str))

    stop_in_parallel(workers)
    fresh = start_in_parallel(lambda: start_worker(**env), 2)
    stored = load.check_store(fresh, texts, direct)
    assert stored.ok, f"after the restart: {stored}"
    print(
        "database: stored after the restart:",
        json.dumps(
            {
                "characters": {d: len(t) for d, t in texts.items()},
                "messages": sum(len(p.acks) for p in load.posters),
                "tracebacks/errors in worker logs": log_problems([*workers, *fresh]),
                "total seconds": round(time.monotonic() - began, 1),
            }
        ),
    )


async def readiness_during(
    workers: list[Worker], cut: float, restore: float, metrics: dict[str, Any]
) -> None:
    """/readyz says 503 within READY_WITHIN of the cut and keeps saying it, each answer quick."""
    first_503: dict[int, float] = {}
    slowest = 0.0
    while time.monotonic() < restore - 1.5:
        for worker in workers:
            status, seconds = await asyncio.to_thread(probe, worker, "/readyz")
            slowest = max(slowest, seconds)
            assert seconds < READY_WITHIN, f"/readyz took {seconds:.1f} s during the cut"
            if status == 503:
                first_503.setdefault(worker.port, time.monotonic() - cut)
            else:
                assert time.monotonic() - cut < READY_WITHIN, (
                    f"/readyz {status} {READY_WITHIN} s into the cut"
                )
        await asyncio.sleep(0.3)
    assert set(first_503) == {w.port for w in workers}, "a worker never reported not-ready"
    metrics["/readyz 503 seconds after the cut"] = {port: round(s, 2) for port, s in first_503.items()}
    metrics["slowest /readyz during the cut"] = round(slowest, 2)


async def outbox_during(workers: list[Worker], restore: float, metrics: dict[str, Any]) -> None:
    """Every worker holds unwritten updates (its typists keep typing), more and more."""
    samples: dict[int, list[float]] = {worker.port: [] for worker in workers}
    while time.monotonic() < restore - 1.5:
        for worker in workers:
            samples[worker.port].append(await asyncio.to_thread(metric, worker, "collab_outbox_bytes"))
        await asyncio.sleep(0.5)
    metrics["collab_outbox_bytes during the cut (first, max)"] = {
        port: (values[0], max(values)) for port, values in samples.items()
    }
    for port, values in samples.items():
        assert max(values) > 0, f"collab_outbox_bytes stayed 0 on {port} during the cut"
        assert values[-1] > values[0], f"the outbox of {port} did not grow during the cut: {values}"


async def edits_flow_during(
    load: MixedLoad, direct: str, cut: float, restore: float, metrics: dict[str, Any]
) -> None:
    """A character typed MARK_AFTER s into the cut reaches the other worker's client before the
    restore, and is not in the database."""
    await asyncio.sleep(max(0.0, cut + MARK_AFTER - time.monotonic()))
    marks: dict[str, str] = {}
    for typist in load.typists:
        mark = typist.last_typed(await asyncio.to_thread(typist.text))
        assert mark is not None, f"{typist.name} typed nothing"
        marks[typist.name] = mark
    marked = time.monotonic()
    crossed: dict[str, float] = {}
    for typist in load.typists:
        for other in load.documents()[typist.document_id]:
            if other is typist:
                continue
            while marks[typist.name] not in await asyncio.to_thread(other.text):
                assert time.monotonic() < restore - 0.5, (
                    f"{typist.name}'s edit did not reach {other.name} on the other worker during the cut"
                )
                await asyncio.sleep(0.1)
            crossed[f"{typist.name}->{other.name}"] = round(time.monotonic() - marked, 2)
        stored = await asyncio.to_thread(database_text, direct, typist.document_id)
        assert marks[typist.name] not in stored, "an edit of the cut is in the database: was it cut?"
    metrics["edits of the cut seen on the other worker within (s)"] = max(crossed.values())


async def new_sockets_during(
    workers: list[Worker], document_id: str, room_id: int, user: User, metrics: dict[str, Any]
) -> None:
    """New sockets during the cut work or are closed with a retryable code, in bounded time."""
    await asyncio.sleep(1.0)  # well inside the cut
    names: list[str] = []
    attempts: list[Awaitable[tuple[str, float]]] = []
    for worker in workers:
        names += [f"document on {worker.port}", f"chat on {worker.port}"]
        attempts += [
            asyncio.to_thread(new_document_socket, worker, document_id, user),
            new_chat_socket(worker, room_id, user),
        ]
    outcomes = dict(zip(names, await asyncio.gather(*attempts), strict=True))
    metrics["new sockets during the cut"] = {k: (o, round(s, 2)) for k, (o, s) in outcomes.items()}
    for what, (outcome, seconds) in outcomes.items():
        assert acceptable(outcome), f"new {what} during the cut: {outcome} after {seconds:.1f} s"
