"""Who may write under which Yjs client id in one document.

A Yjs item's id is (client id, clock), and an update never says who made it.
An editor who sends structs under another person's client id at that client's
next clock makes the document refuse the real person's next edit (Yjs keeps
the first struct for an id and drops any other as already known): from then
on everything that person types is lost to everyone else and to the database.
A deletion of clocks not made yet does the same harm when they arrive.

So each client id belongs to the user who first wrote under it. A socket's
update is screened before it is applied:

- groups of client ids owned by the sender's user, or by nobody yet, are kept;
- groups of client ids owned by another user (by a write, or live in the
  room's awareness under another user) are dropped, and the sender is told;
- deletions of another user's clocks the document does not hold yet are dropped.

A socket that has announced its own client ids in awareness (every y-websocket
client does on connect, before its SyncStep2) claims only those: other new ids
it carries are relayed structs (edits it received from others that the server
lost in a crash), kept but claimed by nobody, so the real author can still
claim them. Relayed edits of an id that someone owns are dropped: they cannot
be told apart from a forgery, and the owner resends its own edits on reconnect.

Ownership is durable (the store writes claims with the log rows that made
them) and travels between workers with the updates.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from collab.engine.protocol import EMPTY_UPDATE
from collab.engine.yupdate import DeleteRanges, ParsedUpdate, rewrite_update

Claim = tuple[int, int]  # (client id, user id)


@dataclass(frozen=True)
class Screened:
    update: bytes  # what may be applied (the input itself when nothing was dropped)
    claims: tuple[Claim, ...] = ()  # client ids this update makes the sender's
    dropped: frozenset[int] = field(default_factory=frozenset)  # clients whose structs were refused
    clipped: bool = False  # deletions of others' unwritten clocks were dropped

    @property
    def refused_something(self) -> bool:
        return bool(self.dropped) or self.clipped

    @property
    def is_empty(self) -> bool:
        return self.update == EMPTY_UPDATE


class ClientOwners:
    """Client id -> user id for one document; the first writer keeps an id."""

    def __init__(self, owners: Mapping[int, int] | None = None) -> None:
        self._owners: dict[int, int] = dict(owners or {})

    def __len__(self) -> int:
        return len(self._owners)

    def owner(self, client_id: int) -> int | None:
        return self._owners.get(client_id)

    def record(self, claims: Iterable[Claim]) -> None:
        """Claims made elsewhere (the store, another worker): first one wins."""
        for client_id, user_id in claims:
            self._owners.setdefault(client_id, user_id)

    def of_clients(self, client_ids: Iterable[int]) -> list[Claim]:
        return [(client, self._owners[client]) for client in client_ids if client in self._owners]

    def screen(
        self,
        update: bytes,
        parsed: ParsedUpdate,
        user_id: int,
        announced: Callable[[], frozenset[int]],
        live_user_of: Callable[[int], int | None],
        known_clocks: Callable[[], Mapping[int, int]],
    ) -> Screened:
        """What of a socket's update may be applied, and which ids it claims.

        Changes nothing: the caller records the claims once the update applied.

        `announced`: the client ids the socket holds in awareness (asked for only
        when an update carries an id nobody owns); `live_user_of`:
        the user a client id is live under in awareness; `known_clocks`: the
        document's state vector (asked for only when a deletion needs it).
        """
        keep = []
        claims: list[Claim] = []
        ours = set()
        announced_ids: frozenset[int] | None = None
        for struct_range in parsed.ranges:
            client = struct_range.client
            recorded = self._owners.get(client)
            owner = recorded if recorded is not None else live_user_of(client)
            if owner not in (None, user_id):
                keep.append(False)
                continue
            keep.append(True)
            ours.add(client)
            if recorded is None:  # nobody has written under it yet: does this socket claim it?
                if announced_ids is None:
                    announced_ids = announced()
                if owner == user_id or not announced_ids or client in announced_ids:
                    claims.append((client, user_id))
        deletions, clipped = self._deletions_allowed(parsed.deletions, user_id, ours, known_clocks)
        claims = list(dict.fromkeys(claims))  # a hostile update may repeat a client's group
        dropped = frozenset(r.client for r, kept in zip(parsed.ranges, keep, strict=True) if not kept)
        if not dropped and not clipped:
            return Screened(update, tuple(claims))
        return Screened(rewrite_update(update, parsed, keep, deletions), tuple(claims), dropped, clipped)

    def _deletions_allowed(
        self,
        deletions: tuple[DeleteRanges, ...],
        user_id: int,
        ours: set[int],
        known_clocks: Callable[[], Mapping[int, int]],
    ) -> tuple[list[DeleteRanges], bool]:
        """Deletions of what exists or of the sender's own ids; not of others' future clocks."""
        allowed: list[DeleteRanges] = []
        clipped = False
        clocks: Mapping[int, int] | None = None
        for client, pairs in deletions:
            if client in ours or self._owners.get(client) == user_id:
                allowed.append((client, pairs))
                continue
            if clocks is None:
                clocks = known_clocks()
            limit = clocks.get(client, 0)
            kept = tuple((clock, min(length, limit - clock)) for clock, length in pairs if clock < limit)
            if kept != pairs:
                clipped = True
            if kept:
                allowed.append((client, kept))
        return allowed, clipped
