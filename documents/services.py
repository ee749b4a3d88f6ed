"""Writes to documents. Real-time consequences are sent after commit.

Services take ids (`document_id`, `owner_id`) and load and lock the document themselves;
an unknown document is `DocumentError(..., status=404)`.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping

from django.contrib.auth import get_user_model
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from collab.accounts.usernames import canonical_username
from collab.engine.fold import fold
from collab.engine.protocol import EMPTY_UPDATE
from collab.realtime.events import room_control_on_commit
from documents.models import (
    Document,
    DocumentClient,
    DocumentMember,
    DocumentSnapshot,
    DocumentUpdate,
    Role,
)
from documents.selectors import TITLE_MAX, stored_parts


class DocumentError(ValueError):
    """A request that breaks a rule; `status` is the HTTP status to answer with."""

    def __init__(self, message: str, status: int = 400, code: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code


LOG_LOCK_TIMEOUT_MS = 5000


def room_group(document_id: uuid.UUID) -> str:
    return f"doc.{document_id.hex}"


@transaction.atomic
def create_document(owner_id: int, title: str) -> Document:
    document = Document.objects.create(title=_clean_title(title), created_by_id=owner_id)
    DocumentMember.objects.create(document=document, user_id=owner_id, role=Role.OWNER)
    return document


def _clean_title(title: str) -> str:
    title = (title or "").strip()
    if not title or len(title) > TITLE_MAX:
        raise DocumentError(f"title must be 1 to {TITLE_MAX} characters", code="invalid_title")
    return title


def _locked_document(document_id: uuid.UUID) -> Document:
    """The document row, locked until the transaction ends: its membership changes serialise here
    (two owners demoting each other at once). An unknown document is 404."""
    document = Document.objects.select_for_update().filter(pk=document_id).first()
    if document is None:
        raise DocumentError("unknown document", status=404)
    return document


@transaction.atomic
def rename_document(document_id: uuid.UUID, title: str) -> Document:
    title = _clean_title(title)
    document = _locked_document(document_id)
    document.title = title
    document.save(update_fields=["title", "updated_at"])
    return document


@transaction.atomic
def delete_document(document_id: uuid.UUID) -> None:
    _locked_document(document_id).delete()
    room_control_on_commit(room_group(document_id), "deleted")


@transaction.atomic
def set_member(document_id: uuid.UUID, username: str, role: str) -> DocumentMember:
    if role not in Role.values:
        raise DocumentError("role must be owner, editor or viewer")
    user = get_user_model().objects.filter(username=canonical_username(username)).first()
    if user is None:
        raise DocumentError(f"no user named {username!r}", status=404)
    _locked_document(document_id)
    member, created = DocumentMember.objects.select_for_update().get_or_create(
        document_id=document_id, user=user, defaults={"role": role}
    )
    if not created and member.role != role:
        if member.role == Role.OWNER and role != Role.OWNER:
            _ensure_another_owner(document_id, user.pk)
        member.role = role
        member.save(update_fields=["role"])
    room_control_on_commit(room_group(document_id), "access_changed", user_id=user.pk)
    return member


@transaction.atomic
def remove_member(document_id: uuid.UUID, username: str) -> None:
    _locked_document(document_id)
    member = (
        DocumentMember.objects.select_for_update()
        .filter(document_id=document_id, user__username=canonical_username(username))
        .first()
    )
    if member is None:
        raise DocumentError(f"{username!r} is not a member", status=404)
    if member.role == Role.OWNER:
        _ensure_another_owner(document_id, member.user_id)
    member.delete()
    room_control_on_commit(room_group(document_id), "access_changed", user_id=member.user_id)


def _ensure_another_owner(document_id: uuid.UUID, leaving_user_id: int) -> None:
    others = DocumentMember.objects.filter(document_id=document_id, role=Role.OWNER).exclude(
        user_id=leaving_user_id
    )
    if not others.exists():
        raise DocumentError("a document must keep at least one owner", status=409)


Claims = Mapping[uuid.UUID, list[tuple[int, int]]]


def append_updates(
    batches: Mapping[uuid.UUID, list[tuple[bytes, int | None]]], claims: Claims | None = None
) -> set[uuid.UUID]:
    """Append batches of updates (with authors) to the log, one transaction for all documents.

    `claims`: per document, the (client id, user id) pairs those updates made
    theirs; written in the same transaction, the first claim of an id stays.
    Returns the documents written; a document deleted meanwhile is skipped.
    """
    claims = claims or {}
    try:
        if connection.vendor == "postgresql":
            return _append_in_one_statement(batches, claims)
        with transaction.atomic():
            _bound_lock_waits()
            alive = set(Document.objects.filter(pk__in=list(batches)).values_list("pk", flat=True))
            if alive:
                # Locks the document rows before the rows below take ids, until commit:
                # a document's row ids are then in commit order, which compaction relies on.
                Document.objects.filter(pk__in=alive).update(updated_at=timezone.now())
                DocumentUpdate.objects.bulk_create(
                    [
                        DocumentUpdate(document_id=document_id, data=data, author_id=author)
                        for document_id in alive
                        for data, author in batches[document_id]
                    ]
                )
                _record_claims(alive, claims)
            return alive
    except IntegrityError:
        # A document or an author was deleted meanwhile (foreign keys are checked at
        # commit): keep every update of the documents that still exist, authorless if need be.
        return _append_checked(batches, claims)


def _append_in_one_statement(
    batches: Mapping[uuid.UUID, list[tuple[bytes, int | None]]], claims: Claims
) -> set[uuid.UUID]:
    """PostgreSQL: the same rows and locks as the ORM path, in one statement.

    The worker's writer runs this up to 40 times a second; through the ORM (an
    existence query, the touch, the bulk insert, each compiled) it was most of the
    write thread's CPU. Each inserted row joins its document's row from the UPDATE,
    so it takes its id only once that row is locked: row ids stay in commit order
    per document, as compaction needs.
    """
    documents: list[uuid.UUID] = []
    datas: list[bytes] = []
    authors: list[int | None] = []
    for document_id, records in batches.items():
        for data, author in records:
            documents.append(document_id)
            datas.append(data)
            authors.append(author)
    now = timezone.now()
    with transaction.atomic(), connection.cursor() as cursor:
        _bound_lock_waits()
        cursor.execute(
            _APPEND_SQL,
            {"now": now, "ids": list(batches), "documents": documents, "datas": datas, "authors": authors},
        )
        alive = {row[0] for row in cursor.fetchall()}
        _record_claims(alive, claims)
    return alive


_APPEND_SQL = f"""
WITH alive AS (
    UPDATE {Document._meta.db_table} SET updated_at = %(now)s
    WHERE id = ANY(%(ids)s::uuid[]) RETURNING id
), appended AS (
    INSERT INTO {DocumentUpdate._meta.db_table} (document_id, data, author_id, created_at)
    SELECT record.document_id, record.data, record.author_id, %(now)s
    FROM unnest(%(documents)s::uuid[], %(datas)s::bytea[], %(authors)s::integer[])
        WITH ORDINALITY AS record(document_id, data, author_id, position)
    JOIN alive ON alive.id = record.document_id
    ORDER BY record.position
    RETURNING 1
)
SELECT id FROM alive
"""


def _record_claims(documents: set[uuid.UUID], claims: Claims, users: set[int] | None = None) -> None:
    rows = [
        DocumentClient(document_id=document_id, client_id=client_id, user_id=user_id)
        for document_id in documents
        for client_id, user_id in claims.get(document_id, ())
        if users is None or user_id in users
    ]
    if rows:
        DocumentClient.objects.bulk_create(rows, ignore_conflicts=True)


def _bound_lock_waits() -> None:
    """In this transaction, wait at most LOG_LOCK_TIMEOUT for a row lock (PostgreSQL).

    A worker cut off mid-transaction keeps its locks until PostgreSQL notices it is gone;
    a write that fails instead of waiting stays in the room's outbox and is retried.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"SET LOCAL lock_timeout = '{LOG_LOCK_TIMEOUT_MS}ms'")


def _append_checked(
    batches: Mapping[uuid.UUID, list[tuple[bytes, int | None]]], claims: Claims
) -> set[uuid.UUID]:
    with transaction.atomic():
        _bound_lock_waits()
        alive = set(
            Document.objects.select_for_update().filter(pk__in=list(batches)).values_list("pk", flat=True)
        )
        authors = {
            author for document_id in alive for _, author in batches[document_id] if author is not None
        }
        authors |= {user for document_id in alive for _, user in claims.get(document_id, ())}
        known = set(get_user_model().objects.filter(pk__in=authors).values_list("pk", flat=True))
        DocumentUpdate.objects.bulk_create(
            [
                DocumentUpdate(
                    document_id=document_id, data=data, author_id=author if author in known else None
                )
                for document_id in alive
                for data, author in batches[document_id]
            ]
        )
        _record_claims(alive, claims, users=known)
        return alive


def compact_document(document_id: uuid.UUID) -> bool | None:
    """Fold the snapshot and the log rows after it into a new snapshot.

    Returns whether the new snapshot is complete (None: nothing to do). The
    snapshot never holds less than the rows it replaces: rows are folded with
    `collab.engine.fold`, which keeps updates whose dependencies are in rows not
    written yet (log order is not causal order once two workers persist).

    `upto_update_id` may only move past rows that were read: appends to one
    document serialise on its row (see `append_updates`), so its row ids are
    in commit order and no uncommitted row hides below a committed one.
    Concurrent compactions serialise on the snapshot row; the rows stay (they
    are the history) but are no longer replayed on load.
    """
    try:
        with transaction.atomic():
            DocumentSnapshot.objects.bulk_create(
                [DocumentSnapshot(document_id=document_id, data=EMPTY_UPDATE, upto_update_id=0)],
                ignore_conflicts=True,
            )
            DocumentSnapshot.objects.select_for_update().filter(document_id=document_id).first()
            snapshot, rows, last_id = stored_parts(document_id)
            if not rows:
                return None
            folded, complete = fold(([snapshot] if snapshot is not None else []) + rows)
            DocumentSnapshot.objects.filter(document_id=document_id).update(
                data=folded, upto_update_id=last_id, updated_at=timezone.now()
            )
            return complete
    except IntegrityError:
        return None  # the document was deleted meanwhile
