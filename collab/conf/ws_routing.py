from channels.generic.websocket import AsyncWebsocketConsumer
from django.urls import re_path

from chat.consumers import ChatConsumer
from chat.inbox import InboxConsumer
from collab.engine.kinds import room_kinds
from collab.realtime.close_codes import CloseCode


class UnknownPathConsumer(AsyncWebsocketConsumer):
    """Any other websocket path: a clear 4404 rather than a dropped handshake."""

    channel_layer_alias = "__no_layer_per_connection__"

    async def connect(self) -> None:
        await self.accept()
        await self.close(code=CloseCode.NOT_FOUND)


websocket_urlpatterns = [
    *room_kinds.routes(),  # documents (ws/docs/{id}) and every other registered room kind
    re_path(r"^ws/chat/?$", InboxConsumer.as_asgi()),
    re_path(r"^ws/chat/(?P<room_id>[^/?]+)/?$", ChatConsumer.as_asgi()),
    re_path(r"", UnknownPathConsumer.as_asgi()),
]
