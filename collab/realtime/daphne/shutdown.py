"""Graceful shutdown of a daphne worker on SIGTERM.

daphne's own shutdown cancels every application coroutine and exits: rooms
never flush their outbox (up to 50 ms of accepted edits, much more while the
database is down) and clients see 1006. On SIGTERM (Twisted's handler stops
the reactor, which fires the "before shutdown" triggers) this worker instead:

1. stops listening, so new connections go to the other workers;
2. closes every open websocket with 1012 (service restart): clients reconnect
   elsewhere at once;
3. runs the drains registered with `drain_on_shutdown` (asgi.py registers the
   worker runtime's stop: every room writes what it holds unwritten, its own
   updates and peers' unconfirmed ones, and leaves the cross-worker groups,
   then the other services stop);
4. lets the reactor stop, within COLLAB_SHUTDOWN_SECONDS in all.

The trigger is registered before daphne's (which cancels the applications), so
the close frames are queued first; the rooms are the runtime's, not the
applications', so cancelling the socket coroutines does not stop the flush.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from django.conf import settings

from collab.realtime import metrics
from collab.realtime.close_codes import CloseCode

logger = logging.getLogger(__name__)


def shut_down_gracefully() -> None:
    try:
        from daphne.server import Server
    except ImportError:
        return
    if getattr(Server.run, "_collab_patched", False):
        return
    original_run = Server.run
    original_listen_success = Server.listen_success

    @functools.wraps(original_listen_success)
    def listen_success(self: Any, port: Any) -> None:
        self._collab_ports = [*getattr(self, "_collab_ports", []), port]
        original_listen_success(self, port)

    @functools.wraps(original_run)
    def run(self: Any) -> None:
        from twisted.internet import reactor

        core: Any = reactor  # Twisted's interface typing shifts the arguments by one
        core.addSystemEventTrigger("before", "shutdown", _before_shutdown, self)
        original_run(self)

    run._collab_patched = True  # type: ignore[attr-defined]
    Server.run = run
    Server.listen_success = listen_success


def _before_shutdown(server: Any) -> Any:
    from twisted.internet import defer

    started = time.monotonic()
    for port in getattr(server, "_collab_ports", []):
        try:
            port.stopListening()
        except Exception:
            logger.warning("could not stop listening on %r", port, exc_info=True)
    closed = _close_websockets(server)
    logger.warning("shutting down: closed %d websockets with 1012, writing what rooms hold", closed)
    future = asyncio.ensure_future(_drain_rooms(started))
    return defer.Deferred.fromFuture(future)


def _close_websockets(server: Any) -> int:
    from daphne.ws_protocol import WebSocketProtocol

    closed = 0
    for protocol in list(getattr(server, "connections", {})):
        if isinstance(protocol, WebSocketProtocol) and protocol.state == WebSocketProtocol.STATE_OPEN:
            try:
                # sendClose() allows applications only 1000 and 3000-4999; 1012 is the
                # server's own code for a restart, which the close-frame primitive sends.
                protocol.sendCloseFrame(code=int(CloseCode.SERVICE_RESTART), reasonUtf8=b"server restarting")
                closed += 1
            except Exception:
                logger.warning("could not close %r", protocol, exc_info=True)
    return closed


_drains: list[Callable[[], Awaitable[None]]] = []


def drain_on_shutdown(drain: Callable[[], Awaitable[None]]) -> None:
    """Run `drain` (write what the worker holds) after the sockets are closed, within the budget."""
    if drain not in _drains:
        _drains.append(drain)


async def _drain_all() -> None:
    await asyncio.gather(*(drain() for drain in _drains))


async def _drain_rooms(started: float) -> None:
    budget = max(0.5, settings.COLLAB_SHUTDOWN_SECONDS - (time.monotonic() - started) - 0.5)
    try:
        await asyncio.wait_for(_drain_all(), timeout=budget)
    except TimeoutError:
        logger.error("shutdown: rooms were not all written within %.1f s", budget)
    except Exception:
        logger.exception("shutdown: writing the rooms failed")
    took = time.monotonic() - started
    metrics.SHUTDOWN_SECONDS.set(took)
    logger.warning("shutdown: rooms written in %.2f s", took)
