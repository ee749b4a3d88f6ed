"""Small HTTP middlewares."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from typing import Any

from django.core.signals import got_request_exception
from django.http import HttpRequest, HttpResponse, HttpResponseBase

from collab.accounts import sessions
from collab.conf import views
from collab.realtime import errors

# Probes and Prometheus address a worker by pod IP or container name, which is
# not (and should not be) in ALLOWED_HOSTS: answer them before host validation.
PROBE_VIEWS: dict[str, Callable[[HttpRequest], HttpResponse]] = {
    "/healthz": views.healthz,
    "/readyz": views.readyz,
    "/metrics": views.metrics,
}

logger = logging.getLogger(__name__)

API_PREFIX = "/api/"
# Headers of an error response that stay meaningful once its body is JSON.
KEPT_HEADERS = ("Allow", "WWW-Authenticate", "Retry-After")


class ProbeMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        view = PROBE_VIEWS.get(request.path_info)
        if view is not None and request.method in ("GET", "HEAD"):
            return view(request)
        return self.get_response(request)


def _remember_exception(sender: Any, request: HttpRequest | None = None, **kwargs: Any) -> None:
    """Keep the exception Django is about to turn into an error page on the request.

    Django sends this signal from its exception handling, with the exception current
    (also under ASGI, where asgiref re-raises it in the handling thread).
    """
    if request is not None:
        request.collab_exception = sys.exc_info()[1]  # type: ignore[attr-defined]


class ApiErrorMiddleware:
    """Under /api/ every error is JSON `{"detail", "code"}`, never an HTML page.

    ninja's exception handlers (collab/conf/api.py) cover the views; this covers the rest:
    unknown paths (Django's 404), exceptions in other middleware or in ninja itself
    (Django's 500, or its debug pages with DEBUG on), and Django's own 400/403 pages.
    It runs right after ProbeMiddleware, outside every other middleware, so it sees their
    error responses; the exception behind a 500 comes from Django's got_request_exception
    signal, so a database outage is answered 503 database_unavailable (retry), not 500.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response
        got_request_exception.connect(_remember_exception, dispatch_uid="collab.api_errors")

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        if response.status_code < 400 or not request.path_info.startswith(API_PREFIX):
            return response
        if response.streaming or response.get("Content-Type", "").startswith("application/json"):
            return response
        exc: BaseException | None = getattr(request, "collab_exception", None)
        if exc is not None and response.status_code >= 500:
            replacement: HttpResponseBase = errors.exception_response(request, exc, log=False)
        else:
            status = response.status_code
            replacement = errors.json_error(status, errors.default_detail(status))
        for name in KEPT_HEADERS:
            if name in response and name not in replacement:
                replacement[name] = response[name]
        return replacement


class SessionActivityMiddleware:
    """Keeps the record of the request's browser session current (collab.accounts.sessions):
    `last_seen_at` at most every few minutes. Requests without a session cookie cost nothing."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        from django.conf import settings

        if settings.SESSION_COOKIE_NAME in request.COOKIES:
            try:
                sessions.touch(request)
            except Exception as exc:
                if not errors.is_database_unavailable(exc):
                    raise
                # The database is down: the request fails (503) where it needs it, not here,
                # and pages that do not need it are still served.
                logger.debug("session activity not recorded: the database is unavailable", exc_info=True)
        return self.get_response(request)
