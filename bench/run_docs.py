"""Document fan-out benchmark against real daphne workers.

Starts N workers on a fresh database (PostgreSQL from DATABASE_URL, or SQLite),
sharing Redis when N > 1, creates the users, tokens and documents, runs the
Node load generator (real Yjs clients, bench/yjs_load.mjs) against them and
samples the workers' CPU and RSS with psutil. With --idle it instead holds N
idle synced connections (bench/idle_conns.mjs) and reports memory per connection.

    .venv/bin/python bench/run_docs.py --workers 1 --docs 1 --clients 20 --rate 5 --duration 30
    .venv/bin/python bench/run_docs.py --workers 2 --docs 4 --clients 10 --rate 5 --duration 30
    .venv/bin/python bench/run_docs.py --workers 1 --idle 500
    .venv/bin/python bench/run_docs.py --workers 1 --idle 1000 --connect-rate 2000   # connections/s

Prints one JSON object (the load generator's result plus server figures).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.e2e.servers import (  # noqa: E402
    Deployment,
    Worker,
    create_database,
    delete_redis_prefix,
    make_document,
    make_user,
)

BENCH = Path(__file__).resolve().parent


class Sampler:
    """Samples CPU% and RSS of the worker processes once a second."""

    def __init__(self, pids: list[int]) -> None:
        self.processes = [psutil.Process(pid) for pid in pids]
        self.cpu: list[float] = []
        self.rss: list[int] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        for process in self.processes:
            process.cpu_percent(None)
        while not self._stop.wait(1.0):
            try:
                self.cpu.append(sum(p.cpu_percent(None) for p in self.processes))
                self.rss.append(sum(p.memory_info().rss for p in self.processes))
            except psutil.Error:
                return

    def __enter__(self) -> Sampler:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()

    def summary(self) -> dict[str, Any]:
        busy = sorted(self.cpu)
        return {
            "server_cpu_percent_mean": round(sum(busy) / len(busy), 1) if busy else None,
            "server_cpu_percent_max": round(busy[-1], 1) if busy else None,
            "server_rss_mib_max": round(max(self.rss) / 2**20, 1) if self.rss else None,
        }


def loop_lag(worker: Worker) -> dict[str, float]:
    """Counts of event-loop stalls per bucket, from the worker's own /metrics."""
    _, body = worker.request("GET", "/metrics")
    text = body.decode() if isinstance(body, bytes) else str(body)
    buckets = {}
    for line in text.splitlines():
        if line.startswith("collab_event_loop_lag_seconds_bucket"):
            bound = line.split('le="')[1].split('"')[0]
            buckets[bound] = float(line.rsplit(" ", 1)[1])
    return buckets


def rss_kib(pids: list[int]) -> int:
    return sum(psutil.Process(pid).memory_info().rss for pid in pids) // 1024


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--docs", type=int, default=1)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--rate", type=float, default=5)
    parser.add_argument("--duration", type=float, default=30)
    parser.add_argument("--warmup", type=float, default=5)
    parser.add_argument("--idle", type=int, default=0, help="hold this many idle connections instead")
    parser.add_argument("--connect-rate", type=float, default=0,
                        help="with --idle: new connections per second (default: idle_conns.mjs's 100)")
    parser.add_argument("--awareness", action="store_true", help="clients also carry presence")
    parser.add_argument("--embedded", action="store_true", help="one worker on the in-memory layer (no Redis)")
    parser.add_argument("--env", action="append", default=[], help="NAME=VALUE for the workers (repeatable)")
    args = parser.parse_args()

    base_database = os.environ.get("DATABASE_URL", "")
    redis_url = "" if args.embedded else os.environ.get("REDIS_URL", "")
    if args.workers > 1 and not redis_url:
        parser.error("several workers need REDIS_URL")
    database_url, drop_database = create_database(base_database or "sqlite")
    prefix = f"collab-bench-{uuid.uuid4().hex[:8]}"
    # Every simulated user registers from 127.0.0.1: lift the login throttle for the set-up.
    base_env = {"LOG_LEVEL": "WARNING", "DEBUG": "0", "COLLAB_AUTH_ADDRESS_RATE": "1000000/900"}
    deployment = Deployment(database_url, redis_url, prefix, base_env)
    if not redis_url:
        deployment.extra_env["REDIS_URL"] = ""
    deployment.extra_env.update(item.split("=", 1) for item in args.env)
    deployment.migrate()
    log_dir = Path(tempfile.mkdtemp(prefix="collab-bench-"))
    workers = [Worker(deployment, log_dir).start() for _ in range(args.workers)]
    pids = [w.process.pid for w in workers if w.process]
    try:
        users = [make_user(workers[0], f"bench{i}-{uuid.uuid4().hex[:6]}") for i in range(max(2, args.clients))]
        members = {user.username: "editor" for user in users[1:]}
        documents = [make_document(workers[0], users[0], members) for _ in range(max(1, args.docs))]
        tokens_file = log_dir / "tokens.txt"
        tokens_file.write_text("\n".join(user.token for user in users) + "\n")
        urls: list[str] = []
        for worker in workers:
            urls += ["--url", worker.ws_docs]
        common = [*urls, "--tokens-file", str(tokens_file), "--json"]
        if args.idle:
            before = rss_kib(pids)
            command = ["node", str(BENCH / "idle_conns.mjs"), *common, "--doc", documents[0],
                       "--clients", str(args.idle), "--hold", "10"]
            for pid in pids:
                command += ["--pid", str(pid)]
            if args.connect_rate:
                command += ["--connect-rate", str(args.connect_rate)]
            if args.awareness:
                command.append("--awareness")
            result = json.loads(subprocess.run(command, check=True, capture_output=True, text=True).stdout)
            result["server_rss_kib_before"] = before
        else:
            command = ["node", str(BENCH / "yjs_load.mjs"), *common, "--doc-ids", ",".join(documents),
                       "--clients", str(args.clients), "--rate", str(args.rate),
                       "--duration", str(args.duration), "--warmup", str(args.warmup), "--quiet"]
            if args.awareness:
                command.append("--awareness")
            with Sampler(pids) as sampler:
                run = subprocess.run(command, check=True, capture_output=True, text=True)
            result = json.loads(run.stdout)
            result.update(sampler.summary())
            result["server_loop_lag"] = [loop_lag(worker) for worker in workers]
        result["workers"] = args.workers
        result["layer"] = "redis" if redis_url else "in-memory"
        result["database"] = "postgresql" if database_url.startswith("postgres") else "sqlite"
        print(json.dumps(result, indent=2))
        return 0
    finally:
        for worker in workers:
            worker.stop()
        if redis_url:
            delete_redis_prefix(redis_url, prefix)
        drop_database()


if __name__ == "__main__":
    sys.exit(main())
