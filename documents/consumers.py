"""`ws/docs/{id}`: documents, the engine's first room kind, and their socket (with presence)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any, ClassVar

from collab.engine.consumer import CrdtRoomConsumer
from collab.engine.interfaces import RoomStore
from collab.engine.kinds import RoomKind
from collab.realtime.close_codes import CloseCode
from collab.realtime.runtime import current_runtime
from collab.realtime.ws_watch import Verdict
from documents import selectors
from documents.models import WRITE_ROLES
from documents.services import room_group
from documents.store import KEY_PREFIX, DocumentStore, room_key
from presence.objects import document_object
from presence.sockets import PresenceMixin

UNKNOWN: Verdict = (CloseCode.NOT_FOUND, "unknown document")
DELETED: Verdict = (CloseCode.NOT_FOUND, "document deleted")
NO_ACCESS: Verdict = (CloseCode.FORBIDDEN, "no access to this document")


class DocumentConsumer(PresenceMixin, CrdtRoomConsumer):
    metrics_kind = "docs"

    async def on_joined(self) -> None:
        self.join_presence_soon(document_object(self.object_id))

    async def on_edit(self) -> None:
        await self.presence_activity()


class DocumentKind(RoomKind):
    name: ClassVar[str] = KEY_PREFIX.rstrip(":")
    label: ClassVar[str] = "document"
    path: ClassVar[str] = r"^ws/docs/(?P<object_id>[^/?]+)/?$"

    def socket(self) -> type[CrdtRoomConsumer]:
        return DocumentConsumer

    def parse_id(self, raw: str) -> uuid.UUID | None:
        return selectors.parse_document_id(raw)

    def key(self, object_id: Any) -> str:
        return room_key(object_id)

    def group(self, object_id: Any) -> str:
        return room_group(object_id)

    def store(self) -> RoomStore:
        return current_runtime().get(DocumentStore)

    def access(self, object_id: Any, user_id: int) -> Verdict:
        role = selectors.roles_of_many([(object_id, user_id)]).get((object_id, user_id))
        if role is not None:
            return role in WRITE_ROLES
        return NO_ACCESS if selectors.document_exists(object_id) else UNKNOWN

    def access_many(self, subjects: Sequence[tuple[Any, int]]) -> list[Verdict]:
        roles = selectors.roles_of_many(list(subjects))
        without_role = {document for document, user in subjects if (document, user) not in roles}
        existing = selectors.existing_documents(without_role) if without_role else set()
        verdicts: list[Verdict] = []
        for document_id, user_id in subjects:
            role = roles.get((document_id, user_id))
            if role is not None:
                verdicts.append(role in WRITE_ROLES)
            else:
                verdicts.append(NO_ACCESS if document_id in existing else UNKNOWN)
        return verdicts

    def verdicts(self, subjects: Sequence[tuple[Any, int]]) -> list[Verdict]:
        roles = selectors.roles_of_many(list(subjects))
        existing = selectors.existing_documents({document_id for document_id, _ in subjects})
        verdicts: list[Verdict] = []
        for document_id, user_id in subjects:
            role = roles.get((document_id, user_id))
            if document_id not in existing:
                verdicts.append(DELETED)
            elif role is None:
                verdicts.append(NO_ACCESS)
            else:
                verdicts.append(role in WRITE_ROLES)
        return verdicts
