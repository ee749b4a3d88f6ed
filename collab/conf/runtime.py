"""What one worker process runs besides its sockets: the composition root of `WorkerRuntime`.

Declared in dependency order; the runtime stops them in reverse, so the rooms
(which flush through the document store) stop before the store, and the watches
and the presence hub outlive the rooms' goodbyes.
"""

from __future__ import annotations

from channels.layers import get_channel_layer

from chat.watch import ChatWatch
from collab.engine.kinds import AccessLookups
from collab.engine.registry import RoomRegistry
from collab.realtime.runtime import WorkerRuntime
from collab.realtime.ws_auth import TokenLookups
from collab.realtime.ws_watch import SocketWatch
from documents.store import DocumentStore
from presence.hub import PresenceHub


def build_worker_runtime() -> WorkerRuntime:
    runtime = WorkerRuntime()
    runtime.provide(TokenLookups, lambda _: TokenLookups())
    runtime.provide(AccessLookups, lambda _: AccessLookups())
    runtime.provide(SocketWatch, lambda _: SocketWatch.from_settings())
    runtime.provide(PresenceHub, lambda _: PresenceHub.from_settings(get_channel_layer()))
    runtime.provide(DocumentStore, lambda _: DocumentStore.from_settings())
    runtime.provide(
        RoomRegistry,
        lambda rt: RoomRegistry.from_settings(
            get_channel_layer(), on_layer_error=rt.get(SocketWatch).check_soon
        ),
    )
    runtime.provide(ChatWatch, lambda _: ChatWatch.from_settings())
    return runtime
