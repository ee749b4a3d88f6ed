"""Where a reconnecting client resumes: its last message `seq` or its last version."""

from __future__ import annotations

from chat.models import ChatMessage, ChatRoom


def version_for_seq(room_id: int, seq: int) -> int:
    """The log version a client holding every message up to `seq` has seen (at least).

    It saw message `seq` arrive, so it holds every change up to the version that
    created it; edits made later to older messages are after that version and are sent.
    """
    if seq <= 0:
        return 0
    created = (
        ChatMessage.objects.filter(room_id=room_id, seq=seq).values_list("created_version", flat=True).first()
    )
    if created is not None:
        return int(created)
    # A seq the room never reached: the client is ahead of us (e.g. a restored backup); send nothing old.
    last = ChatRoom.objects.filter(pk=room_id).values_list("last_version", flat=True).first()
    return int(last or 0)
