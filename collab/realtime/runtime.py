"""One worker process's runtime: everything the worker holds while it serves.

A daphne worker serves every socket and request from one event loop. What lives
as long as the worker (the room registry, the presence hub, the watches, the
document writer, the connection count) belongs to one `WorkerRuntime`, built by
the project's composition root (`collab.conf.runtime`), started once before the
first connection is served and stopped once on shutdown, in reverse order, so a
service can rely on the ones declared before it while it stops (rooms flush
through the document writer, which stops after them).

Services are looked up by their class: `current_runtime().get(RoomRegistry)`.
A service may define `async start()` and `async stop()`; both are optional.

`WorkerLifecycle` is the ASGI wrapper that starts the runtime: on the ASGI
lifespan startup where the server sends one (uvicorn), else on the first
connection (daphne sends none; its shutdown hook stops the runtime).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from django.conf import settings

from collab.realtime import metrics

logger = logging.getLogger(__name__)

T = TypeVar("T")
Factory = Callable[["WorkerRuntime"], Any]


class ConnectionCount:
    """How many websockets this worker holds, of every kind, against COLLAB_MAX_CONNECTIONS."""

    def __init__(self, limit: int | None = None) -> None:
        self.limit = limit
        self.open = 0

    def at_capacity(self) -> bool:
        limit = settings.COLLAB_MAX_CONNECTIONS if self.limit is None else self.limit
        return self.open >= limit

    def opened(self, kind: str) -> None:
        self.open += 1
        metrics.WS_CONNECTIONS.labels(kind).inc()

    def closed(self, kind: str) -> None:
        self.open -= 1
        metrics.WS_CONNECTIONS.labels(kind).dec()


class WorkerRuntime:
    def __init__(self) -> None:
        self._factories: list[tuple[type[Any], Factory]] = []
        self._services: dict[type[Any], Any] = {}
        self.connections = ConnectionCount()
        self.loop: asyncio.AbstractEventLoop | None = None
        self.thread: int | None = None
        self.running = False
        self._background: set[asyncio.Task[Any]] = set()

    def provide(self, kind: type[T], factory: Callable[[WorkerRuntime], T]) -> None:
        """Declare a service; factories run in declaration order when the runtime starts."""
        if self.running:
            raise RuntimeError("services are declared before the runtime starts")
        self._factories.append((kind, factory))

    def has(self, kind: type[T]) -> bool:
        return kind in self._services

    def get(self, kind: type[T]) -> T:
        try:
            service: T = self._services[kind]
        except KeyError:
            raise LookupError(f"this worker runtime has no {kind.__name__} (is it running?)") from None
        return service

    async def start(self) -> None:
        """Bind to the running loop, build every service in order and start those that start."""
        if self.running:
            return
        self.loop = asyncio.get_running_loop()
        self.thread = threading.get_ident()
        self.running = True
        for kind, factory in self._factories:
            service = factory(self)
            self._services[kind] = service
            start = getattr(service, "start", None)
            if start is not None:
                await start()

    async def stop(self) -> None:
        """Stop the services in reverse order; one failing does not keep the rest running."""
        if not self.running:
            return
        for kind in reversed(list(self._services)):
            stop = getattr(self._services[kind], "stop", None)
            if stop is None:
                continue
            try:
                await stop()
            except Exception:
                logger.exception("stopping %s failed", kind.__name__)
        if self._background:
            await asyncio.gather(*self._background, return_exceptions=True)
        self._services.clear()
        self.running = False
        self.loop = None
        self.thread = None

    def spawn(self, work: Awaitable[Any]) -> asyncio.Task[Any]:
        """Run `work` in the background; the runtime keeps the task until it ends (and waits
        for it when stopping)."""
        task = asyncio.ensure_future(work)
        self._background.add(task)
        task.add_done_callback(self._background.discard)
        return task

    def call_soon_from_thread(self, callback: Callable[..., Any], *args: Any) -> bool:
        """Hand `callback` to the worker's loop from another thread; False when that is not
        possible (no loop running, or already on it) and the caller must do it in place."""
        loop = self.loop
        if loop is None or not loop.is_running() or threading.get_ident() == self.thread:
            return False
        loop.call_soon_threadsafe(callback, *args)
        return True


async def cancelled(task: asyncio.Task[Any] | None) -> None:
    """Cancel a service's background task and wait until it has ended (for `stop`)."""
    if task is None:
        return
    task.cancel()
    with contextlib.suppress(BaseException):
        await task


_current: WorkerRuntime | None = None  # the one runtime of this process, while it runs


def current_runtime() -> WorkerRuntime:
    if _current is None:
        raise RuntimeError("no worker runtime is running (asgi.application starts one)")
    return _current


def running_runtime() -> WorkerRuntime | None:
    """The runtime if one runs in this process (request code in Celery has none)."""
    return _current


async def start_runtime(runtime: WorkerRuntime) -> WorkerRuntime:
    """Make `runtime` this process's runtime and start it."""
    global _current
    if _current is not None and _current is not runtime:
        raise RuntimeError("a worker runtime is already running in this process")
    _current = runtime
    try:
        await runtime.start()
    except BaseException:
        _current = None
        await runtime.stop()
        raise
    return runtime


async def stop_runtime() -> None:
    """Stop this process's runtime (shutdown); a no-op when none runs."""
    global _current
    runtime = _current
    if runtime is None:
        return
    try:
        await runtime.stop()
    finally:
        _current = None


class WorkerLifecycle:
    """ASGI wrapper: the runtime runs before the first connection is served."""

    def __init__(self, app: Any, build: Callable[[], WorkerRuntime]) -> None:
        self.app = app
        self.build = build
        self._starting: asyncio.Task[WorkerRuntime] | None = None

    async def ensure_started(self) -> None:
        if self._starting is None:
            self._starting = asyncio.ensure_future(start_runtime(self.build()))
        try:
            await asyncio.shield(self._starting)
        except Exception:
            self._starting = None  # the next connection tries again
            raise

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        await self.ensure_started()
        await self.app(scope, receive, send)

    async def _lifespan(self, receive: Any, send: Any) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                try:
                    await self.ensure_started()
                except Exception as exc:
                    await send({"type": "lifespan.startup.failed", "message": str(exc)})
                    return
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await stop_runtime()
                self._starting = None
                await send({"type": "lifespan.shutdown.complete"})
                return
