"""The graphql-transport-ws handler: subscriptions only (queries and mutations use HTTP,
where each runs in a worker thread with its own database session)."""

from __future__ import annotations

import asyncio
from contextlib import suppress
from typing import Any

import anyio
import structlog
from graphql import GraphQLError, GraphQLSyntaxError, OperationType, parse
from graphql.utilities import get_operation_ast
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
)
from strawberry.subscriptions.protocols.graphql_transport_ws.types import (
    ConnectionInitMessage,
    Message,
    SubscribeMessage,
)

from domain.database_outage import is_database_outage
from domain.tables import utcnow
from domain.users import ACCESS_REVOKED
from resolvers.context import SubscriberTooSlow
from workers.recovery import Backoff, report_failure

log = structlog.get_logger(__name__)

HTTP_ONLY = "Queries and mutations go to POST /graphql; this websocket carries subscriptions."


def _is_subscription(query: str, operation_name: str | None) -> bool | None:
    try:
        operation = get_operation_ast(parse(query), operation_name)
    except GraphQLSyntaxError:
        return None  # let the usual validation report it
    return None if operation is None else operation.operation is OperationType.SUBSCRIPTION


TOKEN_EXPIRED = 4401  # graphql-transport-ws: unauthorized
SIGNED_OUT = 4403
TOO_SLOW = 4408
TRY_AGAIN_LATER = 1013  # RFC 6455 registry: the sign-in check could not reach the database
UNAVAILABLE = "The service is briefly unavailable; reconnect in a few seconds."
SEND_TIMEOUT_SECONDS = 10.0
# The `accessRevoked` event closes a signed-out user's connections at once; this re-check
# is the safety net for a lost event or an account disabled in the database directly:
# with the sign-in cache (at most 2 s) it ends a connection within 5 s either way.
RECHECK_SECONDS = 2.5


class SubscriptionsOnlyHandler(BaseGraphQLTransportWSHandler[Any, None]):
    """Subscriptions only. The connection ends when its access token expires or its user
    signs out (at once on the `accessRevoked` event, and checked every RECHECK_SECONDS), and
    a client that stops reading is cut off instead of letting messages pile up for it."""

    watcher: asyncio.Task[None] | None = None
    revocations: asyncio.Task[None] | None = None
    closing: asyncio.Task[None] | None = None

    async def handle_connection_init(self, message: ConnectionInitMessage) -> None:
        try:
            await super().handle_connection_init(message)
        except Exception as error:
            if not is_database_outage(error):
                raise
            log.warning("websocket_database_unavailable", error=repr(error))
            await self.websocket.close(code=TRY_AGAIN_LATER, reason=UNAVAILABLE)
            return
        viewer = getattr(self.context, "viewer", None)
        if self.connection_acknowledged and viewer is not None and self.watcher is None:
            self.watcher = asyncio.create_task(self._watch(viewer))
            self.revocations = asyncio.create_task(self._close_on_revocation(viewer))

    async def _watch(self, viewer: Any) -> None:
        """Until the token expires or its user signs out. Expiry needs no database, so it ends
        the connection on time whatever else fails; a sign-out check that fails (the database
        is away) is logged and tried again after a backoff, never ending the watch."""
        backoff = Backoff(base=1.0, cap=RECHECK_SECONDS)
        wait = RECHECK_SECONDS
        while True:
            left = (viewer.token_expires_at - utcnow()).total_seconds()
            if left <= 0:
                log.info("websocket_token_expired")
                self._close_once(TOKEN_EXPIRED, "The access token expired; reconnect.")
                return
            await asyncio.sleep(min(left, wait))
            if viewer.token_expires_at <= utcnow():
                continue
            try:
                active = await self._still_signed_in(viewer)
            except Exception as error:
                wait = backoff.next_delay()
                report_failure(log, "websocket_recheck_failed", error, wait)
                continue
            backoff.reset()
            wait = RECHECK_SECONDS
            if not active:
                log.info("websocket_signed_out")
                self._close_once(SIGNED_OUT, "Signed out.")
                return

    async def _still_signed_in(self, viewer: Any) -> bool:
        view: Any = self.view
        return bool(await anyio.to_thread.run_sync(view._is_active, viewer, limiter=view.limiter))

    async def _close_on_revocation(self, viewer: Any) -> None:
        """Close as soon as any process revokes the access this connection signed in with."""
        events = getattr(self.context, "events", None)
        if events is None:
            return

        def revokes_this_token(event: dict[str, Any]) -> bool:
            version = event.get("sessionVersion")
            return (
                event.get("userId") == viewer.user_id
                and isinstance(version, int)
                and version > viewer.session_version
            )

        with suppress(SubscriberTooSlow):  # the periodic re-check still stands guard
            async for event in events(ACCESS_REVOKED, revokes_this_token):
                log.info("websocket_signed_out", reason=event.get("reason"))
                self._close_once(SIGNED_OUT, "Signed out.")
                return

    def _close_once(self, code: int, reason: str) -> None:
        if self.closing is None:
            self.closing = asyncio.get_running_loop().create_task(self._close(code, reason))

    async def _close(self, code: int, reason: str) -> None:
        for operation_id in list(self.operations):
            await self.cleanup_operation(operation_id)
        # No timeout of our own: the websocket layer drops a peer that never takes the
        # close frame, and cutting its close short would keep the connection open.
        with suppress(Exception):
            await self.websocket.close(code=code, reason=reason)

    async def send_message(self, message: Message) -> None:
        try:
            async with asyncio.timeout(SEND_TIMEOUT_SECONDS):
                await super().send_message(message)
        except TimeoutError:
            log.warning("websocket_client_too_slow")
            self._close_once(TOO_SLOW, "The client stopped reading.")

    async def shutdown(self) -> None:
        for task in (self.watcher, self.revocations, self.closing):
            if task is not None and task is not asyncio.current_task():
                task.cancel()
                with suppress(asyncio.CancelledError):
                    await task
        await super().shutdown()

    async def handle_subscribe(self, message: SubscribeMessage) -> None:
        payload = message.get("payload") or {}
        kind = _is_subscription(str(payload.get("query") or ""), payload.get("operationName"))
        if kind is False and self.connection_acknowledged:
            await self.send_message(
                {
                    "id": message["id"],
                    "type": "error",
                    "payload": [
                        GraphQLError(HTTP_ONLY, extensions={"code": "BAD_REQUEST"}).formatted
                    ],
                }
            )
            return
        await super().handle_subscribe(message)
