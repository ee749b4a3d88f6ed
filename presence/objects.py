"""Names of the things people can be "in": chat rooms, documents, boards."""

from __future__ import annotations

import uuid


def chat_object(room_id: int) -> str:
    return f"chat.{room_id}"


def document_object(document_id: uuid.UUID) -> str:
    return f"doc.{document_id.hex}"


def parse_object(raw: str) -> tuple[str, str] | None:
    """`chat:3` / `doc:<uuid>` (as the REST API spells them) -> (kind, id), or None."""
    kind, _, ident = raw.partition(":")
    if kind not in {"chat", "doc"} or not ident:
        return None
    return kind, ident
