"""`/api/documents/...`: documents, members and the stored CRDT state."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from django.http import HttpRequest, HttpResponse
from ninja import Field, Query, Router, Schema, Status
from ninja.errors import HttpError

from documents import selectors, services
from documents.models import Document, Role

router = Router(tags=["documents"])

READ_ROLES = frozenset(Role.values)
EDIT_ROLES = frozenset({Role.OWNER, Role.EDITOR})
OWNER_ROLES = frozenset({Role.OWNER})


class CodedHttpError(HttpError):
    """An HttpError with its own `code` (collab/conf/api.py answers {"detail", "code"})."""

    def __init__(self, status: int, message: str, code: str) -> None:
        super().__init__(status, message)
        self.code = code


class DocumentIn(Schema):
    # Checked by the service (400 invalid_title), declared here for the schema.
    title: str = Field(json_schema_extra={"minLength": 1, "maxLength": selectors.TITLE_MAX})


class DocumentOut(Schema):
    id: str
    title: str
    role: str
    created_at: datetime
    updated_at: datetime
    owner: str | None = None  # the username of the document's earliest owner


class DocumentFilters(Schema):
    q: str = ""
    sort: Literal["recent", "title"] = "recent"


class MemberIn(Schema):
    username: str
    role: str


class MemberOut(Schema):
    username: str
    role: str


def _document_out(document: Document, role: str, owner: str | None) -> dict[str, Any]:
    return {
        "id": str(document.pk),
        "title": document.title,
        "role": role,
        "created_at": document.created_at,
        "updated_at": document.updated_at,
        "owner": owner,
    }


def _authorize(request: HttpRequest, document_id: uuid.UUID, allowed: frozenset[str]) -> tuple[Document, str]:
    """The document and the caller's role; 404 if unknown, 403 if not allowed."""
    document = selectors.document_by_id(document_id)
    if document is None:
        raise HttpError(404, "unknown document")
    role = selectors.role_of(request.user, document_id)
    if role is None or role not in allowed:
        raise HttpError(403, "you do not have the required role on this document")
    return document, role


def _caller_id(request: HttpRequest) -> int:
    """The signed-in caller's id (the API root authenticates every request)."""
    user_id = request.user.pk
    if user_id is None:  # pragma: no cover - never reached: anonymous requests are refused before
        raise HttpError(401, "authentication required")
    return int(user_id)


def _service_call(call: Any, *args: Any) -> Any:
    try:
        return call(*args)
    except services.DocumentError as exc:
        if exc.code is not None:
            raise CodedHttpError(exc.status, str(exc), exc.code) from exc
        raise HttpError(exc.status, str(exc)) from exc


@router.post("", response={201: DocumentOut})
def create_document(request: HttpRequest, payload: DocumentIn) -> Status[dict[str, Any]]:
    document = _service_call(services.create_document, _caller_id(request), payload.title)
    return Status(201, _document_out(document, Role.OWNER, request.user.get_username()))


@router.get("", response=list[DocumentOut])
def list_documents(request: HttpRequest, filters: Query[DocumentFilters]) -> list[dict[str, Any]]:
    """The caller's documents: `q` filters by title (case-insensitive substring), `sort` is
    `recent` (last change first, the default) or `title`."""
    members = selectors.documents_for(request.user, filters.q, filters.sort)
    return [_document_out(member.document, member.role, member.owner) for member in members]  # type: ignore[attr-defined]


@router.get("/{document_id}", response=DocumentOut)
def get_document(request: HttpRequest, document_id: uuid.UUID) -> dict[str, Any]:
    document, role = _authorize(request, document_id, READ_ROLES)
    return _document_out(document, role, selectors.owner_of(document_id))


@router.patch("/{document_id}", response=DocumentOut)
def rename_document(request: HttpRequest, document_id: uuid.UUID, payload: DocumentIn) -> dict[str, Any]:
    _, role = _authorize(request, document_id, EDIT_ROLES)
    document = _service_call(services.rename_document, document_id, payload.title)
    return _document_out(document, role, selectors.owner_of(document_id))


@router.delete("/{document_id}", response={204: None})
def delete_document(request: HttpRequest, document_id: uuid.UUID) -> Status[None]:
    _authorize(request, document_id, OWNER_ROLES)
    _service_call(services.delete_document, document_id)
    return Status(204, None)


@router.get("/{document_id}/members", response=list[MemberOut])
def list_members(request: HttpRequest, document_id: uuid.UUID) -> list[dict[str, str]]:
    _authorize(request, document_id, READ_ROLES)
    return [{"username": m.user.get_username(), "role": m.role} for m in selectors.members_of(document_id)]


@router.post("/{document_id}/members", response={201: MemberOut})
def set_member(request: HttpRequest, document_id: uuid.UUID, payload: MemberIn) -> Status[dict[str, str]]:
    _authorize(request, document_id, OWNER_ROLES)
    member = _service_call(services.set_member, document_id, payload.username, payload.role)
    return Status(201, {"username": payload.username, "role": member.role})


@router.delete("/{document_id}/members/{username}", response={204: None})
def remove_member(request: HttpRequest, document_id: uuid.UUID, username: str) -> Status[None]:
    _authorize(request, document_id, OWNER_ROLES)
    _service_call(services.remove_member, document_id, username)
    return Status(204, None)


@router.get(
    "/{document_id}/state",
    response={200: None},
    openapi_extra={
        "responses": {
            "200": {
                "description": "The full Yjs state as one v1 update",
                "content": {"application/octet-stream": {}},
            }
        }
    },
)
def document_state(request: HttpRequest, document_id: uuid.UUID) -> HttpResponse:
    _authorize(request, document_id, READ_ROLES)
    return HttpResponse(selectors.stored_state(document_id), content_type="application/octet-stream")
