"""The Redis pub/sub layer with gathered publishes and subscriptions, against the real Redis."""

from __future__ import annotations

import asyncio
import uuid

import redis.asyncio
import redis.exceptions

from collab.realtime.redis_layer import RedisPubSubLayer
from tests.e2e.servers import free_port


def layer_on(url: str) -> RedisPubSubLayer:
    return RedisPubSubLayer(hosts=[url], prefix=f"collab-test-{uuid.uuid4().hex[:10]}:")


async def test_concurrent_publishes_arrive_all_and_in_the_order_they_were_made(redis_url: str) -> None:
    sender, receiver = layer_on(redis_url), layer_on(redis_url)
    receiver._kwargs["prefix"] = sender._kwargs["prefix"]  # one deployment, two workers
    try:
        channel = await receiver.new_channel()
        await receiver.group_add("room", channel)
        await asyncio.sleep(0.1)  # the subscription reaches Redis
        await asyncio.gather(*(sender.group_send("room", {"type": "m", "n": n}) for n in range(300)))
        received = [await asyncio.wait_for(receiver.receive(channel), 5) for _ in range(300)]
        assert [message["n"] for message in received] == list(range(300))
    finally:
        await sender.flush()
        await receiver.flush()


async def test_many_rooms_subscribing_at_once_all_receive(redis_url: str) -> None:
    layer = layer_on(redis_url)
    try:
        channels = await asyncio.gather(*(layer.new_channel() for _ in range(100)))
        await asyncio.gather(*(layer.group_add(f"room{i}", channel) for i, channel in enumerate(channels)))
        await asyncio.sleep(0.1)
        await asyncio.gather(*(layer.group_send(f"room{i}", {"type": "m", "n": i}) for i in range(100)))
        for i, channel in enumerate(channels):
            assert (await asyncio.wait_for(layer.receive(channel), 5))["n"] == i
    finally:
        await layer.flush()


async def test_a_group_left_while_its_subscription_waited_is_not_subscribed(redis_url: str) -> None:
    layer = layer_on(redis_url)
    client = redis.asyncio.Redis.from_url(redis_url)
    try:
        channel = await layer.new_channel()
        others = [layer.group_add(f"busy{i}", channel) for i in range(20)]  # a batch in flight
        await asyncio.gather(*others, layer.group_add("left", channel), layer.group_discard("left", channel))
        await asyncio.sleep(0.1)
        group_channel = layer._get_layer()._get_group_channel_name("left")
        [(_, subscribers)] = await client.pubsub_numsub(group_channel)
        assert subscribers == 0
        [(_, busy)] = await client.pubsub_numsub(layer._get_layer()._get_group_channel_name("busy0"))
        assert busy == 1
    finally:
        await client.aclose()
        await layer.flush()


async def test_every_publisher_gets_the_error_when_redis_is_unreachable() -> None:
    layer = layer_on(f"redis://127.0.0.1:{free_port()}/0")  # nothing listens there
    try:
        results = await asyncio.gather(
            *(layer.group_send("room", {"type": "m", "n": n}) for n in range(5)), return_exceptions=True
        )
        failed = [isinstance(result, redis.exceptions.ConnectionError) for result in results]
        assert failed == [True] * 5, results
    finally:
        await layer.flush()


async def test_flush_cancels_what_waits_and_the_layer_works_after(redis_url: str) -> None:
    layer = layer_on(redis_url)
    sends = [asyncio.ensure_future(layer.group_send("room", {"type": "m"})) for _ in range(50)]
    await asyncio.sleep(0)
    await layer.flush()
    outcomes = await asyncio.gather(*sends, return_exceptions=True)
    assert all(o is None or isinstance(o, asyncio.CancelledError) for o in outcomes)
    channel = await layer.new_channel()
    await layer.group_add("room", channel)
    await asyncio.sleep(0.1)
    await layer.group_send("room", {"type": "again"})
    assert (await asyncio.wait_for(layer.receive(channel), 5))["type"] == "again"
    await layer.flush()
