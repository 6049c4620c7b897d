"""Loans and loan applications: types, applyForLoan, and the lists."""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import replace
from datetime import date, datetime
from decimal import Decimal
from functools import partial
from typing import Annotated, Any

import strawberry
from strawberry import relay

from domain import loans as domain
from domain import origination, payments
from domain.applications import LoanAsk
from domain.billing import delinquency
from domain.billing.bills import CardBill
from domain.billing.card_payments import CardOwed, card_position, current_minimum
from domain.origination import LoanFilter
from domain.pagination import page_of_loaded
from domain.products import RepaymentStyle
from resolvers import loans as resolvers
from resolvers import payments as payment_resolvers
from resolvers.loaders import (
    BillsLoader,
    CustomerLoader,
    ExternalScoringLoader,
    LoanLoader,
    ProductLoader,
    ScheduleLoader,
)
from schema.bills import Bill
from schema.customers import CustomerNode
from schema.eligibility import DecisionReason
from schema.errors import (
    ApplicationPendingError,
    CustomerNotFoundError,
    IdempotencyConflictError,
    InvalidInputError,
    NotACoreBankingCustomerError,
    NotAuthenticatedError,
    PermissionDeniedError,
    ProductNotFoundError,
    outcome,
    outcome_of,
)
from schema.external_scoring import ExternalScore
from schema.global_ids import lookup_node, optional_row_of, visible_nodes
from schema.info import Info
from schema.pagination import AfterCursor, Connection, PageSize, decode_cursor
from schema.payments import (
    LoanStatement,
    LoanStatementResult,
    PaymentNode,
    SinceArg,
    UntilArg,
)
from schema.products import LoanProduct
from schema.scalars import Money


@strawberry.enum(description="Where a loan stands.")
class LoanStatus(enum.Enum):
    PENDING = strawberry.enum_value("PENDING", description="Awaiting a decision.")
    APPROVED = strawberry.enum_value("APPROVED", description="Approved, not yet paid out.")
    REJECTED = strawberry.enum_value("REJECTED", description="Refused.")
    FAILED = strawberry.enum_value("FAILED", description="No decision could be reached.")
    ACTIVE = strawberry.enum_value("ACTIVE", description="Paid out and being repaid.")
    OVERDUE = strawberry.enum_value(
        "OVERDUE", description="Provider-funded: still owed after its duration."
    )
    PAID = strawberry.enum_value("PAID", description="Closed: nothing owed.")


@strawberry.enum(description="Where an application stands.")
class ApplicationStatus(enum.Enum):
    PENDING = strawberry.enum_value("PENDING", description="Waiting for an external score.")
    APPROVED = strawberry.enum_value("APPROVED", description="Approved: see its loan.")
    REJECTED = strawberry.enum_value("REJECTED", description="Refused: see the reasons.")
    FAILED = strawberry.enum_value("FAILED", description="No decision; apply again.")


@strawberry.type(description="What is still owed on a loan.")
class Outstanding:
    principal: Money = strawberry.field(description="Principal not yet repaid.")
    interest: Money = strawberry.field(description="Scheduled interest not yet paid.")
    total: Money = strawberry.field(description="Principal plus interest.")


@strawberry.type(description="One installment of a loan: what it asks and what is paid of it.")
class LoanInstallment:
    number: int = strawberry.field(description="1 for the first installment.")
    due_date: date = strawberry.field(description="When it is due.")
    principal: Money = strawberry.field(description="Principal part.")
    interest: Money = strawberry.field(description="Interest part.")
    total: Money = strawberry.field(description="Amount of the installment.")
    paid: Money = strawberry.field(description="Paid of it so far.")
    remaining: Money = strawberry.field(description="Still owed of it.")
    paid_on: date | None = strawberry.field(description="The day it was paid in full.")

    @classmethod
    def from_row(cls, due: origination.ScheduledDue, currency: str) -> LoanInstallment:
        return cls(
            number=due.number,
            due_date=due.due_date,
            principal=Money.from_minor(due.principal_minor, currency),
            interest=Money.from_minor(due.interest_minor, currency),
            total=Money.from_minor(due.principal_minor + due.interest_minor, currency),
            paid=Money.from_minor(due.paid_principal_minor + due.paid_interest_minor, currency),
            remaining=Money.from_minor(due.remaining, currency),
            paid_on=due.paid_on,
        )


@strawberry.type(name="Loan", description="Money lent to a customer.")
class LoanNode(relay.Node):
    loan_id: relay.NodeID[int]
    row: strawberry.Private[domain.Loan]
    number: int = strawberry.field(description="The loan number people quote.")
    principal: Money = strawberry.field(description="Amount lent.")
    interest_rate: Decimal = strawberry.field(description="Rate in percent, as corrected.")
    tenure: int = strawberry.field(description="Term, in termUnit.")
    term_unit: str = strawberry.field(description="MONTH, WEEK or DAY.")
    installment: Money = strawberry.field(
        description="The regular installment (EMI etc.); a prepayment lowers it."
    )
    origin: str = strawberry.field(description="IMPORTED from history, or ORIGINATED here.")
    start_date: date = strawberry.field(description="Disbursement (or approval) date.")
    end_date: date = strawberry.field(description="Date of the last due.")

    @classmethod
    def from_model(cls, row: domain.Loan) -> LoanNode:
        assert row.id is not None
        return cls(
            loan_id=row.id,
            row=row,
            number=row.number,
            principal=Money.from_domain(row.principal),
            interest_rate=row.interest_rate,
            tenure=row.tenure,
            term_unit=row.term_unit,
            installment=Money.from_domain(row.installment),
            origin=row.origin.value,
            start_date=row.start_date,
            end_date=row.end_date,
        )

    @classmethod
    def resolve_nodes(  # type: ignore[override]
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[LoanNode | None]:
        return visible_nodes(
            node_ids, lambda ids: resolvers.visible_loans(info.context, ids), cls.from_model
        )

    @strawberry.field(
        description="Where the loan stands on the business date. An imported loan is ACTIVE "
        "until its end date and PAID from that day on (its payments stayed in the old system)."
    )
    def status(self, info: Info) -> LoanStatus:
        return LoanStatus(domain.status_on(self.row, info.context.today()).value)

    def _schedule(self, info: Info) -> list[origination.ScheduledDue]:
        return info.context.loader(ScheduleLoader).load(self.loan_id) or []

    def _unpaid(self, info: Info) -> list[origination.ScheduledDue]:
        return [d for d in self._schedule(info) if d.remaining > 0]

    def _card_bills(self, info: Info) -> list[CardBill] | None:
        """The bills of a credit-card loan (its schedule is only the opening projection);
        None for other loans."""
        product_id = self.row.product_id
        product = info.context.loader(ProductLoader).load(product_id) if product_id else None
        if product is None or product.repayment_style is not RepaymentStyle.REVOLVING:
            return None
        bills: list[CardBill] = info.context.loader(BillsLoader).load(self.loan_id) or []
        return bills

    def _card_owed(self, info: Info, bills: list[CardBill]) -> CardOwed:
        paid = payment_resolvers.payments_of_loan(info.context, self.row)
        taken = (sum(p.principal_minor for p in paid), sum(p.interest_minor for p in paid))
        return card_position(self.row, bills, taken)

    @strawberry.field(description="The customer who owes it.")
    def customer(self, info: Info) -> CustomerNode:
        return CustomerNode.from_model(
            info.context.loader(CustomerLoader).load(self.row.customer_id)
        )

    @strawberry.field(description="The product it was made under; null for imported loans.")
    def product(self, info: Info) -> LoanProduct | None:
        if self.row.product_id is None:
            return None
        return LoanProduct(row=info.context.loader(ProductLoader).load(self.row.product_id))

    @strawberry.field(
        description="Every installment with what has been paid of it, in order. After a "
        "prepayment the unpaid ones show the recalculated amounts; paying an EMI loan off "
        "early removes the installments it made unnecessary. Empty for imported loans, "
        "whose schedule stayed in the old system."
    )
    def schedule(self, info: Info) -> list[LoanInstallment]:
        return [LoanInstallment.from_row(d, self.row.currency) for d in self._schedule(info)]

    @strawberry.field(
        description="What is still owed: principal not yet repaid and scheduled interest "
        "not yet paid (credit cards: interest billed and unpaid); null for imported loans."
    )
    def outstanding(self, info: Info) -> Outstanding | None:
        bills = self._card_bills(info)
        if bills is not None:  # credit cards: principal left and interest billed, unpaid
            card = self._card_owed(info, bills)
            currency = self.row.currency
            return Outstanding(
                principal=Money.from_minor(card.principal_minor, currency),
                interest=Money.from_minor(card.billed_interest_minor, currency),
                total=Money.from_minor(card.payable_minor, currency),
            )
        dues = self._schedule(info)
        if not dues and self.row.origin is domain.LoanOrigin.IMPORTED:
            return None
        owed = origination.still_owed(dues, self.row.currency)
        return Outstanding(
            principal=Money.from_domain(owed.principal),
            interest=Money.from_domain(owed.interest),
            total=Money.from_domain(owed.total),
        )

    @strawberry.field(
        description="Everything paid on the loan so far; null for imported loans, whose "
        "payments stayed in the old system."
    )
    def total_paid(self, info: Info) -> Money | None:
        if self.row.origin is domain.LoanOrigin.IMPORTED:
            return None
        paid = sum(
            p.amount_minor for p in payment_resolvers.payments_of_loan(info.context, self.row)
        )
        return Money.from_minor(paid, self.row.currency)

    @strawberry.field(description="Principal and interest still owed; null for imported loans.")
    def remaining_balance(self, info: Info) -> Money | None:
        owed = self.outstanding(info)
        return owed.total if owed is not None else None

    @strawberry.field(
        description="What to pay by the end of the current period: every unpaid installment "
        "due on or before the first due date from today (arrears included). For a P2P loan, "
        "what is left of amount × (1 + rate); for a credit card, what the latest bill still "
        "asks (past dues and the minimum due). Null for imported loans."
    )
    def amount_due(self, info: Info) -> Money | None:
        bills = self._card_bills(info)
        if bills is not None:  # credit cards: what the latest bill still asks for
            return Money.from_minor(current_minimum(bills), self.row.currency)
        dues = self._schedule(info)
        if not dues:
            return None
        return Money.from_domain(payments.amount_due(dues, info.context.today(), self.row.currency))

    @strawberry.field(
        description="The most that can be paid today, which closes the loan: everything "
        "owed, or for EMI loans the current dues plus the principal left (later interest is "
        "not charged). Null unless the loan is ACTIVE and takes payments here."
    )
    def payoff_amount(self, info: Info) -> Money | None:
        rules = payment_resolvers.rules_of(info.context, self.row)
        if (
            rules is None
            or rules.style is RepaymentStyle.REVOLVING
            or self.row.status not in (domain.LoanStatus.ACTIVE, domain.LoanStatus.OVERDUE)
        ):
            return None
        minor = payments.payable(rules, self._schedule(info), info.context.today())
        return Money.from_minor(minor, self.row.currency)

    @strawberry.field(
        description="Delinquent by the product's rule as of the last daily close (weekly "
        "and monthly: the two most recent installments due both unpaid, RULES.md §5); the "
        "payment that clears the arrears clears it at once."
    )
    def delinquent(self) -> bool:
        return self.row.delinquent

    @strawberry.field(
        description="Days since the oldest unpaid installment fell due, as of the business "
        "date (0 when nothing is overdue)."
    )
    def days_past_due(self, info: Info) -> int:
        return delinquency.days_past_due(self._schedule(info), info.context.today())

    @strawberry.field(description="Installments past their due date and not fully paid.")
    def overdue_installments(self, info: Info) -> list[LoanInstallment]:
        late = delinquency.overdue(self._schedule(info), info.context.today())
        return [LoanInstallment.from_row(due, self.row.currency) for due in late]

    @strawberry.field(
        description="Installments still (partly) unpaid. Imported loans: the monthly due "
        "dates still to come after the business date, the last on the end date (0 once it "
        "has come)."
    )
    def repayments_left(self, info: Info) -> int:
        unpaid = len(self._unpaid(info)) if self._schedule(info) else None
        return domain.repayments_left(self.row, info.context.today(), unpaid)

    @strawberry.field(description="The oldest installment not fully paid, if any.")
    def next_due(self, info: Info) -> LoanInstallment | None:
        unpaid = self._unpaid(info)
        return LoanInstallment.from_row(unpaid[0], self.row.currency) if unpaid else None

    @strawberry.field(
        description="Credit-card loans: the bills issued by the daily close, oldest first "
        "(other products have none)."
    )
    def bills(
        self, info: Info, first: PageSize = 20, after: AfterCursor = None
    ) -> Connection[Bill]:
        rows = info.context.loader(BillsLoader).load(self.loan_id)
        page = page_of_loaded(rows, first, decode_cursor(after), lambda b: b.id)
        currency = self.row.currency
        return Connection[Bill].from_page(
            page, lambda b: Bill.from_model(b, currency), lambda b: b.id
        )

    @strawberry.field(description="Payments on this loan, oldest first, each with its allocation.")
    def payments(
        self, info: Info, first: PageSize = 20, after: AfterCursor = None
    ) -> Connection[PaymentNode]:
        rows = payment_resolvers.payments_of_loan(info.context, self.row)
        page = page_of_loaded(rows, first, decode_cursor(after), lambda p: p.id)
        return Connection[PaymentNode].from_page(page, PaymentNode.from_model, lambda p: p.id)

    @strawberry.field(
        description="Payments made and installments still to pay, each within [from, to] "
        "when given; a closed loan has no statement (a typed error)."
    )
    def statement(
        self, info: Info, since: SinceArg = None, to: UntilArg = None
    ) -> LoanStatementResult:
        result = payment_resolvers.statement(info.context, self.row, since, to)
        return outcome(result, LoanStatement.from_domain)


@strawberry.type(name="LoanApplication", description="A request for a loan and its decision.")
class ApplicationNode(relay.Node):
    application_id: relay.NodeID[int]
    row: strawberry.Private[origination.LoanApplication]
    status: ApplicationStatus = strawberry.field(description="Where it stands.")
    amount: Money = strawberry.field(description="Amount asked for.")
    requested_interest_rate: Decimal | None = strawberry.field(description="Rate asked for.")
    interest_rate: Decimal = strawberry.field(description="Rate decided (corrected).")
    tenure: int = strawberry.field(description="Term in the product's unit.")
    disbursement_date: date = strawberry.field(description="When the money is paid out.")
    reasons: list[DecisionReason] = strawberry.field(description="Every rule that decided it.")
    credit_score: int | None = strawberry.field(description="The score the policy used.")
    created_at: datetime = strawberry.field(description="When it was made.")
    decided_at: datetime | None = strawberry.field(description="When it was decided.")

    @classmethod
    def from_model(cls, row: origination.LoanApplication) -> ApplicationNode:
        assert row.id is not None
        return cls(
            application_id=row.id,
            row=row,
            status=ApplicationStatus(row.status.value),
            amount=Money.from_domain(row.amount),
            requested_interest_rate=row.requested_rate,
            interest_rate=row.interest_rate,
            tenure=row.tenure,
            disbursement_date=row.disbursement_date,
            reasons=[DecisionReason(code=r["code"], message=r["message"]) for r in row.reasons],
            credit_score=row.credit_score,
            created_at=row.created_at,
            decided_at=row.decided_at,
        )

    @classmethod
    def resolve_nodes(  # type: ignore[override]
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[ApplicationNode | None]:
        return visible_nodes(
            node_ids,
            lambda ids: resolvers.visible_applications(info.context, ids),
            cls.from_model,
        )

    @strawberry.field(description="The product applied for.")
    def product(self, info: Info) -> LoanProduct:
        return LoanProduct(row=info.context.loader(ProductLoader).load(self.row.product_id))

    @strawberry.field(description="The customer who applied.")
    def customer(self, info: Info) -> CustomerNode:
        return CustomerNode.from_model(
            info.context.loader(CustomerLoader).load(self.row.customer_id)
        )

    @strawberry.field(
        description="The external scoring engine's part (EXTERNAL_SCORE products only)."
    )
    def external_score(self, info: Info) -> ExternalScore | None:
        row = info.context.loader(ExternalScoringLoader).load(self.application_id)
        if row is None:
            return None
        viewer = info.context.viewer
        return ExternalScore.from_model(
            row, self.row.currency, viewer is not None and viewer.is_staff
        )

    @strawberry.field(description="The loan it became, once approved.")
    def loan(self, info: Info) -> LoanNode | None:
        if self.row.loan_id is None:
            return None
        return LoanNode.from_model(info.context.loader(LoanLoader).load(self.row.loan_id))


@strawberry.input(
    description="A loan request. Replaying your idempotencyKey returns your "
    "first result; reusing it for another request is refused. Keys are each user's own "
    "(staff applying for a customer use theirs)."
)
class ApplyForLoanInput:
    product_code: str = strawberry.field(description="Which product.")
    amount: Decimal = strawberry.field(description="Amount asked for.")
    idempotency_key: str = strawberry.field(
        description="8-100 characters, unique among your requests."
    )
    interest_rate: Decimal | None = strawberry.field(default=None, description="Rate asked for.")
    tenure: int | None = strawberry.field(default=None, description="Term, product's unit.")
    disbursement_date: date | None = strawberry.field(default=None, description="Pay-out day.")
    customer_id: strawberry.ID | None = strawberry.field(
        default=None, description="STAFF: on whose behalf. A customer applies for themself."
    )
    customer_number: str | None = strawberry.field(
        default=None,
        description="STAFF: on whose behalf, by core banking customer number (a customer "
        "may give only their own).",
    )


ApplyForLoanResult = Annotated[
    ApplicationNode
    | InvalidInputError
    | ProductNotFoundError
    | CustomerNotFoundError
    | ApplicationPendingError
    | NotACoreBankingCustomerError
    | IdempotencyConflictError
    | NotAuthenticatedError
    | PermissionDeniedError,
    strawberry.union("ApplyForLoanResult", description="The stored application, or why not."),
]


def _filter(customer: strawberry.ID | None, product_code: str | None, status: Any) -> LoanFilter:
    """The lists' filter; an id that is no Customer id is refused, like a bad cursor."""
    return LoanFilter(
        optional_row_of(customer, "Customer", "customerId"),
        product_code,
        status.value if status is not None else None,
    )


CustomerArg = Annotated[strawberry.ID | None, strawberry.argument(description="STAFF: whose.")]
ProductArg = Annotated[str | None, strawberry.argument(description="Only this product.")]


@strawberry.type
class LoanQueries:
    @strawberry.field(description="Loans, oldest first: a customer's own, or anyone's (STAFF).")
    def loans(
        self,
        info: Info,
        *,
        first: PageSize = 20,
        after: AfterCursor = None,
        customer_id: CustomerArg = None,
        product_code: ProductArg = None,
        status: Annotated[
            LoanStatus | None, strawberry.argument(description="Only this status.")
        ] = None,
        delinquent: Annotated[
            bool | None,
            strawberry.argument(description="Only delinquent (true) or current (false) loans."),
        ] = None,
    ) -> Connection[LoanNode]:
        wanted = replace(_filter(customer_id, product_code, status), delinquent=delinquent)
        page = resolvers.loans_page(info.context, wanted, first, decode_cursor(after))
        return Connection[LoanNode].from_page(page, LoanNode.from_model, lambda row: row.id)

    @strawberry.field(description="One loan by global id, if the viewer may see it.")
    def loan(
        self, info: Info, id: Annotated[strawberry.ID, strawberry.argument(description="Its id.")]
    ) -> LoanNode | None:
        visible = partial(resolvers.visible_loans, info.context)
        return lookup_node(id, "Loan", visible, LoanNode.from_model)

    @strawberry.field(description="Applications with their decisions, oldest first.")
    def applications(
        self,
        info: Info,
        *,
        first: PageSize = 20,
        after: AfterCursor = None,
        customer_id: CustomerArg = None,
        product_code: ProductArg = None,
        status: Annotated[
            ApplicationStatus | None, strawberry.argument(description="Only this status.")
        ] = None,
    ) -> Connection[ApplicationNode]:
        page = resolvers.applications_page(
            info.context, _filter(customer_id, product_code, status), first, decode_cursor(after)
        )
        return Connection[ApplicationNode].from_page(
            page, ApplicationNode.from_model, lambda row: row.id
        )


@strawberry.type
class LoanMutations:
    @strawberry.mutation(
        description="Apply for a loan. Every application is stored with its decision and "
        "reasons; an approved one becomes a loan with a number and a schedule, paid out at "
        "once when the bank funds it (provider-funded loans wait APPROVED for funding)."
    )
    def apply_for_loan(
        self,
        info: Info,
        input: Annotated[ApplyForLoanInput, strawberry.argument(description="The request.")],
    ) -> ApplyForLoanResult:
        ask = LoanAsk(
            input.product_code,
            input.amount,
            input.interest_rate,
            input.tenure,
            input.disbursement_date,
        )
        return outcome_of(
            lambda: resolvers.apply(
                info.context,
                ask,
                input.idempotency_key,
                optional_row_of(input.customer_id, "Customer", "customerId"),
                input.customer_number,
            ),
            ApplicationNode.from_model,
        )
