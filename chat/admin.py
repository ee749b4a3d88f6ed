"""Chat in the Django admin.

Messages and reactions are shown read-only: a change made here would skip the
room's version numbers and the live events (chat.services), so clients would
never learn of it. Moderation goes through the API/websocket (delete as owner).
"""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from chat.models import ChatMember, ChatMessage, ChatReaction, ChatRoom


class ChatMemberInline(admin.TabularInline[ChatMember, ChatRoom]):
    model = ChatMember
    extra = 0
    raw_id_fields = ("user",)


@admin.register(ChatRoom)
class ChatRoomAdmin(admin.ModelAdmin[ChatRoom]):
    list_display = ("name", "kind", "last_seq", "last_version", "created_at", "archived_at")
    list_filter = ("kind",)
    search_fields = ("name",)
    readonly_fields = ("direct_key", "last_seq", "last_version")
    inlines = [ChatMemberInline]


class ChatReactionInline(admin.TabularInline[ChatReaction, ChatMessage]):
    model = ChatReaction
    extra = 0
    fields = ("emoji", "user", "created_at")
    readonly_fields = fields

    # `object`: the stubs type the inline's obj as the parent message here and as the reaction in the base.
    def has_add_permission(self, request: HttpRequest, obj: object | None = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object | None = None) -> bool:
        return False


@admin.register(ChatMessage)
class ChatMessageAdmin(admin.ModelAdmin[ChatMessage]):
    list_display = ("room", "seq", "author", "created_at", "last_change", "reply_count", "deleted_at")
    list_filter = ("last_change",)
    list_select_related = ("room", "author")
    search_fields = ("body", "client_id")
    inlines = [ChatReactionInline]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: ChatMessage | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: ChatMessage | None = None) -> bool:
        return False
