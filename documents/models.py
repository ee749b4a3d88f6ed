"""Collaborative documents: membership, the durable update log and its snapshot."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models


class Role(models.TextChoices):
    OWNER = "owner"
    EDITOR = "editor"
    VIEWER = "viewer"


WRITE_ROLES = frozenset({Role.OWNER, Role.EDITOR})


class Document(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    title = models.CharField(max_length=300)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return self.title

    @property
    def room_key(self) -> str:
        return f"doc:{self.pk}"


class DocumentMember(models.Model):
    document = models.ForeignKey(Document, on_delete=models.CASCADE, related_name="members")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="document_memberships"
    )
    role = models.CharField(max_length=10, choices=Role.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["document", "user"], name="unique_document_member")]


class DocumentUpdate(models.Model):
    """One batch of Yjs updates (v1 encoding) as received, with its author.

    Rows are kept after compaction (they are the history); loading reads the
    snapshot plus the rows after `DocumentSnapshot.upto_update_id` only.
    """

    id = models.BigAutoField(primary_key=True)
    document = models.ForeignKey(Document, on_delete=models.CASCADE, related_name="updates")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    data = models.BinaryField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["document", "id"], name="docupdate_doc_id")]


class DocumentSnapshot(models.Model):
    """The merged state of every update up to and including `upto_update_id`."""

    document = models.OneToOneField(
        Document, on_delete=models.CASCADE, primary_key=True, related_name="snapshot"
    )
    data = models.BinaryField()
    upto_update_id = models.BigIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)


class DocumentClient(models.Model):
    """The user who first wrote under a Yjs client id of a document (see collab.engine.client_ids).

    Rooms refuse structs under a client id that another user owns; the history
    uses it to say who wrote what.
    """

    id = models.BigAutoField(primary_key=True)
    document = models.ForeignKey(Document, on_delete=models.CASCADE, related_name="clients")
    client_id = models.BigIntegerField()
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["document", "client_id"], name="unique_document_client")
        ]
