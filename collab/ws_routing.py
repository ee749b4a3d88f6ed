from django.urls import re_path

from documents.consumers import DocumentConsumer

websocket_urlpatterns = [
    re_path(r"^ws/docs/(?P<document_id>[^/?]+)/?$", DocumentConsumer.as_asgi()),
]
