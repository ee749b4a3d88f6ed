from django.contrib import admin
from django.urls import path, re_path

from collab.conf import views
from collab.conf.api import api

# The single-page app's routes (frontend/): each answers its index.html.
SPA_ROUTES = (
    r"^(?:"
    r"login|register|forgot-password|reset-password/[^/]+/[^/]+"
    r"|settings|settings/[^/]+|docs/[^/]+|chat|chat/[^/]+"
    r")/?$"
)
# Everything else that is not the API, static files or the admin: the app, with status 404.
NOT_SPA = r"(?:api|static|media|admin)(?:/|$)"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/", api.urls),
    path("healthz", views.healthz),
    path("readyz", views.readyz),
    path("metrics", views.metrics),
    path("", views.spa),
    re_path(SPA_ROUTES, views.spa),
    re_path(rf"^(?!{NOT_SPA}).*$", views.spa_not_found),
]
