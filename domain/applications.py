"""Loan applications: asking for a product, and what the policy says about it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from sqlmodel import Session, col, select

from domain.billing.calendar import calendar
from domain.credit_assessment import assess_customers
from domain.customers import Customer
from domain.decisions import Decision, LoanRequest, decide
from domain.errors import FieldProblem, InvalidInput
from domain.loans import loans_of_customers
from domain.money import Money
from domain.products import (
    EligibilityPolicy,
    LoanProduct,
    RepaymentStyle,
    bank_config,
    product_by_code,
)


def current_emis(session: Session, customer: Customer, currency: str, today: date) -> Money:
    """Monthly EMIs of the customer's current loans in this currency (RULES.md §1): imported
    history and EMI products; a single payment or a card's minimum due is no EMI."""
    assert customer.id is not None
    loans = loans_of_customers(session, [customer.id])[customer.id]
    emi_products = set(
        session.exec(
            select(LoanProduct.id).where(
                col(LoanProduct.repayment_style) == RepaymentStyle.EMI_REDUCING
            )
        ).all()
    )
    total = sum(
        loan.installment_minor
        for loan in loans
        if loan.is_current(today)
        and loan.currency == currency
        and (loan.product_id is None or loan.product_id in emi_products)
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


MAX_AMOUNT = Decimal(10) ** 13
BACKDATING = timedelta(days=30)


def _problems(ask: LoanAsk, currency: str, today: date) -> list[FieldProblem]:
    """Bad input is the client's mistake: say which field and why, before any arithmetic."""
    problems = []
    amount, rate, tenure = ask.amount, ask.interest_rate, ask.tenure
    if not (0 < amount <= MAX_AMOUNT and Money(amount, currency).rounded().amount == amount):
        problems.append(FieldProblem("amount", f"a positive amount in {currency}"))
    if rate is not None and not (0 <= rate <= 100 and rate == rate.quantize(Decimal("0.0001"))):
        problems.append(FieldProblem("interestRate", "0-100 (percent), at most 4 decimals"))
    if tenure is not None and not 0 < tenure <= 10_000:
        problems.append(FieldProblem("tenure", "must be between 1 and 10000"))
    if ask.start is not None and not today - BACKDATING <= ask.start <= today:
        problems.append(
            FieldProblem(
                "disbursementDate",
                "today or up to 30 days back (future "
                "pay-outs arrive with the daily close of business)",
            )
        )
    return problems


def evaluate(session: Session, customer: Customer, ask: LoanAsk, now: datetime) -> Decision:
    """What the product's policy would decide for this customer, changing nothing."""
    product = product_by_code(session, ask.product_code)
    amount, interest_rate, tenure = ask.amount, ask.interest_rate, ask.tenure
    books = calendar(session, now)
    today = books.pinned_date or now.date()  # the business date
    problems = _problems(ask, product.currency, today)
    if books.closed_through is not None and (ask.start or today) <= books.closed_through:
        problems.append(
            FieldProblem(
                "disbursementDate",
                f"after {books.closed_through}, the last business day closed",
            )
        )
    uses_income = product.eligibility_policy in (
        EligibilityPolicy.LOAN_HISTORY_SCORE,
        EligibilityPolicy.TRANSACTION_SCORE,
    )
    if uses_income and customer.currency != product.currency:
        problems.append(
            FieldProblem(
                "productCode",
                f"lends in {product.currency}; the customer's income is in {customer.currency}",
            )
        )
    if problems:
        raise InvalidInput(problems)
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
