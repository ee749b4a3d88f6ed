"""The order in which one socket sends a room's changes: by version, each once, gaps noticed.

Pure bookkeeping (no I/O), so the delivery rules can be tested on their own. Live
events arrive through pub/sub, which may reorder or drop them; rows read from the
log (resume pages, gap fills) carry each message's *latest* version, so versions
read from the database skip the numbers of changes that were superseded.
"""

from __future__ import annotations

from typing import Any

Payload = dict[str, Any]

MAX_HELD = 1000  # out-of-order events kept while waiting for a missing one; beyond it, read the log


class ChangeSequencer:
    def __init__(self, sent: int = 0) -> None:
        self.sent = sent  # every change up to this version has been sent (or superseded)
        self.held: dict[int, Payload] = {}
        self.highest_seen = sent  # the newest version any live event announced

    def offer(self, payload: Payload) -> list[Payload]:
        """A live change: the changes now sendable in order (maybe none, while a gap is open)."""
        version = int(payload["version_seq"])
        self.highest_seen = max(self.highest_seen, version)
        if version <= self.sent:
            return []
        if len(self.held) < MAX_HELD:
            self.held[version] = payload
        ready: list[Payload] = []
        while self.sent + 1 in self.held:
            ready.append(self.held.pop(self.sent + 1))
            self.sent += 1
        return ready

    def note(self, payload: Payload) -> None:
        """A live change seen while the client pages through the log: only remember how far it goes."""
        self.highest_seen = max(self.highest_seen, int(payload["version_seq"]))

    @property
    def has_gap(self) -> bool:
        """A newer change arrived but an older one did not (yet): the log must fill the gap."""
        return bool(self.held) or self.highest_seen > self.sent

    def take_from_log(self, rows: list[Payload]) -> list[Payload]:
        """Rows read from the log after `sent`, in version order: the ones to send."""
        fresh = []
        for row in rows:
            version = int(row["version_seq"])
            if version > self.sent:
                fresh.append(row)
                self.sent = version
        self.held = {v: p for v, p in self.held.items() if v > self.sent}
        return fresh
