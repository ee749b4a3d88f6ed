"""Less memory per websocket: two things daphne and autobahn keep for every connection.

Measured with tracemalloc in a worker holding 1,000 idle sockets (docs/benchmarks.md,
*Memory per idle connection*):

- autobahn copies its factory's 29 protocol options into every protocol instance
  (`_connectionMade`), which makes each instance's attribute dict a size larger. It copies
  only options the instance does not have yet, so the options are put once on a
  subclass of the factory's protocol class instead, each time daphne sets them.
- The HTTP request that carried the upgrade stays in its HTTP channel's request list for
  the socket's lifetime (the channel lives on as the transport's producer), with its
  headers, query arguments and body buffer. Once daphne has handed the connection to the
  websocket protocol nothing reads it again, so it is dropped from that list.
"""

from __future__ import annotations

from typing import Any


def options_on_the_class(factory: Any) -> None:
    """Give `factory` a protocol subclass that carries its current protocol options."""
    base = type(factory).protocol
    options = {name: _as_class_attribute(getattr(factory, name)) for name in base.CONFIG_ATTRS}
    shared = type(base.__name__, (base,), options)
    shared.__qualname__ = base.__qualname__
    factory.protocol = shared


def _as_class_attribute(value: Any) -> Any:
    # A function option (perMessageCompressionAccept) would become a method on the class and
    # be called with the protocol as its first argument.
    return staticmethod(value) if callable(value) and hasattr(value, "__get__") else value


def share_protocol_options() -> None:
    from daphne.ws_protocol import WebSocketFactory

    original = WebSocketFactory.setProtocolOptions
    # A marker of its own: limits.py wraps the same method and looks for `_collab_patched`,
    # which this wrapper must not claim, or limits.py applied after it would be skipped.
    if getattr(original, "_collab_shares_options", False):
        return

    def set_options(self: Any, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        options_on_the_class(self)

    set_options._collab_shares_options = True  # type: ignore[attr-defined]
    WebSocketFactory.setProtocolOptions = set_options


def forget_if_upgraded(request: Any) -> None:
    """Drop `request` from its channel if daphne handed its connection to a websocket.

    daphne sets the request's transport to None exactly when it does; a plain HTTP
    request is still being answered when `process` returns, and keeps its transport.
    """
    channel = getattr(request, "channel", None)
    if request.transport is None and channel is not None and request in channel.requests:
        channel.requests.remove(request)


def release_upgrade_requests() -> None:
    from daphne.http_protocol import WebRequest

    original = WebRequest.process
    if getattr(original, "_collab_patched", False):
        return

    def process(self: Any) -> Any:
        result = original(self)
        forget_if_upgraded(self)
        return result

    process._collab_patched = True  # type: ignore[attr-defined]
    WebRequest.process = process
