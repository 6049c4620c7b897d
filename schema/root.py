"""The root operation types: everything a client can ask or do."""

from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry import relay

from resolvers import auth as auth_resolvers
from resolvers import users as user_resolvers
from schema.auth import AuthMutations
from schema.billing import BillingMutations, BillingQueries
from schema.customer_operations import CustomerMutations, CustomerQueries
from schema.eligibility import EligibilityQueries
from schema.global_ids import resolve_node
from schema.imports import ImportQueries
from schema.info import Info
from schema.loans import LoanMutations, LoanQueries
from schema.notifications import NotificationMutations
from schema.onboarding import OnboardingMutations
from schema.pagination import AfterCursor, Connection, PageSize, decode_cursor
from schema.payments import PaymentMutations, PaymentQueries
from schema.permissions import IsStaff
from schema.products import ProductMutations, ProductQueries
from schema.providers import ProviderMutations, ProviderQueries
from schema.users import UserNode, Viewer, to_node


@strawberry.type(description="Everything that can be read.")
class Query(
    CustomerQueries,
    ImportQueries,
    ProductQueries,
    EligibilityQueries,
    LoanQueries,
    PaymentQueries,
    ProviderQueries,
    BillingQueries,
):
    @strawberry.field(
        description="Any object by its global id, if the viewer may see it (else null)."
    )
    def node(
        self,
        info: Info,
        id: Annotated[strawberry.ID, strawberry.argument(description="A global id.")],
    ) -> relay.Node | None:
        return resolve_node(info, id)

    @strawberry.field(description="The signed-in user, or null when not signed in.")
    def me(self, info: Info) -> Viewer | None:
        user = auth_resolvers.me(info.context)
        return Viewer(user=user) if user is not None else None

    @strawberry.field(
        description="All users, oldest first (STAFF only).", permission_classes=[IsStaff]
    )
    def users(
        self,
        info: Info,
        first: PageSize = 20,
        after: AfterCursor = None,
    ) -> Connection[UserNode]:
        page = user_resolvers.users_page(info.context, first, decode_cursor(after))
        return Connection[UserNode].from_page(page, to_node, lambda user: user.id)


@strawberry.type(description="Everything that changes state. Each returns a result union.")
class Mutation(
    AuthMutations,
    CustomerMutations,
    OnboardingMutations,
    ProductMutations,
    LoanMutations,
    PaymentMutations,
    ProviderMutations,
    NotificationMutations,
    BillingMutations,
):
    pass
