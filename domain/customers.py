"""Customers: the people Lendgraph lends to, registered, self-signed-up or imported."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlmodel import Field, Session, SQLModel, col, or_, select

from domain import customer_rules as rules
from domain.errors import DomainError, FieldProblem, InvalidInput, PermissionDenied
from domain.money import MINOR_UNIT_EXPONENTS, Money
from domain.outbox import emit_job
from domain.pagination import Page, page_by_id
from domain.tables import timestamp_column, utcnow, violated_constraint
from domain.users import Role, User, create_user


class IdType(enum.StrEnum):
    AADHAR = "AADHAR"
    NATIONAL_ID = "NATIONAL_ID"
    PASSPORT = "PASSPORT"
    DRIVERS_LICENSE = "DRIVERS_LICENSE"  # the core banking system's other kinds (§3)
    VOTERS_ID = "VOTERS_ID"


class CustomerStatus(enum.StrEnum):
    ACTIVE = "ACTIVE"
    INACTIVE = "INACTIVE"


class Customer(SQLModel, table=True):
    __tablename__ = "customers"
    __table_args__ = (
        sa.UniqueConstraint("id_type", "national_id", name="uq_customers_national_id"),
        sa.CheckConstraint("monthly_income_minor > 0", name="positive_income"),
        sa.CheckConstraint("approved_limit_minor >= 0", name="non_negative_limit"),
    )

    id: int | None = Field(default=None, primary_key=True)
    first_name: str = Field(max_length=100)
    last_name: str = Field(max_length=100)
    age: int
    date_of_birth: date | None = None
    phone: str = Field(max_length=16, sa_column_kwargs={"unique": True, "nullable": False})
    email: str | None = Field(default=None, max_length=254)
    id_type: IdType | None = Field(
        default=None, sa_type=sa.Enum(IdType, name="id_type", native_enum=False, length=16)
    )
    national_id: str | None = Field(default=None, max_length=64, index=True)
    customer_number: str | None = Field(
        default=None, max_length=32, sa_column_kwargs={"unique": True}
    )
    legacy_id: int | None = Field(default=None, sa_column_kwargs={"unique": True})
    currency: str = Field(default="INR", max_length=3)
    monthly_income_minor: int = Field(sa_type=sa.BigInteger)
    approved_limit_minor: int = Field(sa_type=sa.BigInteger)
    status: CustomerStatus = Field(
        default=CustomerStatus.ACTIVE,
        sa_type=sa.Enum(CustomerStatus, name="customer_status", native_enum=False, length=16),
    )
    national_id_verified: bool = False
    user_id: int | None = Field(
        default=None, foreign_key="users.id", sa_column_kwargs={"unique": True}
    )
    created_at: datetime = Field(default_factory=utcnow, sa_column=timestamp_column())

    @property
    def monthly_income(self) -> Money:
        return Money.from_minor(self.monthly_income_minor, self.currency)

    @property
    def approved_limit(self) -> Money:
        return Money.from_minor(self.approved_limit_minor, self.currency)

    def set_income(self, monthly: Money) -> None:
        self.monthly_income_minor = monthly.rounded().to_minor()
        self.approved_limit_minor = rules.approved_limit(monthly).to_minor()


# The unique constraints on a customer's details, and the detail each one names.
TAKEN_DETAILS = {
    "uq_customers_phone": "phone number",
    "uq_customers_national_id": "national id",
    "uq_customers_customer_number": "customer number",
}


class DuplicateCustomer(DomainError):
    code = "DUPLICATE_CUSTOMER"

    def __init__(self, field: str) -> None:
        super().__init__(f"Another customer already has this {field}.")
        self.field = field


class CustomerNotFound(DomainError):
    code = "CUSTOMER_NOT_FOUND"

    def __init__(self) -> None:
        super().__init__("No such customer.")


@dataclass(frozen=True)
class Registration:
    """What a registration form carries; incomes are Money, either monthly or annual."""

    first_name: str
    last_name: str
    phone: str
    age: int | None = None
    date_of_birth: date | None = None
    email: str | None = None
    national_id: str | None = None
    id_type: IdType | None = None
    monthly_income: Decimal | None = None
    annual_income: Decimal | None = None
    currency: str = "INR"
    username: str | None = None  # self sign-up: the new customer's own account
    password: str | None = None


def _monthly_income(
    monthly: Decimal | None,
    annual: Decimal | None,
    currency: str,
    problems: rules.Problems,
    required: bool = True,
) -> Money | None:
    if currency not in MINOR_UNIT_EXPONENTS:
        problems.check(False, "currency", f"must be one of {', '.join(MINOR_UNIT_EXPONENTS)}")
        return None
    both = monthly is not None and annual is not None
    problems.check(not both, "annualIncome", "give a monthly or an annual income, not both")
    monthly_money = None if monthly is None else Money(monthly, currency)
    annual_money = None if annual is None else Money(annual, currency)
    rules.check_income(problems, "monthlyIncome", monthly_money)
    rules.check_income(problems, "annualIncome", annual_money, divisor=12)
    if annual_money is not None:
        return rules.monthly_from_annual(annual_money)
    problems.check(monthly is not None or not required, "monthlyIncome", "is required")
    return monthly_money


def _validated(form: Registration, today: date) -> tuple[int, Money]:
    problems = rules.Problems.new()
    rules.check_name(problems, "firstName", form.first_name)
    rules.check_name(problems, "lastName", form.last_name)
    age = rules.age_on(form.date_of_birth, today) if form.date_of_birth else form.age
    rules.check_age(problems, age)
    rules.check_phone(problems, rules.normalise_phone(form.phone))
    rules.check_email(problems, form.email)
    rules.check_national_id(problems, form.national_id)
    monthly = _monthly_income(form.monthly_income, form.annual_income, form.currency, problems)
    problems.raise_if_any()
    assert age is not None and monthly is not None
    return age, monthly


def refuse_duplicates(
    session: Session,
    phone: str,
    id_type: IdType | None,
    national_id: str | None,
    exclude: int | None = None,
) -> None:
    clash = session.exec(
        select(Customer).where(
            or_(
                Customer.phone == phone,
                sa.and_(
                    col(Customer.national_id).is_not(None),
                    col(Customer.national_id) == national_id,
                    col(Customer.id_type) == id_type,
                ),
            ),
            col(Customer.id) != (exclude or 0),
        )
    ).first()
    if clash is not None:
        raise DuplicateCustomer("phone number" if clash.phone == phone else "national id")


def register_customer(
    session: Session, form: Registration, today: date, registered_by: User | None
) -> Customer:
    """Register someone: staff on their behalf, or the person themself with an account."""
    self_sign_up = registered_by is None or registered_by.role is not Role.STAFF
    if registered_by is not None and self_sign_up:
        raise PermissionDenied("Signed-in users cannot register further customers.")
    age, monthly = _validated(form, today)
    phone = rules.normalise_phone(form.phone)
    id_type = form.id_type or (IdType.AADHAR if form.national_id else None)
    refuse_duplicates(session, phone, id_type, form.national_id)
    user_id = None
    if self_sign_up:
        user = create_user(session, form.username or "", form.password or "", Role.CUSTOMER)
        user_id = user.id
    customer = Customer(
        first_name=form.first_name.strip(),
        last_name=form.last_name.strip(),
        age=age,
        date_of_birth=form.date_of_birth,
        phone=phone,
        email=form.email,
        id_type=id_type,
        national_id=form.national_id,
        # staff saw the document; a self-declared id is not trusted with bank data yet
        national_id_verified=not self_sign_up and form.national_id is not None,
        currency=monthly.currency,
        monthly_income_minor=0,
        approved_limit_minor=0,
        user_id=user_id,
    )
    customer.set_income(monthly)
    save_unique(session, customer)
    if customer.national_id_verified:
        emit_job(session, "compute_transaction_scores", national_ids=[customer.national_id])
    return customer


def save_unique(session: Session, customer: Customer) -> None:
    """Insert or update, turning a race lost to a concurrent writer into the typed refusal;
    the name of the unique constraint broken tells which detail is taken."""
    try:
        with session.begin_nested():
            session.add(customer)
            session.flush()
    except IntegrityError as error:
        field = TAKEN_DETAILS.get(violated_constraint(error, Customer) or "")
        if field is None:
            raise
        raise DuplicateCustomer(field) from None


def verify_identity(session: Session, customer: Customer) -> Customer:
    """Staff have checked the customer's national id: bank data may now be linked to it."""
    if customer.national_id is None:
        raise InvalidInput([FieldProblem("customerId", "this customer has no national id")])
    if not customer.national_id_verified:
        customer.national_id_verified = True
        session.add(customer)
        session.flush()
        emit_job(session, "compute_transaction_scores", national_ids=[customer.national_id])
    return customer


@dataclass(frozen=True)
class ProfileChange:
    """Contact fields and income a customer may change themself (None = unchanged)."""

    phone: str | None = None
    email: str | None = None
    monthly_income: Decimal | None = None
    annual_income: Decimal | None = None


def update_profile(session: Session, customer: Customer, change: ProfileChange) -> Customer:
    problems = rules.Problems.new()
    phone = None if change.phone is None else rules.normalise_phone(change.phone)
    if phone is not None:
        rules.check_phone(problems, phone)
    rules.check_email(problems, change.email)
    monthly = _monthly_income(
        change.monthly_income, change.annual_income, customer.currency, problems, required=False
    )
    problems.raise_if_any()
    if phone is not None and phone != customer.phone:
        refuse_duplicates(session, phone, None, None, exclude=customer.id)
        customer.phone = phone
    if change.email is not None:
        customer.email = change.email
    if monthly is not None:
        customer.set_income(monthly)
    save_unique(session, customer)
    return customer


def customer_of_user(session: Session, user_id: int) -> Customer | None:
    return session.exec(select(Customer).where(Customer.user_id == user_id)).first()


def customers_by_ids(session: Session, ids: list[int]) -> dict[int, Customer]:
    if not ids:
        return {}
    rows = session.exec(select(Customer).where(col(Customer.id).in_(ids))).all()
    return {c.id: c for c in rows if c.id is not None}


def search_customers(
    session: Session, search: str | None, first: int, after: int | None
) -> Page[Customer]:
    """Customers by name, phone, national id or customer number (case-insensitive)."""
    statement = select(Customer)
    if search and search.strip():
        needle = f"%{search.strip().lower()}%"
        full_name = sa.func.lower(Customer.first_name + " " + Customer.last_name)
        statement = statement.where(
            or_(
                full_name.like(needle),
                col(Customer.phone).like(needle),
                sa.func.lower(Customer.national_id).like(needle),
                sa.func.lower(Customer.customer_number).like(needle),
            )
        )
    return page_by_id(session, statement, Customer.id, first, after)
