"""The table of bench/compare.sh's results (bench/results/compare-*.json), ranges over the runs."""

from __future__ import annotations

import json
import re
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"
NAME = re.compile(r"compare-(before-\w+|now-\w+|reference)-w(\d)-(\d+x\d+r[\d.]+-\w+)-\d+")


def span(values: list[float], digits: int) -> str:
    low, high = min(values), max(values)
    return f"{low:.{digits}f}" if low == high else f"{low:.{digits}f}–{high:.{digits}f}"


def label(shape: str) -> str:
    size, _, store = shape.partition("-")
    docs_clients, _, rate = size.partition("r")
    store = "SQLite" if store == "sqlite" else "PostgreSQL"
    return f"{docs_clients.replace('x', ' x ')}, {rate}/s, {store}"


def main() -> None:
    groups: dict[tuple[str, str, str], list[dict[str, float]]] = {}
    for path in sorted(RESULTS.glob("compare-*.json")):
        match = NAME.fullmatch(path.stem)
        if not match or not path.stat().st_size:
            continue
        server, workers, shape = match.groups()
        result = json.loads(path.read_text())
        cpu = result.get("server_cpu_percent_mean")
        if cpu is None:
            cpu = (result.get("server") or {}).get("cpu_pct", 0.0)
        groups.setdefault((workers, shape, server), []).append(
            {
                "p50": result["latency_ms"]["p50"],
                "p99": result["latency_ms"]["p99"],
                "cpu": cpu,
                "loss": result["deliveries"]["loss"],
                "ok": result["convergence"]["ok"],
            }
        )
    print(
        "| workers | docs x clients, inserts/s, store | server | runs | p50 ms | p99 ms | server CPU % | loss | converged |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    rank = {"reference": 0, "before": 1, "now": 2}
    for (workers, shape, server), runs in sorted(
        groups.items(), key=lambda item: (item[0][0], item[0][1], rank[item[0][2].split("-")[0]])
    ):
        print(
            f"| {workers} | {label(shape)} | {server} | {len(runs)} "
            f"| {span([r['p50'] for r in runs], 2)} | {span([r['p99'] for r in runs], 2)} "
            f"| {span([r['cpu'] for r in runs], 1)} | {sum(int(r['loss']) for r in runs)} "
            f"| {all(r['ok'] for r in runs)} |"
        )


if __name__ == "__main__":
    main()
