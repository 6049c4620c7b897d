"""Subscribing customers from the core banking system (RULES.md §3)."""

from __future__ import annotations

from typing import Annotated

import strawberry

from resolvers import onboarding as resolvers
from schema.customers import CustomerNode, to_node
from schema.errors import (
    CoreBankingUnavailableError,
    CustomerAlreadySubscribedError,
    CustomerNotInCoreBankingError,
    DuplicateCustomerError,
    InvalidInputError,
    KycUnusableError,
    NotAuthenticatedError,
    PermissionDeniedError,
    UsernameTakenError,
    outcome,
)
from schema.info import Info


@strawberry.input(description="A customer of the core banking system to lend to.")
class SubscribeCustomerInput:
    customer_number: str = strawberry.field(
        description="The customer's number in the core banking system (e.g. 234774784)."
    )
    username: str | None = strawberry.field(
        default=None, description="Optional: a sign-in for the customer, with `password`."
    )
    password: str | None = strawberry.field(
        default=None, description="The new sign-in's password (10+ characters)."
    )


@strawberry.type(description="The customer was subscribed from their core banking KYC record.")
class SubscribeCustomerSuccess:
    customer: CustomerNode = strawberry.field(description="The new customer.")


SubscribeCustomerResult = Annotated[
    SubscribeCustomerSuccess
    | InvalidInputError
    | CustomerNotInCoreBankingError
    | CoreBankingUnavailableError
    | KycUnusableError
    | CustomerAlreadySubscribedError
    | DuplicateCustomerError
    | UsernameTakenError
    | NotAuthenticatedError
    | PermissionDeniedError,
    strawberry.union("SubscribeCustomerResult", description="The customer, or why not."),
]


@strawberry.type
class OnboardingMutations:
    @strawberry.mutation(
        description="STAFF: subscribe a customer from the core banking system by customer "
        "number alone. Names, id, mobile, email, date of birth, status and monthly income "
        "come from the CBS's KYC record (income in CBS_CURRENCY; approved limit 36 × income "
        "to the lakh). Nothing is stored when the CBS does not know the number, cannot be "
        "reached, or its record lacks (or garbles) names, mobile, birth date or income."
    )
    def subscribe_customer(
        self,
        info: Info,
        input: Annotated[
            SubscribeCustomerInput, strawberry.argument(description="Whom to subscribe.")
        ],
    ) -> SubscribeCustomerResult:
        result = resolvers.subscribe(
            info.context, input.customer_number, input.username, input.password
        )
        return outcome(result, lambda c: SubscribeCustomerSuccess(customer=to_node(c)))
