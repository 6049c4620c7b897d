"""Loan providers and their money: types, registration and fund movements."""

from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated

import strawberry
from strawberry import relay

from domain import providers as domain
from domain.funding import Funding
from domain.loans import Loan
from domain.origination import still_owed
from domain.pagination import page_of_loaded
from resolvers import providers as resolvers
from resolvers.loaders import FundedTotalLoader, LoanLoader, ScheduleLoader
from resolvers.payments import my_shares, payments_of_loan
from schema.errors import (
    IdempotencyConflictError,
    InsufficientFundsError,
    InvalidInputError,
    NotAuthenticatedError,
    PermissionDeniedError,
    ProviderNotFoundError,
    UsernameTakenError,
    outcome,
    outcome_of,
)
from schema.global_ids import lookup_row, optional_row_of
from schema.info import Info
from schema.pagination import AfterCursor, Connection, PageSize, decode_cursor
from schema.permissions import IsStaff
from schema.scalars import Money


@strawberry.enum(description="Which of a provider's balances money moves from.")
class FundsSource(enum.Enum):
    AVAILABLE = strawberry.enum_value("AVAILABLE", description="Funds not yet lent.")
    WALLET = strawberry.enum_value("WALLET", description="Repayments shared back.")


@strawberry.type(
    description="A loan a provider funds, as the provider sees it: its number "
    "and standing, never the borrower."
)
class FundedLoan:
    row: strawberry.Private[Loan]
    provider_id: strawberry.Private[int]

    @strawberry.field(description="The loan number.")
    def number(self) -> int:
        return self.row.number

    @strawberry.field(description="Where the loan stands.")
    def status(self) -> str:
        return self.row.status.value

    @strawberry.field(description="Principal and interest still owed on the whole loan.")
    def remaining_balance(self, info: Info) -> Money:
        dues = info.context.loader(ScheduleLoader).load(self.row.id or 0) or []
        return Money.from_domain(still_owed(dues, self.row.currency).total)

    @strawberry.field(
        description="The borrower's payments, oldest first (each is shared to the funders' "
        "wallets in proportion to their funding)."
    )
    def payments(
        self, info: Info, first: PageSize = 20, after: AfterCursor = None
    ) -> Connection[FundedLoanPayment]:
        rows = payments_of_loan(info.context, self.row)
        page = page_of_loaded(rows, first, decode_cursor(after), lambda p: p.id)
        shares = my_shares(info.context, list(page.items), self.provider_id)
        return Connection[FundedLoanPayment].from_page(
            page,
            lambda p: FundedLoanPayment(
                amount=Money.from_domain(p.amount),
                paid_on=p.paid_on,
                your_share=Money.from_minor(shares.get(p.id, 0), p.currency),
            ),
            lambda p: p.id,
        )


@strawberry.type(description="A repayment of a loan a provider funds: amount and date only.")
class FundedLoanPayment:
    amount: Money = strawberry.field(description="Amount the borrower paid.")
    paid_on: date = strawberry.field(description="The day it was paid.")
    your_share: Money = strawberry.field(
        description="What of it went to your wallet (in proportion to your funding)."
    )


@strawberry.type(description="What one provider put into one loan.")
class ProviderFunding:
    row: strawberry.Private[Funding]
    currency: strawberry.Private[str]

    @strawberry.field(description="Amount this provider funded.")
    def amount(self) -> Money:
        return Money.from_minor(self.row.amount_minor, self.currency)

    @strawberry.field(
        description="This provider's share of the loan (0-1); repayments are "
        "shared back in this proportion."
    )
    def share(self, info: Info) -> Decimal:
        whole = info.context.loader(FundedTotalLoader).load(self.row.loan_id)
        return (Decimal(self.row.amount_minor) / Decimal(whole)).quantize(Decimal("0.000001"))

    @strawberry.field(description="The loan, as a provider may see it.")
    def loan(self, info: Info) -> FundedLoan:
        return FundedLoan(
            row=info.context.loader(LoanLoader).load(self.row.loan_id),
            provider_id=self.row.provider_id,
        )


@strawberry.type(description="The providers' pool (STAFF): never lends more than was put in.")
class FundPool:
    total_funds: Money = strawberry.field(description="Put in by providers, not withdrawn.")
    lent: Money = strawberry.field(description="Lent out of it.")
    available: Money = strawberry.field(description="Still available to lend.")


@strawberry.type(description="Someone who puts money in the pool to be lent.")
class Provider:
    row: strawberry.Private[domain.Provider]

    @strawberry.field(description="Global id of the provider.")
    def id(self) -> relay.GlobalID:
        return relay.GlobalID("Provider", str(self.row.id))

    @strawberry.field(description="The provider's name.")
    def name(self) -> str:
        return self.row.name

    @strawberry.field(description="Money that may still be lent (from the ledger).")
    def available_funds(self, info: Info) -> Money:
        return Money.from_domain(resolvers.balances_of(info.context, self.row)[0])

    @strawberry.field(description="Repayments shared back and not yet withdrawn (ledger).")
    def wallet(self, info: Info) -> Money:
        return Money.from_domain(resolvers.balances_of(info.context, self.row)[1])

    @strawberry.field(description="When the provider was registered.")
    def created_at(self) -> datetime:
        return self.row.created_at

    @strawberry.field(description="Everything this provider has funded in all.")
    def total_funded(self, info: Info) -> Money:
        return Money.from_domain(resolvers.total_funded(info.context, self.row))

    @strawberry.field(description="The loans this provider funds, oldest first.")
    def fundings(
        self, info: Info, first: PageSize = 20, after: AfterCursor = None
    ) -> Connection[ProviderFunding]:
        page = resolvers.fundings(info.context, self.row, first, decode_cursor(after))
        currency = self.row.currency
        return Connection[ProviderFunding].from_page(
            page, lambda row: ProviderFunding(row=row, currency=currency), lambda row: row.id
        )


@strawberry.type(description="A movement of a provider's funds and the balances it left.")
class ProviderFundsMovement:
    row: strawberry.Private[domain.ProviderOperation]
    provider: Provider = strawberry.field(description="Whose funds moved.")

    @strawberry.field(description="ADD or WITHDRAW.")
    def kind(self) -> str:
        return self.row.kind

    @strawberry.field(description="Amount moved.")
    def amount(self) -> Money:
        return Money.from_minor(self.row.amount_minor, self.provider.row.currency)

    @strawberry.field(description="Available funds right after this movement.")
    def available_after(self) -> Money:
        return Money.from_minor(self.row.available_after_minor, self.provider.row.currency)

    @strawberry.field(description="Wallet right after this movement.")
    def wallet_after(self) -> Money:
        return Money.from_minor(self.row.wallet_after_minor, self.provider.row.currency)


@strawberry.input(description="A new provider and their sign-in (STAFF).")
class RegisterProviderInput:
    name: str = strawberry.field(description="The provider's name.")
    username: str = strawberry.field(description="Their sign-in name.")
    password: str = strawberry.field(description="Their password (10+ characters).")


@strawberry.input(
    description="Money a provider puts in. Replays with the same key return "
    "the first result; the same key for another request is refused. Keys are each user's "
    "own (staff adding for a provider use theirs)."
)
class AddProviderFundsInput:
    amount: Decimal = strawberry.field(description="Positive amount in the pool's currency.")
    idempotency_key: str = strawberry.field(
        description="8-100 characters, unique among your requests."
    )
    provider_id: strawberry.ID | None = strawberry.field(
        default=None, description="STAFF: for which provider. A provider adds to their own."
    )


@strawberry.input(description="Money a provider takes out, from available funds or wallet.")
class WithdrawProviderFundsInput:
    amount: Decimal = strawberry.field(description="Positive amount, at most the balance.")
    source: FundsSource = strawberry.field(description="Available funds or the wallet.")
    idempotency_key: str = strawberry.field(
        description="8-100 characters, unique among your requests."
    )


@strawberry.type(description="The provider was registered.")
class RegisterProviderSuccess:
    provider: Provider = strawberry.field(description="The new provider.")


_ERRORS = InvalidInputError | NotAuthenticatedError | PermissionDeniedError
RegisterProviderResult = Annotated[
    RegisterProviderSuccess | UsernameTakenError | _ERRORS,
    strawberry.union("RegisterProviderResult", description="The provider, or why not."),
]
MoveFundsResult = Annotated[
    ProviderFundsMovement
    | ProviderNotFoundError
    | InsufficientFundsError
    | IdempotencyConflictError
    | _ERRORS,
    strawberry.union("ProviderFundsResult", description="The movement, or why not."),
]


def _movement(operation: domain.ProviderOperation, info: Info) -> ProviderFundsMovement:
    row = info.context.db.get(domain.Provider, operation.provider_id)
    assert row is not None
    return ProviderFundsMovement(row=operation, provider=Provider(row=row))


@strawberry.type
class ProviderMutations:
    @strawberry.mutation(description="Register a loan provider with a PROVIDER sign-in (STAFF).")
    def register_provider(
        self,
        info: Info,
        input: Annotated[RegisterProviderInput, strawberry.argument(description="Who.")],
    ) -> RegisterProviderResult:
        result = resolvers.register(info.context, input.username, input.password, input.name)
        return outcome(result, lambda row: RegisterProviderSuccess(provider=Provider(row=row)))

    @strawberry.mutation(description="Put money in the pool (the provider, or STAFF for one).")
    def add_provider_funds(
        self,
        info: Info,
        input: Annotated[AddProviderFundsInput, strawberry.argument(description="How much.")],
    ) -> MoveFundsResult:
        return outcome_of(
            lambda: resolvers.move(
                info.context,
                kind="ADD",
                amount=str(input.amount),
                source=None,
                key=input.idempotency_key,
                provider_id=optional_row_of(input.provider_id, "Provider", "providerId"),
            ),
            lambda op: _movement(op, info),
        )

    @strawberry.mutation(description="Take money out, never more than the balance (provider).")
    def withdraw_provider_funds(
        self,
        info: Info,
        input: Annotated[
            WithdrawProviderFundsInput, strawberry.argument(description="How much, from where.")
        ],
    ) -> MoveFundsResult:
        result = resolvers.move(
            info.context,
            kind="WITHDRAW",
            amount=str(input.amount),
            source=domain.FundsSource(input.source.name),
            key=input.idempotency_key,
            provider_id=None,
        )
        return outcome(result, lambda op: _movement(op, info))


@strawberry.type
class ProviderQueries:
    @strawberry.field(description="The pool's totals (STAFF only).", permission_classes=[IsStaff])
    def fund_pool(self, info: Info) -> FundPool:
        totals = resolvers.fund_pool(info.context)
        return FundPool(
            total_funds=Money.from_domain(totals.total_funds),
            lent=Money.from_domain(totals.lent),
            available=Money.from_domain(totals.available),
        )

    @strawberry.field(description="One provider: STAFF any, a provider themself.")
    def provider(
        self,
        info: Info,
        id: Annotated[strawberry.ID, strawberry.argument(description="Its id.")],
    ) -> Provider | None:
        wanted = lookup_row(id, "Provider")
        row = resolvers.provider(info.context, wanted)
        return Provider(row=row) if row is not None else None

    @strawberry.field(
        description="Every provider, oldest first (STAFF only).", permission_classes=[IsStaff]
    )
    def providers(
        self, info: Info, first: PageSize = 20, after: AfterCursor = None
    ) -> Connection[Provider]:
        page = resolvers.providers_page(info.context, first, decode_cursor(after))
        return Connection[Provider].from_page(
            page, lambda row: Provider(row=row), lambda row: row.id
        )
