"""Small HTTP middlewares."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from collab import views

# Probes and Prometheus address a worker by pod IP or container name, which is
# not (and should not be) in ALLOWED_HOSTS: answer them before host validation.
PROBE_VIEWS: dict[str, Callable[[HttpRequest], HttpResponse]] = {
    "/healthz": views.healthz,
    "/readyz": views.readyz,
    "/metrics": views.metrics,
}


class ProbeMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        view = PROBE_VIEWS.get(request.path_info)
        if view is not None and request.method in ("GET", "HEAD"):
            return view(request)
        return self.get_response(request)
