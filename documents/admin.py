from django.contrib import admin

from documents.models import Document, DocumentMember


class MemberInline(admin.TabularInline[DocumentMember, Document]):
    model = DocumentMember
    extra = 0


@admin.register(Document)
class DocumentAdmin(admin.ModelAdmin[Document]):
    list_display = ("title", "id", "created_by", "updated_at")
    search_fields = ("title",)
    inlines = [MemberInline]
