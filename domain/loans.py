"""Loans: money lent to a customer. Imported historic loans and originated ones share numbers.

Loan numbers are integers shown to people. Imported loans keep their original numbers; new
numbers come from a sequence that always starts above the highest number in use.
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlmodel import Field, Session, SQLModel, col, func, select

from domain.money import Money
from domain.rates import PercentRate
from domain.schedules import add_months
from domain.tables import timestamp_column, utcnow

LOAN_NUMBER_SEQUENCE = sa.Sequence("loan_numbers", metadata=SQLModel.metadata)


class LoanStatus(enum.StrEnum):
    PENDING = "PENDING"
    APPROVED = "APPROVED"
    REJECTED = "REJECTED"
    FAILED = "FAILED"
    ACTIVE = "ACTIVE"
    OVERDUE = "OVERDUE"  # provider-funded: still owed after its duration (§2)
    PAID = "PAID"


# Settled or never lent: such a loan is no current debt whatever its end date.
CLOSED_STATUSES = frozenset({LoanStatus.PAID, LoanStatus.REJECTED, LoanStatus.FAILED})


class LoanOrigin(enum.StrEnum):
    IMPORTED = "IMPORTED"
    ORIGINATED = "ORIGINATED"


class Loan(SQLModel, table=True):
    __tablename__ = "loans"
    __table_args__ = (
        sa.CheckConstraint("principal_minor > 0", name="positive_principal"),
        sa.CheckConstraint("tenure > 0", name="positive_tenure"),
        sa.CheckConstraint("emis_paid_on_time >= 0", name="non_negative_emis_paid"),
    )

    id: int | None = Field(default=None, primary_key=True)
    number: int = Field(sa_type=sa.BigInteger, sa_column_kwargs={"unique": True, "nullable": False})
    customer_id: int = Field(foreign_key="customers.id", index=True)
    currency: str = Field(default="INR", max_length=3)
    principal_minor: int = Field(sa_type=sa.BigInteger)
    interest_rate: Decimal = Field(sa_type=PercentRate)
    tenure: int  # in term_unit
    term_unit: str = Field(default="MONTH", max_length=8)
    product_id: int | None = Field(default=None, foreign_key="loan_products.id", index=True)
    installment_minor: int = Field(sa_type=sa.BigInteger)
    emis_paid_on_time: int = 0
    start_date: date
    end_date: date
    status: LoanStatus = Field(
        sa_type=sa.Enum(LoanStatus, name="loan_status", native_enum=False, length=16)
    )
    origin: LoanOrigin = Field(
        sa_type=sa.Enum(LoanOrigin, name="loan_origin", native_enum=False, length=16)
    )
    created_at: datetime = Field(default_factory=utcnow, sa_column=timestamp_column())
    # Counts the events raised about this loan: subscribers see 1, 2, 3... and can tell
    # when they missed one (and refetch).
    event_sequence: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    # Set by the daily close by the product's delinquency rule; cleared by the payment
    # that clears the arrears, in its own transaction (§5).
    delinquent: bool = Field(default=False, sa_column_kwargs={"server_default": sa.false()})

    @property
    def tenure_in_months(self) -> int:
        """For the loan-history score, which counts monthly EMIs."""
        days = {"MONTH": 30, "WEEK": 7, "DAY": 1}[self.term_unit] * self.tenure
        return max(1, -(-days // 30))

    @property
    def principal(self) -> Money:
        return Money.from_minor(self.principal_minor, self.currency)

    @property
    def installment(self) -> Money:
        return Money.from_minor(self.installment_minor, self.currency)

    def is_current(self, today: date) -> bool:
        """Not yet ended (RULES.md §1: current loans count against the approved limit)."""
        return self.end_date >= today and status_on(self, today) not in CLOSED_STATUSES


def imported_status(end_date: date, today: date) -> LoanStatus:
    """An imported loan takes no payments here, so only time moves it (RULES.md §1): it runs
    until its End Date and is over from that day on. The file carries no balance, so an
    ended loan is closed (PAID), whatever its count of EMIs paid on time."""
    return LoanStatus.ACTIVE if end_date > today else LoanStatus.PAID


def status_on(loan: Loan, today: date) -> LoanStatus:
    """Where the loan stands on the business date `today`."""
    if loan.origin is LoanOrigin.IMPORTED:
        return imported_status(loan.end_date, today)
    return loan.status


def status_is(wanted: LoanStatus, today: date) -> sa.ColumnElement[bool]:
    """`status_on(loan, today) == wanted` as a SQL criterion, for filtered lists."""
    imported = col(Loan.origin) == LoanOrigin.IMPORTED
    by_date = {
        LoanStatus.ACTIVE: col(Loan.end_date) > today,
        LoanStatus.PAID: col(Loan.end_date) <= today,
    }.get(wanted, sa.false())
    return sa.or_(
        sa.and_(imported, by_date),
        sa.and_(col(Loan.origin) != LoanOrigin.IMPORTED, col(Loan.status) == wanted),
    )


def imported_repayments_left(loan: Loan, today: date) -> int:
    """Installments of an imported loan still to come after `today`: one a month after the
    Date of Approval, the last on the End Date; none once the End Date has come."""
    if imported_status(loan.end_date, today) is not LoanStatus.ACTIVE:
        return 0
    monthly = (add_months(loan.start_date, n) for n in range(1, loan.tenure))
    return 1 + sum(1 for due in monthly if today < due < loan.end_date)


def repayments_left(loan: Loan, today: date, unpaid_installments: int | None) -> int:
    """Repayments still to make: an imported loan's monthly due dates still to come; a loan
    with a schedule, its installments not fully paid (`unpaid_installments`); otherwise the
    tenure less the EMIs paid."""
    if loan.origin is LoanOrigin.IMPORTED:
        return imported_repayments_left(loan, today)
    if unpaid_installments is not None:
        return unpaid_installments
    return max(loan.tenure - loan.emis_paid_on_time, 0)


def next_loan_number(session: Session) -> int:
    """A fresh loan number, never one an imported or earlier loan holds."""
    if session.get_bind().dialect.name == "postgresql":
        return int(session.exec(select(LOAN_NUMBER_SEQUENCE.next_value())).one())
    highest = session.exec(select(func.max(Loan.number))).one()
    return int(highest or 0) + 1


def advance_loan_numbers(session: Session) -> None:
    """After an import: move the number sequence past every number now in use."""
    if session.get_bind().dialect.name == "postgresql":
        session.exec(
            sa.text(
                "SELECT setval('loan_numbers', GREATEST("
                "(SELECT COALESCE(MAX(number), 0) FROM loans),"
                " (SELECT last_value FROM loan_numbers)))"
            )
        )  # type: ignore[call-overload]


def loans_of_customers(session: Session, customer_ids: list[int]) -> dict[int, list[Loan]]:
    """Every loan of each customer, in one query."""
    grouped: dict[int, list[Loan]] = {cid: [] for cid in customer_ids}
    if customer_ids:
        rows = session.exec(
            select(Loan).where(col(Loan.customer_id).in_(customer_ids)).order_by(col(Loan.id))
        ).all()
        for loan in rows:
            grouped[loan.customer_id].append(loan)
    return grouped
