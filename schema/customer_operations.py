"""Registering customers, changing one's profile, and finding customers."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from functools import partial
from typing import Annotated

import strawberry

from domain import customers as domain
from domain.national_ids import NationalIdChange
from domain.sign_up import SignUpReceived as SignUpOutcome
from resolvers import customers as resolvers
from schema.customers import CustomerNode, IdType, to_node
from schema.errors import (
    CustomerNotFoundError,
    DuplicateCustomerError,
    InvalidInputError,
    NotAuthenticatedError,
    PermissionDeniedError,
    RateLimitedError,
    UsernameTakenError,
    outcome,
    outcome_of,
)
from schema.global_ids import lookup_node, row_of
from schema.info import Info
from schema.pagination import AfterCursor, Connection, PageSize, decode_cursor
from schema.permissions import IsStaff


@strawberry.input(
    description="A new customer. Staff register others; anyone signed out may sign up."
)
class RegisterCustomerInput:
    first_name: str = strawberry.field(description="Given name.")
    last_name: str = strawberry.field(description="Family name.")
    phone: str = strawberry.field(description="Mobile number, 7-15 digits, optional +.")
    age: int | None = strawberry.field(default=None, description="Age (18-100), or give a DOB.")
    date_of_birth: date | None = strawberry.field(default=None, description="Date of birth.")
    email: str | None = strawberry.field(default=None, description="Email address.")
    national_id: str | None = strawberry.field(
        default=None, description="National id as the bank's files carry it (6-64 characters)."
    )
    id_type: IdType | None = strawberry.field(
        default=None, description="Kind of national id; AADHAR when omitted."
    )
    monthly_income: Decimal | None = strawberry.field(
        default=None, description="Monthly income (or give annualIncome)."
    )
    annual_income: Decimal | None = strawberry.field(
        default=None, description="Annual income; converted to monthly (÷ 12)."
    )
    currency: str = strawberry.field(default="INR", description="Currency of the income.")
    username: str | None = strawberry.field(
        default=None, description="Self sign-up only: the new account's username."
    )
    password: str | None = strawberry.field(
        default=None, description="Self sign-up only: the new account's password (10+ chars)."
    )

    def to_domain(self) -> domain.Registration:
        return domain.Registration(
            first_name=self.first_name,
            last_name=self.last_name,
            phone=self.phone,
            age=self.age,
            date_of_birth=self.date_of_birth,
            email=self.email,
            national_id=self.national_id,
            id_type=domain.IdType(self.id_type.name) if self.id_type else None,
            monthly_income=self.monthly_income,
            annual_income=self.annual_income,
            currency=self.currency,
            username=self.username,
            password=self.password,
        )


@strawberry.input(description="Contact details and income the customer changes themself.")
class UpdateMyProfileInput:
    phone: str | None = strawberry.field(default=None, description="New mobile number.")
    email: str | None = strawberry.field(default=None, description="New email address.")
    monthly_income: Decimal | None = strawberry.field(
        default=None, description="New monthly income; the approved limit is recomputed."
    )
    annual_income: Decimal | None = strawberry.field(
        default=None,
        description="New annual income (÷ 12); the approved limit is recomputed. Incomes are "
        "in the customer's currency.",
    )

    def to_domain(self) -> domain.ProfileChange:
        return domain.ProfileChange(
            phone=self.phone,
            email=self.email,
            monthly_income=self.monthly_income,
            annual_income=self.annual_income,
        )


@strawberry.input(description="The customer whose national id staff have checked.")
class VerifyCustomerIdentityInput:
    customer_id: strawberry.ID = strawberry.field(description="The customer's global id.")


@strawberry.input(
    description="STAFF: a customer's details to change. The national id is set as checked "
    "against the document (verified)."
)
class UpdateCustomerInput:
    customer_id: strawberry.ID = strawberry.field(description="The customer's global id.")
    national_id: str = strawberry.field(
        description="National id as the bank's files carry it (6-64 letters, digits or "
        "dashes), validated as at registration; no other customer may hold it."
    )
    id_type: IdType | None = strawberry.field(
        default=None, description="Kind of national id; AADHAR when omitted."
    )

    def to_domain(self) -> NationalIdChange:
        return NationalIdChange(
            national_id=self.national_id,
            id_type=domain.IdType(self.id_type.name) if self.id_type else None,
        )


@strawberry.type(description="The customer was changed.")
class UpdateCustomerSuccess:
    customer: CustomerNode = strawberry.field(
        description="The customer as changed; the transaction score follows in the background."
    )


@strawberry.type(description="The customer's national id is verified.")
class VerifyCustomerIdentitySuccess:
    customer: CustomerNode = strawberry.field(description="The customer as verified.")


@strawberry.type(description="STAFF: the customer was registered.")
class RegisterCustomerSuccess:
    customer: CustomerNode = strawberry.field(description="The new customer.")


@strawberry.type(
    description="Self sign-up: the same answer whether or not the username, phone number or "
    "national id is already registered. If they were all new, the customer and their "
    "account exist now: sign in with the username and password to continue (`me { customer "
    "}` then shows the record). If sign-in fails, a detail was taken and nothing was stored."
)
class SignUpReceived:
    message: str = strawberry.field(description="What to do next, in plain words.")


def _registered(value: domain.Customer | SignUpOutcome) -> RegisterCustomerSuccess | SignUpReceived:
    if isinstance(value, SignUpOutcome):
        return SignUpReceived(message=value.message)
    return RegisterCustomerSuccess(customer=to_node(value))


@strawberry.type(description="The profile was changed.")
class UpdateMyProfileSuccess:
    customer: CustomerNode = strawberry.field(description="The customer as changed.")


RegisterCustomerResult = Annotated[
    RegisterCustomerSuccess
    | SignUpReceived
    | InvalidInputError
    | DuplicateCustomerError
    | UsernameTakenError
    | PermissionDeniedError
    | RateLimitedError,
    strawberry.union(
        "RegisterCustomerResult",
        description="STAFF: the customer, or precisely why not (DuplicateCustomerError). "
        "Self sign-up: SignUpReceived, invalid input, or RateLimitedError; never whether a "
        "detail is taken (so UsernameTakenError is no longer returned; it stays a member "
        "so that queries naming it remain valid).",
    ),
]
VerifyCustomerIdentityResult = Annotated[
    VerifyCustomerIdentitySuccess
    | InvalidInputError
    | CustomerNotFoundError
    | NotAuthenticatedError
    | PermissionDeniedError,
    strawberry.union("VerifyCustomerIdentityResult", description="The customer, or why not."),
]
UpdateCustomerResult = Annotated[
    UpdateCustomerSuccess
    | InvalidInputError
    | DuplicateCustomerError
    | CustomerNotFoundError
    | NotAuthenticatedError
    | PermissionDeniedError,
    strawberry.union("UpdateCustomerResult", description="The changed customer, or why not."),
]
UpdateMyProfileResult = Annotated[
    UpdateMyProfileSuccess
    | InvalidInputError
    | DuplicateCustomerError
    | NotAuthenticatedError
    | CustomerNotFoundError,
    strawberry.union("UpdateMyProfileResult", description="The changed profile, or why not."),
]


@strawberry.type
class CustomerMutations:
    @strawberry.mutation(
        description="Register a customer. Signed out: self sign-up, also creating a CUSTOMER "
        "account from username and password, answered SignUpReceived whether or not a "
        "detail is already registered (sign in to continue); budgeted per client address "
        "and username (RateLimitedError), one per request. STAFF: on the customer's behalf, "
        "no account, with precise refusals. The approved limit is 36 × monthly income to the "
        "lakh; a transaction score is computed in the background when the national id has "
        "savings transactions."
    )
    def register_customer(
        self,
        info: Info,
        input: Annotated[
            RegisterCustomerInput, strawberry.argument(description="The new customer's details.")
        ],
    ) -> RegisterCustomerResult:
        result = resolvers.register(info.context, input.to_domain())
        return outcome(result, _registered)

    @strawberry.mutation(description="Change the signed-in customer's contact details or income.")
    def update_my_profile(
        self,
        info: Info,
        input: Annotated[
            UpdateMyProfileInput,
            strawberry.argument(description="The details to change; omitted ones stay."),
        ],
    ) -> UpdateMyProfileResult:
        result = resolvers.update_my_profile(info.context, input.to_domain())
        return outcome(result, lambda c: UpdateMyProfileSuccess(customer=to_node(c)))

    @strawberry.mutation(
        description="STAFF: mark a customer's national id as checked against the document; "
        "their savings transactions then count towards a transaction score."
    )
    def verify_customer_identity(
        self,
        info: Info,
        input: Annotated[
            VerifyCustomerIdentityInput, strawberry.argument(description="Whom to verify.")
        ],
    ) -> VerifyCustomerIdentityResult:
        return outcome_of(
            lambda: resolvers.verify_identity(
                info.context, row_of(input.customer_id, "Customer", "customerId")
            ),
            lambda c: VerifyCustomerIdentitySuccess(customer=to_node(c)),
        )

    @strawberry.mutation(
        description="STAFF: set a customer's national id (e.g. the Aadhar id of a customer "
        "imported from the spreadsheet) as checked against the document. Their savings "
        "transactions then count: the transaction score is computed in the background, as "
        "after a staff registration. Setting the id the customer already has changes nothing."
    )
    def update_customer(
        self,
        info: Info,
        input: Annotated[
            UpdateCustomerInput, strawberry.argument(description="Whom to change, and how.")
        ],
    ) -> UpdateCustomerResult:
        return outcome_of(
            lambda: resolvers.update_customer(
                info.context, row_of(input.customer_id, "Customer", "customerId"), input.to_domain()
            ),
            lambda c: UpdateCustomerSuccess(customer=to_node(c)),
        )


@strawberry.type
class CustomerQueries:
    @strawberry.field(
        description="Customers, oldest first, optionally searched by name, phone, national id "
        "or customer number (STAFF only).",
        permission_classes=[IsStaff],
    )
    def customers(
        self,
        info: Info,
        first: PageSize = 20,
        after: AfterCursor = None,
        search: Annotated[str | None, strawberry.argument(description="Text to look for.")] = None,
    ) -> Connection[CustomerNode]:
        page = resolvers.customers_page(info.context, search, first, decode_cursor(after))
        return Connection[CustomerNode].from_page(page, to_node, lambda c: c.id)

    @strawberry.field(description="One customer by global id: STAFF any, a customer themself.")
    def customer(
        self, info: Info, id: Annotated[strawberry.ID, strawberry.argument(description="Id.")]
    ) -> CustomerNode | None:
        visible = partial(resolvers.visible_customers, info.context)
        return lookup_node(id, "Customer", visible, to_node)
