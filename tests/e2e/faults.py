"""Fault injection for end-to-end tests: a TCP proxy the test puts in front of a real service.

Point a worker at the proxy instead of the service (PostgreSQL, Redis, anything TCP), then
break the link and heal it while real clients run. Nothing is mocked: the service, the
worker and the clients are real; only the wire between the worker and the service fails.

API (every method is thread-safe and returns once the change is in effect)::

    from tests.e2e.faults import TcpProxy

    proxy = TcpProxy("127.0.0.1", 5432).start()    # listens on 127.0.0.1:<proxy.port>
    url = proxy.url_for("postgres://postgres@127.0.0.1:5432/db")  # same URL, host:port -> the proxy
    worker = start_worker(DATABASE_URL=url)

    proxy.cut()        # service down: close every open connection (FIN; cut(reset=True) sends RST)
                       # and refuse new ones (ECONNREFUSED), like a crashed or stopped server
    proxy.blackhole()  # service hung: accept new connections but never connect them upstream,
                       # and stop moving bytes on open ones (nothing is closed); clients wait for
                       # their own timeouts. The proxy's kernel still ACKs what clients send, so
                       # this models a hung server, not a dropped network link (TCP-level
                       # timeouts such as tcp_user_timeout do not fire).
    proxy.restore()    # service back: listen and forward again; connections frozen by
                       # blackhole() resume where they stopped (new ones are connected upstream)
    proxy.stop()       # close everything (also on `with TcpProxy(...) as proxy:` exit)

    proxy.port             # the listening port (stable across cut/restore)
    proxy.address          # ("127.0.0.1", port)
    proxy.state            # "forwarding", "cut" or "blackhole"
    proxy.open_connections # client connections currently open through the proxy
    proxy.accepted         # client connections accepted since start()

The proxy runs its own asyncio loop in a daemon thread, so it works from synchronous and
asynchronous tests alike. One proxy per upstream service; start as many as needed.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
import threading
from collections.abc import Coroutine
from types import TracebackType
from typing import Any, Literal, TypeVar
from urllib.parse import urlsplit, urlunsplit

T = TypeVar("T")
State = Literal["forwarding", "cut", "blackhole"]
CHUNK = 65536


class _Link:
    """One client connection and its upstream connection, pumping bytes both ways."""

    def __init__(self, proxy: TcpProxy, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.proxy = proxy
        self.client_reader = reader
        self.client_writer = writer
        self.upstream_writer: asyncio.StreamWriter | None = None
        self.task: asyncio.Task[None] | None = None

    async def run(self) -> None:
        try:
            await self.proxy._flowing.wait()  # a blackholed proxy leaves new clients hanging here
            upstream_reader, self.upstream_writer = await asyncio.open_connection(*self.proxy.upstream)
            await asyncio.gather(
                self._pump(self.client_reader, self.upstream_writer),
                self._pump(upstream_reader, self.client_writer),
            )
        except (OSError, asyncio.IncompleteReadError):
            pass
        finally:
            self.close(reset=False)
            self.proxy._links.discard(self)

    async def _pump(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            await self.proxy._flowing.wait()
            data = await reader.read(CHUNK)
            if not data:
                break
            await self.proxy._flowing.wait()  # frozen mid-way: hold the bytes until restore()
            writer.write(data)
            await writer.drain()
        # Half-close: pass the end of stream on, the other direction may still be talking.
        with contextlib.suppress(OSError):
            if writer.can_write_eof():
                writer.write_eof()

    def close(self, reset: bool) -> None:
        for writer in (self.client_writer, self.upstream_writer):
            if writer is None:
                continue
            if reset:
                sock = writer.get_extra_info("socket")
                if sock is not None:
                    # SO_LINGER 0: close() sends RST instead of FIN.
                    with contextlib.suppress(OSError):
                        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                writer.transport.abort()
            else:
                writer.close()


class TcpProxy:
    """A TCP proxy in front of `upstream_host:upstream_port` that a test can cut and restore."""

    def __init__(self, upstream_host: str, upstream_port: int, listen_host: str = "127.0.0.1") -> None:
        self.upstream = (upstream_host, upstream_port)
        self.listen_host = listen_host
        self.port = 0
        self.accepted = 0
        self.state: State = "forwarding"
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="tcp-proxy", daemon=True)
        self._server: asyncio.Server | None = None
        self._links: set[_Link] = set()
        self._flowing = asyncio.Event()

    # -- lifecycle -----------------------------------------------------------

    def start(self) -> TcpProxy:
        self._thread.start()
        self._call(self._start())
        return self

    def stop(self) -> None:
        if not self._thread.is_alive():
            return
        self._call(self._stop())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)
        self._loop.close()

    def __enter__(self) -> TcpProxy:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    # -- faults --------------------------------------------------------------

    def cut(self, reset: bool = False) -> None:
        """Close every connection (RST with reset=True, else FIN) and refuse new ones."""
        self._call(self._cut(reset))

    def blackhole(self) -> None:
        """Accept but never answer; freeze open connections without closing them."""
        self._call(self._blackhole())

    def restore(self) -> None:
        """Forward again: listen if cut, let frozen connections resume if blackholed."""
        self._call(self._restore())

    # -- information -----------------------------------------------------------

    @property
    def address(self) -> tuple[str, int]:
        return (self.listen_host, self.port)

    @property
    def open_connections(self) -> int:
        return self._call(self._count())

    def url_for(self, url: str) -> str:
        """`url` (postgres://, redis://, ...) with its host and port replaced by the proxy's."""
        parts = urlsplit(url)
        credentials = parts.netloc.rpartition("@")[0]
        netloc = f"{credentials}@" if credentials else ""
        netloc += f"{self.listen_host}:{self.port}"
        return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))

    # -- inside the proxy's loop -------------------------------------------------

    def _call(self, coroutine: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(10)

    async def _listen(self) -> None:
        self._server = await asyncio.start_server(
            self._accept, self.listen_host, self.port, reuse_address=True, backlog=1024
        )
        self.port = self._server.sockets[0].getsockname()[1]

    async def _start(self) -> None:
        self._flowing.set()
        await self._listen()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.accepted += 1
        link = _Link(self, reader, writer)
        self._links.add(link)
        link.task = asyncio.current_task()
        # cut() cancels the link; the task then ends normally (asyncio's stream callback
        # reports a cancelled handler task as an error).
        with contextlib.suppress(asyncio.CancelledError):
            await link.run()

    async def _close_listener(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None

    async def _close_links(self, reset: bool) -> None:
        links, self._links = set(self._links), set()
        for link in links:
            link.close(reset)
            if link.task is not None:
                link.task.cancel()
        await asyncio.sleep(0)  # let the pumps see their cancellation

    async def _cut(self, reset: bool) -> None:
        self.state = "cut"
        await self._close_listener()
        await self._close_links(reset)

    async def _blackhole(self) -> None:
        self.state = "blackhole"
        self._flowing.clear()
        if self._server is None:
            await self._listen()

    async def _restore(self) -> None:
        self.state = "forwarding"
        if self._server is None:
            await self._listen()
        self._flowing.set()

    async def _stop(self) -> None:
        await self._close_listener()
        await self._close_links(reset=False)

    async def _count(self) -> int:
        return len(self._links)
