"""What checking for pending updates costs per accepted update (collab.engine.fold.integrates).

The room calls `integrates(doc, update)` after applying each client update so that updates
held pending are served and forwarded (docs/architecture.md, "Log order is not causal order").
This measures apply alone against apply + integrates on a document that many clients edited.

    .venv/bin/python bench/fold_cost.py --clients 300 --updates 2000
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from typing import Any

from pycrdt import Doc, Text, get_state

from collab.engine.fold import integrates


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=300, help="client ids that edited the document before")
    parser.add_argument("--updates", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    room: Doc[Any] = Doc()
    room["t"] = Text()
    for index in range(args.clients):
        other: Doc[Any] = Doc(client_id=index + 1)
        other.apply_update(room.get_update())
        other.get("t", type=Text).insert(0, "x" * 20)
        room.apply_update(other.get_update())
    writer: Doc[Any] = Doc(client_id=10**6)
    writer.apply_update(room.get_update())
    text = writer.get("t", type=Text)
    updates = []
    for index in range(args.updates * args.repeat * 2):
        state = writer.get_state()
        text.insert(index % 7, "a")
        updates.append(writer.get_update(state))
    plain, checked = [], []
    feed = iter(updates)
    for _ in range(args.repeat):
        started = time.perf_counter()
        for _ in range(args.updates):
            update = next(feed)
            get_state(update)
            room.apply_update(update)
        plain.append((time.perf_counter() - started) / args.updates * 1e6)
        started = time.perf_counter()
        for _ in range(args.updates):
            update = next(feed)
            get_state(update)
            room.apply_update(update)
            integrates(room, update)
        checked.append((time.perf_counter() - started) / args.updates * 1e6)
    print(json.dumps({
        "clients": args.clients,
        "apply_us": round(statistics.median(plain), 1),
        "apply_and_integrates_us": round(statistics.median(checked), 1),
    }))


if __name__ == "__main__":
    main()
