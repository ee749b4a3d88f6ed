"""The worker's log writer: appends of many rooms gathered into few transactions."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from django.contrib.auth import get_user_model
from django.db import connections

from collab.realtime.db_pool import close_write_pool
from documents import selectors, services
from documents.store import DocumentStore, room_key
from tests.collab.engine.test_room import text_of, text_update

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
async def close_connections() -> AsyncIterator[None]:
    yield
    await sync_to_async(close_write_pool)()
    await sync_to_async(connections.close_all)()


def documents(count: int) -> list[Any]:
    owner = get_user_model().objects.create_user("writer", password="x")
    return [services.create_document(owner.pk, f"Doc {index}").pk for index in range(count)]


async def test_flushes_within_the_gather_window_share_one_transaction(monkeypatch: Any) -> None:
    ids = await sync_to_async(documents)(5)
    transactions: list[int] = []
    real = services.append_updates

    def counted(batches: Any, claims: Any = None) -> Any:
        transactions.append(len(batches))
        return real(batches, claims)

    monkeypatch.setattr(services, "append_updates", counted)
    store = DocumentStore(gather_seconds=0.2)
    started = asyncio.get_running_loop().time()

    async def flush(index: int, document_id: Any) -> None:
        await asyncio.sleep(index * 0.02)  # rooms flush at different moments
        await store.append(room_key(document_id), [(text_update(f"t{index}", client_id=50 + index), None)])

    await asyncio.gather(*(flush(index, document_id) for index, document_id in enumerate(ids)))
    elapsed = asyncio.get_running_loop().time() - started
    assert transactions == [5]  # one transaction for the five rooms
    assert 0.2 <= elapsed < 1.0  # waited for the window, measured from the oldest append
    texts = [text_of(await sync_to_async(selectors.stored_state)(document_id)) for document_id in ids]
    assert texts == [f"t{index}" for index in range(5)]
    await store.stop()


async def test_without_a_window_the_writer_writes_at_once() -> None:
    (document_id,) = await sync_to_async(documents)(1)
    store = DocumentStore(gather_seconds=0.0)
    started = asyncio.get_running_loop().time()
    await store.append(room_key(document_id), [(text_update("now", client_id=60), None)])
    assert asyncio.get_running_loop().time() - started < 0.5
    assert text_of(await sync_to_async(selectors.stored_state)(document_id)) == "now"
    await store.stop()
