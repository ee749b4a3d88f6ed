from django.apps import AppConfig


class DocumentsConfig(AppConfig):
    name = "documents"

    def ready(self) -> None:
        from collab.engine.kinds import room_kinds
        from documents.consumers import DocumentKind
        from documents.selectors import presence_object_of
        from presence.objects import register_object_kind

        register_object_kind("doc", presence_object_of)
        room_kinds.register(DocumentKind())
