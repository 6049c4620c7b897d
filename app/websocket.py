"""The graphql-transport-ws handler: subscriptions only (queries and mutations use HTTP,
where each runs in a worker thread with its own database session)."""

from __future__ import annotations

from typing import Any

from graphql import GraphQLError, GraphQLSyntaxError, OperationType, parse
from graphql.utilities import get_operation_ast
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
)
from strawberry.subscriptions.protocols.graphql_transport_ws.types import SubscribeMessage

HTTP_ONLY = "Queries and mutations go to POST /graphql; this websocket carries subscriptions."


def _is_subscription(query: str, operation_name: str | None) -> bool | None:
    try:
        operation = get_operation_ast(parse(query), operation_name)
    except GraphQLSyntaxError:
        return None  # let the usual validation report it
    return None if operation is None else operation.operation is OperationType.SUBSCRIPTION


class SubscriptionsOnlyHandler(BaseGraphQLTransportWSHandler[Any, None]):
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
