"""Soak: a mixed document + chat load for N minutes with one random fault a minute.

Starts its own deployment: a fresh PostgreSQL database (next to DATABASE_URL, default
postgres://postgres@127.0.0.1:5432/test) that the workers reach through a TCP proxy
(tests/e2e/faults.py), a redis-server of its own on a free port (tests/chat/ownredis.py; the
machine's shared Redis is never touched), and three daphne workers. The load is
tests/e2e/load.py's: two documents with three real Yjs typists each (stock y-websocket
provider, characters unique per typist), three chat posters (exactly once by client id,
retried on another worker after a close or a missing ack) and three resume listeners.

Once a minute, at a random moment 8-30 s into it, one fault (the four kinds in a random
order, repeated; so every kind is injected once in any four minutes):

- `kill9`: kill -9 a random worker, start a replacement and move a share of the clients to it;
- `sigterm`: SIGTERM a random worker (it closes its sockets with 1012 and writes its outbox),
  start a replacement, rebalance;
- `redis`: stop the Redis server for 5 s, start it again (empty);
- `database`: cut the database proxy for 10 s, restore it.

Fifteen seconds after each fault the documents must have converged again (every typist's
newest character in every copy of its document within 20 s; else counted as diverged).

At the end: typing finished, clients converged, chat drained; then every client leaves, all
workers stop, three fresh workers start, and their API and the database itself are compared
with the clients. Prints one JSON summary: lost / duplicated / diverged (and out of order,
unacknowledged) counts for documents and chat, which must all be 0, the faults injected and
totals. Exit code 1 if any count is not 0 or the run failed.

    .venv/bin/python bench/soak.py --minutes 3
    .venv/bin/python bench/soak.py --minutes 10 --seed 7

Worker logs stay in the directory printed as "logs".
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import sys
import tempfile
import time
import traceback
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.chat.ownredis import OwnRedis
from tests.e2e.conftest import TEST_ENV
from tests.e2e.faults import TcpProxy
from tests.e2e.load import (
    Findings,
    MixedLoad,
    Pool,
    alphabets,
    log_problems,
    set_up,
    start_in_parallel,
    stop_in_parallel,
)
from tests.e2e.servers import Deployment, Worker, create_database

FAULTS = ("kill9", "sigterm", "redis", "database")
REDIS_DOWN = 5.0
DATABASE_DOWN = 10.0
SETTLE = 15.0  # after a fault, the documents must converge from this long on ...
CONVERGE_WITHIN = 20.0  # ... within this long
TYPISTS_PER_DOCUMENT = 3


class Soak:
    def __init__(self, args: argparse.Namespace, log_dir: Path) -> None:
        self.args = args
        self.rng = random.Random(args.seed)
        self.log_dir = log_dir
        self.faults: list[dict[str, Any]] = []
        self.convergence = Findings()
        self.deployment: Deployment | None = None
        self.proxy: TcpProxy | None = None
        self.redis: OwnRedis | None = None
        self.worker_env: dict[str, str] = {}
        self.all_workers: list[Worker] = []

    def new_worker(self) -> Worker:
        assert self.deployment is not None
        worker = Worker(self.deployment, self.log_dir, **self.worker_env).start()
        self.all_workers.append(worker)
        return worker

    # -- faults --

    async def inject(self, load: MixedLoad, kind: str) -> dict[str, Any]:
        pool = load.pool
        event: dict[str, Any] = {"fault": kind, "at": round(load.journal.at(), 1)}
        load.journal.note("soak", f"fault {kind}")
        if kind in ("kill9", "sigterm"):
            victim = self.rng.choice(pool.live())
            event["worker"] = victim.port
            event["clients on it"] = len(load.on(victim))
            pool.retire(victim)
            started = time.monotonic()
            if kind == "kill9":
                victim.kill()
            else:
                await asyncio.to_thread(victim.stop)
                event["exit seconds"] = round(time.monotonic() - started, 2)
            replacement = await asyncio.to_thread(self.new_worker)
            pool.add(replacement)
            load.rebalance(replacement)
            event["replacement"] = replacement.port
        elif kind == "redis":
            assert self.redis is not None
            self.redis.stop()
            await asyncio.sleep(REDIS_DOWN)
            await asyncio.to_thread(self.redis.start)
        else:
            assert self.proxy is not None
            self.proxy.cut()
            await asyncio.sleep(DATABASE_DOWN)
            self.proxy.restore()
        event["ended"] = round(load.journal.at(), 1)
        event["workers alive"] = len(pool.live())
        return event

    async def converged(self, load: MixedLoad) -> float | None:
        """Seconds until every typist's newest character is in every copy of its document."""
        began = time.monotonic()
        pending: list[tuple[str, Any]] = []
        for typists in load.documents().values():
            for typist in typists:
                mark = typist.last_typed(await asyncio.to_thread(typist.text))
                if mark is not None:
                    pending += [(mark, other) for other in typists if other is not typist]
        while pending:
            still = []
            for mark, other in pending:
                if mark not in await asyncio.to_thread(other.text):
                    still.append((mark, other))
            pending = still
            if pending:
                if time.monotonic() > began + CONVERGE_WITHIN:
                    return None
                await asyncio.sleep(0.2)
        return round(time.monotonic() - began, 2)

    async def director(self, load: MixedLoad) -> None:
        order: list[str] = []
        for minute in range(self.args.minutes):
            if not order:
                order = list(FAULTS)
                self.rng.shuffle(order)
            kind = order.pop()
            moment = load.started + minute * 60 + self.rng.uniform(8, 30)
            await asyncio.sleep(max(0.0, moment - time.monotonic()))
            event = await self.inject(load, kind)
            await asyncio.sleep(SETTLE)
            seconds = await self.converged(load)
            event["documents converged seconds"] = seconds
            if seconds is None:
                self.convergence.documents_diverged += 1
                self.convergence.problems.append(f"not converged {CONVERGE_WITHIN} s after {kind}")
            self.faults.append(event)
            print(f"soak: {json.dumps(event)}", file=sys.stderr, flush=True)

    # -- the run --

    def run(self) -> dict[str, Any]:
        args = self.args
        began = time.monotonic()
        summary: dict[str, Any] = {"minutes": args.minutes, "seed": args.seed, "logs": str(self.log_dir)}
        database_url, drop_database = create_database(args.database_url)
        found_clients, found_store = Findings(), Findings()
        load: MixedLoad | None = None
        try:
            self.redis = OwnRedis()
            self.redis.start()
            parts = urlsplit(database_url)
            self.proxy = TcpProxy(parts.hostname or "127.0.0.1", parts.port or 5432).start()
            env = dict(TEST_ENV)
            env["COLLAB_COMPACT_THRESHOLD"] = str(args.compact_threshold)
            self.deployment = Deployment(database_url, self.redis.url, f"soak-{uuid.uuid4().hex[:10]}", env)
            self.deployment.migrate()
            self.worker_env = {"DATABASE_URL": self.proxy.url_for(database_url)}
            pool = Pool(start_in_parallel(self.new_worker, args.workers))
            cast = set_up(pool.live()[0], "soak", people=6, documents=args.documents)
            seconds = args.minutes * 60.0
            interval = max(args.type_interval_ms, 1)
            while True:  # as fast as asked, as slow as the unique characters require
                try:
                    alphabets(TYPISTS_PER_DOCUMENT, int(seconds * 1000 / interval))
                    break
                except ValueError:
                    interval += 10
            load = MixedLoad(
                pool,
                cast,
                typists_per_document=TYPISTS_PER_DOCUMENT,
                posters=3,
                listeners=3,
                type_for=seconds,
                type_interval_ms=interval,
                post_interval=args.post_interval,
            )
            load.open()
            asyncio.run(load.run(self.director))
            load.finish()
            texts, found_clients = load.check_clients()
            try:
                summary["stored while connected, seconds"] = load.wait_stored(pool.live()[0], texts)
            except AssertionError as exc:
                found_clients.documents_diverged += 1
                found_clients.problems.append(f"while connected: {exc}")
            load.close()
            stop_in_parallel(pool.live())
            fresh = start_in_parallel(self.new_worker, args.workers)
            found_store = load.check_store(fresh, texts, database_url)
            summary["totals"] = {
                "characters typed": sum(t.typed for t in load.typists),
                "characters per document": {d: len(t) for d, t in texts.items()},
                "messages acknowledged": sum(len(p.acks) for p in load.posters),
                "sends refused or unanswered": sum(len(p.refusals) for p in load.posters),
                "chat reconnects": sum(c.reconnects for c in load.chat_clients()),
                "typist moves": sum(len(t.moves) for t in load.typists),
                "workers started": len(self.all_workers),
            }
            summary["chat clients"] = load.chat_summary()
        except Exception as exc:  # the run itself failed: report it, exit 1
            found_store.problems.append(f"run failed: {exc!r}")
            summary["error"] = traceback.format_exc(limit=8)
            if load is not None:
                summary["journal"] = load.journal.tail(40).splitlines()
        finally:
            if load is not None:
                load.close()
            stop_in_parallel([w for w in self.all_workers if w.process and w.process.poll() is None])
            if self.proxy is not None:
                self.proxy.stop()
            if self.redis is not None:
                self.redis.stop()
            drop_database()
        total = Findings().add(found_clients).add(found_store).add(self.convergence)
        counts = total.counts()
        summary["documents"] = {
            "lost": counts["documents_lost"],
            "duplicated": counts["documents_duplicated"],
            "diverged": counts["documents_diverged"],
            "out of order": counts["documents_out_of_order"],
        }
        summary["chat"] = {
            "lost": counts["chat_lost"],
            "duplicated": counts["chat_duplicated"],
            "diverged": counts["chat_diverged"],
            "out of order": counts["chat_out_of_order"],
            "unacknowledged": counts["chat_unacknowledged"],
        }
        summary["faults injected"] = len(self.faults)
        summary["faults"] = self.faults
        summary["problems"] = total.problems[:50]
        summary["worker log tracebacks/errors"] = log_problems(self.all_workers)
        summary["seconds"] = round(time.monotonic() - began, 1)
        summary["ok"] = total.ok and "error" not in summary
        return summary


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--minutes", type=int, default=5, help="load duration, one fault a minute (default 5)"
    )
    parser.add_argument("--seed", type=int, default=None, help="random seed (default: random, printed)")
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--documents", type=int, default=2)
    parser.add_argument("--type-interval-ms", type=int, default=100, help="per typist (default 100)")
    parser.add_argument(
        "--post-interval", type=float, default=0.15, help="seconds, per poster (default 0.15)"
    )
    parser.add_argument("--compact-threshold", type=int, default=50, help="COLLAB_COMPACT_THRESHOLD")
    parser.add_argument(
        "--database-url", default=os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/test")
    )
    args = parser.parse_args()
    if args.minutes < 1 or args.workers < 2:
        parser.error("at least 1 minute and 2 workers")
    if args.seed is None:
        args.seed = random.SystemRandom().randrange(1_000_000)
    log_dir = Path(tempfile.mkdtemp(prefix="collab-soak-"))
    summary = Soak(args, log_dir).run()
    print(json.dumps(summary, indent=1, ensure_ascii=False, default=str))
    return 0 if summary["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
