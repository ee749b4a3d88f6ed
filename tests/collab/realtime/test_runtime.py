"""The worker runtime: services built and started in order, stopped in reverse, started once."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest

from collab.conf.runtime import build_worker_runtime
from collab.engine.registry import RoomRegistry
from collab.realtime.runtime import (
    WorkerLifecycle,
    WorkerRuntime,
    current_runtime,
    running_runtime,
    start_runtime,
    stop_runtime,
)
from collab.realtime.ws_watch import SocketWatch


class Recorder:
    def __init__(self, name: str, log: list[str], fail_stop: bool = False) -> None:
        self.name, self.log, self.fail_stop = name, log, fail_stop

    async def start(self) -> None:
        self.log.append(f"start {self.name}")

    async def stop(self) -> None:
        self.log.append(f"stop {self.name}")
        if self.fail_stop:
            raise RuntimeError("stop failed")


class First(Recorder):
    pass


class Second(Recorder):
    pass


class Plain:
    """A service with neither start nor stop."""


def runtime_with(log: list[str], fail_second: bool = False) -> WorkerRuntime:
    runtime = WorkerRuntime()
    runtime.provide(First, lambda _: First("first", log))
    runtime.provide(Second, lambda rt: Second(f"second after {rt.get(First).name}", log, fail_second))
    runtime.provide(Plain, lambda _: Plain())
    return runtime


async def test_services_start_in_order_and_stop_in_reverse_even_when_one_fails() -> None:
    log: list[str] = []
    runtime = runtime_with(log, fail_second=True)
    await runtime.start()
    assert isinstance(runtime.get(Plain), Plain)
    await runtime.stop()
    assert log == ["start first", "start second after first", "stop second after first", "stop first"]
    with pytest.raises(LookupError):
        runtime.get(First)  # a stopped runtime holds nothing


async def test_a_running_runtime_takes_no_new_services() -> None:
    runtime = runtime_with([])
    await runtime.start()
    with pytest.raises(RuntimeError):
        runtime.provide(Plain, lambda _: Plain())
    await runtime.stop()


async def test_one_runtime_per_process_and_none_after_stop() -> None:
    runtime = await start_runtime(runtime_with([]))
    assert current_runtime() is runtime
    with pytest.raises(RuntimeError):
        await start_runtime(runtime_with([]))
    await stop_runtime()
    assert running_runtime() is None
    with pytest.raises(RuntimeError):
        current_runtime()


async def test_the_lifecycle_starts_the_runtime_once_before_the_first_connection() -> None:
    log: list[str] = []
    builds: list[int] = []
    served: list[Any] = []

    def build() -> WorkerRuntime:
        builds.append(1)
        return runtime_with(log)

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        served.append(current_runtime().get(First).name)

    lifecycle = WorkerLifecycle(app, build)
    await asyncio.gather(*(lifecycle({"type": "websocket"}, None, None) for _ in range(5)))
    assert builds == [1] and served == ["first"] * 5
    await stop_runtime()


async def test_the_lifecycle_speaks_the_asgi_lifespan_protocol() -> None:
    log: list[str] = []
    inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    async def never_called(scope: dict[str, Any], receive: Any, send: Any) -> None:
        raise AssertionError("lifespan is not passed on")

    lifecycle = WorkerLifecycle(never_called, lambda: runtime_with(log))
    await inbox.put({"type": "lifespan.startup"})
    await inbox.put({"type": "lifespan.shutdown"})
    await lifecycle({"type": "lifespan"}, inbox.get, send)
    assert [message["type"] for message in sent] == [
        "lifespan.startup.complete",
        "lifespan.shutdown.complete",
    ]
    assert log[0] == "start first" and log[-1] == "stop first"
    assert running_runtime() is None


async def test_work_from_another_thread_is_handed_to_the_worker_loop() -> None:
    runtime = runtime_with([])
    await runtime.start()
    ran_on: list[int] = []
    done = asyncio.Event()

    def on_loop() -> None:
        ran_on.append(threading.get_ident())
        done.set()

    assert runtime.call_soon_from_thread(on_loop) is False  # on the loop itself: do it in place
    handed = await asyncio.to_thread(runtime.call_soon_from_thread, on_loop)
    assert handed is True
    await asyncio.wait_for(done.wait(), 5)
    assert ran_on == [threading.get_ident()]
    await runtime.stop()


async def test_the_project_runtime_wires_the_worker_services() -> None:
    runtime = await start_runtime(build_worker_runtime())
    try:
        registry = runtime.get(RoomRegistry)
        assert registry._lag_monitor is not None and not registry._lag_monitor.done()
        # A room's layer failure asks the socket watch for an access round at once.
        assert registry.on_layer_error == runtime.get(SocketWatch).check_soon
    finally:
        await stop_runtime()
    assert registry._lag_monitor is None  # stopped with the runtime
