"""Print the benchmark results in bench/results/ as Markdown table rows (for docs/benchmarks.md)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"


def load_rows() -> None:
    print("| run | workers | layer | docs x clients | p50 ms | p90 ms | p99 ms | max ms | deliveries/s | loss "
          "| converged | server CPU % (mean) | server RSS MiB (max) |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for path in sorted(RESULTS.glob("ours-*.json")):
        if not path.stat().st_size:
            continue
        result = json.loads(path.read_text())
        if "latency_ms" not in result:
            continue
        config = result.get("config", {})
        shape = f"{config.get('docs', '?')} x {config.get('clients_per_doc', '?')}"
        latency = result["latency_ms"]
        print(
            f"| {path.stem} | {result['workers']} | {result['layer']} | {shape} | {latency['p50']} "
            f"| {latency['p90']} | {latency['p99']} | {latency['max']} | {result['deliveries']['per_s']} "
            f"| {result['deliveries']['loss']} | {result['convergence']['ok']} "
            f"| {result.get('server_cpu_percent_mean')} | {result.get('server_rss_mib_max')} |"
        )


def idle_rows() -> None:
    print("| run | connections | RSS before KiB | after connect KiB | end of hold KiB | KiB per connection |")
    print("| --- | --- | --- | --- | --- | --- |")
    for path in sorted(RESULTS.glob("ours-idle*.json")):
        if not path.stat().st_size:
            continue
        result = json.loads(path.read_text())
        rss = result["server_rss_kib"]
        per = result["server_rss_per_conn_kib"]
        print(
            f"| {path.stem} | {result['connect']['synced']} | {rss['before']} | {rss['after_connect']} "
            f"| {rss['end_of_hold']} | {per['after_connect']} / {per['end_of_hold']} |"
        )


if __name__ == "__main__":
    load_rows()
    print()
    idle_rows()
    sys.exit(0)
