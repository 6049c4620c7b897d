"""Applying for a loan: every application stored with its decision; an approved one becomes a
loan with a number, a schedule and (for bank-funded products) an immediate disbursement
booked in the ledger. One undecided application per customer and product; idempotent by the
key of the user who sent the request (domain.idempotency).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlmodel import JSON, Field, Session, SQLModel, col, select

from domain.accounts import bank_funds_account, principal_account
from domain.application_events import announce_application
from domain.applications import LoanAsk, evaluate
from domain.billing.calendar import business_date
from domain.customers import Customer
from domain.decisions import Decision, Outcome
from domain.errors import DomainError, FieldProblem, InvalidInput
from domain.funding import PoolCannotCover, Share, allocate, fund
from domain.idempotency import claim_key, earlier_result, fingerprint, unique_key_per_requester
from domain.ledger import credit, debit, open_accounts, post
from domain.loan_events import LOAN_UPDATED, announce
from domain.loans import Loan, LoanOrigin, LoanStatus, next_loan_number, status_is
from domain.money import Money
from domain.notifications import NotificationKind, notify
from domain.pagination import Page, page_by_id
from domain.products import EligibilityPolicy, FundingSource, LoanProduct, product_by_code
from domain.rates import PercentRate
from domain.scoring.progress import start_external_scoring
from domain.tables import timestamp_column, violated_constraint


class ApplicationStatus(enum.StrEnum):
    PENDING = "PENDING"  # waiting for a decision (an external score)
    APPROVED = "APPROVED"
    REJECTED = "REJECTED"
    FAILED = "FAILED"  # no decision could be reached


ONE_UNDECIDED = "uq_loan_applications_undecided"


class LoanApplication(SQLModel, table=True):
    __tablename__ = "loan_applications"
    __table_args__ = (
        unique_key_per_requester("loan_applications"),
        sa.Index(
            ONE_UNDECIDED,
            "customer_id",
            "product_id",
            unique=True,
            postgresql_where=sa.text("status = 'PENDING'"),
            sqlite_where=sa.text("status = 'PENDING'"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    customer_id: int = Field(foreign_key="customers.id", index=True)
    product_id: int = Field(foreign_key="loan_products.id", index=True)
    currency: str = Field(max_length=3)
    amount_minor: int = Field(sa_type=sa.BigInteger)
    requested_rate: Decimal | None = Field(default=None, sa_type=PercentRate)
    interest_rate: Decimal = Field(sa_type=PercentRate)
    tenure: int
    disbursement_date: date
    status: ApplicationStatus = Field(
        sa_type=sa.Enum(ApplicationStatus, name="application_status", native_enum=False, length=16)
    )
    reasons: list[dict[str, Any]] = Field(default_factory=list, sa_type=JSON)
    credit_score: int | None = None
    loan_id: int | None = Field(default=None, foreign_key="loans.id")
    requested_by: int  # whose idempotency key: the user who sent it (see domain.idempotency)
    idempotency_key: str = Field(max_length=100)
    fingerprint: str = Field(max_length=64)
    created_at: datetime = Field(sa_column=timestamp_column())
    decided_at: datetime | None = Field(default=None, sa_column=timestamp_column(nullable=True))

    @property
    def amount(self) -> Money:
        return Money.from_minor(self.amount_minor, self.currency)


class ScheduledDue(SQLModel, table=True):
    """One installment of a loan's schedule and what has been paid of it. The amounts are
    fixed when the loan is made; a prepayment recalculates the installments still unpaid."""

    __tablename__ = "installments"
    __table_args__ = (
        sa.UniqueConstraint("loan_id", "number", name="uq_installments_number"),
        sa.CheckConstraint(
            "paid_principal_minor >= 0 AND paid_principal_minor <= principal_minor",
            name="paid_principal_within_due",
        ),
        sa.CheckConstraint(
            "paid_interest_minor >= 0 AND paid_interest_minor <= interest_minor",
            name="paid_interest_within_due",
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    loan_id: int = Field(foreign_key="loans.id", index=True)
    number: int
    due_date: date
    principal_minor: int = Field(sa_type=sa.BigInteger)
    interest_minor: int = Field(sa_type=sa.BigInteger)
    paid_principal_minor: int = Field(
        default=0, sa_type=sa.BigInteger, sa_column_kwargs={"server_default": "0"}
    )
    paid_interest_minor: int = Field(
        default=0, sa_type=sa.BigInteger, sa_column_kwargs={"server_default": "0"}
    )
    paid_on: date | None = None  # the day it was paid in full

    @property
    def remaining_principal(self) -> int:
        return self.principal_minor - self.paid_principal_minor

    @property
    def remaining_interest(self) -> int:
        return self.interest_minor - self.paid_interest_minor

    @property
    def remaining(self) -> int:
        """Minor units still owed on this installment."""
        return self.remaining_principal + self.remaining_interest


class NotACoreBankingCustomer(DomainError):
    code = "NOT_A_CORE_BANKING_CUSTOMER"

    def __init__(self) -> None:
        super().__init__(
            "This product is scored from the core banking system: subscribe the customer "
            "from it first (subscribeCustomer)."
        )


class ApplicationPending(DomainError):
    code = "APPLICATION_PENDING"

    def __init__(self) -> None:
        super().__init__("An earlier application for this product is still undecided.")


def _fingerprint(customer: Customer, ask: LoanAsk) -> str:
    rate = None if ask.interest_rate is None else ask.interest_rate.normalize()
    return fingerprint(
        customer.id, ask.product_code, ask.amount.normalize(), rate, ask.tenure, ask.start
    )


def _disburse(session: Session, loan: Loan, on: date) -> None:
    """Bank money out, loan receivable in (RULES.md §6)."""
    receivable, funds = principal_account(loan), bank_funds_account(loan.currency)
    accounts = open_accounts(session, [receivable, funds])
    post(
        session,
        "DISBURSEMENT",
        f"Loan {loan.number} paid out",
        on,
        [
            debit(accounts[receivable.code], loan.principal),
            credit(accounts[funds.code], loan.principal),
        ],
        reference=f"loan:{loan.number}",
    )


def _make_loan(
    session: Session,
    product: LoanProduct,
    application: LoanApplication,
    decision: Decision,
    shares: list[Share] | None,
) -> Loan:
    schedule = decision.schedule
    bank_funded = product.funding_source is FundingSource.BANK
    loan = Loan(
        number=next_loan_number(session),
        customer_id=application.customer_id,
        product_id=product.id,
        currency=product.currency,
        principal_minor=application.amount_minor,
        interest_rate=decision.corrected_interest_rate,
        tenure=decision.tenure,
        term_unit=product.term_unit.value,
        installment_minor=schedule[0].total.to_minor(),
        start_date=application.disbursement_date,
        end_date=schedule[-1].due_date,
        status=LoanStatus.ACTIVE if bank_funded else LoanStatus.APPROVED,
        origin=LoanOrigin.ORIGINATED,
    )
    session.add(loan)
    session.flush()
    assert loan.id is not None
    session.add_all(
        [
            ScheduledDue(
                loan_id=loan.id,
                number=d.number,
                due_date=d.due_date,
                principal_minor=d.principal.to_minor(),
                interest_minor=d.interest.to_minor(),
            )
            for d in schedule
        ]
    )
    if bank_funded:
        _disburse(session, loan, application.disbursement_date)
    elif shares:
        fund(session, loan, shares)
        loan.status = LoanStatus.ACTIVE  # paid out of the providers' pool
        session.add(loan)
    announce(
        session,
        loan,
        LOAN_UPDATED,
        at=application.decided_at or application.created_at,
        outstanding=sum((d.total for d in schedule), Money.zero(loan.currency)),
    )
    return loan


def book_approval(
    session: Session, product: LoanProduct, application: LoanApplication, decision: Decision
) -> None:
    """Make the approved loan; a provider-funded one only if the pool covers it (§2)."""
    shares = None
    if product.funding_source is FundingSource.PROVIDERS:
        try:
            shares = allocate(session, application.amount)
        except PoolCannotCover as short:
            application.status = ApplicationStatus.REJECTED
            application.reasons = [
                *application.reasons,
                {"code": short.code, "message": short.message},
            ]
    if application.status is ApplicationStatus.APPROVED:
        application.loan_id = _make_loan(session, product, application, decision, shares).id
    session.add(application)
    session.flush()


def apply_for_loan(
    session: Session,
    customer: Customer,
    ask: LoanAsk,
    key: str,
    now: datetime,
    *,
    requested_by: int,
) -> LoanApplication:
    """Store the application with its decision; make the loan when it is approved. Once per
    key of the requester (the user who sent the request, the customer or staff for them)."""
    if not 8 <= len(key) <= 100:
        raise InvalidInput([FieldProblem("idempotencyKey", "8-100 characters")])
    print_ = _fingerprint(customer, ask)
    earlier = earlier_result(
        session, LoanApplication, requested_by=requested_by, key=key, print_=print_
    )
    if earlier is not None:
        return earlier
    product = product_by_code(session, ask.product_code)
    if (
        product.eligibility_policy is EligibilityPolicy.EXTERNAL_SCORE
        and customer.customer_number is None
    ):
        raise NotACoreBankingCustomer()
    # One decision at a time per customer: the 50 % EMI rule must see every loan approved
    # before it, so concurrent applications queue on the customer row.
    session.exec(select(Customer.id).where(Customer.id == customer.id).with_for_update())
    undecided = select(LoanApplication.id).where(
        LoanApplication.customer_id == customer.id,
        LoanApplication.product_id == product.id,
        col(LoanApplication.status) == ApplicationStatus.PENDING,
    )
    if session.exec(undecided).first() is not None:
        raise ApplicationPending()
    decision = evaluate(session, customer, ask, now)
    status = ApplicationStatus(decision.outcome.value)
    assert customer.id is not None and product.id is not None
    application = LoanApplication(
        customer_id=customer.id,
        product_id=product.id,
        currency=product.currency,
        amount_minor=Money(ask.amount, product.currency).to_minor(),
        requested_rate=ask.interest_rate,
        interest_rate=decision.corrected_interest_rate,
        tenure=decision.tenure,
        disbursement_date=ask.start or business_date(session, now),
        status=status,
        reasons=[{"code": r.code, "message": r.message} for r in decision.reasons],
        credit_score=decision.score,
        requested_by=requested_by,
        idempotency_key=key,
        fingerprint=print_,
        created_at=now,
        decided_at=None if status is ApplicationStatus.PENDING else now,
    )
    try:
        if (held := claim_key(session, application)) is not application:
            return held  # the same request, a moment earlier
    except IntegrityError as error:
        if violated_constraint(error, LoanApplication) == ONE_UNDECIDED:
            raise ApplicationPending() from None
        raise
    _carry_out(
        session,
        customer=customer,
        product=product,
        application=application,
        decision=decision,
        now=now,
    )
    return application


def _carry_out(
    session: Session,
    *,
    customer: Customer,
    product: LoanProduct,
    application: LoanApplication,
    decision: Decision,
    now: datetime,
) -> None:
    """Make the approved loan, or ask the scoring engine; tell the customer once decided."""
    if decision.outcome is Outcome.APPROVED:
        book_approval(session, product, application, decision)
    elif decision.outcome is Outcome.PENDING:  # only the external score is still to come
        assert application.id is not None and customer.customer_number is not None
        start_external_scoring(session, application.id, customer.customer_number, now)
    if application.status is not ApplicationStatus.PENDING:
        tell_decision(session, customer, product, application, now)
    announce_application(session, application, product.code, now)


def tell_decision(
    session: Session,
    customer: Customer,
    product: LoanProduct,
    application: LoanApplication,
    now: datetime,
) -> None:
    approved = application.status is ApplicationStatus.APPROVED
    loan = session.get(Loan, application.loan_id) if application.loan_id else None
    if approved and loan is not None:
        body = f"{product.name}: {application.amount} approved as loan {loan.number}."
    else:
        reasons = "; ".join(r["message"] for r in application.reasons) or "no reason recorded"
        body = f"{product.name}: {application.amount} was not approved ({reasons})."[:500]
    notify(
        session,
        user_id=customer.user_id,
        kind=NotificationKind.LOAN_DECIDED,
        about=f"application:{application.id}",
        title="Loan approved" if approved else "Loan application not approved",
        body=body,
        loan_id=application.loan_id,
        now=now,
    )


@dataclass(frozen=True)
class LoanFilter:
    """Which loans or applications to list (None = any)."""

    customer_id: int | None = None
    product_code: str | None = None
    status: str | None = None
    delinquent: bool | None = None  # loans only


def _product_id(session: Session, code: str | None) -> int | None:
    return None if code is None else product_by_code(session, code).id


def loans_page(
    session: Session, wanted: LoanFilter, first: int, after: int | None, today: date
) -> Page[Loan]:
    """Loans as they stand on the business date `today` (imported ones move with it)."""
    statement = select(Loan)
    if wanted.customer_id is not None:
        statement = statement.where(Loan.customer_id == wanted.customer_id)
    if wanted.status is not None:
        statement = statement.where(status_is(LoanStatus(wanted.status), today))
    if wanted.delinquent is not None:
        statement = statement.where(col(Loan.delinquent) == wanted.delinquent)
    if wanted.product_code is not None:
        statement = statement.where(Loan.product_id == _product_id(session, wanted.product_code))
    return page_by_id(session, statement, Loan.id, first, after)


def applications_page(
    session: Session, wanted: LoanFilter, first: int, after: int | None
) -> Page[LoanApplication]:
    statement = select(LoanApplication)
    if wanted.customer_id is not None:
        statement = statement.where(LoanApplication.customer_id == wanted.customer_id)
    if wanted.status is not None:
        statement = statement.where(col(LoanApplication.status) == wanted.status)
    if wanted.product_code is not None:
        statement = statement.where(
            LoanApplication.product_id == _product_id(session, wanted.product_code)
        )
    return page_by_id(session, statement, LoanApplication.id, first, after)


def schedules_of(session: Session, loan_ids: list[int]) -> dict[int, list[ScheduledDue]]:
    grouped: dict[int, list[ScheduledDue]] = {i: [] for i in loan_ids}
    if loan_ids:
        for due in session.exec(
            select(ScheduledDue)
            .where(col(ScheduledDue.loan_id).in_(loan_ids))
            .order_by(col(ScheduledDue.loan_id), col(ScheduledDue.number))
        ).all():
            grouped[due.loan_id].append(due)
    return grouped


def by_ids(session: Session, table: Any, ids: list[int]) -> dict[int, Any]:
    """Rows of `table` by primary key, in one query."""
    if not ids:
        return {}
    return {row.id: row for row in session.exec(select(table).where(col(table.id).in_(ids)))}


@dataclass(frozen=True)
class Owed:
    """What a loan's schedule still asks for."""

    principal: Money
    interest: Money

    @property
    def total(self) -> Money:
        return self.principal + self.interest


def still_owed(dues: list[ScheduledDue], currency: str) -> Owed:
    """Principal and interest of the schedule not yet paid."""
    return Owed(
        Money.from_minor(sum(d.remaining_principal for d in dues), currency),
        Money.from_minor(sum(d.remaining_interest for d in dues), currency),
    )
