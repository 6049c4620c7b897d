"""Customers and their credit assessments as GraphQL types."""

from __future__ import annotations

import enum
from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated, Any

import strawberry
from strawberry import relay

from domain import credit_assessment as assessment
from domain import customers as domain
from domain.money import Money as DomainMoney
from domain.scoring.loan_history import Component
from resolvers import customers as resolvers
from schema.global_ids import visible_nodes
from schema.info import Info
from schema.scalars import Money

if TYPE_CHECKING:
    from schema.loans import LoanNode


@strawberry.enum(description="The kind of national identity document.")
class IdType(enum.Enum):
    AADHAR = strawberry.enum_value("AADHAR", description="Indian Aadhar id (opaque text).")
    NATIONAL_ID = strawberry.enum_value("NATIONAL_ID", description="A national id card number.")
    PASSPORT = strawberry.enum_value("PASSPORT", description="A passport number.")
    DRIVERS_LICENSE = strawberry.enum_value(
        "DRIVERS_LICENSE", description="A driving licence number (from core banking KYC)."
    )
    VOTERS_ID = strawberry.enum_value(
        "VOTERS_ID", description="A voter's card number (from core banking KYC)."
    )


@strawberry.enum(description="Whether the customer may borrow.")
class CustomerStatus(enum.Enum):
    ACTIVE = strawberry.enum_value("ACTIVE", description="May apply for loans.")
    INACTIVE = strawberry.enum_value("INACTIVE", description="May not apply for loans.")


@strawberry.type(description="One part of a score: the points it gave and why.")
class ScoreComponent:
    name: str = strawberry.field(description="repayment, experience, recentActivity or volume.")
    points: Decimal = strawberry.field(description="Points this component gave.")
    max_points: int = strawberry.field(description="The most it can give.")
    explanation: str = strawberry.field(description="The inputs behind the points.")

    @classmethod
    def from_domain(cls, component: Component) -> ScoreComponent:
        return cls(
            name=component.name,
            points=component.points.quantize(Decimal("0.01")),
            max_points=component.max_points,
            explanation=component.explanation,
        )


@strawberry.type(description="Score 0-100 from the customer's loan history (RULES.md §1).")
class LoanHistoryScore:
    score: int = strawberry.field(description="0-100; above 50 approves at the requested rate.")
    reason: str = strawberry.field(description="How the score was reached.")
    components: list[ScoreComponent] = strawberry.field(description="Each weighted component.")
    current_debt: Money = strawberry.field(description="Principal of loans not yet ended.")
    approved_limit: Money = strawberry.field(description="The limit the debt is compared with.")
    computed_at: datetime = strawberry.field(description="When this was computed.")


@strawberry.type(description="Score 300-900 from savings-account transactions (RULES.md §4).")
class TransactionScore:
    score: int = strawberry.field(description="300-900.")
    balance: Money = strawberry.field(description="Σ credits − Σ debits the score came from.")
    transaction_count: int = strawberry.field(description="Transactions counted.")
    computed_at: datetime = strawberry.field(description="When this was computed.")


@strawberry.type(description="Every score held on a customer, each with what it came from.")
class CreditAssessment:
    loan_history: LoanHistoryScore = strawberry.field(description="The loan-history score.")
    transactions: TransactionScore | None = strawberry.field(
        description="The transaction score; null while the customer has no transactions."
    )

    @classmethod
    def from_domain(cls, found: assessment.CreditAssessment, currency: str) -> CreditAssessment:
        history, stored = found.loan_history, found.transactions
        return cls(
            loan_history=LoanHistoryScore(
                score=history.score,
                reason=history.reason,
                components=[ScoreComponent.from_domain(c) for c in history.components],
                current_debt=Money.from_domain(DomainMoney(history.current_debt, currency)),
                approved_limit=Money.from_domain(DomainMoney(history.approved_limit, currency)),
                computed_at=found.loan_history_computed_at,
            ),
            transactions=None
            if stored is None
            else TransactionScore(
                score=stored.score,
                balance=Money.from_domain(stored.balance),
                transaction_count=stored.transaction_count,
                computed_at=stored.computed_at,
            ),
        )


@strawberry.type(name="Customer", description="Someone Lendgraph lends to.")
class CustomerNode(relay.Node):
    customer_id: relay.NodeID[int]
    row: strawberry.Private[domain.Customer]
    first_name: str = strawberry.field(description="Given name.")
    last_name: str = strawberry.field(description="Family name.")
    age: int = strawberry.field(description="Age in years when registered or imported.")
    date_of_birth: date | None = strawberry.field(description="Date of birth, when known.")
    phone: str = strawberry.field(description="Mobile number (unique).")
    email: str | None = strawberry.field(description="Email address, when known.")
    id_type: IdType | None = strawberry.field(description="Kind of national id held.")
    national_id: str | None = strawberry.field(description="National id (e.g. Aadhar id).")
    national_id_verified: bool = strawberry.field(
        description="Staff have checked the national id; until then no bank data (savings "
        "transactions) is linked to it. Staff registrations, and ids staff set with "
        "updateCustomer, are verified at once."
    )
    customer_number: str | None = strawberry.field(description="Core banking customer number.")
    imported_customer_id: int | None = strawberry.field(
        description="The Customer ID of the spreadsheet this customer was imported from."
    )
    monthly_income: Money = strawberry.field(description="Monthly income.")
    approved_limit: Money = strawberry.field(
        description="The limit current loans are compared with (RULES.md §1): 36 × monthly "
        "income, rounded to the lakh, for customers registered here and whenever a customer "
        "changes their income; imported customers keep the approved limit from the bank's "
        "file, which need not follow that formula."
    )
    status: CustomerStatus = strawberry.field(description="Whether the customer may borrow.")
    has_account: bool = strawberry.field(description="True when the customer can sign in.")
    created_at: datetime = strawberry.field(description="When the record was created (UTC).")

    @strawberry.field(description="Every credit score of this customer, explained.")
    def credit_assessment(self, info: Info) -> CreditAssessment:
        found = resolvers.credit_assessment(info.context, self.row)
        return CreditAssessment.from_domain(found, self.row.currency)

    @strawberry.field(description="This customer's loans, oldest first (imported ones too).")
    def loans(self, info: Info) -> list[Annotated[LoanNode, strawberry.lazy("schema.loans")]]:
        from schema.loans import LoanNode as Node

        return [Node.from_model(loan) for loan in resolvers.loans_of(info.context, self.row)]

    @classmethod
    def from_model(cls, row: domain.Customer) -> CustomerNode:
        assert row.id is not None
        return cls(
            customer_id=row.id,
            row=row,
            first_name=row.first_name,
            last_name=row.last_name,
            age=row.age,
            date_of_birth=row.date_of_birth,
            phone=row.phone,
            email=row.email,
            id_type=IdType(row.id_type.value) if row.id_type else None,
            national_id=row.national_id,
            national_id_verified=row.national_id_verified,
            customer_number=row.customer_number,
            imported_customer_id=row.legacy_id,
            monthly_income=Money.from_domain(row.monthly_income),
            approved_limit=Money.from_domain(row.approved_limit),
            status=CustomerStatus(row.status.value),
            has_account=row.user_id is not None,
            created_at=row.created_at,
        )

    @classmethod
    def resolve_nodes(  # type: ignore[override]
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[CustomerNode | None]:
        return visible_nodes(
            node_ids, lambda ids: resolvers.visible_customers(info.context, ids), cls.from_model
        )


def to_node(row: Any) -> CustomerNode:
    return CustomerNode.from_model(row)
