"""Awareness (presence) states of one room: who is here, their cursor and selection.

Follows y-protocols' rules: a state is replaced only by a higher clock (or a
removal at the same clock), and states that are not renewed within the timeout
expire. Each entry remembers its owner (a local connection, or a peer room on
another worker) so that a connection's states vanish when it leaves and no
connection can overwrite another's client id.
"""

from __future__ import annotations

from dataclasses import dataclass

from collab.engine.protocol import MAX_VAR_UINT, AwarenessEntry, ProtocolError, parse_awareness_state


def stamped_user_id(state_json: str) -> int | None:
    """The user id that the server stamped into a state (see Room._stamp_identity)."""
    try:
        state = parse_awareness_state(state_json)
    except ProtocolError:
        return None
    user = state.get("user") if state else None
    user_id = user.get("id") if isinstance(user, dict) else None
    return user_id if isinstance(user_id, int) else None


@dataclass(slots=True)
class _Known:
    clock: int
    state_json: str
    owner: str
    user_id: int | None
    renewed_at: float


class AwarenessRegistry:
    def __init__(self) -> None:
        self._known: dict[int, _Known] = {}

    def owner_of(self, client_id: int) -> str | None:
        known = self._known.get(client_id)
        return known.owner if known else None

    def user_of(self, client_id: int) -> int | None:
        """The user a client id is held by (live, or removed and not expired yet)."""
        known = self._known.get(client_id)
        return known.user_id if known else None

    def client_ids_of(self, owner: str) -> frozenset[int]:
        return frozenset(
            client_id
            for client_id, known in self._known.items()
            if known.owner == owner and known.state_json != "null"
        )

    def apply(
        self,
        entries: tuple[AwarenessEntry, ...],
        owner: str,
        now: float,
        user_id: int | None = None,
        trusted: bool = False,
    ) -> list[AwarenessEntry]:
        """Apply entries from `owner`; returns those that changed what is known.

        A connection (trusted=False) may only write client ids that are free
        (never seen, or their tombstone expired), its own, or last held by the same
        user (a reconnect, possibly moved over from another worker). Peer rooms
        (trusted=True) enforced that on their side.
        """
        accepted = []
        for entry in entries:
            known = self._known.get(entry.client_id)
            if not trusted and known is not None and known.owner != owner and known.user_id != user_id:
                # Another user's client id, live or removed: a removed one stays its user's
                # until its tombstone expires (else a stranger could take it over and set a
                # clock the real client then adopts).
                continue
            if known is None:
                newer = True
            else:
                newer = known.clock < entry.clock or (
                    known.clock == entry.clock and entry.is_removal and known.state_json != "null"
                )
            if not newer:
                if known is not None and known.clock == entry.clock:
                    known.renewed_at = now
                continue
            entry_user = stamped_user_id(entry.state_json) if trusted else user_id
            self._known[entry.client_id] = _Known(entry.clock, entry.state_json, owner, entry_user, now)
            accepted.append(entry)
        return accepted

    def remove_owner(self, owner: str) -> list[AwarenessEntry]:
        """Forget every state of `owner`; returns the removals to broadcast."""
        removed = []
        for client_id, known in self._known.items():
            if known.owner == owner and known.state_json != "null":
                known.clock = _removal_clock(known.clock)
                known.state_json = "null"
                removed.append(AwarenessEntry(client_id, known.clock, "null"))
        return removed

    def expire(self, now: float, timeout: float) -> list[AwarenessEntry]:
        """Drop states not renewed within `timeout` seconds; returns the removals."""
        removed = []
        for client_id in list(self._known):
            known = self._known[client_id]
            if now - known.renewed_at < timeout:
                continue
            if known.state_json == "null":
                del self._known[client_id]
            else:
                known.clock = _removal_clock(known.clock)
                known.state_json = "null"
                known.renewed_at = now
                removed.append(AwarenessEntry(client_id, known.clock, "null"))
        return removed

    def live_entries(self, owner: str | None = None) -> list[AwarenessEntry]:
        return [
            AwarenessEntry(client_id, known.clock, known.state_json)
            for client_id, known in self._known.items()
            if known.state_json != "null" and (owner is None or known.owner == owner)
        ]

    def __len__(self) -> int:
        return sum(1 for known in self._known.values() if known.state_json != "null")


def _removal_clock(clock: int) -> int:
    """A removal's clock: one more, but never past 2**53 - 1 (no client could read it);
    y-protocols also accepts a removal at the state's own clock."""
    return min(clock + 1, MAX_VAR_UINT)
