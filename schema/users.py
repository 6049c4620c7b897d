"""Users as GraphQL nodes, and the signed-in viewer."""

from __future__ import annotations

import enum
from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any

import strawberry
from strawberry import relay

from domain import users as domain
from resolvers import users as resolvers
from schema.global_ids import visible_nodes
from schema.info import Info
from schema.pagination import AfterCursor, Connection, PageSize, decode_cursor

if TYPE_CHECKING:
    from schema.customers import CustomerNode
    from schema.notifications import Notification
    from schema.providers import Provider


@strawberry.enum(description="What a user may do.")
class Role(enum.Enum):
    CUSTOMER = strawberry.enum_value("CUSTOMER", description="A borrower.")
    PROVIDER = strawberry.enum_value("PROVIDER", description="Puts money in to be lent.")
    STAFF = strawberry.enum_value("STAFF", description="Bank personnel: configures and sees all.")


@strawberry.type(name="User", description="Someone who signs in to Lendgraph.")
class UserNode(relay.Node):
    user_id: relay.NodeID[int]
    username: str = strawberry.field(description="Unique sign-in name.")
    role: Role = strawberry.field(description="What this user may do.")
    is_active: bool = strawberry.field(description="False once the account is disabled.")
    created_at: datetime = strawberry.field(description="When the account was created (UTC).")

    @classmethod
    def from_model(cls, user: domain.User) -> UserNode:
        assert user.id is not None
        return cls(
            user_id=user.id,
            username=user.username,
            role=Role(user.role.value),
            is_active=user.is_active,
            created_at=user.created_at,
        )

    @classmethod
    def resolve_nodes(  # type: ignore[override]
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[UserNode | None]:
        return visible_nodes(
            node_ids, lambda ids: resolvers.visible_users(info.context, ids), cls.from_model
        )


@strawberry.type(description="The signed-in user: who is asking and in which role.")
class Viewer:
    user: strawberry.Private[domain.User]

    @strawberry.field(description="Global id of the signed-in user (a `User` node).")
    def id(self) -> relay.GlobalID:
        return relay.GlobalID("User", str(self.user.id))

    @strawberry.field(description="The signed-in user's username.")
    def username(self) -> str:
        return self.user.username

    @strawberry.field(description="The signed-in user's role.")
    def role(self) -> Role:
        return Role(self.user.role.value)

    @strawberry.field(description="The signed-in provider's profile and balances, if a provider.")
    def provider(
        self, info: Info
    ) -> Annotated[Provider, strawberry.lazy("schema.providers")] | None:
        from resolvers.providers import my_provider
        from schema.providers import Provider as ProviderType

        row = my_provider(info.context)
        return ProviderType(row=row) if row is not None else None

    @strawberry.field(description="The signed-in user's customer record, if they are one.")
    def customer(
        self, info: Info
    ) -> Annotated[CustomerNode, strawberry.lazy("schema.customers")] | None:
        from resolvers.customers import my_customer
        from schema.customers import CustomerNode

        row = my_customer(info.context)
        return CustomerNode.from_model(row) if row is not None else None

    @strawberry.field(description="Your notifications, oldest first.")
    def notifications(
        self,
        info: Info,
        first: PageSize = 20,
        after: AfterCursor = None,
        unread_only: Annotated[
            bool, strawberry.argument(description="Only those not yet marked read.")
        ] = False,
    ) -> Connection[Annotated[Notification, strawberry.lazy("schema.notifications")]]:
        from resolvers.notifications import my_notifications
        from schema.notifications import Notification as NotificationType

        page = my_notifications(info.context, first, decode_cursor(after), unread_only)
        return Connection[NotificationType].from_page(
            page, NotificationType.from_model, lambda row: row.id
        )


def to_node(user: Any) -> UserNode:
    return UserNode.from_model(user)
