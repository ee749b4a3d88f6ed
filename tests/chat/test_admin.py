"""The chat admin pages render, and messages cannot be changed there (it would skip versions and events)."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from chat import services
from tests.chat.test_services import room_with, user

pytestmark = pytest.mark.django_db


def test_admin_pages_render_and_messages_are_read_only() -> None:
    alice = user("alice")
    room = room_with(alice)
    message, _ = services.post_message(room.pk, alice.pk, "a-0", "hello")
    services.toggle_reaction(message.room_id, message.pk, alice.pk, "👍", add=True)
    admin = get_user_model().objects.create_superuser("root", password="x")
    client = Client()
    client.force_login(admin)
    for url in (
        "/admin/chat/chatroom/",
        f"/admin/chat/chatroom/{room.pk}/change/",
        "/admin/chat/chatmessage/",
        f"/admin/chat/chatmessage/{message.pk}/change/",
    ):
        assert client.get(url).status_code == 200, url
    assert client.get("/admin/chat/chatmessage/add/").status_code == 403
    posted = client.post(f"/admin/chat/chatmessage/{message.pk}/change/", {"body": "changed"})
    assert posted.status_code == 403
    message.refresh_from_db()
    assert message.body == "hello"
