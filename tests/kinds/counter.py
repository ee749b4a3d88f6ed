"""A small room kind for tests: a counter whose value must stay a whole number in 0..10.

The document is `doc.get("counter", type=Map)` with one key, "value":
- a value that is not a whole number is refused (nobody else sees it, nothing is stored);
- a whole number out of bounds is corrected to the nearest bound (everyone else, and the
  log, see only the corrected value).

`seen` records every applied update the observers heard of (tests read it in process).
Served at `ws/counters/{name}` by `tests.kinds.counter_asgi:application` (daphne), with an
in-memory store per worker and any authenticated user as a writer, except users whose
name starts with "viewer".
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

from pycrdt import Map

from collab.engine.hooks import AppliedUpdate, Observer, ProposedChange
from collab.engine.interfaces import RoomStore
from collab.engine.kinds import RoomKind
from collab.realtime.ws_watch import Verdict
from tests.collab.engine.fakes import MemoryStore

LOWEST, HIGHEST = 0, 10


def counter_value(doc: Any) -> Any:
    return doc.get("counter", type=Map).get("value")


class CounterKind(RoomKind):
    name: ClassVar[str] = "counter"
    label: ClassVar[str] = "counter"
    path: ClassVar[str] = r"^ws/counters/(?P<object_id>[a-z0-9-]{1,40})/?$"

    def __init__(self, store: MemoryStore | None = None) -> None:
        self.memory = store or MemoryStore()
        self.seen: list[AppliedUpdate] = []

    def store(self) -> RoomStore:
        return self.memory

    def access(self, object_id: Any, user_id: int) -> Verdict:
        from django.contrib.auth import get_user_model

        user = get_user_model().objects.filter(pk=user_id, is_active=True).first()
        if user is None:
            return (4401, "no such user")
        return not user.get_username().startswith("viewer")

    def validate(self, change: ProposedChange) -> str | None:
        counter = change.doc.get("counter", type=Map)
        value = counter.get("value")
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float) or value != int(value):
            return "the counter takes whole numbers"
        bounded = min(HIGHEST, max(LOWEST, int(value)))
        if bounded != value:
            counter["value"] = bounded  # the correction: applied with the change, as one
        return None

    def observers(self) -> Sequence[Observer]:
        return (self.seen.append,)
