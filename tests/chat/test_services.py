"""The chat log on PostgreSQL: gap-free sequence numbers, idempotent retries, resume."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.db import connection

from chat import selectors, services
from chat.models import ChatMessage, ChatRoom, RoomKind

pytestmark = pytest.mark.django_db


def user(name: str) -> Any:
    return get_user_model().objects.create_user(name, password="x")


def room_with(owner: Any, *members: Any, name: str = "general", kind: str = RoomKind.PUBLIC) -> ChatRoom:
    """A room of `owner` that `members` are in too."""
    room = services.create_room(owner.pk, name, kind)
    for member in members:
        services.add_member(room.pk, owner.pk, member.pk)
    return room


def test_messages_get_consecutive_numbers_and_retries_store_nothing_new() -> None:
    alice = user("alice")
    room = services.create_room(alice.pk, "general")
    first, created = services.post_message(room.pk, alice.pk, "c-1", "hello")
    assert created and first.seq == 1
    again, created = services.post_message(room.pk, alice.pk, "c-1", "hello")
    assert not created and again.pk == first.pk
    second, _ = services.post_message(room.pk, alice.pk, "c-2", "world")
    assert second.seq == 2
    room.refresh_from_db()
    assert room.last_seq == 2
    assert ChatMessage.objects.filter(room=room).count() == 2


def test_edits_and_deletions_take_numbers_and_resume_returns_each_change_once() -> None:
    alice, bob = user("alice"), user("bob")
    room = room_with(alice, bob)
    for index in range(5):
        services.post_message(room.pk, bob.pk, f"b-{index}", f"message {index}")
    seen_up_to = 3
    message_two = ChatMessage.objects.get(room=room, seq=2)
    services.edit_message(message_two.room_id, message_two.pk, bob.pk, "message 2, edited")
    message_four = ChatMessage.objects.get(room=room, seq=4)
    services.delete_message(message_four.room_id, message_four.pk, alice.pk)  # the room owner may delete
    changes = selectors.changes_after(room.pk, seen_up_to)
    assert [(m.seq, m.version_seq) for m in changes] == [(5, 5), (2, 6), (4, 7)]
    room.refresh_from_db()
    assert (room.last_seq, room.last_version) == (5, 7)  # message numbers stay gap-free
    assert changes[1].body == "message 2, edited" and changes[1].edited_at is not None
    assert changes[2].deleted_at is not None and changes[2].body == ""
    assert selectors.changes_after(room.pk, 7) == []


def test_only_authors_edit_and_only_authors_or_owners_delete() -> None:
    alice, bob, carol = user("alice"), user("bob"), user("carol")
    room = room_with(alice, bob, carol)
    message, _ = services.post_message(room.pk, bob.pk, "b-1", "mine")
    with pytest.raises(services.ChatError) as refused:
        services.edit_message(message.room_id, message.pk, carol.pk, "not yours")
    assert refused.value.code == "forbidden"
    with pytest.raises(services.ChatError):
        services.delete_message(message.room_id, message.pk, carol.pk)


@pytest.mark.parametrize(
    ("client_id", "body", "code"),
    [("", "x", "invalid_client_id"), ("c", "   ", "empty_body"), ("c", "x" * 10_001, "too_long")],
)
def test_bad_messages_are_refused_with_a_reason(client_id: str, body: str, code: str) -> None:
    alice = user("alice")
    room = services.create_room(alice.pk, "general")
    with pytest.raises(services.ChatError) as refused:
        services.post_message(room.pk, alice.pk, client_id, body)
    assert refused.value.code == code
    room.refresh_from_db()
    assert (room.last_seq, room.last_version) == (0, 0)


def test_history_pages_in_both_directions() -> None:
    alice = user("alice")
    room = services.create_room(alice.pk, "general")
    for index in range(10):
        services.post_message(room.pk, alice.pk, f"a-{index}", str(index))
    assert [m.seq for m in selectors.history_before(room.pk, None, limit=3)] == [8, 9, 10]
    assert [m.seq for m in selectors.history_before(room.pk, 8, limit=3)] == [5, 6, 7]
    assert [m.seq for m in selectors.history_after(room.pk, 7, limit=10)] == [8, 9, 10]


@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_never_leave_a_gap_or_a_duplicate() -> None:
    alice, bob = user("alice"), user("bob")
    room = ChatRoom.objects.get(pk=room_with(alice, bob, name="busy").pk)
    errors: list[BaseException] = []

    def send(author: Any, prefix: str) -> None:
        try:
            for index in range(15):
                # every message is sent twice, as a client retrying after a lost acknowledgement
                services.post_message(room.pk, author.pk, f"{prefix}-{index}", "x")
                services.post_message(room.pk, author.pk, f"{prefix}-{index}", "x")
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


# -- who may post ---------------------------------------------------------------


def test_non_members_cannot_post_and_archived_rooms_take_no_messages_but_retries() -> None:
    alice, bob = user("alice"), user("bob")
    room = room_with(alice)
    with pytest.raises(services.ChatError) as refused:
        services.post_message(room.pk, bob.pk, "b-1", "let me in")
    assert refused.value.code == "not_member"
    stored, _ = services.post_message(room.pk, alice.pk, "a-1", "before the archive")
    services.set_archived(room.pk, alice.pk, True)
    with pytest.raises(services.ChatError) as refused:
        services.post_message(room.pk, alice.pk, "a-2", "after")
    assert refused.value.code == "archived"
    again, created = services.post_message(room.pk, alice.pk, "a-1", "before the archive")
    assert (again.pk, created) == (stored.pk, False)  # a lost acknowledgement is still answered
    services.set_archived(room.pk, alice.pk, False)
    assert services.post_message(room.pk, alice.pk, "a-2", "after")[0].seq == 2
    room.refresh_from_db()
    assert (room.last_seq, room.last_version) == (2, 2)


# -- rate limit -------------------------------------------------------------------


def refused_code(call: Any, *args: Any) -> str:
    with pytest.raises(services.ChatError) as refused:
        call(*args)
    return refused.value.code


def test_the_rate_limit_counts_per_user_per_room_and_never_refuses_a_retry(settings: Any) -> None:
    settings.COLLAB_CHAT_RATE = "3/60"
    alice, bob = user("alice"), user("bob")
    room, other_room = room_with(alice, bob), room_with(alice, bob, name="other")
    first = services.post_message(room.pk, alice.pk, "a-0", "0")[0]
    for _ in range(5):  # retries (lost acknowledgements) are free
        assert services.post_message(room.pk, alice.pk, "a-0", "0") == (first, False)
    services.post_message(room.pk, alice.pk, "a-1", "1")
    services.post_message(room.pk, alice.pk, "a-2", "2")
    with pytest.raises(services.RateLimited) as limited:
        services.post_message(room.pk, alice.pk, "a-3", "3")
    assert limited.value.code == "rate_limited"
    assert 0 < limited.value.retry_after <= 60
    assert isinstance(limited.value, services.ChatError)
    # a retry of a stored message is answered even while limited, and nothing new is stored
    assert services.post_message(room.pk, alice.pk, "a-2", "2")[1] is False
    room.refresh_from_db()
    assert (room.last_seq, room.last_version) == (3, 3)
    assert not ChatMessage.objects.filter(client_id="a-3").exists()
    # other people in the room, and the same person in other rooms, are not affected
    assert services.post_message(room.pk, bob.pk, "b-0", "bob")[1] is True
    assert services.post_message(other_room.pk, alice.pk, "a-0", "elsewhere")[1] is True


def test_the_rate_limit_lets_messages_through_again_after_retry_after(settings: Any) -> None:
    import time

    settings.COLLAB_CHAT_RATE = "2/1"
    alice = user("alice")
    room = room_with(alice)
    services.post_message(room.pk, alice.pk, "a-0", "0")
    services.post_message(room.pk, alice.pk, "a-1", "1")
    with pytest.raises(services.RateLimited) as limited:
        services.post_message(room.pk, alice.pk, "a-2", "2")
    assert 0 < limited.value.retry_after <= 1
    time.sleep(limited.value.retry_after + 0.05)
    assert services.post_message(room.pk, alice.pk, "a-2", "2")[0].seq == 3


def test_a_malformed_rate_setting_is_a_configuration_error(settings: Any) -> None:
    from django.core.exceptions import ImproperlyConfigured

    settings.COLLAB_CHAT_RATE = "thirty"
    alice = user("alice")
    with pytest.raises(ImproperlyConfigured):
        services.post_message(room_with(alice).pk, alice.pk, "a-0", "0")


# -- threads ----------------------------------------------------------------------


def test_replies_count_on_their_parent_without_changing_its_version() -> None:
    alice, bob = user("alice"), user("bob")
    room = room_with(alice, bob)
    parent, _ = services.post_message(room.pk, alice.pk, "a-0", "question")
    services.post_message(room.pk, bob.pk, "b-0", "unrelated")
    first, _ = services.post_message(room.pk, bob.pk, "b-1", "answer", parent.pk)
    services.post_message(room.pk, alice.pk, "a-1", "thanks", parent.pk)
    services.post_message(room.pk, alice.pk, "a-1", "thanks", parent.pk)  # a retry counts once
    parent.refresh_from_db()
    assert parent.reply_count == 2
    assert (parent.version_seq, parent.last_change) == (1, "created")  # not re-sent on resume
    room.refresh_from_db()
    assert (room.last_seq, room.last_version) == (4, 4)
    assert [m.body for m in selectors.thread(room.pk, parent.pk)] == ["answer", "thanks"]
    assert [m.body for m in selectors.thread(room.pk, parent.pk, after_seq=first.seq)] == ["thanks"]
    assert [m.body for m in selectors.thread(room.pk, parent.pk, limit=1)] == ["answer"]
    assert first.parent_id == parent.pk


def test_replies_go_to_a_live_top_level_message_of_the_same_room() -> None:
    alice = user("alice")
    room, other_room = room_with(alice), room_with(alice, name="other")
    parent, _ = services.post_message(room.pk, alice.pk, "a-0", "question")
    reply, _ = services.post_message(room.pk, alice.pk, "a-1", "answer", parent.pk)
    elsewhere, _ = services.post_message(other_room.pk, alice.pk, "o-0", "elsewhere")
    gone, _ = services.post_message(room.pk, alice.pk, "a-2", "gone")
    services.delete_message(gone.room_id, gone.pk, alice.pk)
    post = services.post_message
    assert refused_code(post, room.pk, alice.pk, "x-1", "x", reply.pk) == "invalid"  # threads are one level
    assert refused_code(post, room.pk, alice.pk, "x-2", "x", elsewhere.pk) == "unknown_parent"
    assert refused_code(post, room.pk, alice.pk, "x-3", "x", 10**9) == "unknown_parent"
    assert refused_code(post, room.pk, alice.pk, "x-4", "x", gone.pk) == "deleted"
    room.refresh_from_db()
    assert (room.last_seq, room.last_version) == (3, 4)  # nothing refused took a number
