#!/usr/bin/env bash
# Side by side in one run: this checkout, an earlier commit, and the y-websocket reference server,
# interleaved run by run so that the machine's drift hits all three alike.
#
#   bench/compare.sh REV [RUNS]        e.g. bench/compare.sh 217e908 2
#
# REV is checked out in a temporary worktree that borrows this checkout's .venv and
# bench/node_modules (daphne puts the working directory first on sys.path, so each worker runs
# its own tree's code). Shapes: 1 and 2 workers x (1 doc x 20 clients, 4 docs x 10 clients),
# 5 inserts/s, 30 s after 5 s warm-up; SHAPES="1 1 20;1 50 4 2;1 50 4 2 sqlite" picks others
# (workers docs clients [rate [pg|sqlite]]). The reference runs the one-worker shapes.
# Results: bench/results/compare-*.json; the table: bench/compare_table.py.
set -euo pipefail
cd "$(dirname "$0")/.."
REV=${1:?usage: bench/compare.sh REV [RUNS]}
RUNS=${2:-2}
export DATABASE_URL=${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test}
export REDIS_URL=${REDIS_URL:-redis://127.0.0.1:6379/11}
OUT=$PWD/bench/results
mkdir -p "$OUT"
rm -f "$OUT"/compare-*.json
BEFORE=$(mktemp -d /tmp/collab-compare-XXXXXX)
cleanup() { git worktree remove --force "$BEFORE" >/dev/null 2>&1 || rm -rf "$BEFORE"; }
trap cleanup EXIT
git worktree add -f -q "$BEFORE" "$REV"
ln -s "$PWD/.venv" "$BEFORE/.venv"
ln -s "$PWD/bench/node_modules" "$BEFORE/bench/node_modules"
NOW=$(git rev-parse --short HEAD)
BEFORE_REV=$(git -C "$BEFORE" rev-parse --short HEAD)

ours() { # dir tag workers docs clients rate db
  local dir=$1 tag=$2
  if [ "$7" = sqlite ]; then  # the embedded default: SQLite and the in-memory layer (one worker)
    (cd "$dir" && env -u DATABASE_URL -u REDIS_URL .venv/bin/python bench/run_docs.py --workers "$3" \
      --docs "$4" --clients "$5" --rate "$6" --duration 30 --warmup 5 --embedded > "$OUT/compare-$tag.json")
  else
    (cd "$dir" && .venv/bin/python bench/run_docs.py --workers "$3" --docs "$4" --clients "$5" \
      --rate "$6" --duration 30 --warmup 5 > "$OUT/compare-$tag.json")
  fi
}
reference() { # tag docs clients rate
  local port=1299 log="$OUT/compare-reference-server.log"
  (cd bench && HOST=127.0.0.1 PORT=$port node node_modules/@y/websocket-server/src/server.js > "$log" 2>&1) &
  local pid=$!
  for _ in $(seq 50); do grep -q 'running at' "$log" 2>/dev/null && break; sleep 0.1; done
  local server; server=$(pgrep -P "$pid" -f websocket-server || echo "$pid")
  (cd bench && node yjs_load.mjs --url ws://127.0.0.1:$port --docs "$2" --clients "$3" --rate "$4" \
    --duration 30 --warmup 5 --json --quiet --pid "$server" > "$OUT/compare-$1.json")
  kill "$server" "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}
# "workers docs clients [rate [pg|sqlite]]": rate 5 and PostgreSQL + Redis unless given.
SHAPES=${SHAPES:-"1 1 20;1 4 10;2 1 20;2 4 10"}
IFS=';' read -r -a SHAPE_LIST <<< "$SHAPES"
for i in $(seq "$RUNS"); do
  for shape in "${SHAPE_LIST[@]}"; do
    set -- $shape
    rate=${4:-5} db=${5:-pg}
    name="w$1-$2x$3r$rate-$db"
    echo "== run $i: $1 worker(s), $2 x $3 at $rate/s on $db" >&2
    ours "$BEFORE" "before-$BEFORE_REV-$name-$i" "$1" "$2" "$3" "$rate" "$db"
    ours "$PWD" "now-$NOW-$name-$i" "$1" "$2" "$3" "$rate" "$db"
    if [ "$1" = 1 ] && [ "$db" = pg ]; then reference "reference-$name-$i" "$2" "$3" "$rate"; fi
  done
done
.venv/bin/python bench/compare_table.py
