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
  HOST=127.0.0.1 PORT=$PORT node node_modules/y-websocket/bin/server.cjs > results/ref-server.log 2>&1 &
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
    node yjs_load.mjs --url "$URL" --docs "$2" --clients "$3" --rate 5 --duration 30 --warmup 5 --json --quiet \
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
