"""The durable store behind document rooms: the services, run off the event loop."""

from __future__ import annotations

import uuid

from channels.db import database_sync_to_async

from documents import selectors, services

KEY_PREFIX = "doc:"


def room_key(document_id: uuid.UUID) -> str:
    return f"{KEY_PREFIX}{document_id}"


def _document_id(key: str) -> uuid.UUID:
    return uuid.UUID(key.removeprefix(KEY_PREFIX))


class DocumentStore:
    async def load(self, key: str) -> tuple[bytes, int]:
        loaded: tuple[bytes, int] = await database_sync_to_async(selectors.stored_state_and_backlog)(
            _document_id(key)
        )
        return loaded

    async def append(self, key: str, records: list[tuple[bytes, int | None]]) -> None:
        await database_sync_to_async(services.append_updates)(_document_id(key), records)

    async def compact(self, key: str) -> None:
        await database_sync_to_async(services.compact_document)(_document_id(key))


document_store = DocumentStore()
