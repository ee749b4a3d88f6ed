"""Redis outage: the workers' Redis is stopped for 5 s under load and started again.

The three workers use a redis-server of this test's own (`tests/chat/ownredis.py`, a free
port, no persistence: it comes back empty, as a restarted cache would), never the machine's
shared one. Load (tests/e2e/load.py) on all three: two documents with three Yjs typists each,
three chat posters, three resume listeners.

Six seconds in, Redis is stopped (SIGTERM: it closes every connection) and started again
5 s later on the same port. Checked:

- the outage is real: a character typed on one worker 3 s into the outage has not reached
  the document's typists on the other workers when Redis comes back;
- the workers stay up: every process alive and `/healthz` 200 throughout; `/readyz` 503
  (cache) during the outage and 200 again after; new document sockets opened during the
  outage are served or closed with a retryable code (4500, 4503) within 3 s (new chat sockets
  are not: see `new_sockets`);
- chat posting goes on during the outage (every poster is acknowledged while Redis is down:
  messages are stored in PostgreSQL, which is up);
- after Redis is back the documents converge across workers (anti-entropy: repairs applied,
  `collab_updates_total{source="repair"}` grows) and the users of open sockets are online again;
- in the clients: every character once, in order, all copies equal; every message
  acknowledged, numbers 1..N, every listener read 1..N once, in order;
- after all workers restart: their API and the database hold exactly that.

About 45 s. Run with -s for the timings.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.chat.ownredis import OwnRedis
from tests.e2e.load import (
    Cast,
    MixedLoad,
    Pool,
    Typist,
    acceptable,
    delivery_delays,
    log_problems,
    metric,
    new_document_socket,
    set_up,
    start_in_parallel,
    stop_in_parallel,
)
from tests.e2e.servers import Deployment, User, Worker

pytestmark = pytest.mark.e2e

StartWorker = Callable[..., Worker]

TYPE_FOR = 25.0
STOP_AT = 6.0
OUTAGE = 5.0
MARK_AFTER = 3.0  # the characters checked for the partition are typed this long into the outage
CONVERGE_WITHIN = 15.0
LIVE_AGAIN_AFTER = 3.0  # from this long after Redis is back ...
LIVE_DELAY = 1.0  # ... messages reach every listener this fast (live, not by the 5 s log check)


@pytest.fixture
def own_redis() -> Iterator[OwnRedis]:
    server = OwnRedis()
    server.start()
    yield server
    server.stop()


def health(worker: Worker, path: str) -> tuple[int, float]:
    started = time.monotonic()
    status, _ = worker.request("GET", path)
    return status, time.monotonic() - started


def online(worker: Worker, user: User) -> set[str]:
    status, body = worker.request("GET", "/api/presence/online", None, user.token)
    assert status == 200, body
    return {entry["user"] for entry in body["users"]}


def test_redis_outage_under_load_loses_nothing_and_converges(
    deployment: Deployment, own_redis: OwnRedis, start_worker: StartWorker
) -> None:
    metrics: dict[str, Any] = {}
    began = time.monotonic()
    env = {"REDIS_URL": own_redis.url}
    workers = start_in_parallel(lambda: start_worker(**env), 3)
    pool = Pool(workers)
    cast = set_up(workers[0], "redis", people=6, documents=2)
    load = MixedLoad(pool, cast, typists_per_document=3, posters=3, listeners=3, type_for=TYPE_FOR)
    try:
        load.open()

        async def director(load: MixedLoad) -> None:
            await asyncio.sleep(max(0.0, load.started + STOP_AT - time.monotonic()))
            repairs_before = await repairs(workers)
            own_redis.stop()
            stopped, stopped_at = time.monotonic(), load.journal.at()
            load.journal.note("director", "redis stopped")
            newcomers = asyncio.create_task(new_sockets(workers, cast, metrics))
            marks: dict[str, str] = {}
            ready_codes: set[int] = set()
            slowest_probe = 0.0
            while time.monotonic() < stopped + OUTAGE:
                for worker in workers:
                    assert worker.process is not None and worker.process.poll() is None, "a worker died"
                    status, seconds = await asyncio.to_thread(health, worker, "/healthz")
                    assert status == 200, f"/healthz {status} during the outage"
                    status, ready_seconds = await asyncio.to_thread(health, worker, "/readyz")
                    ready_codes.add(status)
                    slowest_probe = max(slowest_probe, seconds, ready_seconds)
                if not marks and time.monotonic() >= stopped + MARK_AFTER:
                    for typist in load.typists:
                        mark = typist.last_typed(await asyncio.to_thread(typist.text))
                        assert mark is not None, f"{typist.name} typed nothing"
                        marks[typist.name] = mark
                await asyncio.sleep(0.2)
            await newcomers
            metrics["slowest /healthz or /readyz during the outage, seconds"] = round(slowest_probe, 2)
            assert ready_codes == {503}, f"/readyz answered {ready_codes} while Redis was down"
            assert slowest_probe < 3, "a probe took too long during the outage"
            # The partition is real: no mark reached another worker while Redis was down.
            by_name = {typist.name: typist for typist in load.typists}
            for name, mark in marks.items():
                for other in load.documents()[by_name[name].document_id]:
                    if other.worker.port != by_name[name].worker.port:
                        text = await asyncio.to_thread(other.text)
                        assert mark not in text, f"{name}'s edit reached {other.name} without Redis"
            acked_during = {
                poster.name: sum(1 for at, _, _ in poster.acked_at if stopped_at <= at < stopped_at + OUTAGE)
                for poster in load.posters
            }
            metrics["acks while Redis was down"] = acked_during
            own_redis.start()
            restarted = time.monotonic()
            metrics["redis down (journal s)"] = [round(stopped_at, 2), round(load.journal.at(), 2)]
            load.journal.note("director", "redis started")
            await converge(load, marks, restarted, metrics)
            deadline = time.monotonic() + 10
            while (status := (await asyncio.to_thread(health, workers[0], "/readyz"))[0]) != 200:
                assert time.monotonic() < deadline, f"/readyz still {status} 10 s after Redis came back"
                await asyncio.sleep(0.2)
            metrics["ready again seconds after Redis came back"] = round(time.monotonic() - restarted, 2)
            everyone = {person.username for person in cast.people}
            deadline = time.monotonic() + 10
            while not everyone <= (users := await asyncio.to_thread(online, workers[1], cast.owner)):
                assert time.monotonic() < deadline, f"online after Redis came back: {users} of {everyone}"
                await asyncio.sleep(0.2)
            metrics["everyone online again seconds after Redis came back"] = round(
                time.monotonic() - restarted, 2
            )
            repairs_after = await repairs(workers)
            metrics["repair updates applied after the outage"] = repairs_after - repairs_before
            assert repairs_after > repairs_before, "documents converged without a single repair"
            for poster, count in acked_during.items():
                assert count > 0, f"{poster} got no ack while Redis was down"

        asyncio.run(load.run(director))
        back = metrics["redis down (journal s)"][1]
        during = delivery_delays(load.posters, load.listeners, metrics["redis down (journal s)"][0], back)
        after = delivery_delays(load.posters, load.listeners, back + LIVE_AGAIN_AFTER, float("inf"))
        metrics["chat delivery seconds (ack to listener; p50, max)"] = {
            "acked while Redis was down": median_max(during),
            f"acked from {LIVE_AGAIN_AFTER} s after it came back": median_max(after),
        }
        assert after[-1] < LIVE_DELAY, (
            f"chat delivery is not live again after Redis came back: {after[-1]:.1f} s"
        )
        for worker in workers:
            assert worker.process is not None and worker.process.poll() is None, "a worker died"
        load.finish()
        texts, found = load.check_clients()
        metrics["chat"] = load.chat_summary()
        assert found.ok, f"in the clients: {found}\n{load.journal.tail()}"
        metrics["stored while connected, seconds"] = load.wait_stored(workers[1], texts)
    finally:
        load.close()
        metrics.update(load.metrics)
        print("\nredis:", json.dumps(metrics, indent=1, ensure_ascii=False, default=str))

    stop_in_parallel(workers)
    fresh = start_in_parallel(lambda: start_worker(**env), 3)
    stored = load.check_store(fresh, texts, deployment.database_url)
    assert stored.ok, f"after the restart: {stored}"
    print(
        "redis: stored after the restart:",
        json.dumps(
            {
                "characters": {d: len(t) for d, t in texts.items()},
                "messages": sum(len(p.acks) for p in load.posters),
                "tracebacks/errors in worker logs": log_problems([*workers, *fresh]),
                "total seconds": round(time.monotonic() - began, 1),
            }
        ),
    )


async def new_sockets(workers: list[Worker], cast: Cast, metrics: dict[str, Any]) -> None:
    """Document sockets opened during the outage work or are closed with a retryable code, in
    bounded time. (New chat sockets are not checked here: during a Redis outage they are
    currently left without an answer until daphne drops the handshake after 5 s.)"""
    await asyncio.sleep(1.0)
    names = [f"document on {worker.port}" for worker in workers]
    attempts = [
        asyncio.to_thread(new_document_socket, worker, cast.document_ids[0], cast.owner, 3.0)
        for worker in workers
    ]
    outcomes = dict(zip(names, await asyncio.gather(*attempts), strict=True))
    metrics["new sockets during the outage"] = {k: (o, round(s, 2)) for k, (o, s) in outcomes.items()}
    for what, (outcome, seconds) in outcomes.items():
        assert acceptable(outcome), f"new {what} during the outage: {outcome} after {seconds:.1f} s"


def median_max(values: list[float]) -> tuple[float, float] | None:
    return (round(values[len(values) // 2], 3), round(values[-1], 3)) if values else None


async def repairs(workers: list[Worker]) -> float:
    """Updates the workers applied from a peer's repair answer (anti-entropy, gap repair)."""
    counts = [await asyncio.to_thread(metric, w, "collab_updates_total", source="repair") for w in workers]
    return sum(counts)


async def converge(load: MixedLoad, marks: dict[str, str], since: float, metrics: dict[str, Any]) -> None:
    """Wait until every typist's mark is in every copy of its document; record how long it took."""
    pending: dict[tuple[str, str], str] = {}
    for typist in load.typists:
        for other in load.documents()[typist.document_id]:
            if other is not typist:
                pending[(typist.name, other.name)] = marks[typist.name]
    by_name: dict[str, Typist] = {typist.name: typist for typist in load.typists}
    seen: dict[str, float] = {}
    while pending:
        for (author, reader), mark in list(pending.items()):
            if mark in await asyncio.to_thread(by_name[reader].text):
                del pending[(author, reader)]
                seen[f"{author}->{reader}"] = round(time.monotonic() - since, 2)
        if pending and time.monotonic() > since + CONVERGE_WITHIN:
            raise AssertionError(
                f"not converged {CONVERGE_WITHIN} s after Redis came back: {sorted(pending)}"
            )
        await asyncio.sleep(0.1)
    metrics["edits of the outage seen on every worker, seconds after Redis came back (max)"] = max(
        seen.values()
    )
