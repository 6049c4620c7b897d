"""The graphql-transport-ws handler: subscriptions only (queries and mutations use HTTP,
where each runs in a worker thread with its own database session)."""

from __future__ import annotations

import asyncio
from contextlib import suppress
from typing import Any

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

from domain.tables import utcnow

log = structlog.get_logger(__name__)

HTTP_ONLY = "Queries and mutations go to POST /graphql; this websocket carries subscriptions."


def _is_subscription(query: str, operation_name: str | None) -> bool | None:
    try:
        operation = get_operation_ast(parse(query), operation_name)
    except GraphQLSyntaxError:
        return None  # let the usual validation report it
    return None if operation is None else operation.operation is OperationType.SUBSCRIPTION


TOKEN_EXPIRED = 4401  # graphql-transport-ws: unauthorized
TOO_SLOW = 4408
SEND_TIMEOUT_SECONDS = 10.0


class SubscriptionsOnlyHandler(BaseGraphQLTransportWSHandler[Any, None]):
    """Subscriptions only; the connection ends when its access token expires, and a client
    that stops reading is cut off instead of letting messages pile up for it."""

    expiry: asyncio.Task[None] | None = None

    async def handle_connection_init(self, message: ConnectionInitMessage) -> None:
        await super().handle_connection_init(message)
        viewer = getattr(self.context, "viewer", None)
        if self.connection_acknowledged and viewer is not None:
            self.expiry = asyncio.create_task(self._close_at(viewer.token_expires_at))

    async def _close_at(self, expires_at: Any) -> None:
        await asyncio.sleep(max(0.0, (expires_at - utcnow()).total_seconds()))
        log.info("websocket_token_expired")
        await self._close(TOKEN_EXPIRED, "The access token expired; reconnect with a new one.")

    async def _close(self, code: int, reason: str) -> None:
        for operation_id in list(self.operations):
            await self.cleanup_operation(operation_id)
        with suppress(Exception):
            await asyncio.wait_for(self.websocket.close(code=code, reason=reason), 5)

    async def send_message(self, message: Message) -> None:
        try:
            await asyncio.wait_for(super().send_message(message), SEND_TIMEOUT_SECONDS)
        except TimeoutError:
            log.warning("websocket_client_too_slow")
            asyncio.get_running_loop().create_task(
                self._close(TOO_SLOW, "The client stopped reading.")
            )

    async def shutdown(self) -> None:
        if self.expiry is not None:
            self.expiry.cancel()
            with suppress(asyncio.CancelledError):
                await self.expiry
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
