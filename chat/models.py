"""Chat rooms and their server-sequenced message log.

Two gap-free, strictly increasing numbers per room, both taken under a lock on
the room row in the transaction that stores the change: `seq` numbers the
messages (1, 2, 3 ... with no holes), `version` numbers every change to the log
(a new message, an edit, a deletion). A message keeps its `seq`, the version it
was created at (`created_version`) and the version of its latest change
(`version_seq`), so a client that has every change up to version N resumes with
the rows whose `version_seq` is above N, in that order, each exactly once.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models


class RoomKind(models.TextChoices):
    PUBLIC = "public"
    PRIVATE = "private"
    DIRECT = "direct"


class MemberRole(models.TextChoices):
    OWNER = "owner"
    MEMBER = "member"


class ChatRoom(models.Model):
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=10, choices=RoomKind.choices, default=RoomKind.PUBLIC)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    archived_at = models.DateTimeField(null=True, blank=True)
    # Direct messages: the sorted member ids ("3,7,12"), so one set of people has one room.
    direct_key = models.CharField(max_length=200, null=True, blank=True, unique=True)
    last_seq = models.BigIntegerField(default=0)
    last_version = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return self.name


class ChatMember(models.Model):
    room = models.ForeignKey(ChatRoom, on_delete=models.CASCADE, related_name="members")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="chat_memberships"
    )
    role = models.CharField(max_length=10, choices=MemberRole.choices, default=MemberRole.MEMBER)
    last_read_seq = models.BigIntegerField(default=0)
    joined_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["room", "user"], name="unique_chat_member")]


class ChangeKind(models.TextChoices):
    CREATED = "created"
    EDITED = "edited"
    DELETED = "deleted"
    REACTED = "reacted"


class ChatMessage(models.Model):
    room = models.ForeignKey(ChatRoom, on_delete=models.CASCADE, related_name="messages")
    seq = models.BigIntegerField()
    created_version = models.BigIntegerField()
    version_seq = models.BigIntegerField()
    client_id = models.CharField(max_length=64)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    body = models.TextField()
    parent = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="replies"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    edited_at = models.DateTimeField(null=True, blank=True)
    deleted_at = models.DateTimeField(null=True, blank=True)
    # What the change numbered `version_seq` was, so a resuming client gets the right frame type.
    last_change = models.CharField(max_length=10, choices=ChangeKind.choices, default=ChangeKind.CREATED)
    reply_count = models.IntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["room", "seq"], name="unique_chat_message_seq"),
            models.UniqueConstraint(fields=["room", "version_seq"], name="unique_chat_message_version"),
            # A retry of the same client id can never store a second message.
            models.UniqueConstraint(fields=["room", "author", "client_id"], name="unique_chat_client_id"),
        ]


class ChatReaction(models.Model):
    message = models.ForeignKey(ChatMessage, on_delete=models.CASCADE, related_name="reactions")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    emoji = models.CharField(max_length=32)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["message", "user", "emoji"], name="unique_chat_reaction")
        ]
