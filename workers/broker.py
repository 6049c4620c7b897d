"""The Dramatiq broker: Redis in production, an in-process stub when embedded."""

from __future__ import annotations

import dramatiq
from dramatiq.brokers.redis import RedisBroker
from dramatiq.brokers.stub import StubBroker
from dramatiq.middleware import Retries

from workers.completion import JobCompletion
from workers.metrics import JobMetrics

# Actors declare themselves on import; until `setup_broker` runs they wait on a stub, never
# on Dramatiq's implicit default (which would try RabbitMQ).
dramatiq.set_broker(StubBroker())


def setup_broker(redis_url: str | None, namespace: str = "lendgraph") -> dramatiq.Broker:
    """Install the process-wide broker and move every declared actor onto it."""
    broker: dramatiq.Broker = (
        RedisBroker(url=redis_url, namespace=namespace, socket_timeout=5, socket_connect_timeout=5)
        if redis_url
        else StubBroker()
    )
    broker.add_middleware(JobMetrics())
    # Before Retries in the list, so after it when a message is done (after-hooks run in
    # reverse): by then Retries has marked a message that is out of retries as failed.
    broker.add_middleware(JobCompletion(), before=Retries)
    previous = dramatiq.get_broker()
    for name in sorted(previous.get_declared_actors()):
        actor = previous.get_actor(name)
        actor.broker = broker
        broker.declare_actor(actor)
    dramatiq.set_broker(broker)
    return broker
