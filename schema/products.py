"""Loan products and the P2P pool settings as GraphQL types, queries and mutations."""

# The GraphQL enums are built from the domain enums at import time, which mypy cannot follow.
# mypy: disable-error-code="valid-type,attr-defined,misc,call-overload"

from __future__ import annotations

import enum
from decimal import Decimal
from typing import Annotated, Any

import strawberry

from domain import products as domain
from resolvers import products as resolvers
from schema.errors import (
    InvalidInputError,
    NotAuthenticatedError,
    PermissionDeniedError,
    ProductCodeTakenError,
    ProductNotFoundError,
    outcome,
)
from schema.info import Info
from schema.permissions import IsAuthenticated
from schema.scalars import Money


def _mirror(domain_enum: type[enum.Enum], description: str, values: dict[str, str]) -> Any:
    """A GraphQL enum with the domain enum's members, each described."""
    members = {
        m.name: strawberry.enum_value(m.value, description=values[m.name]) for m in domain_enum
    }
    return strawberry.enum(
        enum.Enum(domain_enum.__name__, members),
        description=description,
    )


TermUnit = _mirror(
    domain.TermUnit,
    "The unit a product's term is counted in.",
    {"MONTH": "Months.", "WEEK": "Weeks.", "DAY": "Days."},
)
RepaymentStyle = _mirror(
    domain.RepaymentStyle,
    "How a product is repaid.",
    {
        "EMI_REDUCING": "Monthly EMI on a reducing balance (RULES.md §1).",
        "FLAT_INSTALLMENTS": "Flat interest once, equal installments (§5).",
        "REVOLVING": "Credit card: 30-day bills with minimum dues (§4).",
        "FLAT_SINGLE": "Amount × (1 + rate), due once (§2).",
    },
)
RateMode = _mirror(
    domain.RateMode,
    "Who sets a loan's interest rate.",
    {
        "FIXED": "Always the product's rate.",
        "REQUESTED": "The customer's requested rate, which policy may correct upwards.",
    },
)
EligibilityPolicy = _mirror(
    domain.EligibilityPolicy,
    "How applications are decided.",
    {
        "LOAN_HISTORY_SCORE": "Score 0-100 from loan history; slabs correct the rate (§1).",
        "TRANSACTION_SCORE": "Score 300-900 from savings transactions and income rules (§4).",
        "EXTERNAL_SCORE": "Scored by the external engine; pending until it answers (§3).",
        "LIMITS_ONLY": "Only the product's amount and term limits (§2, §5).",
    },
)
FundingSource = _mirror(
    domain.FundingSource,
    "Whose money is lent.",
    {"BANK": "The bank's own funds.", "PROVIDERS": "The loan providers' pool (§2)."},
)
PaymentRule = _mirror(
    domain.PaymentRule,
    "What payments are accepted.",
    {
        "ANY_AMOUNT": "Any amount up to what is owed.",
        "EXACT_INSTALLMENT": "Exactly the oldest unpaid installment (§5).",
    },
)
DelinquencyRule = _mirror(
    domain.DelinquencyRule,
    "When a loan counts as delinquent.",
    {"NONE": "Not tracked.", "TWO_MISSED_IN_A_ROW": "The two latest dues are both unpaid (§5)."},
)


@strawberry.type(description="What a lending business offers and how it decides and repays.")
class LoanProduct:
    row: strawberry.Private[domain.LoanProduct]

    @strawberry.field(description="Stable code, e.g. PERSONAL_EMI.")
    def code(self) -> str:
        return self.row.code

    @strawberry.field(description="Name shown to people.")
    def name(self) -> str:
        return self.row.name

    @strawberry.field(description="Currency of every amount of this product.")
    def currency(self) -> str:
        return self.row.currency

    @strawberry.field(description="Smallest amount lent.")
    def amount_min(self) -> Money:
        return Money.from_domain(self.row.amount_min)

    @strawberry.field(description="Largest amount lent.")
    def amount_max(self) -> Money:
        return Money.from_domain(self.row.amount_max)

    @strawberry.field(description="Shortest term, in termUnit.")
    def term_min(self) -> int:
        return self.row.term_min

    @strawberry.field(description="Longest term, in termUnit.")
    def term_max(self) -> int:
        return self.row.term_max

    @strawberry.field(description="Unit of the term.")
    def term_unit(self) -> TermUnit:
        return TermUnit[self.row.term_unit.name]

    @strawberry.field(description="How loans of this product are repaid.")
    def repayment_style(self) -> RepaymentStyle:
        return RepaymentStyle[self.row.repayment_style.name]

    @strawberry.field(description="The product's interest rate in percent (annual, or flat).")
    def interest_rate(self) -> Decimal:
        return self.row.interest_rate

    @strawberry.field(description="The lowest rate policy accepts, in percent.")
    def minimum_rate(self) -> Decimal:
        return self.row.minimum_rate

    @strawberry.field(description="Who sets the rate.")
    def rate_mode(self) -> RateMode:
        return RateMode[self.row.rate_mode.name]

    @strawberry.field(description="How applications are decided.")
    def eligibility_policy(self) -> EligibilityPolicy:
        return EligibilityPolicy[self.row.eligibility_policy.name]

    @strawberry.field(description="Whose money is lent.")
    def funding_source(self) -> FundingSource:
        return FundingSource[self.row.funding_source.name]

    @strawberry.field(description="What payments are accepted.")
    def payment_rule(self) -> PaymentRule:
        return PaymentRule[self.row.payment_rule.name]

    @strawberry.field(description="When a loan counts as delinquent.")
    def delinquency_rule(self) -> DelinquencyRule:
        return DelinquencyRule[self.row.delinquency_rule.name]

    @strawberry.field(
        description="Borrowers are reminded this many days before each due date (0: never)."
    )
    def reminder_days(self) -> int:
        return self.row.reminder_days

    @strawberry.field(description="False when the product takes no new applications.")
    def active(self) -> bool:
        return self.row.active


@strawberry.type(description="The P2P pool's terms (RULES.md §2); loans keep the terms they got.")
class BankConfig:
    min_amount: Money = strawberry.field(description="Smallest P2P loan.")
    max_amount: Money = strawberry.field(description="Largest P2P loan.")
    interest_rate: Decimal = strawberry.field(description="Flat rate in percent, charged once.")
    duration_days: int = strawberry.field(description="Days until a P2P loan is due.")

    @classmethod
    def from_domain(cls, row: domain.BankConfig) -> BankConfig:
        return cls(
            min_amount=Money.from_domain(row.min_amount),
            max_amount=Money.from_domain(row.max_amount),
            interest_rate=row.interest_rate,
            duration_days=row.duration_days,
        )


@strawberry.input(description="A new loan product (STAFF).")
class CreateLoanProductInput:
    code: str = strawberry.field(description="Stable code: capital letters, digits and _.")
    name: str = strawberry.field(description="Name shown to people.")
    currency: str = strawberry.field(description="ISO 4217 code, e.g. INR.")
    amount_min: Decimal = strawberry.field(description="Smallest amount.")
    amount_max: Decimal = strawberry.field(description="Largest amount.")
    term_min: int = strawberry.field(description="Shortest term.")
    term_max: int = strawberry.field(description="Longest term.")
    term_unit: TermUnit = strawberry.field(description="Unit of the term.")
    repayment_style: RepaymentStyle = strawberry.field(description="How it is repaid.")
    interest_rate: Decimal = strawberry.field(description="Rate in percent.")
    minimum_rate: Decimal = strawberry.field(default=Decimal(0), description="Lowest rate.")
    rate_mode: RateMode = strawberry.field(description="Who sets the rate.")
    eligibility_policy: EligibilityPolicy = strawberry.field(description="How it is decided.")
    funding_source: FundingSource = strawberry.field(description="Whose money.")
    payment_rule: PaymentRule = strawberry.field(description="Which payments.")
    delinquency_rule: DelinquencyRule = strawberry.field(description="Delinquency.")

    def to_domain(self) -> domain.NewProduct:
        return domain.NewProduct(
            code=self.code,
            name=self.name,
            currency=self.currency,
            amount_min=self.amount_min,
            amount_max=self.amount_max,
            term_min=self.term_min,
            term_max=self.term_max,
            term_unit=domain.TermUnit(self.term_unit.value),
            repayment_style=domain.RepaymentStyle(self.repayment_style.value),
            interest_rate=self.interest_rate,
            minimum_rate=self.minimum_rate,
            rate_mode=domain.RateMode(self.rate_mode.value),
            eligibility_policy=domain.EligibilityPolicy(self.eligibility_policy.value),
            funding_source=domain.FundingSource(self.funding_source.value),
            payment_rule=domain.PaymentRule(self.payment_rule.value),
            delinquency_rule=domain.DelinquencyRule(self.delinquency_rule.value),
        )


@strawberry.input(description="New terms for a product; omitted fields stay as they are.")
class UpdateLoanProductInput:
    code: str = strawberry.field(description="Which product.")
    name: str | None = strawberry.field(default=None, description="New name.")
    amount_min: Decimal | None = strawberry.field(default=None, description="New minimum.")
    amount_max: Decimal | None = strawberry.field(default=None, description="New maximum.")
    term_min: int | None = strawberry.field(default=None, description="New shortest term.")
    term_max: int | None = strawberry.field(default=None, description="New longest term.")
    interest_rate: Decimal | None = strawberry.field(default=None, description="New rate.")
    minimum_rate: Decimal | None = strawberry.field(default=None, description="New lowest rate.")
    reminder_days: int | None = strawberry.field(
        default=None, description="Days before each due date to remind borrowers (0-30)."
    )
    active: bool | None = strawberry.field(default=None, description="Open or close it.")

    def to_domain(self) -> domain.ProductTerms:
        return domain.ProductTerms(
            name=self.name,
            amount_min=self.amount_min,
            amount_max=self.amount_max,
            term_min=self.term_min,
            term_max=self.term_max,
            interest_rate=self.interest_rate,
            minimum_rate=self.minimum_rate,
            reminder_days=self.reminder_days,
            active=self.active,
        )


@strawberry.input(description="New P2P pool terms; omitted fields stay as they are.")
class UpdateBankConfigInput:
    min_amount: Decimal | None = strawberry.field(default=None, description="Smallest loan.")
    max_amount: Decimal | None = strawberry.field(default=None, description="Largest loan.")
    interest_rate: Decimal | None = strawberry.field(default=None, description="Flat rate, %.")
    duration_days: int | None = strawberry.field(default=None, description="Days to due.")


@strawberry.type(description="The product as saved.")
class LoanProductSuccess:
    product: LoanProduct = strawberry.field(description="The product.")


@strawberry.type(description="The P2P terms as saved.")
class UpdateBankConfigSuccess:
    bank_config: BankConfig = strawberry.field(description="The new terms.")


_STAFF_ERRORS = InvalidInputError | NotAuthenticatedError | PermissionDeniedError
CreateLoanProductResult = Annotated[
    LoanProductSuccess | ProductCodeTakenError | _STAFF_ERRORS,
    strawberry.union("CreateLoanProductResult", description="The product, or why not."),
]
UpdateLoanProductResult = Annotated[
    LoanProductSuccess | ProductNotFoundError | _STAFF_ERRORS,
    strawberry.union("UpdateLoanProductResult", description="The product, or why not."),
]
UpdateBankConfigResult = Annotated[
    UpdateBankConfigSuccess | _STAFF_ERRORS,
    strawberry.union("UpdateBankConfigResult", description="The terms, or why not."),
]


def _product(row: domain.LoanProduct) -> LoanProductSuccess:
    return LoanProductSuccess(product=LoanProduct(row=row))


@strawberry.type
class ProductQueries:
    @strawberry.field(description="Every loan product.", permission_classes=[IsAuthenticated])
    def loan_products(self, info: Info) -> list[LoanProduct]:
        return [LoanProduct(row=row) for row in resolvers.products(info.context)]

    @strawberry.field(
        description="One product by code, or null.", permission_classes=[IsAuthenticated]
    )
    def loan_product(
        self, info: Info, code: Annotated[str, strawberry.argument(description="Its code.")]
    ) -> LoanProduct | None:
        row = resolvers.product(info.context, code)
        return LoanProduct(row=row) if row is not None else None

    @strawberry.field(description="The P2P pool's terms.", permission_classes=[IsAuthenticated])
    def bank_config(self, info: Info) -> BankConfig:
        return BankConfig.from_domain(resolvers.bank_config(info.context))


@strawberry.type
class ProductMutations:
    @strawberry.mutation(description="Add a loan product (STAFF).")
    def create_loan_product(
        self,
        info: Info,
        input: Annotated[CreateLoanProductInput, strawberry.argument(description="It.")],
    ) -> CreateLoanProductResult:
        return outcome(resolvers.create_product(info.context, input.to_domain()), _product)

    @strawberry.mutation(
        description="Change a product's terms (STAFF). Loans already made keep theirs."
    )
    def update_loan_product(
        self,
        info: Info,
        input: Annotated[UpdateLoanProductInput, strawberry.argument(description="Changes.")],
    ) -> UpdateLoanProductResult:
        result = resolvers.update_product(info.context, input.code, input.to_domain())
        return outcome(result, _product)

    @strawberry.mutation(description="Change the P2P pool's terms (STAFF).")
    def update_bank_config(
        self,
        info: Info,
        input: Annotated[UpdateBankConfigInput, strawberry.argument(description="Changes.")],
    ) -> UpdateBankConfigResult:
        change = domain.BankConfigChange(
            min_amount=input.min_amount,
            max_amount=input.max_amount,
            interest_rate=input.interest_rate,
            duration_days=input.duration_days,
        )
        result = resolvers.update_bank_config(info.context, change)
        return outcome(
            result, lambda row: UpdateBankConfigSuccess(bank_config=BankConfig.from_domain(row))
        )
