"""Delivering events to this process's subscribers: each through a bounded queue (one that
falls behind is cut off with `SubscriberTooSlow` rather than allowed to grow memory), each
event once (by its outbox message id), however often it arrives."""

from __future__ import annotations

import asyncio
from collections import OrderedDict, defaultdict
from collections.abc import AsyncIterator, Callable
from typing import Any

import structlog

from resolvers.context import EventsMissed, SubscriberTooSlow

log = structlog.get_logger(__name__)

_OVERFLOW = object()
_MISSED = object()
REMEMBERED_EVENTS = 20_000  # ids of the events delivered lately, to deliver each once

Wanted = Callable[[dict[str, Any]], bool]


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
