"""Eligibility: what a product's policy would decide, with every reason, changing nothing."""

from __future__ import annotations

import enum
from datetime import date
from decimal import Decimal
from typing import Annotated

import strawberry

from domain.applications import LoanAsk
from domain.decisions import Decision
from domain.schedules import Installment as DomainInstallment
from resolvers import applications as resolvers
from schema.errors import (
    CustomerNotFoundError,
    InvalidInputError,
    NotAuthenticatedError,
    PermissionDeniedError,
    ProductNotFoundError,
    outcome_of,
)
from schema.global_ids import optional_row_of
from schema.info import Info
from schema.scalars import Money


@strawberry.enum(description="What a decision says.")
class DecisionOutcome(enum.Enum):
    APPROVED = strawberry.enum_value("APPROVED", description="The loan can be made.")
    REJECTED = strawberry.enum_value("REJECTED", description="Refused; see the reasons.")
    PENDING = strawberry.enum_value("PENDING", description="Waiting for an external score.")


@strawberry.type(description="One rule behind a decision.")
class DecisionReason:
    code: str = strawberry.field(description="Stable code, e.g. EMI_ABOVE_HALF_OF_SALARY.")
    message: str = strawberry.field(description="The rule and the figures, in plain words.")


@strawberry.type(description="One due of a repayment schedule.")
class ScheduledInstallment:
    number: int = strawberry.field(description="1 for the first due.")
    due_date: date = strawberry.field(description="When it is due.")
    principal: Money = strawberry.field(description="Principal part.")
    interest: Money = strawberry.field(description="Interest part.")
    total: Money = strawberry.field(description="Amount due.")

    @classmethod
    def from_domain(cls, row: DomainInstallment) -> ScheduledInstallment:
        return cls(
            number=row.number,
            due_date=row.due_date,
            principal=Money.from_domain(row.principal),
            interest=Money.from_domain(row.interest),
            total=Money.from_domain(row.total),
        )


@strawberry.type(description="The decision a loan request would get, and why.")
class Eligibility:
    outcome: DecisionOutcome = strawberry.field(description="Approved, rejected or pending.")
    approval: bool = strawberry.field(description="True when the loan can be made.")
    interest_rate: Decimal = strawberry.field(description="The rate asked for, in percent.")
    corrected_interest_rate: Decimal = strawberry.field(
        description="The rate the loan would carry: policy may raise the one asked for."
    )
    tenure: int = strawberry.field(description="Term in the product's unit.")
    installment: Money | None = strawberry.field(
        description="First amount due at the corrected rate (EMI, weekly installment, "
        "minimum due, or the single payment) when approved; null when rejected or pending."
    )
    schedule: list[ScheduledInstallment] = strawberry.field(
        description="Every due at the corrected rate (a credit card's assumes minimum dues "
        "are paid on time); given even when not approved, to show the figures the rules "
        "were checked against."
    )
    reasons: list[DecisionReason] = strawberry.field(description="Every rule that decided it.")
    credit_score: int | None = strawberry.field(description="The score the policy used.")

    @classmethod
    def from_domain(cls, decision: Decision) -> Eligibility:
        installment = decision.installment
        return cls(
            outcome=DecisionOutcome(decision.outcome.value),
            approval=decision.outcome.value == "APPROVED",
            interest_rate=decision.interest_rate,
            corrected_interest_rate=decision.corrected_interest_rate,
            tenure=decision.tenure,
            installment=Money.from_domain(installment) if installment else None,
            schedule=[ScheduledInstallment.from_domain(r) for r in decision.schedule],
            reasons=[DecisionReason(code=r.code, message=r.message) for r in decision.reasons],
            credit_score=decision.score,
        )


@strawberry.input(description="A loan request to evaluate.")
class EligibilityInput:
    product_code: str = strawberry.field(description="Which product, e.g. PERSONAL_EMI.")
    amount: Decimal = strawberry.field(description="Amount asked for.")
    interest_rate: Decimal | None = strawberry.field(
        default=None, description="Rate asked for (percent); the product's when omitted."
    )
    tenure: int | None = strawberry.field(
        default=None, description="Term in the product's unit; its shortest when omitted."
    )
    disbursement_date: date | None = strawberry.field(
        default=None, description="When the money would be paid out; today when omitted."
    )
    customer_id: strawberry.ID | None = strawberry.field(
        default=None, description="STAFF: for whom. A customer always asks for themself."
    )


EligibilityResult = Annotated[
    Eligibility
    | ProductNotFoundError
    | CustomerNotFoundError
    | InvalidInputError
    | NotAuthenticatedError
    | PermissionDeniedError,
    strawberry.union("EligibilityResult", description="The decision, or why there is none."),
]


@strawberry.type
class EligibilityQueries:
    @strawberry.field(
        description="What the product's policy would decide for this request, with every "
        "reason, the corrected rate and the schedule. Changes nothing."
    )
    def eligibility(
        self,
        info: Info,
        input: Annotated[EligibilityInput, strawberry.argument(description="The request.")],
    ) -> EligibilityResult:
        ask = LoanAsk(
            input.product_code,
            input.amount,
            input.interest_rate,
            input.tenure,
            input.disbursement_date,
        )
        return outcome_of(
            lambda: resolvers.eligibility(
                info.context, ask, optional_row_of(input.customer_id, "Customer", "customerId")
            ),
            Eligibility.from_domain,
        )
