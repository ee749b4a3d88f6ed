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


def chat_rows() -> None:
    """bench/run_chat.py results (bench/results/chat-*.json): fan-out latency to the other members."""
    print(
        "| run | workers | rooms x members x msg/s | stored msg/s | p50 ms | p95 ms | p99 ms | max ms | ack p50 / p99 ms "
        "| listener p50 / p99 ms "
        "| deliveries/s | missing / dup / unacked | seq gaps | worker CPU % | PostgreSQL CPU % "
        "| generator CPU % | others' CPU % / load1 | commit |"
    )
    print("| --- " * 18 + "|")
    for path in sorted(RESULTS.glob("chat-*.json")):
        if not path.stat().st_size:
            continue
        result = json.loads(path.read_text())
        if "latency_ms" not in result:
            print(f"| {path.stem} | failed: {result.get('error')} |")
            continue
        config = result["config"]
        shape = f"{config['rooms']} x {config['members_per_room']} x {config['rate_per_member']}"
        latency, ack, loss = result["latency_ms"], result["ack_latency_ms"], result["loss"]
        listener = result.get("listener_latency_ms") or {}
        heard = f"{listener['p50']} / {listener['p99']}" if listener.get("samples") else ""
        order = result["order"]
        print(
            f"| {path.stem} | {result['workers']} | {shape} | {result['messages'].get('acked_per_s', '')} "
            f"| {latency['p50']} | {latency['p95']} "
            f"| {latency['p99']} | {latency['max']} | {ack['p50']} / {ack['p99']} | {heard} "
            f"| {result['deliveries']['per_s']} "
            f"| {loss['missing']} / {loss['duplicates']} / {loss['unacked']} "
            f"| {order['seq_gaps'] + order['seq_regressions']} | {result.get('server_cpu_percent_mean')} "
            f"| {result.get('postgres_ours_cpu_percent_mean')} | {result.get('generator_cpu_percent_mean')} "
            f"| {result.get('other_processes_cpu_percent_mean')} / {result.get('load1_end')} "
            f"| {result.get('code', {}).get('commit', '')}{'+' if result.get('code', {}).get('server_files_changed') else ''} |"
        )


if __name__ == "__main__":
    load_rows()
    print()
    idle_rows()
    print()
    chat_rows()
    sys.exit(0)
