#!/usr/bin/env bash
# Runs the document benchmarks recorded in docs/benchmarks.md against real daphne workers
# (PostgreSQL + Redis from DATABASE_URL / REDIS_URL, defaults as in scripts/test).
# Results: bench/results/ours-*.json. Takes ~8 minutes.
set -euo pipefail
cd "$(dirname "$0")/.."
export DATABASE_URL=${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test}
export REDIS_URL=${REDIS_URL:-redis://127.0.0.1:6379/11}
mkdir -p bench/results
run() { # tag, args...
  local tag=$1; shift
  echo "== $tag: bench/run_docs.py $*" >&2
  .venv/bin/python bench/run_docs.py "$@" > "bench/results/ours-$tag.json"
}
RUNS=${RUNS:-2}
for i in $(seq "$RUNS"); do
  run "w1-1x20-$i" --workers 1 --docs 1 --clients 20 --rate 5 --duration 30 --warmup 5
  run "w1-4x10-$i" --workers 1 --docs 4 --clients 10 --rate 5 --duration 30 --warmup 5
  run "w2-1x20-$i" --workers 2 --docs 1 --clients 20 --rate 5 --duration 30 --warmup 5
  run "w2-4x10-$i" --workers 2 --docs 4 --clients 10 --rate 5 --duration 30 --warmup 5
done
run "embedded-1x20" --embedded --workers 1 --docs 1 --clients 20 --rate 5 --duration 30 --warmup 5
run "idle-500" --workers 1 --idle 500
run "idle-500-awareness" --workers 1 --idle 500 --awareness
