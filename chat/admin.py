from django.contrib import admin

from chat.models import ChatMember, ChatRoom


class ChatMemberInline(admin.TabularInline[ChatMember, ChatRoom]):
    model = ChatMember
    extra = 0


@admin.register(ChatRoom)
class ChatRoomAdmin(admin.ModelAdmin[ChatRoom]):
    list_display = ("name", "kind", "last_seq", "created_at", "archived_at")
    search_fields = ("name",)
    inlines = [ChatMemberInline]
