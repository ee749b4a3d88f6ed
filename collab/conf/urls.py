from django.contrib import admin
from django.urls import path, re_path

from collab.conf import views
from collab.conf.api import api

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/", api.urls),
    path("healthz", views.healthz),
    path("readyz", views.readyz),
    path("metrics", views.metrics),
    path("", views.spa),
    re_path(r"^(?:login|register|docs/[^/]+|chat|chat/[^/]+)/?$", views.spa),
]
