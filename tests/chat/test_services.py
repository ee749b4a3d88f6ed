"""The chat log on PostgreSQL: gap-free sequence numbers, idempotent retries, resume."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.db import connection

from chat import selectors, services
from chat.models import ChatMessage, ChatRoom

pytestmark = pytest.mark.django_db


def user(name: str) -> Any:
    return get_user_model().objects.create_user(name, password="x")


def test_messages_get_consecutive_numbers_and_retries_store_nothing_new() -> None:
    alice = user("alice")
    room = services.create_room(alice, "general")
    first, created = services.post_message(room, alice, "c-1", "hello")
    assert created and first.seq == 1
    again, created = services.post_message(room, alice, "c-1", "hello")
    assert not created and again.pk == first.pk
    second, _ = services.post_message(room, alice, "c-2", "world")
    assert second.seq == 2
    room.refresh_from_db()
    assert room.last_seq == 2
    assert ChatMessage.objects.filter(room=room).count() == 2


def test_edits_and_deletions_take_numbers_and_resume_returns_each_change_once() -> None:
    alice, bob = user("alice"), user("bob")
    room = services.create_room(alice, "general")
    for index in range(5):
        services.post_message(room, bob, f"b-{index}", f"message {index}")
    seen_up_to = 3
    message_two = ChatMessage.objects.get(room=room, seq=2)
    services.edit_message(message_two, bob, "message 2, edited")
    message_four = ChatMessage.objects.get(room=room, seq=4)
    services.delete_message(message_four, alice)  # the room owner may delete
    changes = selectors.changes_after(room.pk, seen_up_to)
    assert [(m.seq, m.version_seq) for m in changes] == [(5, 5), (2, 6), (4, 7)]
    room.refresh_from_db()
    assert (room.last_seq, room.last_version) == (5, 7)  # message numbers stay gap-free
    assert changes[1].body == "message 2, edited" and changes[1].edited_at is not None
    assert changes[2].deleted_at is not None and changes[2].body == ""
    assert selectors.changes_after(room.pk, 7) == []


def test_only_authors_edit_and_only_authors_or_owners_delete() -> None:
    alice, bob, carol = user("alice"), user("bob"), user("carol")
    room = services.create_room(alice, "general")
    message, _ = services.post_message(room, bob, "b-1", "mine")
    with pytest.raises(services.ChatError) as refused:
        services.edit_message(message, carol, "not yours")
    assert refused.value.code == "forbidden"
    with pytest.raises(services.ChatError):
        services.delete_message(message, carol)


@pytest.mark.parametrize(
    ("client_id", "body", "code"),
    [("", "x", "invalid_client_id"), ("c", "   ", "empty_body"), ("c", "x" * 10_001, "too_long")],
)
def test_bad_messages_are_refused_with_a_reason(client_id: str, body: str, code: str) -> None:
    alice = user("alice")
    room = services.create_room(alice, "general")
    with pytest.raises(services.ChatError) as refused:
        services.post_message(room, alice, client_id, body)
    assert refused.value.code == code
    room.refresh_from_db()
    assert (room.last_seq, room.last_version) == (0, 0)


def test_history_pages_in_both_directions() -> None:
    alice = user("alice")
    room = services.create_room(alice, "general")
    for index in range(10):
        services.post_message(room, alice, f"a-{index}", str(index))
    assert [m.seq for m in selectors.history_before(room.pk, None, limit=3)] == [8, 9, 10]
    assert [m.seq for m in selectors.history_before(room.pk, 8, limit=3)] == [5, 6, 7]
    assert [m.seq for m in selectors.history_after(room.pk, 7, limit=10)] == [8, 9, 10]


@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_never_leave_a_gap_or_a_duplicate() -> None:
    alice, bob = user("alice"), user("bob")
    room = ChatRoom.objects.get(pk=services.create_room(alice, "busy").pk)
    errors: list[BaseException] = []

    def send(author: Any, prefix: str) -> None:
        try:
            for index in range(15):
                # every message is sent twice, as a client retrying after a lost acknowledgement
                services.post_message(room, author, f"{prefix}-{index}", "x")
                services.post_message(room, author, f"{prefix}-{index}", "x")
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=send, args=(author, author.username)) for author in (alice, bob)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    seqs = sorted(ChatMessage.objects.filter(room=room).values_list("seq", flat=True))
    assert seqs == list(range(1, 31))
