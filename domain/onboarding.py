"""Subscribing a customer from the core banking system (RULES.md §3): a customer number is
all it takes; names, id, contacts, birth date and income come from the CBS's KYC record."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime

from sqlmodel import Session, select

from domain import customer_rules as rules
from domain.core_banking import CoreBanking, KycRecord
from domain.customers import Customer, CustomerStatus, IdType, refuse_duplicates, save_unique
from domain.errors import DomainError, FieldProblem, InvalidInput
from domain.money import MINOR_UNIT_EXPONENTS, Money
from domain.users import Role, create_user

CUSTOMER_NUMBER = re.compile(r"^[0-9A-Za-z-]{3,32}$")
EMAIL_MAX = 254
ID_MAX = 64


class CustomerAlreadySubscribed(DomainError):
    code = "CUSTOMER_ALREADY_SUBSCRIBED"

    def __init__(self, customer_number: str) -> None:
        super().__init__(f"Customer {customer_number} is already subscribed.")
        self.customer_number = customer_number


class KycUnusable(DomainError):
    """The CBS knows the customer, but its record lacks (or garbles) what we lend on."""

    code = "KYC_UNUSABLE"

    def __init__(self, problems: list[FieldProblem]) -> None:
        summary = "; ".join(f"{p.field}: {p.message}" for p in problems)
        super().__init__(f"The core banking KYC record cannot be used — {summary}")
        self.problems = problems


@dataclass(frozen=True)
class Subscription:
    """A subscription request; a username and password also open the customer's sign-in."""

    customer_number: str
    currency: str
    username: str | None = None
    password: str | None = None


def _checked(form: Subscription) -> str:
    number = form.customer_number.strip()
    problems = []
    if not CUSTOMER_NUMBER.match(number):
        problems.append(FieldProblem("customerNumber", "3-32 letters, digits or dashes"))
    if (form.username is None) != (form.password is None):
        problems.append(FieldProblem("password", "give both a username and a password, or none"))
    if form.currency not in MINOR_UNIT_EXPONENTS:
        problems.append(FieldProblem("currency", "an unknown currency"))
    if problems:
        raise InvalidInput(problems)
    return number


def _income(kyc: KycRecord, currency: str) -> Money | None:
    """The monthly income to the minor unit (the CBS sends a double), if it is a number."""
    if not kyc.monthly_income.is_finite():
        return None
    return Money(kyc.monthly_income, currency).rounded()


def _problems(kyc: KycRecord, currency: str, today: date) -> list[FieldProblem]:
    """The registration rules, applied to the bank's record instead of a form."""
    problems = rules.Problems.new()
    rules.check_name(problems, "firstName", kyc.first_name or "")
    rules.check_name(problems, "lastName", kyc.last_name or "")
    rules.check_phone(problems, rules.normalise_phone(kyc.mobile or ""))
    rules.check_email(problems, kyc.email)
    problems.check(kyc.email is None or len(kyc.email) <= EMAIL_MAX, "email", "is too long")
    problems.check(kyc.date_of_birth is not None, "dob", "is missing")
    if kyc.date_of_birth is not None:
        rules.check_age(problems, rules.age_on(kyc.date_of_birth, today))
    problems.check(len(kyc.id_number or "") <= ID_MAX, "idNumber", f"at most {ID_MAX} characters")
    income = _income(kyc, currency)
    problems.check(income is not None, "monthlyIncome", "is not a number")
    rules.check_income(problems, "monthlyIncome", income)
    return list(problems.found)


def _customer_from(kyc: KycRecord, currency: str, today: datetime) -> Customer:
    income = _income(kyc, currency)
    assert kyc.date_of_birth is not None and kyc.mobile is not None and income is not None
    id_type = IdType.__members__.get(kyc.id_type or "")
    customer = Customer(
        first_name=kyc.first_name.strip()[:100],
        last_name=kyc.last_name.strip()[:100],
        age=rules.age_on(kyc.date_of_birth, today.date()),
        date_of_birth=kyc.date_of_birth,
        phone=rules.normalise_phone(kyc.mobile),
        email=kyc.email,
        id_type=id_type if kyc.id_number else None,
        national_id=kyc.id_number or None,
        national_id_verified=kyc.id_number is not None,  # the bank's own KYC
        customer_number=kyc.customer_number,
        currency=currency,
        monthly_income_minor=0,
        approved_limit_minor=0,
        status=CustomerStatus.INACTIVE if kyc.status == "INACTIVE" else CustomerStatus.ACTIVE,
    )
    customer.set_income(income)
    return customer


def fetch_kyc(core_banking: CoreBanking, form: Subscription, today: date) -> KycRecord:
    """Ask the CBS for the customer's KYC record, complete enough to lend on. Called with no
    database transaction open, so a slow CBS holds no locks (on SQLite, the write lock)."""
    kyc = core_banking.customer(_checked(form))
    problems = _problems(kyc, form.currency, today)
    if problems:
        raise KycUnusable(problems)
    return kyc


def subscribe_customer(
    session: Session, form: Subscription, kyc: KycRecord, now: datetime
) -> Customer:
    """Store the customer from their KYC record; a number already subscribed is refused."""
    number = _checked(form)
    known = select(Customer.id).where(Customer.customer_number == number)
    if session.exec(known).first() is not None:
        raise CustomerAlreadySubscribed(number)
    customer = _customer_from(kyc, form.currency, now)
    customer.customer_number = number
    refuse_duplicates(session, customer.phone, customer.id_type, customer.national_id)
    if form.username is not None and form.password is not None:
        customer.user_id = create_user(session, form.username, form.password, Role.CUSTOMER).id
    try:
        save_unique(session, customer)
    except DomainError:
        if session.exec(known).first() is not None:  # a concurrent subscription won
            raise CustomerAlreadySubscribed(number) from None
        raise
    return customer


def customer_by_number(session: Session, customer_number: str) -> Customer | None:
    return session.exec(
        select(Customer).where(Customer.customer_number == customer_number.strip())
    ).first()
