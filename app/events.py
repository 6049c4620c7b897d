"""The event hub behind subscriptions: in-memory when embedded, Redis pub/sub across processes.

Publishing is synchronous and thread-safe (use cases run in worker threads and in Dramatiq
workers); subscribing is async. Delivery inside a process (bounded queues, each event once)
is app.event_fanout's.

Redis keeps nothing for a pub/sub subscriber that is not connected. So the Redis hub notes
when it last heard from Redis and, each time it subscribes again, replays from the outbox
(`history`) every event sent since then: a Redis blip loses nothing. Only when replay is
impossible (no history, the database down too, a gap longer than `ReplayPolicy.limit`) does
it end every subscription with `EventsMissed`, so clients know to refetch.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import redis
import redis.asyncio as aioredis
import structlog
from redis.backoff import NoBackoff
from redis.retry import Retry

from app.event_fanout import LocalFanout, Wanted
from domain.tables import utcnow
from resolvers.context import EventsMissed, SubscriberTooSlow

__all__ = [
    "EventHub",
    "EventsMissed",
    "History",
    "InMemoryEventHub",
    "LocalFanout",
    "RedisEventHub",
    "ReplayPolicy",
    "SubscriberTooSlow",
    "Wanted",
    "make_event_hub",
]
from workers.recovery import Backoff, report_failure

log = structlog.get_logger(__name__)
RECONNECT_CAP_SECONDS = 10.0  # live updates: come back quickly once Redis does

# (since, limit) -> [(topic, event)] sent since then or still to be sent, oldest first.
History = Callable[[datetime, int], list[tuple[str, dict[str, Any]]]]


@dataclass(frozen=True)
class ReplayPolicy:
    """How the Redis hub catches up after losing its connection."""

    margin: timedelta = timedelta(seconds=5)  # clock skew between processes, and latency
    limit: int = 10_000  # a longer gap is not replayed: subscribers are told to refetch
    patience_seconds: float = 10.0  # how long a replayed event waits for room in a queue
    ping_seconds: float = 5.0  # an idle connection pings; the answer proves nothing was missed


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
