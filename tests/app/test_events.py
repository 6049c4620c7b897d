"""Event hubs: in-memory and Redis pub/sub, bounded per subscriber, surviving Redis restarts."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator
from typing import Any

import pytest

from app.events import InMemoryEventHub, RedisEventHub, SubscriberTooSlow
from tests.redis_server import PrivateRedis
from tests.services import REDIS_URL, RUN_ID, require

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


async def _next(stream: AsyncIterator[dict[str, Any]]) -> dict[str, Any]:
    return await asyncio.wait_for(anext(stream), timeout=5)


async def _subscribed(hub: Any, topic: str, wanted: Any = None) -> AsyncIterator[dict[str, Any]]:
    stream = hub.subscribe(topic, wanted)
    pending = asyncio.ensure_future(anext(stream))
    while hub.subscriber_count(topic) == 0:
        await asyncio.sleep(0.01)

    async def rest() -> AsyncIterator[dict[str, Any]]:
        yield await pending
        async for item in stream:
            yield item

    return rest()


async def test_in_memory_hub_delivers_events_published_from_other_threads() -> None:
    hub = InMemoryEventHub()
    await hub.start()
    stream = await _subscribed(hub, "loanUpdated")
    threading.Thread(target=hub.publish, args=("loanUpdated", {"loanId": 1})).start()
    assert await _next(stream) == {"loanId": 1}
    hub.publish("paymentReceived", {"loanId": 2})  # other topics are not delivered here
    hub.publish("loanUpdated", {"loanId": 3})
    assert await _next(stream) == {"loanId": 3}


async def test_a_subscriber_that_falls_behind_is_cut_off_not_buffered() -> None:
    hub = InMemoryEventHub(queue_size=3)
    await hub.start()
    stream = await _subscribed(hub, "t")
    for n in range(10):
        hub.deliver("t", {"n": n})
    with pytest.raises(SubscriberTooSlow):
        await _next(stream)
    assert hub.subscriber_count("t") == 0


async def test_redis_hub_delivers_across_connections() -> None:
    require(REDIS_URL, "Redis")
    receiver = RedisEventHub(REDIS_URL, namespace=f"hub-test-{RUN_ID}")
    sender = RedisEventHub(REDIS_URL, namespace=f"hub-test-{RUN_ID}")
    await receiver.start()
    await asyncio.wait_for(receiver.connected.wait(), 5)
    try:
        stream = await _subscribed(receiver, "paymentReceived")
        sender.publish("paymentReceived", {"loanId": 9, "amount": "10.00"})
        assert await _next(stream) == {"loanId": 9, "amount": "10.00"}
    finally:
        await receiver.stop()
        await sender.stop()


async def test_redis_hub_resubscribes_after_a_redis_restart() -> None:
    redis_server = PrivateRedis()
    redis_server.start()
    hub = RedisEventHub(redis_server.url, reconnect_delay=0.1)
    await hub.start()
    try:
        await asyncio.wait_for(hub.connected.wait(), 5)
        stream = await _subscribed(hub, "t")
        redis_server.stop()
        while hub.connected.is_set():  # wait until the hub notices the outage
            await asyncio.sleep(0.05)
        redis_server.start()
        await asyncio.sleep(0.1)
        await asyncio.wait_for(hub.connected.wait(), 10)
        hub.publish("t", {"after": "restart"})
        assert await _next(stream) == {"after": "restart"}
    finally:
        await hub.stop()
        redis_server.stop()


async def test_other_subscribers_events_never_fill_a_queue() -> None:
    """A burst of events meant for others does not cut off an idle subscriber: its filter
    runs before anything is queued for it."""
    hub = InMemoryEventHub(queue_size=3)
    await hub.start()
    stream = await _subscribed(hub, "t", lambda event: event["to"] == "me")
    for n in range(500):
        hub.deliver("t", {"to": "someone else", "n": n})
    hub.deliver("t", {"to": "me", "n": 500})
    assert await _next(stream) == {"to": "me", "n": 500}
    assert hub.subscriber_count("t") == 1
