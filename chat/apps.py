from django.apps import AppConfig


class ChatConfig(AppConfig):
    name = "chat"

    def ready(self) -> None:
        from chat.selectors import presence_object_of
        from presence.objects import register_object_kind

        register_object_kind("chat", presence_object_of)
