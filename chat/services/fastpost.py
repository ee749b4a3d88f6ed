"""Posting a new top-level message in one statement (PostgreSQL).

The general path (`post_message`) takes six round trips inside a transaction
that holds the room's row lock throughout, so busy rooms queue behind network
latency. Here one data-modifying statement, committed on its own, locks the room
row, checks membership, archive and the client id, takes both numbers and stores
the message; the lock is held for the statement only.

It returns None whenever the general path has to decide: not a member, archived,
unknown room, a retry of a stored client id, or a concurrent retry that the unique
constraint caught (the statement then rolls back whole, numbers included, so the
sequence stays gap-free).
"""

from __future__ import annotations

import contextlib
import functools
from typing import Any

from django.contrib.auth import get_user_model
from django.db import IntegrityError, connection, transaction

from chat.models import ChangeKind, ChatMessage
from chat.services.base import user_from_row

_POST = """
WITH room AS (
    SELECT r.id
    FROM chat_chatroom r
    WHERE r.id = %(room)s
      AND r.archived_at IS NULL
      AND EXISTS (SELECT 1 FROM chat_chatmember m WHERE m.room_id = r.id AND m.user_id = %(author)s)
      AND NOT EXISTS (
          SELECT 1 FROM chat_chatmessage x
          WHERE x.room_id = r.id AND x.author_id = %(author)s AND x.client_id = %(client_id)s
      )
    FOR UPDATE
), numbered AS (
    UPDATE chat_chatroom r
    SET last_seq = r.last_seq + 1, last_version = r.last_version + 1
    FROM room
    WHERE r.id = room.id
    RETURNING r.last_seq, r.last_version
)
INSERT INTO chat_chatmessage (
    room_id, seq, created_version, version_seq, client_id, author_id, body,
    parent_id, created_at, edited_at, deleted_at, last_change, reply_count
)
SELECT %(room)s, last_seq, last_version, last_version, %(client_id)s, %(author)s, %(body)s,
       NULL, now(), NULL, NULL, %(created)s, 0
FROM numbered
RETURNING id, seq, created_version, created_at, ({author_name})
"""


@functools.cache
def _post_statement() -> str:
    """The statement, also returning the author's username (the announcement names the author)."""
    model, quote = get_user_model(), connection.ops.quote_name
    fields = model._meta.concrete_fields
    name = next(field.column for field in fields if field.attname == model.USERNAME_FIELD)
    pk = next(field.column for field in fields if field.primary_key)
    author_name = (
        f"SELECT u.{quote(name)} FROM {quote(model._meta.db_table)} u WHERE u.{quote(pk)} = %(author)s"
    )
    return _POST.replace("{author_name}", author_name)


def new_message(
    room_id: int, seq: int, version: int, client_id: str, author: Any, body: str, parent_id: int | None
) -> ChatMessage:
    """A message as it is first stored: created at `version`, unchanged since."""
    return ChatMessage(
        room_id=room_id,
        seq=seq,
        created_version=version,
        version_seq=version,
        client_id=client_id,
        author=author,
        body=body,
        parent_id=parent_id,
        last_change=ChangeKind.CREATED,
        reply_count=0,
    )


def supported() -> bool:
    return connection.vendor == "postgresql"


def try_post(room_id: int, author_id: int, client_id: str, body: str) -> ChatMessage | None:
    """The stored message, or None when the general path must handle this post."""
    params: dict[str, int | str] = {
        "room": room_id,
        "author": author_id,
        "client_id": client_id,
        "body": body,
        "created": ChangeKind.CREATED.value,
    }
    # Outside a transaction the statement commits by itself (no BEGIN/COMMIT round trips);
    # inside one (tests, callers' own transactions) a savepoint keeps a conflict local.
    scope = transaction.atomic() if connection.in_atomic_block else contextlib.nullcontext()
    try:
        with scope, connection.cursor() as cursor:
            cursor.execute(_post_statement(), params)
            row = cursor.fetchone()
    except IntegrityError:
        return None  # a concurrent retry of the same client id won the race
    if row is None:
        return None
    message_id, seq, version, created_at, author_name = row
    author = user_from_row(author_id, author_name)
    message = new_message(room_id, seq, version, client_id, author, body, None)
    message.id, message.created_at = message_id, created_at
    message._state.adding = False
    message._state.db = connection.alias
    return message
