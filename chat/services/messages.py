"""Writes to a room's message log: post, edit, delete, react.

Every change takes the room's next version under the room row lock, records
what kind of change it was (`last_change`, so a resuming client gets the right
frame type) and is announced to the room after commit with the message's whole state.
"""

from __future__ import annotations

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from chat.models import ChangeKind, ChatMessage, ChatReaction, ChatRoom, MemberRole
from chat.services import fastpost
from chat.services.base import (
    ChatError,
    RateLimited,
    announce,
    clean_text,
    load_message,
    lock_room,
    require_member,
    require_unarchived,
    role_of,
    take_numbers,
    user_from_row,
)
from chat.services.fastpost import new_message
from chat.services.ratelimit import Slots

MAX_BODY_CHARS = 10_000
MAX_CLIENT_ID_CHARS = 64
MAX_EMOJI_CHARS = 32
MAX_EMOJI_PER_MESSAGE = 50  # distinct emoji on one message
MAX_REACTIONS_PER_USER = 10  # one user's reactions on one message


def _clean_body(body: str) -> str:
    if not isinstance(body, str) or not body.strip():
        raise ChatError("empty_body", "a message needs a body")
    if len(body) > MAX_BODY_CHARS:
        raise ChatError("too_long", f"a message is at most {MAX_BODY_CHARS} characters")
    return clean_text(body, "the message")


def _clean_client_id(client_id: str) -> str:
    if not isinstance(client_id, str) or not client_id or len(client_id) > MAX_CLIENT_ID_CHARS:
        raise ChatError("invalid_client_id", f"client_id must be 1 to {MAX_CLIENT_ID_CHARS} characters")
    return clean_text(client_id, "client_id")


def _clean_emoji(emoji: str) -> str:
    if (
        not isinstance(emoji, str)
        or not 1 <= len(emoji) <= MAX_EMOJI_CHARS
        or any(char.isspace() for char in emoji)
    ):
        raise ChatError("invalid_emoji", f"an emoji is 1 to {MAX_EMOJI_CHARS} characters without spaces")
    return clean_text(emoji, "the emoji")


def _stored(room_id: int, author_id: int, client_id: str) -> ChatMessage | None:
    return ChatMessage.objects.filter(room_id=room_id, author_id=author_id, client_id=client_id).first()


def _check_parent(room_id: int, parent_id: int | None) -> None:
    """Threads are one level deep (like Slack): a reply goes to a live top-level message of the room."""
    if parent_id is None:
        return
    parent = ChatMessage.objects.filter(room_id=room_id, pk=parent_id).only("parent_id", "deleted_at").first()
    if parent is None:
        raise ChatError("unknown_parent", "the message replied to is not in this room")
    if parent.parent_id is not None:
        raise ChatError("invalid", "a reply cannot be replied to: reply in its thread")
    if parent.deleted_at is not None:
        raise ChatError("deleted", "the message replied to was deleted")


def _retried(stored: ChatMessage) -> ChatMessage:
    """A retry: announce the stored message again, in case the first announcement was lost
    (a worker killed between commit and publish). Sockets drop versions they already sent."""
    announce(stored)
    return stored


def _post_in_one_statement(
    room_id: int, author_id: int, client_id: str, body: str
) -> tuple[ChatMessage, bool] | None:
    """The common case in one round trip (see fastpost); None hands over to the general path."""
    with Slots() as slots:  # a failed statement (the database down) gives the slot back
        try:
            slots.take(room_id, author_id)  # before the statement: the row lock is not held meanwhile
        except RateLimited:
            stored = _stored(room_id, author_id, client_id)
            if stored is not None:
                return _retried(stored), False  # a retry is never refused
            raise
        message = fastpost.try_post(room_id, author_id, client_id, body)
        if message is None:
            slots.give_back()  # a retry, or refused: the general path decides
            return None
    announce(message)
    return message, True


def post_message(
    room_id: int, author_id: int, client_id: str, body: str, parent_id: int | None = None
) -> tuple[ChatMessage, bool]:
    """Store a message once per (room, author, client id); returns (message, created).

    A retry of a stored client id returns the stored message before any other rule
    (membership, archive, rate limit) applies: the client only lost the acknowledgement,
    and nothing is counted or stored again.
    """
    client_id = _clean_client_id(client_id)
    body = _clean_body(body)
    if parent_id is None and fastpost.supported():
        posted = _post_in_one_statement(room_id, author_id, client_id, body)
        if posted is not None:
            return posted
    # Slots outside the transaction: a rule broken after counting, or a failed commit, gives it back.
    with Slots() as slots, transaction.atomic():
        # One round trip locks the room and reads the author's role and name. A concurrent
        # retry of the same client id waits here, then finds the stored message.
        locked = lock_room(room_id, member_id=author_id)
        stored = _stored(room_id, author_id, client_id)
        if stored is not None:
            return _retried(stored), False
        # Checked under the lock: a removal or a deletion of the parent that committed first wins.
        if locked.member_role is None:  # type: ignore[attr-defined]
            raise ChatError("not_member", "join the room first")
        _check_parent(room_id, parent_id)
        require_unarchived(locked)
        slots.take(room_id, author_id)
        seq, version = take_numbers(locked, new_message=True)
        author = user_from_row(author_id, locked.member_name)  # type: ignore[attr-defined]
        message = new_message(room_id, seq, version, client_id, author, body, parent_id)
        message.save(force_insert=True)
        if parent_id is not None:
            # The parent's state changes but not its version: its thread's replies carry the news.
            ChatMessage.objects.filter(pk=parent_id).update(reply_count=F("reply_count") + 1)
        announce(message)
    return message, True


def _record_change(room: ChatRoom, message: ChatMessage, kind: ChangeKind, fields: list[str]) -> None:
    """Number the change (room locked), save `fields` with it and announce the new state."""
    _, message.version_seq = take_numbers(room, new_message=False)
    message.last_change = kind
    message.save(update_fields=[*fields, "version_seq", "last_change"])
    announce(message)


def edit_message(room_id: int, message_id: int, editor_id: int, body: str) -> ChatMessage:
    """The author replaces the body; not once deleted, nor in an archived room."""
    with Slots() as slots, transaction.atomic():
        room = lock_room(room_id)
        message = load_message(room_id, message_id)  # as every other writer left it: they wait for us
        if message.author_id != editor_id:
            raise ChatError("forbidden", "only the author can edit a message")
        body = _clean_body(body)
        require_unarchived(room)
        require_member(room_id, editor_id)  # someone who left no longer edits what they wrote there
        slots.take(room_id, editor_id, kind="change")
        if message.deleted_at is not None:
            raise ChatError("deleted", "a deleted message cannot be edited")
        message.body = body
        message.edited_at = timezone.now()
        _record_change(room, message, ChangeKind.EDITED, ["body", "edited_at"])
    return message


def delete_message(room_id: int, message_id: int, actor_id: int) -> ChatMessage:
    """The author or a room owner empties the message; it stays as a tombstone (seq, replies kept).

    Its reactions go with the body. Deleting a deleted message changes nothing.
    """
    with transaction.atomic():
        room = lock_room(room_id)
        message = load_message(room_id, message_id)
        role = role_of(room_id, actor_id)
        if role is None:
            raise ChatError("not_member", "join the room first")
        if message.author_id != actor_id and role != MemberRole.OWNER:
            raise ChatError("forbidden", "only the author or a room owner can delete a message")
        require_unarchived(room)
        if message.deleted_at is not None:
            return message
        ChatReaction.objects.filter(message=message).delete()
        message.body = ""
        message.deleted_at = timezone.now()
        _record_change(room, message, ChangeKind.DELETED, ["body", "deleted_at"])
    return message


def _store_reaction(message: ChatMessage, user_id: int, emoji: str, add: bool) -> bool:
    """Add or remove one reaction; False when there was nothing to do."""
    if add:
        _, created = ChatReaction.objects.get_or_create(message=message, user_id=user_id, emoji=emoji)
        return created
    removed, _ = ChatReaction.objects.filter(message=message, user_id=user_id, emoji=emoji).delete()
    return removed > 0


def _check_reaction_room(message: ChatMessage, user_id: int, emoji: str) -> None:
    """Bound what a message carries: every frame and page repeats its reactions."""
    reactions = ChatReaction.objects.filter(message=message)
    if reactions.filter(user_id=user_id, emoji=emoji).exists():
        return  # already there: a no-op, not a new reaction
    if reactions.filter(user_id=user_id).count() >= MAX_REACTIONS_PER_USER:
        raise ChatError("too_many_reactions", f"at most {MAX_REACTIONS_PER_USER} reactions per person")
    distinct = reactions.values("emoji").distinct()
    if not reactions.filter(emoji=emoji).exists() and distinct.count() >= MAX_EMOJI_PER_MESSAGE:
        raise ChatError("too_many_reactions", f"at most {MAX_EMOJI_PER_MESSAGE} different emoji per message")


def toggle_reaction(room_id: int, message_id: int, user_id: int, emoji: str, add: bool) -> ChatMessage:
    """A member adds or removes their `emoji` on a message: one version and one announcement.

    Adding a reaction already there or removing one that is not is a no-op:
    no version, no event.
    """
    with Slots() as slots, transaction.atomic():
        room = lock_room(room_id)
        message = load_message(room_id, message_id)
        emoji = _clean_emoji(emoji)
        require_member(room_id, user_id)
        require_unarchived(room)
        if message.deleted_at is not None:
            raise ChatError("deleted", "a deleted message cannot be reacted to")
        if add:
            _check_reaction_room(message, user_id, emoji)
        slots.take(room_id, user_id, kind="change")
        if _store_reaction(message, user_id, emoji, add):
            _record_change(room, message, ChangeKind.REACTED, [])
    return message
