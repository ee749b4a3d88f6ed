#!/usr/bin/env bash
# Reproduces the "Reference server (y-websocket, Node)" figures of bench/README.md:
# starts a fresh reference y-websocket server on 127.0.0.1:$PORT for each scenario, runs the
# load generator / idle holder against it, prints the JSON results, stops the server.
# Needs `npm ci` in bench/ first. Takes ~6 minutes. Results also go to bench/results/ (git-ignored).
set -euo pipefail
cd "$(dirname "$0")"
PORT=${PORT:-1234}
URL="ws://127.0.0.1:$PORT"
RUNS=${RUNS:-3}
mkdir -p results
SERVER_PID=""

start_server () {
  HOST=127.0.0.1 PORT=$PORT node node_modules/@y/websocket-server/src/server.js > results/ref-server.log 2>&1 &
  SERVER_PID=$!
  for _ in $(seq 50); do grep -q 'running at' results/ref-server.log 2>/dev/null && return 0; sleep 0.1; done
  echo "reference server did not start" >&2; exit 1
}
stop_server () {
  if [ -n "$SERVER_PID" ]; then kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; SERVER_PID=""; fi
}
trap stop_server EXIT

load () { # tag docs clients
  start_server
  for i in $(seq "$RUNS"); do
    local cpu0; cpu0=$(ps -o cputime= -p "$SERVER_PID" | tr -d ' ')
    node yjs_load.mjs --url "$URL" --docs "$2" --clients "$3" --rate 5 --duration 30 --warmup 5 --json --quiet --pid "$SERVER_PID" \
      > "results/ref-$1-$i.json"
    echo "$1 run $i: server cputime $cpu0 -> $(ps -o cputime= -p "$SERVER_PID" | tr -d ' '), rss $(ps -o rss= -p "$SERVER_PID" | tr -d ' ') KiB"
    cat "results/ref-$1-$i.json"
  done
  stop_server
}

idle () { # tag extra-args...
  local tag=$1; shift
  start_server
  sleep 1
  node idle_conns.mjs --url "$URL" --clients 500 --hold 30 --pid "$SERVER_PID" --json "$@" > "results/ref-$tag.json"
  echo "$tag:"; cat "results/ref-$tag.json"
  stop_server
}

load 1x20 1 20
load 4x10 4 10
idle idle500
idle idle500-awareness --awareness

echo
echo "== summary"
node --input-type=module -e '
import fs from "node:fs"
const dir = "results"
for (const f of fs.readdirSync(dir).filter((f) => /^ref-\d+x\d+-\d+\.json$/.test(f)).sort()) {
  const r = JSON.parse(fs.readFileSync(`${dir}/${f}`, "utf8"))
  const l = r.latency_ms, d = r.deliveries
  console.log(`${f}: p50=${l.p50} p90=${l.p90} p99=${l.p99} max=${l.max} ms; deliveries ${d.received}/${d.expected} (loss ${d.loss}), ${d.per_s}/s; ` +
    `converged=${r.convergence.ok}; connect_errors=${r.connect.connect_errors}; server cpu ${r.server?.cpu_pct}%; gen cpu ${r.generator.cpu_pct}% loop p99 ${r.generator.loop_delay_p99_ms} ms`)
}
for (const f of fs.readdirSync(dir).filter((f) => /^ref-idle.*\.json$/.test(f)).sort()) {
  const r = JSON.parse(fs.readFileSync(`${dir}/${f}`, "utf8"))
  console.log(`${f}: ${r.connect.synced} synced, ${r.connected_at_end} connected at end; server RSS KiB ${JSON.stringify(r.server_rss_kib)}; ` +
    `per conn ${JSON.stringify(r.server_rss_per_conn_kib)} KiB; server cpu while idle ${r.server_cpu_pct_while_idle}%`)
}'
