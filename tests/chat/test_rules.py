"""Rules checked under the room lock: who may still edit, delete and react; bounded reactions;
text the database cannot store; a budget for edits and reactions."""

from __future__ import annotations

from typing import Any

import pytest

from chat import services
from chat.models import ChatMessage, RoomKind
from chat.services.messages import MAX_EMOJI_PER_MESSAGE, MAX_REACTIONS_PER_USER
from tests.chat.test_services import refused_code, room_with, user

pytestmark = pytest.mark.django_db


def test_someone_who_left_can_no_longer_edit_delete_or_react() -> None:
    alice, bob = user("alice"), user("bob")
    room = room_with(alice, bob)
    message, _ = services.post_message(room.pk, bob.pk, "b-1", "mine")
    services.leave_room(room.pk, bob.pk)
    assert refused_code(services.edit_message, message.room_id, message.pk, bob.pk, "changed") == "not_member"
    assert refused_code(services.delete_message, message.room_id, message.pk, bob.pk) == "not_member"
    assert (
        refused_code(services.toggle_reaction, message.room_id, message.pk, bob.pk, "👍", True)
        == "not_member"
    )
    message.refresh_from_db()
    assert (message.body, message.deleted_at, message.version_seq) == ("mine", None, 1)


def test_archived_rooms_are_read_only_for_deletions_too() -> None:
    alice = user("alice")
    room = room_with(alice)
    message, _ = services.post_message(room.pk, alice.pk, "a-1", "keep me")
    services.set_archived(room.pk, alice.pk, True)
    assert refused_code(services.delete_message, message.room_id, message.pk, alice.pk) == "archived"
    message.refresh_from_db()
    assert message.deleted_at is None


def test_a_reply_to_a_parent_deleted_meanwhile_is_refused() -> None:
    alice, bob = user("alice"), user("bob")
    room = room_with(alice, bob)
    parent, _ = services.post_message(room.pk, alice.pk, "a-1", "thread root")
    services.delete_message(parent.room_id, parent.pk, alice.pk)
    assert refused_code(services.post_message, room.pk, bob.pk, "b-1", "late reply", parent.pk) == "deleted"
    assert ChatMessage.objects.filter(room=room).count() == 1


def test_reactions_per_person_and_per_message_are_bounded() -> None:
    alice, bob = user("alice"), user("bob")
    room = room_with(alice, bob)
    message, _ = services.post_message(room.pk, alice.pk, "a-1", "react to me")
    for index in range(MAX_REACTIONS_PER_USER):
        services.toggle_reaction(message.room_id, message.pk, bob.pk, f"e{index}", True)
    assert (
        refused_code(services.toggle_reaction, message.room_id, message.pk, bob.pk, "one-more", True)
        == "too_many_reactions"
    )
    services.toggle_reaction(
        message.room_id, message.pk, bob.pk, "e0", True
    )  # one already there is a no-op, not a new one
    helpers = [user(f"helper{index}") for index in range(5)]
    for helper in helpers:
        services.join_room(room.pk, helper.pk)
    added = MAX_REACTIONS_PER_USER
    for helper in helpers:
        for index in range(MAX_REACTIONS_PER_USER):
            if added < MAX_EMOJI_PER_MESSAGE:
                services.toggle_reaction(
                    message.room_id, message.pk, helper.pk, f"h{helper.pk}-{index}", True
                )
                added += 1
    assert (
        refused_code(services.toggle_reaction, message.room_id, message.pk, alice.pk, "fresh", True)
        == "too_many_reactions"
    )
    services.toggle_reaction(
        message.room_id, message.pk, alice.pk, "e1", True
    )  # an emoji already on it is still fine


@pytest.mark.parametrize("bad", ["nul\x00byte", "lone \ud800 surrogate"])
def test_text_the_database_cannot_store_is_invalid_not_a_crash(bad: str) -> None:
    alice = user("alice")
    room = room_with(alice)
    assert refused_code(services.post_message, room.pk, alice.pk, "a-1", bad) == "invalid"
    assert refused_code(services.post_message, room.pk, alice.pk, bad, "fine body") == "invalid"
    assert refused_code(services.create_room, alice.pk, bad, RoomKind.PUBLIC) == "invalid"
    assert ChatMessage.objects.count() == 0


def test_edits_and_reactions_have_their_own_budget(settings: Any) -> None:
    settings.COLLAB_CHAT_RATE = "3/60"
    alice = user("alice")
    room = room_with(alice)
    message, _ = services.post_message(room.pk, alice.pk, "a-1", "v0")
    for index in range(3):
        services.edit_message(message.room_id, message.pk, alice.pk, f"v{index + 1}")
    assert refused_code(services.edit_message, message.room_id, message.pk, alice.pk, "v4") == "rate_limited"
    services.post_message(room.pk, alice.pk, "a-2", "messages are counted apart")
    message.refresh_from_db()
    assert message.body == "v3"
