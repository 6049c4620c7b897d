"""The event hub behind subscriptions: in-memory when embedded, Redis pub/sub across processes.

Publishing is synchronous and thread-safe (use cases run in worker threads and in Dramatiq
workers); subscribing is async. Each subscriber has a bounded queue: one that falls behind
is cut off (`SubscriberTooSlow`) rather than allowed to grow memory.
"""

from __future__ import annotations

import asyncio
import json
from collections import defaultdict
from collections.abc import AsyncIterator, Callable
from contextlib import suppress
from typing import Any

import redis
import redis.asyncio as aioredis
import structlog

from resolvers.context import SubscriberTooSlow
from workers.recovery import Backoff, report_failure

log = structlog.get_logger(__name__)
RECONNECT_CAP_SECONDS = 10.0  # live updates: come back quickly once Redis does

_OVERFLOW = object()


Wanted = Callable[[dict[str, Any]], bool]


class _Subscription:
    def __init__(self, size: int, wanted: Wanted | None) -> None:
        self.queue: asyncio.Queue[Any] = asyncio.Queue(maxsize=size)
        self.wanted = wanted

    def offer(self, payload: dict[str, Any]) -> bool:
        try:
            self.queue.put_nowait(payload)
        except asyncio.QueueFull:
            while not self.queue.empty():
                self.queue.get_nowait()
            self.queue.put_nowait(_OVERFLOW)
            return False
        return True


class LocalFanout:
    """Delivers events to this process's subscribers, on the event loop's thread."""

    def __init__(self, queue_size: int = 100) -> None:
        self._queue_size = queue_size
        self._subscriptions: dict[str, set[_Subscription]] = defaultdict(set)
        self._loop: asyncio.AbstractEventLoop | None = None

    def bind_loop(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop

    def deliver(self, topic: str, payload: dict[str, Any]) -> None:
        for subscription in list(self._subscriptions.get(topic, ())):
            if subscription.wanted is not None and not subscription.wanted(payload):
                continue  # other people's events never take room in this queue
            if not subscription.offer(payload):
                self._forget(topic, subscription)
                log.warning("subscriber_too_slow", topic=topic)

    def _forget(self, topic: str, subscription: _Subscription) -> None:
        subscribers = self._subscriptions.get(topic)
        if subscribers is not None:
            subscribers.discard(subscription)
            if not subscribers:
                del self._subscriptions[topic]

    def deliver_threadsafe(self, topic: str, payload: dict[str, Any]) -> None:
        if self._loop is None or self._loop.is_closed():
            return
        self._loop.call_soon_threadsafe(self.deliver, topic, payload)

    def subscriber_count(self, topic: str) -> int:
        return len(self._subscriptions.get(topic, ()))

    async def subscribe(
        self, topic: str, wanted: Wanted | None = None
    ) -> AsyncIterator[dict[str, Any]]:
        """The topic's events (only those `wanted` accepts, when given), in order."""
        subscription = _Subscription(self._queue_size, wanted)
        self._subscriptions[topic].add(subscription)
        try:
            while True:
                item = await subscription.queue.get()
                if item is _OVERFLOW:
                    raise SubscriberTooSlow(topic)
                yield item
        finally:
            self._forget(topic, subscription)


class InMemoryEventHub(LocalFanout):
    """Single-process hub for the embedded mode."""

    def publish(self, topic: str, payload: dict[str, Any]) -> None:
        self.deliver_threadsafe(topic, payload)

    async def start(self) -> None:
        self.bind_loop(asyncio.get_running_loop())

    async def stop(self) -> None:
        self._loop = None


class RedisEventHub(LocalFanout):
    """Publishes to Redis; one pattern subscription per process fans events out locally."""

    def __init__(
        self,
        url: str,
        namespace: str = "lendgraph",
        queue_size: int = 100,
        reconnect_delay: float = 0.5,
    ) -> None:
        super().__init__(queue_size)
        self._url = url
        self._prefix = f"{namespace}:events:"
        self._publisher = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
        self._reconnect_delay = reconnect_delay
        self._listener: asyncio.Task[None] | None = None
        self.connected = asyncio.Event()

    def publish(self, topic: str, payload: dict[str, Any]) -> None:
        self._publisher.publish(self._prefix + topic, json.dumps(payload, default=str))

    async def start(self) -> None:
        self.bind_loop(asyncio.get_running_loop())
        self._listener = asyncio.create_task(self._listen_forever(), name="event-hub-listener")

    async def stop(self) -> None:
        if self._listener is not None:
            self._listener.cancel()
            with suppress(asyncio.CancelledError):
                await self._listener
        self._publisher.close()

    async def _listen_forever(self) -> None:
        backoff = Backoff(base=self._reconnect_delay, cap=RECONNECT_CAP_SECONDS)
        while True:
            try:
                await self._listen_once()
            except asyncio.CancelledError:
                raise
            except Exception as error:
                if self.connected.is_set():  # it had been up: a new outage starts the wait over
                    backoff.reset()
                self.connected.clear()
                delay = backoff.next_delay()
                report_failure(log, "event_hub_disconnected", error, delay)
                await asyncio.sleep(delay)
            else:
                backoff.reset()

    async def _listen_once(self) -> None:
        client = aioredis.Redis.from_url(
            self._url, socket_connect_timeout=2, health_check_interval=15
        )
        try:
            async with client.pubsub() as pubsub:
                await pubsub.psubscribe(self._prefix + "*")
                self.connected.set()
                log.info("event_hub_subscribed")
                async for message in pubsub.listen():
                    if message.get("type") != "pmessage":
                        continue
                    topic = message["channel"].decode().removeprefix(self._prefix)
                    self.deliver(topic, json.loads(message["data"]))
        finally:
            await client.aclose()


EventHub = InMemoryEventHub | RedisEventHub


def make_event_hub(redis_url: str | None, namespace: str = "lendgraph") -> EventHub:
    return RedisEventHub(redis_url, namespace) if redis_url else InMemoryEventHub()
