#!/usr/bin/env bash
# Runs the benchmarks recorded in docs/benchmarks.md against real daphne workers
# (PostgreSQL + Redis from DATABASE_URL / REDIS_URL, defaults as in scripts/test).
# Results: bench/results/ours-*.json (documents, ~8 minutes) and bench/results/chat-*.json
# (chat, ~3 minutes per run). ONLY=docs or ONLY=chat runs one part.
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
ONLY=${ONLY:-}
if [ "$ONLY" != chat ]; then
for i in $(seq "$RUNS"); do
  run "w1-1x20-$i" --workers 1 --docs 1 --clients 20 --rate 5 --duration 30 --warmup 5
  run "w1-4x10-$i" --workers 1 --docs 4 --clients 10 --rate 5 --duration 30 --warmup 5
  run "w2-1x20-$i" --workers 2 --docs 1 --clients 20 --rate 5 --duration 30 --warmup 5
  run "w2-4x10-$i" --workers 2 --docs 4 --clients 10 --rate 5 --duration 30 --warmup 5
done
run "embedded-1x20" --embedded --workers 1 --docs 1 --clients 20 --rate 5 --duration 30 --warmup 5
run "idle-500" --workers 1 --idle 500
run "idle-500-awareness" --workers 1 --idle 500 --awareness
fi

[ "$ONLY" = docs ] && exit 0
chat() { # tag, args...: each run waits (up to an hour) for the rest of the machine to be quiet
  local tag=$1; shift
  echo "== $tag: bench/run_chat.py $*" >&2
  .venv/bin/python bench/run_chat.py --wait-idle "$@" > "bench/results/chat-$tag.json"
}
# Target shape (issue): 20 rooms x 10 members x 1 message/s on one and two workers; the heavier
# point 40 x 10 x 1/s; and the target shape with one listen-only member per room, whose latency
# against the sending members' shows what a socket's own pending post costs its deliveries.
# --drain 120: an overloaded run keeps delivering after the load stops; what is still missing then is lost.
CHAT="--members 10 --rate 1 --duration 60 --warmup 10 --drain 120"
chat "w1-20x10x1" --workers 1 --rooms 20 $CHAT
chat "w2-20x10x1" --workers 2 --rooms 20 $CHAT
chat "w1-40x10x1" --workers 1 --rooms 40 $CHAT
chat "w2-40x10x1" --workers 2 --rooms 40 $CHAT
chat "w1-20x10x1-l1" --workers 1 --rooms 20 --listeners 1 $CHAT
