"""A listen backlog sized for reconnect storms, not Twisted's default of 50.

`daphne asgi:application -b HOST -p PORT` listens through Twisted's TCP endpoint, whose
backlog (the connections the kernel completes before the worker accepts them) defaults
to 50. When thousands of clients reconnect at once the queue overflows while the event
loop is busy, and Linux then drops the handshake's last ACK: the client believes it is
connected, sends its upgrade request and waits, with no error, for minutes (a stock
y-websocket client has no handshake timeout). In a 2,000-client storm about a hundred
clients were stuck like that past 150 s. daphne builds its endpoint strings after it has
loaded the application, so asgi.py adds `backlog=COLLAB_LISTEN_BACKLOG` (2048, like
uvicorn; the kernel caps it at net.core.somaxconn) to every TCP and UNIX endpoint.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

DEFAULT_BACKLOG = 2048


def with_backlog(descriptions: list[str], backlog: int) -> list[str]:
    """Twisted endpoint descriptions with `backlog` added where the endpoint takes one."""
    return [
        f"{description}:backlog={backlog}"
        if description.startswith(("tcp:", "unix:")) and ":backlog=" not in description
        else description
        for description in descriptions
    ]


def raise_listen_backlog() -> None:
    from daphne import cli
    from django.conf import settings

    build: Callable[..., list[str]] = cli.build_endpoint_description_strings
    if getattr(build, "_collab_patched", False):
        return

    def build_with_backlog(*args: Any, **kwargs: Any) -> list[str]:
        backlog = int(getattr(settings, "COLLAB_LISTEN_BACKLOG", DEFAULT_BACKLOG))
        return with_backlog(build(*args, **kwargs), backlog)

    build_with_backlog._collab_patched = True  # type: ignore[attr-defined]
    cli.build_endpoint_description_strings = build_with_backlog
