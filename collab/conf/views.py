"""Non-API HTTP views: the single-page app, health and metrics."""

from __future__ import annotations

import contextlib
import functools
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, wait

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import ensure_csrf_cookie
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest


def _index(status: int) -> HttpResponse:
    index = settings.FRONTEND_DIST / "index.html"
    if not index.is_file():
        if status == 404:
            return HttpResponse("Not found.", status=404, content_type="text/plain")
        return HttpResponse(
            "The front end is not built: run `cd frontend && npm ci && npm run build`.",
            status=503,
            content_type="text/plain",
        )
    return HttpResponse(index.read_bytes(), status=status, content_type="text/html; charset=utf-8")


@ensure_csrf_cookie
def spa(request: HttpRequest, **_: str) -> HttpResponse:
    """A route of the single-page app: its index.html."""
    return _index(200)


@ensure_csrf_cookie
def spa_not_found(request: HttpRequest, **_: str) -> HttpResponse:
    """Any other path outside /api/, /static/ and /admin/: the app's index.html with status 404
    for GET (the app shows its own "page not found"), a plain 404 for other methods."""
    if request.method not in ("GET", "HEAD"):
        return HttpResponse("Not found.", status=404, content_type="text/plain")
    return _index(404)


def healthz(request: HttpRequest) -> HttpResponse:
    return JsonResponse({"status": "ok"})


# Probes have short timeouts of their own (Kubernetes: 1 s by default) and a hung
# dependency must read as "not ready", not as a probe that never answers.
READYZ_TIMEOUT_SECONDS = 1.5


@functools.cache
def _checks_executor() -> ThreadPoolExecutor:
    # Few threads: a check hung on a dependency holds one until it returns; later probes
    # queue behind it and time out (skipping their work) instead of piling up threads.
    return ThreadPoolExecutor(max_workers=4, thread_name_prefix="readyz")


def _check_database() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return "ok"
    finally:
        # This thread outlives the request: give the connection back to the pool now.
        with contextlib.suppress(Exception):
            connection.close()


def _check_cache() -> str:
    cache.set("readyz", "1", 5)
    return "ok" if cache.get("readyz") == "1" else "error"


def _bounded(check: Callable[[], str], deadline: float) -> str:
    if time.monotonic() >= deadline:
        return "error: timeout"  # waited in the queue behind hung checks
    try:
        return check()
    except Exception as exc:
        return f"error: {exc.__class__.__name__}"


def readyz(request: HttpRequest) -> HttpResponse:
    """200 when the database and the cache answer, else 503 naming the failed check.

    The checks run in parallel and the answer comes within COLLAB_READYZ_TIMEOUT seconds
    (1.5) however the dependencies fail: refused, hung, or slow.
    """
    timeout = float(getattr(settings, "COLLAB_READYZ_TIMEOUT", READYZ_TIMEOUT_SECONDS))
    deadline = time.monotonic() + timeout
    executor = _checks_executor()
    running: dict[str, Future[str]] = {
        "database": executor.submit(_bounded, _check_database, deadline),
        "cache": executor.submit(_bounded, _check_cache, deadline),
    }
    wait(running.values(), timeout=timeout)
    checks = {name: job.result() if job.done() else "error: timeout" for name, job in running.items()}
    ready = all(value == "ok" for value in checks.values())
    return JsonResponse({"ready": ready, "checks": checks}, status=200 if ready else 503)


def metrics(request: HttpRequest) -> HttpResponse:
    return HttpResponse(generate_latest(), content_type=CONTENT_TYPE_LATEST)
