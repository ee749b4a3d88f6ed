"""Names of the things people can be "in": chat rooms, documents, boards.

Presence knows no app: each app registers its kind of object (`register_object_kind`,
from its AppConfig.ready) with a function that says whether a user may see who is in
one, and under which name the object's sockets join.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any


class ObjectAccessError(Exception):
    """The user may not see who is in this object; `status` is the HTTP status to answer with."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


# (user, the id as the REST API spells it) -> the object's name; raises ObjectAccessError.
ObjectResolver = Callable[[Any, str], str]
_kinds: dict[str, ObjectResolver] = {}


def register_object_kind(kind: str, resolve: ObjectResolver) -> None:
    _kinds[kind] = resolve


def chat_object(room_id: int) -> str:
    return f"chat.{room_id}"


def document_object(document_id: uuid.UUID) -> str:
    return f"doc.{document_id.hex}"


def parse_object(raw: str) -> tuple[str, str] | None:
    """`chat:3` / `doc:<uuid>` (as the REST API spells them) -> (kind, id), or None."""
    kind, _, ident = raw.partition(":")
    if kind not in _kinds or not ident:
        return None
    return kind, ident


def readable_object(user: Any, raw: str) -> str:
    """The name of the object `raw` names, if `user` may see who is in it."""
    parsed = parse_object(raw)
    if parsed is None:
        spelled = " or ".join(f"{kind}:<id>" for kind in sorted(_kinds))
        raise ObjectAccessError(400, f"object is {spelled}")
    kind, ident = parsed
    return _kinds[kind](user, ident)
