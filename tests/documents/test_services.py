"""Update log, compaction and checkpoints on the real database."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from pycrdt import merge_updates

from documents import selectors, services
from documents.models import DocumentSnapshot, DocumentUpdate
from tests.collab.engine.test_fold import chain
from tests.collab.engine.test_room import text_of, text_update

pytestmark = pytest.mark.django_db


@pytest.fixture
def document():  # type: ignore[no-untyped-def]
    owner = get_user_model().objects.create_user("owner", password="x")
    return services.create_document(owner.pk, "Doc")


def test_append_then_load_returns_everything(document) -> None:  # type: ignore[no-untyped-def]
    first = text_update("a", client_id=1)
    second = text_update("b", client_id=1, base=first)
    assert services.append_updates({document.pk: [(first, None), (second, None)]}) == {document.pk}
    assert selectors.stored_state_and_backlog(document.pk)[1] == 2
    assert text_of(selectors.stored_state(document.pk)) == "ab"


def test_compaction_folds_the_log_into_a_snapshot_and_keeps_history(document) -> None:  # type: ignore[no-untyped-def]
    state = b""
    for index in range(30):
        update = text_update(str(index % 10), client_id=2, base=state)
        state = merge_updates(state, update) if state else update
        services.append_updates({document.pk: [(update, None)]})
    expected = text_of(selectors.stored_state(document.pk))
    services.compact_document(document.pk)
    snapshot = DocumentSnapshot.objects.get(document=document)
    assert snapshot.upto_update_id == DocumentUpdate.objects.filter(document=document).latest("id").id
    snapshot, rows, _ = selectors.stored_parts(document.pk)
    assert snapshot is not None and rows == []  # loading reads one snapshot, not thirty rows
    assert selectors.stored_state_and_backlog(document.pk)[1] == 0
    assert text_of(selectors.stored_state(document.pk)) == expected
    assert DocumentUpdate.objects.filter(document=document).count() == 30
    later = text_update("!", client_id=3, base=state)
    services.append_updates({document.pk: [(later, None)]})
    assert text_of(selectors.stored_state(document.pk)) == expected + "!"


def test_appending_to_a_deleted_document_is_dropped(document) -> None:  # type: ignore[no-untyped-def]
    document_id = document.pk
    document.delete()
    assert services.append_updates({document_id: [(text_update("x", client_id=6), None)]}) == set()


def test_one_transaction_writes_several_documents_and_skips_deleted_ones(document) -> None:  # type: ignore[no-untyped-def]
    other = services.create_document(document.created_by_id, "Other")
    gone = services.create_document(document.created_by_id, "Gone")
    gone_id = gone.pk
    gone.delete()
    written = services.append_updates(
        {
            document.pk: [(text_update("one", client_id=7), None)],
            other.pk: [(text_update("two", client_id=8), None)],
            gone_id: [(text_update("lost", client_id=9), None)],
        }
    )
    assert written == {document.pk, other.pk}
    assert text_of(selectors.stored_state(document.pk)) == "one"
    assert text_of(selectors.stored_state(other.pk)) == "two"
    assert not DocumentUpdate.objects.filter(document_id=gone_id).exists()


def test_a_batch_keeps_its_order_and_authors_and_touches_each_document(document) -> None:  # type: ignore[no-untyped-def]
    other = services.create_document(document.created_by_id, "Other")
    author = document.created_by_id
    before = {d.pk: d.updated_at for d in (document, other)}
    first, second = text_update("a", client_id=11), text_update("b", client_id=12)
    services.append_updates({document.pk: [(first, author), (second, None)], other.pk: [(first, None)]})
    rows = list(
        DocumentUpdate.objects.filter(document=document).order_by("id").values_list("data", "author_id")
    )
    assert rows == [(first, author), (second, None)]
    for model in (document, other):
        model.refresh_from_db()
        assert model.updated_at > before[model.pk]


@pytest.mark.django_db(transaction=True)
def test_log_writes_do_not_wait_for_a_running_compaction() -> None:
    import threading

    from django.db import connection, transaction

    owner = get_user_model().objects.create_user("owner", password="x")
    document = services.create_document(owner.pk, "Doc")
    services.append_updates({document.pk: [(text_update("a", client_id=1), None)]})
    locked, release = threading.Event(), threading.Event()

    def compaction_in_progress() -> None:
        with transaction.atomic():
            DocumentSnapshot.objects.bulk_create(
                [DocumentSnapshot(document_id=document.pk, data=b"\x00\x00")], ignore_conflicts=True
            )
            DocumentSnapshot.objects.select_for_update().filter(document_id=document.pk).first()
            locked.set()
            release.wait(10)
        connection.close()

    holder = threading.Thread(target=compaction_in_progress)
    holder.start()
    assert locked.wait(5)
    try:
        written = services.append_updates({document.pk: [(text_update("b", client_id=2), None)]})
        assert written == {document.pk}
        assert release.is_set() is False  # it finished while the compaction still held its lock
    finally:
        release.set()
        holder.join()


@pytest.mark.django_db(transaction=True)
def test_a_deleted_author_does_not_cost_the_batch_its_updates() -> None:
    owner = get_user_model().objects.create_user("owner", password="x")
    leaver = get_user_model().objects.create_user("leaver", password="x")
    document = services.create_document(owner.pk, "Doc")
    leaver_id = leaver.pk
    leaver.delete()  # while still connected: the admin sends no event
    batch = [(text_update("kept", client_id=1), owner.pk), (text_update("!", client_id=2), leaver_id)]
    assert services.append_updates({document.pk: batch}) == {document.pk}
    assert sorted(text_of(selectors.stored_state(document.pk))) == sorted("kept!")
    authors = set(DocumentUpdate.objects.filter(document=document).values_list("author_id", flat=True))
    assert authors == {owner.pk, None}


def test_compaction_keeps_rows_stored_before_their_dependencies(document) -> None:  # type: ignore[no-untyped-def]
    """Two workers flush independently: a row can depend on a row stored after it."""
    updates, expected = chain(40, client_id=8)
    # Pairs swapped: every odd update is stored before the even one it builds on.
    swapped = [update for pair in zip(updates[1::2], updates[0::2], strict=True) for update in pair]
    for index, update in enumerate(swapped):
        services.append_updates({document.pk: [(update, None)]})
        if index % 3 == 0:  # compactions fall between the two halves of a pair
            services.compact_document(document.pk)
    services.compact_document(document.pk)
    assert text_of(selectors.stored_state(document.pk)) == expected
    assert selectors.stored_state_and_backlog(document.pk)[1] == 0


def test_a_snapshot_with_a_missing_dependency_stays_incomplete_until_it_arrives(document) -> None:  # type: ignore[no-untyped-def]
    (first, second), expected = chain(2, client_id=9)
    services.append_updates({document.pk: [(second, None)]})
    assert services.compact_document(document.pk) is False
    services.append_updates({document.pk: [(first, None)]})
    assert text_of(selectors.stored_state(document.pk)) == expected
    assert services.compact_document(document.pk) is True
    assert text_of(selectors.stored_state(document.pk)) == expected


def test_members_are_found_by_any_spelling_of_their_name(document) -> None:  # type: ignore[no-untyped-def]
    get_user_model().objects.create_user("bea", password="x")
    member = services.set_member(document.pk, "\uff22\uff25\uff21", "viewer")  # full-width, upper case
    assert member.user.username == "bea"
    services.remove_member(document.pk, "Bea")
    assert not document.members.filter(user__username="bea").exists()


def test_client_id_claims_are_written_with_the_log_and_the_first_claim_stays(document) -> None:  # type: ignore[no-untyped-def]
    other = get_user_model().objects.create_user("other", password="x")
    owner_id = document.created_by_id
    update = text_update("a", client_id=41)
    services.append_updates({document.pk: [(update, owner_id)]}, {document.pk: [(41, owner_id)]})
    services.append_updates(
        {document.pk: [(update, other.pk)]}, {document.pk: [(41, other.pk), (42, other.pk)]}
    )
    assert selectors.client_owners(document.pk) == {41: owner_id, 42: other.pk}


@pytest.mark.django_db(transaction=True)
def test_a_claim_of_a_deleted_user_is_dropped_and_the_updates_kept() -> None:
    owner = get_user_model().objects.create_user("owner", password="x")
    document = services.create_document(owner.pk, "Doc")
    gone = get_user_model().objects.create_user("gone", password="x")
    gone_id = gone.pk
    gone.delete()
    update = text_update("kept", client_id=43)
    services.append_updates({document.pk: [(update, gone_id)]}, {document.pk: [(43, gone_id)]})
    assert text_of(selectors.stored_state(document.pk)) == "kept"
    assert selectors.client_owners(document.pk) == {}


def test_the_migration_gives_each_logged_client_id_to_the_author_of_its_first_row(document) -> None:  # type: ignore[no-untyped-def]
    import importlib

    from django.apps import apps

    from documents.models import DocumentClient

    migration = importlib.import_module("documents.migrations.0002_client_owners")
    other = get_user_model().objects.create_user("other", password="x")
    first = text_update("a", client_id=51)
    relayed = merge_updates(first, text_update("b", client_id=52, base=first))
    DocumentUpdate.objects.create(document=document, data=first, author=document.created_by)
    DocumentUpdate.objects.create(document=document, data=relayed, author=other)
    DocumentUpdate.objects.create(document=document, data=text_update("c", client_id=53), author=None)
    DocumentUpdate.objects.create(document=document, data=b"\xff", author=other)  # unreadable: skipped
    migration.owners_from_the_log(apps, None)
    assert selectors.client_owners(document.pk) == {51: document.created_by_id, 52: other.pk}
    migration.owners_from_the_log(apps, None)  # idempotent
    assert DocumentClient.objects.filter(document=document).count() == 2
