"""Loan applications: asking for a product, and what the policy says about it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from sqlmodel import Session

from domain.credit_assessment import assess_customers
from domain.customers import Customer
from domain.decisions import Decision, LoanRequest, decide
from domain.errors import FieldProblem, InvalidInput
from domain.loans import loans_of_customers
from domain.money import Money
from domain.products import bank_config, product_by_code


def current_emis(session: Session, customer: Customer, currency: str, today: date) -> Money:
    """Installments of the customer's current loans in this currency (RULES.md §1)."""
    assert customer.id is not None
    loans = loans_of_customers(session, [customer.id])[customer.id]
    total = sum(
        loan.installment_minor
        for loan in loans
        if loan.is_current(today) and loan.currency == currency
    )
    return Money.from_minor(total, currency)


@dataclass(frozen=True)
class LoanAsk:
    """What a customer asks for; omitted rate and tenure take the product's."""

    product_code: str
    amount: Decimal
    interest_rate: Decimal | None = None
    tenure: int | None = None
    start: date | None = None


def evaluate(session: Session, customer: Customer, ask: LoanAsk, now: datetime) -> Decision:
    """What the product's policy would decide for this customer, changing nothing."""
    product = product_by_code(session, ask.product_code)
    amount, interest_rate, tenure = ask.amount, ask.interest_rate, ask.tenure
    problems = []
    if amount <= 0 or Money(amount, product.currency).rounded().amount != amount:
        problems.append(FieldProblem("amount", f"a positive amount in {product.currency}"))
    if interest_rate is not None and not Decimal(0) <= interest_rate <= Decimal(100):
        problems.append(FieldProblem("interestRate", "between 0 and 100 (percent)"))
    if tenure is not None and tenure <= 0:
        problems.append(FieldProblem("tenure", "must be at least 1"))
    if problems:
        raise InvalidInput(problems)
    today = now.date()
    request = LoanRequest(
        product,
        customer,
        Money(amount, product.currency),
        interest_rate,
        tenure,
        ask.start or today,
    )
    assessment = assess_customers(session, [customer], today, now)[customer.id or 0]
    return decide(
        request,
        bank_config(session),
        assessment,
        current_emis(session, customer, product.currency, today),
    )
