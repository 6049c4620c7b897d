"""Ports: what the domain needs from the outside world, implemented in integrations/ or app/."""

from __future__ import annotations

from typing import Any, Protocol


class EventPublisher(Protocol):
    """Delivers an event to every subscriber in every process (the event hub)."""

    def publish(self, topic: str, payload: dict[str, Any]) -> None: ...


class JobQueue(Protocol):
    """Enqueues a background job by actor name, carrying the outbox message id."""

    def enqueue(self, actor_name: str, message_id: str, payload: dict[str, Any]) -> None: ...


class AttemptBudget(Protocol):
    """Counts anonymous attempts per key within a scope (a client address, a username)."""

    def spend(self, scope: str, key: str) -> int | None:
        """Count one attempt; None if within the budget, else the seconds until one is free."""
        ...
