"""The event hub behind subscriptions: in-memory when embedded, Redis pub/sub across processes.

Publishing is synchronous and thread-safe (use cases run in worker threads and in Dramatiq
workers); subscribing is async. Each subscriber has a bounded queue: one that falls behind
is cut off (`SubscriberTooSlow`) rather than allowed to grow memory. A process delivers each
event once (by its outbox message id), however often it arrives.

Redis keeps nothing for a pub/sub subscriber that is not connected. So the Redis hub notes
when it last heard from Redis and, each time it subscribes again, replays from the outbox
(`history`) every event sent since then: a Redis blip loses nothing. Only when replay is
impossible (no history, the database down too, a gap longer than `ReplayPolicy.limit`) does
it end every subscription with `EventsMissed`, so clients know to refetch.
"""

from __future__ import annotations

import asyncio
import json
from collections import OrderedDict, defaultdict
from collections.abc import AsyncIterator, Callable
from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import redis
import redis.asyncio as aioredis
import structlog
from redis.backoff import NoBackoff
from redis.retry import Retry

from domain.tables import utcnow
from resolvers.context import EventsMissed, SubscriberTooSlow

log = structlog.get_logger(__name__)

_OVERFLOW = object()
_MISSED = object()
REMEMBERED_EVENTS = 20_000  # ids of the events delivered lately, to deliver each once

Wanted = Callable[[dict[str, Any]], bool]
# (since, limit) -> [(topic, event)] sent since then or still to be sent, oldest first.
History = Callable[[datetime, int], list[tuple[str, dict[str, Any]]]]


@dataclass(frozen=True)
class ReplayPolicy:
    """How the Redis hub catches up after losing its connection."""

    margin: timedelta = timedelta(seconds=5)  # clock skew between processes, and latency
    limit: int = 10_000  # a longer gap is not replayed: subscribers are told to refetch
    patience_seconds: float = 10.0  # how long a replayed event waits for room in a queue
    ping_seconds: float = 5.0  # an idle connection pings; the answer proves nothing was missed


class _Subscription:
    def __init__(self, size: int, wanted: Wanted | None) -> None:
        self.queue: asyncio.Queue[Any] = asyncio.Queue(maxsize=size)
        self.wanted = wanted

    def admits(self, payload: dict[str, Any]) -> bool:
        return self.wanted is None or self.wanted(payload)

    def offer(self, payload: dict[str, Any]) -> bool:
        try:
            self.queue.put_nowait(payload)
        except asyncio.QueueFull:
            self._end_with(_OVERFLOW)
            return False
        return True

    async def offer_patiently(self, payload: dict[str, Any], patience: float) -> bool:
        """Wait a while for room: a replay comes as a burst the reader needs time for."""
        try:
            await asyncio.wait_for(self.queue.put(payload), patience)
        except TimeoutError:
            self._end_with(_OVERFLOW)
            return False
        return True

    def tell_missed(self) -> None:
        """What is queued is still delivered, then the news that events were missed."""
        try:
            self.queue.put_nowait(_MISSED)
        except asyncio.QueueFull:
            self._end_with(_MISSED)

    def _end_with(self, marker: object) -> None:
        while not self.queue.empty():
            self.queue.get_nowait()
        self.queue.put_nowait(marker)


class LocalFanout:
    """Delivers events to this process's subscribers, on the event loop's thread."""

    def __init__(self, queue_size: int = 100, remembered: int = REMEMBERED_EVENTS) -> None:
        self._queue_size = queue_size
        self._subscriptions: dict[str, set[_Subscription]] = defaultdict(set)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._delivered: OrderedDict[str, None] = OrderedDict()
        self._remembered = remembered

    def bind_loop(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop

    def _first_time(self, payload: dict[str, Any]) -> bool:
        """False for an event delivered here already (relayed twice, or replayed and live)."""
        message_id = payload.get("messageId")
        if message_id is None:
            return True
        if message_id in self._delivered:
            return False
        self._delivered[message_id] = None
        if len(self._delivered) > self._remembered:
            self._delivered.popitem(last=False)
        return True

    def _audience(self, topic: str, payload: dict[str, Any]) -> list[_Subscription]:
        # Other people's events never take room in a subscriber's queue.
        return [s for s in list(self._subscriptions.get(topic, ())) if s.admits(payload)]

    def deliver(self, topic: str, payload: dict[str, Any]) -> None:
        if not self._first_time(payload):
            return
        for subscription in self._audience(topic, payload):
            if not subscription.offer(payload):
                self._too_slow(topic, subscription)

    async def redeliver(self, topic: str, payload: dict[str, Any], patience: float) -> None:
        """`deliver`, waiting up to `patience` seconds for room in each subscriber's queue."""
        if not self._first_time(payload):
            return
        for subscription in self._audience(topic, payload):
            if subscription not in self._subscriptions.get(topic, ()):
                continue  # it ended while an earlier one was waited for
            if not await subscription.offer_patiently(payload, patience):
                self._too_slow(topic, subscription)

    def _too_slow(self, topic: str, subscription: _Subscription) -> None:
        self._forget(topic, subscription)
        log.warning("subscriber_too_slow", topic=topic)

    def tell_everyone_missed(self) -> int:
        """End every subscription with `EventsMissed`; returns how many there were."""
        told = 0
        for topic, subscriptions in list(self._subscriptions.items()):
            for subscription in list(subscriptions):
                subscription.tell_missed()
                self._forget(topic, subscription)
                told += 1
        return told

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

    def has_subscribers(self) -> bool:
        return bool(self._subscriptions)

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
                if item is _MISSED:
                    raise EventsMissed(topic)
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
    """Publishes to Redis; one pattern subscription per process fans events out locally,
    and replays from `history` whatever was sent while it was not subscribed."""

    def __init__(
        self,
        url: str,
        namespace: str = "lendgraph",
        queue_size: int = 100,
        reconnect_delay: float = 0.5,
        *,
        history: History | None = None,
        replay: ReplayPolicy | None = None,
    ) -> None:
        super().__init__(queue_size)
        self._url = url
        self._prefix = f"{namespace}:events:"
        self._publisher = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
        self._reconnect_delay = reconnect_delay
        self._history = history
        self._replay = replay or ReplayPolicy()
        self._heard_at = utcnow()  # everything sent before this reached the subscribers
        self._listener: asyncio.Task[None] | None = None
        self.connected = asyncio.Event()

    def publish(self, topic: str, payload: dict[str, Any]) -> None:
        self._publisher.publish(self._prefix + topic, json.dumps(payload, default=str))

    async def start(self) -> None:
        self.bind_loop(asyncio.get_running_loop())
        self._heard_at = utcnow()
        self._listener = asyncio.create_task(self._listen_forever(), name="event-hub-listener")

    async def stop(self) -> None:
        if self._listener is not None:
            self._listener.cancel()
            with suppress(asyncio.CancelledError):
                await self._listener
        self._publisher.close()

    async def _listen_forever(self) -> None:
        delay = self._reconnect_delay
        while True:
            try:
                await self._listen_once()
            except asyncio.CancelledError:
                raise
            except Exception as error:
                self.connected.clear()
                log.warning("event_hub_disconnected", error=repr(error), retry_in=delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 10.0)
            else:
                delay = self._reconnect_delay

    async def _listen_once(self) -> None:
        # No retries inside redis-py: its pub/sub would reconnect and resubscribe by itself,
        # and whatever was published in between would be lost unseen. Every lost connection
        # ends up here instead, and the next subscription starts with a replay.
        client = aioredis.Redis.from_url(
            self._url, socket_connect_timeout=2, retry=Retry(NoBackoff(), 0)
        )
        try:
            async with client.pubsub() as pubsub:
                subscribed_at = await self._subscribe(pubsub)
                await self._catch_up()
                self._heard_at = subscribed_at
                self.connected.set()
                log.info("event_hub_subscribed")
                await self._relay(pubsub)
        finally:
            await client.aclose()

    async def _subscribe(self, pubsub: Any) -> datetime:
        """Subscribe and wait until Redis confirms: from then on every event reaches us."""
        await pubsub.psubscribe(self._prefix + "*")
        while True:
            message = await pubsub.get_message(timeout=self._replay.ping_seconds)
            if message is None:
                raise ConnectionError("Redis did not confirm the subscription")
            if message["type"] == "psubscribe":
                return utcnow()

    async def _catch_up(self) -> None:
        """Replay, once each, what was sent since Redis was last heard (a margin earlier)."""
        if not self.has_subscribers():
            return
        if self._history is None:
            self._give_up("this hub has no event history to replay from")
            return
        since = self._heard_at - self._replay.margin
        try:
            events = await asyncio.to_thread(self._history, since, self._replay.limit + 1)
        except Exception as error:
            self._give_up(f"the event history could not be read: {error!r}")
            return
        if len(events) > self._replay.limit:
            self._give_up(f"more than {self._replay.limit} events to replay")
            return
        for topic, payload in events:
            await self.redeliver(topic, payload, self._replay.patience_seconds)
        log.info("event_hub_replayed", since=since.isoformat(), events=len(events))

    def _give_up(self, reason: str) -> None:
        told = self.tell_everyone_missed()
        log.warning("event_hub_replay_impossible", reason=reason, subscribers_told=told)

    async def _relay(self, pubsub: Any) -> None:
        """Hand Redis's messages to local subscribers, noting when Redis was last heard. An
        idle connection pings Redis; one that stays silent through three pings is dropped."""
        unanswered = 0
        while True:
            message = await pubsub.get_message(timeout=self._replay.ping_seconds)
            if message is None:
                unanswered += 1
                if unanswered > 3:
                    raise ConnectionError("Redis stopped answering")
                await pubsub.ping()
                continue
            unanswered = 0
            self._heard_at = utcnow()
            if message["type"] == "pmessage":
                self._deliver_message(message)

    def _deliver_message(self, message: dict[str, Any]) -> None:
        topic = message["channel"].decode().removeprefix(self._prefix)
        try:
            payload = json.loads(message["data"])
        except ValueError:
            log.warning("event_hub_message_unreadable", topic=topic)
            return
        self.deliver(topic, payload)


EventHub = InMemoryEventHub | RedisEventHub


def make_event_hub(
    redis_url: str | None, namespace: str = "lendgraph", history: History | None = None
) -> EventHub:
    """Redis pub/sub (replaying from `history` after an outage) or the in-memory hub."""
    if redis_url:
        return RedisEventHub(redis_url, namespace, history=history)
    return InMemoryEventHub()
