"""The document room kind's access rules: one socket at a time, many at connect, the watch."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from django.contrib.auth import get_user_model

from documents import services
from documents.consumers import DELETED, NO_ACCESS, UNKNOWN, DocumentKind

pytestmark = pytest.mark.django_db


def test_access_for_many_sockets_at_once_agrees_with_one_at_a_time(
    django_assert_max_num_queries: Any,
) -> None:
    users = get_user_model().objects
    owner, editor, viewer, outsider = (users.create_user(name, password="x") for name in "oevx")
    document = services.create_document(owner.pk, "Doc")
    services.set_member(document.pk, "e", "editor")
    services.set_member(document.pk, "v", "viewer")
    gone = uuid.uuid4()
    subjects = [
        (document.pk, owner.pk),
        (document.pk, editor.pk),
        (document.pk, viewer.pk),
        (document.pk, outsider.pk),
        (gone, owner.pk),
    ]
    kind = DocumentKind()
    with django_assert_max_num_queries(2):  # the roles, then whether the rest exist
        many = kind.access_many(subjects)
    assert many == [True, True, False, NO_ACCESS, UNKNOWN]
    assert many == [kind.access(document_id, user_id) for document_id, user_id in subjects]
    with django_assert_max_num_queries(1):  # all of them members: no existence query
        assert kind.access_many(subjects[:3]) == [True, True, False]
    # The watch of open sockets tells a deleted document from one never known.
    assert kind.verdicts(subjects)[-1] == DELETED
