"""Event hubs: in-memory and Redis pub/sub, bounded per subscriber, each event once, and
replaying from the outbox what a Redis outage kept from them (or saying it cannot)."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

import pytest

from app.events import (
    EventsMissed,
    InMemoryEventHub,
    RedisEventHub,
    ReplayPolicy,
    SubscriberTooSlow,
)
from domain.tables import utcnow
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


class FakeOutbox:
    """Stands in for the outbox as the hub's history: events with the moment each was sent
    (None while not sent yet)."""

    def __init__(self) -> None:
        self.events: list[tuple[datetime | None, str, dict[str, Any]]] = []
        self.reads: list[datetime] = []
        self.broken = False

    def add(self, topic: str, payload: dict[str, Any], sent: bool = True) -> None:
        self.events.append((utcnow() if sent else None, topic, payload))

    def __call__(self, since: datetime, limit: int) -> list[tuple[str, dict[str, Any]]]:
        if self.broken:
            raise ConnectionError("the database is down too")
        self.reads.append(since)
        found = [(t, p) for at, t, p in self.events if at is None or at >= since]
        return found[:limit]


@contextlib.asynccontextmanager
async def _hub_on_private_redis(**options: Any) -> AsyncIterator[tuple[Any, PrivateRedis]]:
    redis_server = PrivateRedis()
    redis_server.start()
    hub = RedisEventHub(redis_server.url, reconnect_delay=0.1, **options)
    await hub.start()
    try:
        await asyncio.wait_for(hub.connected.wait(), 5)
        yield hub, redis_server
    finally:
        await hub.stop()
        redis_server.stop()


async def _outage(hub: Any, redis_server: PrivateRedis, meanwhile: Any = None) -> None:
    """Stop Redis until the hub notices, run `meanwhile`, start it and wait for the hub."""
    redis_server.stop()
    while hub.connected.is_set():
        await asyncio.sleep(0.05)
    if meanwhile is not None:
        meanwhile()
    redis_server.start()
    await asyncio.wait_for(hub.connected.wait(), 10)


async def test_redis_hub_resubscribes_after_a_redis_restart() -> None:
    async with _hub_on_private_redis(history=FakeOutbox()) as (hub, redis_server):
        stream = await _subscribed(hub, "t")
        await _outage(hub, redis_server)
        hub.publish("t", {"after": "restart"})
        assert await _next(stream) == {"after": "restart"}


async def test_events_sent_while_the_hub_was_disconnected_are_replayed_once_each() -> None:
    outbox = FakeOutbox()
    async with _hub_on_private_redis(history=outbox) as (hub, redis_server):
        stream = await _subscribed(hub, "t")
        outbox.add("t", {"messageId": "before", "n": 0})
        hub.publish("t", {"messageId": "before", "n": 0})
        assert await _next(stream) == {"messageId": "before", "n": 0}

        def during() -> None:
            outbox.add("t", {"messageId": "sent-by-the-relay", "n": 1})  # before we resubscribed
            outbox.add("t", {"messageId": "not-sent-yet", "n": 2}, sent=False)
            outbox.add("other", {"messageId": "another-topic", "n": 3})

        await _outage(hub, redis_server, during)
        hub.publish("t", {"messageId": "not-sent-yet", "n": 2})  # the relay, at last
        hub.publish("t", {"messageId": "live", "n": 4})

        assert [(await _next(stream))["n"] for _ in range(3)] == [1, 2, 4]
        assert outbox.reads and outbox.reads[-1] < utcnow()


async def test_a_hub_that_cannot_replay_tells_its_subscribers_they_missed_events() -> None:
    outbox = FakeOutbox()
    async with _hub_on_private_redis(history=outbox) as (hub, redis_server):
        stream = await _subscribed(hub, "t")
        outbox.broken = True
        await _outage(hub, redis_server)
        with pytest.raises(EventsMissed):
            await _next(stream)
        assert hub.subscriber_count("t") == 0


async def test_a_gap_longer_than_the_replay_limit_is_reported_not_replayed() -> None:
    outbox = FakeOutbox()
    policy = ReplayPolicy(limit=3)
    async with _hub_on_private_redis(history=outbox, replay=policy) as (hub, redis_server):
        stream = await _subscribed(hub, "t")
        await _outage(
            hub, redis_server, lambda: [outbox.add("t", {"messageId": f"m{n}"}) for n in range(4)]
        )
        with pytest.raises(EventsMissed):
            await _next(stream)


async def test_a_replay_larger_than_a_queue_waits_for_a_reading_subscriber() -> None:
    outbox = FakeOutbox()
    async with _hub_on_private_redis(history=outbox, queue_size=5) as (hub, redis_server):
        stream = await _subscribed(hub, "t")
        redis_server.stop()
        while hub.connected.is_set():
            await asyncio.sleep(0.05)
        for n in range(40):
            outbox.add("t", {"messageId": f"m{n}"})
        redis_server.start()  # the subscriber reads while the hub replays
        received = [(await _next(stream))["messageId"] for _ in range(40)]
        assert received == [f"m{n}" for n in range(40)]
        assert hub.subscriber_count("t") == 1


async def test_an_event_is_delivered_once_however_often_it_arrives() -> None:
    hub = InMemoryEventHub()
    await hub.start()
    stream = await _subscribed(hub, "t")
    for _ in range(3):
        hub.deliver("t", {"messageId": "same", "n": 1})
    hub.deliver("t", {"messageId": "next", "n": 2})
    assert await _next(stream) == {"messageId": "same", "n": 1}
    assert await _next(stream) == {"messageId": "next", "n": 2}


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
