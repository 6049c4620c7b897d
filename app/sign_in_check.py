"""Whether an access token still holds, on every request: its user's row (active, role,
session version), remembered for at most SIGN_IN_CACHE_SECONDS in this process.

A sign-out is forgotten at once in the process that committed it (RevokingPublisher) and,
through the `accessRevoked` event, in every other; should an event be lost (Redis down),
the cache's lifetime bounds how long another process keeps trusting a revoked token.
"""

from __future__ import annotations

import threading
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import structlog
from sqlmodel import Session

from domain.ports import EventPublisher
from domain.users import ACCESS_REVOKED, SignInState, sign_in_state
from resolvers.context import SubscriberTooSlow, Viewer

log = structlog.get_logger(__name__)

MAX_REMEMBERED_USERS = 10_000

Subscribe = Callable[[str], AsyncIterator[dict[str, Any]]]


class SignInCheck:
    """The per-request check, cached by user id. Thread-safe: requests run in worker
    threads, revocation events arrive on the event loop."""

    def __init__(self, ttl_seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl = ttl_seconds
        self._clock = clock
        self._lock = threading.Lock()
        self._states: dict[int, tuple[float, SignInState | None]] = {}
        self._generation = 0  # moves on with every forget, so a load racing one is not kept

    def admits(self, session: Session, viewer: Viewer) -> bool:
        """True while the viewer's user is active, in the token's role and not signed out
        since the token was issued; reads the users row (one lookup) unless remembered."""
        found, state = self._remembered(viewer.user_id)
        if not found:
            state = self._load(session, viewer.user_id)
        return state is not None and state.admits(viewer.role, viewer.session_version)

    def _remembered(self, user_id: int) -> tuple[bool, SignInState | None]:
        with self._lock:
            entry = self._states.get(user_id)
            if entry is None or entry[0] <= self._clock():
                return False, None
            return True, entry[1]

    def _load(self, session: Session, user_id: int) -> SignInState | None:
        with self._lock:
            generation = self._generation
        state = sign_in_state(session, user_id)
        with self._lock:
            if self.ttl > 0 and generation == self._generation:
                if len(self._states) >= MAX_REMEMBERED_USERS:
                    self._drop_expired()
                self._states[user_id] = (self._clock() + self.ttl, state)
        return state

    def _drop_expired(self) -> None:
        now = self._clock()
        self._states = {k: v for k, v in self._states.items() if v[0] > now}
        if len(self._states) >= MAX_REMEMBERED_USERS:
            self._states.clear()

    def forget(self, user_id: int) -> None:
        with self._lock:
            self._generation += 1
            self._states.pop(user_id, None)

    def forget_all(self) -> None:
        with self._lock:
            self._generation += 1
            self._states.clear()

    async def follow(self, subscribe: Subscribe) -> None:
        """Forget each user whose access is revoked in any process (runs for the app's life)."""
        while True:
            try:
                async for event in subscribe(ACCESS_REVOKED):
                    self._forget_revoked(event)
            except SubscriberTooSlow:
                log.warning("sign_in_check_missed_revocations")
                self.forget_all()  # some were missed: trust nothing remembered

    def _forget_revoked(self, event: dict[str, Any]) -> None:
        try:
            self.forget(int(event["userId"]))
        except (KeyError, TypeError, ValueError):
            log.warning("sign_in_check_bad_revocation", message_id=event.get("messageId"))
            self.forget_all()


class RevokingPublisher:
    """The event hub as the outbox dispatcher sees it: an `accessRevoked` event is applied to
    this process's check before it is published, so the process that committed a sign-out
    refuses the revoked tokens on the very next request, whatever the hub does."""

    def __init__(self, hub: EventPublisher, check: SignInCheck) -> None:
        self._hub = hub
        self._check = check

    def publish(self, topic: str, payload: dict[str, Any]) -> None:
        if topic == ACCESS_REVOKED:
            self._check.forget(int(payload["userId"]))
            log.info(
                "access_revoked",
                user_id=payload["userId"],
                session_version=payload.get("sessionVersion"),
                reason=payload.get("reason"),
            )
        self._hub.publish(topic, payload)
