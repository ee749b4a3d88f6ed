"""The Redis pub/sub channel layer, with publishes that do not queue behind each other.

channels_redis's `RedisPubSubChannelLayer` (pinned: 4.3.0) sends everything for a shard
under one lock: each PUBLISH holds it for a whole round trip to Redis, and every
SUBSCRIBE waits behind all the publishes queued before it. On a busy worker a round trip
takes a turn of the event loop, so in a reconnect storm (2,000 clients on 100 documents)
the rooms' subscriptions, two per room load, waited 1.7 s each at the median and up to 9 s,
and publishes went out one per loop turn.

Here publishes are queued per shard and sent by one task, everything queued meanwhile in
one pipeline (one round trip for many messages, in the order they were published; each
caller still waits until its message was sent and gets the error if the send failed).
Subscriptions are gathered the same way: every channel asked for while a SUBSCRIBE is
being sent goes out in the next one (under the library's lock, now held only by
subscribes, unsubscribes and flush).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from channels_redis.pubsub import (
    RedisPubSubChannelLayer,
    RedisPubSubLoopLayer,
    RedisSingleShardConnection,
    _wrap_close,
)

from collab.realtime.batching import settle

MAX_PIPELINE = 500  # messages per round trip
FLUSH_WAIT_SECONDS = 2.0


class PipelinedShardConnection(RedisSingleShardConnection):
    def __init__(self, host: Any, channel_layer: Any) -> None:
        super().__init__(host, channel_layer)
        self._outgoing: list[tuple[str, bytes, asyncio.Future[None]]] = []
        self._sender: asyncio.Task[None] | None = None
        self._to_subscribe: list[tuple[str, asyncio.Future[None]]] = []
        self._subscriber: asyncio.Task[None] | None = None

    async def subscribe(self, channel: str) -> None:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._to_subscribe.append((channel, future))
        if self._subscriber is None or self._subscriber.done():
            self._subscriber = asyncio.ensure_future(self._send_subscriptions())
        await future

    async def _send_subscriptions(self) -> None:
        while self._to_subscribe:
            async with self._lock:
                batch, self._to_subscribe = self._to_subscribe, []
                # Only channels still wanted: an unsubscribe that took the lock while this
                # batch waited for it found nothing to do, and must not be undone here.
                channels = [
                    channel for channel in dict.fromkeys(c for c, _ in batch) if self._wanted(channel)
                ]
                try:
                    if channels:
                        self._ensure_redis()
                        self._ensure_receiver()
                        await self._pubsub.subscribe(*channels)
                        self._subscribed_to.update(channels)
                except Exception as error:
                    _settle(batch, error)
                except BaseException:
                    _settle(batch, None, cancel=True)
                    raise
                else:
                    _settle(batch, None)

    async def publish(self, channel: str, message: bytes) -> None:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._outgoing.append((channel, message, future))
        if self._sender is None or self._sender.done():
            self._sender = asyncio.ensure_future(self._send_outgoing())
        await future

    def _wanted(self, channel: str) -> bool:
        layer = self.channel_layer
        return channel not in self._subscribed_to and (channel in layer.groups or channel in layer.channels)

    async def _send_outgoing(self) -> None:
        while self._outgoing:
            batch = self._outgoing[:MAX_PIPELINE]
            del self._outgoing[:MAX_PIPELINE]
            try:
                self._ensure_redis()
                async with self._redis.pipeline(transaction=False) as pipeline:
                    for channel, message, _ in batch:
                        pipeline.publish(channel, message)
                    # A command Redis refuses fails its own caller only; a lost connection
                    # raises here and fails the whole batch.
                    results = await pipeline.execute(raise_on_error=False)
            except Exception as error:
                _settle(batch, error)
            except BaseException:
                _settle(batch, None, cancel=True)
                raise
            else:
                for entry, result in zip(batch, results, strict=True):
                    _settle([entry], result if isinstance(result, Exception) else None)

    async def flush(self) -> None:
        """What was published or subscribed before is sent first (within FLUSH_WAIT_SECONDS,
        then cancelled: Redis may be what hangs), then the connection closes."""
        pending = [task for task in (self._sender, self._subscriber) if task is not None and not task.done()]
        if pending:
            _, late = await asyncio.wait(pending, timeout=FLUSH_WAIT_SECONDS)
            for task in late:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
        outgoing, self._outgoing = self._outgoing, []
        waiting, self._to_subscribe = self._to_subscribe, []
        closed = ConnectionError("the channel layer was flushed")
        _settle(outgoing, closed)
        _settle(waiting, closed)
        await super().flush()


def _settle(batch: Sequence[tuple[Any, ...]], error: Exception | None, cancel: bool = False) -> None:
    """Answer each entry's future (its last item): done, failed with `error`, or cancelled."""
    for *_, future in batch:
        settle(future, error=error, cancel=cancel)


class PipelinedLoopLayer(RedisPubSubLoopLayer):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        shards: list[Any] = getattr(self, "_shards")  # noqa: B009 (the library's attribute, untyped)
        self._shards = [PipelinedShardConnection(shard.host, self) for shard in shards]


class RedisPubSubLayer(RedisPubSubChannelLayer):
    """`RedisPubSubChannelLayer` on `PipelinedShardConnection`s (settings: CHANNEL_LAYERS)."""

    def _get_layer(self) -> Any:
        loop = asyncio.get_running_loop()
        layer = self._layers.get(loop)
        if layer is None:
            layer = PipelinedLoopLayer(*self._args, **self._kwargs, channel_layer=self)
            self._layers[loop] = layer
            _wrap_close(self, loop)
        return layer
