"""The REST API's one error format, `{"detail": "...", "code": "..."}`, and what is retryable.

`detail` is for people, `code` for programs. Failures of a backing service are 503 with a
`Retry-After` header and a code a client can act on (retry later):

- `database_unavailable`: PostgreSQL is unreachable or a statement failed for an operational
  reason (connection lost, pool timeout, statement cancelled, deadlock);
- `cache_unavailable`: Redis is unreachable.

Anything else unexpected is 500 `internal_error`; the traceback goes to the log only.
Used by the NinjaAPI's exception handlers (collab/conf/api.py) and by ApiErrorMiddleware
(collab/conf/middleware.py), which covers what happens outside ninja (unknown /api/ paths,
exceptions in middleware).
"""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

import psycopg
from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, JsonResponse

logger = logging.getLogger(__name__)

DATABASE_UNAVAILABLE = "database_unavailable"
CACHE_UNAVAILABLE = "cache_unavailable"
INTERNAL_ERROR = "internal_error"
# The pool retries the database every second and fails waiting requests within two.
RETRY_AFTER_SECONDS = 2

STATUS_CODES = {
    400: "bad_request",
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    408: "request_timeout",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "invalid_request",
    429: "rate_limited",
    500: INTERNAL_ERROR,
    502: "bad_gateway",
    503: "service_unavailable",
    504: "gateway_timeout",
}


def code_for_status(status: int) -> str:
    return STATUS_CODES.get(status) or ("client_error" if status < 500 else "server_error")


def _causes(exc: BaseException | None) -> list[BaseException]:
    """`exc` and what it was raised from or during (Django wraps psycopg's errors)."""
    chain: list[BaseException] = []
    while exc is not None and not any(exc is seen for seen in chain):
        chain.append(exc)
        exc = exc.__cause__ or exc.__context__
    return chain


def is_database_unavailable(exc: BaseException | None) -> bool:
    # OperationalError covers lost connections, pool timeouts (psycopg_pool.PoolTimeout is
    # one), cancelled statements and deadlocks: all transient, all worth a retry.
    kinds = (OperationalError, InterfaceError, psycopg.OperationalError, psycopg.InterfaceError)
    return any(isinstance(cause, kinds) for cause in _causes(exc))


def is_cache_unavailable(exc: BaseException | None) -> bool:
    try:
        import redis
    except ImportError:  # pragma: no cover - redis is a dependency
        return False
    kinds = (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError)
    return any(isinstance(cause, kinds) for cause in _causes(exc))


def json_error(
    status: int, detail: Any, code: str | None = None, headers: dict[str, str] | None = None
) -> JsonResponse:
    response = JsonResponse({"detail": detail, "code": code or code_for_status(status)}, status=status)
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def default_detail(status: int) -> str:
    try:
        return HTTPStatus(status).phrase.lower()
    except ValueError:
        return "error"


def exception_response(request: HttpRequest, exc: BaseException, log: bool = True) -> JsonResponse:
    """The response for an exception nothing else handled: 503 if retryable, else 500.

    log=False when Django has logged the exception already (middleware path).
    """
    if isinstance(exc, RequestDataTooBig):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        return json_error(413, f"the request body is larger than {limit} bytes", "too_large")
    retry = {"Retry-After": str(RETRY_AFTER_SECONDS)}
    if is_database_unavailable(exc):
        if log:  # expected during an outage: one line, no traceback
            logger.warning("%s %s: database unavailable: %s", request.method, request.path, exc)
        return json_error(503, "the database is unavailable, retry shortly", DATABASE_UNAVAILABLE, retry)
    if is_cache_unavailable(exc):
        if log:
            logger.warning("%s %s: cache unavailable: %s", request.method, request.path, exc)
        return json_error(503, "the cache is unavailable, retry shortly", CACHE_UNAVAILABLE, retry)
    if log:
        logger.error("%s %s failed", request.method, request.path, exc_info=exc)
    return json_error(500, "internal server error", INTERNAL_ERROR)
