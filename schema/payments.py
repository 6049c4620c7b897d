"""Payments: makePayment, how each payment was allocated, and loan statements."""

from __future__ import annotations

import enum
from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry import relay

from domain import payments as domain
from resolvers import payments as resolvers
from resolvers.loaders import AllocationsLoader, LoanLoader
from schema.errors import (
    IdempotencyConflictError,
    InvalidInputError,
    LoanClosedError,
    LoanNotDisbursedError,
    LoanNotFoundError,
    NotAuthenticatedError,
    PaymentExceedsOutstandingError,
    PaymentMustMatchInstallmentError,
    PaymentsNotAcceptedError,
    PermissionDeniedError,
    outcome_of,
)
from schema.global_ids import row_of, visible_nodes
from schema.info import Info
from schema.scalars import Money

if TYPE_CHECKING:
    from schema.loans import LoanNode

PAYMENT_RULES = (
    "One mutation for every product, each by its own rules. Monthly EMI loans: the "
    "payment pays every installment due by the end of the current period (the first due "
    "date on or after paidOn), oldest first and interest before principal; anything more "
    "prepays principal and the later installments are recalculated over the same dates: "
    "the term is kept and the installment goes down; paying off everything closes the "
    "loan and removes the later installments. More than those dues plus the principal "
    "left is refused. Exact-installment loans (weekly flat): exactly the oldest unpaid "
    "installment, one per payment. Other loans (e.g. provider-funded): any amount up to "
    "what is owed, oldest due first, interest before principal; provider-funded "
    "repayments are shared to the funders' wallets in proportion to their funding, to the"
    " cent. Credit-card loans: one payment a day, paying what the latest bill still asks "
    "(past dues, then the current minimum) and then principal, billed interest before "
    "principal, up to the principal plus the interest billed; later bills come from the "
    "new principal, and the loan closes when neither principal nor interest is owed "
    "(the allocation's installmentNumber is the bill's cycle). paidOn defaults to today; "
    "only STAFF may record another day, which may be "
    "neither in the future, nor before the loan started, nor before the latest payment. "
    "Replaying your idempotencyKey returns your first payment; reusing it for another "
    "request is refused. Keys are each user's own: staff paying for a customer and the "
    "customer never share one. A refused payment changes nothing."
)


@strawberry.enum(description="What part of a payment paid.")
class AllocationKind(enum.Enum):
    INSTALLMENT = strawberry.enum_value(
        "INSTALLMENT", description="(Part of) a scheduled installment."
    )
    PREPAYMENT = strawberry.enum_value(
        "PREPAYMENT", description="Principal paid ahead of the schedule."
    )


@strawberry.type(description="One part of a payment: where it went, principal and interest.")
class PaymentAllocation:
    kind: AllocationKind = strawberry.field(description="An installment or a prepayment.")
    installment_number: int | None = strawberry.field(
        description="The installment paid; null for a prepayment."
    )
    due_date: date | None = strawberry.field(description="That installment's due date.")
    principal: Money = strawberry.field(description="Principal paid.")
    interest: Money = strawberry.field(description="Interest paid.")
    total: Money = strawberry.field(description="Principal plus interest.")


@strawberry.type(name="Payment", description="Money paid on a loan, and how it was applied.")
class PaymentNode(relay.Node):
    payment_id: relay.NodeID[int]
    row: strawberry.Private[domain.Payment]
    amount: Money = strawberry.field(description="Amount paid.")
    principal: Money = strawberry.field(description="Of which principal.")
    interest: Money = strawberry.field(description="Of which interest.")
    paid_on: date = strawberry.field(description="The day it was paid.")
    created_at: datetime = strawberry.field(description="When it was recorded.")

    @classmethod
    def from_model(cls, row: domain.Payment) -> PaymentNode:
        assert row.id is not None
        return cls(
            payment_id=row.id,
            row=row,
            amount=Money.from_domain(row.amount),
            principal=Money.from_domain(row.principal),
            interest=Money.from_domain(row.interest),
            paid_on=row.paid_on,
            created_at=row.created_at,
        )

    @classmethod
    def resolve_nodes(  # type: ignore[override]
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[PaymentNode | None]:
        return visible_nodes(
            node_ids, lambda ids: resolvers.visible_payments(info.context, ids), cls.from_model
        )

    @strawberry.field(description="The installments (or prepayment) it paid, in order.")
    def allocations(self, info: Info) -> list[PaymentAllocation]:
        currency = self.row.currency
        return [
            PaymentAllocation(
                kind=AllocationKind(a.kind.value),
                installment_number=a.installment_number,
                due_date=a.due_date,
                principal=Money.from_minor(a.principal_minor, currency),
                interest=Money.from_minor(a.interest_minor, currency),
                total=Money.from_minor(a.principal_minor + a.interest_minor, currency),
            )
            for a in info.context.loader(AllocationsLoader).load(self.payment_id) or []
        ]

    @strawberry.field(description="The loan it was paid on, as it stands now.")
    def loan(self, info: Info) -> Annotated[LoanNode, strawberry.lazy("schema.loans")]:
        from schema.loans import LoanNode

        return LoanNode.from_model(info.context.loader(LoanLoader).load(self.row.loan_id))


@strawberry.type(description="A payment on a statement.")
class StatementTransaction:
    on: date = strawberry.field(name="date", description="The day it was paid.")
    principal: Money = strawberry.field(description="Principal part.")
    interest: Money = strawberry.field(description="Interest part.")
    amount_paid: Money = strawberry.field(description="Amount paid.")


@strawberry.type(description="An installment still to pay.")
class UpcomingDue:
    installment_number: int = strawberry.field(description="Which installment.")
    due_date: date = strawberry.field(description="When it is due.")
    amount_due: Money = strawberry.field(description="What is still owed of it.")


@strawberry.type(description="A loan's statement: payments made and dues still to pay.")
class LoanStatement:
    transactions: list[StatementTransaction] = strawberry.field(
        description="Payments in the period, oldest first."
    )
    upcoming_dues: list[UpcomingDue] = strawberry.field(
        description="Unpaid installments due in the period (overdue ones included), in order. "
        "Credit-card loans: what the latest bill still asks, then the bills to come projected "
        "from the current principal, assuming each minimum is paid on time."
    )

    @classmethod
    def from_domain(cls, statement: domain.Statement) -> LoanStatement:
        return cls(
            transactions=[
                StatementTransaction(
                    on=line.on,
                    principal=Money.from_domain(line.principal),
                    interest=Money.from_domain(line.interest),
                    amount_paid=Money.from_domain(line.paid),
                )
                for line in statement.transactions
            ],
            upcoming_dues=[
                UpcomingDue(
                    installment_number=due.number,
                    due_date=due.on,
                    amount_due=Money.from_domain(due.amount),
                )
                for due in statement.upcoming
            ],
        )


LoanStatementResult = Annotated[
    LoanStatement | LoanClosedError,
    strawberry.union("LoanStatementResult", description="The statement, or why there is none."),
]
StatementResult = Annotated[
    LoanStatement | LoanNotFoundError | LoanClosedError | InvalidInputError,
    strawberry.union("StatementResult", description="The statement, or why there is none."),
]
SinceArg = Annotated[
    date | None, strawberry.argument(name="from", description="From this day (inclusive).")
]
UntilArg = Annotated[date | None, strawberry.argument(description="To this day (inclusive).")]


@strawberry.input(description="A payment on a loan. " + PAYMENT_RULES)
class MakePaymentInput:
    loan_id: strawberry.ID = strawberry.field(description="The loan paid on.")
    amount: Decimal = strawberry.field(description="Amount paid, in the loan's currency.")
    idempotency_key: str = strawberry.field(
        description="8-100 characters, unique among your payments."
    )
    paid_on: date | None = strawberry.field(default=None, description="Day paid; today if null.")

    def to_domain(self) -> domain.PaymentRequest:
        loan = row_of(self.loan_id, "Loan", "loanId")
        return domain.PaymentRequest(loan, self.amount, self.paid_on, self.idempotency_key)


MakePaymentResult = Annotated[
    PaymentNode
    | InvalidInputError
    | LoanNotFoundError
    | LoanClosedError
    | LoanNotDisbursedError
    | PaymentsNotAcceptedError
    | PaymentExceedsOutstandingError
    | PaymentMustMatchInstallmentError
    | IdempotencyConflictError
    | NotAuthenticatedError
    | PermissionDeniedError,
    strawberry.union("MakePaymentResult", description="The payment, or why it was refused."),
]


@strawberry.type
class PaymentQueries:
    @strawberry.field(
        description="A loan's statement: payments and the dues still to pay, within "
        "[from, to] when given. Unknown or someone else's loan, or a closed one: a typed error;"
        " an id that is no Loan id: InvalidInputError."
    )
    def loan_statement(
        self,
        info: Info,
        loan_id: Annotated[strawberry.ID, strawberry.argument(description="The loan.")],
        since: SinceArg = None,
        to: UntilArg = None,
    ) -> StatementResult:
        return outcome_of(
            lambda: resolvers.loan_statement(
                info.context, row_of(loan_id, "Loan", "loanId"), since, to
            ),
            LoanStatement.from_domain,
        )


@strawberry.type
class PaymentMutations:
    @strawberry.mutation(
        description="Pay on a loan (customer: their own; STAFF: any). " + PAYMENT_RULES
    )
    def make_payment(
        self,
        info: Info,
        input: Annotated[MakePaymentInput, strawberry.argument(description="The payment.")],
    ) -> MakePaymentResult:
        return outcome_of(
            lambda: resolvers.make_payment(info.context, input.to_domain()), PaymentNode.from_model
        )
