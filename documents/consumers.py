"""`ws/docs/{id}`: a document's y-websocket endpoint."""

from __future__ import annotations

from typing import Any

from channels.db import database_sync_to_async

from collab.engine.consumer import CrdtRoomConsumer
from collab.engine.interfaces import RoomStore
from collab.realtime.close_codes import CloseCode
from collab.realtime.runtime import current_runtime
from collab.realtime.socket_admission import RefusedError
from collab.realtime.ws_watch import Verdict
from documents import selectors
from documents.models import WRITE_ROLES
from documents.services import room_group
from documents.store import DocumentStore, room_key
from presence.objects import document_object
from presence.sockets import PresenceMixin


class DocumentConsumer(PresenceMixin, CrdtRoomConsumer):
    metrics_kind = "docs"

    async def resolve_target(self) -> tuple[str, str, RoomStore]:
        document_id = selectors.parse_document_id(self.scope["url_route"]["kwargs"]["document_id"])
        if document_id is None:
            raise RefusedError(CloseCode.NOT_FOUND, "unknown document")
        self.document_id = document_id
        return room_key(document_id), room_group(document_id), current_runtime().get(DocumentStore)

    async def current_role_can_write(self) -> bool:
        role, exists = await database_sync_to_async(self._role_and_existence, thread_sensitive=False)()
        if not exists:
            raise RefusedError(CloseCode.NOT_FOUND, "unknown document")
        if role is None:
            raise RefusedError(CloseCode.FORBIDDEN, "no access to this document")
        return role in WRITE_ROLES

    async def on_joined(self) -> None:
        self.join_presence_soon(document_object(self.document_id))

    async def on_edit(self) -> None:
        await self.presence_activity()

    def target_id(self) -> Any:
        return self.document_id

    @classmethod
    def target_verdicts(cls, subjects: list[tuple[Any, int]]) -> list[Verdict]:
        roles = selectors.roles_of_many(subjects)
        existing = selectors.existing_documents({document_id for document_id, _ in subjects})
        verdicts: list[Verdict] = []
        for document_id, user_id in subjects:
            role = roles.get((document_id, user_id))
            if document_id not in existing:
                verdicts.append((CloseCode.NOT_FOUND, "document deleted"))
            elif role is None:
                verdicts.append((CloseCode.FORBIDDEN, "no access to this document"))
            else:
                verdicts.append(role in WRITE_ROLES)
        return verdicts

    def _role_and_existence(self) -> tuple[str | None, bool]:
        role = selectors.role_of(self.scope["user"], self.document_id)
        return role, role is not None or selectors.document_exists(self.document_id)
