"""Writes to chat rooms. Every change of a room's log takes the room's next numbers under its row lock.

Services take ids (`room_id`, `message_id`, `actor_id`/`user_id`) and load and lock what they
decide on themselves; an unknown room, message or user is `ChatError("not_found")`.

`base`: errors, the lock, events; `messages`: post/edit/delete/react; `rooms`:
rooms, direct rooms, read markers; `members`: who is in a room; `ratelimit`.
"""

from chat.services.base import ChatError, RateLimited
from chat.services.members import add_member, join_room, leave_room, remove_member
from chat.services.messages import (
    MAX_BODY_CHARS,
    MAX_CLIENT_ID_CHARS,
    MAX_EMOJI_CHARS,
    delete_message,
    edit_message,
    post_message,
    toggle_reaction,
)
from chat.services.rooms import (
    MAX_DIRECT_OTHERS,
    create_room,
    mark_read,
    open_direct,
    rename_room,
    set_archived,
)

__all__ = [
    "MAX_BODY_CHARS",
    "MAX_CLIENT_ID_CHARS",
    "MAX_DIRECT_OTHERS",
    "MAX_EMOJI_CHARS",
    "ChatError",
    "RateLimited",
    "add_member",
    "create_room",
    "delete_message",
    "edit_message",
    "join_room",
    "leave_room",
    "mark_read",
    "open_direct",
    "post_message",
    "remove_member",
    "rename_room",
    "set_archived",
    "toggle_reaction",
]
