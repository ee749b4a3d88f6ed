"""What a room kind can plug into its rooms: a validation hook and update observers.

Both run on the room's thread (the worker's event loop thread, where every
pycrdt object of the room lives) and must not block: an observer that needs
I/O schedules it (a task, a Celery job on commit) and returns.

- The **validator** sees every update a socket sends, after the role and
  client-id checks and before anything else sees it. It gets the room's
  *shadow* document with the update already applied and returns a reason to
  refuse it, or None to accept it. To answer with a correcting change it
  writes to that document: whatever it writes is applied together with the
  update, so no other client and no stored row ever sees the update alone.
- **Observers** are told of every update the room applied (from its own
  sockets, `local=True`, with the author; from other workers' rooms,
  `local=False`). An observer that must act once per update (a notification, a
  projection into tables) acts on local ones only: each update is local to
  exactly one worker.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pycrdt import Doc


@dataclass
class ProposedChange:
    """An update a socket sent, before it is accepted."""

    room_key: str
    author: int  # the user id of the socket that sent it
    update: bytes
    # The room's shadow document with `update` applied; writes to it are the correction.
    doc: Doc[Any]


@dataclass(frozen=True)
class AppliedUpdate:
    """An update the room applied (with its correction, if the validator made one)."""

    room_key: str
    update: bytes
    author: int | None  # None: not known (a repair from another worker)
    local: bool  # accepted from a socket of this worker
    doc: Doc[Any]  # the room's document after the update; observers only read it


Validator = Callable[[ProposedChange], str | None]
Observer = Callable[[AppliedUpdate], None]


@dataclass(frozen=True)
class RoomHooks:
    validate: Validator | None = None
    observers: tuple[Observer, ...] = field(default_factory=tuple)


NO_HOOKS = RoomHooks()
