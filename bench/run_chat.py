"""Chat fan-out benchmark against real daphne workers.

Starts N workers on a fresh database (PostgreSQL from DATABASE_URL, or SQLite), sharing Redis
when N > 1, registers R x K users (tokens via the REST API), creates R private rooms of K
members each (POST /api/chat/rooms, POST /api/chat/rooms/{id}/members), then runs the Node load
generator bench/chat_load.mjs: one socket per member, spread round-robin over the workers,
each sending M messages per second. While it runs, worker, PostgreSQL, Redis, generator and
whole-machine CPU are sampled with psutil once a second; the figures over the generator's
measured window are reported, with the load average, so that runs on a shared machine can be
judged.

    .venv/bin/python bench/run_chat.py --workers 1 --rooms 20 --members 10 --rate 1 --duration 60 --warmup 10
    .venv/bin/python bench/run_chat.py --workers 2 --rooms 20 --members 10 --rate 1 --duration 60 --warmup 10

--wait-idle waits (up to --wait-max s) until the machine's other processes use less than
--max-other-cpu % of a core before starting the load, and repeats a run (fresh workers and rooms,
same users; at most --retries times) when they used more than that during the measured window.
--profile DIR samples every thread's Python stack in each worker every 5 ms (a small sampling
profiler injected with sitecustomize, no py-spy needed) and writes collapsed stacks plus a
top-functions summary to DIR; every 100 ms it also records two queue lengths: events committed
but not yet published to the channel layer (collab.realtime.events), and messages the layer holds for
the worker's sockets. Profiled runs are slower; use them for where the time goes, not figures.

Prints one JSON object (the load generator's result plus server figures).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import psutil
import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.e2e.servers import (
    Deployment,
    User,
    Worker,
    create_database,
    delete_redis_prefix,
    make_user,
)
from tests.e2e.test_chat import make_room

BENCH = Path(__file__).resolve().parent
NCPU = psutil.cpu_count() or 1


class Usage:
    """CPU % (100 = one core) of a changing set of processes, one reading per call."""

    def __init__(self) -> None:
        self.procs: dict[int, psutil.Process] = {}

    def read(self, pids: set[int]) -> float:
        total = 0.0
        for pid in pids:
            proc = self.procs.get(pid)
            try:
                if proc is None:
                    proc = self.procs[pid] = psutil.Process(pid)
                    proc.cpu_percent(None)  # first call primes the counter
                    continue
                total += proc.cpu_percent(None)
            except psutil.Error:
                self.procs.pop(pid, None)
        return total


class MachineSampler:
    """Once a second: CPU of the workers, our PostgreSQL backends, all of PostgreSQL, Redis,
    the generator, the whole machine (and so everything else), and the load average."""

    def __init__(self, workers: list[int], database: str, base_url: str) -> None:
        self.workers = workers
        self.database = database
        self.base_url = base_url
        self.generator: set[int] = set()
        self.samples: list[dict[str, Any]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._usage = {name: Usage() for name in ("workers", "pg_ours", "pg_all", "redis", "generator")}
        self._rss: dict[int, psutil.Process] = {}

    def _our_backends(self) -> set[int]:
        try:
            with psycopg.connect(self.base_url, autocommit=True) as conn:
                rows = conn.execute("SELECT pid FROM pg_stat_activity WHERE datname = %s", (self.database,))
                return {int(row[0]) for row in rows}
        except psycopg.Error:
            return set()

    @staticmethod
    def _named(*names: str) -> set[int]:
        return {p.pid for p in psutil.process_iter(["name"]) if p.info["name"] in names}

    def _run(self) -> None:
        psutil.cpu_percent(None)
        ours = self._our_backends()
        pg_all = self._named("postgres")
        redis_pids = self._named("redis-server")
        tick = 0
        while not self._stop.wait(1.0):
            tick += 1
            if tick % 5 == 0:
                ours = self._our_backends() or ours
                pg_all = self._named("postgres")
                gen = set()
                for pid in list(self.generator):
                    with contextlib.suppress(psutil.Error):
                        gen |= {pid, *(c.pid for c in psutil.Process(pid).children(recursive=True))}
                self.generator = gen
            total = psutil.cpu_percent(None) * NCPU
            sample = {
                "t": time.time() * 1000,
                "machine": total,
                "workers": self._usage["workers"].read(set(self.workers)),
                "pg_ours": self._usage["pg_ours"].read(ours),
                "pg_all": self._usage["pg_all"].read(pg_all),
                "redis": self._usage["redis"].read(redis_pids),
                "generator": self._usage["generator"].read(self.generator),
                "load1": os.getloadavg()[0],
            }
            try:
                sample["workers_rss"] = sum(psutil.Process(pid).memory_info().rss for pid in self.workers)
            except psutil.Error:
                sample["workers_rss"] = 0
            sample["other"] = max(
                0.0, total - sample["workers"] - sample["pg_all"] - sample["redis"] - sample["generator"]
            )
            self.samples.append(sample)

    def __enter__(self) -> MachineSampler:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()

    def summary(self, start_ms: float, end_ms: float) -> dict[str, Any]:
        window = [s for s in self.samples if start_ms + 1000 <= s["t"] <= end_ms]
        if not window:
            return {}

        def mean(key: str) -> float:
            return round(sum(s[key] for s in window) / len(window), 1)

        return {
            "samples": len(window),
            "server_cpu_percent_mean": mean("workers"),
            "server_cpu_percent_max": round(max(s["workers"] for s in window), 1),
            "server_rss_mib_max": round(max(s["workers_rss"] for s in window) / 2**20, 1),
            "postgres_ours_cpu_percent_mean": mean("pg_ours"),
            "postgres_all_cpu_percent_mean": mean("pg_all"),
            "redis_cpu_percent_mean": mean("redis"),
            "generator_cpu_percent_mean": mean("generator"),
            "machine_cpu_percent_mean": mean("machine"),
            "machine_cpu_percent_capacity": 100 * NCPU,
            "other_processes_cpu_percent_mean": mean("other"),
            "load1_start": round(window[0]["load1"], 2),
            "load1_end": round(window[-1]["load1"], 2),
        }


def busy_seconds() -> float:
    times = psutil.cpu_times()
    return float(times.user + times.system + times.nice + times.irq + times.softirq + times.steal)


def sum_cpu(pids: list[int]) -> float:
    total = 0.0
    for pid in pids:
        with contextlib.suppress(psutil.Error):
            total += sum(psutil.Process(pid).cpu_times()[:2])
    return total


def wait_until_quiet(workers: list[int], max_other: float, wait_max: float) -> dict[str, Any]:
    """Poll until everything but our (idle) workers uses < max_other % CPU (100 = a core) over 5 s;
    retry every 2 minutes, give up after wait_max seconds and run anyway."""
    started = time.monotonic()
    tries = 0
    while True:
        tries += 1
        machine0, ours0 = busy_seconds(), sum_cpu(workers)
        time.sleep(5.0)
        machine1, ours1 = busy_seconds(), sum_cpu(workers)
        busy = round(max(0.0, (machine1 - machine0) - (ours1 - ours0)) / 5.0 * 100, 1)
        load = os.getloadavg()
        print(f"[run_chat] other processes use {busy} % CPU, load {load[0]:.2f}", file=sys.stderr)
        waited = time.monotonic() - started
        if busy < max_other or waited >= wait_max:
            return {
                "other_cpu_percent": busy,
                "load1": round(load[0], 2),
                "load5": round(load[1], 2),
                "waited_s": round(waited),
                "quiet": busy < max_other,
                "tries": tries,
            }
        time.sleep(min(120.0, max(0.0, wait_max - waited)))


# A poor man's py-spy, injected into the workers with sitecustomize: every 5 ms, every thread's
# Python stack (sys._current_frames) is counted while DIR/worker.on exists; when it is removed the
# counts are written as collapsed stacks (DIR/worker.PID.collapsed), the queue gauges as
# DIR/worker.PID.gauges.json.
PROFILER = r"""
import collections, json, os, sys, threading, time
_out = os.environ.get("COLLAB_BENCH_PROFILE")
if _out and "daphne" in os.path.basename(sys.argv[0] if sys.argv else ""):
    _stacks = collections.Counter()
    _names = {}
    _stop = threading.Event()
    _interval = float(os.environ.get("COLLAB_BENCH_PROFILE_INTERVAL", "0.005"))
    def _key(frame):
        parts = []
        while frame is not None:
            code = frame.f_code
            parts.append(f"{code.co_name} ({os.path.basename(code.co_filename)}:{code.co_firstlineno})")
            frame = frame.f_back
        return ";".join(reversed(parts))
    _gauges = []  # every 100 ms: [time, events waiting to be published, messages queued for sockets]
    def _gauge():
        publishing = queued = -1
        events = sys.modules.get("collab.realtime.events")
        if events is not None and hasattr(events, "_in_flight"):
            publishing = len(events._in_flight)
        layers = sys.modules.get("channels.layers")
        try:
            layer = layers.channel_layers.backends.get("default") if layers else None
            loops = list(getattr(layer, "_layers", {}).values())
            if loops:
                queued = sum(q.qsize() for loop in loops for q in list(loop.channels.values()))
        except Exception:
            pass
        _gauges.append([round(time.time(), 1), publishing, queued])
    def _sample():
        me = threading.get_ident()
        active = False
        ticks = 0
        while not _stop.wait(_interval):
            if not os.path.exists(_out + ".on"):
                if active:  # the run ended: write the profile now (a busy worker may get SIGKILL)
                    _dump()
                active = False
                continue
            active = True
            ticks += 1
            if ticks % max(1, round(0.1 / _interval)) == 0:
                _gauge()
            names = {t.ident: t.name for t in threading.enumerate()}
            for ident, frame in sys._current_frames().items():
                if ident == me:
                    continue
                name = names.get(ident, str(ident)).split(" ")[0]
                _stacks[name + ";" + _key(frame)] += 1
    def _dump():
        with open(f"{_out}.{os.getpid()}.gauges.json", "w") as fh:
            json.dump(_gauges, fh)
        with open(f"{_out}.{os.getpid()}.collapsed", "w") as fh:
            for stack, count in _stacks.most_common():
                fh.write(f"{stack} {count}\n")
    threading.Thread(target=_sample, name="bench-profiler", daemon=True).start()
"""


# Leaf frames of a thread that waits: the event loop in select/epoll, an executor thread for work.
IDLE_LEAVES = ("select (selectors.py", "_worker (thread.py", "wait (threading.py")


def summarize_profile(directory: Path, top: int = 25) -> dict[str, Any]:
    """Per thread: samples, share of samples per leaf function (self) and per function anywhere on
    the stack (inclusive); idle waits (select/epoll, queue waits, lock acquire) are labelled."""
    report: dict[str, Any] = {}
    for path in sorted(directory.glob("*.collapsed")):
        threads: dict[str, dict[str, Any]] = {}
        for line in path.read_text().splitlines():
            stack, _, count_text = line.rpartition(" ")
            count = int(count_text)
            thread, *frames = stack.split(";")
            entry = threads.setdefault(thread, {"samples": 0, "self": {}, "inclusive": {}})
            entry["samples"] += count
            if frames:
                entry["self"][frames[-1]] = entry["self"].get(frames[-1], 0) + count
            for frame in set(frames):
                entry["inclusive"][frame] = entry["inclusive"].get(frame, 0) + count
        out = {}
        for thread, entry in threads.items():
            total = entry["samples"]
            idle = sum(n for name, n in entry["self"].items() if name.startswith(IDLE_LEAVES))
            out[thread] = {
                "samples": total,
                "busy_percent": round(100 * (total - idle) / total, 1),
                "self_top": [
                    [name, round(100 * n / total, 1)]
                    for name, n in sorted(entry["self"].items(), key=lambda kv: -kv[1])[:top]
                ],
                "inclusive_top": [
                    [name, round(100 * n / total, 1)]
                    for name, n in sorted(entry["inclusive"].items(), key=lambda kv: -kv[1])[:top]
                ],
            }
        report[path.name] = out
    for path in sorted(directory.glob("*.gauges.json")):
        gauges = json.loads(path.read_text())
        summary: dict[str, Any] = {"samples": len(gauges), "start_epoch_s": gauges[0][0] if gauges else None}
        for index, name in ((1, "events_waiting_to_publish"), (2, "messages_queued_for_sockets")):
            values = sorted(g[index] for g in gauges if g[index] >= 0)
            if values:
                summary[name] = {
                    "mean": round(sum(values) / len(values), 1),
                    "p99": values[min(len(values) - 1, int(0.99 * len(values)))],
                    "max": values[-1],
                    "per_second_max": [
                        max((g[index] for g in gauges if int(g[0]) == second), default=None)
                        for second in range(int(gauges[0][0]), int(gauges[-1][0]) + 1)
                    ],
                }
        report[path.name] = summary
    return report


def code_version() -> dict[str, Any]:
    """The commit measured, and the server files that differed from it (others edit this checkout)."""
    repo = BENCH.parent

    def git(*argv: str) -> str:
        return subprocess.run(["git", *argv], cwd=repo, capture_output=True, text=True).stdout.strip()

    changed = git("status", "--porcelain", "--", "chat", "collab", "presence", "documents", "asgi.py")
    return {"commit": git("rev-parse", "--short", "HEAD"), "server_files_changed": changed.splitlines()}


def run_generator(
    args: argparse.Namespace, workers: list[Worker], plan_file: Path, database_url: str, base_database: str
) -> dict[str, Any]:
    """One run of bench/chat_load.mjs against the workers, with the machine sampled meanwhile."""
    command = ["node", str(BENCH / "chat_load.mjs"), "--plan", str(plan_file), "--json"]
    command += ["--rate", str(args.rate), "--timing", args.timing, "--jitter", str(args.jitter)]
    command += ["--body-bytes", str(args.body_bytes), "--duration", str(args.duration)]
    command += ["--warmup", str(args.warmup), "--drain", str(args.drain)]
    pids = [w.process.pid for w in workers if w.process]
    for worker, pid in zip(workers, pids, strict=True):
        command += ["--url", f"ws://127.0.0.1:{worker.port}/ws/chat", "--pid", str(pid)]
    if args.profile:
        for old in [*args.profile.glob("*.collapsed"), *args.profile.glob("*.gauges.json")]:
            old.unlink()
        (args.profile / "worker.on").touch()
    database_name = database_url.rsplit("/", 1)[1]
    code = code_version()  # the code the workers started from (others edit this checkout meanwhile)
    with MachineSampler(pids, database_name, base_database) as sampler:
        generator = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
        sampler.generator = {generator.pid}
        stdout, _ = generator.communicate()
    if args.profile:
        (args.profile / "worker.on").unlink(missing_ok=True)
        deadline = time.monotonic() + 10
        while len(list(args.profile.glob("*.collapsed"))) < len(pids) and time.monotonic() < deadline:
            time.sleep(0.2)
    result: dict[str, Any] = json.loads(stdout)
    if "window" in result:
        result.update(sampler.summary(result["window"]["start_epoch_ms"], result["window"]["end_epoch_ms"]))
    result["generator_exit"] = generator.returncode
    result["code"] = code
    return result


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--rooms", type=int, default=20)
    parser.add_argument("--members", type=int, default=10, help="sending members per room")
    parser.add_argument("--listeners", type=int, default=0, help="extra listen-only members per room")
    parser.add_argument("--rate", type=float, default=1, help="messages per second per member")
    parser.add_argument("--timing", choices=["poisson", "uniform"], default="poisson")
    parser.add_argument("--jitter", type=float, default=0.5)
    parser.add_argument("--body-bytes", type=int, default=100)
    parser.add_argument("--duration", type=float, default=60)
    parser.add_argument("--warmup", type=float, default=10)
    parser.add_argument("--drain", type=float, default=15)
    parser.add_argument(
        "--embedded", action="store_true", help="one worker on the in-memory layer (no Redis)"
    )
    parser.add_argument("--env", action="append", default=[], help="NAME=VALUE for the workers (repeatable)")
    parser.add_argument("--wait-idle", action="store_true", help="wait for a quiet machine before the load")
    parser.add_argument(
        "--max-other-cpu",
        type=float,
        default=20.0,
        help="%% of one core: before the load, and over the measured window (with --wait-idle)",
    )
    parser.add_argument(
        "--retries", type=int, default=3, help="runs spoilt by other processes to repeat (with --wait-idle)"
    )
    parser.add_argument("--wait-max", type=float, default=3600.0, help="seconds (with --wait-idle)")
    parser.add_argument("--profile", type=Path, help="sample the workers' Python stacks into this directory")
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
    log_dir = Path(tempfile.mkdtemp(prefix="collab-bench-chat-"))
    if args.profile:
        args.profile.mkdir(parents=True, exist_ok=True)
        hook = log_dir / "hook"
        hook.mkdir()
        (hook / "sitecustomize.py").write_text(PROFILER)
        deployment.extra_env["PYTHONPATH"] = os.pathsep.join(
            [str(hook), *filter(None, [os.environ.get("PYTHONPATH")])]
        )
        deployment.extra_env["COLLAB_BENCH_PROFILE"] = str(args.profile / "worker")
    deployment.migrate()
    workers = [Worker(deployment, log_dir).start() for _ in range(args.workers)]
    pids = [w.process.pid for w in workers if w.process]
    try:
        started = time.monotonic()
        per_room = args.members + args.listeners
        count = args.rooms * per_room
        tag = uuid.uuid4().hex[:6]
        with ThreadPoolExecutor(max_workers=2 * len(workers)) as pool:
            users: list[User] = list(
                pool.map(lambda i: make_user(workers[i % len(workers)], f"chat{i}-{tag}"), range(count))
            )
        groups = [users[r * per_room : (r + 1) * per_room] for r in range(args.rooms)]
        print(f"[run_chat] {count} users in {time.monotonic() - started:.0f} s", file=sys.stderr)
        discarded: list[dict[str, Any]] = []
        attempts = 1 + (args.retries if args.wait_idle else 0)
        for attempt in range(1, attempts + 1):
            if attempt > 1:  # fresh workers and rooms: nothing left over from the spoilt attempt
                for worker in workers:
                    worker.stop()
                workers = [Worker(deployment, log_dir).start() for _ in range(args.workers)]
                pids = [w.process.pid for w in workers if w.process]
            with ThreadPoolExecutor(max_workers=2 * len(workers)) as pool:
                room_ids = list(
                    pool.map(
                        lambda r, ws=workers: make_room(ws[r % len(ws)], groups[r][0], *groups[r][1:]),
                        range(args.rooms),
                    )
                )
            plan = {
                "rooms": [
                    {"id": room_id, "members": [{"username": u.username, "token": u.token} for u in group]}
                    for room_id, group in zip(room_ids, groups, strict=True)
                ],
                "listeners": args.listeners,
            }
            plan_file = log_dir / "plan.json"
            plan_file.write_text(json.dumps(plan))
            quiet = wait_until_quiet(pids, args.max_other_cpu, args.wait_max if args.wait_idle else 0)
            result = run_generator(args, workers, plan_file, database_url, base_database)
            others = result.get("other_processes_cpu_percent_mean") or 0.0
            if attempt == attempts or others <= args.max_other_cpu:
                break
            print(
                f"[run_chat] other processes used {others} % CPU during the measured window: "
                f"run discarded, retrying ({attempt}/{attempts - 1})",
                file=sys.stderr,
            )
            discarded.append(
                {
                    "other_processes_cpu_percent_mean": others,
                    "p50": result.get("latency_ms", {}).get("p50"),
                    "p99": result.get("latency_ms", {}).get("p99"),
                    "time": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                }
            )
        result["discarded_runs"] = discarded
        result["before_load"] = quiet
        result["workers"] = args.workers
        result["layer"] = "redis" if redis_url else "in-memory"
        result["database"] = "postgresql" if database_url.startswith("postgres") else "sqlite"
        result["env"] = dict(item.split("=", 1) for item in args.env)
        result["time"] = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    finally:
        for worker in workers:
            worker.stop()
        if redis_url:
            delete_redis_prefix(redis_url, prefix)
        drop_database()
    if args.profile:
        result["profile"] = summarize_profile(args.profile)
        (args.profile / "summary.json").write_text(json.dumps(result["profile"], indent=2))
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
