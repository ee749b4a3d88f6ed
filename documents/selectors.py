"""Reads about documents: who may do what, and the stored CRDT state."""

from __future__ import annotations

import uuid
from typing import Any

from django.db.models import OuterRef, QuerySet, Subquery
from django.db.models.functions import Lower

from collab.engine.fold import merge
from documents.models import Document, DocumentClient, DocumentMember, DocumentSnapshot, DocumentUpdate
from presence.objects import ObjectAccessError, document_object


def parse_document_id(raw: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(raw))
    except ValueError:
        return None


def role_of(user: Any, document_id: uuid.UUID) -> str | None:
    if not user.is_authenticated:
        return None
    return (
        DocumentMember.objects.filter(document_id=document_id, user_id=user.pk)
        .values_list("role", flat=True)
        .first()
    )


def document_exists(document_id: uuid.UUID) -> bool:
    return Document.objects.filter(pk=document_id).exists()


def existing_documents(document_ids: set[uuid.UUID]) -> set[uuid.UUID]:
    return set(Document.objects.filter(pk__in=document_ids).values_list("pk", flat=True))


def roles_of_many(pairs: list[tuple[uuid.UUID, int]]) -> dict[tuple[uuid.UUID, int], str]:
    """The role of each (document, user) pair that is a membership, in one query."""
    documents = {document_id for document_id, _ in pairs}
    users = {user_id for _, user_id in pairs}
    wanted = set(pairs)
    rows = DocumentMember.objects.filter(document_id__in=documents, user_id__in=users).values_list(
        "document_id", "user_id", "role"
    )
    return {(document, user): role for document, user, role in rows if (document, user) in wanted}


TITLE_MAX = Document._meta.get_field("title").max_length or 300


def _first_owner(document: Any) -> Subquery:
    """The username of the document's earliest owner (a document always keeps one)."""
    owners = DocumentMember.objects.filter(document_id=document, role="owner").order_by("created_at", "pk")
    return Subquery(owners.values("user__username")[:1])


def documents_for(user: Any, query: str = "", sort: str = "recent") -> QuerySet[DocumentMember]:
    """The user's memberships with their documents (one query), each annotated with `owner`.

    `query`: a case-insensitive substring of the title (SQLite folds ASCII letters only).
    `sort`: "recent" (last change first) or "title" (case-insensitive, then id).
    """
    rows = (
        DocumentMember.objects.filter(user_id=user.pk)
        .select_related("document")
        .annotate(owner=_first_owner(OuterRef("document_id")))
    )
    query = query.strip()
    if query:
        if len(query) > TITLE_MAX:
            return rows.none()
        rows = rows.filter(document__title__icontains=query)
    if sort == "title":
        return rows.order_by(Lower("document__title"), "document__id")
    return rows.order_by("-document__updated_at", "document__id")


def owner_of(document_id: uuid.UUID) -> str | None:
    """The username of the document's earliest owner."""
    owner: str | None = (
        DocumentMember.objects.filter(document_id=document_id, role="owner")
        .order_by("created_at", "pk")
        .values_list("user__username", flat=True)
        .first()
    )
    return owner


def members_of(document_id: uuid.UUID) -> QuerySet[DocumentMember]:
    return (
        DocumentMember.objects.filter(document_id=document_id).select_related("user").order_by("created_at")
    )


def stored_parts(document_id: uuid.UUID) -> tuple[bytes | None, list[bytes], int]:
    """The snapshot (if any), the log rows after it, and the id of the last row read."""
    snapshot = DocumentSnapshot.objects.filter(document_id=document_id).first()
    last_id = snapshot.upto_update_id if snapshot is not None else 0
    rows = []
    query = DocumentUpdate.objects.filter(document_id=document_id, id__gt=last_id).order_by("id")
    for row_id, data in query.values_list("id", "data").iterator():
        rows.append(bytes(data))
        last_id = row_id
    return (bytes(snapshot.data) if snapshot is not None else None), rows, last_id


def client_owners(document_id: uuid.UUID) -> dict[int, int]:
    """Client id -> the user who owns it (see collab.engine.client_ids)."""
    return dict(DocumentClient.objects.filter(document_id=document_id).values_list("client_id", "user_id"))


def stored_state(document_id: uuid.UUID) -> bytes:
    """The document's full durable state as one Yjs update."""
    return stored_state_and_backlog(document_id)[0]


def stored_state_and_backlog(document_id: uuid.UUID) -> tuple[bytes, int]:
    """The full durable state, and how many log rows follow the snapshot.

    Merged as bytes, never through a Doc: an update whose dependency is in a
    later row would be dropped by a Doc's encoding (see `collab.engine.fold`).
    """
    snapshot, rows, _ = stored_parts(document_id)
    return merge(([snapshot] if snapshot is not None else []) + rows), len(rows)


def presence_object_of(user: Any, ident: str) -> str:
    """The presence name of document `ident` if `user` may see who is in it (see presence.objects)."""
    document_id = parse_document_id(ident)
    if document_id is None or not document_exists(document_id):
        raise ObjectAccessError(404, "unknown document")
    if role_of(user, document_id) is None:
        raise ObjectAccessError(403, "no access to this document")
    return document_object(document_id)


def document_by_id(document_id: uuid.UUID) -> Document | None:
    return Document.objects.filter(pk=document_id).first()
