"""The one-statement post (PostgreSQL): same guarantees as the general path under contention."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.db import connection

from chat import services
from chat.models import ChatMessage, ChatRoom
from chat.services import fastpost
from tests.chat.test_services import room_with, user


@pytest.mark.django_db(transaction=True)
def test_simultaneous_retries_of_one_client_id_store_one_message_and_leave_no_gap() -> None:
    assert fastpost.supported()
    alice, bob = user("alice"), user("bob")
    room = ChatRoom.objects.get(pk=room_with(alice, bob, name="race").pk)
    ids = [f"same-{index}" for index in range(20)]
    barrier = threading.Barrier(4)
    seqs: dict[str, set[int]] = {client_id: set() for client_id in ids}
    errors: list[BaseException] = []

    def send() -> None:
        try:
            for client_id in ids:
                barrier.wait(timeout=10)  # four devices send the same message at the same moment
                message, _ = services.post_message(room.pk, alice.pk, client_id, "hello")
                seqs[client_id].add(message.seq)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=send) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert all(len(found) == 1 for found in seqs.values())  # every device got the same message back
    stored = list(ChatMessage.objects.filter(room=room).order_by("seq").values_list("seq", "client_id"))
    assert stored == [(index + 1, client_id) for index, client_id in enumerate(ids)]
    room.refresh_from_db()
    assert (room.last_seq, room.last_version) == (20, 20)


@pytest.mark.django_db
def test_retries_do_not_use_up_the_rate_budget(settings: Any) -> None:
    settings.COLLAB_CHAT_RATE = "3/60"
    alice = user("alice")
    room = room_with(alice)
    services.post_message(room.pk, alice.pk, "a-1", "first")
    for _ in range(5):
        services.post_message(room.pk, alice.pk, "a-1", "first")  # the acknowledgement keeps getting lost
    services.post_message(room.pk, alice.pk, "a-2", "second")
    services.post_message(room.pk, alice.pk, "a-3", "third")
    assert list(ChatMessage.objects.filter(room=room).values_list("seq", flat=True)) == [1, 2, 3]


@pytest.mark.django_db
def test_the_fast_path_hands_refusals_to_the_general_rules() -> None:
    alice, eve = user("alice"), user("eve")
    room = room_with(alice)
    assert fastpost.try_post(room.pk, eve.pk, "e-1", "let me in") is None
    services.set_archived(room.pk, alice.pk, True)
    assert fastpost.try_post(room.pk, alice.pk, "a-1", "archived") is None
    assert fastpost.try_post(999_999, alice.pk, "a-2", "nowhere") is None
    assert ChatMessage.objects.count() == 0
    room.refresh_from_db()
    assert (room.last_seq, room.last_version) == (0, 0)
