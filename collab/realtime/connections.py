"""How many websockets this worker holds, of every kind, against COLLAB_MAX_CONNECTIONS."""

from __future__ import annotations

from django.conf import settings

from collab.realtime import metrics

_open = 0


def open_count() -> int:
    """Sockets counted now (tests and diagnostics)."""
    return _open


def at_capacity() -> bool:
    return _open >= settings.COLLAB_MAX_CONNECTIONS


def opened(kind: str) -> None:
    global _open
    _open += 1
    metrics.WS_CONNECTIONS.labels(kind).inc()


def closed(kind: str) -> None:
    global _open
    _open -= 1
    metrics.WS_CONNECTIONS.labels(kind).dec()
