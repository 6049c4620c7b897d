"""Deciding a loan request: each product's eligibility policy, every reason given.

RULES.md §1 (loan-history score slabs, corrected rate, 50 % EMI rule), §2 (limits), §3
(external score: pending), §4 (every credit-card rule, all failures listed), §5 (limits).
A decision has no side effects; applying for a loan stores it.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from domain.credit_assessment import CreditAssessment
from domain.customers import Customer, CustomerStatus
from domain.money import Money
from domain.products import (
    BankConfig,
    EligibilityPolicy,
    FundingSource,
    LoanProduct,
    RateMode,
    RepaymentStyle,
    TermUnit,
)
from domain.schedules import (
    Installment,
    emi_schedule,
    flat_schedule,
    revolving_projection,
    single_payment_schedule,
)

EMI_SHARE_OF_SALARY = Decimal("0.5")  # §1: all current EMIs at most half the monthly salary
SLABS = ((50, None), (30, Decimal(12)), (10, Decimal(16)))  # score above -> minimum rate
CARD_MIN_SCORE, CARD_MIN_ANNUAL_INCOME = 450, Decimal(150_000)  # §4
CARD_MAX_MIN_DUE_SHARE, CARD_MIN_FIRST_INTEREST = Decimal("0.2"), Decimal(50)


class Outcome(enum.StrEnum):
    APPROVED = "APPROVED"
    REJECTED = "REJECTED"
    PENDING = "PENDING"  # waiting for an external score


@dataclass(frozen=True)
class Reason:
    code: str
    message: str


@dataclass(frozen=True)
class LoanRequest:
    product: LoanProduct
    customer: Customer
    amount: Money
    interest_rate: Decimal | None
    tenure: int | None
    start: date


@dataclass
class Decision:
    outcome: Outcome
    interest_rate: Decimal  # as requested (or the product's)
    corrected_interest_rate: Decimal  # the rate a loan would carry
    tenure: int
    schedule: list[Installment] = field(default_factory=list)
    reasons: list[Reason] = field(default_factory=list)
    score: int | None = None

    @property
    def installment(self) -> Money | None:
        """The first due at the corrected rate, only when approved (RULES.md §1 response);
        a refused or pending request keeps its schedule but quotes no installment."""
        if self.outcome is not Outcome.APPROVED or not self.schedule:
            return None
        return self.schedule[0].total

    def refuse(self, code: str, message: str) -> None:
        self.outcome = Outcome.REJECTED
        self.reasons.append(Reason(code, message))


def schedule_for(
    product: LoanProduct, amount: Money, rate: Decimal, tenure: int, start: date
) -> list[Installment]:
    style = product.repayment_style
    if style is RepaymentStyle.EMI_REDUCING:
        return emi_schedule(amount, rate, tenure, start)
    if style is RepaymentStyle.FLAT_INSTALLMENTS:
        step = {TermUnit.WEEK: timedelta(weeks=1), TermUnit.DAY: timedelta(days=1)}.get(
            product.term_unit, timedelta(days=30)
        )
        return flat_schedule(amount, rate, tenure, start, step)
    if style is RepaymentStyle.REVOLVING:
        return revolving_projection(amount, rate, tenure, start)
    days = tenure if product.term_unit is TermUnit.DAY else tenure * 30
    return single_payment_schedule(amount, rate, days, start)


def _limits(request: LoanRequest, config: BankConfig, decision: Decision) -> None:
    product = request.product
    low, high = product.amount_min, product.amount_max
    if product.funding_source is FundingSource.PROVIDERS:
        low, high = config.min_amount, config.max_amount
    if not product.active:
        decision.refuse("PRODUCT_CLOSED", f"{product.name} takes no new applications.")
    if request.customer.status is CustomerStatus.INACTIVE:
        decision.refuse("CUSTOMER_INACTIVE", "The customer is inactive and may not borrow.")
    if not low <= request.amount <= high:
        decision.refuse("AMOUNT_OUT_OF_RANGE", f"The amount must be between {low} and {high}.")
    providers = product.funding_source is FundingSource.PROVIDERS  # term = BankConfig's
    if not providers and not product.term_min <= decision.tenure <= product.term_max:
        unit = product.term_unit.value.lower()
        decision.refuse(
            "TENURE_OUT_OF_RANGE",
            f"The tenure must be between {product.term_min} and {product.term_max} ({unit}s).",
        )


def _loan_history_rate(score: int, requested: Decimal) -> Decimal | None:
    for floor, minimum in SLABS:
        if score > floor:
            return requested if minimum is None else max(requested, minimum)
    return None


def _by_loan_history(
    request: LoanRequest, assessment: CreditAssessment, current_emis: Money, decision: Decision
) -> None:
    score = assessment.loan_history.score
    decision.score = score
    corrected = _loan_history_rate(score, decision.interest_rate)
    if corrected is None:
        decision.refuse("CREDIT_SCORE_TOO_LOW", f"The credit score {score} is 10 or below.")
        return
    if decision.outcome is Outcome.REJECTED:
        return  # the EMI rule needs an amount and tenure within the limits
    decision.corrected_interest_rate = corrected
    emi = schedule_for(request.product, request.amount, corrected, decision.tenure, request.start)[
        0
    ].total
    ceiling = request.customer.monthly_income * EMI_SHARE_OF_SALARY
    if current_emis + emi > ceiling:
        decision.refuse(
            "EMI_ABOVE_HALF_OF_SALARY",
            f"All EMIs ({(current_emis + emi).rounded()}) would exceed half the "
            f"monthly salary ({ceiling.rounded()}).",
        )


def _by_transactions(
    request: LoanRequest, assessment: CreditAssessment, decision: Decision
) -> None:
    stored = assessment.transactions
    decision.score = stored.score if stored else None
    if stored is None:
        decision.refuse("NO_CREDIT_SCORE", "There is no transaction score yet.")
    elif stored.score < CARD_MIN_SCORE:
        decision.refuse(
            "CREDIT_SCORE_TOO_LOW", f"The credit score {stored.score} is below {CARD_MIN_SCORE}."
        )
    annual = request.customer.monthly_income.amount * 12
    if annual < CARD_MIN_ANNUAL_INCOME:
        decision.refuse("INCOME_TOO_LOW", f"Annual income {annual} is below 150000.")
    if decision.interest_rate < request.product.minimum_rate:
        decision.refuse(
            "RATE_TOO_LOW", f"The APR must be at least {request.product.minimum_rate} %."
        )
    first = decision.schedule[0] if decision.schedule else None
    if first is not None and first.total > request.customer.monthly_income * CARD_MAX_MIN_DUE_SHARE:
        decision.refuse(
            "MIN_DUE_ABOVE_A_FIFTH_OF_INCOME",
            f"The first minimum due {first.total} is above 20 % of monthly income.",
        )
    if first is not None and first.interest.amount <= CARD_MIN_FIRST_INTEREST:
        decision.refuse(
            "FIRST_INTEREST_TOO_SMALL",
            f"The first cycle's interest {first.interest} is not above 50.",
        )


def decide(
    request: LoanRequest, config: BankConfig, assessment: CreditAssessment, current_emis: Money
) -> Decision:
    """Approve, reject (with every reason) or leave pending; never changes anything."""
    product = request.product
    fixed = product.rate_mode is RateMode.FIXED or request.interest_rate is None
    rate = product.interest_rate if fixed else request.interest_rate
    tenure = request.tenure if request.tenure is not None else product.term_min
    if product.funding_source is FundingSource.PROVIDERS:
        rate, tenure = config.interest_rate, config.duration_days
    assert rate is not None
    decision = Decision(Outcome.APPROVED, rate, rate, tenure)
    _limits(request, config, decision)  # every rule is checked; all failures are listed
    decision.schedule = schedule_for(product, request.amount, rate, tenure, request.start)
    policy = product.eligibility_policy
    if policy is EligibilityPolicy.LOAN_HISTORY_SCORE:
        _by_loan_history(request, assessment, current_emis, decision)
    elif policy is EligibilityPolicy.TRANSACTION_SCORE:
        _by_transactions(request, assessment, decision)
    elif policy is EligibilityPolicy.EXTERNAL_SCORE and decision.outcome is Outcome.APPROVED:
        # only a request within the product's rules is worth the engine's score
        decision.outcome = Outcome.PENDING
        decision.reasons.append(
            Reason("AWAITING_EXTERNAL_SCORE", "The external scoring engine decides this request.")
        )
    if decision.corrected_interest_rate != rate:
        decision.schedule = schedule_for(
            product, request.amount, decision.corrected_interest_rate, tenure, request.start
        )
    return decision
